/*
 * Formatted output of the Beryl user runtime. printf/puts/putchar write through
 * zx_debug_write, one call per line (or per 256 bytes of a longer line), so lines from
 * different threads do not interleave mid-line. Formatting is the tree's one printf engine
 * (lib/fmt/fmt.h): %d %i %u %x %X %o %b %p %s %c %% with flags '-' '0' ' ' '+' '#', width
 * and precision (also '*'), lengths hh h l ll z t j; %p prints "0x" and the digits the
 * value needs ("0x0" for NULL).
 */
#ifndef BERYL_STDIO_H
#define BERYL_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

int printf(const char *restrict fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *restrict fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Writes s and a newline; returns a non-negative number. */
int puts(const char *s);
int putchar(int c);

#endif
