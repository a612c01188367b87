/*
 * Host tests for the PMM (kernel/phys/pmm.c) over simulated physical memory.
 *
 * A 64 MiB host buffer stands for physical [SIM_BASE, SIM_END); the physmap helpers reach
 * it through host_physmap_offset. The vm_page array covers frames [0, SIM_END >> 12), so
 * the frames below SIM_BASE exist in the array but are never RAM. Every test calls
 * pmm_init again, which resets the PMM completely.
 */
#include "htest.h"

#include <stdlib.h>

#include <phys/memrange.h>
#include <phys/physmap.h>
#include <phys/pmm.h>
#include <phys/vm_page.h>

#define KIB (1024ull)
#define MIB (1024ull * KIB)
#define SIM_BASE (1 * MIB)
#define SIM_SIZE (64 * MIB)
#define SIM_END (SIM_BASE + SIM_SIZE)
#define SIM_FRAMES ((size_t)(SIM_END >> PAGE_SHIFT))
#define MAX_RANGES 8

static uint8_t *sim_mem;
static vm_page_t *sim_pages;
static struct mem_range free_store[MAX_RANGES], wired_store[MAX_RANGES];
static struct range_set free_set, wired_set;

/* Allocates the simulated RAM and page array once; points the physmap at the buffer. */
static void sim_setup(void) {
    if (!sim_mem) {
        sim_mem = aligned_alloc(PAGE_SIZE, SIM_SIZE);
        sim_pages = calloc(SIM_FRAMES, sizeof(vm_page_t));
        if (!sim_mem || !sim_pages) {
            fprintf(stderr, "out of host memory\n");
            abort();
        }
    }
    host_physmap_offset = (uintptr_t)sim_mem - (uintptr_t)SIM_BASE;
    range_set_init(&free_set, free_store, MAX_RANGES);
    range_set_init(&wired_set, wired_store, MAX_RANGES);
}

static bool in_set(const struct range_set *set, paddr_t pa) {
    for (size_t i = 0; i < set->count; i++) {
        if (pa >= set->r[i].base && pa - set->r[i].base < set->r[i].size)
            return true;
    }
    return false;
}

/* The state pmm_init should give frame pfn under the current sets. */
static unsigned expected_state(size_t pfn) {
    paddr_t pa = (paddr_t)pfn << PAGE_SHIFT;
    if (in_set(&free_set, pa))
        return VM_PAGE_STATE_FREE;
    if (in_set(&wired_set, pa))
        return VM_PAGE_STATE_WIRED;
    return VM_PAGE_STATE_ABSENT;
}

static size_t expected_free(size_t nframes) {
    size_t n = 0;
    for (size_t pfn = 0; pfn < nframes; pfn++)
        n += expected_state(pfn) == VM_PAGE_STATE_FREE;
    return n;
}

/*
 * Default layout (offsets from SIM_BASE): wired [-64K, 1M) (straddles the start of RAM,
 * like a BIOS area + kernel image) and [20M, 20M+64K); free [1M, 8M), [9M, 20M) and
 * [20M+64K, 80M), the last one running 16 MiB past the array (clipped). [8M, 9M) is a hole.
 * Returns the number of free pages.
 */
static size_t init_default(void) {
    sim_setup();
    range_set_add(&wired_set, SIM_BASE - 64 * KIB, 64 * KIB + 1 * MIB);
    range_set_add(&wired_set, SIM_BASE + 20 * MIB, 64 * KIB);
    range_set_add(&free_set, SIM_BASE + 1 * MIB, 7 * MIB);
    range_set_add(&free_set, SIM_BASE + 9 * MIB, 11 * MIB);
    range_set_add(&free_set, SIM_BASE + 20 * MIB + 64 * KIB, 60 * MIB - 64 * KIB);
    zx_status_t st = pmm_init(sim_pages, SIM_FRAMES, &free_set, &wired_set);
    if (st != ZX_OK) {
        fprintf(stderr, "pmm_init failed: %d\n", st);
        abort();
    }
    return expected_free(SIM_FRAMES);
}

static void *pa_ptr(paddr_t pa) { return paddr_to_physmap(pa); }

static bool page_is_filled(paddr_t pa, size_t npages, uint8_t byte) {
    const uint8_t *p = pa_ptr(pa);
    for (size_t i = 0; i < npages * PAGE_SIZE; i++) {
        if (p[i] != byte)
            return false;
    }
    return true;
}

HTEST(pmm, init_states_and_counts) {
    size_t nfree = init_default();
    EXPECT_EQ(nfree, (size_t)((7 + 11 + 44) * MIB - 64 * KIB) / PAGE_SIZE);
    EXPECT_EQ(pmm_count_free_pages(), nfree);
    EXPECT_EQ(pmm_count_total_pages(), nfree);
    EXPECT_EQ(vm_page_array, sim_pages);
    EXPECT_EQ(vm_page_array_count, SIM_FRAMES);
    size_t bad = 0;
    for (size_t pfn = 0; pfn < SIM_FRAMES; pfn++) {
        if (sim_pages[pfn].state != expected_state(pfn) && bad++ < 5)
            htest_fail(__FILE__, __LINE__, "frame %#zx: state %s, expected %s", pfn,
                       vm_page_state_name(sim_pages[pfn].state),
                       vm_page_state_name(expected_state(pfn)));
    }
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(sim_pages[0].state, VM_PAGE_STATE_ABSENT);
    EXPECT_EQ(sim_pages[(SIM_BASE - 4 * KIB) >> PAGE_SHIFT].state, VM_PAGE_STATE_WIRED);
    EXPECT_EQ(sim_pages[(SIM_BASE + 8 * MIB) >> PAGE_SHIFT].state, VM_PAGE_STATE_ABSENT);
    EXPECT_STREQ(vm_page_state_name(VM_PAGE_STATE_HEAP), "HEAP");
    EXPECT_STREQ(vm_page_state_name(99), "INVALID");
}

HTEST(pmm, init_rejects_bad_args_and_free_wins_over_wired) {
    sim_setup();
    range_set_add(&free_set, SIM_BASE, 1 * MIB);
    EXPECT_STATUS(pmm_init(NULL, 10, &free_set, NULL), ZX_ERR_INVALID_ARGS);
    range_set_add(&wired_set, SIM_BASE + 100, 4 * KIB);
    EXPECT_STATUS(pmm_init(sim_pages, SIM_FRAMES, &free_set, &wired_set), ZX_ERR_INVALID_ARGS);
    range_set_init(&wired_set, wired_store, MAX_RANGES);
    range_set_add(&wired_set, SIM_BASE, 2 * MIB);
    range_set_add(&free_set, SIM_BASE + 4 * MIB, 4 * KIB + 1);
    EXPECT_STATUS(pmm_init(sim_pages, SIM_FRAMES, &free_set, &wired_set), ZX_ERR_INVALID_ARGS);

    range_set_init(&free_set, free_store, MAX_RANGES);
    range_set_add(&free_set, SIM_BASE, 1 * MIB);
    ASSERT_OK(pmm_init(sim_pages, SIM_FRAMES, &free_set, &wired_set));
    EXPECT_EQ(pmm_count_free_pages(), (size_t)(1 * MIB / PAGE_SIZE));
    EXPECT_EQ(sim_pages[SIM_BASE >> PAGE_SHIFT].state, VM_PAGE_STATE_FREE);
    EXPECT_EQ(sim_pages[(SIM_BASE + 1 * MIB) >> PAGE_SHIFT].state, VM_PAGE_STATE_WIRED);

    /* An empty PMM is legal and simply has nothing to give. */
    ASSERT_OK(pmm_init(NULL, 0, NULL, NULL));
    EXPECT_EQ(pmm_count_total_pages(), 0u);
    EXPECT_STATUS(pmm_alloc_page(0, NULL, NULL), ZX_ERR_NO_MEMORY);
    EXPECT_STATUS(pmm_alloc_contiguous(1, 0, 0, NULL), ZX_ERR_NO_MEMORY);
}

HTEST(pmm, every_page_allocatable_exactly_once) {
    size_t nfree = init_default();
    paddr_t *pas = calloc(nfree, sizeof(*pas));
    bool *seen = calloc(SIM_FRAMES, sizeof(*seen));
    ASSERT_TRUE(pas && seen);
    size_t n = 0, bad = 0;
    vm_page_t *page;
    paddr_t pa;
    while (n <= nfree && pmm_alloc_page(0, &page, &pa) == ZX_OK) {
        size_t pfn = (size_t)(pa >> PAGE_SHIFT);
        bool ok = (pa & PAGE_MASK) == 0 && pfn < SIM_FRAMES && !seen[pfn] &&
                  page == paddr_to_vm_page(pa) && page->state == VM_PAGE_STATE_ALLOC &&
                  expected_state(pfn) == VM_PAGE_STATE_FREE && !list_in_list(&page->node);
        if (!ok && bad++ < 5)
            htest_fail(__FILE__, __LINE__, "bad allocation pa %#llx", (unsigned long long)pa);
        if (pfn < SIM_FRAMES)
            seen[pfn] = true;
        if (n < nfree)
            pas[n] = pa;
        n++;
    }
    EXPECT_EQ(n, nfree);
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(pmm_count_free_pages(), 0u);

    /* Exhausted: NO_MEMORY and the outputs are left alone. */
    vm_page_t *sentinel_page = (vm_page_t *)0x1234;
    paddr_t sentinel_pa = 0x5678;
    EXPECT_STATUS(pmm_alloc_page(0, &sentinel_page, &sentinel_pa), ZX_ERR_NO_MEMORY);
    EXPECT_STATUS(pmm_alloc_contiguous(1, 0, 0, &sentinel_pa), ZX_ERR_NO_MEMORY);
    EXPECT_EQ(sentinel_page, (vm_page_t *)0x1234);
    EXPECT_EQ(sentinel_pa, 0x5678u);

    /* Free them all (alternating the two free calls) and the PMM is whole again. */
    for (size_t i = 0; i < n && i < nfree; i++) {
        if (i & 1)
            pmm_free_page(paddr_to_vm_page(pas[i]));
        else
            pmm_free_contiguous(pas[i], 1);
    }
    EXPECT_EQ(pmm_count_free_pages(), nfree);
    EXPECT_EQ(pmm_count_total_pages(), nfree);
    for (size_t pfn = 0; pfn < SIM_FRAMES; pfn++) {
        if (sim_pages[pfn].state != expected_state(pfn)) {
            htest_fail(__FILE__, __LINE__, "frame %#zx not restored", pfn);
            break;
        }
    }
    free(pas);
    free(seen);
}

HTEST(pmm, free_resets_record_and_reuse_is_lifo) {
    init_default();
    vm_page_t *page;
    paddr_t pa, pa2;
    ASSERT_OK(pmm_alloc_page(0, &page, &pa));
    EXPECT_EQ(vm_page_to_paddr(page), pa);
    page->state = VM_PAGE_STATE_HEAP; /* an owner changes state and union fields */
    page->flags = 3;
    page->heap.size_class = 7;
    page->heap.free_list = (void *)0x10;
    pmm_free_page(page);
    EXPECT_EQ(page->state, VM_PAGE_STATE_FREE);
    EXPECT_EQ(page->flags, 0);
    EXPECT_EQ(page->heap.size_class, 0);
    EXPECT_NULL(page->heap.free_list);
    ASSERT_OK(pmm_alloc_page(0, NULL, &pa2));
    EXPECT_EQ(pa2, pa); /* the page freed last comes back first */
    pmm_free_contiguous(pa2, 1);
    /* Both outputs may be NULL. */
    size_t before = pmm_count_free_pages();
    EXPECT_OK(pmm_alloc_page(0, NULL, NULL));
    EXPECT_EQ(pmm_count_free_pages(), before - 1);
}

HTEST(pmm, zeroing) {
    enum { N = 64 };
    init_default();
    paddr_t pas[N];
    for (int i = 0; i < N; i++) {
        ASSERT_OK(pmm_alloc_page(0, NULL, &pas[i]));
        memset(pa_ptr(pas[i]), 0xa5, PAGE_SIZE);
    }
    for (int i = 0; i < N; i++)
        pmm_free_contiguous(pas[i], 1);
    /* LIFO: without ZERO the same dirty pages come back... */
    paddr_t pa;
    ASSERT_OK(pmm_alloc_page(0, NULL, &pa));
    EXPECT_TRUE(page_is_filled(pa, 1, 0xa5));
    pmm_free_contiguous(pa, 1);
    /* ...and with ZERO they are clean. */
    for (int i = 0; i < N; i++) {
        ASSERT_OK(pmm_alloc_page(PMM_ALLOC_FLAG_ZERO, NULL, &pas[i]));
        EXPECT_TRUE(page_is_filled(pas[i], 1, 0));
    }
    for (int i = 0; i < N; i++)
        memset(pa_ptr(pas[i]), 0x5a, PAGE_SIZE);
    for (int i = 0; i < N; i++)
        pmm_free_contiguous(pas[i], 1);

    /* Contiguous runs are zeroed as a whole. */
    ASSERT_OK(pmm_alloc_contiguous(N, 0, 0, &pa));
    memset(pa_ptr(pa), 0x77, N * PAGE_SIZE);
    pmm_free_contiguous(pa, N);
    paddr_t pa_zero;
    ASSERT_OK(pmm_alloc_contiguous(N, PMM_ALLOC_FLAG_ZERO, 0, &pa_zero));
    EXPECT_EQ(pa_zero, pa); /* lowest fitting run: the same one */
    EXPECT_TRUE(page_is_filled(pa_zero, N, 0));
    pmm_free_contiguous(pa_zero, N);
}

HTEST(pmm, contiguous_alignment) {
    static const uint8_t aligns[] = {0, 5, 12, 13, 14, 16, 20, 21, 22};
    static const size_t counts[] = {1, 2, 3, 17, 256, 512, 1000};
    size_t nfree = init_default();
    for (size_t a = 0; a < countof(aligns); a++) {
        for (size_t c = 0; c < countof(counts); c++) {
            size_t count = counts[c];
            paddr_t pa;
            zx_status_t st = pmm_alloc_contiguous(count, 0, aligns[a], &pa);
            ASSERT_OK(st);
            uint64_t align = aligns[a] < PAGE_SHIFT ? PAGE_SIZE : 1ull << aligns[a];
            EXPECT_EQ(pa & (align - 1), 0u);
            EXPECT_EQ(pmm_count_free_pages(), nfree - count);
            size_t bad = 0;
            for (size_t i = 0; i < count; i++) {
                size_t pfn = (size_t)(pa >> PAGE_SHIFT) + i;
                bad += expected_state(pfn) != VM_PAGE_STATE_FREE ||
                       sim_pages[pfn].state != VM_PAGE_STATE_ALLOC;
            }
            EXPECT_EQ(bad, 0u);
            pmm_free_contiguous(pa, count);
            EXPECT_EQ(pmm_count_free_pages(), nfree);
        }
    }
    /* 2 MiB-aligned runs: 8 MiB fits at the first 2 MiB boundary of [9M, 20M) (physical
     * 10M); 12 MiB does not fit there and must skip to the first boundary after the wired
     * 64K at 20M (physical 22M). */
    paddr_t pa;
    ASSERT_OK(pmm_alloc_contiguous(8 * MIB / PAGE_SIZE, 0, 21, &pa));
    EXPECT_EQ(pa, 10 * MIB);
    pmm_free_contiguous(pa, 8 * MIB / PAGE_SIZE);
    ASSERT_OK(pmm_alloc_contiguous(12 * MIB / PAGE_SIZE, 0, 21, &pa));
    EXPECT_EQ(pa, 22 * MIB);
    pmm_free_contiguous(pa, 12 * MIB / PAGE_SIZE);

    EXPECT_STATUS(pmm_alloc_contiguous(0, 0, 0, &pa), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(pmm_alloc_contiguous(1, 0, 41, &pa), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(pmm_alloc_contiguous(1, 0, 40, &pa), ZX_ERR_NO_MEMORY);
    EXPECT_STATUS(pmm_alloc_contiguous(nfree + 1, 0, 0, &pa), ZX_ERR_NO_MEMORY);
    EXPECT_STATUS(pmm_alloc_contiguous(SIZE_MAX, 0, 0, &pa), ZX_ERR_NO_MEMORY);
    /* The largest single range is [20M+64K, 64M): 44 MiB - 64 KiB. */
    size_t largest = (size_t)(44 * MIB - 64 * KIB) / PAGE_SIZE;
    EXPECT_STATUS(pmm_alloc_contiguous(largest + 1, 0, 0, &pa), ZX_ERR_NO_MEMORY);
    ASSERT_OK(pmm_alloc_contiguous(largest, 0, 0, &pa));
    EXPECT_EQ(pa, SIM_BASE + 20 * MIB + 64 * KIB);
    pmm_free_contiguous(pa, largest);
    EXPECT_EQ(pmm_count_free_pages(), nfree);
}

HTEST(pmm, fragmentation_defeats_contiguous) {
    size_t nfree = init_default();
    paddr_t *pas = calloc(nfree, sizeof(*pas));
    ASSERT_NONNULL(pas);
    size_t n = 0;
    while (n < nfree && pmm_alloc_page(0, NULL, &pas[n]) == ZX_OK)
        n++;
    ASSERT_EQ(n, nfree);
    /* Free every frame with an even number: half the memory, but no two adjacent pages. */
    for (size_t i = 0; i < n; i++) {
        if (((pas[i] >> PAGE_SHIFT) & 1) == 0)
            pmm_free_contiguous(pas[i], 1);
    }
    EXPECT_GT(pmm_count_free_pages(), nfree / 3);
    paddr_t pa;
    EXPECT_STATUS(pmm_alloc_contiguous(2, 0, 0, &pa), ZX_ERR_NO_MEMORY);
    ASSERT_OK(pmm_alloc_contiguous(1, 0, 13, &pa)); /* even frames are free */
    EXPECT_EQ(pa & (8 * KIB - 1), 0u);
    pmm_free_contiguous(pa, 1);
    for (size_t i = 0; i < n; i++) {
        if (((pas[i] >> PAGE_SHIFT) & 1) == 1)
            pmm_free_contiguous(pas[i], 1);
    }
    EXPECT_EQ(pmm_count_free_pages(), nfree);
    ASSERT_OK(pmm_alloc_contiguous(2, 0, 0, &pa));
    pmm_free_contiguous(pa, 2);
    free(pas);
}

HTEST(pmm, bad_frees_panic) {
    size_t nfree = init_default();
    vm_page_t *page;
    paddr_t pa;
    ASSERT_OK(pmm_alloc_page(0, &page, &pa));
    pmm_free_page(page);
    HTEST_EXPECT_PANIC(pmm_free_page(page));
    EXPECT_TRUE(strstr(htest_last_panic, "double free") != NULL);
    HTEST_EXPECT_PANIC(pmm_free_contiguous(pa, 1));
    /* Wired, absent, outside the array, misaligned. */
    HTEST_EXPECT_PANIC(pmm_free_page(paddr_to_vm_page(SIM_BASE)));
    EXPECT_TRUE(strstr(htest_last_panic, "WIRED") != NULL);
    HTEST_EXPECT_PANIC(pmm_free_page(&sim_pages[0]));
    HTEST_EXPECT_PANIC(pmm_free_page(paddr_to_vm_page(SIM_BASE + 8 * MIB)));
    HTEST_EXPECT_PANIC(pmm_free_page(&sim_pages[SIM_FRAMES]));
    HTEST_EXPECT_PANIC(pmm_free_page((vm_page_t *)((char *)&sim_pages[300] + 8)));
    HTEST_EXPECT_PANIC(pmm_free_page(NULL));
    HTEST_EXPECT_PANIC(pmm_free_contiguous(SIM_END - PAGE_SIZE, 2));
    HTEST_EXPECT_PANIC(pmm_free_contiguous(pa + 1, 1));
    /* A page still linked on some owner's list may not be freed. */
    struct list_node owner_list;
    list_init(&owner_list);
    ASSERT_OK(pmm_alloc_page(0, &page, &pa));
    list_add_head(&owner_list, &page->node);
    HTEST_EXPECT_PANIC(pmm_free_page(page));
    list_delete(&page->node);
    pmm_free_page(page);
    /* A run with one bad page in the middle panics without freeing any of it. */
    ASSERT_OK(pmm_alloc_contiguous(4, 0, 0, &pa));
    pmm_free_contiguous(pa + 2 * PAGE_SIZE, 1);
    HTEST_EXPECT_PANIC(pmm_free_contiguous(pa, 4));
    EXPECT_EQ(paddr_to_vm_page(pa)->state, VM_PAGE_STATE_ALLOC);
    EXPECT_EQ(pmm_count_free_pages(), nfree - 3);
    pmm_free_contiguous(pa, 2);
    pmm_free_contiguous(pa + 3 * PAGE_SIZE, 1);
    /* The lock was released before each panic: the PMM still works. */
    EXPECT_EQ(pmm_count_free_pages(), nfree);
    ASSERT_OK(pmm_alloc_page(0, NULL, &pa));
    pmm_free_contiguous(pa, 1);
}

HTEST(pmm, inject_every_nth) {
    size_t nfree = init_default();
    pmm_fault_inject_every(3);
    paddr_t pas[30];
    int failed = 0;
    for (int i = 0; i < 30; i++) {
        zx_status_t st = i % 2 ? pmm_alloc_page(0, NULL, &pas[i])
                               : pmm_alloc_contiguous(1, 0, 0, &pas[i]);
        bool expect_fail = (i + 1) % 3 == 0;
        EXPECT_STATUS(st, expect_fail ? ZX_ERR_NO_MEMORY : ZX_OK);
        if (st != ZX_OK) {
            pas[i] = 0;
            failed++;
        }
        /* Exempt calls neither fail nor advance the count. */
        paddr_t pa;
        ASSERT_OK(pmm_alloc_page(PMM_ALLOC_FLAG_NO_INJECT, NULL, &pa));
        pmm_free_contiguous(pa, 1);
    }
    EXPECT_EQ(failed, 10);
    EXPECT_EQ(pmm_fault_injected_count(), 10u);
    /* Invalid arguments are rejected before injection and do not count. */
    EXPECT_STATUS(pmm_alloc_contiguous(0, 0, 0, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(pmm_alloc_contiguous(1, 0, 41, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(pmm_alloc_contiguous(0, 0, 0, NULL), ZX_ERR_INVALID_ARGS);
    paddr_t extra[2];
    ASSERT_OK(pmm_alloc_page(0, NULL, &extra[0]));
    ASSERT_OK(pmm_alloc_contiguous(1, 0, 0, &extra[1]));
    EXPECT_STATUS(pmm_alloc_page(0, NULL, NULL), ZX_ERR_NO_MEMORY);
    EXPECT_EQ(pmm_fault_injected_count(), 11u);
    pmm_free_contiguous(extra[0], 1);
    pmm_free_contiguous(extra[1], 1);
    pmm_fault_inject_every(0);
    for (int i = 0; i < 10; i++) {
        paddr_t pa;
        ASSERT_OK(pmm_alloc_page(0, NULL, &pa));
        pmm_free_contiguous(pa, 1);
    }
    EXPECT_EQ(pmm_fault_injected_count(), 11u);
    for (int i = 0; i < 30; i++) {
        if (pas[i])
            pmm_free_contiguous(pas[i], 1);
    }
    EXPECT_EQ(pmm_count_free_pages(), nfree);
    /* pmm_init resets injection. */
    pmm_fault_inject_every(1);
    init_default();
    EXPECT_EQ(pmm_fault_injected_count(), 0u);
    EXPECT_OK(pmm_alloc_page(0, NULL, NULL));
}

/* Runs `n` alloc/free pairs and records which calls failed. Returns the failure count. */
static int run_injection_pattern(bool *failed, int n) {
    int nfail = 0;
    for (int i = 0; i < n; i++) {
        paddr_t pa;
        zx_status_t st = pmm_alloc_page(0, NULL, &pa);
        failed[i] = st != ZX_OK;
        if (st == ZX_OK)
            pmm_free_contiguous(pa, 1);
        else
            nfail++;
    }
    return nfail;
}

HTEST(pmm, inject_random_is_deterministic) {
    enum { N = 4000 };
    static bool first[N], second[N];
    size_t nfree = init_default();
    uint64_t seed = htest_seed();

    pmm_fault_inject_random(seed, 250);
    int n1 = run_injection_pattern(first, N);
    EXPECT_EQ(pmm_fault_injected_count(), (uint64_t)n1);
    EXPECT_GT(n1, N / 4 - N / 20); /* 25% +- 5% */
    EXPECT_LT(n1, N / 4 + N / 20);

    pmm_fault_inject_random(seed, 250); /* same seed: same sequence */
    int n2 = run_injection_pattern(second, N);
    EXPECT_EQ(n2, n1);
    EXPECT_TRUE(memcmp(first, second, sizeof(first)) == 0);
    EXPECT_EQ(pmm_fault_injected_count(), (uint64_t)(n1 + n2));

    pmm_fault_inject_random(seed + 1, 250); /* another seed: another sequence */
    run_injection_pattern(second, N);
    EXPECT_FALSE(memcmp(first, second, sizeof(first)) == 0);

    pmm_fault_inject_random(0, 1000); /* seed 0 is usable; 1000 permille fails all */
    EXPECT_EQ(run_injection_pattern(second, 100), 100);
    EXPECT_OK(pmm_alloc_page(PMM_ALLOC_FLAG_NO_INJECT, NULL, NULL));
    pmm_fault_inject_random(seed, 0);
    EXPECT_EQ(run_injection_pattern(second, 100), 0);
    EXPECT_EQ(pmm_count_free_pages(), nfree - 1);
}

/* ---- Randomized model test --------------------------------------------------------- */

struct model_alloc {
    paddr_t pa;
    size_t count;
    uint64_t tag;
};

#define MODEL_FRAMES ((size_t)((SIM_BASE + 4 * MIB) >> PAGE_SHIFT))
#define MODEL_MAX_ALLOCS MODEL_FRAMES

static uint64_t rng_state;
static uint64_t rng_next(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}
static size_t rng_below(size_t n) { return (size_t)(rng_next() % n); }

/* Model state: owner tag of each frame (0 = free or unmanaged). */
static uint64_t model_owner[MODEL_FRAMES];
static bool model_managed[MODEL_FRAMES];
static struct model_alloc model_allocs[MODEL_MAX_ALLOCS];

/* True if the model has `count` free frames starting at a multiple of align_pages. */
static bool model_has_run(size_t count, size_t align_pages) {
    for (size_t pfn = 0; pfn + count <= MODEL_FRAMES; pfn += align_pages) {
        size_t i = 0;
        while (i < count && model_managed[pfn + i] && !model_owner[pfn + i])
            i++;
        if (i == count)
            return true;
    }
    return false;
}

#define MODEL_CHECK(cond)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            htest_fail(__FILE__, __LINE__, "model: %s failed at op %zu (HTEST_SEED=%#llx)", \
                       #cond, op, (unsigned long long)seed);                               \
            goto out;                                                                      \
        }                                                                                  \
    } while (0)

/*
 * Random single/contiguous allocations and frees against a shadow model, on a small
 * array (4 MiB of frames) so that exhaustion is frequent. With `permille` > 0 the PMM also
 * injects failures; a failure not counted as injected must then be a real shortage.
 */
static void run_model(uint64_t seed, size_t nops, uint32_t permille) {
    sim_setup();
    range_set_add(&free_set, SIM_BASE, 1 * MIB);
    range_set_add(&free_set, SIM_BASE + 1 * MIB + 8 * KIB, 1 * MIB - 8 * KIB);
    range_set_add(&free_set, SIM_BASE + 2 * MIB + 4 * KIB, 8 * KIB);
    range_set_add(&free_set, SIM_BASE + 3 * MIB, 2 * MIB); /* clipped at 4 MiB */
    range_set_add(&wired_set, SIM_BASE + 1 * MIB, 8 * KIB);
    if (pmm_init(sim_pages, MODEL_FRAMES, &free_set, &wired_set) != ZX_OK) {
        htest_fail(__FILE__, __LINE__, "pmm_init");
        return;
    }
    pmm_fault_inject_random(seed ^ 0xabcdef, permille);
    rng_state = seed ? seed : 1;
    size_t model_free = 0, nallocs = 0, op = 0;
    uint64_t next_tag = 1;
    for (size_t pfn = 0; pfn < MODEL_FRAMES; pfn++) {
        model_owner[pfn] = 0;
        model_managed[pfn] = expected_state(pfn) == VM_PAGE_STATE_FREE;
        model_free += model_managed[pfn];
    }
    MODEL_CHECK(pmm_count_total_pages() == model_free);

    for (op = 0; op < nops; op++) {
        /* Alternate alloc-heavy and free-heavy phases so the pool both fills and drains. */
        size_t alloc_bias = (op / 5000) % 2 ? 35 : 65;
        size_t r = rng_below(100);
        if (r < alloc_bias && nallocs < MODEL_MAX_ALLOCS) {
            bool contiguous = rng_below(3) == 0;
            size_t count = contiguous ? 1 + rng_below(16) : 1;
            uint8_t align_log2 = contiguous ? (uint8_t)(PAGE_SHIFT + rng_below(5)) : 0;
            uint32_t flags = rng_below(10) == 0 ? PMM_ALLOC_FLAG_ZERO : 0;
            uint64_t injected_before = pmm_fault_injected_count();
            paddr_t pa = 0;
            zx_status_t st = contiguous ? pmm_alloc_contiguous(count, flags, align_log2, &pa)
                                        : pmm_alloc_page(flags, NULL, &pa);
            if (st != ZX_OK) {
                MODEL_CHECK(st == ZX_ERR_NO_MEMORY);
                if (pmm_fault_injected_count() == injected_before) {
                    size_t align_pages = contiguous ? (size_t)1 << (align_log2 - PAGE_SHIFT) : 1;
                    MODEL_CHECK(!model_has_run(count, align_pages));
                }
                continue;
            }
            size_t first = (size_t)(pa >> PAGE_SHIFT);
            uint64_t align = 1ull << (align_log2 < PAGE_SHIFT ? PAGE_SHIFT : align_log2);
            MODEL_CHECK((pa & (align - 1)) == 0);
            MODEL_CHECK(first + count <= MODEL_FRAMES);
            if (flags & PMM_ALLOC_FLAG_ZERO)
                MODEL_CHECK(page_is_filled(pa, count, 0));
            uint64_t tag = next_tag++;
            for (size_t i = 0; i < count; i++) {
                MODEL_CHECK(model_managed[first + i] && model_owner[first + i] == 0);
                MODEL_CHECK(sim_pages[first + i].state == VM_PAGE_STATE_ALLOC);
                model_owner[first + i] = tag;
                memcpy(pa_ptr(pa + i * PAGE_SIZE), &tag, sizeof(tag));
            }
            model_allocs[nallocs++] = (struct model_alloc){pa, count, tag};
            model_free -= count;
        } else if (nallocs > 0) {
            size_t k = rng_below(nallocs);
            struct model_alloc a = model_allocs[k];
            model_allocs[k] = model_allocs[--nallocs];
            for (size_t i = 0; i < a.count; i++) {
                uint64_t stamp;
                memcpy(&stamp, pa_ptr(a.pa + i * PAGE_SIZE), sizeof(stamp));
                MODEL_CHECK(stamp == a.tag);
                model_owner[(a.pa >> PAGE_SHIFT) + i] = 0;
            }
            if (a.count == 1 && rng_below(2))
                pmm_free_page(paddr_to_vm_page(a.pa));
            else
                pmm_free_contiguous(a.pa, a.count);
            model_free += a.count;
        }
        MODEL_CHECK(pmm_count_free_pages() == model_free);
        if (op % 4096 == 0) {
            for (size_t pfn = 0; pfn < MODEL_FRAMES; pfn++) {
                unsigned want = !model_managed[pfn] ? expected_state(pfn)
                                : model_owner[pfn]  ? VM_PAGE_STATE_ALLOC
                                                    : VM_PAGE_STATE_FREE;
                MODEL_CHECK(sim_pages[pfn].state == want);
            }
        }
    }
    while (nallocs > 0) {
        struct model_alloc a = model_allocs[--nallocs];
        pmm_free_contiguous(a.pa, a.count);
        model_free += a.count;
    }
    MODEL_CHECK(pmm_count_free_pages() == pmm_count_total_pages());
    if (permille)
        MODEL_CHECK(pmm_fault_injected_count() > 0);
out:
    pmm_fault_inject_random(0, 0);
}

HTEST(pmm, random_model) { run_model(htest_seed(), 200000, 0); }

HTEST(pmm, random_model_with_injection) { run_model(htest_seed() * 3 + 1, 50000, 50); }
