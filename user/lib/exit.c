/* Process exit, assert, and small stdlib helpers. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <zircon/syscalls.h>

void exit(int status) {
    zx_process_exit(status);
}

void abort(void) {
    zx_process_exit(BERYL_ABORT_RETCODE);
}

void __beryl_assert_fail(const char *expr, const char *file, int line) {
    printf("%s:%d: assertion failed: %s\n", file, line, expr);
    abort();
}

int abs(int x) {
    return x < 0 ? -x : x;
}

static int digit_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

/* Parses an optionally signed number; base 0 detects 0x / 0 prefixes. No overflow check
 * beyond wrapping. */
static unsigned long parse(const char *s, char **end, int base, int *neg) {
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    *neg = 0;
    if (*s == '-' || *s == '+')
        *neg = *s++ == '-';
    if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        base = 16;
    } else if (base == 0) {
        base = s[0] == '0' ? 8 : 10;
    }
    unsigned long v = 0;
    while (digit_value(*s) < base)
        v = v * (unsigned long)base + (unsigned long)digit_value(*s++);
    if (end != NULL)
        *end = (char *)s;
    return v;
}

long strtol(const char *restrict s, char **restrict end, int base) {
    int neg;
    unsigned long v = parse(s, end, base, &neg);
    return neg ? -(long)v : (long)v;
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base) {
    int neg;
    unsigned long v = parse(s, end, base, &neg);
    return neg ? -v : v;
}
