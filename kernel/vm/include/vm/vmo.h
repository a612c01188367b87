/*
 * VMOs: memory objects that mappings and (later) syscalls refer to.
 *
 *   PAGED       pages held sparsely in a page_tree and committed lazily (zero-filled);
 *   CONTIGUOUS  one physically contiguous run, committed and pinned at creation;
 *   PHYSICAL    a caller-given physical range (device memory); owns no pages; its cache
 *               policy may be changed while it is not mapped.
 *
 * Lifetime: refcounted (vmo_ref/vmo_unref); the last unref frees every page it owns.
 * Mappings hold a reference. Sizes are page-rounded; `size` arguments that are not
 * page-aligned are rounded up, and rounding past 2^64 is ZX_ERR_OUT_OF_RANGE.
 *
 * Mapping tracking: every mapping of a VMO registers a `struct vmo_mapping_link` whose ops
 * the VMO calls, with the VMO lock held, when pages under the mapping go away or change:
 * decommit, zero, shrink, and also commit (a read fault may have mapped the shared zero
 * page there, which must not hide the newly committed page). The mapping must then remove
 * those translations from its address space before the VMO frees or reuses the pages.
 *
 * Locking: each VMO family (a VMO and all children made from it, see vmo_create_child)
 * shares one mutex; it is taken inside any aspace lock (aspace -> vmo), and the mapping
 * ops are called with it held (they take only the MMU's locks). A mapping of a slice is
 * told about changes made through the slice's parent too.
 */
#ifndef VM_VMO_H
#define VM_VMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <kernel/types.h>
#include <lib/list.h>

typedef struct vmo vmo_t;

enum vmo_type {
    VMO_TYPE_PAGED,
    VMO_TYPE_CONTIGUOUS,
    VMO_TYPE_PHYSICAL,
};

#define VMO_OPT_RESIZABLE (1u << 0)
#define VMO_OPT_DISCARDABLE (1u << 1) /* vmo_create_paged only; not with RESIZABLE */

/* Cache policies; values match ZX_CACHE_POLICY_*. */
#define VMO_CACHE_CACHED 0u
#define VMO_CACHE_UNCACHED 1u
#define VMO_CACHE_UNCACHED_DEVICE 2u
#define VMO_CACHE_WRITE_COMBINING 3u

/* Largest VMO size: the page-rounded size must fit in 2^63 (keeps offset math safe). */
#define VMO_SIZE_MAX (1ull << 63)

/*
 * Deepest copy-on-write chain: the hidden nodes a snapshot or its parent may read
 * through. Every lookup walks them, so vmo_create_child refuses (ZX_ERR_OUT_OF_RANGE) a
 * snapshot that would go deeper (docs/syscalls.md, "Copy-on-write depth").
 */
#define VMO_COW_DEPTH_MAX 1024u

/*
 * Large pages (docs/architecture.md, "Large pages"): a commit of a whole aligned block
 * of VM_LARGE_PAGE_SIZE bytes of a paged VMO takes one physically contiguous, aligned
 * run when the PMM has one, and mappings map physically contiguous, aligned blocks of
 * any VMO with one large entry. The kernel option vm.large_pages says how far it goes:
 *   false   neither;
 *   true    commits and mappings (the default);
 *   fault   also the first write fault in an untouched block of a paged VMO of at least
 *           VM_LARGE_FAULT_MIN_VMO bytes commits the whole block, while at least
 *           1/VM_LARGE_FAULT_FREE_SHARE of memory stays free.
 */
#define VM_LARGE_PAGE_SHIFT 21u
#define VM_LARGE_PAGE_SIZE (1ull << VM_LARGE_PAGE_SHIFT)
#define VM_LARGE_PAGES (VM_LARGE_PAGE_SIZE >> PAGE_SHIFT)
#define VM_LARGE_PAGES_OPTION "vm.large_pages"
#define VM_LARGE_FAULT_MIN_VMO (4ull << 20)
#define VM_LARGE_FAULT_FREE_SHARE 8u

enum vm_large_policy {
    VM_LARGE_OFF,
    VM_LARGE_ON,    /* commits and mappings */
    VM_LARGE_FAULT, /* also write faults */
};

/* Whether commits and mappings use large blocks (policy not OFF). */
bool vmo_large_pages_enabled(void);
enum vm_large_policy vmo_large_policy(void);
void vmo_set_large_policy(enum vm_large_policy policy);

struct vmo_mapping_link;
struct vmo_mapping_ops {
    /* Translations for VMO offsets [offset, offset + len) must be removed now. */
    void (*unmap_range)(struct vmo_mapping_link *link, uint64_t offset, uint64_t len);
};
struct vmo_mapping_link {
    struct list_node node;              /* on the VMO's mapping list */
    const struct vmo_mapping_ops *ops;
    uint64_t vmo_offset;                /* the part of the VMO the mapping covers */
    uint64_t len;
    /* Which of the mapping's faults try large blocks (enum vmo_block_hint): set when
     * the link is added and when the VMO gets its first block; read without the lock
     * (a hint that keeps the one-page fault path to one test). */
    uint8_t blocks;
};

/* Creation. ZX_ERR_INVALID_ARGS for bad options, ZX_ERR_OUT_OF_RANGE for a size that
 * rounds past VMO_SIZE_MAX, ZX_ERR_NO_MEMORY. A paged VMO of size 0 is allowed. */
zx_status_t vmo_create_paged(uint64_t size, uint32_t options, vmo_t **out);
zx_status_t vmo_create_contiguous(uint64_t size, uint8_t align_log2, vmo_t **out);
zx_status_t vmo_create_physical(paddr_t base, uint64_t size, vmo_t **out);

void vmo_ref(vmo_t *vmo);
void vmo_unref(vmo_t *vmo);

enum vmo_type vmo_type(const vmo_t *vmo);
uint64_t vmo_size(const vmo_t *vmo);
bool vmo_is_resizable(const vmo_t *vmo);
/* Pages the VMO itself owns: not an ancestor's it shows, none for a slice. */
size_t vmo_committed_pages(const vmo_t *vmo);
uint32_t vmo_cache_policy(const vmo_t *vmo);

/*
 * Changes the size (resizable paged VMOs only: ZX_ERR_UNAVAILABLE otherwise). Shrinking
 * removes the translations past the new end from every mapping, then frees those pages
 * (work ~ pages committed there, in the VMO and in ancestors only it could see).
 */
zx_status_t vmo_set_size(vmo_t *vmo, uint64_t size);

/*
 * Range operations on [offset, offset + len): offset and len need not be page-aligned;
 * the covered pages are affected. Range past the size (or overflowing) ->
 * ZX_ERR_OUT_OF_RANGE. commit allocates every missing page (NO_MEMORY: pages committed so
 * far stay committed). decommit removes the pages from every mapping, then frees them
 * (ZX_ERR_NOT_SUPPORTED for contiguous and physical VMOs, and for copy-on-write ones: see
 * vmo_create_child). zero makes the range read as zeros (whole pages are decommitted,
 * partial pages cleared; on a copy-on-write VMO, pages showing an ancestor's content get
 * private zeroed copies, so it may fail with NO_MEMORY). commit on a copy-on-write VMO
 * makes private copies of what it shows.
 * Cost: decommit and zero visit only the pages that exist in the range (the VMO's and,
 * copy-on-write, its ancestors'), commit those plus the pages it allocates, never every
 * index of the range; all three let go of the VMO lock between steps, and return
 * ZX_ERR_INTERNAL_INTR_KILLED if the calling thread was killed meanwhile (what was done
 * stays; the thread dies before user space could see the status). A VMO that shrinks
 * meanwhile ends them with OUT_OF_RANGE.
 */
zx_status_t vmo_commit(vmo_t *vmo, uint64_t offset, uint64_t len);
zx_status_t vmo_decommit(vmo_t *vmo, uint64_t offset, uint64_t len);
zx_status_t vmo_zero(vmo_t *vmo, uint64_t offset, uint64_t len);

/*
 * read/write through a copy callback so the syscall layer can use user-copy routines:
 * copy(ctx, done, kptr, n) moves n bytes between the caller's buffer at byte `done` and
 * the kernel pointer kptr (read: kptr -> caller; write: caller -> kptr) and returns ZX_OK
 * or an error that aborts the operation. A read of an uncommitted page reads zeros
 * without committing it; a write commits. OUT_OF_RANGE as above; NO_MEMORY.
 */
typedef zx_status_t (*vmo_copy_fn)(void *ctx, size_t done, void *kptr, size_t n);
zx_status_t vmo_read(vmo_t *vmo, uint64_t offset, size_t len, vmo_copy_fn copy, void *ctx);
zx_status_t vmo_write(vmo_t *vmo, uint64_t offset, size_t len, vmo_copy_fn copy,
                      void *ctx);

/* Physical VMOs only, and only while unmapped (ZX_ERR_BAD_STATE); INVALID_ARGS for an
 * unknown policy; NOT_SUPPORTED for other types. */
zx_status_t vmo_set_cache_policy(vmo_t *vmo, uint32_t policy);

/*
 * For page faults: the physical page backing `offset` (page-aligned, < size).
 * for_write: commit (allocate a zeroed page) if needed. Otherwise an uncommitted page of
 * a paged VMO is reported as the shared zero page with *writable = false (the mapping
 * must map it read-only, and a later write fault commits). On a copy-on-write VMO a page
 * it shows from an ancestor is returned with *writable = false too, and for_write gives
 * it a private copy first. ZX_ERR_OUT_OF_RANGE past the size; ZX_ERR_NO_MEMORY.
 */
zx_status_t vmo_get_page(vmo_t *vmo, uint64_t offset, bool for_write, paddr_t *pa,
                         bool *writable);
/* vmo_get_page drops the VMO lock before it returns, so the page may be decommitted and
 * freed at any moment after: only for VMOs whose pages cannot go away (contiguous ones,
 * tests). Page faults use vmo_fault_page. */

/*
 * As vmo_get_page, then map(ctx, pa, writable) with the VMO lock still held, so the page
 * cannot be decommitted, moved or freed before it is mapped: a decommit that runs after
 * the lock is released sees the new translation through the mapping's link and removes
 * it first. map may take MMU locks and allocate, but must not call into this VMO's
 * family. Returns vmo_get_page's errors or map's.
 */
typedef zx_status_t (*vmo_map_fn)(void *ctx, paddr_t pa, bool writable);
zx_status_t vmo_fault_page(vmo_t *vmo, uint64_t offset, bool for_write, vmo_map_fn map,
                           void *ctx);

/*
 * Calls fn(ctx, offset, pa) for each committed page with offset in [offset, offset+len)
 * in increasing order (for MAP_RANGE); stops early and returns fn's error. A
 * copy-on-write VMO reports only its own pages (ancestors' must be mapped read-only).
 */
typedef zx_status_t (*vmo_page_fn)(void *ctx, uint64_t offset, paddr_t pa);
zx_status_t vmo_for_each_committed(vmo_t *vmo, uint64_t offset, uint64_t len,
                                   vmo_page_fn fn, void *ctx);

/*
 * The same walk in runs: fn(ctx, offset, pa, n) gets up to VMO_RUN_MAX consecutive
 * committed pages at once (offsets offset, offset + 4K, ...), for bulk consumers like
 * MAP_RANGE that hand whole runs to the MMU. Same locking and errors as above.
 */
#define VMO_RUN_MAX 64u
typedef zx_status_t (*vmo_run_fn)(void *ctx, uint64_t offset, const paddr_t *pa, size_t n);
zx_status_t vmo_for_each_committed_run(vmo_t *vmo, uint64_t offset, uint64_t len,
                                       vmo_run_fn fn, void *ctx);

/*
 * The same walk in physically contiguous extents: fn(ctx, offset, pa, n) gets n (>= 1)
 * committed pages at offsets offset, offset + 4K, ... backed by pa, pa + 4K, ... Each
 * extent is as long as the pages allow (a CONTIGUOUS or PHYSICAL VMO gives the whole
 * range as one extent), so a consumer can map aligned stretches of it with large
 * entries. After the last extent, fn(ctx, 0, 0, 0) (n 0) lets the consumer finish what
 * it batched while the pages still cannot go away. Same locking and errors as above; fn
 * runs with the VMO lock held and must bound its own work per call with interrupts off
 * (an extent may be huge).
 */
typedef zx_status_t (*vmo_extent_fn)(void *ctx, uint64_t offset, paddr_t pa, uint64_t n);
zx_status_t vmo_for_each_extent(vmo_t *vmo, uint64_t offset, uint64_t len, vmo_extent_fn fn,
                                void *ctx);

/*
 * When vmo_fault_block can succeed for vmo (a hint, read without the lock: the fault
 * path asks it before paying for vmo_fault_block): for any fault on a CONTIGUOUS or
 * PHYSICAL VMO, or a PAGED one that a commit once gave a block from one contiguous run;
 * only for write faults on a paged one the FAULT policy may give blocks to; never
 * otherwise.
 */
enum vmo_block_hint {
    VMO_BLOCKS_NONE,
    VMO_BLOCKS_ON_WRITE,
    VMO_BLOCKS_ANY,
};
enum vmo_block_hint vmo_block_hint(const vmo_t *vmo);

/*
 * For a page fault that could map a whole large page: if [offset, offset +
 * VM_LARGE_PAGE_SIZE) (offset aligned to it) lies inside the VMO and is backed by one
 * physically contiguous run aligned to VM_LARGE_PAGE_SIZE, all of it this VMO's own
 * committed pages (not an ancestor's), calls map(ctx, pa) with the VMO lock held (as
 * vmo_fault_page does) and returns its status. Under the FAULT policy a write fault
 * (for_write) in an empty block commits it from one run first (the lock is let go for
 * the allocation). ZX_ERR_NEXT, with nothing done, if the block does not qualify (the
 * caller then faults one page).
 */
typedef zx_status_t (*vmo_map_block_fn)(void *ctx, paddr_t pa);
zx_status_t vmo_fault_block(vmo_t *vmo, uint64_t offset, bool for_write, vmo_map_block_fn map,
                            void *ctx);

/* Mapping registration (the link's ops get called as described above). */
void vmo_add_mapping(vmo_t *vmo, struct vmo_mapping_link *link);
void vmo_remove_mapping(vmo_t *vmo, struct vmo_mapping_link *link);

/*
 * The VMO calls unmap_range with its lock held and without the mapping's aspace lock, so
 * the link's window (vmo_offset, len) and whatever unmap_range reads to turn offsets into
 * addresses must not change under it. A mapping changes them only between
 * vmo_lock_mappings and vmo_unlock_mappings (the VMO's lock; taken inside the aspace
 * lock, never around a call into the VMO).
 */
void vmo_lock_mappings(vmo_t *vmo);
void vmo_unlock_mappings(vmo_t *vmo);
size_t vmo_mapping_count(const vmo_t *vmo);

/*
 * Children (vmo_child.c). Option values match ZX_VMO_CHILD_*. Exactly one of
 * SNAPSHOT, SNAPSHOT_AT_LEAST_ON_WRITE and SLICE (else ZX_ERR_INVALID_ARGS; unknown bits
 * too; so is NO_WRITE together with RESIZABLE). The child starts with one reference and is independent of the caller's reference
 * on the parent.
 *
 *   SLICE      a window onto [offset, offset + size) of the parent: both see the same
 *              pages, every operation on the slice acts on the parent at offset.
 *              offset not page-aligned or RESIZABLE given -> INVALID_ARGS; resizable
 *              parent -> NOT_SUPPORTED; offset + size overflowing -> OUT_OF_RANGE; a
 *              range past the parent's end -> INVALID_ARGS (as in Zircon). A slice of
 *              a slice is a slice of the original. vmo_committed_pages(slice) is 0.
 *   SNAPSHOT   (and SNAPSHOT_AT_LEAST_ON_WRITE, which gets the same, stronger, semantics)
 *              a copy-on-write copy of the parent's content from offset at creation;
 *              afterwards neither sees the other's writes. size may reach past the
 *              parent's end (that part reads as zeros). Paged parents only, and not
 *              slices (NOT_SUPPORTED); offset not page-aligned -> INVALID_ARGS; offset +
 *              size past VMO_SIZE_MAX -> OUT_OF_RANGE; the parent already reads through
 *              VMO_COW_DEPTH_MAX hidden nodes -> OUT_OF_RANGE. Every mapping of the parent loses
 *              its translations at creation (write faults then copy). vmo_decommit on
 *              either VMO afterwards -> NOT_SUPPORTED (while it reads through a parent).
 *   RESIZABLE  the child may be resized (snapshots only).
 *   NO_WRITE   only recorded (vmo_child_no_write); rights are the syscall layer's.
 * ZX_ERR_NO_MEMORY, with nothing changed.
 */
#define VMO_CHILD_SNAPSHOT (1u << 0)
#define VMO_CHILD_RESIZABLE (1u << 2)
#define VMO_CHILD_SLICE (1u << 3)
#define VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE (1u << 4)
#define VMO_CHILD_NO_WRITE (1u << 5)
zx_status_t vmo_create_child(vmo_t *parent, uint32_t options, uint64_t offset,
                             uint64_t size, vmo_t **out);
bool vmo_child_no_write(const vmo_t *vmo);

/*
 * The identity user space knows the VMO by: the koid of the VMO object that first wrapped
 * it (kernel/vmsys; 0 for a VMO only the kernel uses) and its ZX_PROP_NAME, which live
 * here rather than in the wrapper so that mappings, which see only the vmo_t, can
 * report them (ZX_INFO_PROCESS_MAPS / PROCESS_VMOS). The koid is set once (later calls
 * are ignored); the name is NUL-padded to VMO_NAME_LEN bytes, guarded by the VMO lock.
 */
#define VMO_NAME_LEN 32
void vmo_set_koid(vmo_t *vmo, uint64_t koid);
uint64_t vmo_koid(const vmo_t *vmo);
void vmo_get_name(vmo_t *vmo, char out[VMO_NAME_LEN]);

/*
 * Origin tags, for diagnostics: where a VMO's bytes came from, so the user fault report
 * can tell which boot module's program is mapped at a user pc (kernel/proc/
 * fault_report.c). vmo_set_origin marks vmo, just created and not yet shared with anyone,
 * as holding the bytes of origin `tag` (nonzero, the caller's numbering) from its offset
 * 0. Every child vmo_create_child makes (slice or copy-on-write) inherits its parent's
 * tag, its offset 0 standing at the parent's origin offset plus the child's offset.
 * Set once at creation and never changed, so read without a lock. vmo_origin returns the
 * tag (0: none) and, when nonzero, writes the origin offset of vmo's offset 0 to *offset.
 * A child's own writes do not clear the tag: the bytes may since differ from the origin.
 */
void vmo_set_origin(vmo_t *vmo, uint32_t tag);
uint32_t vmo_origin(const vmo_t *vmo, uint64_t *offset);
/* Copies name[0 .. len), cut at the first NUL and at VMO_NAME_LEN - 1 bytes. */
void vmo_set_name(vmo_t *vmo, const char *name, size_t len);

/*
 * Discardable VMOs (kernel/vm/vmo_discard.c; docs/architecture.md, "Discardable VMOs").
 * A VMO created with VMO_OPT_DISCARDABLE starts unlocked; while unlocked the kernel may
 * discard all its pages to satisfy an allocation that would otherwise fail. A discarded
 * VMO has no pages, and reads, writes, commits and faults of it fail with
 * ZX_ERR_NOT_FOUND until it is locked again.
 *
 * vmo_discardable_lock: [offset, offset + len) must be the whole VMO (else
 * ZX_ERR_OUT_OF_RANGE); a VMO that is not discardable is ZX_ERR_NOT_SUPPORTED. Counts one
 * more lock (locks nest) and clears the discarded state; *out (may be NULL) gets the
 * range and, if the VMO had been discarded, the whole VMO as the discarded range (else
 * 0, 0). try_only: a discarded VMO stays so and the call fails with ZX_ERR_UNAVAILABLE.
 * vmo_discardable_unlock: the same checks; ZX_ERR_BAD_STATE if it is not locked.
 * vmo_reclaim_discardable: discards the unlocked VMOs unlocked longest ago until at least
 * one page is freed or none is left; returns the pages freed. Takes VMO locks: the
 * caller holds none (an aspace lock is fine). vmo_discardable_bytes: the committed bytes
 * of discardable VMOs, locked and unlocked.
 */
struct vmo_lock_state {
    uint64_t offset;
    uint64_t size;
    uint64_t discarded_offset;
    uint64_t discarded_size;
};
bool vmo_is_discardable(const vmo_t *vmo);
zx_status_t vmo_discardable_lock(vmo_t *vmo, uint64_t offset, uint64_t len, bool try_only,
                                 struct vmo_lock_state *out);
zx_status_t vmo_discardable_unlock(vmo_t *vmo, uint64_t offset, uint64_t len);
size_t vmo_reclaim_discardable(void);
void vmo_discardable_bytes(uint64_t *locked, uint64_t *unlocked);

/*
 * Memory attribution of [offset, offset + len) of vmo (clipped to its size), the three
 * measures of ZX_INFO_VMO (kernel/vm/vmo_attr.c): `bytes`, every committed page the range
 * reads (ancestor pages a copy-on-write VMO reads through included); `private_bytes`,
 * those no other VMO reads; `scaled_bytes` + scaled_fraction / VMO_ATTR_FRACTION_ONE,
 * each page counted PAGE_SIZE / (number of VMOs reading it). A slice reports its parent's
 * pages in its window; a physical VMO reports 0. Takes the family lock (letting go of it
 * between steps); never fails.
 */
#define VMO_ATTR_FRACTION_ONE (1ull << 63)
struct vmo_attribution {
    uint64_t bytes;
    uint64_t private_bytes;
    uint64_t scaled_bytes;
    uint64_t scaled_fraction;
};
void vmo_get_attribution(vmo_t *vmo, uint64_t offset, uint64_t len,
                         struct vmo_attribution *out);

/* Committed pages in [offset, offset + len) (clipped to the size) that this VMO's walk
 * reports (vmo_for_each_committed: its own pages; a slice's parent's). */
size_t vmo_committed_pages_in(vmo_t *vmo, uint64_t offset, uint64_t len);

/* The shared zero page (read-only mappings of uncommitted memory point at it). */
paddr_t vmo_zero_page_paddr(void);
void vmo_zero_page_init(void);

#endif
