/*
 * Kernel heap: power-of-two size classes (16 B .. 2 KiB) carved from single PMM pages
 * (one class per page, recorded in the page's vm_page), larger requests served by
 * contiguous page runs. Every pointer is at least 16-byte aligned (page-aligned above
 * 2 KiB). Empty slab pages go back to the PMM, but for one spare per class.
 *
 * Locking: one spinlock (irqsave); the PMM is called with it held (PMM lock nests inside).
 */
#ifndef PHYS_HEAP_H
#define PHYS_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Resets the heap's lists and counters; call once at boot, after pmm_init. */
void heap_init(void);

/* Switches use-after-free poisoning on (heap.c explains it; kernel.heap-poison=true). Call
 * right after heap_init, before the first allocation. */
void heap_set_poison(bool on);
#define HEAP_POISON_OPTION "kernel.heap-poison"


/* Returns NULL when size is 0 or memory is exhausted. */
void *kmalloc(size_t size);
void *kzalloc(size_t size);
/* Frees a kmalloc'ed pointer; NULL is ignored; a pointer the heap never gave out panics. */
void kfree(void *ptr);

/*
 * For panic reports: if addr points into a heap slab, writes into buf (len bytes) which
 * object, its size and offset, and whether it is free (with poisoning on, also the pc of
 * the kfree); false, writing nothing, for any other address.
 */
bool heap_describe(uintptr_t addr, char *buf, size_t len);
#define HEAP_DESCRIBE_MAX 160 /* enough for any heap_describe text */

size_t heap_bytes_in_use(void); /* sum of the class sizes / run sizes of live allocations */
size_t heap_pages(void);        /* PMM pages currently held by the heap, spares included */

/* Gives every class's spare empty slab back to the PMM; returns how many pages. For
 * exact free-page counts (ktest leak checks, ZX_INFO_KMEM_STATS); interrupts on or off,
 * no heap or PMM lock held. */
size_t heap_trim(void);

#endif
