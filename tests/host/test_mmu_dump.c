/*
 * Host unit tests of the page-table dumps (kernel/arch/x86/mmu/dump.c; format in
 * docs/architecture.md, "Dump format"): the merge rule for runs of leaves, runs that
 * cross tables and the dump's locked batches, the leaves-only view with its "not
 * populated" stretches, and a unified aspace's counts and table owners. Also what needs
 * the raw entries the dumps read: the Accessed and Dirty bits an UPGRADE map to the same
 * translation must leave alone (map.c).
 */
#include "htest.h"
#include "mmu_host_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../kernel/arch/x86/mmu/mmu_priv.h"

#define R ARCH_MMU_FLAG_PERM_READ
#define W ARCH_MMU_FLAG_PERM_WRITE
#define U ARCH_MMU_FLAG_PERM_USER
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

#define MAX_PAGES 2048
#define OUT_BYTES (256 * 1024)

static paddr_t phys[MAX_PAGES];
static char out[OUT_BYTES];

/* Runs fn with stdout captured into out (NUL-terminated). */
static void capture(void (*fn)(void *), void *ctx) {
    FILE *tmp = tmpfile();
    if (!tmp)
        abort();
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fileno(tmp), STDOUT_FILENO);
    fn(ctx);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, sizeof(out) - 1, tmp);
    out[n] = 0;
    fclose(tmp);
}

struct dump_args {
    arch_aspace_t *as;
    vaddr_t va;
    size_t size;
    bool leaves;
    arch_mmu_gap_note_fn note;
};

static void run_dump(void *ctx) {
    struct dump_args *a = ctx;
    if (a->leaves)
        arch_mmu_dump_leaves(a->as, a->va, a->size, 0, a->note, a);
    else
        arch_mmu_dump(a->as, a->va, a->size);
}

static void dump_into_out(arch_aspace_t *as, vaddr_t va, size_t size, bool leaves) {
    struct dump_args a = {as, va, size, leaves, NULL};
    capture(run_dump, &a);
}

/* A gap note that prints the stretch's page count again, so the test sees it called
 * with the right range inside the parenthesis. */
static void note_pages(void *ctx, vaddr_t first, vaddr_t last) {
    (void)ctx;
    printf(", note %zu", (size_t)((last - first + 1) / SIZE_4K));
}

static size_t count_lines(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static size_t count_substr(const char *s, const char *sub) {
    size_t n = 0;
    for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub))
        n++;
    return n;
}

static void teardown(arch_aspace_t *as, vaddr_t base, size_t size) {
    EXPECT_OK(arch_mmu_unmap(as, base, size / SIZE_4K, ARCH_UNMAP_ENLARGE_NO, NULL));
    EXPECT_OK(arch_mmu_destroy(as));
}

/* The merge rule: only the address (advancing by the page size), A and D may differ. */
HTEST(mmu_dump, merge_rule) {
    const uint64_t P = X86_PTE_P, Wb = X86_PTE_W, Ub = X86_PTE_U;
    uint64_t first = PA | P | Wb | Ub;
    vaddr_t end1 = VA + SIZE_4K - 1;
    EXPECT_TRUE(mmu_leaf_run_continues(first, VA, end1, 0, (PA + SIZE_4K) | P | Wb | Ub, VA + SIZE_4K));
    EXPECT_TRUE(mmu_leaf_run_continues(first, VA, end1, 0,
                                       (PA + SIZE_4K) | P | Wb | Ub | X86_PTE_A | X86_PTE_D,
                                       VA + SIZE_4K));
    EXPECT_TRUE(mmu_leaf_run_continues(first, VA, VA + 3 * SIZE_4K - 1, 0,
                                       (PA + 3 * SIZE_4K) | P | Wb | Ub, VA + 3 * SIZE_4K));
    /* the same page again, a page further, a hole, other permissions or cache policy */
    EXPECT_FALSE(mmu_leaf_run_continues(first, VA, end1, 0, PA | P | Wb | Ub, VA + SIZE_4K));
    EXPECT_FALSE(mmu_leaf_run_continues(first, VA, end1, 0, (PA + 2 * SIZE_4K) | P | Wb | Ub,
                                        VA + SIZE_4K));
    EXPECT_FALSE(mmu_leaf_run_continues(first, VA, end1, 0, (PA + 2 * SIZE_4K) | P | Wb | Ub,
                                        VA + 2 * SIZE_4K));
    EXPECT_FALSE(mmu_leaf_run_continues(first, VA, end1, 0, (PA + SIZE_4K) | P | Ub, VA + SIZE_4K));
    EXPECT_FALSE(mmu_leaf_run_continues(first, VA, end1, 0,
                                        (PA + SIZE_4K) | P | Wb | Ub | X86_PTE_NX, VA + SIZE_4K));
    EXPECT_FALSE(mmu_leaf_run_continues(first, VA, end1, 0,
                                        (PA + SIZE_4K) | P | Wb | Ub | X86_PTE_PCD, VA + SIZE_4K));
    EXPECT_FALSE(mmu_leaf_run_continues(first, VA, end1, 0,
                                        (PA + SIZE_4K) | P | Wb | Ub | X86_PTE_G, VA + SIZE_4K));
    /* nothing follows the top of the address space */
    EXPECT_FALSE(mmu_leaf_run_continues(first, (vaddr_t)-SIZE_4K, (vaddr_t)-1, 0,
                                        (PA + SIZE_4K) | P | Wb | Ub, 0));
    /* 2 MiB pages advance by 2 MiB; bit 12 of a large entry is PAT, not address */
    uint64_t large = PA | P | Wb | X86_PTE_PS;
    EXPECT_TRUE(mmu_leaf_run_continues(large, VA, VA + SIZE_2M - 1, 1,
                                       (PA + SIZE_2M) | P | Wb | X86_PTE_PS, VA + SIZE_2M));
    EXPECT_FALSE(mmu_leaf_run_continues(large, VA, VA + SIZE_2M - 1, 1,
                                        (PA + SIZE_2M) | P | Wb | X86_PTE_PS | (1ull << 12),
                                        VA + SIZE_2M));
}

/*
 * 1100 contiguous pages from slot 412 of a page table: three tables, so three run lines
 * in the table dump ([412-511], [0-511], [0-487]); one line in the leaves view, between
 * two "not populated" stretches. The walk stops for breath every 1024 entries, in the
 * middle of the run, so this also checks that a run carries over between batches.
 */
HTEST(mmu_dump, runs_cross_tables_and_batches) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = NULL;
    ASSERT_OK(arch_mmu_create(AS_BASE, AS_SIZE, ARCH_ASPACE_INDEPENDENT, &as));
    const size_t first_slot = 412, n = 1100;
    mmu_env_fill_run(phys, n, PA);
    ASSERT_OK(arch_mmu_map(as, VA + first_slot * SIZE_4K, phys, n, RW | U, ARCH_EXISTING_ERROR,
                           NULL));
    dump_into_out(as, 0, 0, false);
    EXPECT_TRUE(strstr(out, "L0 [412-511] ") != NULL);
    EXPECT_TRUE(strstr(out, "4K rw- user wb (100 pages)\n") != NULL);
    EXPECT_TRUE(strstr(out, "L0 [0-511] ") != NULL);
    EXPECT_TRUE(strstr(out, "4K rw- user wb (512 pages)\n") != NULL);
    EXPECT_TRUE(strstr(out, "L0 [0-487] ") != NULL);
    EXPECT_TRUE(strstr(out, "4K rw- user wb (488 pages)\n") != NULL);
    EXPECT_EQ(count_substr(out, " owner own\n"), 5u); /* PDPT, PD, three PTs */
    EXPECT_TRUE(strstr(out, "mmu dump: end of root 0x") != NULL);
    EXPECT_TRUE(strstr(out, ", 5 tables listed, 0 empty pinned tables not listed\n") != NULL);
    /* header, 5 tables, 3 runs, end */
    EXPECT_EQ(count_lines(out), 10u);
    if (count_lines(out) != 10u)
        printf("%s", out);

    dump_into_out(as, VA, 2048 * SIZE_4K, true);
    char want[160];
    snprintf(want, sizeof(want),
             "not populated 0x%016lx-0x%016lx (412 pages)\n"
             "L0 0x%016lx-0x%016lx pages 0x%016lx-0x%016lx 4K rw- user wb (1100 pages)\n",
             VA, VA + first_slot * SIZE_4K - 1, VA + first_slot * SIZE_4K,
             VA + (first_slot + n) * SIZE_4K - 1, PA, PA + n * SIZE_4K - 1);
    EXPECT_TRUE(strncmp(out, want, strlen(want)) == 0);
    EXPECT_TRUE(strstr(out, "(536 pages)\n") != NULL); /* 2048 - 412 - 1100 */
    EXPECT_EQ(count_lines(out), 3u);
    struct dump_args with_note = {as, VA, 2048 * SIZE_4K, true, note_pages};
    capture(run_dump, &with_note);
    EXPECT_TRUE(strstr(out, "(412 pages, note 412)\n") != NULL);
    EXPECT_TRUE(strstr(out, "(536 pages, note 536)\n") != NULL);
    if (strncmp(out, want, strlen(want)) != 0)
        printf("want:\n%sgot:\n%s", want, out);
    teardown(as, AS_BASE, AS_SIZE);
    MMU_ENV_FINI();
}

/* 300 pages in runs of 3 (each run's memory apart from the next one's): 100 lines, none
 * lost or repeated across the batches of 4 lines. */
HTEST(mmu_dump, batches_lose_nothing) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = NULL;
    ASSERT_OK(arch_mmu_create(AS_BASE, AS_SIZE, ARCH_ASPACE_INDEPENDENT, &as));
    const size_t n = 300;
    for (size_t i = 0; i < n; i++)
        phys[i] = PA + (i / 3) * 4 * SIZE_4K + (i % 3) * SIZE_4K;
    ASSERT_OK(arch_mmu_map(as, VA, phys, n, R | U, ARCH_EXISTING_ERROR, NULL));
    dump_into_out(as, 0, 0, false);
    EXPECT_EQ(count_substr(out, "(3 pages)\n"), 100u);
    for (size_t run = 0; run < 100; run++) {
        char idx[32];
        snprintf(idx, sizeof(idx), "L0 [%zu-%zu] ", run * 3, run * 3 + 2);
        EXPECT_EQ(count_substr(out, idx), 1u);
    }
    EXPECT_EQ(count_lines(out), 1u + 3u + 100u + 1u);
    dump_into_out(as, VA, n * SIZE_4K, true);
    EXPECT_EQ(count_substr(out, "r-- user wb (3 pages)\n"), 100u);
    EXPECT_EQ(count_lines(out), 100u);
    EXPECT_TRUE(strstr(out, "not populated") == NULL);
    teardown(as, AS_BASE, AS_SIZE);
    MMU_ENV_FINI();
}

/* A unified aspace: the header counts the tables below its root by owner, every table
 * line names its owner (restricted below the shared range, shared in it), and the end
 * line's counts agree. */
HTEST(mmu_dump, unified_counts_and_owners) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *shared = NULL, *restr = NULL, *unified = NULL;
    ASSERT_OK(arch_mmu_create(SHARED_BASE, SHARED_SIZE, ARCH_ASPACE_SHARED, &shared));
    ASSERT_OK(arch_mmu_create(RESTR_BASE, RESTR_SIZE, ARCH_ASPACE_RESTRICTED, &restr));
    ASSERT_OK(arch_mmu_create_unified(shared, restr, &unified));
    mmu_env_fill_run(phys, 3, PA);
    ASSERT_OK(arch_mmu_map(restr, SIZE_1G, phys, 3, RW | U, ARCH_EXISTING_ERROR, NULL));
    ASSERT_OK(arch_mmu_map(shared, SHARED_BASE + SIZE_1G, phys, 2, R | U, ARCH_EXISTING_ERROR,
                           NULL));
    size_t r = arch_mmu_table_pages(restr) - 1, s = arch_mmu_table_pages(shared) - 1;
    size_t slots = SHARED_SIZE / SIZE_512G;
    dump_into_out(unified, 0, 0, false);
    char want[160];
    snprintf(want, sizeof(want), "%zu table pages: 1 own (the root), %zu restricted, %zu shared\n",
             1 + r + s, r, s);
    EXPECT_TRUE(strstr(out, want) != NULL);
    snprintf(want, sizeof(want),
             ", 6 tables listed (3 restricted, 3 shared), %zu empty pinned tables not listed\n",
             slots - 1);
    EXPECT_TRUE(strstr(out, want) != NULL);
    EXPECT_EQ(r, 3u);
    EXPECT_EQ(s, slots + 2);
    EXPECT_EQ(count_substr(out, " owner restricted\n"), 3u);
    EXPECT_EQ(count_substr(out, " pinned owner shared\n"), 1u); /* the borrowed PDPT */
    EXPECT_EQ(count_substr(out, " owner shared\n"), 3u);
    EXPECT_TRUE(strstr(out, " owner own") == NULL);
    EXPECT_TRUE(strstr(out, "  L3 [  0] 0x0000000000000000-0x0000007fffffffff table ") != NULL);
    EXPECT_TRUE(strstr(out, "L0 [0-2] 0x0000000040000000-0x0000000040002fff pages ") != NULL);
    EXPECT_TRUE(strstr(out, "L0 [0-1] 0x0000400040000000-0x0000400040001fff pages ") != NULL);
    EXPECT_OK(arch_mmu_destroy(unified));
    teardown(restr, RESTR_BASE, RESTR_SIZE);
    teardown(shared, SHARED_BASE, SHARED_SIZE);
    MMU_ENV_FINI();
}

/* UPGRADE with the translation a page already has keeps the entry as the CPU left it
 * (Accessed and Dirty set) and invalidates nothing; a different one replaces it. */
HTEST(mmu_entries, upgrade_to_the_same_translation_keeps_accessed_and_dirty) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = NULL;
    ASSERT_OK(arch_mmu_create(AS_BASE, AS_SIZE, ARCH_ASPACE_INDEPENDENT, &as));
    paddr_t pa = PA;
    size_t mapped = 0;
    EXPECT_OK(arch_mmu_map(as, VA, &pa, 1, RW, ARCH_EXISTING_ERROR, &mapped));
    arch_mmu_context_switch(NULL, as);
    uint64_t *pte = mmu_env_leaf_entry(as, VA);
    ASSERT_NONNULL(pte);
    *pte |= X86_PTE_A | X86_PTE_D; /* what the CPU writes on a store */
    uint64_t before = *pte;
    mmu_env_reset_tlb_counters();
    EXPECT_OK(arch_mmu_map(as, VA, &pa, 1, RW, ARCH_EXISTING_UPGRADE, &mapped));
    EXPECT_EQ(*pte, before);
    EXPECT_EQ(mmu_hw_host.invlpg, 0u);
    EXPECT_OK(arch_mmu_map(as, VA, &pa, 1, R, ARCH_EXISTING_UPGRADE, &mapped));
    EXPECT_EQ(*pte & (X86_PTE_A | X86_PTE_D | X86_PTE_W), 0u);
    EXPECT_EQ(mmu_hw_host.invlpg, 1u);
    arch_mmu_context_switch(as, NULL);
    teardown(as, VA, SIZE_4K);
    MMU_ENV_FINI();
}
