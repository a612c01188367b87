/*
 * vm_page: one record per physical page frame, in a flat array indexed by frame number
 * (vm_page_array[pa >> PAGE_SHIFT]). Frames that are not RAM, or that the PMM never
 * manages, are VM_PAGE_STATE_ABSENT / VM_PAGE_STATE_WIRED.
 *
 * The `state` says who owns the page and which member of the union is live:
 *   FREE    owned by the PMM; `node` links it on the free list.
 *   ALLOC   just handed out by the PMM; the new owner sets a more specific state.
 *   WIRED   reserved at boot (kernel image, boot allocations, modules) - never freed.
 *   HEAP    a kernel heap page: `heap` is live.
 *   MMU     a page-table page: `mmu` is live (level, refcount, present-entry count, lock).
 *   OBJECT  owned by a VMO: `object` is live. `object.pins` counts the VMO copies
 *           (vmo_read/vmo_write) reading or writing the page right now with the VMO lock
 *           dropped; while it is non-zero the page is never freed (the PMM refuses it),
 *           and `object.object` is NULL once the page has left its VMO (an orphan that
 *           the last copy frees). See kernel/vm/vmo_priv.h, "Pins".
 */
#ifndef PHYS_VM_PAGE_H
#define PHYS_VM_PAGE_H

#include <stddef.h>
#include <stdint.h>
#include <kernel/assert.h>
#include <kernel/spinlock.h>
#include <kernel/types.h>
#include <lib/list.h>

enum vm_page_state {
    VM_PAGE_STATE_ABSENT = 0,
    VM_PAGE_STATE_FREE,
    VM_PAGE_STATE_ALLOC,
    VM_PAGE_STATE_WIRED,
    VM_PAGE_STATE_HEAP,
    VM_PAGE_STATE_MMU,
    VM_PAGE_STATE_OBJECT,
    VM_PAGE_STATE_COUNT,
};

typedef struct vm_page {
    struct list_node node;
    uint8_t state;
    uint8_t flags;
    uint16_t reserved0;
    uint32_t reserved1;
    union {
        struct {
            uint8_t level;        /* 0 = PT ... 3 = PML4 */
            uint8_t pinned;       /* never unlinked or freed while its aspace lives */
            uint16_t nr_children; /* present entries */
            uint32_t refcount;    /* parent entry + unified aspaces borrowing it */
            spinlock_t lock;
            uint32_t reserved2;
        } mmu;
        struct {
            uint16_t size_class;  /* index, or HEAP_CLASS_LARGE */
            uint16_t in_use;      /* objects in use on this slab page */
            uint32_t npages;      /* for a large allocation: pages in the run */
            void *free_list;      /* slab: first free object */
        } heap;
        struct {
            void *object;         /* the owning VMO; NULL: orphaned while pinned */
            uint64_t page_offset;
            uint32_t pins;        /* copies in flight on this page */
        } object;
    };
} vm_page_t;

STATIC_ASSERT(sizeof(vm_page_t) <= 48);

extern vm_page_t *vm_page_array;
extern size_t vm_page_array_count; /* frames covered: [0, vm_page_array_count) */

static inline paddr_t vm_page_to_paddr(const vm_page_t *p) {
    return (paddr_t)(p - vm_page_array) << PAGE_SHIFT;
}

/* Returns the record for pa's frame, or NULL if pa is beyond the array. */
static inline vm_page_t *paddr_to_vm_page(paddr_t pa) {
    size_t pfn = (size_t)(pa >> PAGE_SHIFT);
    return pfn < vm_page_array_count ? &vm_page_array[pfn] : NULL;
}

const char *vm_page_state_name(unsigned state);

#endif
