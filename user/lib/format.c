/* printf-style formatting without any libc (also built for the host tests). */
#include <stdbool.h>
#include <stdint.h>

#include "format_priv.h"
#include "string_priv.h"

enum { FL_LEFT = 1, FL_ZERO = 2, FL_PLUS = 4, FL_SPACE = 8, FL_ALT = 16 };

static void emit_pad(beryl_format_sink_t sink, void *ctx, char c, int n, int *count) {
    char pad[16];
    BERYL_LIBC(memset)(pad, c, sizeof(pad));
    while (n > 0) {
        int k = n < (int)sizeof(pad) ? n : (int)sizeof(pad);
        sink(ctx, pad, (size_t)k);
        *count += k;
        n -= k;
    }
}

static void emit(beryl_format_sink_t sink, void *ctx, const char *s, size_t n, int *count) {
    if (n > 0) {
        sink(ctx, s, n);
        *count += (int)n;
    }
}

/* Integer conversion: prefix (sign or 0x), zero padding from precision or the 0 flag,
 * then the digits, padded to width on the side the '-' flag selects. */
static void format_int(beryl_format_sink_t sink, void *ctx, uint64_t v, bool negative,
                       unsigned base, bool upper, int flags, int width, int prec,
                       int *count) {
    char digits[24];
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int nd = 0;
    while (v != 0) {
        digits[nd++] = set[v % base];
        v /= base;
    }
    char prefix[3];
    int np = 0;
    if (negative)
        prefix[np++] = '-';
    else if (flags & FL_PLUS)
        prefix[np++] = '+';
    else if (flags & FL_SPACE)
        prefix[np++] = ' ';
    if ((flags & FL_ALT) && base == 16 && nd > 0) {
        prefix[np++] = '0';
        prefix[np++] = upper ? 'X' : 'x';
    }
    if ((flags & FL_ALT) && base == 8 && prec <= nd)
        prec = nd + 1;
    /* The value 0 prints one digit, except with an explicit precision of 0. */
    int min_digits = prec < 0 ? 1 : prec;
    int zeros = min_digits > nd ? min_digits - nd : 0;
    int body = np + zeros + nd;
    int pad = width > body ? width - body : 0;
    if ((flags & FL_ZERO) && !(flags & FL_LEFT) && prec < 0) {
        zeros += pad;
        pad = 0;
    }
    if (!(flags & FL_LEFT))
        emit_pad(sink, ctx, ' ', pad, count);
    emit(sink, ctx, prefix, (size_t)np, count);
    emit_pad(sink, ctx, '0', zeros, count);
    char rev[24];
    for (int i = 0; i < nd; i++)
        rev[i] = digits[nd - 1 - i];
    emit(sink, ctx, rev, (size_t)nd, count);
    if (flags & FL_LEFT)
        emit_pad(sink, ctx, ' ', pad, count);
}

static void format_str(beryl_format_sink_t sink, void *ctx, const char *s, int flags,
                       int width, int prec, int *count) {
    if (s == NULL)
        s = "(null)";
    size_t n = prec < 0 ? BERYL_LIBC(strlen)(s) : BERYL_LIBC(strnlen)(s, (size_t)prec);
    int pad = width > (int)n ? width - (int)n : 0;
    if (!(flags & FL_LEFT))
        emit_pad(sink, ctx, ' ', pad, count);
    emit(sink, ctx, s, n, count);
    if (flags & FL_LEFT)
        emit_pad(sink, ctx, ' ', pad, count);
}

int beryl_format(beryl_format_sink_t sink, void *ctx, const char *fmt, va_list ap) {
    int count = 0;
    while (*fmt) {
        const char *lit = fmt;
        while (*fmt && *fmt != '%')
            fmt++;
        emit(sink, ctx, lit, (size_t)(fmt - lit), &count);
        if (*fmt == 0)
            break;
        const char *spec = fmt++;
        int flags = 0;
        for (;; fmt++) {
            if (*fmt == '-') flags |= FL_LEFT;
            else if (*fmt == '0') flags |= FL_ZERO;
            else if (*fmt == '+') flags |= FL_PLUS;
            else if (*fmt == ' ') flags |= FL_SPACE;
            else if (*fmt == '#') flags |= FL_ALT;
            else break;
        }
        int width = 0;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                flags |= FL_LEFT;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        int prec = -1;
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                if (prec < 0)
                    prec = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }
        /* Length: 0 int, 1 long, 2 long long, 3 size_t, 4 ptrdiff_t / intmax_t, -1 short, -2 char. */
        int len = 0;
        for (;; fmt++) {
            if (*fmt == 'l') len = len == 1 ? 2 : 1;
            else if (*fmt == 'h') len = len == -1 ? -2 : -1;
            else if (*fmt == 'z') len = 3;
            else if (*fmt == 't' || *fmt == 'j') len = 4;
            else break;
        }
        char conv = *fmt;
        if (conv == 0) {
            emit(sink, ctx, spec, (size_t)(fmt - spec), &count);
            break;
        }
        fmt++;
        switch (conv) {
        case 'd':
        case 'i': {
            int64_t v;
            switch (len) {
            case 1: v = va_arg(ap, long); break;
            case 2: v = va_arg(ap, long long); break;
            case 3: v = (int64_t)va_arg(ap, size_t); break; /* ssize_t */
            case 4: v = va_arg(ap, int64_t); break;
            case -1: v = (short)va_arg(ap, int); break;
            case -2: v = (signed char)va_arg(ap, int); break;
            default: v = va_arg(ap, int); break;
            }
            uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            format_int(sink, ctx, mag, v < 0, 10, false, flags, width, prec, &count);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v;
            switch (len) {
            case 1: v = va_arg(ap, unsigned long); break;
            case 2: v = va_arg(ap, unsigned long long); break;
            case 3: v = va_arg(ap, size_t); break;
            case 4: v = va_arg(ap, uint64_t); break;
            case -1: v = (unsigned short)va_arg(ap, unsigned int); break;
            case -2: v = (unsigned char)va_arg(ap, unsigned int); break;
            default: v = va_arg(ap, unsigned int); break;
            }
            unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
            format_int(sink, ctx, v, false, base, conv == 'X', flags & ~(FL_PLUS | FL_SPACE),
                       width, prec, &count);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            if (v == 0) /* FL_ALT gives a zero value no 0x; a null pointer still shows it */
                format_str(sink, ctx, "0x0", flags, width, -1, &count);
            else
                format_int(sink, ctx, v, false, 16, false, (flags & FL_LEFT) | FL_ALT, width,
                           prec, &count);
            break;
        }
        case 's':
            format_str(sink, ctx, va_arg(ap, const char *), flags, width, prec, &count);
            break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            int pad = width > 1 ? width - 1 : 0;
            if (!(flags & FL_LEFT))
                emit_pad(sink, ctx, ' ', pad, &count);
            emit(sink, ctx, &c, 1, &count);
            if (flags & FL_LEFT)
                emit_pad(sink, ctx, ' ', pad, &count);
            break;
        }
        case '%':
            emit(sink, ctx, "%", 1, &count);
            break;
        default:
            emit(sink, ctx, spec, (size_t)(fmt - spec), &count);
            break;
        }
    }
    return count;
}

typedef struct {
    char *buf;
    size_t size; /* capacity including the NUL */
    size_t used;
} buf_sink_t;

static void buf_sink(void *ctx, const char *s, size_t n) {
    buf_sink_t *b = ctx;
    if (b->size == 0)
        return;
    size_t room = b->size - 1 - b->used;
    size_t k = n < room ? n : room;
    BERYL_LIBC(memcpy)(b->buf + b->used, s, k);
    b->used += k;
}

int BERYL_LIBC(vsnprintf)(char *restrict buf, size_t size, const char *restrict fmt,
                          va_list ap) {
    buf_sink_t b = {buf, size, 0};
    int n = beryl_format(buf_sink, &b, fmt, ap);
    if (size > 0)
        buf[b.used] = 0;
    return n;
}

int BERYL_LIBC(snprintf)(char *restrict buf, size_t size, const char *restrict fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = BERYL_LIBC(vsnprintf)(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
