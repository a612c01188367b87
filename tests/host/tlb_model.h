/*
 * A TLB model for the page-table engine's host tests: simulated CPUs that cache what
 * they walk, as x86-64 CPUs may, and forget it only when the engine invalidates it.
 *
 * Each simulated CPU has a CR3, a TLB of leaf translations (virtual page of 4 KiB,
 * 2 MiB or 1 GiB -> physical address, effective W/U/NX, cache bits, G) and
 * paging-structure caches (PML4E, PDPTE and PDE caches: the table page a walk went
 * through at each level, kept even when nothing below it is present, SDM 4.10.3.1).
 * Both are small and evict at random, as real ones may. They are filled by walks of the
 * simulated tables (tlb_model_touch, and speculative walks the model makes by itself at
 * the moments the engine gives it: table unlinks and invalidation deliveries) and
 * emptied only by what the engine issues through mmu_hw.h: invlpg (the pages of every
 * size containing the address, and every paging-structure-cache entry, SDM 4.10.4.1),
 * a full flush (non-global entries, or all of them) and a CR3 load. An invalidation the
 * engine sends to other CPUs (mmu_cm_finish) runs on every simulated CPU it names; the
 * CPU bits the engine sees are the simulated CPU it runs on (tlb_model_run_on).
 *
 * Violations (recorded, first message kept; tlb_model_failed):
 *   - a table page taken out of an aspace's tree (mmu_hw_table_unlinked) is freed while
 *     a CPU that had the aspace loaded has not been invalidated since: its
 *     paging-structure caches may point at the freed page. Checked at the CPU's next
 *     invalidation (the page must still wait in the engine's free list) and by
 *     tlb_model_check (every such CPU must have been invalidated by then);
 *   - after an operation returns (tlb_model_check), a cached translation that maps a page
 *     the tables no longer map, to another address, with more permission (W, U, execute)
 *     or other cache bits than the tables grant now (less permission is allowed), or a
 *     paging-structure-cache entry that is not what the tables hold now;
 *   - at any moment, a CPU holding translations of two page sizes for one address that
 *     differ in address or attributes (SDM 4.10.2.3: which one is used is undefined):
 *     checked when a walk fills one, and at every invalidation a CPU receives, for each
 *     large page it caches whose tables have been split since.
 */
#ifndef TLB_MODEL_H
#define TLB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/mmu.h>
#include <kernel/types.h>

#define TLB_MODEL_MAX_CPUS 8

struct tlb_model_stats {
    uint64_t fills;      /* leaf translations cached */
    uint64_t psc_fills;  /* paging-structure-cache entries cached */
    uint64_t spec_walks; /* walks the model made by itself during operations */
    uint64_t drops;      /* invalidations received (invlpg, flushes, CR3 loads) */
    uint64_t ipis;       /* invalidations delivered to another simulated CPU */
    uint64_t unlinked;   /* table pages that left a tree while some CPU could reach it */
    uint64_t violations;
};

/*
 * Installs the model into mmu_hw_host (after mmu_env_init) with `ncpus` CPUs, none with
 * an aspace loaded, the engine running on CPU 0. Simulated RAM is [ram_lo, ram_hi): a
 * walk never reads a table outside it. `seed` drives eviction and speculation.
 */
void tlb_model_install(unsigned ncpus, uint64_t seed, paddr_t ram_lo, paddr_t ram_hi);
/* Removes it again (before MMU_ENV_FINI); every CPU must have switched away (NULL). */
void tlb_model_uninstall(void);

/* The simulated CPU the following engine calls run on. */
void tlb_model_run_on(unsigned cpu);

/*
 * Context switch on `cpu` from the aspace it has loaded to `as` (arch_mmu_context_switch,
 * on that CPU). NULL unloads: the CPU keeps no root and caches nothing (the host tests
 * have no kernel aspace to fall back to).
 */
void tlb_model_switch(unsigned cpu, arch_aspace_t *as);
arch_aspace_t *tlb_model_loaded(unsigned cpu);

/*
 * The kernel half: every CPU with a root loaded translates kernel addresses through
 * `kernel`'s tables (a kernel-half aspace the test created), as every real root shares
 * the kernel's top-level entries. It becomes the kernel aspace for the engine too
 * (mmu_host_set_kernel_aspace): global leaves that survive CR3 loads, changes shot down on
 * every CPU. Call it before anything is mapped in `kernel`.
 */
void tlb_model_set_kernel(arch_aspace_t *kernel);

/*
 * `cpu` accesses va (write or read): a cached translation is used as is; otherwise the
 * CPU walks, starting from its deepest paging-structure-cache hit, sets Accessed (and
 * Dirty on a permitted write) in what it reads, and caches the walk. Returns whether va
 * translated.
 */
bool tlb_model_touch(unsigned cpu, vaddr_t va, bool write);

/* Where the model's own speculative walks during an operation go: [va, va + size). */
void tlb_model_set_hot(vaddr_t va, size_t size);

/* Whether `cpu` caches a translation for va (any size), and its physical address. */
bool tlb_model_cached(unsigned cpu, vaddr_t va, paddr_t *pa);

/* The checks after an operation returned (see above). Returns false on any violation. */
bool tlb_model_check(void);

/* True once any violation was seen; tlb_model_error() is the first one's description. */
bool tlb_model_failed(void);
const char *tlb_model_error(void);

const struct tlb_model_stats *tlb_model_stats(void);

#endif
