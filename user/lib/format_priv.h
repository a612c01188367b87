/* The printf engine (format.c), shared by vsnprintf and the zx_debug_write printf. */
#ifndef BERYL_FORMAT_PRIV_H
#define BERYL_FORMAT_PRIV_H

#include <stdarg.h>
#include <stddef.h>

#include "libc_names.h"

/* Receives n bytes of output (n > 0) in order. */
typedef void (*beryl_format_sink_t)(void *ctx, const char *s, size_t n);

/* Formats fmt/ap into sink; returns the number of bytes produced. Unknown conversions are
 * copied through literally. */
int beryl_format(beryl_format_sink_t sink, void *ctx, const char *fmt, va_list ap);

int BERYL_LIBC(vsnprintf)(char *restrict buf, size_t size, const char *restrict fmt, va_list ap);
int BERYL_LIBC(snprintf)(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
