/*
 * In-kernel PMM tests (run with test=pmm or test=all).
 *
 * These run on the real machine, possibly with fault injection enabled from the command
 * line (pmm.fail_every=N), so any allocation may fail with ZX_ERR_NO_MEMORY: a failure is
 * treated as "skip this step", never as a test failure. Every test frees all it allocated
 * before returning, because the runner compares the free-page count around each test.
 * Fault injection itself is tested on the host (tests/host/test_pmm.c), since changing it
 * here would clobber a command-line setting that has no getter.
 */
#include <kernel/ktest.h>
#include <kernel/types.h>
#include <lib/string.h>
#include <phys/physmap.h>
#include <phys/pmm.h>
#include <phys/vm_page.h>

#define TWO_MIB_LOG2 21
#define FILL_BYTE 0xa5

/* Returns true if `npages` pages at pa all read as `byte`. */
static bool pages_filled_with(paddr_t pa, size_t npages, uint8_t byte) {
    const uint8_t *p = paddr_to_physmap(pa);
    for (size_t i = 0; i < npages * PAGE_SIZE; i++) {
        if (p[i] != byte)
            return false;
    }
    return true;
}

KTEST(pmm, single_pages_distinct_and_aligned) {
    enum { N = 16 };
    vm_page_t *pages[N];
    paddr_t pas[N];
    size_t got = 0;
    size_t free_before = pmm_count_free_pages();
    for (int i = 0; i < N; i++) {
        zx_status_t st = pmm_alloc_page(0, &pages[got], &pas[got]);
        if (st == ZX_OK)
            got++;
        else
            EXPECT_STATUS(st, ZX_ERR_NO_MEMORY);
    }
    EXPECT_EQ(pmm_count_free_pages(), free_before - got);
    for (size_t i = 0; i < got; i++) {
        EXPECT_EQ(pas[i] & PAGE_MASK, 0u);
        EXPECT_TRUE(pages[i] == paddr_to_vm_page(pas[i]));
        EXPECT_EQ(vm_page_to_paddr(pages[i]), pas[i]);
        EXPECT_EQ(pages[i]->state, VM_PAGE_STATE_ALLOC);
        for (size_t j = 0; j < i; j++)
            EXPECT_NE(pas[i], pas[j]);
    }
    for (size_t i = 0; i < got; i++)
        pmm_free_page(pages[i]);
    EXPECT_EQ(pmm_count_free_pages(), free_before);
    for (size_t i = 0; i < got; i++)
        EXPECT_EQ(pages[i]->state, VM_PAGE_STATE_FREE);
}

KTEST(pmm, zeroed_allocation_is_zero) {
    paddr_t pa;
    zx_status_t st = pmm_alloc_page(0, NULL, &pa);
    if (st != ZX_OK) {
        EXPECT_STATUS(st, ZX_ERR_NO_MEMORY);
        return;
    }
    memset(paddr_to_physmap(pa), FILL_BYTE, PAGE_SIZE);
    EXPECT_TRUE(pages_filled_with(pa, 1, FILL_BYTE));
    pmm_free_contiguous(pa, 1);

    /* The free list is LIFO, so this most likely gets the dirty page back. */
    st = pmm_alloc_page(PMM_ALLOC_FLAG_ZERO, NULL, &pa);
    if (st != ZX_OK) {
        EXPECT_STATUS(st, ZX_ERR_NO_MEMORY);
        return;
    }
    EXPECT_TRUE(pages_filled_with(pa, 1, 0));
    pmm_free_contiguous(pa, 1);
}

KTEST(pmm, contiguous_2mib_aligned) {
    static const size_t counts[] = {1, 4, 512};
    size_t free_before = pmm_count_free_pages();
    for (size_t c = 0; c < countof(counts); c++) {
        size_t count = counts[c];
        paddr_t pa;
        zx_status_t st = pmm_alloc_contiguous(count, PMM_ALLOC_FLAG_ZERO, TWO_MIB_LOG2, &pa);
        if (st != ZX_OK) {
            EXPECT_STATUS(st, ZX_ERR_NO_MEMORY);
            continue;
        }
        EXPECT_EQ(pa & ((1ull << TWO_MIB_LOG2) - 1), 0u);
        EXPECT_EQ(pmm_count_free_pages(), free_before - count);
        size_t not_alloc = 0;
        for (size_t i = 0; i < count; i++) {
            vm_page_t *p = paddr_to_vm_page(pa + i * PAGE_SIZE);
            not_alloc += !p || p->state != VM_PAGE_STATE_ALLOC;
        }
        EXPECT_EQ(not_alloc, 0u);
        EXPECT_TRUE(pages_filled_with(pa, count, 0));
        memset(paddr_to_physmap(pa), FILL_BYTE, count * PAGE_SIZE);
        EXPECT_TRUE(pages_filled_with(pa, count, FILL_BYTE));
        pmm_free_contiguous(pa, count);
        EXPECT_EQ(pmm_count_free_pages(), free_before);
    }
}

KTEST(pmm, contiguous_rejects_bad_args) {
    paddr_t pa = 0;
    EXPECT_STATUS(pmm_alloc_contiguous(0, 0, 0, &pa), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(pmm_alloc_contiguous(1, 0, 41, &pa), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(pmm_alloc_contiguous(pmm_count_total_pages() + 1, 0, 0, &pa),
                  ZX_ERR_NO_MEMORY);
    EXPECT_EQ(pa, 0u); /* untouched on failure */
}

KTEST(pmm, counts_consistent) {
    size_t total = pmm_count_total_pages();
    size_t free_pages = pmm_count_free_pages();
    EXPECT_GT(total, 0u);
    EXPECT_LE(free_pages, total);
    EXPECT_LE(total, vm_page_array_count);
}

/* Whatever fault injection is active, failures must be plain NO_MEMORY. */
KTEST(pmm, failures_are_no_memory) {
    enum { N = 32 };
    paddr_t pas[N];
    size_t counts[N];
    size_t got = 0;
    size_t free_before = pmm_count_free_pages();
    for (int i = 0; i < N; i++) {
        size_t count = (size_t)(i % 3) + 1;
        zx_status_t st = count == 1 ? pmm_alloc_page(0, NULL, &pas[got])
                                    : pmm_alloc_contiguous(count, 0, 0, &pas[got]);
        if (st == ZX_OK)
            counts[got++] = count;
        else
            EXPECT_STATUS(st, ZX_ERR_NO_MEMORY);
    }
    for (size_t i = 0; i < got; i++)
        pmm_free_contiguous(pas[i], counts[i]);
    EXPECT_EQ(pmm_count_free_pages(), free_before);
}

/* Deliberate crash: must end in a "double free" panic. Run with test=pmm.double_free. */
KTEST_MANUAL(pmm, double_free) {
    vm_page_t *page;
    ASSERT_OK(pmm_alloc_page(PMM_ALLOC_FLAG_NO_INJECT, &page, NULL));
    pmm_free_page(page);
    pmm_free_page(page);
    ktest_fail(ktx, __FILE__, __LINE__, "double free did not panic");
}
