/* Process exit and the heap of the Beryl user runtime. */
#ifndef BERYL_STDLIB_H
#define BERYL_STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

/* Ends the process with zx_process_exit(status). */
__attribute__((noreturn)) void exit(int status);
/* Ends the process with return code BERYL_ABORT_RETCODE (-6, like SIGABRT's number). */
#define BERYL_ABORT_RETCODE (-6)
__attribute__((noreturn)) void abort(void);

/* Thread-safe heap over VMOs mapped on demand; 16-byte aligned blocks. */
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);

int abs(int x);
long strtol(const char *restrict s, char **restrict end, int base);
unsigned long strtoul(const char *restrict s, char **restrict end, int base);

#endif
