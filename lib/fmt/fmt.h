/*
 * Beryl's printf engine (lib/fmt/fmt.c), shared by the kernel, the user runtime and the
 * host tests. Freestanding C11: it includes only compiler headers, calls no C library and
 * uses no floating point; output goes to a caller-supplied sink.
 *
 * Conversions: %d %i %u %x %X %o %b (binary) %c %s %p %%; length modifiers hh h l ll z j t;
 * flags '-' '0' '+' ' ' '#'; field width and precision, as digits or '*'. Integers,
 * strings and characters follow C99 (a negative '*' width means '-' and its magnitude, a
 * negative '*' precision means none). Beyond C99:
 *   - %p has the shape the caller chooses (enum fmt_pointer_style).
 *   - A NULL %s prints "(null)", cut by the precision.
 *   - An unknown conversion, or a '%' at the end of the format, is copied to the output as
 *     written and consumes no argument, so a bad format never reads stray varargs.
 */
#ifndef BERYL_FMT_H
#define BERYL_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Receives len > 0 characters of output (not NUL-terminated), in order. */
typedef void (*fmt_sink_t)(void *ctx, const char *s, size_t len);

/* The shape of %p. */
enum fmt_pointer_style {
    /* "0x" and 16 hex digits; '-' and the width apply, other flags and the precision do
     * not (the kernel: addresses line up in logs). */
    FMT_POINTER_FIXED,
    /* "0x" and the hex digits the value needs, as %#lx ('-', width and precision apply;
     * '0', '+' and ' ' do not); a null pointer is "0x0" (the user runtime: what a hosted
     * C library prints for non-null pointers). */
    FMT_POINTER_COMPACT,
};

/*
 * Formats fmt with the arguments in ap into sink. Short pieces are gathered into an
 * on-stack chunk of the engine before they reach the sink, so a short output is one call;
 * the sink is never called with len 0 (an empty output makes no call). Returns the number
 * of characters produced, saturated at INT_MAX. The caller's ap is left as it was (the
 * engine reads a copy).
 */
int fmt_vformat(fmt_sink_t sink, void *ctx, enum fmt_pointer_style pointer, const char *fmt,
                va_list ap) __attribute__((format(printf, 4, 0)));

/*
 * Formats into buf[0..size): the output is cut to size - 1 characters and always
 * NUL-terminated when size > 0 (buf may be NULL when size is 0; nothing past buf[size-1]
 * is written). Returns the length the whole output has, like C99 vsnprintf, so a return
 * value >= size means the output was truncated.
 */
int fmt_vsnprintf(char *buf, size_t size, enum fmt_pointer_style pointer, const char *fmt,
                  va_list ap) __attribute__((format(printf, 4, 0)));

#endif
