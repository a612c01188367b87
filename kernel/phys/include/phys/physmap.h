/*
 * The physmap: every physical page of RAM is mapped at PHYSMAP_BASE + paddr (NX, 1 GiB or
 * 2 MiB pages). Kernel code reaches physical memory only through these two helpers.
 * Host builds point the physmap at a simulated buffer via host_physmap_offset.
 */
#ifndef PHYS_PHYSMAP_H
#define PHYS_PHYSMAP_H

#include <kernel/types.h>

#define PHYSMAP_BASE 0xffff800000000000ull
#define PHYSMAP_SIZE (1ull << 45) /* 32 TiB: PML4 entries 256..319 */

#ifdef BERYL_HOST
extern uintptr_t host_physmap_offset;
static inline void *paddr_to_physmap(paddr_t pa) { return (void *)(uintptr_t)(pa + host_physmap_offset); }
static inline paddr_t physmap_to_paddr(const void *va) { return (paddr_t)((uintptr_t)va - host_physmap_offset); }
#else
static inline void *paddr_to_physmap(paddr_t pa) { return (void *)(uintptr_t)(pa + PHYSMAP_BASE); }
static inline paddr_t physmap_to_paddr(const void *va) { return (paddr_t)((uintptr_t)va - PHYSMAP_BASE); }
#endif

#endif
