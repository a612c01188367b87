/*
 * String helpers shared by the kernel and the host tests. They rely only on what
 * <lib/string.h> provides, which is the C library in host builds and kernel/lib/string.c
 * in the kernel.
 */
#include <lib/string.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DECIMAL_BASE 10
#define HEX_DIGIT_BITS 4
#define U64_BITS 64

/*
 * Copies src into dst[0..size), truncating to size-1 bytes and always NUL-terminating
 * when size > 0. Returns strlen(src) so callers can detect truncation.
 */
size_t kstrlcpy(char *dst, const char *src, size_t size) {
    size_t len = strlen(src);
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

/* Value of hex digit c, or -1 if c is not one. */
static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + DECIMAL_BASE;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + DECIMAL_BASE;
    return -1;
}

/*
 * Parses s[0..len) as a decimal number, or as hex after a "0x"/"0X" prefix. Fails (and
 * leaves *out untouched) on an empty string, a bare prefix, any stray byte (including
 * signs and spaces), or a value that does not fit in 64 bits.
 */
bool kparse_u64(const char *s, size_t len, uint64_t *out) {
    uint64_t v = 0;
    size_t i = 0;

    if (len == 0)
        return false;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        i = 2;
        if (i == len)
            return false;
        for (; i < len; i++) {
            int d = hex_value(s[i]);
            if (d < 0)
                return false;
            /* Shifting would push set bits out of the top nibble: overflow. */
            if (v >> (U64_BITS - HEX_DIGIT_BITS))
                return false;
            v = (v << HEX_DIGIT_BITS) | (uint64_t)d;
        }
    } else {
        for (; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return false;
            uint64_t d = (uint64_t)(s[i] - '0');
            if (v > (UINT64_MAX - d) / DECIMAL_BASE)
                return false;
            v = v * DECIMAL_BASE + d;
        }
    }
    *out = v;
    return true;
}
