/*
 * Private to the VMO implementation (vm_object.c, vm_object_ops.c): the object's layout
 * and the helpers both files use. Nothing outside kernel/vm/vm_object*.c includes this.
 *
 * Lock rules (see also vm/vm_object.h):
 *   - vmo->lock (a spinlock, always taken with irqsave) guards the mutable fields below,
 *     the page tree, and the vm_page records of the pages the VMO owns.
 *   - Order: aspace -> vmo -> { heap -> pmm, MMU locks }. With vmo->lock held we allocate
 *     (page-tree nodes from the heap, pages from the PMM) and call the mapping links'
 *     unmap_range ops, which take only MMU locks.
 *   - The lock is never held across a caller's copy callback (vmo_read/vmo_write): those
 *     may fault on user memory, and resolving the fault takes aspace -> vmo locks, possibly
 *     of this very VMO. A page being copied is *pinned* instead (struct vmo_pin): if it is
 *     decommitted meanwhile, it leaves the page tree at once but is freed by the last pin
 *     holder, never while a copy may still touch it.
 *   - type, options and base never change after creation and are read without the lock.
 *     refcount is atomic.
 */
#ifndef VM_VM_OBJECT_PRIV_H
#define VM_VM_OBJECT_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/compiler.h>
#include <kernel/spinlock.h>
#include <kernel/types.h>
#include <lib/list.h>
#include <vm/page_tree.h>
#include <vm/vm_object.h>
#include <vm/vm_page.h>

struct vm_object {
    spinlock_t lock;
    uint32_t refcount;           /* atomic; the object dies when it reaches 0 */
    enum vmo_type type;          /* immutable */
    uint32_t options;            /* VMO_OPT_*; immutable */
    paddr_t base;                /* CONTIGUOUS / PHYSICAL: first byte; immutable */
    /* Guarded by lock (clang's guarded_by cannot name a struct member in C). Fields
     * that the const getters read are also stored with __atomic_store_n. */
    uint64_t size;               /* page-aligned; only resizable PAGED VMOs change it */
    uint32_t cache_policy;       /* VMO_CACHE_* */
    struct page_tree pages;      /* PAGED: committed pages by index */
    struct list_node mappings;   /* struct vmo_mapping_link.node */
    size_t mapping_count;
    struct list_node pins;       /* struct vmo_pin.node: copies in flight */
};

/*
 * A page held by a vmo_read/vmo_write copy that runs without the VMO lock. Lives on the
 * copier's stack, linked on vmo->pins while the copy runs. `orphaned` is set (on every
 * pin of that page) when the page leaves the VMO during the copy; the last pin of an
 * orphaned page to be dropped frees it.
 */
struct vmo_pin {
    struct list_node node;
    vm_page_t *page;
    bool orphaned;
};

/* Page index of a byte offset. */
static inline uint64_t vmo_page_index(uint64_t offset) { return offset >> PAGE_SHIFT; }

/*
 * Returns true if [offset, offset + len) lies within [0, size) without overflowing. A
 * zero-length range at offset == size is inside; at size + 1 it is not.
 */
static inline bool vmo_range_ok(uint64_t size, uint64_t offset, uint64_t len) {
    return offset <= size && len <= size - offset;
}

/*
 * Calls unmap_range on every mapping link that overlaps the VMO byte range [start, end),
 * clipped to the link's window. start and end are page-aligned. Needed before pages go
 * away (decommit, zero, shrink) and after pages are committed (a mapping may show the
 * zero page read-only there, which would hide the new page).
 */
void vmo_unmap_links_locked(vm_object_t *vmo, uint64_t start, uint64_t end)
    TA_REQ(vmo->lock);

/*
 * Removes every committed page with index in [first, last) (PAGED only) and frees it, or
 * hands it to the pins holding it. Mappings must already have been told (unmap_range).
 */
void vmo_free_pages_locked(vm_object_t *vmo, uint64_t first, uint64_t last)
    TA_REQ(vmo->lock);

/*
 * Makes the bytes [start, end) read as zeros without decommitting anything: clears
 * them in committed pages (PAGED; uncommitted pages already read as zeros) or in the
 * run (CONTIGUOUS). Not for PHYSICAL VMOs.
 */
void vmo_clear_bytes_locked(vm_object_t *vmo, uint64_t start, uint64_t end)
    TA_REQ(vmo->lock);

/* Pin bookkeeping for vmo_read/vmo_write (see struct vmo_pin). */
void vmo_pin_locked(vm_object_t *vmo, struct vmo_pin *pin, vm_page_t *page)
    TA_REQ(vmo->lock);
void vmo_unpin_locked(vm_object_t *vmo, struct vmo_pin *pin) TA_REQ(vmo->lock);

#endif
