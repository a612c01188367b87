/*
 * The page-table engine against the TLB model (tlb_model.h): focused tests of what
 * simulated CPUs may cache across engine operations, one per finding the model made,
 * and checks that the model itself sees what it must. The random model checker with the
 * TLB model is test_mmu_tlb_random.c.
 *
 * Every test runs on fresh simulated RAM; CPU 1 (and sometimes CPU 0) has the aspace
 * loaded and touches pages, the engine runs on CPU 0.
 */
#include "htest.h"
#include "mmu_host_env.h"
#include "tlb_model.h"

#include <phys/pmm.h>

#define R ARCH_MMU_FLAG_PERM_READ
#define W ARCH_MMU_FLAG_PERM_WRITE
#define RW (R | W)

/* A 1 GiB-aligned address with nothing mapped in its PML4 slot. */
#define VA ((vaddr_t)(16 * GIB))
#define PA MMU_ENV_TARGET_BASE
#define PA2 (MMU_ENV_TARGET_BASE + 8 * GIB)
#define NCPUS 2

static arch_aspace_t *as;
static paddr_t phys[PAGES_2M + 1];

/* Fresh RAM, the model with NCPUS CPUs, one user aspace loaded on CPUs `loaded_mask`. */
static bool setup(unsigned loaded_mask) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    tlb_model_install(NCPUS, htest_seed(), SIM_BASE, SIM_BASE + MMU_ENV_DEFAULT_BYTES);
    if (arch_mmu_create(0, MMU_USER_TOP, ARCH_ASPACE_INDEPENDENT, &as) != ZX_OK)
        return false;
    for (unsigned c = 0; c < NCPUS; c++)
        if (loaded_mask & (1u << c))
            tlb_model_switch(c, as);
    tlb_model_run_on(0);
    return true;
}

static void teardown_at(int line) {
    for (unsigned c = 0; c < NCPUS; c++)
        tlb_model_switch(c, NULL);
    if (arch_mmu_unmap(as, VA, 4 * PAGES_1G, ARCH_UNMAP_ENLARGE_YES, NULL) != ZX_OK ||
        arch_mmu_destroy(as) != ZX_OK)
        htest_fail(__FILE__, line, "teardown failed");
    tlb_model_uninstall();
    mmu_env_fini_at(__FILE__, line);
}
#define TEARDOWN() teardown_at(__LINE__)

/* Records the model's first violation (and its message) as a failure at `line`. */
static void expect_model_ok_at(int line) {
    if (!tlb_model_check() || tlb_model_failed())
        htest_fail(__FILE__, line, "TLB model: %s", tlb_model_error());
}
#define EXPECT_MODEL_OK() expect_model_ok_at(__LINE__)

/* ---------------------------------------------------------------- the model itself */

/* A CPU that does not get the engine's invalidations keeps translations the check sees. */
HTEST(mmu_tlb, model_sees_a_translation_left_behind) {
    ASSERT_TRUE(setup(1u << 1));
    mmu_env_fill_run(phys, 4, PA);
    ASSERT_OK(arch_mmu_map(as, VA, phys, 4, RW, ARCH_EXISTING_ERROR, NULL));
    EXPECT_TRUE(tlb_model_touch(1, VA + SIZE_4K, true));
    EXPECT_TRUE(tlb_model_cached(1, VA + SIZE_4K, NULL));
    EXPECT_MODEL_OK();
    /* The engine's invalidations go nowhere while the hooks are off. */
    const struct mmu_hw_sim *sim = mmu_hw_host.sim;
    mmu_hw_host.sim = NULL;
    EXPECT_OK(arch_mmu_protect(as, VA, 4, R));
    mmu_hw_host.sim = sim;
    EXPECT_FALSE(tlb_model_check());
    EXPECT_TRUE(strstr(tlb_model_error(), "grant less") != NULL);
    TEARDOWN();
}

/* With the hooks on, the same protect and an unmap reach CPU 1 (through the IPI path). */
HTEST(mmu_tlb, shootdown_reaches_the_other_cpu) {
    ASSERT_TRUE(setup(1u << 1));
    mmu_env_fill_run(phys, 4, PA);
    ASSERT_OK(arch_mmu_map(as, VA, phys, 4, RW, ARCH_EXISTING_ERROR, NULL));
    EXPECT_TRUE(tlb_model_touch(1, VA + SIZE_4K, true));
    EXPECT_OK(arch_mmu_protect(as, VA, 4, R));
    EXPECT_FALSE(tlb_model_cached(1, VA + SIZE_4K, NULL));
    EXPECT_MODEL_OK();
    EXPECT_TRUE(tlb_model_touch(1, VA + 2 * SIZE_4K, false));
    EXPECT_OK(arch_mmu_unmap(as, VA, 4, ARCH_UNMAP_ENLARGE_NO, NULL));
    EXPECT_FALSE(tlb_model_cached(1, VA + 2 * SIZE_4K, NULL));
    EXPECT_GE(tlb_model_stats()->ipis, 2u);
    EXPECT_MODEL_OK();
    TEARDOWN();
}

/*
 * A CPU running a unified aspace walks its shared and restricted parts' tables: a change
 * to either part reaches it, and so does the freeing of a restricted part's tables.
 */
HTEST(mmu_tlb, shootdown_reaches_a_cpu_running_the_unified_aspace) {
    ASSERT_TRUE(setup(0));
    arch_aspace_t *shared, *restricted, *unified;
    ASSERT_OK(arch_mmu_create(SIZE_512G, SIZE_512G, ARCH_ASPACE_SHARED, &shared));
    ASSERT_OK(arch_mmu_create(0, SIZE_512G, ARCH_ASPACE_RESTRICTED, &restricted));
    ASSERT_OK(arch_mmu_create_unified(shared, restricted, &unified));
    tlb_model_switch(1, unified);
    mmu_env_fill_run(phys, 2, PA);
    ASSERT_OK(arch_mmu_map(shared, SIZE_512G + VA, phys, 1, RW, ARCH_EXISTING_ERROR, NULL));
    ASSERT_OK(arch_mmu_map(restricted, VA, phys + 1, 1, RW, ARCH_EXISTING_ERROR, NULL));
    EXPECT_TRUE(tlb_model_touch(1, SIZE_512G + VA, true));
    EXPECT_TRUE(tlb_model_touch(1, VA, true));
    EXPECT_OK(arch_mmu_protect(shared, SIZE_512G + VA, 1, R));
    EXPECT_OK(arch_mmu_unmap(restricted, VA, 1, ARCH_UNMAP_ENLARGE_NO, NULL));
    EXPECT_FALSE(tlb_model_cached(1, SIZE_512G + VA, NULL));
    EXPECT_FALSE(tlb_model_cached(1, VA, NULL));
    EXPECT_MODEL_OK();
    tlb_model_switch(1, NULL);
    EXPECT_OK(arch_mmu_unmap(shared, SIZE_512G + VA, 1, ARCH_UNMAP_ENLARGE_NO, NULL));
    EXPECT_OK(arch_mmu_destroy(unified));
    EXPECT_OK(arch_mmu_destroy(restricted));
    EXPECT_OK(arch_mmu_destroy(shared));
    TEARDOWN();
}

/* An IPI path that loses every request. */
static void lose_ipi(arch_cpu_set_t cpus, arch_ipi_fn_t fn, void *arg) {
    (void)cpus;
    (void)fn;
    (void)arg;
}

/* Tables freed while a CPU that runs the aspace got no invalidation are reported, even
 * though no walk of that CPU went through them. */
HTEST(mmu_tlb, model_sees_tables_freed_without_invalidation) {
    ASSERT_TRUE(setup(1u << 1));
    mmu_env_fill_run(phys, 1, PA);
    ASSERT_OK(arch_mmu_map(as, VA, phys, 1, RW, ARCH_EXISTING_ERROR, NULL));
    const struct mmu_hw_sim *sim = mmu_hw_host.sim;
    struct mmu_hw_sim lossy = *sim;
    lossy.ipi_call = lose_ipi;
    mmu_hw_host.sim = &lossy;
    EXPECT_OK(arch_mmu_unmap(as, VA, 1, ARCH_UNMAP_ENLARGE_NO, NULL));
    mmu_hw_host.sim = sim;
    EXPECT_FALSE(tlb_model_check());
    EXPECT_TRUE(strstr(tlb_model_error(), "no invalidation after table") != NULL);
    TEARDOWN();
}

/* ---------------------------------------------------------------- D1: rollback frees */

/*
 * A map that fails with ALREADY_EXISTS after its first pass linked a new page table:
 * a 2 MiB page at VA + 2 MiB, then 513 pages at VA. The new table under VA's PD entry
 * goes back to the PMM, so the CPU running the aspace must be invalidated first (it may
 * cache the PD entry although nothing below is present, SDM 4.10.3.1).
 */
HTEST(mmu_tlb, rollback_of_already_exists_invalidates_before_freeing) {
    ASSERT_TRUE(setup(1u << 1));
    ASSERT_OK(arch_mmu_map_contiguous(as, VA + SIZE_2M, PA, PAGES_2M, RW, NULL));
    EXPECT_TRUE(tlb_model_touch(1, VA + SIZE_2M, false));
    EXPECT_MODEL_OK();
    size_t before = arch_mmu_table_pages(as);
    mmu_env_fill_run(phys, PAGES_2M + 1, PA2);
    size_t mapped = 1;
    EXPECT_STATUS(arch_mmu_map(as, VA, phys, PAGES_2M + 1, RW, ARCH_EXISTING_ERROR, &mapped),
                  ZX_ERR_ALREADY_EXISTS);
    EXPECT_EQ(mapped, 0u);
    EXPECT_EQ(arch_mmu_table_pages(as), before);
    EXPECT_MODEL_OK();
    TEARDOWN();
}

/*
 * A one-page map (a page fault) that runs out of memory after linking a new page
 * directory: the PD is freed, after an invalidation on the CPU running the aspace.
 */
HTEST(mmu_tlb, rollback_of_one_page_out_of_memory_invalidates_before_freeing) {
    ASSERT_TRUE(setup((1u << 0) | (1u << 1)));
    /* The PDPT exists (another GiB of the slot is mapped); VA's GiB has no PD yet. */
    mmu_env_fill_run(phys, 1, PA);
    ASSERT_OK(arch_mmu_map(as, VA + SIZE_1G, phys, 1, RW, ARCH_EXISTING_ERROR, NULL));
    EXPECT_TRUE(tlb_model_touch(1, VA + SIZE_1G, false));
    size_t before = arch_mmu_table_pages(as);
    pmm_fault_inject_every(2); /* the PD allocation succeeds, the PT one fails */
    EXPECT_STATUS(arch_mmu_map(as, VA, phys, 1, RW, ARCH_EXISTING_ERROR, NULL),
                  ZX_ERR_NO_MEMORY);
    pmm_fault_inject_every(0);
    EXPECT_EQ(arch_mmu_table_pages(as), before);
    EXPECT_MODEL_OK();
    TEARDOWN();
}

/* ------------------------------------------------ D3: split, then a change, one batch */

/*
 * protect of part of a 2 MiB page that CPU 1 caches whole: the page is split and some of
 * its 4 KiB entries made read-only. Until the large translation is invalidated, CPU 1
 * may cache it next to 4 KiB ones with other permissions (undefined, SDM 4.10.2.3), so
 * the split must be invalidated before any entry of the new table changes.
 */
HTEST(mmu_tlb, protect_inside_a_large_page_invalidates_the_split_first) {
    ASSERT_TRUE(setup(1u << 1));
    ASSERT_OK(arch_mmu_map_contiguous(as, VA, PA, PAGES_2M, RW, NULL));
    EXPECT_TRUE(tlb_model_touch(1, VA + 5 * SIZE_4K, true));
    EXPECT_OK(arch_mmu_protect(as, VA + 16 * SIZE_4K, 4, R));
    EXPECT_MODEL_OK();
    EXPECT_MAPPING(as, VA + 16 * SIZE_4K, PA + 16 * SIZE_4K, R,
                   SIZE_4K);
    TEARDOWN();
}

/* The same for a 1 GiB page split down to 4 KiB entries by one protect. */
HTEST(mmu_tlb, protect_inside_a_1g_page_invalidates_each_split_first) {
    ASSERT_TRUE(setup(1u << 1));
    ASSERT_OK(arch_mmu_map_contiguous(as, VA, PA, PAGES_1G, RW, NULL));
    EXPECT_TRUE(tlb_model_touch(1, VA + 3 * SIZE_2M, true));
    EXPECT_OK(arch_mmu_protect(as, VA + 3 * SIZE_2M + 7 * SIZE_4K, 2, R));
    EXPECT_MODEL_OK();
    TEARDOWN();
}

/* An UPGRADE map of one page inside a cached 2 MiB page: split, then a new address. */
HTEST(mmu_tlb, upgrade_inside_a_large_page_invalidates_the_split_first) {
    ASSERT_TRUE(setup(1u << 1));
    ASSERT_OK(arch_mmu_map_contiguous(as, VA, PA, PAGES_2M, RW, NULL));
    EXPECT_TRUE(tlb_model_touch(1, VA, true));
    mmu_env_fill_run(phys, 1, PA2);
    EXPECT_OK(arch_mmu_map(as, VA + 8 * SIZE_4K, phys, 1, RW, ARCH_EXISTING_UPGRADE, NULL));
    EXPECT_MODEL_OK();
    EXPECT_MAPPING(as, VA + 8 * SIZE_4K, PA2, RW, SIZE_4K);
    TEARDOWN();
}
