/*
 * The heap's free-list logic, independent of where memory comes from (malloc.c feeds it
 * VMO-backed pages; the host tests feed it a plain buffer). Not thread-safe: the caller
 * holds a lock.
 *
 * The heap is one contiguous range [base, top) that only grows upwards. Every block
 * starts with a 16-byte header holding its size (header included, multiple of 16) and a
 * tag (used / free); free blocks are kept in an address-ordered list and merged with
 * their neighbours when freed, so no two free blocks are ever adjacent.
 */
#ifndef BERYL_MALLOC_PRIV_H
#define BERYL_MALLOC_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BERYL_HEAP_ALIGN 16u
#define BERYL_HEAP_MIN_GROW ((size_t)64 * 1024)

/*
 * Extends the heap by at least min_bytes at exactly `top` (the current end). Returns the
 * number of bytes added (a multiple of 16, >= min_bytes), or 0 if out of memory.
 */
typedef size_t (*beryl_heap_grow_fn)(void *ctx, uintptr_t top, size_t min_bytes);

typedef struct beryl_heap_block beryl_heap_block_t;

typedef struct beryl_heap {
    uintptr_t base;              /* first byte (16-aligned); 0 until the first grow */
    uintptr_t top;               /* one past the last byte */
    beryl_heap_block_t *free_head;
    beryl_heap_grow_fn grow;
    void *grow_ctx;
} beryl_heap_t;

/* base must be 16-aligned; the heap starts empty at base. */
void beryl_heap_init(beryl_heap_t *h, uintptr_t base, beryl_heap_grow_fn grow, void *ctx);
/* NULL when size is 0, too large, or the heap cannot grow. */
void *beryl_heap_alloc(beryl_heap_t *h, size_t size);
/* Returns false (and changes nothing) for a pointer that is not a live block. NULL is fine. */
bool beryl_heap_free(beryl_heap_t *h, void *p);
/* realloc semantics; NULL p allocates, size 0 frees and returns NULL. On failure the old
 * block is untouched and NULL is returned. */
void *beryl_heap_realloc(beryl_heap_t *h, void *p, size_t size);
/* Usable bytes of a live block. */
size_t beryl_heap_usable_size(const void *p);
/* Checks every invariant; returns the total free bytes, or (size_t)-1 if broken. */
size_t beryl_heap_check(const beryl_heap_t *h);

#endif
