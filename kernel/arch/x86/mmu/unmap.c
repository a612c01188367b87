/*
 * unmap, protect, and splitting large pages.
 *
 * Both walks visit only present entries inside the range. Unmap clears leaves, counts
 * them, and frees a table the moment its nr_children reaches zero; a last-level table
 * wholly inside the range is dropped without visiting its 512 entries (its nr_children
 * is the number of pages it mapped). Protect rewrites the permission and cache bits of
 * leaves, skipping entries that would not change.
 *
 * The range is the caller's choice (ultimately user space's), and the aspace lock keeps
 * interrupts off, so the public calls work in batches: each hold of the lock handles at
 * most MMU_BATCH_UNITS last-level tables or large pages, then the walk stops where it got
 * to, the consistency manager finishes (invalidations, then table frees), the lock is
 * dropped, and the next batch starts from there. Each entry changes atomically; the
 * operation as a whole is not atomic with respect to other engine calls on the same
 * aspace (the VM serialises those with its own aspace lock).
 */
#include "mmu_priv.h"

/* Last-level tables or large pages visited per hold of the aspace lock (a table is up to
 * 512 entries: a batch stays within some 40,000 instructions). */
#define MMU_BATCH_UNITS 4u
/* A walk that stopped because its batch was used up (never returned to callers). */
#define MMU_BATCH_PAUSED ZX_ERR_SHOULD_WAIT

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
    /* The parent's child count is unchanged: one large entry becomes one table entry. */
    table[idx] = child_pa | as->table_flags;
    mmu_cm_page(cm, ROUNDDOWN(va, LEVEL_SIZE(level)));
    return ZX_OK;
}

struct unmap_op {
    struct arch_aspace *as;
    struct mmu_cm *cm;
    enum arch_unmap_enlarge enlarge;
    size_t unmapped;
    size_t budget;  /* units left in this batch */
    vaddr_t resume; /* where a paused walk goes on */
};

/* Last level: clear present entries in [va, last]. */
static void unmap_pt(struct unmap_op *op, uint64_t *pt, vm_page_t *tpage, vaddr_t va,
                     vaddr_t last) TA_REQ(op->as->lock) {
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

static zx_status_t unmap_level(struct unmap_op *op, uint64_t *table, vm_page_t *tpage,
                               unsigned level, vaddr_t va, vaddr_t last)
    TA_REQ(op->as->lock) {
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
                zx_status_t st = mmu_split_large(op->as, op->cm, table, level, idx, va);
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
            mmu_unlink_child(op->as, op->cm, table, tpage, level, idx, child);
            goto next;
        }
        zx_status_t st = level == 1
            ? (unmap_pt(op, pte_table(e), child, va, elast), ZX_OK)
            : unmap_level(op, pte_table(e), child, level - 1, va, elast);
        if (child->mmu.nr_children == 0 && !child->mmu.pinned)
            mmu_unlink_child(op->as, op->cm, table, tpage, level, idx, child);
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
                             vaddr_t last, enum arch_unmap_enlarge enlarge, size_t *unmapped)
    TA_NO_THREAD_SAFETY_ANALYSIS /* op.as is as: the analysis cannot see through it */ {
    struct unmap_op op = {.as = as, .cm = cm, .enlarge = enlarge, .budget = SIZE_MAX};
    zx_status_t st = unmap_level(&op, as->root, as->root_page, MMU_ROOT_LEVEL, va, last);
    if (unmapped)
        *unmapped = op.unmapped;
    return st;
}

zx_status_t arch_mmu_unmap(arch_aspace_t *as, vaddr_t vaddr, size_t count,
                           enum arch_unmap_enlarge enlarge, size_t *unmapped)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    if (unmapped)
        *unmapped = 0;
    vaddr_t last;
    zx_status_t st = mmu_check_modify(as, vaddr, count, &last);
    if (st != ZX_OK)
        return st;
    if (enlarge > ARCH_UNMAP_ENLARGE_YES)
        return ZX_ERR_INVALID_ARGS;
    size_t total = 0;
    do {
        struct mmu_cm cm;
        mmu_cm_init(&cm, as);
        struct unmap_op op = {.as = as, .cm = &cm, .enlarge = enlarge,
                              .budget = MMU_BATCH_UNITS};
        spin_lock_saved_state_t state;
        spin_lock_irqsave(&as->lock, &state);
        st = unmap_level(&op, as->root, as->root_page, MMU_ROOT_LEVEL, vaddr, last);
        mmu_cm_finish(&cm);
        spin_unlock_irqrestore(&as->lock, state);
        mmu_cm_free_pages(&cm);
        total += op.unmapped;
        vaddr = op.resume;
    } while (st == MMU_BATCH_PAUSED);
    if (unmapped)
        *unmapped = total;
    return st;
}

struct protect_op {
    struct arch_aspace *as;
    struct mmu_cm *cm;
    uint64_t bits;  /* new W/U/NX/PWT/PCD bits */
    size_t budget;  /* units left in this batch */
    vaddr_t resume; /* where a paused walk goes on */
};

static void protect_pt(struct protect_op *op, uint64_t *pt, vaddr_t va, vaddr_t last)
    TA_REQ(op->as->lock) {
    unsigned idx = (unsigned)VIDX(va, 0);
    size_t n = ((last - va) >> PAGE_SHIFT) + 1;
    uint64_t *pte = &pt[idx];
    uint64_t bits = op->bits;
    struct mmu_cm *cm = op->cm;
    struct mmu_cm_local l = mmu_cm_local_begin(cm);
    for (size_t k = 0; k < n; k++) {
        uint64_t e = pte[k];
        uint64_t ne = (e & ~X86_PTE_PROT_MASK) | bits;
        if ((e & X86_PTE_P) && ne != e) {
            pte[k] = ne;
            mmu_cm_local_page(cm, &l, va + (k << PAGE_SHIFT));
        }
    }
    mmu_cm_sync(cm, &l);
}

static zx_status_t protect_level(struct protect_op *op, uint64_t *table, unsigned level,
                                 vaddr_t va, vaddr_t last) TA_REQ(op->as->lock) {
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
                zx_status_t st = mmu_split_large(op->as, op->cm, table, level, idx, va);
                if (st != ZX_OK)
                    return st;
                e = table[idx];
            }
            if (pte_large(e)) {
                uint64_t ne = (e & ~X86_PTE_PROT_MASK) | op->bits;
                if (ne != e) {
                    table[idx] = ne;
                    mmu_cm_page(op->cm, va);
                }
            } else if (level == 1) {
                protect_pt(op, pte_table(e), va, elast);
            } else {
                zx_status_t st = protect_level(op, pte_table(e), level - 1, va, elast);
                if (st != ZX_OK)
                    return st;
            }
        }
        if (elast == last)
            return ZX_OK;
        va = elast + 1;
    }
}

zx_status_t arch_mmu_protect(arch_aspace_t *as, vaddr_t vaddr, size_t count, uint32_t flags)
    TA_NO_THREAD_SAFETY_ANALYSIS {
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
    do {
        struct mmu_cm cm;
        mmu_cm_init(&cm, as);
        struct protect_op op = {.as = as, .cm = &cm, .bits = bits & X86_PTE_PROT_MASK,
                                .budget = MMU_BATCH_UNITS};
        spin_lock_saved_state_t state;
        spin_lock_irqsave(&as->lock, &state);
        st = protect_level(&op, as->root, MMU_ROOT_LEVEL, vaddr, last);
        mmu_cm_finish(&cm);
        spin_unlock_irqrestore(&as->lock, state);
        mmu_cm_free_pages(&cm);
        vaddr = op.resume;
    } while (st == MMU_BATCH_PAUSED);
    return st;
}
