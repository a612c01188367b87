/*
 * harvest_accessed: clear and report the accessed bits of a range's leaves, and with
 * ARCH_HARVEST_FREE_UNACCESSED drop the last-level tables not walked since the last
 * harvest (a table's own accessed bit says whether the CPU went through it).
 */
#include "mmu_priv.h"

struct harvest_op {
    struct mmu_cm *cm;
    enum arch_harvest_action action;
    arch_harvest_cb cb;
    void *ctx;
    size_t freed;
};

/* Clears and reports accessed bits of present leaves in [va, last] of one PT. */
static void harvest_pt(struct arch_aspace *as, struct harvest_op *op, uint64_t *pt, vaddr_t va,
                       vaddr_t last) TA_REQ(as->lock) {
    unsigned idx = (unsigned)VIDX(va, 0);
    size_t n = ((last - va) >> PAGE_SHIFT) + 1;
    for (size_t k = 0; k < n; k++) {
        uint64_t e = pt[idx + k];
        if ((e & (X86_PTE_P | X86_PTE_A)) != (X86_PTE_P | X86_PTE_A))
            continue;
        /* Atomic: the CPU may set D concurrently on another core. */
        __atomic_fetch_and(&pt[idx + k], ~X86_PTE_A, __ATOMIC_RELAXED);
        vaddr_t pva = va + (k << PAGE_SHIFT);
        mmu_cm_page(op->cm, pva);
        if (op->cb)
            op->cb(op->ctx, pva, e & X86_PTE_ADDR_MASK);
    }
}

/* Harvests [va, last] under a level-`level` table (see <arch/mmu.h>). */
static void harvest_level(struct arch_aspace *as, struct harvest_op *op, uint64_t *table,
                          vm_page_t *tpage, unsigned level, vaddr_t va, vaddr_t last)
    TA_REQ(as->lock) {
    for (unsigned idx = (unsigned)VIDX(va, level);; idx++) {
        vaddr_t elast = entry_last(va, level, last);
        uint64_t e = table[idx];
        if (!pte_present(e))
            goto next;
        if (pte_large(e)) {
            if (e & X86_PTE_A) {
                __atomic_fetch_and(&table[idx], ~X86_PTE_A, __ATOMIC_RELAXED);
                mmu_cm_page(op->cm, ROUNDDOWN(va, LEVEL_SIZE(level)));
                if (op->cb)
                    op->cb(op->ctx, ROUNDDOWN(va, LEVEL_SIZE(level)),
                           e & LARGE_ADDR_MASK(level));
            }
            goto next;
        }
        vm_page_t *child = pte_table_page(e);
        if (level == 1 && op->action == ARCH_HARVEST_FREE_UNACCESSED && !child->mmu.pinned &&
            elast - va == LEVEL_SIZE(level) - 1) {
            if (!(e & X86_PTE_A)) {
                /* Not walked since the last harvest: drop the table and its mappings. */
                child->mmu.nr_children = 0;
                mmu_cm_flush_all(op->cm);
                mmu_unlink_child(as, op->cm, table, tpage, level, idx, child);
                op->freed++;
                goto next;
            }
            __atomic_fetch_and(&table[idx], ~X86_PTE_A, __ATOMIC_RELAXED);
            mmu_cm_flush_all(op->cm); /* paging-structure caches hold the old entry */
        }
        if (level == 1) {
            harvest_pt(as, op, pte_table(e), va, elast);
        } else {
            harvest_level(as, op, pte_table(e), child, level - 1, va, elast);
            /* Freeing unaccessed tables below may have emptied this one. */
            if (child->mmu.nr_children == 0 && !child->mmu.pinned)
                mmu_unlink_child(as, op->cm, table, tpage, level, idx, child);
        }
    next:
        if (elast == last)
            return;
        va = elast + 1;
    }
}

zx_status_t arch_mmu_harvest_accessed(arch_aspace_t *as, vaddr_t vaddr, size_t count,
                                      enum arch_harvest_action action, arch_harvest_cb cb,
                                      void *ctx, size_t *freed_tables) {
    if (freed_tables)
        *freed_tables = 0;
    vaddr_t last;
    zx_status_t st = mmu_check_modify(as, vaddr, count, &last);
    if (st != ZX_OK)
        return st;
    if (action > ARCH_HARVEST_FREE_UNACCESSED)
        return ZX_ERR_INVALID_ARGS;
    struct mmu_cm cm;
    mmu_cm_init(&cm);
    struct harvest_op op = {.cm = &cm, .action = action, .cb = cb, .ctx = ctx};
    spin_lock_saved_state_t state;
    spin_lock_irqsave(&as->lock, &state);
    harvest_level(as, &op, as->root, as->root_page, MMU_ROOT_LEVEL, vaddr, last);
    mmu_cm_finish(as, &cm);
    spin_unlock_irqrestore(&as->lock, state);
    mmu_cm_free_pages(&cm);
    if (freed_tables)
        *freed_tables = op.freed;
    return ZX_OK;
}
