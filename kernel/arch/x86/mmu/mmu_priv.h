/*
 * Internals of the x86-64 page-table engine, shared by the files in this directory.
 *
 * Levels: 3 = PML4, 2 = PDPT, 1 = PD, 0 = PT. An entry of a level-L table maps
 * LEVEL_SIZE(L) bytes: 512 GiB, 1 GiB, 2 MiB, 4 KiB. Large pages exist at L = 2 and 1.
 *
 * Every table page is a vm_page in state MMU whose `mmu` member holds:
 *   level        its level;
 *   nr_children  the number of present entries in it, kept exact by every operation, so
 *                "is this table empty" is one load, never a scan;
 *   refcount     1 for the parent entry (or, for a root, the aspace), +1 for each unified
 *                aspace borrowing it; the page is freed when it drops to 0;
 *   pinned       set on tables that must stay even when empty: a SHARED aspace's
 *                top-level tables and every table adopted from the boot page tables;
 *   lock         reserved for finer-grained locking; today the aspace lock covers all
 *                tables reachable from an aspace's root (a shared table is reached only
 *                through its SHARED aspace for writing).
 *
 * Ranges inside the engine are inclusive [va, last] so the top page of the address space
 * (last = 2^64 - 1) needs no special case.
 *
 * Lock annotations: every helper that walks or changes an aspace's tables takes that
 * aspace as a parameter and requires its lock (TA_REQ(as->lock)); the public calls take the
 * lock themselves and are declared below as excluding it (<arch/mmu.h> cannot say so:
 * arch_aspace_t is opaque there). Clang cannot annotate a structure member as guarded by
 * a sibling member in C, so what the lock guards is written next to each field instead.
 */
#ifndef ARCH_X86_MMU_PRIV_H
#define ARCH_X86_MMU_PRIV_H

#include <arch/mmu.h>
#include <arch/x86/mmu_defs.h>
#include <kernel/assert.h>
#include <kernel/spinlock.h>
#include <lib/list.h>
#include <phys/physmap.h>
#include <phys/vm_page.h>

#include "mmu_hw.h"

#define MMU_LEVELS 4
#define MMU_ROOT_LEVEL 3
#define LEVEL_SHIFT(l) (X86_PT_SHIFT + 9u * (unsigned)(l))
#define LEVEL_SIZE(l) (1ull << LEVEL_SHIFT(l))
#define LEVEL_PAGES(l) (1ull << (9u * (unsigned)(l))) /* 4 KiB pages under one entry */
#define VIDX(va, l) (((uint64_t)(va) >> LEVEL_SHIFT(l)) & (X86_PT_ENTRIES - 1))

/* Bits of a leaf entry that protect() replaces; the address, A, D and G stay. */
#define X86_PTE_PROT_MASK (X86_PTE_W | X86_PTE_U | X86_PTE_NX | X86_PTE_PWT | X86_PTE_PCD)
/* Address bits of a large entry at level l (bit 12 of a large entry is PAT). */
#define LARGE_ADDR_MASK(l) (X86_PTE_ADDR_MASK & ~(LEVEL_SIZE(l) - 1))

/* Canonical 48-bit addresses: bits 63..47 all equal. */
#define USER_HALF_END (1ull << 47)
#define KERNEL_HALF_BASE 0xffff800000000000ull

/* The MMIO window (arch_mmio_map, mmio.c): the first GiB of PML4 slot 511, far below the
 * kernel image at its top 2 GiB (docs/architecture.md, "Memory map"). */
#define MMIO_WINDOW_BASE 0xffffff8000000000ull
#define MMIO_WINDOW_END (MMIO_WINDOW_BASE + (1ull << 30))

struct arch_aspace {
    /* Guards the tables reachable from root (a unified aspace's are its parts'), the
     * fields marked "lock" and a SHARED aspace's unified_users. Everything else is fixed
     * once the aspace is created. */
    spinlock_t lock;
    enum arch_aspace_role role;
    bool is_kernel;    /* in the kernel half: no user entries (the kernel aspace: leaf_global) */
    vaddr_t base;      /* first byte */
    vaddr_t last;      /* last byte (inclusive) */
    unsigned top_first, top_last; /* PML4 slots the range touches */
    paddr_t root_pa;
    uint64_t *root;    /* through the physmap */
    vm_page_t *root_page;
    uint64_t table_flags; /* bits of a non-leaf entry: P | W (| U for user aspaces) */
    uint64_t leaf_global; /* G for the kernel aspace (the one every CPU holds), else 0 */
    size_t table_pages; /* lock */
    arch_cpu_set_t active_cpus; /* CPUs on which this aspace's tables are live (atomic) */
    /* Role links: a RESTRICTED aspace's unified aspace (lock); a UNIFIED aspace's parts
     * (fixed); the number of unified aspaces borrowing a SHARED aspace (lock). */
    struct arch_aspace *unified;
    struct arch_aspace *shared;
    struct arch_aspace *restricted;
    uint32_t unified_users;
};

/*
 * The public calls of <arch/mmu.h> that take an aspace lock, with the annotation the
 * opaque type there cannot carry: the caller must not hold it (they take it themselves).
 * A call on a unified aspace takes the lock of the part it works on (query) or of both
 * parts (destroy), named here too.
 */
zx_status_t arch_mmu_create_unified(arch_aspace_t *shared, arch_aspace_t *restricted,
                                    arch_aspace_t **out) TA_EXCL(shared->lock, restricted->lock);
zx_status_t arch_mmu_destroy(arch_aspace_t *as)
    TA_EXCL(as->lock, as->shared->lock, as->restricted->lock);
zx_status_t arch_mmu_map(arch_aspace_t *as, vaddr_t vaddr, const paddr_t *phys, size_t count,
                         uint32_t flags, enum arch_existing_action existing, size_t *mapped)
    TA_EXCL(as->lock);
zx_status_t arch_mmu_map_contiguous(arch_aspace_t *as, vaddr_t vaddr, paddr_t paddr,
                                    size_t count, uint32_t flags, size_t *mapped)
    TA_EXCL(as->lock);
zx_status_t arch_mmu_unmap(arch_aspace_t *as, vaddr_t vaddr, size_t count,
                           enum arch_unmap_enlarge enlarge, size_t *unmapped) TA_EXCL(as->lock);
zx_status_t arch_mmu_protect(arch_aspace_t *as, vaddr_t vaddr, size_t count, uint32_t flags)
    TA_EXCL(as->lock);
zx_status_t arch_mmu_query(arch_aspace_t *as, vaddr_t vaddr, paddr_t *paddr, uint32_t *flags,
                           size_t *page_size)
    TA_EXCL(as->lock, as->shared->lock, as->restricted->lock);
zx_status_t arch_mmu_harvest_accessed(arch_aspace_t *as, vaddr_t vaddr, size_t count,
                                      enum arch_harvest_action action, arch_harvest_cb cb,
                                      void *ctx, size_t *freed_tables) TA_EXCL(as->lock);
size_t arch_mmu_table_pages(arch_aspace_t *as) TA_EXCL(as->lock);
void arch_mmu_dump(arch_aspace_t *as, vaddr_t vaddr, size_t size)
    TA_EXCL(as->lock, as->shared->lock, as->restricted->lock);
void arch_mmu_dump_leaves(arch_aspace_t *as, vaddr_t vaddr, size_t size, unsigned indent,
                          arch_mmu_gap_note_fn note, void *ctx)
    TA_EXCL(as->lock, as->shared->lock, as->restricted->lock);

/*
 * Consistency manager: collects what one operation must do to the TLBs and which table
 * pages it freed. Up to MMU_CM_MAX_PENDING single-page invalidations are remembered;
 * beyond that, or for any top-level or large-scale change, the whole TLB is flushed.
 * mmu_cm_finish() (aspace lock held) performs the invalidation; mmu_cm_free_pages()
 * (after the lock is dropped) returns the collected table pages to the PMM, so a page is
 * never reused while a stale TLB or paging-structure-cache entry may still point at it.
 */
#define MMU_CM_MAX_PENDING 32

struct mmu_cm {
    uint32_t npending;
    bool full_flush;
    vaddr_t pending[MMU_CM_MAX_PENDING];
    struct list_node to_free;
};

static inline void mmu_cm_init(struct mmu_cm *cm) {
    cm->npending = 0;
    cm->full_flush = false;
    list_init(&cm->to_free);
}

/* One translation (a 4 KiB page, or one whole large page) changed. */
static inline void mmu_cm_page(struct mmu_cm *cm, vaddr_t va) {
    if (cm->npending < MMU_CM_MAX_PENDING)
        cm->pending[cm->npending++] = va;
    else
        cm->full_flush = true;
}

/*
 * The same bookkeeping for a hot loop: the loop keeps the pending count and the
 * full-flush decision in locals (registers) and writes them back with mmu_cm_sync().
 */
struct mmu_cm_local {
    uint32_t npending;
    bool full;
};
static inline struct mmu_cm_local mmu_cm_local_begin(const struct mmu_cm *cm) {
    return (struct mmu_cm_local){cm->npending, cm->full_flush};
}
static inline void mmu_cm_local_page(struct mmu_cm *cm, struct mmu_cm_local *l, vaddr_t va) {
    if (l->full)
        return;
    if (l->npending < MMU_CM_MAX_PENDING)
        cm->pending[l->npending++] = va;
    else
        l->full = true;
}
static inline void mmu_cm_sync(struct mmu_cm *cm, const struct mmu_cm_local *l) {
    cm->npending = l->npending;
    cm->full_flush = l->full;
}

/* Many translations changed at once (a whole table went away, or a top-level entry). */
static inline void mmu_cm_flush_all(struct mmu_cm *cm) { cm->full_flush = true; }

/* Performs the invalidations cm collected for as (whose lock the caller holds). */
void mmu_cm_finish(struct arch_aspace *as, struct mmu_cm *cm) TA_REQ(as->lock);
/* Returns the table pages cm collected to the PMM; called after the lock is dropped. */
void mmu_cm_free_pages(struct mmu_cm *cm);

/* ---- entries and tables ---- */

static inline bool pte_present(uint64_t e) { return e & X86_PTE_P; }
static inline bool pte_large(uint64_t e) { return e & X86_PTE_PS; }
static inline uint64_t *pte_table(uint64_t e) {
    return paddr_to_physmap(e & X86_PTE_ADDR_MASK);
}
static inline vm_page_t *pte_table_page(uint64_t e) {
    return paddr_to_vm_page(e & X86_PTE_ADDR_MASK);
}

/*
 * Entry updates and the bits the hardware sets. A CPU's page walker sets Accessed (and, on
 * a write, Dirty) in present entries at any time, with a locked operation, also while
 * another CPU holds the aspace lock. A change that keeps a translation (protect, split)
 * therefore writes with a compare-exchange or exchange so such a bit is never lost;
 * stores that install a new translation or clear an entry (map, unmap) discard the old
 * entry's bits with it, which nothing reads.
 */

/*
 * Sets the protection bits (X86_PTE_PROT_MASK) of the present leaf *p, which held `e`
 * when the caller read it, to `bits`, keeping everything else, A and D included. Returns
 * false, writing nothing, when they already are `bits`.
 */
static inline bool pte_set_prot(uint64_t *p, uint64_t e, uint64_t bits) {
    for (;;) {
        uint64_t ne = (e & ~X86_PTE_PROT_MASK) | bits;
        if (ne == e)
            return false;
        mmu_hw_walker_window(p);
        if (__atomic_compare_exchange_n(p, &e, ne, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return true;
    }
}

/* Last byte covered by the level-l entry containing va, clipped to `last`. */
static inline vaddr_t entry_last(vaddr_t va, unsigned l, vaddr_t last) {
    vaddr_t e = va | (LEVEL_SIZE(l) - 1);
    return e < last ? e : last;
}

/* Allocates a zeroed table page for `level` (refcount 1). NO_MEMORY on failure. */
zx_status_t mmu_table_alloc(struct arch_aspace *as, unsigned level, paddr_t *pa)
    TA_REQ(as->lock);

/*
 * Links a new child table into table[idx] (a level-`level` table), mirroring top-level
 * changes into a unified aspace.
 */
void mmu_link_child(struct arch_aspace *as, uint64_t *table, vm_page_t *tpage, unsigned level,
                    unsigned idx, paddr_t child_pa) TA_REQ(as->lock);

/*
 * Clears table[idx], which points at child table `child`, drops the child's reference
 * and queues it for freeing when that was the last one.
 */
void mmu_unlink_child(struct arch_aspace *as, struct mmu_cm *cm, uint64_t *table,
                      vm_page_t *tpage, unsigned level, unsigned idx, vm_page_t *child)
    TA_REQ(as->lock);

/* Drops one reference to a table page; queues it on cm (or frees it if cm is NULL). */
void mmu_table_release(struct arch_aspace *as, struct mmu_cm *cm, vm_page_t *page)
    TA_REQ(as->lock);

/*
 * A SHARED aspace's pinned top-level tables: mmu_pin_top_tables allocates and links one
 * per root slot of the aspace's range (NO_MEMORY leaves those allocated so far linked),
 * mmu_unpin_top_tables unlinks and frees every one present (each must be empty). `as` is
 * unreachable (being created or freed), so no lock is taken. They live beside the table
 * helpers so that the per-slot allocation, link and release are inlined: a family's
 * creation and teardown pin and unpin 128 slots.
 */
zx_status_t mmu_pin_top_tables(struct arch_aspace *as);
void mmu_unpin_top_tables(struct arch_aspace *as);

/*
 * Replaces the large page at table[idx] (level 1 or 2) by a table of 512 entries that map
 * the same memory with the same attributes. NO_MEMORY leaves it unchanged.
 */
zx_status_t mmu_split_large(struct arch_aspace *as, struct mmu_cm *cm, uint64_t *table,
                            unsigned level, unsigned idx, vaddr_t va) TA_REQ(as->lock);

/* Frees empty, unpinned tables under table for [va, last] (a failed map's cleanup). */
void mmu_prune(struct arch_aspace *as, struct mmu_cm *cm, uint64_t *table, vm_page_t *tpage,
               unsigned level, vaddr_t va, vaddr_t last) TA_REQ(as->lock);

/* Unmap core (unmap.c), also used to roll back a failed map. */
zx_status_t mmu_unmap_locked(struct arch_aspace *as, struct mmu_cm *cm, vaddr_t va,
                             vaddr_t last, enum arch_unmap_enlarge enlarge, size_t *unmapped)
    TA_REQ(as->lock);

/*
 * Unmap and protect take a range of the caller's choice while the aspace lock keeps
 * interrupts off, so they work in batches: each hold of the lock handles at most
 * MMU_BATCH_UNITS last-level tables or large pages (a table is up to 512 entries: a batch
 * stays within some 40,000 instructions), then the walk stops where it got to and reports
 * MMU_BATCH_PAUSED (never returned to callers), the lock is dropped, and the next batch
 * starts from there.
 */
#define MMU_BATCH_UNITS 4u
#define MMU_BATCH_PAUSED ZX_ERR_SHOULD_WAIT

/*
 * Validates (vaddr, count) against the aspace: INVALID_ARGS for unaligned, zero or
 * non-canonical, OUT_OF_RANGE outside [base, last]. On success *last_out = last byte.
 */
zx_status_t mmu_check_range(const struct arch_aspace *as, vaddr_t vaddr, size_t count,
                            vaddr_t *last_out);

/* The checks every modifying call starts with: NOT_SUPPORTED on a unified aspace (it
 * never maps directly), then mmu_check_range. */
zx_status_t mmu_check_modify(const struct arch_aspace *as, vaddr_t vaddr, size_t count,
                             vaddr_t *last_out);

/*
 * The dump's merge rule (dump.c): whether leaf entry e of `level`, mapping virtual
 * address va, continues the run of leaves that starts at run_start with entry `first`
 * and ends at run_end: it follows the run directly, its physical address is the run's
 * advanced by va - run_start, and every other bit but accessed and dirty is the same.
 */
bool mmu_leaf_run_continues(uint64_t first, vaddr_t run_start, vaddr_t run_end,
                            unsigned level, uint64_t e, vaddr_t va);

#ifdef BERYL_HOST
/* Host tests: makes a new kernel-half aspace play the kernel aspace (arch_mmu_init's role
 * in the kernel): global leaves, every change invalidated on every CPU. */
void mmu_host_set_kernel_aspace(arch_aspace_t *as);
#endif

/* ARCH_MMU flags -> leaf entry bits (without P, PS or address), and back. */
zx_status_t mmu_flags_to_pte(const struct arch_aspace *as, uint32_t flags, uint64_t *bits);
uint32_t mmu_pte_to_flags(uint64_t e);

#endif
