/*
 * protect: change the permission and cache bits of every present leaf in a range.
 *
 * The walk visits only present entries inside the range and rewrites leaves, skipping
 * those that would not change; a large page only partly inside the range is split
 * first. Like unmap, the public call works in batches (MMU_BATCH_UNITS, mmu_priv.h).
 * Flags without READ are an unmap (x86 cannot express a present, unreadable page).
 */
#include "mmu_priv.h"

struct protect_op {
    struct mmu_cm *cm;
    uint64_t bits;  /* new W/U/NX/PWT/PCD bits */
    size_t budget;  /* units left in this batch */
    vaddr_t resume; /* where a paused walk goes on */
};

/* Last level: rewrite the present entries in [va, last] that change. */
static void protect_pt(struct arch_aspace *as, struct protect_op *op, uint64_t *pt, vaddr_t va,
                       vaddr_t last) TA_REQ(as->lock) {
    unsigned idx = (unsigned)VIDX(va, 0);
    size_t n = ((last - va) >> PAGE_SHIFT) + 1;
    uint64_t *pte = &pt[idx];
    uint64_t bits = op->bits;
    struct mmu_cm *cm = op->cm;
    struct mmu_cm_local l = mmu_cm_local_begin(cm);
    for (size_t k = 0; k < n; k++) {
        uint64_t e = pte[k];
        if ((e & X86_PTE_P) && pte_set_prot(&pte[k], e, bits))
            mmu_cm_local_page(cm, &l, va + (k << PAGE_SHIFT));
    }
    mmu_cm_sync(cm, &l);
}

/*
 * Protects [va, last] under a level-`level` table. Returns ZX_OK, MMU_BATCH_PAUSED (budget
 * used up: op->resume says where to go on) or ZX_ERR_NO_MEMORY (a split failed;
 * everything before the large page has the new bits).
 */
static zx_status_t protect_level(struct arch_aspace *as, struct protect_op *op,
                                 uint64_t *table, unsigned level, vaddr_t va, vaddr_t last)
    TA_REQ(as->lock) {
    for (unsigned idx = (unsigned)VIDX(va, level);; idx++) {
        vaddr_t elast = entry_last(va, level, last);
        uint64_t e = table[idx];
        if (pte_present(e)) {
            if (op->budget == 0) {
                op->resume = va;
                return MMU_BATCH_PAUSED;
            }
            if (level == 1 || pte_large(e))
                op->budget--;
            if (pte_large(e) && elast - va != LEVEL_SIZE(level) - 1) {
                zx_status_t st = mmu_split_large(as, op->cm, table, level, idx, va);
                if (st != ZX_OK)
                    return st;
                /* The large translation goes from every TLB before any small one under it
                 * changes: a CPU must never cache both sizes with different attributes
                 * (SDM 4.10.2.3). The split itself changes no translation. */
                mmu_cm_finish(as, op->cm);
                e = table[idx];
            }
            if (pte_large(e)) {
                if (pte_set_prot(&table[idx], e, op->bits))
                    mmu_cm_page(op->cm, va);
            } else if (level == 1) {
                protect_pt(as, op, pte_table(e), va, elast);
            } else {
                zx_status_t st = protect_level(as, op, pte_table(e), level - 1, va, elast);
                if (st != ZX_OK)
                    return st;
            }
        }
        if (elast == last)
            return ZX_OK;
        va = elast + 1;
    }
}

zx_status_t arch_mmu_protect(arch_aspace_t *as, vaddr_t vaddr, size_t count, uint32_t flags) {
    vaddr_t last;
    zx_status_t st = mmu_check_modify(as, vaddr, count, &last);
    if (st != ZX_OK)
        return st;
    if (flags & ~ARCH_MMU_FLAG_VALID_MASK)
        return ZX_ERR_INVALID_ARGS;
    if (!(flags & ARCH_MMU_FLAG_PERM_READ))
        return arch_mmu_unmap(as, vaddr, count, ARCH_UNMAP_ENLARGE_NO, NULL);
    uint64_t bits;
    if ((st = mmu_flags_to_pte(as, flags, &bits)) != ZX_OK)
        return st;
    /* One consistency manager for the whole call, as unmap's (unmap.c says why that is
     * safe): the last batch invalidates what every batch changed. A split large page is
     * still invalidated at once, before entries under it change (protect_level). */
    struct mmu_cm cm;
    mmu_cm_init(&cm);
    do {
        struct protect_op op = {.cm = &cm, .bits = bits & X86_PTE_PROT_MASK,
                                .budget = MMU_BATCH_UNITS};
        spin_lock_saved_state_t state;
        spin_lock_irqsave(&as->lock, &state);
        st = protect_level(as, &op, as->root, MMU_ROOT_LEVEL, vaddr, last);
        if (st != MMU_BATCH_PAUSED)
            mmu_cm_finish(as, &cm);
        spin_unlock_irqrestore(&as->lock, state);
        vaddr = op.resume;
    } while (st == MMU_BATCH_PAUSED);
    mmu_cm_free_pages(&cm);
    return st;
}
