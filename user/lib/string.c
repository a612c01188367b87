/* Freestanding string and memory functions (also built for the host tests, see libc_names.h). */
#include <stddef.h>
#include <stdint.h>

#include "libc_names.h"
#include "string_priv.h"

/* The copy/fill loops are `rep` instructions: a C loop here could be turned by the
 * compiler back into a call to the very function being defined. */
void *BERYL_LIBC(memcpy)(void *restrict dst, const void *restrict src, size_t n) {
    void *d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

void *BERYL_LIBC(memmove)(void *dst, const void *src, size_t n) {
    if ((uintptr_t)dst - (uintptr_t)src >= n) /* no forward overlap: copy upwards */
        return BERYL_LIBC(memcpy)(dst, src, n);
    if (n == 0)
        return dst;
    void *d = (char *)dst + n - 1;
    const void *s = (const char *)src + n - 1;
    __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return dst;
}

void *BERYL_LIBC(memset)(void *dst, int c, size_t n) {
    void *d = dst;
    uint64_t pattern = 0x0101010101010101ull * (uint8_t)c;
    size_t words = n / 8, tail = n % 8;
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(pattern) : "memory");
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(tail) : "a"(pattern) : "memory");
    return dst;
}

int BERYL_LIBC(memcmp)(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

void *BERYL_LIBC(memchr)(const void *s, int c, size_t n) {
    const unsigned char *p = s;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == (unsigned char)c)
            return (void *)(p + i);
    }
    return NULL;
}

size_t BERYL_LIBC(strlen)(const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t BERYL_LIBC(strnlen)(const char *s, size_t max) {
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int BERYL_LIBC(strcmp)(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int BERYL_LIBC(strncmp)(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i] || a[i] == 0)
            return (unsigned char)a[i] - (unsigned char)b[i];
    }
    return 0;
}

char *BERYL_LIBC(strchr)(const char *s, int c) {
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (*s == 0)
            return NULL;
    }
}

char *BERYL_LIBC(strrchr)(const char *s, int c) {
    const char *last = NULL;
    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (*s == 0)
            return (char *)last;
    }
}

char *BERYL_LIBC(strstr)(const char *haystack, const char *needle) {
    size_t n = BERYL_LIBC(strlen)(needle);
    for (; *haystack; haystack++) {
        if (BERYL_LIBC(strncmp)(haystack, needle, n) == 0)
            return (char *)haystack;
    }
    return n == 0 ? (char *)haystack : NULL;
}

char *BERYL_LIBC(strncpy)(char *restrict dst, const char *restrict src, size_t n) {
    size_t i = 0;
    for (; i < n && src[i]; i++)
        dst[i] = src[i];
    for (; i < n; i++)
        dst[i] = 0;
    return dst;
}

size_t BERYL_LIBC(strlcpy)(char *restrict dst, const char *restrict src, size_t size) {
    size_t len = BERYL_LIBC(strlen)(src);
    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        BERYL_LIBC(memcpy)(dst, src, n);
        dst[n] = 0;
    }
    return len;
}
