/* printf and friends over zx_debug_write. */
#include <stdio.h>
#include <string.h>
#include <zircon/syscalls.h>

#include "format_priv.h"

/* Output collects in a per-call buffer (so threads need no lock) and goes out at every
 * newline, when the buffer is full, and at the end of the call. */
typedef struct {
    char buf[256];
    size_t used;
} line_sink_t;

static void flush(line_sink_t *l) {
    if (l->used > 0)
        zx_debug_write(l->buf, l->used);
    l->used = 0;
}

static void line_sink(void *ctx, const char *s, size_t n) {
    line_sink_t *l = ctx;
    for (size_t i = 0; i < n; i++) {
        l->buf[l->used++] = s[i];
        if (s[i] == '\n' || l->used == sizeof(l->buf))
            flush(l);
    }
}

int vprintf(const char *restrict fmt, va_list ap) {
    line_sink_t l;
    l.used = 0;
    int n = beryl_format(line_sink, &l, fmt, ap);
    flush(&l);
    return n;
}

int printf(const char *restrict fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *s) {
    return printf("%s\n", s);
}

int putchar(int c) {
    char ch = (char)c;
    zx_debug_write(&ch, 1);
    return (unsigned char)c;
}
