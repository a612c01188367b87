/*
 * In-kernel tests of the page-table engine (<arch/mmu.h>) on the real MMU: each test
 * builds user address spaces, loads them with arch_mmu_context_switch (the kernel half
 * is shared, so the kernel keeps running), and checks what the CPU does through the
 * mappings with fault-tolerant probes (<arch/x86/probe.h>): data, read-only, NX, unmap,
 * large pages, accessed bits, TLB invalidation, and shared/restricted/unified aspaces.
 * The probes themselves are tested first (suite "probe").
 *
 * Rules every test follows:
 *  - Mappings never carry ARCH_MMU_FLAG_PERM_USER: with SMAP on, supervisor accesses to
 *    user pages fault, and these tests access from the kernel.
 *  - Under PMM fault injection (pmm.fail_every=N) any allocation may fail. NO_MEMORY from
 *    an allocating step ends the test as skipped (never failed), through one cleanup path.
 *  - The runner checks that PMM free pages and heap bytes are unchanged after each test,
 *    so the cleanup (struct fixture, fx_cleanup) switches back to the kernel aspace,
 *    unmaps and destroys every aspace, and frees every page, even after a failure.
 */
#include <arch/mmio.h>
#include <arch/mmu.h>
#include <arch/x86/arch.h>
#include <arch/x86/probe.h>
#include <kernel/assert.h>
#include <kernel/console.h>
#include <kernel/ktest.h>
#include <kernel/types.h>
#include <lib/string.h>
#include <phys/physmap.h>
#include <phys/pmm.h>
#include <phys/vm_page.h>

/* The user ranges (docs/architecture.md: "Memory map" and "Shared processes and the
 * unified aspace"). */
#define USER_BASE 0x200000ull
#define USER_END ((1ull << 47) - PAGE_SIZE) /* 0x7fff_ffff_f000 */
#define RESTRICTED_END 0x400000000000ull    /* the restricted part: [USER_BASE, here) */
#define SHARED_BASE (RESTRICTED_END + PAGE_SIZE)

#define SIZE_2M (1ull << 21)
#define SIZE_1G (1ull << 30)
#define PAGES_2M (SIZE_2M / PAGE_SIZE)
#define PAGES_1G (SIZE_1G / PAGE_SIZE)
#define ALIGN_2M_LOG2 21

/* Arbitrary test addresses: page, 2 MiB and 1 GiB aligned, in different PML4 slots
 * where that matters. */
#define TEST_VA 0x10000000ull          /* 256 MiB */
#define TEST_VA_2M 0x40000000ull       /* 1 GiB */
#define TEST_VA_1G 0x8000000000ull     /* 512 GiB: its own PML4 slot */
#define SHARED_TEST_VA 0x500000000000ull
#define RESTRICTED_TEST_VA 0x20000000ull

#define RW (ARCH_MMU_FLAG_PERM_READ | ARCH_MMU_FLAG_PERM_WRITE)
#define RO ARCH_MMU_FLAG_PERM_READ
#define RX (ARCH_MMU_FLAG_PERM_READ | ARCH_MMU_FLAG_PERM_EXECUTE)

#define X86_RET_OPCODE 0xc3
#define NON_CANONICAL_VA 0x8000000000000000ull

/* Distinct 64-bit patterns for the pages of a test. */
#define PATTERN_A 0xa1a1a1a1a1a1a1a1ull
#define PATTERN_B 0xb2b2b2b2b2b2b2b2ull
#define PATTERN_C 0xc3c3c3c3c3c3c3c3ull
#define PATTERN_WRITE 0x0123456789abcdefull

/* More single-page invalidations than the engine batches (MMU_CM_MAX_PENDING = 32), so
 * the full-flush path is exercised too. */
#define MANY_PAGES 64

/* ---- fixture: everything a test allocated, released by one cleanup path ---- */

#define FX_MAX_ASPACES 3
#define FX_MAX_PAGES 4

struct fixture {
    arch_aspace_t *as[FX_MAX_ASPACES]; /* in creation order; destroyed in reverse */
    vaddr_t base[FX_MAX_ASPACES];
    size_t size[FX_MAX_ASPACES];      /* 0 for a unified aspace (it cannot unmap) */
    size_t naspaces;
    arch_aspace_t *loaded;            /* what this test loaded (NULL = kernel aspace) */
    vm_page_t *pages[FX_MAX_PAGES];
    size_t npages;
    paddr_t run_pa;                   /* a contiguous run, if run_pages != 0 */
    size_t run_pages;
};

/*
 * Runs a step that may allocate. NO_MEMORY (fault injection) skips the rest of the test;
 * any other error fails it. Either way control goes to the test's `out:` label, where
 * fx_cleanup releases everything.
 */
#define TRY(call)                                                                       \
    do {                                                                                \
        zx_status_t try_st_ = (call);                                                   \
        if (try_st_ != ZX_OK) {                                                         \
            if (try_st_ == ZX_ERR_NO_MEMORY)                                            \
                printf("    skipped at %s:%d: out of memory\n", __FILE__, __LINE__);    \
            else                                                                        \
                ktest_fail(ktx, __FILE__, __LINE__, "%s returned %d", #call, try_st_);  \
            goto out;                                                                   \
        }                                                                               \
    } while (0)

/* Creates an aspace in `role` over [base, base + size) and records it for cleanup. */
static zx_status_t fx_create(struct fixture *fx, vaddr_t base, size_t size,
                             enum arch_aspace_role role, arch_aspace_t **out) {
    arch_aspace_t *as;
    ASSERT(fx->naspaces < FX_MAX_ASPACES);
    zx_status_t st = arch_mmu_create(base, size, role, &as);
    if (st != ZX_OK)
        return st;
    fx->as[fx->naspaces] = as;
    fx->base[fx->naspaces] = base;
    fx->size[fx->naspaces] = size;
    fx->naspaces++;
    *out = as;
    return ZX_OK;
}

/* An independent aspace over the whole user range. */
static zx_status_t fx_create_user(struct fixture *fx, arch_aspace_t **out) {
    return fx_create(fx, USER_BASE, USER_END - USER_BASE, ARCH_ASPACE_INDEPENDENT, out);
}

static zx_status_t fx_create_unified(struct fixture *fx, arch_aspace_t *shared,
                                     arch_aspace_t *restricted, arch_aspace_t **out) {
    arch_aspace_t *as;
    ASSERT(fx->naspaces < FX_MAX_ASPACES);
    zx_status_t st = arch_mmu_create_unified(shared, restricted, &as);
    if (st != ZX_OK)
        return st;
    fx->as[fx->naspaces] = as;
    fx->size[fx->naspaces] = 0;
    fx->naspaces++;
    *out = as;
    return ZX_OK;
}

/* Loads `as` (NULL = the kernel aspace) in place of whatever the test loaded before. */
static void fx_load(struct fixture *fx, arch_aspace_t *as) {
    arch_mmu_context_switch(fx->loaded, as);
    fx->loaded = as;
}

/* Fills a page with one 64-bit value, through the physmap. */
static void fill_page(paddr_t pa, uint64_t value) {
    uint64_t *p = paddr_to_physmap(pa);
    for (size_t i = 0; i < PAGE_SIZE / sizeof(uint64_t); i++)
        p[i] = value;
}

static uint64_t phys_read64(paddr_t pa) { return *(volatile uint64_t *)paddr_to_physmap(pa); }

/* Allocates a page filled with `value` and records it for cleanup. */
static zx_status_t fx_page(struct fixture *fx, uint64_t value, paddr_t *pa) {
    vm_page_t *page;
    ASSERT(fx->npages < FX_MAX_PAGES);
    zx_status_t st = pmm_alloc_page(0, &page, pa);
    if (st != ZX_OK)
        return st;
    fx->pages[fx->npages++] = page;
    fill_page(*pa, value);
    return ZX_OK;
}

/* Allocates a contiguous run of `count` pages aligned to 2^align_log2. */
static zx_status_t fx_run(struct fixture *fx, size_t count, uint8_t align_log2, paddr_t *pa) {
    zx_status_t st = pmm_alloc_contiguous(count, 0, align_log2, pa);
    if (st != ZX_OK)
        return st;
    fx->run_pa = *pa;
    fx->run_pages = count;
    return ZX_OK;
}

/*
 * Releases everything: back to the kernel aspace, every aspace emptied and destroyed
 * (unified ones first, as they were created last), then the pages. Failures here are
 * test failures: the engine must be able to tear down whatever a test built.
 */
static void fx_cleanup(struct ktest_ctx *ktx, struct fixture *fx) {
    fx_load(fx, NULL);
    for (size_t i = fx->naspaces; i-- > 0;) {
        if (fx->size[i] != 0)
            EXPECT_OK(arch_mmu_unmap(fx->as[i], fx->base[i], fx->size[i] / PAGE_SIZE,
                                     ARCH_UNMAP_ENLARGE_YES, NULL));
        EXPECT_OK(arch_mmu_destroy(fx->as[i]));
    }
    for (size_t i = 0; i < fx->npages; i++)
        pmm_free_page(fx->pages[i]);
    if (fx->run_pages)
        pmm_free_contiguous(fx->run_pa, fx->run_pages);
}

/*
 * Checks on what the engine reports and what the CPU does. They are macros over *_at
 * functions so that a failure names the line of the test, not of the helper.
 */

/* Expects va to be mapped to pa with exactly `flags` by an entry of page_size bytes. */
static void expect_query_at(struct ktest_ctx *ktx, int line, arch_aspace_t *as, vaddr_t va,
                            paddr_t pa, uint32_t flags, size_t page_size) {
    paddr_t got_pa = 0;
    uint32_t got_flags = 0;
    size_t got_size = 0;
    zx_status_t st = arch_mmu_query(as, va, &got_pa, &got_flags, &got_size);
    if (st != ZX_OK || got_pa != pa || got_flags != flags || got_size != page_size)
        ktest_fail(ktx, __FILE__, line,
                   "query 0x%lx: status %d pa 0x%lx flags 0x%x size 0x%zx, "
                   "expected pa 0x%lx flags 0x%x size 0x%zx",
                   va, st, got_pa, got_flags, got_size, pa, flags, page_size);
}
#define EXPECT_QUERY(as, va, pa, flags, size) \
    expect_query_at(ktx, __LINE__, (as), (va), (pa), (flags), (size))

static void expect_unmapped_at(struct ktest_ctx *ktx, int line, arch_aspace_t *as,
                               vaddr_t va) {
    paddr_t got_pa = 0;
    zx_status_t st = arch_mmu_query(as, va, &got_pa, NULL, NULL);
    if (st != ZX_ERR_NOT_FOUND)
        ktest_fail(ktx, __FILE__, line, "query 0x%lx: status %d pa 0x%lx, expected NOT_FOUND",
                   va, st, got_pa);
}
#define EXPECT_UNMAPPED(as, va) expect_unmapped_at(ktx, __LINE__, (as), (va))

/* Expects the 8 bytes at va (in the loaded aspace) to read as `value`. */
static void expect_reads_at(struct ktest_ctx *ktx, int line, vaddr_t va, uint64_t value) {
    uint64_t got = ~value;
    zx_status_t st = arch_probe_read64(va, &got);
    if (st != ZX_OK)
        ktest_fail(ktx, __FILE__, line, "read of 0x%lx faulted, expected 0x%lx", va, value);
    else if (got != value)
        ktest_fail(ktx, __FILE__, line, "read of 0x%lx gave 0x%lx, expected 0x%lx", va, got,
                   value);
}
#define EXPECT_READS(va, value) expect_reads_at(ktx, __LINE__, (va), (value))

static void expect_read_faults_at(struct ktest_ctx *ktx, int line, vaddr_t va) {
    uint64_t got = 0;
    if (arch_probe_read64(va, &got) != ZX_ERR_NOT_FOUND)
        ktest_fail(ktx, __FILE__, line, "read of 0x%lx gave 0x%lx, expected a fault", va, got);
}
#define EXPECT_READ_FAULTS(va) expect_read_faults_at(ktx, __LINE__, (va))

/* ---- the probes themselves ---- */

static volatile uint64_t probe_target = PATTERN_A;
static const uint64_t probe_rodata = PATTERN_B;

/* Something harmless to call through arch_probe_exec. */
static __noinline void probe_exec_target(void) { __asm__ volatile(""); }

KTEST(probe, read_write_kernel_data) {
    EXPECT_READS((uintptr_t)&probe_target, PATTERN_A);
    EXPECT_OK(arch_probe_write64((uintptr_t)&probe_target, PATTERN_C));
    EXPECT_EQ(probe_target, PATTERN_C);
    probe_target = PATTERN_A;
}

KTEST(probe, faults_are_recovered) {
    uint64_t v = PATTERN_C;
    /* Not present (the low user half is empty in the kernel aspace). */
    EXPECT_STATUS(arch_probe_read64(TEST_VA, &v), ZX_ERR_NOT_FOUND);
    EXPECT_EQ(v, PATTERN_C); /* untouched on failure */
    EXPECT_STATUS(arch_probe_write64(TEST_VA, 1), ZX_ERR_NOT_FOUND);
    /* Present but read-only (CR0.WP makes this fault in supervisor mode too). */
    EXPECT_STATUS(arch_probe_write64((uintptr_t)&probe_rodata, 1), ZX_ERR_NOT_FOUND);
    EXPECT_EQ(probe_rodata, PATTERN_B);
    /* Non-canonical: #GP rather than #PF. */
    EXPECT_STATUS(arch_probe_read64(NON_CANONICAL_VA, &v), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(arch_probe_write64(NON_CANONICAL_VA, 1), ZX_ERR_NOT_FOUND);
}

KTEST(probe, exec) {
    EXPECT_OK(arch_probe_exec((uintptr_t)probe_exec_target));
    EXPECT_STATUS(arch_probe_exec(TEST_VA), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(arch_probe_exec(NON_CANONICAL_VA), ZX_ERR_NOT_FOUND);
    /* Kernel data is NX. */
    if (x86_features.nx)
        EXPECT_STATUS(arch_probe_exec((uintptr_t)&probe_target), ZX_ERR_NOT_FOUND);
    /* The probe still works after recovering. */
    EXPECT_OK(arch_probe_exec((uintptr_t)probe_exec_target));
}

/* ---- independent aspaces ---- */

KTEST(mmu, map_read_write) {
    struct fixture fx = {0};
    arch_aspace_t *as;
    paddr_t pa[2];
    size_t mapped = 0;
    TRY(fx_create_user(&fx, &as));
    TRY(fx_page(&fx, PATTERN_A, &pa[0]));
    TRY(fx_page(&fx, PATTERN_B, &pa[1]));
    TRY(arch_mmu_map(as, TEST_VA, pa, 2, RW, ARCH_EXISTING_ERROR, &mapped));
    EXPECT_EQ(mapped, 2u);
    EXPECT_QUERY(as, TEST_VA, pa[0], RW, PAGE_SIZE);
    EXPECT_QUERY(as, TEST_VA + PAGE_SIZE + 0x18, pa[1] + 0x18, RW, PAGE_SIZE);
    EXPECT_UNMAPPED(as, TEST_VA + 2 * PAGE_SIZE);
    EXPECT_UNMAPPED(as, TEST_VA - PAGE_SIZE);

    fx_load(&fx, as);
    EXPECT_READS(TEST_VA, PATTERN_A);
    EXPECT_READS(TEST_VA + 2 * PAGE_SIZE - sizeof(uint64_t), PATTERN_B);
    EXPECT_OK(arch_probe_write64(TEST_VA + PAGE_SIZE + 8, PATTERN_WRITE));
    EXPECT_EQ(phys_read64(pa[1] + 8), PATTERN_WRITE);
    EXPECT_READ_FAULTS(TEST_VA + 2 * PAGE_SIZE);

    /* Mapping over an existing page fails with ERROR and changes nothing. */
    mapped = 1;
    EXPECT_STATUS(arch_mmu_map(as, TEST_VA + PAGE_SIZE, pa, 1, RW, ARCH_EXISTING_ERROR,
                               &mapped),
                  ZX_ERR_ALREADY_EXISTS);
    EXPECT_EQ(mapped, 0u);
    EXPECT_QUERY(as, TEST_VA + PAGE_SIZE, pa[1], RW, PAGE_SIZE);
out:
    fx_cleanup(ktx, &fx);
}

KTEST(mmu, protect_read_only) {
    struct fixture fx = {0};
    arch_aspace_t *as;
    paddr_t pa;
    TRY(fx_create_user(&fx, &as));
    TRY(fx_page(&fx, PATTERN_A, &pa));
    TRY(arch_mmu_map(as, TEST_VA, &pa, 1, RW, ARCH_EXISTING_ERROR, NULL));
    fx_load(&fx, as);
    /* The write puts a writable translation in the TLB, which protect must invalidate. */
    EXPECT_OK(arch_probe_write64(TEST_VA, PATTERN_WRITE));
    TRY(arch_mmu_protect(as, TEST_VA, 1, RO));
    EXPECT_QUERY(as, TEST_VA, pa, RO, PAGE_SIZE);
    EXPECT_STATUS(arch_probe_write64(TEST_VA, PATTERN_C), ZX_ERR_NOT_FOUND);
    EXPECT_EQ(phys_read64(pa), PATTERN_WRITE);
    EXPECT_READS(TEST_VA, PATTERN_WRITE);
    /* And back. */
    TRY(arch_mmu_protect(as, TEST_VA, 1, RW));
    EXPECT_OK(arch_probe_write64(TEST_VA, PATTERN_C));
    EXPECT_EQ(phys_read64(pa), PATTERN_C);
    /* Protect without READ unmaps. */
    TRY(arch_mmu_protect(as, TEST_VA, 1, 0));
    EXPECT_UNMAPPED(as, TEST_VA);
    EXPECT_READ_FAULTS(TEST_VA);
out:
    fx_cleanup(ktx, &fx);
}

KTEST(mmu, unmap_faults_and_frees_tables) {
    struct fixture fx = {0};
    arch_aspace_t *as;
    paddr_t pa;
    size_t unmapped = 0;
    TRY(fx_create_user(&fx, &as));
    size_t tables_empty = arch_mmu_table_pages(as);
    TRY(fx_page(&fx, PATTERN_A, &pa));
    TRY(arch_mmu_map(as, TEST_VA, &pa, 1, RW, ARCH_EXISTING_ERROR, NULL));
    /* PDPT, PD and PT under the root. */
    EXPECT_EQ(arch_mmu_table_pages(as), tables_empty + 3);
    fx_load(&fx, as);
    EXPECT_READS(TEST_VA, PATTERN_A); /* now in the TLB */
    EXPECT_OK(arch_mmu_unmap(as, TEST_VA, 1, ARCH_UNMAP_ENLARGE_NO, &unmapped));
    EXPECT_EQ(unmapped, 1u);
    EXPECT_UNMAPPED(as, TEST_VA);
    EXPECT_READ_FAULTS(TEST_VA);
    EXPECT_EQ(arch_mmu_table_pages(as), tables_empty);
    /* Unmapping a hole is fine and unmaps nothing. */
    unmapped = 1;
    EXPECT_OK(arch_mmu_unmap(as, TEST_VA, 16, ARCH_UNMAP_ENLARGE_NO, &unmapped));
    EXPECT_EQ(unmapped, 0u);
out:
    fx_cleanup(ktx, &fx);
}

KTEST(mmu, map_contiguous_2m) {
    struct fixture fx = {0};
    arch_aspace_t *as;
    paddr_t pa;
    size_t mapped = 0;
    TRY(fx_create_user(&fx, &as));
    TRY(fx_run(&fx, PAGES_2M, ALIGN_2M_LOG2, &pa));
    TRY(arch_mmu_map_contiguous(as, TEST_VA_2M, pa, PAGES_2M, RW, &mapped));
    EXPECT_EQ(mapped, PAGES_2M);
    EXPECT_QUERY(as, TEST_VA_2M, pa, RW, SIZE_2M);
    EXPECT_QUERY(as, TEST_VA_2M + SIZE_2M - 8, pa + SIZE_2M - 8, RW, SIZE_2M);
    fx_load(&fx, as);
    for (size_t off = 0; off < SIZE_2M; off += SIZE_2M / 8) {
        EXPECT_OK(arch_probe_write64(TEST_VA_2M + off, PATTERN_WRITE + off));
        EXPECT_EQ(phys_read64(pa + off), PATTERN_WRITE + off);
    }

    /* Protecting one page in the middle splits the large page; the rest is unchanged. */
    vaddr_t mid = TEST_VA_2M + SIZE_2M / 2;
    TRY(arch_mmu_protect(as, mid, 1, RO));
    EXPECT_QUERY(as, mid, pa + SIZE_2M / 2, RO, PAGE_SIZE);
    EXPECT_QUERY(as, mid + PAGE_SIZE, pa + SIZE_2M / 2 + PAGE_SIZE, RW, PAGE_SIZE);
    EXPECT_QUERY(as, TEST_VA_2M, pa, RW, PAGE_SIZE);
    EXPECT_STATUS(arch_probe_write64(mid, PATTERN_C), ZX_ERR_NOT_FOUND);
    EXPECT_READS(mid, PATTERN_WRITE + SIZE_2M / 2);
    EXPECT_OK(arch_probe_write64(mid - 8, PATTERN_C));
    EXPECT_OK(arch_probe_write64(mid + PAGE_SIZE, PATTERN_C));
    EXPECT_EQ(phys_read64(pa + SIZE_2M / 2 + PAGE_SIZE), PATTERN_C);

    /* A 2 MiB mapping over the split range fails: every page is taken. */
    EXPECT_STATUS(arch_mmu_map_contiguous(as, TEST_VA_2M, pa, PAGES_2M, RW, NULL),
                  ZX_ERR_ALREADY_EXISTS);
out:
    fx_cleanup(ktx, &fx);
}

/*
 * A 1 GiB mapping of physical [0, 1 GiB) - mostly not RAM in a small guest, so it is
 * only queried and never loaded or touched.
 */
KTEST(mmu, map_contiguous_1g_and_split) {
    struct fixture fx = {0};
    arch_aspace_t *as;
    size_t unmapped = 0;
    const size_t big = x86_features.page1g ? SIZE_1G : SIZE_2M;
    TRY(fx_create_user(&fx, &as));
    size_t tables_empty = arch_mmu_table_pages(as);
    TRY(arch_mmu_map_contiguous(as, TEST_VA_1G, 0, PAGES_1G, RO, NULL));
    EXPECT_QUERY(as, TEST_VA_1G + 0x123458, 0x123458, RO, big);
    EXPECT_QUERY(as, TEST_VA_1G + SIZE_1G - PAGE_SIZE, SIZE_1G - PAGE_SIZE, RO, big);
    /* PDPT (+ the PD of 512 2 MiB pages without 1 GiB pages). */
    EXPECT_EQ(arch_mmu_table_pages(as), tables_empty + (x86_features.page1g ? 1 : 2));

    /* Unmapping one page in the middle splits down to 4 KiB around it only. */
    vaddr_t hole = TEST_VA_1G + SIZE_1G / 2 + 5 * PAGE_SIZE;
    TRY(arch_mmu_unmap(as, hole, 1, ARCH_UNMAP_ENLARGE_NO, &unmapped));
    EXPECT_EQ(unmapped, 1u);
    EXPECT_UNMAPPED(as, hole);
    EXPECT_QUERY(as, hole + PAGE_SIZE, SIZE_1G / 2 + 6 * PAGE_SIZE, RO, PAGE_SIZE);
    EXPECT_QUERY(as, hole - PAGE_SIZE, SIZE_1G / 2 + 4 * PAGE_SIZE, RO, PAGE_SIZE);
    EXPECT_QUERY(as, TEST_VA_1G, 0, RO, SIZE_2M);
    EXPECT_QUERY(as, TEST_VA_1G + SIZE_1G / 2 + SIZE_2M, SIZE_1G / 2 + SIZE_2M, RO,
                 SIZE_2M);
    EXPECT_EQ(arch_mmu_table_pages(as), tables_empty + 3); /* PDPT, PD, PT */

    /* Everything else is still mapped: unmapping all of it counts the rest. */
    EXPECT_OK(arch_mmu_unmap(as, TEST_VA_1G, PAGES_1G, ARCH_UNMAP_ENLARGE_NO, &unmapped));
    EXPECT_EQ(unmapped, PAGES_1G - 1);
    EXPECT_EQ(arch_mmu_table_pages(as), tables_empty);
out:
    fx_cleanup(ktx, &fx);
}

KTEST(mmu, execute_and_nx) {
    struct fixture fx = {0};
    arch_aspace_t *as;
    paddr_t code, data;
    TRY(fx_create_user(&fx, &as));
    TRY(fx_page(&fx, 0, &code));
    TRY(fx_page(&fx, 0, &data));
    memset(paddr_to_physmap(code), X86_RET_OPCODE, PAGE_SIZE);
    memset(paddr_to_physmap(data), X86_RET_OPCODE, PAGE_SIZE);
    TRY(arch_mmu_map(as, TEST_VA, &code, 1, RX, ARCH_EXISTING_ERROR, NULL));
    TRY(arch_mmu_map(as, TEST_VA + PAGE_SIZE, &data, 1, RW, ARCH_EXISTING_ERROR, NULL));
    EXPECT_QUERY(as, TEST_VA, code, RX, PAGE_SIZE);
    fx_load(&fx, as);
    EXPECT_OK(arch_probe_exec(TEST_VA));
    EXPECT_OK(arch_probe_exec(TEST_VA + PAGE_SIZE - 1));
    EXPECT_STATUS(arch_probe_exec(TEST_VA + 2 * PAGE_SIZE), ZX_ERR_NOT_FOUND);
    if (x86_features.nx) {
        EXPECT_STATUS(arch_probe_exec(TEST_VA + PAGE_SIZE), ZX_ERR_NOT_FOUND);
        /* Taking EXECUTE away (after the TLB has seen the page executable) takes effect. */
        TRY(arch_mmu_protect(as, TEST_VA, 1, RO));
        EXPECT_STATUS(arch_probe_exec(TEST_VA), ZX_ERR_NOT_FOUND);
        EXPECT_READS(TEST_VA, 0xc3c3c3c3c3c3c3c3ull);
        /* And giving it: the data page becomes code. */
        TRY(arch_mmu_protect(as, TEST_VA + PAGE_SIZE, 1, RX));
        EXPECT_OK(arch_probe_exec(TEST_VA + PAGE_SIZE));
    }
out:
    fx_cleanup(ktx, &fx);
}

/* Harvest callback: counts the pages reported and remembers the last one. */
struct harvest_count {
    size_t calls;
    vaddr_t va;
    paddr_t pa;
};

static void count_accessed(void *ctx, vaddr_t va, paddr_t pa) {
    struct harvest_count *hc = ctx;
    hc->calls++;
    hc->va = va;
    hc->pa = pa;
}

/* Harvests [TEST_VA, + 2 MiB) with RETAIN and returns how many pages were reported. */
static size_t harvest_test_range(struct ktest_ctx *ktx, arch_aspace_t *as,
                                 struct harvest_count *hc) {
    *hc = (struct harvest_count){0};
    EXPECT_OK(arch_mmu_harvest_accessed(as, TEST_VA, PAGES_2M, ARCH_HARVEST_RETAIN,
                                        count_accessed, hc, NULL));
    return hc->calls;
}

KTEST(mmu, harvest_accessed) {
    struct fixture fx = {0};
    arch_aspace_t *as;
    paddr_t pa;
    struct harvest_count hc;
    TRY(fx_create_user(&fx, &as));
    TRY(fx_page(&fx, PATTERN_A, &pa));
    TRY(arch_mmu_map(as, TEST_VA + PAGE_SIZE, &pa, 1, RW, ARCH_EXISTING_ERROR, NULL));
    fx_load(&fx, as);
    /* Whatever the state after map, one harvest leaves the accessed bits clear. */
    harvest_test_range(ktx, as, &hc);
    EXPECT_EQ(harvest_test_range(ktx, as, &hc), 0u);
    EXPECT_READS(TEST_VA + PAGE_SIZE, PATTERN_A);
    EXPECT_EQ(harvest_test_range(ktx, as, &hc), 1u);
    EXPECT_EQ(hc.va, TEST_VA + PAGE_SIZE);
    EXPECT_EQ(hc.pa, pa);
    EXPECT_EQ(harvest_test_range(ktx, as, &hc), 0u);
    /* Harvest must also drop the TLB entry, or the CPU would not set the bit again. */
    EXPECT_READS(TEST_VA + PAGE_SIZE, PATTERN_A);
    EXPECT_EQ(harvest_test_range(ktx, as, &hc), 1u);
    /* A NULL callback is allowed. */
    EXPECT_OK(arch_mmu_harvest_accessed(as, TEST_VA, PAGES_2M, ARCH_HARVEST_RETAIN, NULL,
                                        NULL, NULL));
out:
    fx_cleanup(ktx, &fx);
}

/*
 * Maps one page at TEST_VA_1G of a fresh aspace, never loaded, and harvests its 2 MiB
 * with FREE_UNACCESSED twice: nothing is accessed after the first pass clears the bits,
 * so by the second pass at the latest its page table goes. Returns what creating and
 * mapping returned (NO_MEMORY under fault injection).
 */
static zx_status_t map_and_harvest(struct ktest_ctx *ktx, struct fixture *fx,
                                   arch_aspace_t **as, size_t *tables_empty) {
    paddr_t pa;
    size_t freed, freed_total = 0;
    zx_status_t st = fx_create_user(fx, as);
    if (st != ZX_OK)
        return st;
    *tables_empty = arch_mmu_table_pages(*as);
    if ((st = fx_page(fx, PATTERN_A, &pa)) != ZX_OK ||
        (st = arch_mmu_map(*as, TEST_VA_1G, &pa, 1, RW, ARCH_EXISTING_ERROR, NULL)) != ZX_OK)
        return st;
    for (int pass = 0; pass < 2; pass++) {
        freed = 0;
        EXPECT_OK(arch_mmu_harvest_accessed(*as, TEST_VA_1G, PAGES_2M,
                                            ARCH_HARVEST_FREE_UNACCESSED, NULL, NULL, &freed));
        freed_total += freed;
    }
    EXPECT_EQ(freed_total, 1u);
    EXPECT_UNMAPPED(*as, TEST_VA_1G);
    return ZX_OK;
}

/*
 * After FREE_UNACCESSED dropped the only page table, nothing is mapped: the aspace must
 * be like an empty one, with no leftover empty tables, and destroy must succeed without
 * an unmap first.
 */
KTEST(mmu, harvest_frees_unaccessed_tables) {
    struct fixture fx = {0};
    arch_aspace_t *as;
    size_t tables_empty;
    TRY(map_and_harvest(ktx, &fx, &as, &tables_empty));
    EXPECT_EQ(arch_mmu_table_pages(as), tables_empty);
    zx_status_t st = arch_mmu_destroy(as);
    EXPECT_OK(st);
    if (st == ZX_OK)
        fx.naspaces = 0; /* gone: nothing left for the cleanup */
out:
    fx_cleanup(ktx, &fx);
}

/* ... and a 1 GiB page fits where the dropped table's parents were. */
KTEST(mmu, harvest_then_map_1g) {
    struct fixture fx = {0};
    arch_aspace_t *as;
    size_t tables_empty;
    if (!x86_features.page1g)
        return;
    TRY(map_and_harvest(ktx, &fx, &as, &tables_empty));
    TRY(arch_mmu_map_contiguous(as, TEST_VA_1G, 0, PAGES_1G, RO, NULL));
    EXPECT_QUERY(as, TEST_VA_1G, 0, RO, SIZE_1G);
out:
    fx_cleanup(ktx, &fx);
}

/* ---- TLB invalidation ---- */

KTEST(mmu, tlb_upgrade_sees_new_page) {
    struct fixture fx = {0};
    arch_aspace_t *as;
    paddr_t a, b;
    size_t mapped = 0;
    TRY(fx_create_user(&fx, &as));
    TRY(fx_page(&fx, PATTERN_A, &a));
    TRY(fx_page(&fx, PATTERN_B, &b));
    TRY(arch_mmu_map(as, TEST_VA, &a, 1, RW, ARCH_EXISTING_ERROR, NULL));
    fx_load(&fx, as);
    EXPECT_READS(TEST_VA, PATTERN_A); /* the TLB now caches va -> a */
    TRY(arch_mmu_map(as, TEST_VA, &b, 1, RO, ARCH_EXISTING_UPGRADE, &mapped));
    EXPECT_EQ(mapped, 1u);
    EXPECT_READS(TEST_VA, PATTERN_B);
    EXPECT_STATUS(arch_probe_write64(TEST_VA, PATTERN_C), ZX_ERR_NOT_FOUND);
    /* SKIP leaves the existing mapping and does not count it. */
    TRY(arch_mmu_map(as, TEST_VA, &a, 1, RW, ARCH_EXISTING_SKIP, &mapped));
    EXPECT_EQ(mapped, 0u);
    EXPECT_QUERY(as, TEST_VA, b, RO, PAGE_SIZE);
    EXPECT_READS(TEST_VA, PATTERN_B);
out:
    fx_cleanup(ktx, &fx);
}

/* The same over more pages than the engine invalidates one by one. */
KTEST(mmu, tlb_many_pages) {
    struct fixture fx = {0};
    arch_aspace_t *as;
    paddr_t a, b, list[MANY_PAGES];
    size_t mapped = 0;
    TRY(fx_create_user(&fx, &as));
    TRY(fx_page(&fx, PATTERN_A, &a));
    TRY(fx_page(&fx, PATTERN_B, &b));
    for (size_t i = 0; i < MANY_PAGES; i++)
        list[i] = a;
    TRY(arch_mmu_map(as, TEST_VA, list, MANY_PAGES, RW, ARCH_EXISTING_ERROR, NULL));
    fx_load(&fx, as);
    for (size_t i = 0; i < MANY_PAGES; i++)
        EXPECT_READS(TEST_VA + i * PAGE_SIZE, PATTERN_A);
    for (size_t i = 0; i < MANY_PAGES; i++)
        list[i] = b;
    TRY(arch_mmu_map(as, TEST_VA, list, MANY_PAGES, RW, ARCH_EXISTING_UPGRADE, &mapped));
    EXPECT_EQ(mapped, (size_t)MANY_PAGES);
    for (size_t i = 0; i < MANY_PAGES; i++)
        EXPECT_READS(TEST_VA + i * PAGE_SIZE, PATTERN_B);
    TRY(arch_mmu_protect(as, TEST_VA, MANY_PAGES, RO));
    for (size_t i = 0; i < MANY_PAGES; i++)
        EXPECT_STATUS(arch_probe_write64(TEST_VA + i * PAGE_SIZE, PATTERN_C),
                      ZX_ERR_NOT_FOUND);
    EXPECT_OK(arch_mmu_unmap(as, TEST_VA, MANY_PAGES, ARCH_UNMAP_ENLARGE_NO, NULL));
    for (size_t i = 0; i < MANY_PAGES; i++)
        EXPECT_READ_FAULTS(TEST_VA + i * PAGE_SIZE);
    EXPECT_EQ(phys_read64(b), PATTERN_B);
out:
    fx_cleanup(ktx, &fx);
}

/* ---- shared, restricted and unified aspaces ---- */

KTEST(mmu, unified_sees_shared_and_restricted) {
    struct fixture fx = {0};
    arch_aspace_t *shared, *restricted, *unified;
    paddr_t pa_shared, pa_restricted;
    TRY(fx_create(&fx, SHARED_BASE, USER_END - SHARED_BASE, ARCH_ASPACE_SHARED, &shared));
    TRY(fx_create(&fx, USER_BASE, RESTRICTED_END - USER_BASE, ARCH_ASPACE_RESTRICTED,
                  &restricted));
    TRY(fx_create_unified(&fx, shared, restricted, &unified));
    TRY(fx_page(&fx, PATTERN_A, &pa_shared));
    TRY(fx_page(&fx, PATTERN_B, &pa_restricted));

    /* A second unified aspace on the same restricted one is refused. */
    arch_aspace_t *second = NULL;
    EXPECT_STATUS(arch_mmu_create_unified(shared, restricted, &second), ZX_ERR_BAD_STATE);
    /* A unified aspace never maps directly. */
    EXPECT_STATUS(arch_mmu_map(unified, SHARED_TEST_VA, &pa_shared, 1, RW,
                               ARCH_EXISTING_ERROR, NULL),
                  ZX_ERR_NOT_SUPPORTED);

    /* Mapped in the shared aspace after the unified one exists: visible through it. */
    TRY(arch_mmu_map(shared, SHARED_TEST_VA, &pa_shared, 1, RW, ARCH_EXISTING_ERROR, NULL));
    EXPECT_QUERY(unified, SHARED_TEST_VA, pa_shared, RW, PAGE_SIZE);
    fx_load(&fx, unified);
    EXPECT_READS(SHARED_TEST_VA, PATTERN_A);
    EXPECT_OK(arch_probe_write64(SHARED_TEST_VA + 8, PATTERN_WRITE));
    EXPECT_EQ(phys_read64(pa_shared + 8), PATTERN_WRITE);

    /* Mapped in the restricted aspace (a new top-level entry, mirrored) while loaded. */
    TRY(arch_mmu_map(restricted, RESTRICTED_TEST_VA, &pa_restricted, 1, RW,
                     ARCH_EXISTING_ERROR, NULL));
    EXPECT_QUERY(unified, RESTRICTED_TEST_VA, pa_restricted, RW, PAGE_SIZE);
    EXPECT_READS(RESTRICTED_TEST_VA, PATTERN_B);

    /* Protecting the shared page reaches this CPU through the unified aspace. */
    TRY(arch_mmu_protect(shared, SHARED_TEST_VA, 1, RO));
    EXPECT_STATUS(arch_probe_write64(SHARED_TEST_VA, PATTERN_C), ZX_ERR_NOT_FOUND);

    /* The restricted aspace alone has no shared half. */
    fx_load(&fx, restricted);
    EXPECT_READS(RESTRICTED_TEST_VA, PATTERN_B);
    EXPECT_READ_FAULTS(SHARED_TEST_VA);

    /* Unmapping in the restricted aspace removes the page from the unified view too. */
    fx_load(&fx, unified);
    EXPECT_READS(RESTRICTED_TEST_VA, PATTERN_B);
    EXPECT_OK(arch_mmu_unmap(restricted, RESTRICTED_TEST_VA, 1, ARCH_UNMAP_ENLARGE_NO, NULL));
    EXPECT_UNMAPPED(unified, RESTRICTED_TEST_VA);
    EXPECT_READ_FAULTS(RESTRICTED_TEST_VA);
    EXPECT_READS(SHARED_TEST_VA, PATTERN_A);

    /* Destroy order is enforced: the parts are busy while the unified aspace lives. */
    fx_load(&fx, NULL);
    EXPECT_STATUS(arch_mmu_destroy(shared), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(arch_mmu_destroy(restricted), ZX_ERR_BAD_STATE);
out:
    fx_cleanup(ktx, &fx);
}

KTEST(mmu, destroy_refuses_busy_aspace) {
    struct fixture fx = {0};
    arch_aspace_t *as;
    paddr_t pa;
    TRY(fx_create_user(&fx, &as));
    TRY(fx_page(&fx, PATTERN_A, &pa));
    TRY(arch_mmu_map(as, TEST_VA, &pa, 1, RW, ARCH_EXISTING_ERROR, NULL));
    EXPECT_STATUS(arch_mmu_destroy(as), ZX_ERR_BAD_STATE); /* something mapped */
    EXPECT_OK(arch_mmu_unmap(as, TEST_VA, 1, ARCH_UNMAP_ENLARGE_NO, NULL));
    fx_load(&fx, as);
    EXPECT_STATUS(arch_mmu_destroy(as), ZX_ERR_BAD_STATE); /* loaded on this CPU */
out:
    fx_cleanup(ktx, &fx);
}

/* ---- arch_mmio_map ---- */

/* A page of the kernel image that arch_mmio_map maps a second time (cached, like the
 * image itself, so the two mappings agree on the memory type). */
static uint8_t mmio_target[PAGE_SIZE] __aligned(PAGE_SIZE);

/* A physical address with no RAM behind it (where PCs put the I/O APIC); only mapped and
 * queried, never touched. */
#define MMIO_HOLE_PA 0xfec00000ull
#define MMIO_OFFSET 0x10u
#define MMIO_HIGHEST_PA ((1ull << 52) - 1)

KTEST(mmu, mmio_map) {
    struct fixture fx = {0};
    arch_aspace_t *k = arch_mmu_kernel_aspace();
    paddr_t target_pa, pa;
    uint32_t flags;
    size_t page_size;
    void *p, *q;
    TRY(arch_mmu_query(k, (vaddr_t)mmio_target, &target_pa, NULL, NULL));

    /* An unaligned start: the page is mapped, the pointer keeps the offset. */
    TRY(arch_mmio_map(target_pa + MMIO_OFFSET, sizeof(uint64_t), ARCH_MMU_FLAG_CACHED, &p));
    EXPECT_EQ((uintptr_t)p & PAGE_MASK, MMIO_OFFSET);
    EXPECT_OK(arch_mmu_query(k, (vaddr_t)p, &pa, &flags, &page_size));
    EXPECT_EQ(pa, target_pa + MMIO_OFFSET);
    EXPECT_EQ(flags, RW | ARCH_MMU_FLAG_CACHED);
    EXPECT_EQ(page_size, PAGE_SIZE);
    *(volatile uint64_t *)p = PATTERN_WRITE;
    EXPECT_EQ(*(volatile uint64_t *)(mmio_target + MMIO_OFFSET), PATTERN_WRITE);

    /* Device memory: the policy is in the entry; the next mapping starts past a guard. */
    TRY(arch_mmio_map(MMIO_HOLE_PA, PAGE_SIZE, ARCH_MMU_FLAG_UNCACHED_DEVICE, &q));
    EXPECT_OK(arch_mmu_query(k, (vaddr_t)q, &pa, &flags, NULL));
    EXPECT_EQ(pa, MMIO_HOLE_PA);
    EXPECT_EQ(flags, RW | ARCH_MMU_FLAG_UNCACHED_DEVICE);
    EXPECT_STATUS(arch_mmu_query(k, ROUNDDOWN((vaddr_t)p, PAGE_SIZE) + PAGE_SIZE, NULL, NULL,
                                 NULL),
                  ZX_ERR_NOT_FOUND);

    EXPECT_STATUS(arch_mmio_map(target_pa, 0, ARCH_MMU_FLAG_CACHED, &q), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(arch_mmio_map(target_pa, PAGE_SIZE, ARCH_MMU_FLAG_PERM_EXECUTE, &q),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(arch_mmio_map(UINT64_MAX - MMIO_OFFSET, PAGE_SIZE, ARCH_MMU_FLAG_CACHED, &q),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(arch_mmio_map(MMIO_HIGHEST_PA, 2, ARCH_MMU_FLAG_CACHED, &q),
                  ZX_ERR_INVALID_ARGS);
out:
    fx_cleanup(ktx, &fx);
}
