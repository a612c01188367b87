/*
 * Private to the VMO implementation (vm_object.c, vm_object_ops.c, vm_object_child.c):
 * the object's layout and the helpers these files share. Nothing outside
 * kernel/vm/vm_object*.c includes this.
 *
 * Lock rules (see also vm/vm_object.h):
 *   - A VMO's lock is its *family's* lock, vmo->hier->lock (a mutex: work under it may
 *     be long, e.g. committing or freeing many pages, and runs with interrupts on). A family is a VMO together with every child created from it (slices,
 *     snapshots, the hidden nodes of copy-on-write) and their children: all of them share
 *     one struct vmo_hier, set at creation and never changed, so taking "the VMO lock"
 *     of any member locks the whole family. It guards the mutable fields below (including
 *     the family links parent/child/slices of every member), the page trees, and the
 *     vm_page records of the pages the members own. A VMO that never had children is a
 *     family of one, so this is exactly the old per-VMO lock for it.
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
#include <kernel/mutex.h>
#include <kernel/types.h>
#include <lib/list.h>
#include <vm/page_tree.h>
#include <vm/vm_object.h>
#include <vm/vm_page.h>

/*
 * The state a family shares (see the lock rules above). members counts the live struct
 * vm_objects using it (hidden nodes included; atomic); the last one to go frees it.
 */
struct vmo_hier {
    mutex_t lock;
    uint32_t members;
    struct list_node pins;       /* struct vmo_pin.node: copies in flight in the family */
};

/* vm_object.flags; set at creation, immutable. */
#define VMO_FLAG_HIDDEN (1u << 0)   /* a copy-on-write hidden node: never seen outside */
#define VMO_FLAG_SLICE (1u << 1)    /* a window onto `parent` at parent_offset */
#define VMO_FLAG_NO_WRITE (1u << 2) /* created with VMO_CHILD_NO_WRITE (recorded only) */

/* Children of a hidden node. */
#define VMO_HIDDEN_CHILDREN 2

struct vm_object {
    struct vmo_hier *hier;       /* immutable; hier->lock is this VMO's lock */
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
    uint32_t flags;              /* VMO_FLAG_*; immutable */
    uint64_t koid;               /* atomic; set once (vmo_set_koid) */
    char name[VMO_NAME_LEN];     /* guarded by lock */
    /*
     * Set (never cleared) once vmo_get_page has handed out the shared zero page for this
     * VMO: only then can a mapping hold a zero-page translation that a commit must remove.
     * Until then committing a page tells no mapping (the common write-first fault).
     */
    bool zero_page_handed_out;
    /*
     * Family links (vm_object_child.c). SLICE: parent is the (non-slice) VMO this one is
     * a window of, held by a reference, at parent_offset; immutable. Copy-on-write: parent
     * is a hidden node or NULL (a root); offsets o < parent_limit of this VMO read the
     * parent's content at o + parent_offset when this VMO holds no page at o. Hidden
     * nodes are owned by the family structure, not by references: child[] are the VMOs
     * whose parent this node is (one slot may be empty).
     */
    vm_object_t *parent;
    uint64_t parent_offset;
    uint64_t parent_limit;
    vm_object_t *child[VMO_HIDDEN_CHILDREN];
    struct list_node slices;     /* struct vm_object.slice_node: slices of this VMO */
    struct list_node slice_node;
};

/*
 * A page held by a vmo_read/vmo_write copy that runs without the VMO lock. Lives on the
 * copier's stack, linked on vmo->hier->pins while the copy runs (family-wide, since a
 * copy may read a page an ancestor owns). `orphaned` is set (on every
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
    TA_REQ(vmo->hier->lock);

/*
 * Removes every committed page with index in [first, last) (PAGED only) and frees it, or
 * hands it to the pins holding it. Mappings must already have been told (unmap_range).
 */
void vmo_free_pages_locked(vm_object_t *vmo, uint64_t first, uint64_t last)
    TA_REQ(vmo->hier->lock);

/*
 * Discards the page-aligned byte range [start, end): every mapping drops its translations
 * first, then the pages are freed (decommit, zero and shrink all need exactly this order).
 */
void vmo_discard_range_locked(vm_object_t *vmo, uint64_t start, uint64_t end)
    TA_REQ(vmo->hier->lock);

/*
 * Makes the bytes [start, end) read as zeros without decommitting anything: clears
 * them in committed pages (PAGED; uncommitted pages already read as zeros) or in the
 * run (CONTIGUOUS). Not for PHYSICAL VMOs.
 */
void vmo_clear_bytes_locked(vm_object_t *vmo, uint64_t start, uint64_t end)
    TA_REQ(vmo->hier->lock);

/* Pin bookkeeping for vmo_read/vmo_write (see struct vmo_pin). */
void vmo_pin_locked(vm_object_t *vmo, struct vmo_pin *pin, vm_page_t *page)
    TA_REQ(vmo->hier->lock);
void vmo_unpin_locked(vm_object_t *vmo, struct vmo_pin *pin) TA_REQ(vmo->hier->lock);

/* The page release used whenever a page leaves a live family (pins honoured). */
void vmo_release_page_locked(vm_object_t *vmo, vm_page_t *page) TA_REQ(vmo->hier->lock);

/*
 * Allocates a VMO struct with one reference. hier NULL: a new family of one (its lock
 * and pin list allocated too); otherwise joins that family. NULL if the heap is out.
 */
vm_object_t *vmo_alloc(enum vmo_type type, uint32_t options, uint64_t size, paddr_t base,
                       struct vmo_hier *hier);

/* Frees a VMO struct that owns nothing any more, and its family if it was the last. */
void vmo_free_struct(vm_object_t *vmo);

/* ---- Copy-on-write (vm_object_child.c); all with the family lock held ----------------- */

/* True if vmo reads through a copy-on-write parent (it was snapshotted or is a snapshot). */
static inline bool vmo_has_cow_parent(const vm_object_t *vmo) {
    return vmo->parent != NULL && !(vmo->flags & VMO_FLAG_SLICE);
}

/*
 * The page a copy-on-write VMO shows at page index `index`: its own, else the nearest
 * ancestor's within the parent_limit windows, else NULL (reads as zeros).
 */
vm_page_t *vmo_cow_lookup_locked(vm_object_t *vmo, uint64_t index) TA_REQ(vmo->hier->lock);

/*
 * Gives vmo a page of its own at index (which it must not have yet): a copy of the
 * ancestor page it shows there, or a zeroed page. Then every mapping of vmo drops that
 * offset, since it may map the ancestor page (or the zero page) read-only. NO_MEMORY
 * with nothing changed.
 */
zx_status_t vmo_cow_own_page_locked(vm_object_t *vmo, uint64_t index, vm_page_t **out)
    TA_REQ(vmo->hier->lock);

/* vmo_zero for a copy-on-write VMO: [offset, offset + len), already range-checked. */
zx_status_t vmo_cow_zero_locked(vm_object_t *vmo, uint64_t offset, uint64_t len)
    TA_REQ(vmo->hier->lock);

/*
 * Called by a shrink of copy-on-write leaf vmo, after its own pages and its mappings'
 * translations at [new_limit, parent_limit) are gone and before parent_limit is lowered
 * to new_limit: frees the ancestor pages there that no other leaf can see.
 */
void vmo_cow_shrink_locked(vm_object_t *vmo, uint64_t new_limit) TA_REQ(vmo->hier->lock);

/* Called by the last unref of vmo (its own pages already freed): unlinks it from the
 * family, merging or freeing the hidden nodes this leaves with fewer than two children. */
void vmo_cow_detach_locked(vm_object_t *vmo) TA_REQ(vmo->hier->lock);

/*
 * Slices: if vmo is a slice, checks [*offset, + len) against its size (false, with
 * *st = OUT_OF_RANGE, when outside) and rewrites *vmo and *offset to the parent's.
 * Returns true to go on with the operation.
 */
bool vmo_slice_resolve(vm_object_t **vmo, uint64_t *offset, uint64_t len, zx_status_t *st);

#endif
