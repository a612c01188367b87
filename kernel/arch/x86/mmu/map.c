/*
 * map (4 KiB pages from an address list) and map_contiguous (large pages where they fit).
 *
 * map runs in two passes so that a failure never has to guess what it did:
 *   1. ensure_tables: create every missing table under the range (the only step that
 *      can run out of memory), and deal with large pages in the way (ERROR: fail;
 *      SKIP: leave them; UPGRADE: split them);
 *   2. write_leaves: write the 4 KiB entries; this cannot fail except with ALREADY_EXISTS
 *      under the ERROR policy.
 * A failure in pass 1 prunes the tables it created (they are still empty); a failure in
 * pass 2 unmaps the prefix it wrote (all of it new, since ERROR stops at the first
 * existing entry) and prunes the rest.
 *
 * map_contiguous is one pass: under its ERROR-only policy the prefix written before a
 * failure is exactly the new mappings, so the same rollback applies.
 */
#include "mmu_priv.h"

struct map_op {
    struct mmu_cm *cm;
    vaddr_t vaddr;           /* start of the whole request */
    const paddr_t *phys;     /* map: page list; NULL for map_contiguous */
    paddr_t paddr;           /* map_contiguous: physical address of vaddr */
    uint64_t leaf;           /* leaf bits without P/PS/address */
    enum arch_existing_action existing;
    size_t mapped;           /* pages whose entry now holds the new mapping */
    vaddr_t fail_va;         /* first page not written when a pass stopped early */
};

/* UPGRADE through the large page at table[idx]: splits it and invalidates the large
 * translation before pass 2 rewrites entries under it (a CPU must never cache both sizes
 * with different translations, SDM 4.10.2.3). Out of line: rare, and kept out of the
 * descent that every fault runs. */
static __noinline zx_status_t split_for_upgrade(struct arch_aspace *as, struct map_op *op,
                                                uint64_t *table, unsigned level, unsigned idx,
                                                vaddr_t va) TA_REQ(as->lock) {
    zx_status_t st = mmu_split_large(as, op->cm, table, level, idx, va);
    if (st == ZX_OK)
        mmu_cm_finish(as, op->cm);
    return st;
}

/*
 * Makes table[idx] (level >= 1) an entry the map can descend through: a missing table is
 * created; a large page is an error under ERROR, left alone under SKIP (*skip = true) and
 * split under UPGRADE. On ZX_OK (and !*skip) *entry is the table entry to descend into.
 */
static zx_status_t prepare_descent(struct arch_aspace *as, struct map_op *op, uint64_t *table,
                                   vm_page_t *tpage, unsigned level, unsigned idx, vaddr_t va,
                                   uint64_t *entry, bool *skip) TA_REQ(as->lock) {
    uint64_t e = table[idx];
    *skip = false;
    if (!pte_present(e)) {
        paddr_t pa;
        zx_status_t st = mmu_table_alloc(as, level - 1, &pa);
        if (st != ZX_OK)
            return st;
        mmu_link_child(as, table, tpage, level, idx, pa);
    } else if (pte_large(e)) {
        if (op->existing == ARCH_EXISTING_ERROR)
            return ZX_ERR_ALREADY_EXISTS;
        if (op->existing == ARCH_EXISTING_SKIP) {
            *skip = true;
            return ZX_OK;
        }
        zx_status_t st = split_for_upgrade(as, op, table, level, idx, va);
        if (st != ZX_OK)
            return st;
    }
    *entry = table[idx];
    return ZX_OK;
}

/* Pass 1: every table needed for 4 KiB entries in [va, last] under a level >= 1 table. */
static zx_status_t ensure_tables(struct arch_aspace *as, struct map_op *op, uint64_t *table,
                                 vm_page_t *tpage, unsigned level, vaddr_t va, vaddr_t last)
    TA_REQ(as->lock) {
    for (unsigned idx = (unsigned)VIDX(va, level);; idx++) {
        vaddr_t elast = entry_last(va, level, last);
        uint64_t e;
        bool skip;
        zx_status_t pst = prepare_descent(as, op, table, tpage, level, idx, va, &e, &skip);
        if (pst != ZX_OK)
            return pst;
        if (skip)
            goto next;
        if (level > 1) {
            zx_status_t st = ensure_tables(as, op, pte_table(e), pte_table_page(e), level - 1,
                                           va, elast);
            if (st != ZX_OK)
                return st;
        }
    next:
        if (elast == last)
            return ZX_OK;
        va = elast + 1;
    }
}

/* Pass 2 at the last level: the hot loop, a few instructions per page. */
static zx_status_t write_pt(struct arch_aspace *as, struct map_op *op, uint64_t *pt,
                            vm_page_t *tpage, vaddr_t va, vaddr_t last) TA_REQ(as->lock) {
    unsigned idx = (unsigned)VIDX(va, 0);
    size_t n = ((last - va) >> PAGE_SHIFT) + 1;
    const paddr_t *ph = op->phys + ((va - op->vaddr) >> PAGE_SHIFT);
    uint64_t *pte = &pt[idx];
    uint64_t leaf = op->leaf | X86_PTE_P;
    unsigned added = 0;
    size_t written = 0;
    zx_status_t st = ZX_OK;

    for (size_t k = 0; k < n; k++) {
        uint64_t e = pte[k];
        uint64_t ne = ph[k] | leaf; /* addresses were validated before the lock */
        if (likely(!(e & X86_PTE_P))) {
            pte[k] = ne;
            added++;
            continue;
        }
        if (op->existing == ARCH_EXISTING_ERROR) {
            st = ZX_ERR_ALREADY_EXISTS;
            op->fail_va = va + (k << PAGE_SHIFT);
            break;
        }
        if (op->existing == ARCH_EXISTING_UPGRADE) {
            if (e != ne) {
                pte[k] = ne;
                mmu_cm_page(op->cm, va + (k << PAGE_SHIFT));
            }
            written++;
        }
    }
    tpage->mmu.nr_children += added;
    op->mapped += added + written;
    return st;
}

static zx_status_t write_leaves(struct arch_aspace *as, struct map_op *op, uint64_t *table,
                                unsigned level, vaddr_t va, vaddr_t last) TA_REQ(as->lock) {
    for (unsigned idx = (unsigned)VIDX(va, level);; idx++) {
        vaddr_t elast = entry_last(va, level, last);
        uint64_t e = table[idx];
        DEBUG_ASSERT(pte_present(e));
        if (!pte_large(e)) { /* a large page here was left alone by SKIP */
            zx_status_t st = level == 1
                ? write_pt(as, op, pte_table(e), pte_table_page(e), va, elast)
                : write_leaves(as, op, pte_table(e), level - 1, va, elast);
            if (st != ZX_OK)
                return st;
        }
        if (elast == last)
            return ZX_OK;
        va = elast + 1;
    }
}

/*
 * map of exactly one page (every page fault): one descent that creates missing tables,
 * then the leaf. Same policies and failure rules as the two-pass path; nothing is written
 * before the last step, so a failure only has empty new tables to prune.
 */
static zx_status_t map_one(struct arch_aspace *as, struct map_op *op, vaddr_t va)
    TA_REQ(as->lock) {
    uint64_t *table = as->root;
    vm_page_t *tpage = as->root_page;
    for (unsigned level = MMU_ROOT_LEVEL; level > 0; level--) {
        uint64_t e;
        bool skip;
        zx_status_t st = prepare_descent(as, op, table, tpage, level, (unsigned)VIDX(va, level),
                                         va, &e, &skip);
        if (st != ZX_OK || skip)
            return st;
        tpage = pte_table_page(e);
        table = pte_table(e);
    }
    uint64_t *pte = &table[VIDX(va, 0)];
    uint64_t ne = op->phys[0] | op->leaf | X86_PTE_P;
    if (!pte_present(*pte)) {
        *pte = ne;
        tpage->mmu.nr_children++;
        op->mapped = 1;
        return ZX_OK;
    }
    if (op->existing == ARCH_EXISTING_ERROR)
        return ZX_ERR_ALREADY_EXISTS;
    if (op->existing == ARCH_EXISTING_UPGRADE) {
        /* The same translation again keeps its entry: the Accessed and Dirty bits the
         * CPU set are not the caller's to clear, and no invalidation is needed. */
        if ((*pte & ~(X86_PTE_A | X86_PTE_D)) != ne) {
            *pte = ne;
            mmu_cm_page(op->cm, va);
        }
        op->mapped = 1;
    }
    return ZX_OK;
}

/* Undoes a failed map: unmap what was written in [start, op->fail_va), prune the rest. */
static void map_rollback(struct arch_aspace *as, struct map_op *op, vaddr_t start, vaddr_t last)
    TA_REQ(as->lock) {
    if (op->fail_va > start) {
        zx_status_t st = mmu_unmap_locked(as, op->cm, start, op->fail_va - 1,
                                          ARCH_UNMAP_ENLARGE_YES, NULL);
        ASSERT(st == ZX_OK); /* only whole new entries: nothing to split */
    }
    mmu_prune(as, op->cm, as->root, as->root_page, MMU_ROOT_LEVEL, start, last);
    op->mapped = 0;
}

static zx_status_t map_contig_level(struct arch_aspace *as, struct map_op *op, uint64_t *table,
                                    vm_page_t *tpage, unsigned level, vaddr_t va, vaddr_t last)
    TA_REQ(as->lock);

/*
 * Runs a checked map op (map: op->phys set; map_contiguous: op->phys NULL) under the
 * aspace lock: the walk, the rollback if it failed, the TLB work; then, unlocked, the
 * frees. *mapped (if non-NULL) gets the pages mapped (0 after a rollback).
 */
static __always_inline zx_status_t map_run(struct arch_aspace *as, struct map_op *op,
                                           vaddr_t last, size_t *mapped) TA_EXCL(as->lock) {
    struct mmu_cm cm;
    mmu_cm_init(&cm);
    op->cm = &cm;
    vaddr_t va = op->vaddr;
    zx_status_t st;
    spin_lock_saved_state_t state;
    spin_lock_irqsave(&as->lock, &state);
    if (!op->phys) {
        st = map_contig_level(as, op, as->root, as->root_page, MMU_ROOT_LEVEL, va, last);
    } else if (last - va == PAGE_SIZE - 1) {
        st = map_one(as, op, va); /* every page fault */
    } else {
        st = ensure_tables(as, op, as->root, as->root_page, MMU_ROOT_LEVEL, va, last);
        if (st == ZX_OK)
            st = write_leaves(as, op, as->root, MMU_ROOT_LEVEL, va, last);
    }
    if (st != ZX_OK)
        map_rollback(as, op, va, last);
    mmu_cm_finish(as, &cm);
    spin_unlock_irqrestore(&as->lock, state);
    mmu_cm_free_pages(&cm);
    if (mapped)
        *mapped = op->mapped;
    return st;
}

/* Argument checks shared by map and map_contiguous, in the order the header gives. */
static zx_status_t check_map_args(const struct arch_aspace *as, vaddr_t vaddr, size_t count,
                                  uint32_t flags, vaddr_t *last, uint64_t *leaf) {
    zx_status_t st = mmu_check_modify(as, vaddr, count, last);
    return st != ZX_OK ? st : mmu_flags_to_pte(as, flags, leaf);
}

zx_status_t arch_mmu_map(arch_aspace_t *as, vaddr_t vaddr, const paddr_t *phys, size_t count,
                         uint32_t flags, enum arch_existing_action existing, size_t *mapped) {
    if (mapped)
        *mapped = 0;
    vaddr_t last;
    uint64_t leaf;
    zx_status_t st = check_map_args(as, vaddr, count, flags, &last, &leaf);
    if (st != ZX_OK)
        return st;
    if (!phys || existing > ARCH_EXISTING_UPGRADE)
        return ZX_ERR_INVALID_ARGS;
    /* Check every address first, so that writing entries can never fail half-way for a
     * reason that would make an UPGRADE or SKIP impossible to undo. */
    paddr_t any_bad = 0;
    for (size_t i = 0; i < count; i++)
        any_bad |= phys[i];
    if (any_bad & ~mmu_hw_paddr_mask())
        return ZX_ERR_INVALID_ARGS;

    struct map_op op = {.vaddr = vaddr, .phys = phys, .leaf = leaf, .existing = existing,
                        .fail_va = vaddr};
    return map_run(as, &op, last, mapped);
}

/* map_contiguous at one level: large entries where possible, else descend. */
static zx_status_t map_contig_level(struct arch_aspace *as, struct map_op *op, uint64_t *table,
                                    vm_page_t *tpage, unsigned level, vaddr_t va, vaddr_t last)
    TA_REQ(as->lock) {
    if (level == 0) {
        unsigned idx = (unsigned)VIDX(va, 0);
        size_t n = ((last - va) >> PAGE_SHIFT) + 1;
        uint64_t *pte = &table[idx];
        uint64_t ne = (op->paddr + (va - op->vaddr)) | op->leaf | X86_PTE_P;
        for (size_t k = 0; k < n; k++, ne += PAGE_SIZE) {
            if (unlikely(pte[k] & X86_PTE_P)) {
                tpage->mmu.nr_children += (uint16_t)k;
                op->mapped += k;
                op->fail_va = va + (k << PAGE_SHIFT);
                return ZX_ERR_ALREADY_EXISTS;
            }
            pte[k] = ne;
        }
        tpage->mmu.nr_children += (uint16_t)n;
        op->mapped += n;
        return ZX_OK;
    }
    bool large_ok = level == 1 || (level == 2 && mmu_hw_page1g());
    for (unsigned idx = (unsigned)VIDX(va, level);; idx++) {
        vaddr_t elast = entry_last(va, level, last);
        uint64_t e = table[idx];
        paddr_t pa = op->paddr + (va - op->vaddr);
        if (large_ok && elast - va == LEVEL_SIZE(level) - 1 && IS_ALIGNED(pa, LEVEL_SIZE(level))) {
            if (pte_present(e)) {
                op->fail_va = va;
                return ZX_ERR_ALREADY_EXISTS;
            }
            table[idx] = pa | op->leaf | X86_PTE_P | X86_PTE_PS;
            tpage->mmu.nr_children++;
            op->mapped += LEVEL_PAGES(level);
        } else {
            if (!pte_present(e)) {
                paddr_t tpa;
                zx_status_t st = mmu_table_alloc(as, level - 1, &tpa);
                if (st != ZX_OK) {
                    op->fail_va = va;
                    return st;
                }
                mmu_link_child(as, table, tpage, level, idx, tpa);
                e = table[idx];
            } else if (pte_large(e)) {
                op->fail_va = va;
                return ZX_ERR_ALREADY_EXISTS;
            }
            zx_status_t st = map_contig_level(as, op, pte_table(e), pte_table_page(e), level - 1,
                                              va, elast);
            if (st != ZX_OK)
                return st;
        }
        if (elast == last)
            return ZX_OK;
        va = elast + 1;
    }
}

zx_status_t arch_mmu_map_contiguous(arch_aspace_t *as, vaddr_t vaddr, paddr_t paddr,
                                    size_t count, uint32_t flags, size_t *mapped) {
    if (mapped)
        *mapped = 0;
    vaddr_t last;
    uint64_t leaf;
    zx_status_t st = check_map_args(as, vaddr, count, flags, &last, &leaf);
    if (st != ZX_OK)
        return st;
    paddr_t plast = paddr + ((uint64_t)count << PAGE_SHIFT) - 1;
    uint64_t addr_mask = mmu_hw_paddr_mask();
    if ((paddr & ~addr_mask) || plast < paddr || (plast & ~(addr_mask | PAGE_MASK)))
        return ZX_ERR_INVALID_ARGS;

    struct map_op op = {.vaddr = vaddr, .paddr = paddr, .leaf = leaf,
                        .existing = ARCH_EXISTING_ERROR, .fail_va = vaddr};
    return map_run(as, &op, last, mapped);
}
