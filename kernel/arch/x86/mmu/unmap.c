/*
 * unmap: clear every present entry in a range.
 *
 * The walk visits only present entries inside the range, clears leaves, counts them, and
 * frees a table the moment its nr_children reaches zero; a last-level table wholly inside
 * the range is dropped without visiting its 512 entries (its nr_children is the number of
 * pages it mapped). A large page only partly inside the range is split first.
 *
 * The public call works in batches (MMU_BATCH_UNITS, mmu_priv.h): after each one the
 * consistency manager finishes (invalidations, then table frees), the lock is dropped,
 * and the next batch starts where the walk stopped. Each entry changes atomically; the
 * operation as a whole is not atomic with respect to other engine calls on the same
 * aspace (the VM serialises those with its own aspace lock).
 */
#include "mmu_priv.h"

struct unmap_op {
    struct mmu_cm *cm;
    enum arch_unmap_enlarge enlarge;
    size_t unmapped;
    size_t budget;  /* units left in this batch */
    vaddr_t resume; /* where a paused walk goes on */
};

/* Last level: clear present entries in [va, last]. */
static void unmap_pt(struct arch_aspace *as, struct unmap_op *op, uint64_t *pt,
                     vm_page_t *tpage, vaddr_t va, vaddr_t last) TA_REQ(as->lock) {
    unsigned idx = (unsigned)VIDX(va, 0);
    size_t n = ((last - va) >> PAGE_SHIFT) + 1;
    uint64_t *pte = &pt[idx];
    struct mmu_cm *cm = op->cm;
    struct mmu_cm_local l = mmu_cm_local_begin(cm);
    unsigned removed = 0;
    for (size_t k = 0; k < n; k++) {
        if (pte[k] & X86_PTE_P) {
            pte[k] = 0;
            removed++;
            mmu_cm_local_page(cm, &l, va + (k << PAGE_SHIFT));
        }
    }
    mmu_cm_sync(cm, &l);
    tpage->mmu.nr_children -= (uint16_t)removed;
    op->unmapped += removed;
}

/*
 * Unmaps [va, last] under a level-`level` table. Returns ZX_OK, MMU_BATCH_PAUSED (budget
 * used up: op->resume says where to go on) or ZX_ERR_NO_MEMORY (a split failed under
 * ENLARGE_NO; everything before the large page is unmapped).
 */
static zx_status_t unmap_level(struct arch_aspace *as, struct unmap_op *op, uint64_t *table,
                               vm_page_t *tpage, unsigned level, vaddr_t va, vaddr_t last)
    TA_REQ(as->lock) {
    for (unsigned idx = (unsigned)VIDX(va, level);; idx++) {
        vaddr_t elast = entry_last(va, level, last);
        uint64_t e = table[idx];
        bool whole = elast - va == LEVEL_SIZE(level) - 1;
        if (!pte_present(e))
            goto next;
        if (op->budget == 0) {
            op->resume = va;
            return MMU_BATCH_PAUSED;
        }
        if (level == 1 || pte_large(e))
            op->budget--;
        if (pte_large(e)) {
            if (!whole) {
                zx_status_t st = mmu_split_large(as, op->cm, table, level, idx, va);
                if (st == ZX_OK) {
                    e = table[idx];
                    goto descend;
                }
                if (op->enlarge == ARCH_UNMAP_ENLARGE_NO)
                    return st;
                /* Enlarge: take the whole large page with it. */
            }
            table[idx] = 0;
            tpage->mmu.nr_children--;
            mmu_cm_page(op->cm, ROUNDDOWN(va, LEVEL_SIZE(level)));
            op->unmapped += LEVEL_PAGES(level);
            goto next;
        }
    descend: {
        vm_page_t *child = pte_table_page(e);
        if (level == 1 && whole && !child->mmu.pinned) {
            /* A whole last-level table: its child count is its page count. */
            op->unmapped += child->mmu.nr_children;
            child->mmu.nr_children = 0;
            mmu_cm_flush_all(op->cm); /* up to 512 translations: more than the cm holds */
            mmu_unlink_child(as, op->cm, table, tpage, level, idx, child);
            goto next;
        }
        zx_status_t st = level == 1
            ? (unmap_pt(as, op, pte_table(e), child, va, elast), ZX_OK)
            : unmap_level(as, op, pte_table(e), child, level - 1, va, elast);
        if (child->mmu.nr_children == 0 && !child->mmu.pinned)
            mmu_unlink_child(as, op->cm, table, tpage, level, idx, child);
        if (st != ZX_OK)
            return st;
    }
    next:
        if (elast == last)
            return ZX_OK;
        va = elast + 1;
    }
}

zx_status_t mmu_unmap_locked(struct arch_aspace *as, struct mmu_cm *cm, vaddr_t va,
                             vaddr_t last, enum arch_unmap_enlarge enlarge, size_t *unmapped) {
    struct unmap_op op = {.cm = cm, .enlarge = enlarge, .budget = SIZE_MAX};
    zx_status_t st = unmap_level(as, &op, as->root, as->root_page, MMU_ROOT_LEVEL, va, last);
    if (unmapped)
        *unmapped = op.unmapped;
    return st;
}

zx_status_t arch_mmu_unmap(arch_aspace_t *as, vaddr_t vaddr, size_t count,
                           enum arch_unmap_enlarge enlarge, size_t *unmapped) {
    if (unmapped)
        *unmapped = 0;
    vaddr_t last;
    zx_status_t st = mmu_check_modify(as, vaddr, count, &last);
    if (st != ZX_OK)
        return st;
    if (enlarge > ARCH_UNMAP_ENLARGE_YES)
        return ZX_ERR_INVALID_ARGS;
    /*
     * One consistency manager for the whole call: the batches collect into it and only the
     * last one invalidates (one shootdown, not one per batch), before any table page goes
     * back. In between, other CPUs may still translate through what earlier batches
     * removed, which is allowed until the call returns: the unlinked tables are not freed
     * yet, and the caller frees the pages only afterwards. A CPU that loads or leaves the
     * aspace in between reloads CR3, which drops its stale entries; the last batch's
     * mask covers every CPU that may still hold any.
     */
    size_t total = 0;
    struct mmu_cm cm;
    mmu_cm_init(&cm);
    do {
        struct unmap_op op = {.cm = &cm, .enlarge = enlarge, .budget = MMU_BATCH_UNITS};
        spin_lock_saved_state_t state;
        spin_lock_irqsave(&as->lock, &state);
        st = unmap_level(as, &op, as->root, as->root_page, MMU_ROOT_LEVEL, vaddr, last);
        if (st != MMU_BATCH_PAUSED)
            mmu_cm_finish(as, &cm);
        spin_unlock_irqrestore(&as->lock, state);
        total += op.unmapped;
        vaddr = op.resume;
    } while (st == MMU_BATCH_PAUSED);
    mmu_cm_free_pages(&cm);
    if (unmapped)
        *unmapped = total;
    return st;
}
