/* Address-ordered first-fit free list with immediate coalescing (see malloc_priv.h). */
#include "malloc_priv.h"
#include "string_priv.h"

#define TAG_USED ((size_t)0xB10CB10CB10C0001ull)
#define TAG_FREE ((size_t)0xB10CB10CB10C0002ull)
#define HDR ((size_t)16)
#define MIN_BLOCK ((size_t)32) /* a header plus the free-list link, rounded */

struct beryl_heap_block {
    size_t size; /* bytes, header included */
    size_t tag;
    beryl_heap_block_t *next; /* free blocks only (lives in the payload) */
};

_Static_assert(sizeof(beryl_heap_block_t) <= MIN_BLOCK, "block header");

void beryl_heap_init(beryl_heap_t *h, uintptr_t base, beryl_heap_grow_fn grow, void *ctx) {
    h->base = base;
    h->top = base;
    h->free_head = NULL;
    h->grow = grow;
    h->grow_ctx = ctx;
}

static beryl_heap_block_t *block_of(const void *p) {
    return (beryl_heap_block_t *)((uintptr_t)p - HDR);
}

static bool adjacent(const beryl_heap_block_t *a, const beryl_heap_block_t *b) {
    return (uintptr_t)a + a->size == (uintptr_t)b;
}

/* Inserts b (tagged free) into the address-ordered list, merging with its neighbours. */
static void insert_free(beryl_heap_t *h, beryl_heap_block_t *b) {
    beryl_heap_block_t *prev = NULL, *cur = h->free_head;
    while (cur != NULL && cur < b) {
        prev = cur;
        cur = cur->next;
    }
    b->tag = TAG_FREE;
    b->next = cur;
    if (cur != NULL && adjacent(b, cur)) {
        b->size += cur->size;
        b->next = cur->next;
        cur->tag = 0;
    }
    if (prev != NULL && adjacent(prev, b)) {
        prev->size += b->size;
        prev->next = b->next;
        b->tag = 0;
    } else if (prev != NULL) {
        prev->next = b;
    } else {
        h->free_head = b;
    }
}

static bool grow(beryl_heap_t *h, size_t need) {
    if (h->grow == NULL)
        return false;
    size_t want = need < BERYL_HEAP_MIN_GROW ? BERYL_HEAP_MIN_GROW : need;
    size_t got = h->grow(h->grow_ctx, h->top, want);
    if (got < need || got % BERYL_HEAP_ALIGN != 0)
        return false;
    beryl_heap_block_t *b = (beryl_heap_block_t *)h->top;
    b->size = got;
    h->top += got;
    insert_free(h, b);
    return true;
}

void *beryl_heap_alloc(beryl_heap_t *h, size_t size) {
    if (size == 0 || size > ((size_t)1 << 40))
        return NULL;
    size_t need = (size + HDR + BERYL_HEAP_ALIGN - 1) & ~(size_t)(BERYL_HEAP_ALIGN - 1);
    if (need < MIN_BLOCK)
        need = MIN_BLOCK;
    for (int attempt = 0; attempt < 2; attempt++) {
        beryl_heap_block_t *prev = NULL;
        for (beryl_heap_block_t *b = h->free_head; b != NULL; prev = b, b = b->next) {
            if (b->size < need)
                continue;
            beryl_heap_block_t *rest = b->next;
            if (b->size - need >= MIN_BLOCK) {
                rest = (beryl_heap_block_t *)((uintptr_t)b + need);
                rest->size = b->size - need;
                rest->tag = TAG_FREE;
                rest->next = b->next;
                b->size = need;
            }
            if (prev != NULL)
                prev->next = rest;
            else
                h->free_head = rest;
            b->tag = TAG_USED;
            return (void *)((uintptr_t)b + HDR);
        }
        if (attempt == 0 && !grow(h, need))
            return NULL;
    }
    return NULL;
}

static bool is_live(const beryl_heap_t *h, const void *p) {
    uintptr_t a = (uintptr_t)p;
    if (a % BERYL_HEAP_ALIGN != 0 || a < h->base + HDR || a >= h->top)
        return false;
    const beryl_heap_block_t *b = block_of(p);
    return b->tag == TAG_USED && b->size >= MIN_BLOCK && b->size <= h->top - (uintptr_t)b;
}

bool beryl_heap_free(beryl_heap_t *h, void *p) {
    if (p == NULL)
        return true;
    if (!is_live(h, p))
        return false;
    insert_free(h, block_of(p));
    return true;
}

size_t beryl_heap_usable_size(const void *p) {
    return block_of(p)->size - HDR;
}

void *beryl_heap_realloc(beryl_heap_t *h, void *p, size_t size) {
    if (p == NULL)
        return beryl_heap_alloc(h, size);
    if (!is_live(h, p))
        return NULL;
    if (size == 0) {
        beryl_heap_free(h, p);
        return NULL;
    }
    size_t old = beryl_heap_usable_size(p);
    if (size <= old)
        return p;
    void *n = beryl_heap_alloc(h, size);
    if (n == NULL)
        return NULL;
    BERYL_LIBC(memcpy)(n, p, old);
    beryl_heap_free(h, p);
    return n;
}

size_t beryl_heap_check(const beryl_heap_t *h) {
    size_t free_bytes = 0;
    /* Walk every block in address order and the free list alongside it. */
    const beryl_heap_block_t *f = h->free_head;
    bool prev_free = false;
    for (uintptr_t a = h->base; a < h->top;) {
        const beryl_heap_block_t *b = (const beryl_heap_block_t *)a;
        if (b->size < MIN_BLOCK || b->size % BERYL_HEAP_ALIGN != 0 || b->size > h->top - a)
            return (size_t)-1;
        if (b->tag == TAG_FREE) {
            if (b != f || prev_free)
                return (size_t)-1;
            free_bytes += b->size;
            f = f->next;
            prev_free = true;
        } else if (b->tag == TAG_USED) {
            prev_free = false;
        } else {
            return (size_t)-1;
        }
        a += b->size;
    }
    return f == NULL ? free_bytes : (size_t)-1;
}
