/*
 * Host unit tests for the x86-64 page-table engine through the arch-neutral interface
 * (kernel/include/arch/mmu.h), part 1: create, map, map_contiguous, unmap and protect,
 * including range errors and split failures. Query, destroy, unified aspaces, harvest,
 * out-of-memory rollback, the TLB consistency manager and the dump are in
 * test_mmu_roles.c; random model-based testing is in test_mmu_model.c.
 *
 * Every test runs on fresh simulated RAM (mmu_env_init) and ends by destroying all its
 * aspaces and checking that every PMM page came back (MMU_ENV_FINI).
 */
#include "htest.h"
#include "mmu_host_env.h"

#include <phys/pmm.h>

#define R ARCH_MMU_FLAG_PERM_READ
#define W ARCH_MMU_FLAG_PERM_WRITE
#define X ARCH_MMU_FLAG_PERM_EXECUTE
#define U ARCH_MMU_FLAG_PERM_USER
#define RW (R | W)

/* The test aspace: PML4 slots 1..7 of the user half, so slot 0 is "outside" it. */
#define AS_BASE ((vaddr_t)SIZE_512G)
#define AS_SIZE ((size_t)(7 * SIZE_512G))
#define AS_END (AS_BASE + AS_SIZE)
#define AS_PAGES (AS_SIZE / SIZE_4K)
/* Where tests map: the start of PML4 slot 3, so 4K, 2M, 1G and 512G aligned. */
#define VA ((vaddr_t)(3 * SIZE_512G))
/* Physical target of most mappings (1 TiB, 1 GiB aligned, beyond the simulated RAM). */
#define PA MMU_ENV_TARGET_BASE
/* A second, distinguishable target. */
#define PA2 (MMU_ENV_TARGET_BASE + 64 * GIB)
/* Kernel-half aspace holding the very last page of the address space. */
#define TOP_BASE ((vaddr_t)0xffffff8000000000ull)
#define TOP_LAST_PAGE ((vaddr_t)0xfffffffffffff000ull)
/* An address that is not canonical (bit 47 set, bits 63..48 clear). */
#define NON_CANONICAL ((vaddr_t)0x0000800000000000ull)
/* Tables for one 4 KiB page in an empty aspace: PDPT + PD + PT. */
#define TABLES_PER_LONE_PAGE 3
/* A value *mapped / *unmapped can never legitimately hold. */
#define SENTINEL ((size_t)0xdead)
/* Flag bits outside ARCH_MMU_FLAG_VALID_MASK. */
#define UNKNOWN_FLAG_LOW (1u << 6)
#define UNKNOWN_FLAG_HIGH (1u << 31)
#define MAX_RUN 1024

static paddr_t phys[MAX_RUN];

static arch_aspace_t *new_as(void) {
    arch_aspace_t *as = NULL;
    if (arch_mmu_create(AS_BASE, AS_SIZE, ARCH_ASPACE_INDEPENDENT, &as) != ZX_OK)
        return NULL;
    return as;
}

/* Unmaps the whole test aspace, checks it is back to its root alone, destroys it. */
static void teardown_at(const char *file, int line, arch_aspace_t *as) {
    zx_status_t st = arch_mmu_unmap(as, AS_BASE, AS_PAGES, ARCH_UNMAP_ENLARGE_NO, NULL);
    if (st != ZX_OK)
        htest_fail(file, line, "teardown unmap: status %d", st);
    if (arch_mmu_table_pages(as) != 1)
        htest_fail(file, line, "teardown: %zu table pages left after unmapping everything",
                   arch_mmu_table_pages(as));
    st = arch_mmu_destroy(as);
    if (st != ZX_OK)
        htest_fail(file, line, "teardown destroy: status %d", st);
}
#define TEARDOWN(as) teardown_at(__FILE__, __LINE__, (as))

/* Maps `count` contiguous pages with 4 KiB entries (arch_mmu_map). */
static zx_status_t map_run(arch_aspace_t *as, vaddr_t va, paddr_t pa, size_t count,
                           uint32_t flags, enum arch_existing_action existing, size_t *mapped) {
    mmu_env_fill_run(phys, count, pa);
    return arch_mmu_map(as, va, phys, count, flags, existing, mapped);
}

/* ---------------------------------------------------------------- create */

/* Each creatable role accepts a valid range; a fresh aspace owns its root (plus, for
 * SHARED, one pinned PDPT per PML4 slot of its range). */
HTEST(mmu, create_each_role) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *ind = NULL, *kern = NULL, *shared = NULL, *restr = NULL;
    ASSERT_OK(arch_mmu_create(AS_BASE, AS_SIZE, ARCH_ASPACE_INDEPENDENT, &ind));
    ASSERT_OK(arch_mmu_create(TOP_BASE, SIZE_512G, ARCH_ASPACE_INDEPENDENT, &kern));
    ASSERT_OK(arch_mmu_create(8 * SIZE_512G, 4 * SIZE_512G, ARCH_ASPACE_SHARED, &shared));
    ASSERT_OK(arch_mmu_create(0, 8 * SIZE_512G, ARCH_ASPACE_RESTRICTED, &restr));
    EXPECT_EQ(arch_mmu_table_pages(ind), 1u);
    EXPECT_EQ(arch_mmu_table_pages(kern), 1u);
    EXPECT_EQ(arch_mmu_table_pages(shared), 1u + 4u);
    EXPECT_EQ(arch_mmu_table_pages(restr), 1u);
    EXPECT_UNMAPPED(ind, VA);
    EXPECT_UNMAPPED(shared, 8 * SIZE_512G);
    EXPECT_OK(arch_mmu_destroy(ind));
    EXPECT_OK(arch_mmu_destroy(kern));
    EXPECT_OK(arch_mmu_destroy(shared));
    EXPECT_OK(arch_mmu_destroy(restr));
    MMU_ENV_FINI();
}

/* Bad ranges and roles are INVALID_ARGS and allocate nothing. */
HTEST(mmu, create_bad_args) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    static const struct {
        vaddr_t base;
        size_t size;
        const char *why;
    } bad[] = {
        {AS_BASE + 1, SIZE_1G, "unaligned base"},
        {AS_BASE, SIZE_1G + 0x10, "unaligned size"},
        {AS_BASE, 0, "size 0"},
        {MMU_USER_TOP - SIZE_1G, 2 * SIZE_1G, "runs past the user half"},
        {NON_CANONICAL, SIZE_1G, "non-canonical base"},
        {MMU_KERNEL_BASE - SIZE_1G, 2 * SIZE_1G, "starts non-canonical, ends in kernel half"},
        {TOP_LAST_PAGE, 2 * SIZE_4K, "wraps past 2^64"},
        {0, SIZE_MAX & ~(SIZE_4K - 1), "covers both halves"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        arch_aspace_t *as = NULL;
        zx_status_t st = arch_mmu_create(bad[i].base, bad[i].size, ARCH_ASPACE_INDEPENDENT, &as);
        if (st != ZX_ERR_INVALID_ARGS)
            htest_fail(__FILE__, __LINE__, "create(%s): status %d, expected INVALID_ARGS",
                       bad[i].why, st);
    }
    arch_aspace_t *as = NULL;
    EXPECT_STATUS(arch_mmu_create(AS_BASE, AS_SIZE, ARCH_ASPACE_UNIFIED, &as),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(arch_mmu_create(AS_BASE, AS_SIZE, (enum arch_aspace_role)99, &as),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(mmu_env_pages_in_use(), 0u);
    MMU_ENV_FINI();
}

/*
 * Shared and restricted ranges may start or end inside a PML4 slot (Zircon's own split
 * does: the restricted range starts at 2 MiB, the shared one a page into slot 128); what
 * is refused is a unified aspace whose two parts would share a slot.
 */
#define EXPECT_CREATE_INVALID(base, size, role)                                        \
    do {                                                                               \
        arch_aspace_t *bad_ = NULL;                                                    \
        EXPECT_STATUS(arch_mmu_create((base), (size), (role), &bad_), ZX_ERR_INVALID_ARGS); \
    } while (0)

HTEST(mmu, unified_parts_must_not_share_a_slot) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *shared = NULL, *restricted = NULL, *unified = NULL;
    /* restricted ends half-way into slot 1, shared starts half-way into it */
    ASSERT_OK(arch_mmu_create(SIZE_512G / 2, SIZE_512G, ARCH_ASPACE_RESTRICTED, &restricted));
    ASSERT_OK(arch_mmu_create(SIZE_512G + SIZE_512G / 2, SIZE_512G, ARCH_ASPACE_SHARED, &shared));
    EXPECT_STATUS(arch_mmu_create_unified(shared, restricted, &unified), ZX_ERR_INVALID_ARGS);
    EXPECT_OK(arch_mmu_destroy(shared));
    /* the next slot up is fine, even though both ranges stop short of slot boundaries */
    ASSERT_OK(arch_mmu_create(2 * SIZE_512G + SIZE_4K, SIZE_512G - 2 * SIZE_4K,
                              ARCH_ASPACE_SHARED, &shared));
    ASSERT_OK(arch_mmu_create_unified(shared, restricted, &unified));
    EXPECT_OK(arch_mmu_destroy(unified));
    EXPECT_OK(arch_mmu_destroy(shared));
    EXPECT_OK(arch_mmu_destroy(restricted));
    /* both roles are refused in the kernel half */
    EXPECT_CREATE_INVALID(0xffff800000000000ull, SIZE_1G, ARCH_ASPACE_SHARED);
    EXPECT_CREATE_INVALID(0xffff800000000000ull, SIZE_1G, ARCH_ASPACE_RESTRICTED);
    MMU_ENV_FINI();
}

/* ---------------------------------------------------------------- map */

/* map installs 4 KiB entries for an arbitrary page list and builds PDPT+PD+PT. */
HTEST(mmu, map_4k_pages) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as();
    ASSERT_NONNULL(as);
    static const paddr_t scattered[] = {PA + 7 * SIZE_4K, PA2, PA + SIZE_2M, PA, PA2 + SIZE_1G};
    const size_t n = sizeof(scattered) / sizeof(scattered[0]);
    size_t mapped = SENTINEL;
    ASSERT_OK(arch_mmu_map(as, VA, scattered, n, RW | U, ARCH_EXISTING_ERROR, &mapped));
    EXPECT_EQ(mapped, n);
    for (size_t i = 0; i < n; i++)
        EXPECT_MAPPING(as, VA + i * SIZE_4K, scattered[i], RW | U, SIZE_4K);
    EXPECT_UNMAPPED(as, VA + n * SIZE_4K);
    EXPECT_UNMAPPED(as, VA - SIZE_4K);
    EXPECT_EQ(arch_mmu_table_pages(as), 1u + TABLES_PER_LONE_PAGE);
    /* mapped may be NULL */
    ASSERT_OK(arch_mmu_map(as, VA + SIZE_1G, scattered, 1, R, ARCH_EXISTING_ERROR, NULL));
    EXPECT_MAPPING(as, VA + SIZE_1G, scattered[0], R, SIZE_4K);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/*
 * Existing-page policies over a run of 8 pages whose middle 4 (pages 2..5) are mapped:
 * ERROR fails with nothing changed, SKIP maps only the holes, UPGRADE replaces all.
 */
#define EXIST_RUN 8
#define EXIST_OLD_FIRST 2
#define EXIST_OLD_COUNT 4

static arch_aspace_t *setup_existing(void) {
    arch_aspace_t *as = new_as();
    if (!as)
        return NULL;
    if (map_run(as, VA + EXIST_OLD_FIRST * SIZE_4K, PA2, EXIST_OLD_COUNT, R,
                ARCH_EXISTING_ERROR, NULL) != ZX_OK)
        return NULL;
    return as;
}

static bool is_old_page(size_t i) {
    return i >= EXIST_OLD_FIRST && i < EXIST_OLD_FIRST + EXIST_OLD_COUNT;
}

static paddr_t old_pa(size_t i) { return PA2 + (i - EXIST_OLD_FIRST) * SIZE_4K; }

HTEST(mmu, map_existing_error) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = setup_existing();
    ASSERT_NONNULL(as);
    size_t tables = arch_mmu_table_pages(as);
    size_t mapped = SENTINEL;
    EXPECT_STATUS(map_run(as, VA, PA, EXIST_RUN, RW, ARCH_EXISTING_ERROR, &mapped),
                  ZX_ERR_ALREADY_EXISTS);
    EXPECT_EQ(mapped, 0u);
    for (size_t i = 0; i < EXIST_RUN; i++) {
        if (is_old_page(i))
            EXPECT_MAPPING(as, VA + i * SIZE_4K, old_pa(i), R, SIZE_4K);
        else
            EXPECT_UNMAPPED(as, VA + i * SIZE_4K);
    }
    EXPECT_EQ(arch_mmu_table_pages(as), tables);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

HTEST(mmu, map_existing_skip) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = setup_existing();
    ASSERT_NONNULL(as);
    size_t mapped = SENTINEL;
    EXPECT_OK(map_run(as, VA, PA, EXIST_RUN, RW, ARCH_EXISTING_SKIP, &mapped));
    EXPECT_EQ(mapped, (size_t)(EXIST_RUN - EXIST_OLD_COUNT));
    for (size_t i = 0; i < EXIST_RUN; i++) {
        if (is_old_page(i))
            EXPECT_MAPPING(as, VA + i * SIZE_4K, old_pa(i), R, SIZE_4K);
        else
            EXPECT_MAPPING(as, VA + i * SIZE_4K, PA + i * SIZE_4K, RW, SIZE_4K);
    }
    TEARDOWN(as);
    MMU_ENV_FINI();
}

HTEST(mmu, map_existing_upgrade) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = setup_existing();
    ASSERT_NONNULL(as);
    size_t tables = arch_mmu_table_pages(as);
    size_t mapped = SENTINEL;
    EXPECT_OK(map_run(as, VA, PA, EXIST_RUN, RW | X, ARCH_EXISTING_UPGRADE, &mapped));
    EXPECT_EQ(mapped, (size_t)EXIST_RUN);
    for (size_t i = 0; i < EXIST_RUN; i++)
        EXPECT_MAPPING(as, VA + i * SIZE_4K, PA + i * SIZE_4K, RW | X, SIZE_4K);
    EXPECT_EQ(arch_mmu_table_pages(as), tables);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/* UPGRADE over part of a 2 MiB page splits it: the rest keeps its translation as 4K. */
HTEST(mmu, map_upgrade_splits_large_page) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as();
    ASSERT_NONNULL(as);
    ASSERT_OK(arch_mmu_map_contiguous(as, VA, PA, PAGES_2M, R, NULL));
    size_t tables = arch_mmu_table_pages(as);
    size_t mapped = SENTINEL;
    EXPECT_OK(map_run(as, VA + 5 * SIZE_4K, PA2, 2, RW, ARCH_EXISTING_UPGRADE, &mapped));
    EXPECT_EQ(mapped, 2u);
    EXPECT_EQ(arch_mmu_table_pages(as), tables + 1);
    EXPECT_MAPPING(as, VA + 4 * SIZE_4K, PA + 4 * SIZE_4K, R, SIZE_4K);
    EXPECT_MAPPING(as, VA + 5 * SIZE_4K, PA2, RW, SIZE_4K);
    EXPECT_MAPPING(as, VA + 6 * SIZE_4K, PA2 + SIZE_4K, RW, SIZE_4K);
    EXPECT_MAPPING(as, VA + 7 * SIZE_4K, PA + 7 * SIZE_4K, R, SIZE_4K);
    EXPECT_MAPPING(as, VA + SIZE_2M - SIZE_4K, PA + SIZE_2M - SIZE_4K, R, SIZE_4K);
    /* SKIP over a large page leaves it whole */
    ASSERT_OK(arch_mmu_map_contiguous(as, VA + SIZE_2M, PA + SIZE_2M, PAGES_2M, R, NULL));
    tables = arch_mmu_table_pages(as);
    EXPECT_OK(map_run(as, VA + SIZE_2M, PA2, 3, RW, ARCH_EXISTING_SKIP, &mapped));
    EXPECT_EQ(mapped, 0u);
    EXPECT_MAPPING(as, VA + SIZE_2M, PA + SIZE_2M, R, SIZE_2M);
    EXPECT_EQ(arch_mmu_table_pages(as), tables);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/* Flags without READ or with unknown bits are rejected before anything changes. */
HTEST(mmu, map_bad_flags) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as();
    ASSERT_NONNULL(as);
    static const uint32_t bad[] = {0, W, W | X | U, RW | UNKNOWN_FLAG_LOW, R | UNKNOWN_FLAG_HIGH};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t mapped = SENTINEL;
        EXPECT_STATUS(map_run(as, VA, PA, 4, bad[i], ARCH_EXISTING_ERROR, &mapped),
                      ZX_ERR_INVALID_ARGS);
        EXPECT_EQ(mapped, 0u);
        mapped = SENTINEL;
        EXPECT_STATUS(arch_mmu_map_contiguous(as, VA, PA, PAGES_2M, bad[i], &mapped),
                      ZX_ERR_INVALID_ARGS);
        EXPECT_EQ(mapped, 0u);
    }
    EXPECT_UNMAPPED(as, VA);
    EXPECT_EQ(arch_mmu_table_pages(as), 1u);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/* An unaligned physical address anywhere in the list rejects the whole call, including
 * under UPGRADE over existing pages, and in map_contiguous. */
HTEST(mmu, map_unaligned_phys) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as();
    ASSERT_NONNULL(as);
    ASSERT_OK(map_run(as, VA, PA2, 2, R, ARCH_EXISTING_ERROR, NULL));
    size_t tables = arch_mmu_table_pages(as);
    mmu_env_fill_run(phys, 6, PA);
    phys[4] += SIZE_4K / 2;
    static const enum arch_existing_action actions[] = {
        ARCH_EXISTING_ERROR, ARCH_EXISTING_SKIP, ARCH_EXISTING_UPGRADE};
    for (size_t i = 0; i < 3; i++) {
        size_t mapped = SENTINEL;
        EXPECT_STATUS(arch_mmu_map(as, VA, phys, 6, RW, actions[i], &mapped),
                      ZX_ERR_INVALID_ARGS);
        EXPECT_EQ(mapped, 0u);
        EXPECT_MAPPING(as, VA, PA2, R, SIZE_4K);
        EXPECT_MAPPING(as, VA + SIZE_4K, PA2 + SIZE_4K, R, SIZE_4K);
        for (size_t p = 2; p < 6; p++)
            EXPECT_UNMAPPED(as, VA + p * SIZE_4K);
        EXPECT_EQ(arch_mmu_table_pages(as), tables);
    }
    size_t mapped = SENTINEL;
    EXPECT_STATUS(arch_mmu_map_contiguous(as, VA + SIZE_1G, PA + 1, 4, RW, &mapped),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(mapped, 0u);
    EXPECT_UNMAPPED(as, VA + SIZE_1G);
    EXPECT_EQ(arch_mmu_table_pages(as), tables);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/*
 * The range errors of mmu.h, identical for every call taking (vaddr, count):
 * INVALID_ARGS for unaligned / zero / non-canonical, OUT_OF_RANGE outside or wrapping.
 * Nothing is mapped, and *mapped / *unmapped / *freed_tables read 0.
 */
enum range_call { CALL_MAP, CALL_MAP_CONTIG, CALL_UNMAP, CALL_PROTECT, CALL_HARVEST, NR_CALLS };
static const char *const call_names[NR_CALLS] = {"map", "map_contiguous", "unmap", "protect",
                                                 "harvest"};

static zx_status_t range_call(enum range_call c, arch_aspace_t *as, vaddr_t va, size_t count,
                              size_t *out) {
    switch (c) {
    case CALL_MAP:
        mmu_env_fill_run(phys, MAX_RUN, PA);
        return arch_mmu_map(as, va, phys, count, RW, ARCH_EXISTING_ERROR, out);
    case CALL_MAP_CONTIG:
        return arch_mmu_map_contiguous(as, va, PA, count, RW, out);
    case CALL_UNMAP:
        return arch_mmu_unmap(as, va, count, ARCH_UNMAP_ENLARGE_NO, out);
    case CALL_PROTECT:
        *out = 0;
        return arch_mmu_protect(as, va, count, R);
    default:
        return arch_mmu_harvest_accessed(as, va, count, ARCH_HARVEST_RETAIN, NULL, NULL, out);
    }
}

struct range_case {
    vaddr_t va;
    size_t count;
    zx_status_t expect;
    bool top;       /* run on the aspace that ends at 2^64 instead of the test aspace */
    bool big_count; /* count larger than the phys array: not passed to map */
    const char *why;
};

static const struct range_case range_cases[] = {
    {VA + 1, 1, ZX_ERR_INVALID_ARGS, false, false, "unaligned vaddr"},
    {VA + SIZE_4K / 2, 1, ZX_ERR_INVALID_ARGS, false, false, "half-page vaddr"},
    {VA, 0, ZX_ERR_INVALID_ARGS, false, false, "count 0"},
    {NON_CANONICAL, 1, ZX_ERR_INVALID_ARGS, false, false, "non-canonical"},
    {0xfff0000000000000ull, 1, ZX_ERR_INVALID_ARGS, false, false, "non-canonical high"},
    {0, 1, ZX_ERR_OUT_OF_RANGE, false, false, "below the aspace"},
    {AS_BASE - SIZE_4K, 2, ZX_ERR_OUT_OF_RANGE, false, false, "straddles the base"},
    {AS_END - SIZE_4K, 2, ZX_ERR_OUT_OF_RANGE, false, false, "straddles the end"},
    {AS_END, 1, ZX_ERR_OUT_OF_RANGE, false, false, "just past the end"},
    {MMU_KERNEL_BASE, 1, ZX_ERR_OUT_OF_RANGE, false, false, "kernel half"},
    {VA, SIZE_MAX, ZX_ERR_OUT_OF_RANGE, false, true, "count overflows"},
    {VA, (size_t)(1ull << 52), ZX_ERR_OUT_OF_RANGE, false, true, "end wraps to 0"},
    {TOP_LAST_PAGE, 2, ZX_ERR_OUT_OF_RANGE, true, false, "wraps past 2^64"},
    {TOP_BASE - SIZE_4K, 1, ZX_ERR_OUT_OF_RANGE, true, false, "below the top aspace"},
};

HTEST(mmu, range_errors_every_call) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as(), *top = NULL;
    ASSERT_NONNULL(as);
    ASSERT_OK(arch_mmu_create(TOP_BASE, SIZE_512G, ARCH_ASPACE_INDEPENDENT, &top));
    for (size_t i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
        const struct range_case *rc = &range_cases[i];
        for (int c = 0; c < NR_CALLS; c++) {
            if (c == CALL_MAP && rc->big_count)
                continue;
            size_t out = SENTINEL;
            zx_status_t st = range_call((enum range_call)c, rc->top ? top : as, rc->va,
                                        rc->count, &out);
            if (st != rc->expect)
                htest_fail(__FILE__, __LINE__, "%s(%s: va 0x%llx count 0x%zx): status %d, "
                           "expected %d", call_names[c], rc->why, (unsigned long long)rc->va,
                           rc->count, st, rc->expect);
            if (out != 0)
                htest_fail(__FILE__, __LINE__, "%s(%s): out count %zu, expected 0",
                           call_names[c], rc->why, out);
        }
    }
    EXPECT_EQ(arch_mmu_table_pages(as), 1u);
    EXPECT_EQ(arch_mmu_table_pages(top), 1u);
    EXPECT_OK(arch_mmu_destroy(as));
    EXPECT_OK(arch_mmu_destroy(top));
    MMU_ENV_FINI();
}

/* The last page of the address space (range end 2^64) maps, queries and unmaps. */
HTEST(mmu, top_page_of_address_space) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *top = NULL;
    ASSERT_OK(arch_mmu_create(TOP_BASE, SIZE_512G, ARCH_ASPACE_INDEPENDENT, &top));
    size_t mapped = SENTINEL;
    ASSERT_OK(map_run(top, TOP_LAST_PAGE, PA, 1, RW, ARCH_EXISTING_ERROR, &mapped));
    EXPECT_EQ(mapped, 1u);
    paddr_t pa = 0;
    EXPECT_OK(arch_mmu_query(top, UINT64_MAX, &pa, NULL, NULL));
    EXPECT_EQ(pa, PA + SIZE_4K - 1);
    EXPECT_OK(arch_mmu_protect(top, TOP_LAST_PAGE, 1, R | X));
    EXPECT_MAPPING(top, TOP_LAST_PAGE, PA, R | X, SIZE_4K);
    size_t unmapped = SENTINEL;
    EXPECT_OK(arch_mmu_unmap(top, TOP_BASE, SIZE_512G / SIZE_4K, ARCH_UNMAP_ENLARGE_NO,
                             &unmapped));
    EXPECT_EQ(unmapped, 1u);
    EXPECT_EQ(arch_mmu_table_pages(top), 1u);
    EXPECT_OK(arch_mmu_destroy(top));
    MMU_ENV_FINI();
}

/* ---------------------------------------------------------------- map_contiguous */

/*
 * A run starting 3 pages before a 2 MiB boundary that is itself 2 MiB before a 1 GiB
 * boundary, with a congruent physical address, gets: 3 x 4K, one 2M, one 1G, one 2M,
 * 2 x 4K. With page1g off the 1G becomes 512 x 2M.
 */
#define MIX_HEAD_PAGES 3
#define MIX_TAIL_PAGES 2
#define MIX_START (VA + SIZE_1G - SIZE_2M - MIX_HEAD_PAGES * SIZE_4K)
#define MIX_PA_START (PA + SIZE_1G - SIZE_2M - MIX_HEAD_PAGES * SIZE_4K)
#define MIX_COUNT (MIX_HEAD_PAGES + PAGES_2M + PAGES_1G + PAGES_2M + MIX_TAIL_PAGES)
/* pa of the byte at virtual address v inside the mixed run */
#define MIX_PA(v) (MIX_PA_START + ((v) - MIX_START))

static void check_mixed_run(arch_aspace_t *as, bool page1g) {
    for (size_t i = 0; i < MIX_HEAD_PAGES; i++)
        EXPECT_MAPPING(as, MIX_START + i * SIZE_4K, MIX_PA(MIX_START + i * SIZE_4K), RW, SIZE_4K);
    vaddr_t v = VA + SIZE_1G - SIZE_2M;
    EXPECT_MAPPING(as, v, MIX_PA(v), RW, SIZE_2M);
    EXPECT_MAPPING(as, v + SIZE_2M - SIZE_4K, MIX_PA(v + SIZE_2M - SIZE_4K), RW, SIZE_2M);
    size_t mid_size = page1g ? SIZE_1G : SIZE_2M;
    for (v = VA + SIZE_1G; v < VA + 2 * SIZE_1G; v += SIZE_1G / 8)
        EXPECT_MAPPING(as, v, MIX_PA(v), RW, mid_size);
    v = VA + 2 * SIZE_1G - SIZE_4K;
    EXPECT_MAPPING(as, v, MIX_PA(v), RW, mid_size);
    v = VA + 2 * SIZE_1G;
    EXPECT_MAPPING(as, v, MIX_PA(v), RW, SIZE_2M);
    for (size_t i = 0; i < MIX_TAIL_PAGES; i++) {
        v = VA + 2 * SIZE_1G + SIZE_2M + i * SIZE_4K;
        EXPECT_MAPPING(as, v, MIX_PA(v), RW, SIZE_4K);
    }
    EXPECT_UNMAPPED(as, MIX_START - SIZE_4K);
    EXPECT_UNMAPPED(as, MIX_START + MIX_COUNT * SIZE_4K);
}

HTEST(mmu, contiguous_mixed_sizes) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    for (int page1g = 1; page1g >= 0; page1g--) {
        mmu_hw_host.page1g = page1g;
        arch_aspace_t *as = new_as();
        ASSERT_NONNULL(as);
        size_t mapped = SENTINEL;
        ASSERT_OK(arch_mmu_map_contiguous(as, MIX_START, MIX_PA_START, MIX_COUNT, RW, &mapped));
        EXPECT_EQ(mapped, (size_t)MIX_COUNT);
        check_mixed_run(as, page1g);
        /* root + PDPT + 2 PDs (head and tail 1G regions) + 2 PTs; without 1G pages a
         * third PD holds the middle 512 x 2M */
        EXPECT_EQ(arch_mmu_table_pages(as), page1g ? 6u : 7u);
        size_t unmapped = SENTINEL;
        EXPECT_OK(arch_mmu_unmap(as, MIX_START, MIX_COUNT, ARCH_UNMAP_ENLARGE_NO, &unmapped));
        EXPECT_EQ(unmapped, (size_t)MIX_COUNT);
        TEARDOWN(as);
    }
    MMU_ENV_FINI();
}

/* A physical address not congruent with vaddr modulo 2 MiB forces 4 KiB entries. */
HTEST(mmu, contiguous_unaligned_phys_uses_4k) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as();
    ASSERT_NONNULL(as);
    const size_t count = 2 * PAGES_2M;
    ASSERT_OK(arch_mmu_map_contiguous(as, VA, PA + SIZE_4K, count, R, NULL));
    for (size_t i = 0; i < count; i += PAGES_2M / 4)
        EXPECT_MAPPING(as, VA + i * SIZE_4K, PA + SIZE_4K + i * SIZE_4K, R, SIZE_4K);
    EXPECT_EQ(arch_mmu_table_pages(as), 1u + 1u + 1u + 2u);
    /* 2M-aligned but not 1G-aligned: 2M pages only, even for a 1G run */
    ASSERT_OK(arch_mmu_map_contiguous(as, VA + SIZE_1G, PA + SIZE_2M, PAGES_1G, R, NULL));
    EXPECT_MAPPING(as, VA + SIZE_1G, PA + SIZE_2M, R, SIZE_2M);
    EXPECT_MAPPING(as, VA + 2 * SIZE_1G - SIZE_4K, PA + SIZE_2M + SIZE_1G - SIZE_4K, R, SIZE_2M);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/* An existing page anywhere in the run fails the call with nothing changed. */
HTEST(mmu, contiguous_existing_fails) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as();
    ASSERT_NONNULL(as);
    const vaddr_t lone = VA + 2 * SIZE_1G - SIZE_4K; /* last page of the second 1G */
    ASSERT_OK(map_run(as, lone, PA2, 1, R, ARCH_EXISTING_ERROR, NULL));
    size_t tables = arch_mmu_table_pages(as);
    size_t mapped = SENTINEL;
    EXPECT_STATUS(arch_mmu_map_contiguous(as, VA, PA, 2 * PAGES_1G, RW, &mapped),
                  ZX_ERR_ALREADY_EXISTS);
    EXPECT_EQ(mapped, 0u);
    EXPECT_UNMAPPED(as, VA);
    EXPECT_UNMAPPED(as, VA + SIZE_1G);
    EXPECT_UNMAPPED(as, lone - SIZE_4K);
    EXPECT_MAPPING(as, lone, PA2, R, SIZE_4K);
    EXPECT_EQ(arch_mmu_table_pages(as), tables);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/* ---------------------------------------------------------------- unmap */

/* Holes are fine; *unmapped counts only pages that were mapped; empty tables go. */
HTEST(mmu, unmap_holes_and_tables) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as();
    ASSERT_NONNULL(as);
    static const size_t pages[] = {0, 2, 4, 5};
    for (size_t i = 0; i < 4; i++)
        ASSERT_OK(map_run(as, VA + pages[i] * SIZE_4K, PA, 1, R, ARCH_EXISTING_ERROR, NULL));
    /* three lone pages in three other PML4 slots: 3 tables each */
    for (size_t s = 4; s < 7; s++)
        ASSERT_OK(map_run(as, s * SIZE_512G + SIZE_1G, PA, 1, R, ARCH_EXISTING_ERROR, NULL));
    EXPECT_EQ(arch_mmu_table_pages(as), 1u + 4 * TABLES_PER_LONE_PAGE);
    size_t unmapped = SENTINEL;
    EXPECT_OK(arch_mmu_unmap(as, VA, 8, ARCH_UNMAP_ENLARGE_NO, &unmapped));
    EXPECT_EQ(unmapped, 4u);
    EXPECT_EQ(arch_mmu_table_pages(as), 1u + 3 * TABLES_PER_LONE_PAGE);
    unmapped = SENTINEL;
    EXPECT_OK(arch_mmu_unmap(as, VA, 8, ARCH_UNMAP_ENLARGE_NO, &unmapped));
    EXPECT_EQ(unmapped, 0u);
    for (size_t s = 4; s < 7; s++) {
        EXPECT_OK(arch_mmu_unmap(as, s * SIZE_512G, PAGES_1G + 1, ARCH_UNMAP_ENLARGE_NO,
                                 &unmapped));
        EXPECT_EQ(unmapped, 1u);
        EXPECT_EQ(arch_mmu_table_pages(as), 1u + (6 - s) * TABLES_PER_LONE_PAGE);
    }
    EXPECT_OK(arch_mmu_unmap(as, VA, 1, ARCH_UNMAP_ENLARGE_NO, NULL)); /* NULL out is fine */
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/* Unmapping part of a 2 MiB page splits it; the rest keeps its translation as 4K. */
HTEST(mmu, unmap_splits_2m) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as();
    ASSERT_NONNULL(as);
    ASSERT_OK(arch_mmu_map_contiguous(as, VA, PA, PAGES_2M, RW, NULL));
    EXPECT_EQ(arch_mmu_table_pages(as), 3u);
    size_t unmapped = SENTINEL;
    EXPECT_OK(arch_mmu_unmap(as, VA + 7 * SIZE_4K, 1, ARCH_UNMAP_ENLARGE_NO, &unmapped));
    EXPECT_EQ(unmapped, 1u);
    EXPECT_EQ(arch_mmu_table_pages(as), 4u);
    EXPECT_MAPPING(as, VA, PA, RW, SIZE_4K);
    EXPECT_MAPPING(as, VA + 6 * SIZE_4K, PA + 6 * SIZE_4K, RW, SIZE_4K);
    EXPECT_UNMAPPED(as, VA + 7 * SIZE_4K);
    EXPECT_MAPPING(as, VA + 8 * SIZE_4K, PA + 8 * SIZE_4K, RW, SIZE_4K);
    EXPECT_MAPPING(as, VA + SIZE_2M - SIZE_4K, PA + SIZE_2M - SIZE_4K, RW, SIZE_4K);
    EXPECT_OK(arch_mmu_unmap(as, VA, PAGES_2M, ARCH_UNMAP_ENLARGE_NO, &unmapped));
    EXPECT_EQ(unmapped, PAGES_2M - 1);
    EXPECT_EQ(arch_mmu_table_pages(as), 1u);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/* Unmapping one page of a 1 GiB page splits it into 2M pages and one PT of 4K pages;
 * unmapping a whole 2 MiB block inside it needs no PT. */
HTEST(mmu, unmap_splits_1g) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as();
    ASSERT_NONNULL(as);
    ASSERT_OK(arch_mmu_map_contiguous(as, VA, PA, PAGES_1G, RW, NULL));
    EXPECT_MAPPING(as, VA, PA, RW, SIZE_1G);
    EXPECT_EQ(arch_mmu_table_pages(as), 2u);
    const vaddr_t hole = VA + SIZE_2M + SIZE_4K;
    size_t unmapped = SENTINEL;
    EXPECT_OK(arch_mmu_unmap(as, hole, 1, ARCH_UNMAP_ENLARGE_NO, &unmapped));
    EXPECT_EQ(unmapped, 1u);
    EXPECT_EQ(arch_mmu_table_pages(as), 4u);
    EXPECT_MAPPING(as, VA, PA, RW, SIZE_2M);
    EXPECT_MAPPING(as, VA + SIZE_2M, PA + SIZE_2M, RW, SIZE_4K);
    EXPECT_UNMAPPED(as, hole);
    EXPECT_MAPPING(as, hole + SIZE_4K, PA + (hole + SIZE_4K - VA), RW, SIZE_4K);
    EXPECT_MAPPING(as, VA + 2 * SIZE_2M, PA + 2 * SIZE_2M, RW, SIZE_2M);
    EXPECT_MAPPING(as, VA + SIZE_1G - SIZE_4K, PA + SIZE_1G - SIZE_4K, RW, SIZE_2M);
    EXPECT_OK(arch_mmu_unmap(as, VA + 5 * SIZE_2M, PAGES_2M, ARCH_UNMAP_ENLARGE_NO, &unmapped));
    EXPECT_EQ(unmapped, PAGES_2M);
    EXPECT_EQ(arch_mmu_table_pages(as), 4u);
    EXPECT_UNMAPPED(as, VA + 5 * SIZE_2M);
    EXPECT_MAPPING(as, VA + 6 * SIZE_2M, PA + 6 * SIZE_2M, RW, SIZE_2M);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/*
 * Split failure. Layout: 2 x 4K just below VA + 2M, a 2M page at VA + 2M; the range
 * covers both 4K pages and the first page of the 2M page. With every allocation
 * failing: enlarge NO -> NO_MEMORY, *unmapped = 2, the 4K pages are gone, the 2M page
 * is intact; enlarge YES -> OK, *unmapped = 2 + 512, everything gone.
 */
static arch_aspace_t *setup_split_failure(void) {
    arch_aspace_t *as = new_as();
    if (!as)
        return NULL;
    if (map_run(as, VA + SIZE_2M - 2 * SIZE_4K, PA2, 2, RW, ARCH_EXISTING_ERROR, NULL) ||
        arch_mmu_map_contiguous(as, VA + SIZE_2M, PA + SIZE_2M, PAGES_2M, RW, NULL))
        return NULL;
    return as;
}

HTEST(mmu, unmap_split_failure_enlarge_no) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = setup_split_failure();
    ASSERT_NONNULL(as);
    EXPECT_EQ(arch_mmu_table_pages(as), 4u);
    pmm_fault_inject_every(1);
    size_t unmapped = SENTINEL;
    EXPECT_STATUS(arch_mmu_unmap(as, VA + SIZE_2M - 2 * SIZE_4K, 3, ARCH_UNMAP_ENLARGE_NO,
                                 &unmapped), ZX_ERR_NO_MEMORY);
    EXPECT_EQ(unmapped, 2u);
    EXPECT_UNMAPPED(as, VA + SIZE_2M - 2 * SIZE_4K);
    EXPECT_UNMAPPED(as, VA + SIZE_2M - SIZE_4K);
    EXPECT_MAPPING(as, VA + SIZE_2M, PA + SIZE_2M, RW, SIZE_2M);
    EXPECT_EQ(arch_mmu_table_pages(as), 3u); /* the PT of the 4K pages was freed */
    /* once memory is back the same call completes the job */
    pmm_fault_inject_every(0);
    EXPECT_OK(arch_mmu_unmap(as, VA + SIZE_2M - 2 * SIZE_4K, 3, ARCH_UNMAP_ENLARGE_NO,
                             &unmapped));
    EXPECT_EQ(unmapped, 1u);
    EXPECT_MAPPING(as, VA + SIZE_2M + SIZE_4K, PA + SIZE_2M + SIZE_4K, RW, SIZE_4K);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

HTEST(mmu, unmap_split_failure_enlarge_yes) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = setup_split_failure();
    ASSERT_NONNULL(as);
    pmm_fault_inject_every(1);
    size_t unmapped = SENTINEL;
    EXPECT_OK(arch_mmu_unmap(as, VA + SIZE_2M - 2 * SIZE_4K, 3, ARCH_UNMAP_ENLARGE_YES,
                             &unmapped));
    EXPECT_EQ(unmapped, 2u + PAGES_2M);
    EXPECT_UNMAPPED(as, VA + SIZE_2M - SIZE_4K);
    EXPECT_UNMAPPED(as, VA + SIZE_2M);
    EXPECT_UNMAPPED(as, VA + 2 * SIZE_2M - SIZE_4K);
    EXPECT_EQ(arch_mmu_table_pages(as), 1u);
    pmm_fault_inject_every(0);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/* The same with a 1 GiB page: NO leaves it whole, YES removes all of it. */
HTEST(mmu, unmap_split_failure_1g) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as();
    ASSERT_NONNULL(as);
    ASSERT_OK(arch_mmu_map_contiguous(as, VA, PA, PAGES_1G, RW, NULL));
    pmm_fault_inject_every(1);
    size_t unmapped = SENTINEL;
    EXPECT_STATUS(arch_mmu_unmap(as, VA + SIZE_2M, 1, ARCH_UNMAP_ENLARGE_NO, &unmapped),
                  ZX_ERR_NO_MEMORY);
    EXPECT_EQ(unmapped, 0u);
    EXPECT_MAPPING(as, VA + SIZE_2M, PA + SIZE_2M, RW, SIZE_1G);
    EXPECT_EQ(arch_mmu_table_pages(as), 2u);
    EXPECT_OK(arch_mmu_unmap(as, VA + SIZE_2M, 1, ARCH_UNMAP_ENLARGE_YES, &unmapped));
    EXPECT_EQ(unmapped, PAGES_1G);
    EXPECT_UNMAPPED(as, VA);
    EXPECT_UNMAPPED(as, VA + SIZE_1G - SIZE_4K);
    EXPECT_EQ(arch_mmu_table_pages(as), 1u);
    pmm_fault_inject_every(0);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/* ---------------------------------------------------------------- protect */

/* New flags show in query: W removed, EXECUTE (no NX) added, cache policy changed;
 * holes stay holes and pages outside the range keep their flags. */
HTEST(mmu, protect_changes_flags) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as();
    ASSERT_NONNULL(as);
    ASSERT_OK(map_run(as, VA, PA, 4, RW | U, ARCH_EXISTING_ERROR, NULL));
    ASSERT_OK(map_run(as, VA + 6 * SIZE_4K, PA + 6 * SIZE_4K, 2, RW | U, ARCH_EXISTING_ERROR,
                      NULL));
    EXPECT_OK(arch_mmu_protect(as, VA + SIZE_4K, 6, R | U));
    EXPECT_MAPPING(as, VA, PA, RW | U, SIZE_4K);
    for (size_t i = 1; i < 4; i++)
        EXPECT_MAPPING(as, VA + i * SIZE_4K, PA + i * SIZE_4K, R | U, SIZE_4K);
    EXPECT_UNMAPPED(as, VA + 4 * SIZE_4K);
    EXPECT_UNMAPPED(as, VA + 5 * SIZE_4K);
    EXPECT_MAPPING(as, VA + 6 * SIZE_4K, PA + 6 * SIZE_4K, R | U, SIZE_4K);
    EXPECT_MAPPING(as, VA + 7 * SIZE_4K, PA + 7 * SIZE_4K, RW | U, SIZE_4K);
    EXPECT_OK(arch_mmu_protect(as, VA, 1, R | X));
    EXPECT_MAPPING(as, VA, PA, R | X, SIZE_4K);
    EXPECT_OK(arch_mmu_protect(as, VA, 1, RW | ARCH_MMU_FLAG_WRITE_COMBINING));
    EXPECT_MAPPING(as, VA, PA, RW | ARCH_MMU_FLAG_WRITE_COMBINING, SIZE_4K);
    EXPECT_STATUS(arch_mmu_protect(as, VA, 1, R | UNKNOWN_FLAG_LOW), ZX_ERR_INVALID_ARGS);
    EXPECT_MAPPING(as, VA, PA, RW | ARCH_MMU_FLAG_WRITE_COMBINING, SIZE_4K);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/* Protect without READ unmaps the range and frees its tables. */
HTEST(mmu, protect_without_read_unmaps) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as();
    ASSERT_NONNULL(as);
    ASSERT_OK(map_run(as, VA, PA, 4, RW, ARCH_EXISTING_ERROR, NULL));
    EXPECT_OK(arch_mmu_protect(as, VA, 2, W));
    EXPECT_UNMAPPED(as, VA);
    EXPECT_UNMAPPED(as, VA + SIZE_4K);
    EXPECT_MAPPING(as, VA + 2 * SIZE_4K, PA + 2 * SIZE_4K, RW, SIZE_4K);
    EXPECT_OK(arch_mmu_protect(as, VA, 4, 0));
    EXPECT_UNMAPPED(as, VA + 2 * SIZE_4K);
    EXPECT_EQ(arch_mmu_table_pages(as), 1u);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/* Protecting part of a large page splits it; protecting a whole one keeps it large. */
HTEST(mmu, protect_large_pages) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = new_as();
    ASSERT_NONNULL(as);
    ASSERT_OK(arch_mmu_map_contiguous(as, VA, PA, PAGES_1G + PAGES_2M, RW, NULL));
    size_t tables = arch_mmu_table_pages(as);
    EXPECT_OK(arch_mmu_protect(as, VA + SIZE_1G, PAGES_2M, R));     /* whole 2M */
    EXPECT_MAPPING(as, VA + SIZE_1G + SIZE_4K, PA + SIZE_1G + SIZE_4K, R, SIZE_2M);
    EXPECT_OK(arch_mmu_protect(as, VA, PAGES_1G, R | X));           /* whole 1G */
    EXPECT_MAPPING(as, VA + SIZE_4K, PA + SIZE_4K, R | X, SIZE_1G);
    EXPECT_EQ(arch_mmu_table_pages(as), tables);
    EXPECT_OK(arch_mmu_protect(as, VA + SIZE_1G + 10 * SIZE_4K, 1, RW)); /* part of the 2M */
    EXPECT_EQ(arch_mmu_table_pages(as), tables + 1);
    EXPECT_MAPPING(as, VA + SIZE_1G + 9 * SIZE_4K, PA + SIZE_1G + 9 * SIZE_4K, R, SIZE_4K);
    EXPECT_MAPPING(as, VA + SIZE_1G + 10 * SIZE_4K, PA + SIZE_1G + 10 * SIZE_4K, RW, SIZE_4K);
    EXPECT_MAPPING(as, VA + SIZE_1G + 11 * SIZE_4K, PA + SIZE_1G + 11 * SIZE_4K, R, SIZE_4K);
    EXPECT_OK(arch_mmu_protect(as, VA + 3 * SIZE_2M, 1, R));        /* part of the 1G */
    EXPECT_EQ(arch_mmu_table_pages(as), tables + 3);
    EXPECT_MAPPING(as, VA + 3 * SIZE_2M, PA + 3 * SIZE_2M, R, SIZE_4K);
    EXPECT_MAPPING(as, VA + 3 * SIZE_2M + SIZE_4K, PA + 3 * SIZE_2M + SIZE_4K, R | X, SIZE_4K);
    EXPECT_MAPPING(as, VA, PA, R | X, SIZE_2M);
    EXPECT_MAPPING(as, VA + 4 * SIZE_2M, PA + 4 * SIZE_2M, R | X, SIZE_2M);
    TEARDOWN(as);
    MMU_ENV_FINI();
}

/* Split failure: pages before the large page have the new flags, the rest the old. */
HTEST(mmu, protect_split_failure) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    arch_aspace_t *as = setup_split_failure();
    ASSERT_NONNULL(as);
    size_t tables = arch_mmu_table_pages(as);
    pmm_fault_inject_every(1);
    EXPECT_STATUS(arch_mmu_protect(as, VA + SIZE_2M - 2 * SIZE_4K, 3, R), ZX_ERR_NO_MEMORY);
    EXPECT_MAPPING(as, VA + SIZE_2M - 2 * SIZE_4K, PA2, R, SIZE_4K);
    EXPECT_MAPPING(as, VA + SIZE_2M - SIZE_4K, PA2 + SIZE_4K, R, SIZE_4K);
    EXPECT_MAPPING(as, VA + SIZE_2M, PA + SIZE_2M, RW, SIZE_2M);
    EXPECT_EQ(arch_mmu_table_pages(as), tables);
    pmm_fault_inject_every(0);
    TEARDOWN(as);
    MMU_ENV_FINI();
}
