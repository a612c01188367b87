/*
 * Private to the VMO implementation: the object's layout and the base layer's helpers
 * (vmo.c) that the layers above it share: copy-on-write children (vmo_child.c, whose own
 * interface is vmo_child_priv.h) and the operations (vmo_ops.c). Nothing outside
 * kernel/vm/vmo*.c includes this.
 *
 * Lock rules (see also vm/vmo.h):
 *   - A VMO's lock is its *family's* lock, vmo->hier->lock (a mutex: work under it may
 *     be long, e.g. committing or freeing many pages, and runs with interrupts on). A
 *     family is a VMO together with every child created from it (slices,
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
 *     of this very VMO. A page being copied is *pinned* instead (see Pins below).
 *   - Long operations let go of the lock between steps (vmo_lock_break): a range
 *     operation's loop keeps only an index across a break and looks everything else up
 *     again afterwards, so other threads of the family get in, and a killed thread
 *     stops.
 *   - type, options and base never change after creation and are read without the lock.
 *     refcount is atomic.
 *
 * Pins. vmo_read/vmo_write copy one page-bounded chunk at a time with the lock dropped.
 * The page a chunk uses is pinned meanwhile: a struct vmo_pin on the copier's stack,
 * counted in the page's vm_page.object.pins (and, for a write, linked on
 * hier->write_pins). What a pin guarantees, and what every path that moves, reuses,
 * overwrites or frees a page therefore does:
 *   1. A pinned page is never freed. Whatever takes it out of the family's page trees
 *      (decommit, zero, shrink, destroy, merging or freeing a hidden node, the ancestor
 *      pages a shrink leaves unseen, the old page when a copy replaces a move) hands it
 *      to vmo_release_page_locked, which orphans a pinned page (object.object = NULL)
 *      instead of freeing it; the last unpin frees an orphan. pmm_free_page refuses a
 *      pinned page outright, so a path that forgets this panics instead of corrupting.
 *   2. A copy from (or to) VMO V sees the page's content as V showed it when the chunk
 *      started, changed only by writes to V itself (and its slices) meanwhile: never by
 *      another VMO's writes. Hidden nodes never change their pages, and a page only
 *      moves toward the leaves that can still read it, so the two moves that could hand
 *      a pinned page to another writer copy instead: a write that would take the last
 *      visible copy of an ancestor page (take_from_ancestor) gets a copy of a pinned one,
 *      and a snapshot of a VMO whose page is being written (a write pin) leaves that
 *      page with the writer and gives the new hidden node a copy of it as it is then.
 *      (A merge may move a pinned page into the surviving child: the reader's VMO is in
 *      that child's subtree, since the other one died, so the page still only moves
 *      toward the reader.)
 *
 * Costs. A lookup walks the ancestors (at most VMO_COW_DEPTH_MAX: vmo_create_child
 * refuses a deeper snapshot), and the "does any other leaf see this page" check visits
 * at most VMO_COW_VISIT_MAX nodes (past that it answers "seen": a copy instead of a move,
 * or an unseen ancestor page kept until its node merges or dies). Range operations visit
 * the pages that exist (page_tree_next over the VMO and the ancestors it reads through),
 * never every index of the range, and count their work in hier->work for the lock breaks.
 */
#ifndef VM_VMO_PRIV_H
#define VM_VMO_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/compiler.h>
#include <kernel/mutex.h>
#include <kernel/types.h>
#include <lib/list.h>
#include <vm/page_tree.h>
#include <vm/vmo.h>
#include <phys/vm_page.h>

/*
 * The state a family shares (see the lock rules above). members counts the live struct
 * vmos using it (hidden nodes included; atomic); the last one to go frees it.
 */
struct vmo_hier {
    mutex_t lock;
    uint32_t members;
    struct list_node write_pins; /* struct vmo_pin.node: vmo_write copies in flight */
    uint64_t work;               /* units done since the lock was last let go (guarded) */
    /* Bumped (guarded) whenever the family's shape changes: a snapshot, a merge or
     * detach, a window lowered by a shrink. Copy-on-write lookups cache the way up
     * (struct vmo.hop) for as long as it stays the same. Starts at 1. */
    uint64_t shape;
};

/* Tells the lookups' caches (struct vmo.hop) that vmo's family changed shape. */
static inline void vmo_family_reshaped(vmo_t *vmo);

/*
 * Lock breaks: a range operation lets go of the family lock once it has done about
 * VMO_LOCK_BREAK_WORK units of work, a unit being one page-tree lookup or one node of a
 * family walk (20-30 instructions); allocating, copying or freeing a page counts
 * VMO_WORK_PAGE units. Measured under -icount: at most about 5 * 10^4 instructions
 * between breaks, and one step at the depth cap (four walks of 1024 levels) about 10^5:
 * what another thread of the family waits for the lock at most.
 */
#define VMO_LOCK_BREAK_WORK 2048u
#define VMO_WORK_PAGE 64u

/* Most nodes one visibility check visits before it assumes the page is still seen. */
#define VMO_COW_VISIT_MAX 1024u

/* vmo.flags; set at creation, immutable. */
#define VMO_FLAG_HIDDEN (1u << 0)   /* a copy-on-write hidden node: never seen outside */
#define VMO_FLAG_SLICE (1u << 1)    /* a window onto `parent` at parent_offset */
#define VMO_FLAG_NO_WRITE (1u << 2) /* created with VMO_CHILD_NO_WRITE (recorded only) */

/* Children of a hidden node. */
#define VMO_HIDDEN_CHILDREN 2

struct vmo {
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
    uint32_t origin;             /* origin tag (vm/vmo.h); immutable after creation */
    uint64_t origin_offset;      /* origin offset of offset 0; immutable after creation */
    char name[VMO_NAME_LEN];     /* guarded by lock */
    /*
     * Set (never cleared) once vmo_get_page has handed out the shared zero page for this
     * VMO: only then can a mapping hold a zero-page translation that a commit must remove.
     * Until then committing a page tells no mapping (the common write-first fault).
     */
    bool zero_page_handed_out;
    /*
     * Set (never cleared) once a commit has given this PAGED VMO a block from one
     * contiguous run (vmo_ops.c, add_block_locked): only then is it worth a fault's
     * while to look for a block it can map with a large entry.
     */
    bool large_blocks;
    /*
     * Family links (vmo_child.c). SLICE: parent is the (non-slice) VMO this one is
     * a window of, held by a reference, at parent_offset; immutable. Copy-on-write: parent
     * is a hidden node or NULL (a root); offsets o < parent_limit of this VMO read the
     * parent's content at o + parent_offset when this VMO holds no page at o. Hidden
     * nodes are owned by the family structure, not by references: child[] are the VMOs
     * whose parent this node is (one slot may be empty).
     */
    vmo_t *parent;
    uint64_t parent_offset;
    uint64_t parent_limit;
    vmo_t *child[VMO_HIDDEN_CHILDREN];
    /*
     * Copy-on-write VMOs and hidden nodes with a parent: where a lookup from this node
     * goes next, cached while hop.shape == hier->shape (guarded by the family lock). The
     * ancestors between this node and hop.to held no page when it was computed, and
     * hidden nodes gain pages only when the family changes shape, so a lookup of offset
     * o (< hop.limit, the composed windows; else nothing above shows through) goes
     * straight to hop.to at o + hop.shift. Runs of empty hidden nodes (a VMO snapshotted
     * again and again without writes in between, a chain of snapshots of snapshots)
     * cost one step instead of one per node.
     */
    struct {
        vmo_t *to;
        uint64_t shift;
        uint64_t limit;
        uint64_t shape;
    } hop;
    struct list_node slices;     /* struct vmo.slice_node: slices of this VMO */
    struct list_node slice_node;
    /*
     * Discardable VMOs only (vmo_discard.c). discard_locks (the nesting count of
     * ZX_VMO_OP_LOCK; stored atomically for vmo_discardable_bytes) and discarded are
     * guarded by the family lock; the nodes by the discard lock: discard_node on the list
     * of every discardable VMO, unlocked_node on the reclaim list (oldest unlock first)
     * while the VMO is unlocked.
     */
    uint64_t discard_locks;
    bool discarded;
    struct list_node discard_node;
    struct list_node unlocked_node;
};

/*
 * Discardable VMOs: the lists live in the base layer (vmo.c), which puts a new
 * discardable VMO on them (unlocked: on both) and takes a dying one off
 * (vmo_discard_unregister, no lock held; called by vmo_destroy); what uses them, locking
 * and discarding, is vmo_discard.c. vmo_discard_lock (class vm.vmo.discard) guards both
 * lists and every VMO's discard_node and unlocked_node.
 */
extern mutex_t vmo_discard_lock;
extern struct list_node vmo_discard_all;      /* struct vmo.discard_node: every one */
extern struct list_node vmo_discard_unlocked; /* struct vmo.unlocked_node: oldest unlock first */
void vmo_discard_unregister(vmo_t *vmo);

/*
 * A page held by one vmo_read/vmo_write chunk that runs without the VMO lock (see Pins
 * above). Lives on the copier's stack. A write pin is also linked on hier->write_pins, so
 * that a snapshot can find the pages being written (a page an ancestor owns is only
 * ever read).
 */
struct vmo_pin {
    struct list_node node; /* on hier->write_pins if write */
    vm_page_t *page;
    bool write;
};

static inline void vmo_family_reshaped(vmo_t *vmo) TA_NO_THREAD_SAFETY_ANALYSIS {
    vmo->hier->shape++;
}

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
void vmo_unmap_links_locked(vmo_t *vmo, uint64_t start, uint64_t end)
    TA_REQ(vmo->hier->lock);

/*
 * Removes every committed page with index in [first, last) (PAGED only) and frees it, or
 * hands it to the pins holding it. Mappings must already have been told (unmap_range).
 */
void vmo_free_pages_locked(vmo_t *vmo, uint64_t first, uint64_t last)
    TA_REQ(vmo->hier->lock);

/*
 * Discards the page-aligned byte range [start, end): every mapping drops its translations
 * first, then the pages are freed (decommit, zero and shrink all need exactly this order).
 */
void vmo_discard_range_locked(vmo_t *vmo, uint64_t start, uint64_t end)
    TA_REQ(vmo->hier->lock);

/* Page indices one discard batch spans from its first committed page (a page table's
 * worth, so a mapping drops whole tables when the batch is aligned). */
#define VMO_DISCARD_SPAN 512u

/*
 * One batch of a discard of page indices [first, last) (PAGED): finds the first committed
 * page at or after first (one tree descent however sparse the range), tells every
 * mapping to drop [first, end) and releases the pages in it, where end is that page's
 * index plus VMO_DISCARD_SPAN (or last, also when no page is left). Returns end; the
 * caller goes on from there after a lock break. Every batch but the last releases at
 * least one page, so the batches follow the committed pages, not the range, and each
 * one is O(VMO_DISCARD_SPAN).
 */
uint64_t vmo_discard_batch_locked(vmo_t *vmo, uint64_t first, uint64_t last)
    TA_REQ(vmo->hier->lock);

/*
 * Makes the bytes [start, end) read as zeros without decommitting anything: clears
 * them in committed pages (PAGED; uncommitted pages already read as zeros) or in the
 * run (CONTIGUOUS). Not for PHYSICAL VMOs.
 */
void vmo_clear_bytes_locked(vmo_t *vmo, uint64_t start, uint64_t end)
    TA_REQ(vmo->hier->lock);

/*
 * Pin bookkeeping for vmo_read/vmo_write (see struct vmo_pin): pin before the lock is
 * dropped for the copy, unpin after it is taken again. The unpin frees the page if it
 * was orphaned meanwhile and this was its last pin.
 */
void vmo_pin_locked(vmo_t *vmo, struct vmo_pin *pin, vm_page_t *page, bool write)
    TA_REQ(vmo->hier->lock);
void vmo_unpin_locked(vmo_t *vmo, struct vmo_pin *pin) TA_REQ(vmo->hier->lock);

/*
 * The one way a page that has left every page tree of a live family goes: freed at once,
 * or orphaned for its pins (rule 1 of Pins). vmo only names the family whose lock is held.
 */
void vmo_release_page_locked(vmo_t *vmo, vm_page_t *page) TA_REQ(vmo->hier->lock);

/* vmo_release_page_locked as a page_tree_fn (ctx = the VMO, whose lock the caller of the
 * page-tree call holds), charging the work (VMO_WORK_PAGE). */
void vmo_release_page_cb(void *ctx, uint64_t index, vm_page_t *page);

/* True if a copy in flight has page pinned. */
static inline bool vmo_page_pinned(const vm_page_t *page) { return page->object.pins != 0; }

/*
 * A break in a loop whose length the caller (user space) chooses. With the family lock
 * held, at a point where the loop keeps nothing but an index: once the family has done
 * VMO_LOCK_BREAK_WORK units since the last break, lets go of the lock and takes it again,
 * so that the threads waiting for it (faults, reads, other operations of the family) get
 * their turn instead of waiting for the whole operation. Returns
 * ZX_ERR_INTERNAL_INTR_KILLED if the lock was let go and the calling thread has been
 * killed (the loop stops there; what it did stays), else ZX_OK; *broke (may be NULL)
 * says whether the lock was let go, i.e. whether everything read under it must be
 * looked up again.
 */
zx_status_t vmo_lock_break(vmo_t *vmo, bool *broke)
    TA_REQ(vmo->hier->lock);

/* True if the next vmo_lock_break will let go of the lock (for steps that must tidy up
 * before: see vmo_commit). */
static inline bool vmo_lock_break_due(const vmo_t *vmo) TA_REQ(vmo->hier->lock) {
    return vmo->hier->work >= VMO_LOCK_BREAK_WORK;
}

/* Charges `units` of work to vmo's family (see VMO_LOCK_BREAK_WORK). */
static inline void vmo_work(vmo_t *vmo, uint64_t units) TA_REQ(vmo->hier->lock) {
    vmo->hier->work += units;
}

/*
 * Allocates a VMO struct with one reference. hier NULL: a new family of one (its lock
 * and pin list allocated too); otherwise joins that family. NULL if the heap is out.
 */
vmo_t *vmo_alloc(enum vmo_type type, uint32_t options, uint64_t size, paddr_t base,
                 struct vmo_hier *hier);

/* Notes that vmo (PAGED, not a slice) holds a block from one contiguous run: sets
 * large_blocks and the `blocks` hint of every link on it and on its slices. */
void vmo_mark_blocks_locked(vmo_t *vmo) TA_REQ(vmo->hier->lock);

/* Large blocks (vmo_blocks.c). vmo_block_empty_locked: the block at page index `index`
 * lies inside vmo, holds no page of its own, and vmo has no copy-on-write parent.
 * vmo_add_block_locked commits such a block from one contiguous run, with the lock let
 * go for the allocation (the caller rechecks what it read): ZX_OK with the run at *pa;
 * ZX_ERR_NO_MEMORY if the PMM had no run (or the page tree no node); ZX_ERR_NEXT if the
 * block changed meanwhile. Mappings showing the zero page there drop it. */
bool vmo_block_empty_locked(vmo_t *vmo, uint64_t index) TA_REQ(vmo->hier->lock);
zx_status_t vmo_add_block_locked(vmo_t *vmo, uint64_t index, paddr_t *pa)
    TA_REQ(vmo->hier->lock);

/* Tests only (vm_large_ktest.c): hook(vmo) runs while a commit or fault has the VMO lock
 * let go to allocate a block (vmo_ops.c), so a test can change the VMO in that window.
 * NULL removes it. */
void vmo_test_set_block_hook(void (*hook)(vmo_t *vmo));

/* Frees a VMO struct that owns nothing any more, and its family if it was the last. */
void vmo_free_struct(vmo_t *vmo);

/* True if vmo reads through a copy-on-write parent (it was snapshotted or is a snapshot). */
static inline bool vmo_has_cow_parent(const vmo_t *vmo) {
    return vmo->parent != NULL && !(vmo->flags & VMO_FLAG_SLICE);
}

/*
 * Rounds a byte size up to pages. Returns false if the result would exceed VMO_SIZE_MAX
 * (which is page-aligned, so checking the unrounded size first rules out any overflow).
 */
static inline bool vmo_round_size(uint64_t size, uint64_t *rounded) {
    if (size > VMO_SIZE_MAX)
        return false;
    *rounded = ROUNDUP(size, (uint64_t)PAGE_SIZE);
    return true;
}

#endif
