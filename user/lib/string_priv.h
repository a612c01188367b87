/* Prototypes of string.c under their build-dependent names (see libc_names.h). */
#ifndef BERYL_STRING_PRIV_H
#define BERYL_STRING_PRIV_H

#include <stddef.h>

#include "libc_names.h"

void *BERYL_LIBC(memcpy)(void *restrict dst, const void *restrict src, size_t n);
void *BERYL_LIBC(memmove)(void *dst, const void *src, size_t n);
void *BERYL_LIBC(memset)(void *dst, int c, size_t n);
int BERYL_LIBC(memcmp)(const void *a, const void *b, size_t n);
void *BERYL_LIBC(memchr)(const void *s, int c, size_t n);
size_t BERYL_LIBC(strlen)(const char *s);
size_t BERYL_LIBC(strnlen)(const char *s, size_t max);
int BERYL_LIBC(strcmp)(const char *a, const char *b);
int BERYL_LIBC(strncmp)(const char *a, const char *b, size_t n);
char *BERYL_LIBC(strchr)(const char *s, int c);
char *BERYL_LIBC(strrchr)(const char *s, int c);
char *BERYL_LIBC(strstr)(const char *haystack, const char *needle);
char *BERYL_LIBC(strncpy)(char *restrict dst, const char *restrict src, size_t n);
size_t BERYL_LIBC(strlcpy)(char *restrict dst, const char *restrict src, size_t size);

#endif
