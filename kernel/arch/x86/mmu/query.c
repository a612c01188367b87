/*
 * query: the translation of one address. A unified aspace's tables below its root belong
 * to its parts, so the walk holds the lock of the part that owns the address.
 */
#include "mmu_priv.h"

zx_status_t arch_mmu_query(arch_aspace_t *as, vaddr_t vaddr, paddr_t *paddr, uint32_t *flags,
                           size_t *page_size) {
    if (vaddr < as->base || vaddr > as->last)
        return ZX_ERR_OUT_OF_RANGE;
    /* A unified aspace's tables below the root belong to its parts: hold the lock of the
     * part that owns vaddr's tables, so they cannot be freed under the walk. */
    struct arch_aspace *owner = as;
    if (as->role == ARCH_ASPACE_UNIFIED) {
        unsigned slot = (unsigned)VIDX(vaddr, MMU_ROOT_LEVEL);
        owner = slot >= as->shared->top_first && slot <= as->shared->top_last ? as->shared
                                                                               : as->restricted;
    }
    spin_lock_saved_state_t state;
    spin_lock_irqsave(&owner->lock, &state);
    const uint64_t *table = as->root;
    zx_status_t st = ZX_ERR_NOT_FOUND;
    for (int level = MMU_ROOT_LEVEL; level >= 0; level--) {
        uint64_t e = table[VIDX(vaddr, level)];
        if (!pte_present(e))
            break;
        if (level == 0 || pte_large(e)) {
            uint64_t size = LEVEL_SIZE(level);
            uint64_t mask = level == 0 ? X86_PTE_ADDR_MASK : LARGE_ADDR_MASK(level);
            if (paddr)
                *paddr = (e & mask) + (vaddr & (size - 1));
            if (flags)
                *flags = mmu_pte_to_flags(e);
            if (page_size)
                *page_size = (size_t)size;
            st = ZX_OK;
            break;
        }
        table = pte_table(e);
    }
    spin_unlock_irqrestore(&owner->lock, state);
    return st;
}
