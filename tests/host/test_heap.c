/*
 * Host tests for the kernel heap (kernel/phys/heap.c) on top of the real PMM over
 * simulated physical memory (16 MiB at SIM_BASE, reached through host_physmap_offset).
 * Every test re-initialises the PMM and then the heap, so each starts from scratch.
 */
#include "htest.h"

#include <stdlib.h>

#include <phys/heap.h>
#include <phys/memrange.h>
#include <phys/physmap.h>
#include <phys/pmm.h>
#include <phys/vm_page.h>

#define KIB (1024ull)
#define MIB (1024ull * KIB)
#define SIM_BASE (1 * MIB)
#define SIM_SIZE (16 * MIB)
#define SIM_END (SIM_BASE + SIM_SIZE)
#define SIM_FRAMES ((size_t)(SIM_END >> PAGE_SHIFT))
#define GRANULE 16
#define SLAB_MAX 2048

static uint8_t *sim_mem;
static vm_page_t *sim_pages;

/*
 * Resets PMM and heap over `free_bytes` of simulated RAM starting one page into the
 * buffer (the first page is WIRED). Returns the PMM's free-page count.
 */
static size_t setup_with(uint64_t free_bytes) {
    if (!sim_mem) {
        sim_mem = aligned_alloc(PAGE_SIZE, SIM_SIZE);
        sim_pages = calloc(SIM_FRAMES, sizeof(vm_page_t));
        if (!sim_mem || !sim_pages)
            abort();
    }
    host_physmap_offset = (uintptr_t)sim_mem - (uintptr_t)SIM_BASE;
    struct mem_range fs[2], ws[2];
    struct range_set free_set, wired_set;
    range_set_init(&free_set, fs, 2);
    range_set_init(&wired_set, ws, 2);
    range_set_add(&wired_set, SIM_BASE, PAGE_SIZE);
    range_set_add(&free_set, SIM_BASE + PAGE_SIZE, free_bytes);
    if (pmm_init(sim_pages, SIM_FRAMES, &free_set, &wired_set) != ZX_OK)
        abort();
    heap_init();
    return pmm_count_free_pages();
}

static size_t setup(void) { return setup_with(SIM_SIZE - PAGE_SIZE); }

static size_t expected_charge(size_t size) {
    if (size > SLAB_MAX)
        return (size + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
    size_t c = GRANULE;
    while (c < size)
        c *= 2;
    return c;
}

static bool in_sim(const void *p, size_t size) {
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)sim_mem;
    return a >= lo && a - lo + size <= SIM_SIZE;
}

static vm_page_t *page_of(const void *p) { return paddr_to_vm_page(physmap_to_paddr(p)); }

HTEST(heap, zero_and_huge_sizes) {
    size_t baseline = setup();
    EXPECT_NULL(kmalloc(0));
    EXPECT_NULL(kzalloc(0));
    EXPECT_NULL(kmalloc(SIZE_MAX));
    EXPECT_NULL(kmalloc(SIZE_MAX - PAGE_SIZE));
    EXPECT_NULL(kmalloc(SIZE_MAX / 2));
    EXPECT_NULL(kmalloc(SIM_SIZE)); /* more than the PMM has */
    kfree(NULL);
    EXPECT_EQ(heap_bytes_in_use(), 0u);
    EXPECT_EQ(heap_pages(), 0u);
    EXPECT_EQ(pmm_count_free_pages(), baseline);
}

HTEST(heap, every_size_aligned_and_accounted) {
    size_t baseline = setup();
    for (size_t size = 1; size <= 3 * PAGE_SIZE + 1; size++) {
        uint8_t *p = kmalloc(size);
        ASSERT_NONNULL(p);
        size_t charge = expected_charge(size);
        uintptr_t align = size > SLAB_MAX ? PAGE_SIZE : charge;
        if (((uintptr_t)p & (align - 1)) != 0 || !in_sim(p, size) ||
            heap_bytes_in_use() != charge || page_of(p)->state != VM_PAGE_STATE_HEAP) {
            htest_fail(__FILE__, __LINE__, "size %zu: p=%p bytes=%zu", size, (void *)p,
                       heap_bytes_in_use());
            kfree(p);
            break;
        }
        memset(p, 0xcd, size);
        kfree(p);
        ASSERT_EQ(heap_bytes_in_use(), 0u);
        ASSERT_EQ(heap_pages(), size > SLAB_MAX ? 0u : 1u); /* the class's spare */
        heap_trim();
        ASSERT_EQ(heap_pages(), 0u);
    }
    EXPECT_EQ(pmm_count_free_pages(), baseline);
}

HTEST(heap, slab_pages_come_and_go) {
    enum { PER_PAGE = PAGE_SIZE / GRANULE };
    size_t baseline = setup();
    void *objs[PER_PAGE + 1];
    for (int i = 0; i < PER_PAGE; i++) {
        objs[i] = kmalloc(GRANULE);
        ASSERT_NONNULL(objs[i]);
        EXPECT_EQ(page_of(objs[i]), page_of(objs[0])); /* one page holds them all */
        for (int j = 0; j < i; j++)
            EXPECT_NE(objs[i], objs[j]);
    }
    EXPECT_EQ(heap_pages(), 1u);
    EXPECT_EQ(page_of(objs[0])->heap.in_use, PER_PAGE);
    objs[PER_PAGE] = kmalloc(1);
    ASSERT_NONNULL(objs[PER_PAGE]);
    EXPECT_EQ(heap_pages(), 2u);
    EXPECT_EQ(pmm_count_free_pages(), baseline - 2);
    EXPECT_EQ(heap_bytes_in_use(), (size_t)(PER_PAGE + 1) * GRANULE);
    /* Another class never shares a page. */
    void *other = kmalloc(GRANULE + 1);
    ASSERT_NONNULL(other);
    EXPECT_EQ(heap_pages(), 3u);
    kfree(other);
    EXPECT_EQ(heap_pages(), 3u); /* its empty page stays as its class's spare */
    EXPECT_EQ(heap_trim(), 1u);
    EXPECT_EQ(heap_pages(), 2u);
    /* Free the full page from the middle out: on the last free it becomes the spare. */
    for (int i = PER_PAGE / 2; i < PER_PAGE; i++)
        kfree(objs[i]);
    for (int i = PER_PAGE / 2; i-- > 0;) {
        EXPECT_EQ(heap_pages(), 2u);
        kfree(objs[i]);
    }
    EXPECT_EQ(heap_pages(), 2u);
    EXPECT_EQ(page_of(objs[0])->state, VM_PAGE_STATE_HEAP);
    /* The class has its spare: the next emptied page goes back to the PMM. */
    kfree(objs[PER_PAGE]);
    EXPECT_EQ(page_of(objs[PER_PAGE])->state, VM_PAGE_STATE_FREE);
    EXPECT_EQ(heap_pages(), 1u);
    EXPECT_EQ(heap_trim(), 1u);
    EXPECT_EQ(page_of(objs[0])->state, VM_PAGE_STATE_FREE);
    EXPECT_EQ(heap_pages(), 0u);
    EXPECT_EQ(heap_trim(), 0u);
    EXPECT_EQ(heap_bytes_in_use(), 0u);
    EXPECT_EQ(pmm_count_free_pages(), baseline);
}

/* Spares never make an allocation fail: with the PMM empty, a slab of one class is
 * made from another class's spare, and a large run gets the spares back first. */
HTEST(heap, spares_yield_to_exhaustion) {
    enum { PAGES = 8 };
    size_t baseline = setup_with(PAGES * PAGE_SIZE);
    ASSERT_EQ(baseline, (size_t)PAGES);
    kfree(kmalloc(16)); /* a spare of the smallest class */
    EXPECT_EQ(pmm_count_free_pages(), (size_t)PAGES - 1);
    void *objs[PAGES * 2 + 1];
    size_t n = 0;
    while (n < countof(objs) && (objs[n] = kmalloc(SLAB_MAX)) != NULL)
        n++;
    EXPECT_EQ(n, (size_t)PAGES * (PAGE_SIZE / SLAB_MAX)); /* every page, the spare's too */
    EXPECT_EQ(heap_pages(), (size_t)PAGES);
    for (size_t i = 0; i < n; i++)
        kfree(objs[i]);
    EXPECT_EQ(heap_pages(), 1u); /* SLAB_MAX's spare */
    void *all = kmalloc(PAGES * PAGE_SIZE);
    EXPECT_NONNULL(all);
    kfree(all);
    EXPECT_EQ(heap_pages(), 0u);
    EXPECT_EQ(pmm_count_free_pages(), baseline);
}

/* An object created and destroyed over and over, alone on its slab, reuses the spare:
 * no PMM traffic after the first allocation, and every object still comes out of the
 * spare's free list intact. */
HTEST(heap, spare_slab_reused_without_pmm) {
    size_t baseline = setup();
    void *first = kmalloc(600);
    ASSERT_NONNULL(first);
    vm_page_t *page = page_of(first);
    kfree(first);
    EXPECT_EQ(pmm_count_free_pages(), baseline - 1);
    for (int i = 0; i < 100; i++) {
        void *p = kmalloc(600);
        ASSERT_NONNULL(p);
        ASSERT_EQ(page_of(p), page);
        ASSERT_EQ(pmm_count_free_pages(), baseline - 1);
        memset(p, 0x5a, 600);
        kfree(p);
    }
    /* Two objects on the spare, then both freed: still one page, the spare. */
    void *a = kmalloc(600), *b = kmalloc(600);
    ASSERT_TRUE(a && b);
    EXPECT_NE(a, b);
    EXPECT_EQ(page_of(b), page);
    kfree(a);
    kfree(b);
    EXPECT_EQ(heap_pages(), 1u);
    EXPECT_EQ(heap_trim(), 1u);
    EXPECT_EQ(heap_bytes_in_use(), 0u);
    EXPECT_EQ(pmm_count_free_pages(), baseline);
}

HTEST(heap, large_runs) {
    size_t baseline = setup();
    uint8_t *a = kmalloc(SLAB_MAX + 1);
    uint8_t *b = kmalloc(5 * PAGE_SIZE);
    uint8_t *c = kmalloc(5 * PAGE_SIZE + 1);
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(heap_pages(), 1u + 5 + 6);
    EXPECT_EQ(heap_bytes_in_use(), (1 + 5 + 6) * PAGE_SIZE);
    EXPECT_EQ(pmm_count_free_pages(), baseline - 12);
    for (int i = 0; i < 6; i++)
        EXPECT_EQ(page_of(c + i * PAGE_SIZE)->state, VM_PAGE_STATE_HEAP);
    memset(a, 1, PAGE_SIZE);
    memset(b, 2, 5 * PAGE_SIZE);
    memset(c, 3, 6 * PAGE_SIZE);
    for (size_t i = 0; i < 5 * PAGE_SIZE; i++) {
        if (b[i] != 2) {
            htest_fail(__FILE__, __LINE__, "b[%zu] overwritten", i);
            break;
        }
    }
    kfree(b);
    EXPECT_EQ(page_of(b)->state, VM_PAGE_STATE_FREE);
    EXPECT_EQ(page_of(b + 4 * PAGE_SIZE)->state, VM_PAGE_STATE_FREE);
    EXPECT_EQ(heap_pages(), 7u);
    kfree(c);
    kfree(a);
    EXPECT_EQ(heap_pages(), 0u);
    EXPECT_EQ(heap_bytes_in_use(), 0u);
    EXPECT_EQ(pmm_count_free_pages(), baseline);
}

HTEST(heap, kzalloc_zeroes) {
    static const size_t sizes[] = {1, 16, 24, 100, 2048, 2049, 3 * PAGE_SIZE};
    size_t baseline = setup();
    for (size_t i = 0; i < countof(sizes); i++) {
        uint8_t *dirty = kmalloc(sizes[i]);
        ASSERT_NONNULL(dirty);
        memset(dirty, 0xff, sizes[i]);
        kfree(dirty);
        uint8_t *z = kzalloc(sizes[i]);
        ASSERT_NONNULL(z);
        EXPECT_EQ(z, dirty); /* the same memory comes back (LIFO), now zeroed */
        size_t nonzero = 0;
        for (size_t j = 0; j < sizes[i]; j++)
            nonzero += z[j] != 0;
        EXPECT_EQ(nonzero, 0u);
        kfree(z);
    }
    EXPECT_EQ(heap_bytes_in_use(), 0u);
    heap_trim();
    EXPECT_EQ(pmm_count_free_pages(), baseline);
}

HTEST(heap, bad_frees_panic) {
    size_t baseline = setup();
    uint8_t *small = kmalloc(32);
    uint8_t *big = kmalloc(3 * PAGE_SIZE);
    ASSERT_TRUE(small && big);
    HTEST_EXPECT_PANIC(kfree(small + 1));
    EXPECT_TRUE(strstr(htest_last_panic, "object boundary") != NULL);
    HTEST_EXPECT_PANIC(kfree(small + 16)); /* 16-aligned, but not a 32-byte boundary */
    HTEST_EXPECT_PANIC(kfree(big + 8));
    HTEST_EXPECT_PANIC(kfree(big + PAGE_SIZE));
    EXPECT_TRUE(strstr(htest_last_panic, "middle of a large") != NULL);
    HTEST_EXPECT_PANIC(kfree(big + 2 * PAGE_SIZE + 64));
    /* Memory the heap never handed out: a PMM page, a WIRED page, beyond the array. */
    paddr_t pa;
    ASSERT_OK(pmm_alloc_page(0, NULL, &pa));
    HTEST_EXPECT_PANIC(kfree(paddr_to_physmap(pa)));
    EXPECT_TRUE(strstr(htest_last_panic, "not a heap page") != NULL);
    pmm_free_contiguous(pa, 1);
    HTEST_EXPECT_PANIC(kfree(paddr_to_physmap(SIM_BASE)));
    HTEST_EXPECT_PANIC(kfree(paddr_to_physmap(SIM_END + 64 * MIB)));
    /* Nothing was disturbed: the real frees still work and balance. */
    EXPECT_EQ(heap_bytes_in_use(), 32 + 3 * PAGE_SIZE);
    kfree(small);
    kfree(big);
    EXPECT_EQ(heap_bytes_in_use(), 0u);
    heap_trim();
    EXPECT_EQ(heap_pages(), 0u);
    EXPECT_EQ(pmm_count_free_pages(), baseline);
}

HTEST(heap, double_frees_panic) {
    size_t baseline = setup();
    void *keep = kmalloc(64);   /* keeps the 64-byte slab alive */
    void *victim = kmalloc(64); /* freed twice while its slab lives */
    void *alone = kmalloc(512); /* only object of its slab: the page goes back to the PMM */
    void *big = kmalloc(2 * PAGE_SIZE);
    ASSERT_TRUE(keep && victim && alone && big);
    kfree(victim);
    HTEST_EXPECT_PANIC(kfree(victim));
    EXPECT_TRUE(strstr(htest_last_panic, "double free") != NULL);
    kfree(alone);
    HTEST_EXPECT_PANIC(kfree(alone));
    kfree(big);
    HTEST_EXPECT_PANIC(kfree(big));
    EXPECT_EQ(heap_bytes_in_use(), 64u);
    kfree(keep);
    HTEST_EXPECT_PANIC(kfree(keep));
    EXPECT_EQ(heap_bytes_in_use(), 0u);
    heap_trim();
    EXPECT_EQ(heap_pages(), 0u);
    EXPECT_EQ(pmm_count_free_pages(), baseline);
}

HTEST(heap, poison_value_in_live_object_is_not_a_double_free) {
    size_t baseline = setup();
    uint64_t *a = kmalloc(GRANULE);
    uint64_t *b = kmalloc(GRANULE);
    ASSERT_TRUE(a && b);
    kfree(a);
    uint64_t poison = a[1]; /* white box: the heap marks free objects in word 1 */
    a = kmalloc(GRANULE);
    ASSERT_NONNULL(a);
    EXPECT_NE(a[1], poison); /* cleared on allocation */
    b[1] = poison;           /* a live object may hold any value */
    kfree(b);                /* must not be mistaken for a double free */
    kfree(a);
    EXPECT_EQ(heap_bytes_in_use(), 0u);
    heap_trim();
    EXPECT_EQ(pmm_count_free_pages(), baseline);
}

#if BERYL_DEBUG /* the check on reuse is a DEBUG_ASSERT */
HTEST(heap, write_after_free_detected_on_reuse) {
    setup();
    uint64_t *keep = kmalloc(GRANULE);
    uint64_t *a = kmalloc(GRANULE);
    ASSERT_TRUE(keep && a);
    kfree(a);
    a[1] = 42; /* use after free */
    HTEST_EXPECT_PANIC(kmalloc(GRANULE));
    EXPECT_TRUE(strstr(htest_last_panic, "modified after free") != NULL);
    /* The heap lock is still held after this panic; the next test re-initialises. */
}
#endif

HTEST(heap, exhaustion_returns_null_cleanly) {
    enum { PAGES = 64, PER_PAGE = PAGE_SIZE / SLAB_MAX };
    size_t baseline = setup_with(PAGES * PAGE_SIZE);
    ASSERT_EQ(baseline, (size_t)PAGES);
    void *objs[PAGES * PER_PAGE + 1];
    size_t n = 0;
    while (n < countof(objs) && (objs[n] = kmalloc(SLAB_MAX)) != NULL)
        n++;
    EXPECT_EQ(n, (size_t)PAGES * PER_PAGE);
    EXPECT_EQ(pmm_count_free_pages(), 0u);
    EXPECT_NULL(kmalloc(1));
    EXPECT_NULL(kmalloc(3 * PAGE_SIZE));
    EXPECT_EQ(heap_pages(), (size_t)PAGES);
    EXPECT_EQ(heap_bytes_in_use(), n * SLAB_MAX);
    for (size_t i = 0; i < n; i++)
        kfree(objs[i]);
    heap_trim();
    EXPECT_EQ(heap_pages(), 0u);
    EXPECT_EQ(pmm_count_free_pages(), baseline);
    void *all = kmalloc(PAGES * PAGE_SIZE);
    EXPECT_NONNULL(all);
    kfree(all);
    heap_trim();
    EXPECT_EQ(pmm_count_free_pages(), baseline);
}

/* ---- Randomized model test --------------------------------------------------------- */

#define MODEL_MAX_LIVE 2000
#define MAX_LARGE (5 * PAGE_SIZE + 100)

struct live {
    uint8_t *p;
    size_t size;
    uint32_t tag;
};

static struct live live[MODEL_MAX_LIVE];
static uint32_t shadow[SIM_SIZE / GRANULE]; /* tag owning each granule, 0 = none */
static uint64_t rng_state;

static uint64_t rng_next(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}
static size_t rng_below(size_t n) { return (size_t)(rng_next() % n); }

static size_t granule_index(const void *p) { return ((uintptr_t)p - (uintptr_t)sim_mem) / GRANULE; }
static uint8_t tag_byte(uint32_t tag, size_t i) { return (uint8_t)(tag * 37 + i); }

/* Sets (or clears, with tag 0) the shadow owner of every granule of [p, p + size);
 * returns false if a granule being claimed is already owned. */
static bool shadow_mark(const uint8_t *p, size_t size, uint32_t tag) {
    size_t first = granule_index(p), end = granule_index(p + size - 1) + 1;
    for (size_t g = first; g < end; g++) {
        if (tag && shadow[g])
            return false;
        shadow[g] = tag;
    }
    return true;
}

static bool pattern_intact(const struct live *l) {
    for (size_t i = 0; i < l->size; i++) {
        if (l->p[i] != tag_byte(l->tag, i))
            return false;
    }
    return true;
}

#define MODEL_CHECK(cond)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            htest_fail(__FILE__, __LINE__, "model: %s failed at op %zu (HTEST_SEED=%#llx)", \
                       #cond, op, (unsigned long long)seed);                               \
            goto out;                                                                      \
        }                                                                                  \
    } while (0)

/* Picks a request size: mostly small, some medium, a few multi-page. */
static size_t random_size(void) {
    size_t r = rng_below(100);
    if (r < 70)
        return 1 + rng_below(256);
    if (r < 92)
        return 257 + rng_below(SLAB_MAX - 256);
    return SLAB_MAX + 1 + rng_below(MAX_LARGE - SLAB_MAX);
}

/*
 * Random kmalloc/kzalloc/kfree against a model: each live block is filled with a pattern
 * derived from its tag and owns its granules in a shadow map, so overlap, corruption and
 * wrong accounting are all caught. Optional PMM fault injection: then a NULL is legal only
 * if the PMM counted an injected failure for it.
 */
static void run_model(uint64_t seed, size_t nops, uint32_t every, uint32_t permille) {
    size_t baseline = setup();
    memset(shadow, 0, sizeof(shadow));
    rng_state = seed ? seed : 1;
    pmm_fault_inject_every(every);
    pmm_fault_inject_random(seed ^ 0x5151, permille);
    size_t nlive = 0, bytes = 0, op = 0, nulls = 0;
    uint32_t next_tag = 1;
    for (op = 0; op < nops; op++) {
        bool grow = (op / 3000) % 2 == 0 ? rng_below(100) < 60 : rng_below(100) < 40;
        if (grow && nlive < MODEL_MAX_LIVE) {
            size_t size = random_size();
            bool zero = rng_below(8) == 0;
            uint64_t injected = pmm_fault_injected_count();
            uint8_t *p = zero ? kzalloc(size) : kmalloc(size);
            if (!p) {
                MODEL_CHECK(pmm_fault_injected_count() > injected);
                nulls++;
                continue;
            }
            MODEL_CHECK(in_sim(p, size));
            MODEL_CHECK(((uintptr_t)p & (GRANULE - 1)) == 0);
            uint32_t tag = next_tag++;
            MODEL_CHECK(shadow_mark(p, size, tag));
            if (zero) {
                for (size_t i = 0; i < size; i++)
                    MODEL_CHECK(p[i] == 0);
            }
            live[nlive] = (struct live){p, size, tag};
            for (size_t i = 0; i < size; i++)
                p[i] = tag_byte(tag, i);
            nlive++;
            bytes += expected_charge(size);
        } else if (nlive > 0) {
            size_t k = rng_below(nlive);
            struct live l = live[k];
            live[k] = live[--nlive];
            MODEL_CHECK(pattern_intact(&l));
            shadow_mark(l.p, l.size, 0);
            kfree(l.p);
            bytes -= expected_charge(l.size);
        }
        MODEL_CHECK(heap_bytes_in_use() == bytes);
        if (op % 10000 == 0) {
            for (size_t i = 0; i < nlive; i++)
                MODEL_CHECK(pattern_intact(&live[i]));
        }
    }
    if (every || permille)
        MODEL_CHECK(nulls > 0);
out:
    while (nlive > 0)
        kfree(live[--nlive].p);
    pmm_fault_inject_every(0);
    pmm_fault_inject_random(0, 0);
    EXPECT_EQ(heap_bytes_in_use(), 0u);
    heap_trim();
    EXPECT_EQ(heap_pages(), 0u);
    EXPECT_EQ(pmm_count_free_pages(), baseline);
}

HTEST(heap, random_model) { run_model(htest_seed(), 100000, 0, 0); }

HTEST(heap, random_model_fail_every_3) { run_model(htest_seed() + 7, 30000, 3, 0); }

HTEST(heap, random_model_fail_random) { run_model(htest_seed() * 5 + 3, 30000, 0, 100); }
