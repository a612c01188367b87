/*
 * Kernel console: COM1 at 115200 8N1, with printf and log levels.
 * Output is serialised by a spinlock so lines from different CPUs never interleave
 * mid-character. Log lines below the current level are dropped.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>
#include <kernel/compiler.h>

enum log_level {
    LOG_CRITICAL = 0, /* always printed */
    LOG_ERROR = 1,
    LOG_WARN = 2,
    LOG_INFO = 3,     /* default */
    LOG_DEBUG = 4,
    LOG_SPEW = 5,
};

void console_init(void);
void console_write(const char *s, size_t len);
void console_set_level(int level);
/* Forcibly releases the console lock: only for panic paths, which may interrupt a printf. */
void console_break_lock(void);
int console_level(void);

int printf(const char *fmt, ...) __printflike(1, 2);
int vprintf(const char *fmt, va_list ap);

/* Prints when level <= the console level. */
#define dprintf(level, fmt, ...)                     \
    do {                                             \
        if ((level) <= console_level())              \
            printf(fmt, ##__VA_ARGS__);              \
    } while (0)

#endif
