/*
 * Beryl's printf engine, the one formatter of the tree: the kernel (kernel/lib/printf.c)
 * and the user runtime (user/lib/format.c, user/lib/stdio.c) wrap it, and the host tests
 * compile it natively.
 *
 * The formatter walks the format string once, turning each conversion into runs of
 * characters that are collected in a small on-stack chunk and handed to a sink. It needs
 * nothing from a C library, no floating point and no header of the kernel or the user
 * runtime, so the same file builds freestanding for both and natively for the host.
 *
 * Decisions beyond what C99 specifies (see fmt.h for the contract):
 *   - An unknown conversion (or a '%' at the end of the string) is copied to the output
 *     exactly as written, from the '%' through the offending character. Any '*' in it is
 *     not fetched, so a bad format never consumes varargs.
 *   - %p has two shapes, chosen by the caller (enum fmt_pointer_style): FIXED prints "0x"
 *     and 16 hex digits, ignoring flags other than '-' and the precision; COMPACT prints
 *     "0x" and the digits the value needs (as %#lx, with the precision as the minimum
 *     digit count, ignoring '0', '+' and ' '), and "0x0" for a null pointer.
 *   - A NULL %s prints "(null)", cut by the precision like any other string.
 *   - The '0' flag only affects integers; %c and %s are always padded with spaces.
 *   - "%%" ignores any flags or width placed between the two '%' characters.
 *   - Length modifiers are accepted but ignored for %c, %s and %p (no wide characters).
 *   - Widths and precisions saturate at INT_MAX; so does the returned count.
 */
#include "fmt.h"

#include <stdbool.h>
#include <stdint.h>

#define OUT_CHUNK 128         /* bytes collected before handing a run to the sink */
#define MAX_DIGITS 64         /* a uint64_t written in base 2 */
#define INT_LIMIT __INT_MAX__ /* largest int; return values and widths saturate here */
#define NO_PRECISION (-1)
#define POINTER_DIGITS 16     /* hex digits in a 64-bit pointer */

#define FMT_MIN(a, b) ((a) < (b) ? (a) : (b))

enum length {
    LEN_NONE,
    LEN_HH,
    LEN_H,
    LEN_L,
    LEN_LL,
    LEN_Z,
    LEN_J,
    LEN_T,
};

/* One parsed conversion specification: %[flags][width][.precision][length]conv. */
struct spec {
    bool left;       /* '-': pad on the right */
    bool zero;       /* '0': pad integers with zeros */
    bool plus;       /* '+': always print a sign for signed conversions */
    bool space;      /* ' ': print a space where a '+' would go */
    bool alt;        /* '#': alternate form (0 / 0x / 0X / 0b prefix) */
    bool width_star; /* width comes from an int vararg */
    bool prec_star;  /* precision comes from an int vararg */
    int width;       /* minimum field width, 0 if none */
    int prec;        /* NO_PRECISION if none */
    enum length len;
    char conv;       /* conversion character; may be NUL at end of format */
};

/* Output state: a chunk buffer in front of the sink, and a count of everything produced. */
struct out {
    fmt_sink_t sink;
    void *ctx;
    size_t total;
    size_t used;
    char buf[OUT_CHUNK];
};

static void out_flush(struct out *o) {
    if (o->used) {
        o->sink(o->ctx, o->buf, o->used);
        o->used = 0;
    }
}

static void out_char(struct out *o, char c) {
    if (o->used == OUT_CHUNK)
        out_flush(o);
    o->buf[o->used++] = c;
    o->total++;
}

/*
 * Emits s[0..len). Short runs are collected in the chunk; a run that would not fit in an
 * empty chunk anyway goes straight to the sink after flushing, to keep the output order.
 */
static void out_run(struct out *o, const char *s, size_t len) {
    if (len >= OUT_CHUNK) {
        out_flush(o);
        o->sink(o->ctx, s, len);
        o->total += len;
        return;
    }
    if (len > OUT_CHUNK - o->used)
        out_flush(o);
    for (size_t i = 0; i < len; i++)
        o->buf[o->used + i] = s[i];
    o->used += len;
    o->total += len;
}

/* Emits n copies of c, a chunk at a time, so any width works without a big buffer. */
static void out_pad(struct out *o, char c, size_t n) {
    while (n) {
        if (o->used == OUT_CHUNK)
            out_flush(o);
        size_t k = FMT_MIN(n, OUT_CHUNK - o->used);
        for (size_t i = 0; i < k; i++)
            o->buf[o->used + i] = c;
        o->used += k;
        o->total += k;
        n -= k;
    }
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* Reads a run of decimal digits at *pp, advancing it; saturates at INT_LIMIT. */
static int parse_decimal(const char **pp) {
    const char *p = *pp;
    int v = 0;
    while (is_digit(*p)) {
        int d = *p - '0';
        v = (v > (INT_LIMIT - d) / 10) ? INT_LIMIT : v * 10 + d;
        p++;
    }
    *pp = p;
    return v;
}

/*
 * Parses the specification that follows a '%' at p, without touching any varargs.
 * Returns a pointer to the conversion character (which may be the terminating NUL).
 */
static const char *parse_spec(const char *p, struct spec *sp) {
    *sp = (struct spec){.prec = NO_PRECISION, .len = LEN_NONE};
    for (;; p++) {
        if (*p == '-')
            sp->left = true;
        else if (*p == '0')
            sp->zero = true;
        else if (*p == '+')
            sp->plus = true;
        else if (*p == ' ')
            sp->space = true;
        else if (*p == '#')
            sp->alt = true;
        else
            break;
    }
    if (*p == '*') {
        sp->width_star = true;
        p++;
    } else {
        sp->width = parse_decimal(&p);
    }
    if (*p == '.') {
        p++;
        if (*p == '*') {
            sp->prec_star = true;
            p++;
        } else {
            sp->prec = parse_decimal(&p); /* a bare '.' means precision 0 */
        }
    }
    switch (*p) {
    case 'h':
        p++;
        sp->len = LEN_H;
        if (*p == 'h') {
            p++;
            sp->len = LEN_HH;
        }
        break;
    case 'l':
        p++;
        sp->len = LEN_L;
        if (*p == 'l') {
            p++;
            sp->len = LEN_LL;
        }
        break;
    case 'z':
        p++;
        sp->len = LEN_Z;
        break;
    case 'j':
        p++;
        sp->len = LEN_J;
        break;
    case 't':
        p++;
        sp->len = LEN_T;
        break;
    default:
        break;
    }
    sp->conv = *p;
    return p;
}

static bool is_known_conversion(char c) {
    switch (c) {
    case 'd': case 'i': case 'u': case 'x': case 'X': case 'o':
    case 'b': case 'c': case 's': case 'p': case '%':
        return true;
    default:
        return false;
    }
}

/* Fetches a signed integer argument of the width named by the length modifier. */
static int64_t fetch_signed(enum length len, va_list *ap) {
    switch (len) {
    case LEN_HH: return (signed char)va_arg(*ap, int);
    case LEN_H: return (short)va_arg(*ap, int);
    case LEN_L: return va_arg(*ap, long);
    case LEN_LL: return va_arg(*ap, long long);
    case LEN_Z: return (int64_t)va_arg(*ap, size_t); /* the signed type matching size_t */
    case LEN_J: return va_arg(*ap, intmax_t);
    case LEN_T: return va_arg(*ap, ptrdiff_t);
    case LEN_NONE: break;
    }
    return va_arg(*ap, int);
}

/* Fetches an unsigned integer argument of the width named by the length modifier. */
static uint64_t fetch_unsigned(enum length len, va_list *ap) {
    switch (len) {
    case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
    case LEN_H: return (unsigned short)va_arg(*ap, unsigned int);
    case LEN_L: return va_arg(*ap, unsigned long);
    case LEN_LL: return va_arg(*ap, unsigned long long);
    case LEN_Z: return va_arg(*ap, size_t);
    case LEN_J: return va_arg(*ap, uintmax_t);
    case LEN_T: return (uint64_t)va_arg(*ap, ptrdiff_t); /* the unsigned ptrdiff_t */
    case LEN_NONE: break;
    }
    return va_arg(*ap, unsigned int);
}

/*
 * Emits an integer: [sign][prefix][zeros]digits, padded to the field width. The
 * precision is the minimum number of digits; precision 0 with value 0 prints no digits.
 * sign is 0 for none; prefix is "" or a radix prefix the caller already chose.
 */
static void emit_number(struct out *o, const struct spec *sp, uint64_t mag, unsigned base,
                        bool upper, char sign, const char *prefix) {
    const char *digit_chars = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char digits[MAX_DIGITS];
    size_t ndigits = 0;

    /* Only nonzero values produce digits here; the "0" of a zero comes from precision. */
    while (mag) {
        digits[MAX_DIGITS - ++ndigits] = digit_chars[mag % base];
        mag /= base;
    }

    size_t min_digits = sp->prec == NO_PRECISION ? 1 : (size_t)sp->prec;
    size_t zeros = min_digits > ndigits ? min_digits - ndigits : 0;
    /* Alternate octal form: the first digit must be a 0 (digits never start with one). */
    if (sp->alt && base == 8 && zeros == 0)
        zeros = 1;

    size_t prefix_len = 0;
    while (prefix[prefix_len])
        prefix_len++;
    size_t body = (sign ? 1 : 0) + prefix_len + zeros + ndigits;
    size_t pad = (size_t)sp->width > body ? (size_t)sp->width - body : 0;

    /* '0' pads between the sign/prefix and the digits, unless '-' or a precision. */
    bool zero_pad = sp->zero && !sp->left && sp->prec == NO_PRECISION;
    if (!sp->left && !zero_pad)
        out_pad(o, ' ', pad);
    if (sign)
        out_char(o, sign);
    out_run(o, prefix, prefix_len);
    if (zero_pad)
        out_pad(o, '0', pad);
    out_pad(o, '0', zeros);
    out_run(o, &digits[MAX_DIGITS - ndigits], ndigits);
    if (sp->left)
        out_pad(o, ' ', pad);
}

/* Emits s[0..len) padded with spaces to the field width (for %c and %s). */
static void emit_padded(struct out *o, const struct spec *sp, const char *s, size_t len) {
    size_t pad = (size_t)sp->width > len ? (size_t)sp->width - len : 0;
    if (!sp->left)
        out_pad(o, ' ', pad);
    out_run(o, s, len);
    if (sp->left)
        out_pad(o, ' ', pad);
}

/* Length of s, reading at most max bytes (so %.3s never looks past its 3 bytes). */
static size_t bounded_length(const char *s, int max) {
    size_t n = 0;
    if (max == NO_PRECISION) {
        while (s[n])
            n++;
    } else {
        while (n < (size_t)max && s[n])
            n++;
    }
    return n;
}

/* Formats one known conversion whose '*' arguments have already been fetched. */
static void format_one(struct out *o, struct spec *sp, enum fmt_pointer_style pointer,
                       va_list *ap) {
    switch (sp->conv) {
    case 'd':
    case 'i': {
        int64_t v = fetch_signed(sp->len, ap);
        /* Negate in unsigned arithmetic so INT64_MIN has a magnitude too. */
        uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
        char sign = v < 0 ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
        emit_number(o, sp, mag, 10, false, sign, "");
        break;
    }
    case 'u':
        emit_number(o, sp, fetch_unsigned(sp->len, ap), 10, false, 0, "");
        break;
    case 'o':
        emit_number(o, sp, fetch_unsigned(sp->len, ap), 8, false, 0, "");
        break;
    case 'x':
    case 'X':
    case 'b': {
        uint64_t v = fetch_unsigned(sp->len, ap);
        const char *prefix = "";
        /* As in C, the prefix only decorates nonzero values. */
        if (sp->alt && v != 0)
            prefix = sp->conv == 'x' ? "0x" : sp->conv == 'X' ? "0X" : "0b";
        unsigned base = sp->conv == 'b' ? 2 : 16;
        emit_number(o, sp, v, base, sp->conv == 'X', 0, prefix);
        break;
    }
    case 'p': {
        uint64_t v = (uint64_t)(uintptr_t)va_arg(*ap, void *);
        if (pointer == FMT_POINTER_FIXED) {
            sp->prec = POINTER_DIGITS;
            sp->alt = false;
            emit_number(o, sp, v, 16, false, 0, "0x");
        } else if (v == 0) {
            emit_padded(o, sp, "0x0", 3); /* %#x would print a bare "0" */
        } else {
            sp->zero = false;
            emit_number(o, sp, v, 16, false, 0, "0x");
        }
        break;
    }
    case 'c': {
        char c = (char)va_arg(*ap, int);
        emit_padded(o, sp, &c, 1);
        break;
    }
    case 's': {
        const char *s = va_arg(*ap, const char *);
        if (!s)
            s = "(null)";
        emit_padded(o, sp, s, bounded_length(s, sp->prec));
        break;
    }
    case '%':
        out_char(o, '%');
        break;
    default:
        break; /* unreachable: the caller only passes known conversions */
    }
}

int fmt_vformat(fmt_sink_t sink, void *ctx, enum fmt_pointer_style pointer, const char *fmt,
                va_list ap) {
    struct out o;
    o.sink = sink;
    o.ctx = ctx;
    o.total = 0;
    o.used = 0;

    /* A local copy lets the helpers take a va_list pointer portably. */
    va_list args;
    va_copy(args, ap);

    const char *p = fmt;
    while (*p) {
        const char *run = p;
        while (*p && *p != '%')
            p++;
        out_run(&o, run, (size_t)(p - run));
        if (!*p)
            break;

        const char *percent = p;
        struct spec sp;
        const char *conv = parse_spec(p + 1, &sp);
        if (!is_known_conversion(sp.conv)) {
            /* Copy the bad specification verbatim, including its last character. */
            p = *conv ? conv + 1 : conv;
            out_run(&o, percent, (size_t)(p - percent));
            continue;
        }
        p = conv + 1;

        if (sp.width_star) {
            int w = va_arg(args, int);
            if (w < 0) {
                /* A negative '*' width means '-' plus its magnitude. */
                sp.left = true;
                w = w < -INT_LIMIT ? INT_LIMIT : -w;
            }
            sp.width = w;
        }
        if (sp.prec_star) {
            int pr = va_arg(args, int);
            sp.prec = pr < 0 ? NO_PRECISION : pr; /* negative means "no precision" */
        }
        format_one(&o, &sp, pointer, &args);
    }
    out_flush(&o);
    va_end(args);
    return o.total > (size_t)INT_LIMIT ? INT_LIMIT : (int)o.total;
}

/* Sink state for fmt_vsnprintf: keeps room for the NUL and drops what does not fit. */
struct buf_sink {
    char *buf;
    size_t room; /* bytes we may store: size - 1, or 0 */
    size_t pos;
};

static void buf_sink_write(void *ctx, const char *s, size_t len) {
    struct buf_sink *b = ctx;
    size_t n = FMT_MIN(len, b->room - b->pos);
    for (size_t i = 0; i < n; i++)
        b->buf[b->pos + i] = s[i];
    b->pos += n;
}

int fmt_vsnprintf(char *buf, size_t size, enum fmt_pointer_style pointer, const char *fmt,
                  va_list ap) {
    struct buf_sink b = {.buf = buf, .room = size ? size - 1 : 0, .pos = 0};
    int n = fmt_vformat(buf_sink_write, &b, pointer, fmt, ap);
    if (size)
        buf[b.pos] = '\0';
    return n;
}
