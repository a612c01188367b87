/*
 * malloc over VMOs: a BERYL_HEAP_RESERVE-byte VMAR is reserved on first use and filled
 * from the bottom with VMO-backed mappings as the heap grows (malloc_core.c does the
 * bookkeeping). A spinlock serializes the heap between threads.
 */
#include <stdlib.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>

#include "malloc_priv.h"

#define BERYL_HEAP_RESERVE ((size_t)1 << 30)

static beryl_heap_t heap;
static zx_handle_t heap_vmar;
static volatile int heap_lock;

static void lock(void) {
    while (__atomic_exchange_n(&heap_lock, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
}

static void unlock(void) {
    __atomic_store_n(&heap_lock, 0, __ATOMIC_RELEASE);
}

static size_t heap_grow(void *ctx, uintptr_t top, size_t min_bytes) {
    size_t len = (min_bytes + 4095) & ~(size_t)4095;
    size_t offset = top - heap.base;
    if (offset > BERYL_HEAP_RESERVE || BERYL_HEAP_RESERVE - offset < len)
        return 0;
    zx_handle_t vmo;
    if (zx_vmo_create(len, 0, &vmo) != ZX_OK)
        return 0;
    zx_vaddr_t addr;
    zx_status_t st = zx_vmar_map(heap_vmar, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_SPECIFIC,
                                 offset, vmo, 0, len, &addr);
    zx_handle_close(vmo);
    return st == ZX_OK ? len : 0;
}

/* Reserves the heap's address range on first use; false if that fails. */
static bool heap_ready(void) {
    if (heap_vmar != ZX_HANDLE_INVALID)
        return true;
    zx_vaddr_t base;
    zx_status_t st = zx_vmar_allocate(zx_vmar_root_self(),
                                      ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE |
                                          ZX_VM_CAN_MAP_SPECIFIC,
                                      0, BERYL_HEAP_RESERVE, &heap_vmar, &base);
    if (st != ZX_OK) {
        heap_vmar = ZX_HANDLE_INVALID;
        return false;
    }
    beryl_heap_init(&heap, base, heap_grow, NULL);
    return true;
}

void *malloc(size_t size) {
    lock();
    void *p = heap_ready() ? beryl_heap_alloc(&heap, size) : NULL;
    unlock();
    return p;
}

void *calloc(size_t n, size_t size) {
    if (size != 0 && n > (size_t)-1 / size)
        return NULL;
    void *p = malloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size); /* reused blocks are not zero */
    return p;
}

void *realloc(void *p, size_t size) {
    lock();
    void *r = heap_ready() ? beryl_heap_realloc(&heap, p, size) : NULL;
    unlock();
    return r;
}

void free(void *p) {
    if (p == NULL)
        return;
    lock();
    bool ok = beryl_heap_free(&heap, p);
    unlock();
    if (!ok) {
        static const char msg[] = "beryl runtime: free() of an invalid pointer\n";
        zx_debug_write(msg, sizeof(msg) - 1);
        abort();
    }
}
