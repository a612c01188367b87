/*
 * arch_mmio_map (<arch/mmio.h>): permanent device mappings in the MMIO window of the
 * kernel aspace, handed out from the bottom of the window upwards.
 */
#include <arch/mmio.h>

#include "mmu_priv.h"

/* The window's cursor, and the lock that makes reserving and mapping one step (so a
 * failed map can give its range back). Nests outside the kernel aspace's lock. */
static spinlock_t mmio_lock = SPIN_LOCK_INIT_CLASS(MMIO);
static vaddr_t mmio_next TA_GUARDED(mmio_lock) = MMIO_WINDOW_BASE;

zx_status_t arch_mmio_map(paddr_t pa, size_t size, uint32_t cache, void **out) {
    if (size == 0 || (cache & ~ARCH_MMU_FLAG_CACHE_MASK) || pa + size - 1 < pa)
        return ZX_ERR_INVALID_ARGS;
    paddr_t first = ROUNDDOWN(pa, PAGE_SIZE);
    paddr_t last = pa + size - 1;
    if (last & ~(X86_PTE_ADDR_MASK | PAGE_MASK))
        return ZX_ERR_INVALID_ARGS;
    size_t pages = (size_t)((last - first) >> PAGE_SHIFT) + 1;
    uint32_t flags = ARCH_MMU_FLAG_PERM_READ | ARCH_MMU_FLAG_PERM_WRITE | cache;

    spin_lock_saved_state_t state;
    spin_lock_irqsave(&mmio_lock, &state);
    vaddr_t va = mmio_next;
    zx_status_t st = ZX_ERR_NO_RESOURCES;
    /* The mapping, then one unmapped guard page. */
    if (pages < (MMIO_WINDOW_END - va) / PAGE_SIZE) {
        st = arch_mmu_map_contiguous(arch_mmu_kernel_aspace(), va, first, pages, flags, NULL);
        if (st == ZX_OK)
            mmio_next = va + (pages + 1) * PAGE_SIZE;
    }
    spin_unlock_irqrestore(&mmio_lock, state);
    if (st != ZX_OK)
        return st;
    *out = (void *)(va + (pa - first));
    return ZX_OK;
}
