/* Simulated physical memory for the MMU host tests (see mmu_host_env.h). */
#include "mmu_host_env.h"

#include <stdio.h>
#include <stdlib.h>

#include <phys/heap.h>
#include <phys/memrange.h>
#include <phys/physmap.h>
#include <phys/pmm.h>
#include <phys/vm_page.h>

#include "htest.h"
#include "../../kernel/arch/x86/mmu/mmu_priv.h"

#define ENV_RANGES 2

static uint8_t *sim_mem;       /* the simulated RAM */
static size_t sim_bytes;       /* its size */
static vm_page_t *sim_pages;   /* vm_page records for frames [0, sim_frames) */
static size_t sim_frames;
static size_t baseline_free;   /* free pages right after mmu_env_init */

/* (Re)allocates the buffer and page array when the requested size changes. */
static void env_alloc(size_t bytes) {
    if (sim_mem && sim_bytes == bytes)
        return;
    free(sim_mem);
    free(sim_pages);
    sim_bytes = bytes;
    sim_frames = (size_t)((SIM_BASE + bytes) >> PAGE_SHIFT);
    sim_mem = aligned_alloc(SIZE_2M, bytes);
    sim_pages = calloc(sim_frames, sizeof(vm_page_t));
    if (!sim_mem || !sim_pages) {
        fprintf(stderr, "mmu_host_env: out of host memory (%zu bytes)\n", bytes);
        abort();
    }
}

void mmu_env_init(size_t bytes) {
    if (bytes == 0 || bytes % PAGE_SIZE) {
        fprintf(stderr, "mmu_host_env: bad size %zu\n", bytes);
        abort();
    }
    env_alloc(bytes);
    host_physmap_offset = (uintptr_t)sim_mem - (uintptr_t)SIM_BASE;

    struct mem_range storage[ENV_RANGES];
    struct range_set free_set;
    range_set_init(&free_set, storage, ENV_RANGES);
    if (range_set_add(&free_set, SIM_BASE, bytes) != ZX_OK ||
        pmm_init(sim_pages, sim_frames, &free_set, NULL) != ZX_OK) {
        fprintf(stderr, "mmu_host_env: pmm_init failed\n");
        abort();
    }
    heap_init();

    mmu_hw_host.page1g = true;
    mmu_hw_host.nx = true;
    mmu_hw_host.phys_bits = 52;
    mmu_hw_host.on_load_root = NULL;
    mmu_hw_host.walker_race = NULL;
    mmu_hw_host.cr3_loads = 0;
    mmu_hw_host.current_root = 0;
    mmu_hw_host.sim = NULL;
    mmu_env_reset_tlb_counters();
    baseline_free = pmm_count_free_pages();
}

size_t mmu_env_baseline(void) { return baseline_free; }

/* The heap's spare empty slabs (phys/heap.h) are given back first: not in use. */
size_t mmu_env_pages_in_use(void) {
    heap_trim();
    return baseline_free - pmm_count_free_pages();
}

void mmu_env_fini_at(const char *file, int line) {
    pmm_fault_inject_every(0);
    pmm_fault_inject_random(0, 0);
    heap_trim();
    size_t now = pmm_count_free_pages();
    if (now != baseline_free)
        htest_fail(file, line, "leak: %zu PMM pages still allocated after teardown "
                   "(free %zu, baseline %zu)", baseline_free - now, now, baseline_free);
}

void mmu_env_fill_run(paddr_t *phys, size_t count, paddr_t first) {
    for (size_t i = 0; i < count; i++)
        phys[i] = first + i * SIZE_4K;
}

bool mmu_env_expect_mapping_at(const char *file, int line, arch_aspace_t *as, vaddr_t va,
                               paddr_t paddr, uint32_t flags, size_t page_size) {
    paddr_t got_pa = 0;
    uint32_t got_flags = 0;
    size_t got_size = 0;
    zx_status_t st = arch_mmu_query(as, va, &got_pa, &got_flags, &got_size);
    if (st != ZX_OK) {
        htest_fail(file, line, "query(0x%llx): status %d, expected mapping to 0x%llx",
                   (unsigned long long)va, st, (unsigned long long)paddr);
        return false;
    }
    if (got_pa != paddr || got_flags != flags || got_size != page_size) {
        htest_fail(file, line,
                   "query(0x%llx): got pa 0x%llx flags 0x%x size 0x%zx, "
                   "expected pa 0x%llx flags 0x%x size 0x%zx",
                   (unsigned long long)va, (unsigned long long)got_pa, got_flags, got_size,
                   (unsigned long long)paddr, flags, page_size);
        return false;
    }
    return true;
}

bool mmu_env_expect_unmapped_at(const char *file, int line, arch_aspace_t *as, vaddr_t va) {
    paddr_t got_pa = 0;
    size_t got_size = 0;
    zx_status_t st = arch_mmu_query(as, va, &got_pa, NULL, &got_size);
    if (st != ZX_ERR_NOT_FOUND) {
        htest_fail(file, line,
                   "query(0x%llx): status %d (pa 0x%llx size 0x%zx), expected NOT_FOUND",
                   (unsigned long long)va, st, (unsigned long long)got_pa, got_size);
        return false;
    }
    return true;
}

void mmu_env_reset_tlb_counters(void) {
    mmu_hw_host.invlpg = 0;
    mmu_hw_host.full_flush = 0;
    mmu_hw_host.global_flush = 0;
}

uint64_t *mmu_env_leaf_entry(arch_aspace_t *as, vaddr_t va) {
    uint64_t *table = as->root;
    for (int level = MMU_ROOT_LEVEL; level > 0; level--) {
        uint64_t e = table[VIDX(va, level)];
        if (!pte_present(e) || pte_large(e))
            return NULL;
        table = pte_table(e);
    }
    return &table[VIDX(va, 0)];
}
