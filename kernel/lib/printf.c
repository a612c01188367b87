/* ksnprintf: the variadic form of kvsnprintf (lib/printf.h), which cannot be inline. */
#include <lib/printf.h>

int ksnprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
