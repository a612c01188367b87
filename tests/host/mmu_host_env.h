/*
 * Simulated physical memory for the host tests of the x86-64 page-table engine
 * (kernel/arch/x86/mmu/ behind kernel/include/arch/mmu.h).
 *
 * A host buffer stands for physical [SIM_BASE, SIM_BASE + size); host_physmap_offset
 * points the physmap at it, a vm_page array covers frames [0, (SIM_BASE + size) >> 12),
 * and the real PMM and heap run on top. The engine only ever touches its own table pages
 * (which come from the PMM), never the memory it maps, so tests may map any physical
 * address, including ones far beyond the buffer (see MMU_ENV_TARGET_BASE).
 *
 * Every test starts with mmu_env_init(), which resets PMM, heap, fault injection and the
 * mmu_hw_host counters and switches, and ends with MMU_ENV_FINI(), which turns fault
 * injection off and reports a failure if any PMM page is still allocated (a leaked table
 * page or aspace struct).
 */
#ifndef MMU_HOST_ENV_H
#define MMU_HOST_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/mmu.h>
#include <kernel/types.h>

/* mmu_hw_host: the engine's simulated hardware (switches and invalidation counters). */
#include "../../kernel/arch/x86/mmu/mmu_hw.h"

#define KIB (1024ull)
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)
#define TIB (1024ull * GIB)

#define SIZE_4K ((size_t)PAGE_SIZE)
#define SIZE_2M ((size_t)(2 * MIB))
#define SIZE_1G ((size_t)GIB)
#define SIZE_512G ((size_t)(512 * GIB))   /* one PML4 slot */
#define PAGES_2M (SIZE_2M / SIZE_4K)       /* 512 */
#define PAGES_1G (SIZE_1G / SIZE_4K)       /* 262144 */

/* First simulated physical address: 2 MiB so that frame 0 is never handed out. */
#define SIM_BASE ((paddr_t)(2 * MIB))
/* Default size of simulated RAM (enough for every test in this directory). */
#define MMU_ENV_DEFAULT_BYTES ((size_t)(64 * MIB))

/*
 * Physical addresses tests use as mapping targets: 1 TiB, far above the simulated RAM and
 * 1 GiB aligned, so large-page targets are easy to build and can never be mistaken for a
 * table page.
 */
#define MMU_ENV_TARGET_BASE ((paddr_t)TIB)

/* The user half of the canonical address space ends here (exclusive). */
#define MMU_USER_TOP (1ull << 47)
/* The kernel half starts here. */
#define MMU_KERNEL_BASE 0xffff800000000000ull

/* Resets everything (see above) over `bytes` of simulated RAM (a multiple of 4 KiB). */
void mmu_env_init(size_t bytes);

/* Free PMM pages right after mmu_env_init (the leak baseline). */
size_t mmu_env_baseline(void);

/* Implementation of MMU_ENV_FINI; `file`/`line` name the caller in failure messages. */
void mmu_env_fini_at(const char *file, int line);
#define MMU_ENV_FINI() mmu_env_fini_at(__FILE__, __LINE__)

/* Pages the PMM has handed out since mmu_env_init (table pages + heap pages). */
size_t mmu_env_pages_in_use(void);

/* The level-0 entry that maps va, read through the tables as the CPU walks them; NULL when
 * there is none (a level missing, or a large page on the way). */
uint64_t *mmu_env_leaf_entry(arch_aspace_t *as, vaddr_t va);

/* Fills phys[0..count) with first, first + 4K, ... (a contiguous run as a page list). */
void mmu_env_fill_run(paddr_t *phys, size_t count, paddr_t first);

/*
 * Queries va and records a test failure (at file:line) unless it is mapped to `paddr`
 * with exactly `flags` by an entry of `page_size` bytes. Returns true when it matched.
 */
bool mmu_env_expect_mapping_at(const char *file, int line, arch_aspace_t *as, vaddr_t va,
                               paddr_t paddr, uint32_t flags, size_t page_size);
#define EXPECT_MAPPING(as, va, pa, flags, size) \
    mmu_env_expect_mapping_at(__FILE__, __LINE__, (as), (va), (pa), (flags), (size))

/* Records a failure unless va is unmapped (query returns ZX_ERR_NOT_FOUND). */
bool mmu_env_expect_unmapped_at(const char *file, int line, arch_aspace_t *as, vaddr_t va);
#define EXPECT_UNMAPPED(as, va) mmu_env_expect_unmapped_at(__FILE__, __LINE__, (as), (va))

/* Resets the mmu_hw_host invalidation counters (invlpg, full and global flushes). */
void mmu_env_reset_tlb_counters(void);

#endif
