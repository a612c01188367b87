/*
 * Host unit tests of what the page-table engine does for several CPUs
 * (kernel/arch/x86/mmu/; docs/architecture.md, "The page-table engine"):
 *   - protect and the split of a large page keep the Accessed and Dirty bits another
 *     CPU's page walker sets between the engine's read of an entry and its write (the
 *     host hook mmu_hw_host.walker_race plays that walker inside the window);
 *   - the context switch puts the CPU into the new aspace's active masks before it loads
 *     the root and takes it out of the old one's only after, keeping the bit in an
 *     aspace that is part of both (a unified aspace and its restricted part);
 *   - only the kernel aspace has global leaves: another aspace in the kernel half does not;
 *   - physical addresses are checked against the CPU's physical address width.
 */
#include "htest.h"
#include "mmu_host_env.h"

#include "../../kernel/arch/x86/mmu/mmu_priv.h"

#define R ARCH_MMU_FLAG_PERM_READ
#define W ARCH_MMU_FLAG_PERM_WRITE
#define RW (R | W)

/* An independent aspace over PML4 slots 1..7; tests map in slot 3. */
#define AS_BASE ((vaddr_t)SIZE_512G)
#define AS_SIZE ((size_t)(7 * SIZE_512G))
#define VA ((vaddr_t)(3 * SIZE_512G))
#define PA MMU_ENV_TARGET_BASE

/* Restricted below 64 TiB, shared above (as test_mmu_roles.c). */
#define RESTR_BASE ((vaddr_t)0)
#define RESTR_SIZE ((size_t)(MMU_USER_TOP / 2))
#define SHARED_BASE ((vaddr_t)(MMU_USER_TOP / 2))
#define SHARED_SIZE ((size_t)(MMU_USER_TOP / 2))

/* The last PML4 slot: a kernel-half aspace that is not the kernel aspace. */
#define TOP_BASE ((vaddr_t)0xffffff8000000000ull)

/* The entry of `level` on the walk to va (present tables above it assumed). */
static uint64_t *entry_at(arch_aspace_t *as, vaddr_t va, int level) {
    uint64_t *table = as->root;
    for (int l = MMU_ROOT_LEVEL; l > level; l--)
        table = pte_table(table[VIDX(va, l)]);
    return &table[VIDX(va, level)];
}

/* The walker of "another CPU": the first time the engine is between reading an entry it
 * keeps and writing it, sets these bits in it with a locked OR, as a CPU does. */
static uint64_t walker_bits;
static int walker_calls;

static void walker_sets_bits(uint64_t *entry) {
    if (walker_calls++ == 0)
        __atomic_fetch_or(entry, walker_bits, __ATOMIC_RELAXED);
}

static void walker_arm(uint64_t bits) {
    walker_bits = bits;
    walker_calls = 0;
    mmu_hw_host.walker_race = walker_sets_bits;
}

/* Protect keeps Accessed and Dirty that a walker sets while it rewrites a 4 KiB entry or a
 * 2 MiB one (a plain read-modify-write would store the entry it read, without them). */
HTEST(mmu_smp, protect_keeps_accessed_and_dirty_set_meanwhile) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = NULL;
    ASSERT_OK(arch_mmu_create(AS_BASE, AS_SIZE, ARCH_ASPACE_INDEPENDENT, &as));
    paddr_t pa = PA;
    ASSERT_OK(arch_mmu_map(as, VA, &pa, 1, RW, ARCH_EXISTING_ERROR, NULL));
    uint64_t *pte = mmu_env_leaf_entry(as, VA);
    ASSERT_NONNULL(pte);
    walker_arm(X86_PTE_A | X86_PTE_D);
    EXPECT_OK(arch_mmu_protect(as, VA, 1, R));
    EXPECT_TRUE(walker_calls > 0);
    EXPECT_EQ(*pte & (X86_PTE_A | X86_PTE_D | X86_PTE_W), X86_PTE_A | X86_PTE_D);

    ASSERT_OK(arch_mmu_map_contiguous(as, VA + SIZE_2M, PA, PAGES_2M, RW, NULL));
    uint64_t *pde = entry_at(as, VA + SIZE_2M, 1);
    ASSERT_TRUE(pte_large(*pde));
    walker_arm(X86_PTE_D);
    EXPECT_OK(arch_mmu_protect(as, VA + SIZE_2M, PAGES_2M, R));
    EXPECT_TRUE(walker_calls > 0);
    EXPECT_EQ(*pde & (X86_PTE_D | X86_PTE_W), X86_PTE_D);
    mmu_hw_host.walker_race = NULL;
    EXPECT_OK(arch_mmu_unmap(as, VA, 2 * PAGES_2M, ARCH_UNMAP_ENLARGE_NO, NULL));
    EXPECT_OK(arch_mmu_destroy(as));
    MMU_ENV_FINI();
}

/* Splitting a 2 MiB page (protect of part of it) while a walker sets Accessed and Dirty
 * in the large entry: every 4 KiB entry of the new table has them. */
HTEST(mmu_smp, split_keeps_accessed_and_dirty_set_meanwhile) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = NULL;
    ASSERT_OK(arch_mmu_create(AS_BASE, AS_SIZE, ARCH_ASPACE_INDEPENDENT, &as));
    ASSERT_OK(arch_mmu_map_contiguous(as, VA, PA, PAGES_2M, RW, NULL));
    ASSERT_TRUE(pte_large(*entry_at(as, VA, 1)));
    walker_arm(X86_PTE_A | X86_PTE_D);
    EXPECT_OK(arch_mmu_protect(as, VA, 1, R));
    mmu_hw_host.walker_race = NULL;
    EXPECT_TRUE(walker_calls > 0);
    size_t without = 0;
    for (size_t i = 0; i < PAGES_2M; i++) {
        uint64_t *e = mmu_env_leaf_entry(as, VA + i * SIZE_4K);
        ASSERT_NONNULL(e);
        if ((*e & (X86_PTE_A | X86_PTE_D)) != (X86_PTE_A | X86_PTE_D))
            without++;
    }
    EXPECT_EQ(without, 0u);
    EXPECT_OK(arch_mmu_unmap(as, VA, PAGES_2M, ARCH_UNMAP_ENLARGE_NO, NULL));
    EXPECT_OK(arch_mmu_destroy(as));
    MMU_ENV_FINI();
}

/* The aspaces whose masks the load hook reports. */
static arch_aspace_t *watched[3];
static arch_cpu_set_t mask_at_load[3];

static void record_masks(paddr_t root) {
    (void)root;
    for (int i = 0; i < 3; i++)
        mask_at_load[i] = watched[i] ? __atomic_load_n(&watched[i]->active_cpus, __ATOMIC_RELAXED)
                                     : 0;
}

/* Switches between a unified aspace, its restricted part and the kernel: the masks hold
 * the CPU (bit 0 on the host) before each load and lose it only when it leaves. */
HTEST(mmu_smp, context_switch_sets_before_the_load_and_clears_after) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *shared = NULL, *restr = NULL, *uni = NULL;
    ASSERT_OK(arch_mmu_create(SHARED_BASE, SHARED_SIZE, ARCH_ASPACE_SHARED, &shared));
    ASSERT_OK(arch_mmu_create(RESTR_BASE, RESTR_SIZE, ARCH_ASPACE_RESTRICTED, &restr));
    ASSERT_OK(arch_mmu_create_unified(shared, restr, &uni));
    watched[0] = uni;
    watched[1] = shared;
    watched[2] = restr;
    mmu_hw_host.on_load_root = record_masks;
    const arch_cpu_set_t cpu = mmu_hw_cpu_bit();

    /* kernel -> unified: all three hold the CPU when the root is loaded */
    arch_mmu_context_switch(NULL, uni);
    EXPECT_EQ(mmu_hw_host.current_root, uni->root_pa);
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ(mask_at_load[i], cpu);
        EXPECT_EQ(watched[i]->active_cpus, cpu);
    }
    /* unified -> restricted: at the load all three still hold it (the old root may still
     * be walked); afterwards only the restricted part, which is in both */
    arch_mmu_context_switch(uni, restr);
    EXPECT_EQ(mmu_hw_host.current_root, restr->root_pa);
    for (int i = 0; i < 3; i++)
        EXPECT_EQ(mask_at_load[i], cpu);
    EXPECT_EQ(uni->active_cpus, 0u);
    EXPECT_EQ(shared->active_cpus, 0u);
    EXPECT_EQ(restr->active_cpus, cpu);
    /* restricted -> unified and back to the kernel */
    arch_mmu_context_switch(restr, uni);
    for (int i = 0; i < 3; i++)
        EXPECT_EQ(watched[i]->active_cpus, cpu);
    mmu_hw_host.on_load_root = NULL;
    arch_mmu_context_switch(uni, NULL);
    for (int i = 0; i < 3; i++)
        EXPECT_EQ(watched[i]->active_cpus, 0u);

    EXPECT_OK(arch_mmu_destroy(uni));
    EXPECT_OK(arch_mmu_destroy(restr));
    EXPECT_OK(arch_mmu_destroy(shared));
    MMU_ENV_FINI();
}

/* An aspace in the kernel half that is not the kernel aspace maps without G: it is live
 * only where loaded, and a global entry would survive the CR3 load that leaves it. */
HTEST(mmu_smp, only_the_kernel_aspace_has_global_leaves) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *top = NULL;
    ASSERT_OK(arch_mmu_create(TOP_BASE, SIZE_512G, ARCH_ASPACE_INDEPENDENT, &top));
    paddr_t pa = PA;
    ASSERT_OK(arch_mmu_map(top, TOP_BASE, &pa, 1, RW, ARCH_EXISTING_ERROR, NULL));
    uint64_t *pte = mmu_env_leaf_entry(top, TOP_BASE);
    ASSERT_NONNULL(pte);
    EXPECT_EQ(*pte & X86_PTE_G, 0u);
    EXPECT_EQ(*pte & X86_PTE_U, 0u);
    EXPECT_OK(arch_mmu_unmap(top, TOP_BASE, 1, ARCH_UNMAP_ENLARGE_NO, NULL));
    EXPECT_OK(arch_mmu_destroy(top));
    MMU_ENV_FINI();
}

/* With a 41-bit physical address width, 2 TiB and above are reserved bits: INVALID_ARGS
 * in a page list or a contiguous run, and nothing is mapped; just below is fine. */
HTEST(mmu_smp, physical_addresses_within_the_cpu_width) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    mmu_hw_host.phys_bits = 41;
    const paddr_t limit = 1ull << 41;
    arch_aspace_t *as = NULL;
    ASSERT_OK(arch_mmu_create(AS_BASE, AS_SIZE, ARCH_ASPACE_INDEPENDENT, &as));
    paddr_t list[2] = {limit - SIZE_4K, limit};
    size_t mapped = 1;
    EXPECT_STATUS(arch_mmu_map(as, VA, list, 2, RW, ARCH_EXISTING_ERROR, &mapped),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(mapped, 0u);
    EXPECT_NULL(mmu_env_leaf_entry(as, VA));
    EXPECT_STATUS(arch_mmu_map_contiguous(as, VA, limit - SIZE_4K, 2, RW, &mapped),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(arch_mmu_map_contiguous(as, VA, limit, 1, RW, &mapped), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(arch_mmu_table_pages(as), 1u);
    EXPECT_OK(arch_mmu_map(as, VA, list, 1, RW, ARCH_EXISTING_ERROR, &mapped));
    EXPECT_EQ(mapped, 1u);
    EXPECT_OK(arch_mmu_map_contiguous(as, VA + SIZE_4K, limit - SIZE_4K, 1, RW, &mapped));
    EXPECT_OK(arch_mmu_unmap(as, VA, 2, ARCH_UNMAP_ENLARGE_NO, NULL));
    EXPECT_OK(arch_mmu_destroy(as));
    MMU_ENV_FINI();
}

/* A protect that takes several batches invalidates once, at its end. */
HTEST(mmu_smp, protect_over_many_batches_invalidates_once) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = NULL;
    ASSERT_OK(arch_mmu_create(AS_BASE, AS_SIZE, ARCH_ASPACE_INDEPENDENT, &as));
    const size_t tables = 3 * MMU_BATCH_UNITS;
    for (size_t t = 0; t < tables; t++)
        ASSERT_OK(arch_mmu_map_contiguous(as, VA + t * SIZE_2M, PA + t * SIZE_2M, PAGES_2M / 2,
                                          RW, NULL));
    arch_mmu_context_switch(NULL, as);
    mmu_env_reset_tlb_counters();
    EXPECT_OK(arch_mmu_protect(as, VA, tables * PAGES_2M, R));
    EXPECT_EQ(mmu_hw_host.full_flush + mmu_hw_host.invlpg, 1u);
    uint64_t *e = mmu_env_leaf_entry(as, VA + (tables - 1) * SIZE_2M);
    ASSERT_NONNULL(e);
    EXPECT_EQ(*e & X86_PTE_W, 0u);
    arch_mmu_context_switch(as, NULL);
    EXPECT_OK(arch_mmu_unmap(as, VA, tables * PAGES_2M, ARCH_UNMAP_ENLARGE_NO, NULL));
    EXPECT_OK(arch_mmu_destroy(as));
    MMU_ENV_FINI();
}

/* An unmap that takes several batches (more than MMU_BATCH_UNITS page tables) invalidates
 * once, at its end, and gives every table page back by then. */
HTEST(mmu_smp, unmap_over_many_batches_invalidates_once) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = NULL;
    ASSERT_OK(arch_mmu_create(AS_BASE, AS_SIZE, ARCH_ASPACE_INDEPENDENT, &as));
    const size_t tables = 3 * MMU_BATCH_UNITS;
    size_t pages_before = mmu_env_pages_in_use();
    for (size_t t = 0; t < tables; t++) {
        /* half of each page table, so every one is visited entry by entry */
        ASSERT_OK(arch_mmu_map_contiguous(as, VA + t * SIZE_2M, PA + t * SIZE_2M, PAGES_2M / 2,
                                          RW, NULL));
    }
    arch_mmu_context_switch(NULL, as);
    mmu_env_reset_tlb_counters();
    size_t unmapped = 0;
    EXPECT_OK(arch_mmu_unmap(as, VA, tables * PAGES_2M, ARCH_UNMAP_ENLARGE_NO, &unmapped));
    EXPECT_EQ(unmapped, tables * PAGES_2M / 2);
    EXPECT_EQ(mmu_hw_host.full_flush + mmu_hw_host.invlpg, 1u);
    EXPECT_EQ(arch_mmu_table_pages(as), 1u);
    EXPECT_EQ(mmu_env_pages_in_use(), pages_before);
    arch_mmu_context_switch(as, NULL);
    EXPECT_OK(arch_mmu_destroy(as));
    MMU_ENV_FINI();
}
