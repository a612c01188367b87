/*
 * Freestanding memory and string routines for the kernel (the host builds use libc).
 *
 * The compiler may itself emit calls to memcpy, memmove and memset (for struct copies,
 * or by recognising copy loops), so these bodies must never contain a loop the compiler
 * could turn back into a call to themselves. The bulk copies are the CPU's own
 * instructions (<arch/string.h>, inline), and every function is marked no_builtin so the
 * optimiser leaves the remaining loops alone.
 *
 * The direction flag is assumed clear on entry, as the SysV ABI requires, and is never
 * set here: backward copies use an ordinary descending loop instead of a descending
 * string instruction, so an interrupt can never observe DF=1 because of this file.
 */
#include <lib/string.h>

#include <stdint.h>

#include <arch/string.h>

#include <kernel/compiler.h>

#define NO_BUILTIN __attribute__((no_builtin))
#define WORD_SIZE sizeof(uint64_t)

/* A 64-bit word that may sit at any address and alias any other type. */
typedef uint64_t __attribute__((aligned(1), may_alias)) unaligned_u64;

/* Copies n bytes forward (the CPU's bulk copy, <arch/string.h>). */
static __always_inline void copy_forward(void *dst, const void *src, size_t n) {
    arch_copy_forward(dst, src, n);
}

NO_BUILTIN void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    copy_forward(dst, src, n);
    return dst;
}

/*
 * Copies n bytes between possibly overlapping buffers. A forward copy is safe whenever
 * dst does not start inside src; otherwise copy from the end down, a word at a time.
 */
NO_BUILTIN void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;

    if ((uintptr_t)d - (uintptr_t)s >= n) { /* d < s, or no overlap at all */
        copy_forward(d, s, n);
        return dst;
    }
    while (n >= WORD_SIZE) {
        n -= WORD_SIZE;
        *(unaligned_u64 *)(d + n) = *(const unaligned_u64 *)(s + n);
    }
    while (n) {
        n--;
        d[n] = s[n];
    }
    return dst;
}

/* Fills n bytes with (unsigned char)c: the CPU's bulk store of a replicated byte. */
NO_BUILTIN void *memset(void *dst, int c, size_t n) {
    uint64_t pattern = (unsigned char)c * 0x0101010101010101ull; /* byte in every lane */
    arch_fill(dst, pattern, n);
    return dst;
}

/* Compares bytes as unsigned char; returns <0, 0 or >0 like the C function. */
NO_BUILTIN int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i])
            return x[i] - y[i];
    }
    return 0;
}

NO_BUILTIN size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* Length of s, but never reads more than max bytes. */
NO_BUILTIN size_t strnlen(const char *s, size_t max) {
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

NO_BUILTIN int strcmp(const char *a, const char *b) {
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    while (*x && *x == *y) {
        x++;
        y++;
    }
    return *x - *y;
}

/* strcmp limited to the first n bytes. */
NO_BUILTIN int strncmp(const char *a, const char *b, size_t n) {
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i])
            return x[i] - y[i];
        if (!x[i])
            break;
    }
    return 0;
}

/* First occurrence of (char)c in s; searching for '\0' finds the terminator. */
NO_BUILTIN char *strchr(const char *s, int c) {
    char ch = (char)c;
    for (;; s++) {
        if (*s == ch)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}
