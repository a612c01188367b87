/*
 * Kernel formatted output into buffers and sinks: thin wrappers over the tree's one
 * printf engine (lib/fmt/fmt.h, which lists the conversions, flags and edge cases). The
 * kernel's %p is FMT_POINTER_FIXED: "0x" followed by 16 hex digits. printf itself (to the
 * console) is in kernel/console.h.
 */
#ifndef LIB_PRINTF_H
#define LIB_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

#include <fmt/fmt.h>
#include <kernel/compiler.h>

/* Output sink: called with runs of characters (not NUL-terminated, never empty). */
typedef fmt_sink_t printf_sink_t;

/* Formats to sink; returns the number of characters produced. */
static inline int kvprintf_sink(printf_sink_t sink, void *ctx, const char *fmt, va_list ap) {
    return fmt_vformat(sink, ctx, FMT_POINTER_FIXED, fmt, ap);
}

/*
 * Formats into buf (always NUL-terminated when size > 0). Returns the length the full
 * output would have had, like C99 vsnprintf, so truncation is detectable.
 */
static inline int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
    return fmt_vsnprintf(buf, size, FMT_POINTER_FIXED, fmt, ap);
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printflike(3, 4);

#endif
