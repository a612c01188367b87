/*
 * Device registers in the kernel address space: how a driver (the LAPIC today) reaches
 * memory-mapped I/O without building VM objects. Implemented by the page-table engine
 * (kernel/arch/x86/mmu/mmio.c) directly on the kernel aspace, in a window of the kernel
 * half reserved for it (docs/architecture.md, "Memory map"), so it sits below the VM and
 * the scheduler and calls neither.
 *
 * Mappings are permanent: a driver maps its registers once, at init, and keeps the
 * pointer. Each mapping is read/write, never executable, supervisor-only and global, and
 * has an unmapped page after it.
 */
#ifndef ARCH_MMIO_H
#define ARCH_MMIO_H

#include <stddef.h>
#include <stdint.h>
#include <kernel/types.h>

/*
 * Maps the physical range [pa, pa + size) with the cache policy `cache` (one of the
 * ARCH_MMU_FLAG_CACHED / UNCACHED / UNCACHED_DEVICE / WRITE_COMBINING values of
 * <arch/mmu.h>; device registers want UNCACHED_DEVICE) and sets *out to the address of
 * the byte at pa. pa and size need not be page-aligned: the pages covering the range are
 * mapped. Requires arch_mmu_init(); may be called with interrupts on or off.
 * Errors: ZX_ERR_INVALID_ARGS (size 0, the range wraps or is beyond the physical address
 * width, unknown cache bits); ZX_ERR_NO_RESOURCES (the window is full);
 * ZX_ERR_NO_MEMORY (no page for a page table). On error nothing is mapped and *out is
 * untouched.
 */
zx_status_t arch_mmio_map(paddr_t pa, size_t size, uint32_t cache, void **out);

#endif
