/* vsnprintf and snprintf of the user runtime (also built for the host tests), over the
 * shared printf engine (format_priv.h). */
#include "format_priv.h"

int BERYL_LIBC(vsnprintf)(char *restrict buf, size_t size, const char *restrict fmt,
                          va_list ap) {
    return fmt_vsnprintf(buf, size, FMT_POINTER_COMPACT, fmt, ap);
}

int BERYL_LIBC(snprintf)(char *restrict buf, size_t size, const char *restrict fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = BERYL_LIBC(vsnprintf)(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
