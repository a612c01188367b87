/*
 * Freestanding string and memory routines for the kernel. In host builds the C library
 * provides these, so this header just includes <string.h>.
 */
#ifndef LIB_STRING_H
#define LIB_STRING_H

#include <stddef.h>

#ifdef BERYL_HOST
#include <string.h>
#else
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
#endif

/* Copies at most size-1 bytes and always NUL-terminates (size > 0). Returns strlen(src). */
size_t kstrlcpy(char *dst, const char *src, size_t size);

/*
 * Parses an unsigned integer (decimal, or hex with a 0x prefix) from s[0..len).
 * Returns true and stores the value if every byte was consumed and nothing overflowed.
 */
#include <stdbool.h>
#include <stdint.h>
bool kparse_u64(const char *s, size_t len, uint64_t *out);

#endif
