/*
 * Tables and entries: the bookkeeping every operation shares. Allocating, linking,
 * unlinking and releasing table pages (with top-level mirroring into unified aspaces and
 * the reference counts), splitting a large page, pruning empty tables, converting between
 * ARCH_MMU flags and entry bits, and the consistency manager that collects an operation's
 * TLB invalidations and freed tables.
 */
#include <arch/irq.h>
#include <phys/pmm.h>

#include "mmu_priv.h"

/* ---- consistency manager ---- */

/* What one batch invalidates, on whichever CPU runs it (an arch_ipi_call body too). */
struct mmu_cm_flush {
    const struct mmu_cm *cm;
    bool global;
};

static void cm_flush_here(void *arg) {
    const struct mmu_cm_flush *f = arg;
    if (f->cm->full_flush) {
        mmu_hw_flush_all(f->global);
    } else {
        for (uint32_t i = 0; i < f->cm->npending; i++)
            mmu_hw_invlpg(f->cm->pending[i]);
    }
}

/*
 * Invalidates the batch on every CPU that may hold the aspace's translations: all of
 * them for the kernel aspace (its leaves are global), else those in its active mask, and
 * waits for them, so
 * that mmu_cm_free_pages() runs only once no CPU can still use a freed table or page.
 * (A CPU that loads the aspace after the mask was read loads a fresh root and sees the
 * new entries.)
 */
void mmu_cm_finish(struct arch_aspace *as, struct mmu_cm *cm) {
    if (cm->full_flush || cm->npending > 0) {
        /* The entry stores above must be visible before the mask is read: a CPU that sets
         * its bit (a locked operation) and then loads the root either is seen here or
         * walks the new entries. x86 may otherwise let this load pass those stores. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        bool everywhere = as->leaf_global != 0;
        arch_cpu_set_t targets = everywhere ? mmu_hw_cpus_running()
                                            : __atomic_load_n(&as->active_cpus, __ATOMIC_ACQUIRE);
        struct mmu_cm_flush f = {.cm = cm, .global = everywhere};
        if ((targets & ~mmu_hw_cpu_bit()) == 0) {
            if (targets != 0)
                cm_flush_here(&f);
        } else {
            mmu_hw_ipi_call(targets, cm_flush_here, &f);
        }
    }
    cm->npending = 0;
    cm->full_flush = false;
}

void mmu_cm_free_pages(struct mmu_cm *cm) {
    struct list_node *n;
    while ((n = list_remove_head(&cm->to_free)) != NULL) {
        vm_page_t *p = containerof(n, vm_page_t, node);
        DEBUG_ASSERT(p->state == VM_PAGE_STATE_MMU && p->mmu.refcount == 0);
        pmm_free_page(p);
    }
}

/* ---- tables ---- */

zx_status_t mmu_table_alloc(struct arch_aspace *as, unsigned level, paddr_t *pa) {
    vm_page_t *page;
    zx_status_t st = pmm_alloc_page(PMM_ALLOC_FLAG_ZERO, &page, pa);
    if (st != ZX_OK)
        return st;
    page->state = VM_PAGE_STATE_MMU;
    page->mmu.level = (uint8_t)level;
    page->mmu.pinned = 0;
    page->mmu.nr_children = 0;
    page->mmu.refcount = 1;
    spin_lock_init(&page->mmu.lock);
    as->table_pages++;
    return ZX_OK;
}

void mmu_table_release(struct arch_aspace *as, struct mmu_cm *cm, vm_page_t *page) {
    DEBUG_ASSERT(page->state == VM_PAGE_STATE_MMU && page->mmu.refcount > 0);
    if (--page->mmu.refcount != 0)
        return;
    DEBUG_ASSERT(page->mmu.nr_children == 0);
    as->table_pages--;
    if (cm)
        list_add_tail(&cm->to_free, &page->node);
    else
        pmm_free_page(page);
}

/* A root entry changed: keep the unified aspace built on this one in step. */
static void mirror_root_entry(struct arch_aspace *as, unsigned idx, uint64_t value)
    TA_REQ(as->lock) {
    if (as->unified)
        as->unified->root[idx] = value;
}

void mmu_link_child(struct arch_aspace *as, uint64_t *table, vm_page_t *tpage, unsigned level,
                    unsigned idx, paddr_t child_pa) {
    DEBUG_ASSERT(!pte_present(table[idx]));
    table[idx] = child_pa | as->table_flags;
    tpage->mmu.nr_children++;
    if (level == MMU_ROOT_LEVEL)
        mirror_root_entry(as, idx, table[idx]);
}

/*
 * A CPU may cache the entry that pointed at child in its paging-structure caches even
 * when nothing below it is present (SDM 4.10.3.1), so child is freed only after an
 * invalidation on every CPU running the aspace. Any invlpg drops every such cached entry
 * (SDM 4.10.4.1), so one the batch already holds is enough; a batch that holds none (the
 * rollback of a failed map, whose new tables are empty) gets a full flush.
 */
void mmu_unlink_child(struct arch_aspace *as, struct mmu_cm *cm, uint64_t *table,
                      vm_page_t *tpage, unsigned level, unsigned idx, vm_page_t *child) {
    DEBUG_ASSERT(!child->mmu.pinned && child->mmu.nr_children == 0);
    table[idx] = 0;
    tpage->mmu.nr_children--;
    if (level == MMU_ROOT_LEVEL)
        mirror_root_entry(as, idx, 0);
    if (level == MMU_ROOT_LEVEL || cm->npending == 0)
        mmu_cm_flush_all(cm);
    mmu_table_release(as, cm, child);
    mmu_hw_table_unlinked(as, vm_page_to_paddr(child));
}

/* `as` is unreachable: no other thread can take its lock (mmu_priv.h). */
zx_status_t mmu_pin_top_tables(struct arch_aspace *as) TA_NO_THREAD_SAFETY_ANALYSIS {
    for (unsigned i = as->top_first; i <= as->top_last; i++) {
        paddr_t pa;
        zx_status_t st = mmu_table_alloc(as, MMU_ROOT_LEVEL - 1, &pa);
        if (st != ZX_OK)
            return st;
        mmu_link_child(as, as->root, as->root_page, MMU_ROOT_LEVEL, i, pa);
        paddr_to_vm_page(pa)->mmu.pinned = 1;
    }
    return ZX_OK;
}

/* `as` is unreachable: no other thread can take its lock (mmu_priv.h). */
void mmu_unpin_top_tables(struct arch_aspace *as) TA_NO_THREAD_SAFETY_ANALYSIS {
    for (unsigned i = as->top_first; i <= as->top_last; i++) {
        uint64_t e = as->root[i];
        if (!pte_present(e))
            continue;
        vm_page_t *child = pte_table_page(e);
        ASSERT(child->mmu.pinned && child->mmu.nr_children == 0);
        child->mmu.pinned = 0;
        as->root[i] = 0;
        as->root_page->mmu.nr_children--;
        mmu_table_release(as, NULL, child);
    }
}

zx_status_t mmu_split_large(struct arch_aspace *as, struct mmu_cm *cm, uint64_t *table,
                            unsigned level, unsigned idx, vaddr_t va) {
    DEBUG_ASSERT(level == 1 || level == 2);
    paddr_t child_pa;
    zx_status_t st = mmu_table_alloc(as, level - 1, &child_pa);
    if (st != ZX_OK)
        return st;
    uint64_t e = table[idx];
    paddr_t base = e & LARGE_ADDR_MASK(level);
    /* Same attributes; entries of a PT have no PS bit, entries of a PD keep it. */
    uint64_t attrs = e & ~X86_PTE_ADDR_MASK & ~(level == 1 ? X86_PTE_PS : 0);
    uint64_t *child = paddr_to_physmap(child_pa);
    uint64_t step = LEVEL_SIZE(level - 1);
    for (unsigned i = 0; i < X86_PT_ENTRIES; i++)
        child[i] = (base + i * step) | attrs;
    vm_page_t *cpage = paddr_to_vm_page(child_pa);
    cpage->mmu.nr_children = X86_PT_ENTRIES;
    /* The parent's child count is unchanged: one large entry becomes one table entry.
     * Accessed or Dirty set on the large entry since it was read go to every small one
     * (the new table is reachable by then, but only ever with fewer of those bits). */
    mmu_hw_walker_window(&table[idx]);
    uint64_t old = __atomic_exchange_n(&table[idx], child_pa | as->table_flags, __ATOMIC_RELAXED);
    uint64_t late = old & ~e & (X86_PTE_A | X86_PTE_D);
    if (late) {
        for (unsigned i = 0; i < X86_PT_ENTRIES; i++)
            __atomic_fetch_or(&child[i], late, __ATOMIC_RELAXED);
    }
    mmu_cm_page(cm, ROUNDDOWN(va, LEVEL_SIZE(level)));
    return ZX_OK;
}

void mmu_prune(struct arch_aspace *as, struct mmu_cm *cm, uint64_t *table, vm_page_t *tpage,
               unsigned level, vaddr_t va, vaddr_t last) {
    for (unsigned idx = (unsigned)VIDX(va, level);; idx++) {
        vaddr_t elast = entry_last(va, level, last);
        uint64_t e = table[idx];
        if (pte_present(e) && !pte_large(e)) {
            vm_page_t *child = pte_table_page(e);
            if (level > 1)
                mmu_prune(as, cm, pte_table(e), child, level - 1, va, elast);
            if (child->mmu.nr_children == 0 && !child->mmu.pinned)
                mmu_unlink_child(as, cm, table, tpage, level, idx, child);
        }
        if (elast == last)
            return;
        va = elast + 1;
    }
}

/* ---- entry bits ---- */

zx_status_t mmu_flags_to_pte(const struct arch_aspace *as, uint32_t flags, uint64_t *bits) {
    if ((flags & ~ARCH_MMU_FLAG_VALID_MASK) || !(flags & ARCH_MMU_FLAG_PERM_READ))
        return ZX_ERR_INVALID_ARGS;
    if (as->is_kernel && (flags & ARCH_MMU_FLAG_PERM_USER))
        return ZX_ERR_INVALID_ARGS;
    uint64_t e = as->leaf_global;
    if (flags & ARCH_MMU_FLAG_PERM_WRITE)
        e |= X86_PTE_W;
    if (flags & ARCH_MMU_FLAG_PERM_USER)
        e |= X86_PTE_U;
    if (!(flags & ARCH_MMU_FLAG_PERM_EXECUTE) && mmu_hw_nx())
        e |= X86_PTE_NX;
    /* PAT layout programmed by arch_mmu_init: PWT/PCD select WB, WC, UC-, UC. */
    switch (flags & ARCH_MMU_FLAG_CACHE_MASK) {
    case ARCH_MMU_FLAG_WRITE_COMBINING:
        e |= X86_PTE_PWT;
        break;
    case ARCH_MMU_FLAG_UNCACHED:
        e |= X86_PTE_PCD;
        break;
    case ARCH_MMU_FLAG_UNCACHED_DEVICE:
        e |= X86_PTE_PCD | X86_PTE_PWT;
        break;
    default:
        break;
    }
    *bits = e;
    return ZX_OK;
}

uint32_t mmu_pte_to_flags(uint64_t e) {
    uint32_t f = ARCH_MMU_FLAG_PERM_READ;
    if (e & X86_PTE_W)
        f |= ARCH_MMU_FLAG_PERM_WRITE;
    if (e & X86_PTE_U)
        f |= ARCH_MMU_FLAG_PERM_USER;
    if (!(e & X86_PTE_NX))
        f |= ARCH_MMU_FLAG_PERM_EXECUTE;
    switch (e & (X86_PTE_PCD | X86_PTE_PWT)) {
    case X86_PTE_PWT:
        f |= ARCH_MMU_FLAG_WRITE_COMBINING;
        break;
    case X86_PTE_PCD:
        f |= ARCH_MMU_FLAG_UNCACHED;
        break;
    case X86_PTE_PCD | X86_PTE_PWT:
        f |= ARCH_MMU_FLAG_UNCACHED_DEVICE;
        break;
    default:
        break;
    }
    return f;
}

