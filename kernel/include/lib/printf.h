/*
 * Kernel formatted output (freestanding; also compiled into host tests).
 *
 * Supported conversions: %d %i %u %x %X %o %c %s %p %% and %b (binary); length
 * modifiers hh h l ll z j t; flags '-' '0' '+' ' ' '#'; field width and precision
 * (numbers and '*'). %p prints "0x" followed by 16 hex digits. A NULL %s prints "(null)".
 * Unknown conversions are printed literally so a bad format never reads stray varargs.
 */
#ifndef LIB_PRINTF_H
#define LIB_PRINTF_H

#include <stdarg.h>
#include <stddef.h>
#include <kernel/compiler.h>

/* Output sink: called with runs of characters (not NUL-terminated). */
typedef void (*printf_sink_t)(void *ctx, const char *s, size_t len);

/* Formats to sink; returns the number of characters produced. */
int kvprintf_sink(printf_sink_t sink, void *ctx, const char *fmt, va_list ap);

/*
 * Formats into buf (always NUL-terminated when size > 0). Returns the length the full
 * output would have had, like C99 vsnprintf, so truncation is detectable.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printflike(3, 4);

#endif
