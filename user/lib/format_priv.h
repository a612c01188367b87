/*
 * The user runtime's formatting: the tree's one printf engine (lib/fmt/fmt.h, which lists
 * the conversions, flags and edge cases) with the runtime's choice of %p,
 * FMT_POINTER_COMPACT ("0x" and the digits the value needs, "0x0" for NULL). vsnprintf and
 * snprintf are format.c; printf and vprintf are stdio.c.
 */
#ifndef BERYL_FORMAT_PRIV_H
#define BERYL_FORMAT_PRIV_H

#include <stdarg.h>
#include <stddef.h>

#include <fmt/fmt.h>

#include "libc_names.h"

/* Formats fmt/ap into sink; returns the number of bytes produced. */
static inline int beryl_format(fmt_sink_t sink, void *ctx, const char *fmt, va_list ap) {
    return fmt_vformat(sink, ctx, FMT_POINTER_COMPACT, fmt, ap);
}

int BERYL_LIBC(vsnprintf)(char *restrict buf, size_t size, const char *restrict fmt, va_list ap);
int BERYL_LIBC(snprintf)(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
