/*
 * Host tests for the page tree (kernel/vm/page_tree.c) over the real PMM and heap on
 * simulated memory (mmu_host_env). Values are fake vm_page pointers into a static array;
 * the tree never dereferences them. Every test ends with MMU_ENV_FINI (no PMM page may
 * stay allocated, so a leaked tree node fails the test) and checks the heap is empty.
 */
#include <lib/rand.h>
#include "htest.h"

#include <stdlib.h>

#include <phys/heap.h>
#include <phys/pmm.h>
#include <vm/page_tree.h>

#include "mmu_host_env.h"

#define BIT(n) (1ull << (n))
#define INDEX_MAX_TESTED (BIT(52) - 1) /* indices up to 2^52 must work */

enum { FAKE_PAGES = 1024 };
static vm_page_t fake[FAKE_PAGES];

static void env_start(void) { mmu_env_init(MMU_ENV_DEFAULT_BYTES); }

static void env_end_at(const char *file, int line) {
    if (heap_bytes_in_use() != 0)
        htest_fail(file, line, "heap still holds %zu bytes", heap_bytes_in_use());
    mmu_env_fini_at(file, line);
}
#define ENV_END() env_end_at(__FILE__, __LINE__)

/* Collects the (index, page) pairs a remove_range/destroy callback reports. */
struct collect {
    const struct page_tree *tree;
    size_t n;
    uint64_t index[FAKE_PAGES];
    vm_page_t *page[FAKE_PAGES];
    bool out_of_order; /* indices not strictly increasing */
    bool still_in_tree; /* the page was still reachable during its callback */
};

static void collect_fn(void *ctx, uint64_t index, vm_page_t *page) {
    struct collect *c = ctx;
    if (c->n > 0 && index <= c->index[c->n - 1])
        c->out_of_order = true;
    if (c->tree && page_tree_lookup(c->tree, index))
        c->still_in_tree = true;
    if (c->n < FAKE_PAGES) {
        c->index[c->n] = index;
        c->page[c->n] = page;
    }
    c->n++;
}

static void collect_init(struct collect *c, const struct page_tree *t) {
    memset(c, 0, sizeof(*c));
    c->tree = t;
}

HTEST(page_tree, empty) {
    env_start();
    struct page_tree t;
    page_tree_init(&t);
    uint64_t idx = 0;
    vm_page_t *pg = NULL;
    EXPECT_NULL(page_tree_lookup(&t, 0));
    EXPECT_NULL(page_tree_lookup(&t, UINT64_MAX));
    EXPECT_NULL(page_tree_remove(&t, 5));
    EXPECT_FALSE(page_tree_next(&t, 0, UINT64_MAX, &idx, &pg));
    page_tree_remove_range(&t, 0, UINT64_MAX, NULL, NULL);
    page_tree_destroy(&t, NULL, NULL);
    EXPECT_EQ(t.count, (size_t)0);
    EXPECT_EQ(t.height, 0u);
    ENV_END();
}

static const uint64_t extremes[] = {0, 63, 64, 4095, 4096, BIT(32), BIT(32) + 1,
                                    BIT(51), INDEX_MAX_TESTED};
#define N_EXTREMES countof(extremes)

HTEST(page_tree, sparse_extremes) {
    env_start();
    struct page_tree t;
    page_tree_init(&t);
    for (size_t i = 0; i < N_EXTREMES; i++) {
        ASSERT_OK(page_tree_insert(&t, extremes[i], &fake[i]));
        EXPECT_EQ(t.count, i + 1);
    }
    for (size_t i = 0; i < N_EXTREMES; i++) {
        EXPECT_EQ(page_tree_lookup(&t, extremes[i]), &fake[i]);
        EXPECT_STATUS(page_tree_insert(&t, extremes[i], &fake[FAKE_PAGES - 1]),
                      ZX_ERR_ALREADY_EXISTS);
        EXPECT_EQ(page_tree_lookup(&t, extremes[i]), &fake[i]);
    }
    EXPECT_EQ(t.count, N_EXTREMES);
    EXPECT_NULL(page_tree_lookup(&t, 1));
    EXPECT_NULL(page_tree_lookup(&t, 62));
    EXPECT_NULL(page_tree_lookup(&t, 65));
    EXPECT_NULL(page_tree_lookup(&t, BIT(32) - 1));
    EXPECT_NULL(page_tree_lookup(&t, BIT(51) + 1));
    EXPECT_NULL(page_tree_lookup(&t, BIT(52)));
    EXPECT_NULL(page_tree_lookup(&t, UINT64_MAX));
    EXPECT_NULL(page_tree_remove(&t, BIT(40)));
    EXPECT_NULL(page_tree_remove(&t, UINT64_MAX));

    /* next walks them in order. */
    uint64_t pos = 0, idx;
    vm_page_t *pg;
    for (size_t i = 0; i < N_EXTREMES; i++) {
        ASSERT_TRUE(page_tree_next(&t, pos, BIT(52), &idx, &pg));
        EXPECT_EQ(idx, extremes[i]);
        EXPECT_EQ(pg, &fake[i]);
        pos = idx + 1;
    }
    EXPECT_FALSE(page_tree_next(&t, pos, UINT64_MAX, &idx, &pg));

    /* Remove in an interleaved order; everything is freed at the end. */
    for (size_t k = 0; k < N_EXTREMES; k++) {
        size_t i = (k * 4) % N_EXTREMES; /* 4 and 9 are coprime: a permutation */
        EXPECT_EQ(page_tree_remove(&t, extremes[i]), &fake[i]);
        EXPECT_NULL(page_tree_lookup(&t, extremes[i]));
        EXPECT_NULL(page_tree_remove(&t, extremes[i]));
    }
    EXPECT_EQ(t.count, (size_t)0);
    EXPECT_NULL(t.root);
    EXPECT_EQ(t.height, 0u);
    ENV_END();
}

/* page_tree_find + page_tree_insert_at (the fault path's one-descent commit): with the
 * leaf present the insert is a store, without it a full insert; both agree with lookup,
 * count and ALREADY_EXISTS. */
HTEST(page_tree, find_then_insert_at) {
    env_start();
    struct page_tree t;
    page_tree_init(&t);
    page_tree_pos_t pos;
    size_t n = 0;
    for (size_t i = 0; i < N_EXTREMES; i++) {
        for (uint64_t d = 0; d < 3 && extremes[i] + d <= INDEX_MAX_TESTED; d++) {
            uint64_t idx = extremes[i] + d;
            if (page_tree_lookup(&t, idx))
                continue;
            EXPECT_NULL(page_tree_find(&t, idx, &pos));
            /* The first index under a new leaf has none; its neighbours share it. */
            if (d > 0 && (idx & 63) != 0)
                EXPECT_NONNULL(pos.leaf);
            vm_page_t *pg = &fake[n % FAKE_PAGES];
            ASSERT_OK(page_tree_insert_at(&t, &pos, idx, pg));
            n++;
            EXPECT_EQ(t.count, n);
            EXPECT_EQ(page_tree_lookup(&t, idx), pg);
            EXPECT_EQ(page_tree_find(&t, idx, &pos), pg);
            EXPECT_NONNULL(pos.leaf);
            EXPECT_STATUS(page_tree_insert_at(&t, &pos, idx, &fake[FAKE_PAGES - 1]),
                          ZX_ERR_ALREADY_EXISTS);
            EXPECT_EQ(page_tree_lookup(&t, idx), pg);
            EXPECT_EQ(t.count, n);
        }
    }
    page_tree_remove_range(&t, 0, UINT64_MAX, NULL, NULL);
    EXPECT_EQ(t.count, (size_t)0);
    page_tree_destroy(&t, NULL, NULL);
    ENV_END();
}

HTEST(page_tree, full_64bit_index) {
    env_start();
    struct page_tree t;
    page_tree_init(&t);
    ASSERT_OK(page_tree_insert(&t, UINT64_MAX, &fake[1]));
    ASSERT_OK(page_tree_insert(&t, 0, &fake[0]));
    ASSERT_OK(page_tree_insert(&t, BIT(63), &fake[2]));
    EXPECT_EQ(t.height, 11u);
    EXPECT_EQ(page_tree_lookup(&t, UINT64_MAX), &fake[1]);
    EXPECT_EQ(page_tree_lookup(&t, BIT(63)), &fake[2]);
    EXPECT_NULL(page_tree_lookup(&t, UINT64_MAX - 1));
    uint64_t idx;
    vm_page_t *pg;
    ASSERT_TRUE(page_tree_next(&t, 1, UINT64_MAX, &idx, &pg));
    EXPECT_EQ(idx, BIT(63));
    EXPECT_FALSE(page_tree_next(&t, BIT(63) + 1, UINT64_MAX, &idx, &pg)); /* end exclusive */
    EXPECT_EQ(page_tree_remove(&t, BIT(63)), &fake[2]);

    struct collect c;
    collect_init(&c, NULL);
    page_tree_destroy(&t, collect_fn, &c);
    EXPECT_EQ(c.n, (size_t)2);
    EXPECT_EQ(c.index[0], 0ull);
    EXPECT_EQ(c.page[0], &fake[0]);
    EXPECT_EQ(c.index[1], UINT64_MAX);
    EXPECT_EQ(c.page[1], &fake[1]);
    EXPECT_NULL(t.root);
    ENV_END();
}

/* Nodes that become empty are freed, and the height shrinks back. */
HTEST(page_tree, frees_empty_nodes) {
    env_start();
    struct page_tree t;
    page_tree_init(&t);
    ASSERT_OK(page_tree_insert(&t, 0, &fake[0]));
    size_t one_leaf = heap_bytes_in_use();
    EXPECT_GT(one_leaf, (size_t)0);
    EXPECT_EQ(t.height, 1u);
    ASSERT_OK(page_tree_insert(&t, BIT(40), &fake[1]));
    EXPECT_EQ(t.height, 7u);
    EXPECT_EQ(page_tree_remove(&t, BIT(40)), &fake[1]);
    EXPECT_EQ(t.height, 1u);
    EXPECT_EQ(heap_bytes_in_use(), one_leaf);
    EXPECT_EQ(page_tree_remove(&t, 0), &fake[0]);
    EXPECT_EQ(heap_bytes_in_use(), (size_t)0);

    /* A tall tree whose low subtree empties keeps exactly the nodes of the high path. */
    ASSERT_OK(page_tree_insert(&t, BIT(40), &fake[1]));
    size_t high_path = heap_bytes_in_use();
    ASSERT_OK(page_tree_insert(&t, 5, &fake[0]));
    ASSERT_OK(page_tree_insert(&t, BIT(20), &fake[2]));
    EXPECT_GT(heap_bytes_in_use(), high_path);
    EXPECT_EQ(page_tree_remove(&t, 5), &fake[0]);
    EXPECT_EQ(page_tree_remove(&t, BIT(20)), &fake[2]);
    EXPECT_EQ(heap_bytes_in_use(), high_path);
    EXPECT_EQ(t.height, 7u);

    /* Same through remove_range. */
    ASSERT_OK(page_tree_insert(&t, 5, &fake[0]));
    ASSERT_OK(page_tree_insert(&t, BIT(20), &fake[2]));
    page_tree_remove_range(&t, 0, BIT(40), NULL, NULL);
    EXPECT_EQ(t.count, (size_t)1);
    EXPECT_EQ(heap_bytes_in_use(), high_path);
    page_tree_remove_range(&t, BIT(40), BIT(40) + 1, NULL, NULL);
    EXPECT_NULL(t.root);
    EXPECT_EQ(heap_bytes_in_use(), (size_t)0);
    ENV_END();
}

/* Ranged walks over enormous holes must skip them (this would take forever otherwise). */
HTEST(page_tree, huge_sparse_ranges) {
    env_start();
    struct page_tree t;
    page_tree_init(&t);
    ASSERT_OK(page_tree_insert(&t, 0, &fake[0]));
    ASSERT_OK(page_tree_insert(&t, BIT(40), &fake[1]));
    ASSERT_OK(page_tree_insert(&t, BIT(51), &fake[2]));
    uint64_t idx;
    vm_page_t *pg;
    ASSERT_TRUE(page_tree_next(&t, 1, BIT(52), &idx, &pg));
    EXPECT_EQ(idx, BIT(40));
    EXPECT_EQ(pg, &fake[1]);
    EXPECT_FALSE(page_tree_next(&t, BIT(40) + 1, BIT(51), &idx, &pg));
    ASSERT_TRUE(page_tree_next(&t, BIT(40) + 1, BIT(51) + 1, &idx, &pg));
    EXPECT_EQ(idx, BIT(51));
    EXPECT_FALSE(page_tree_next(&t, 1, BIT(40), &idx, &pg));
    EXPECT_FALSE(page_tree_next(&t, BIT(52), UINT64_MAX, &idx, &pg));
    EXPECT_FALSE(page_tree_next(&t, 5, 5, &idx, &pg));
    ASSERT_TRUE(page_tree_next(&t, 0, 1, &idx, &pg));
    EXPECT_EQ(idx, 0ull);

    struct collect c;
    collect_init(&c, &t);
    page_tree_remove_range(&t, 1, BIT(51), collect_fn, &c); /* leaves 2^51 (end excl.) */
    EXPECT_EQ(c.n, (size_t)1);
    EXPECT_EQ(c.index[0], BIT(40));
    EXPECT_EQ(t.count, (size_t)2);
    collect_init(&c, &t);
    page_tree_remove_range(&t, 1, UINT64_MAX, collect_fn, &c);
    EXPECT_EQ(c.n, (size_t)1);
    EXPECT_EQ(c.index[0], BIT(51));
    EXPECT_EQ(c.page[0], &fake[2]);
    EXPECT_FALSE(c.still_in_tree);
    EXPECT_EQ(t.count, (size_t)1);
    EXPECT_EQ(t.height, 1u);
    EXPECT_EQ(page_tree_lookup(&t, 0), &fake[0]);
    page_tree_remove_range(&t, 0, UINT64_MAX, NULL, NULL);
    EXPECT_NULL(t.root);
    ENV_END();
}

/* remove_range inside a dense region: exact bounds, order, callbacks after unlinking. */
HTEST(page_tree, remove_range_dense) {
    enum { N = 1000, LO = 100, HI = 900 };
    env_start();
    struct page_tree t;
    page_tree_init(&t);
    for (int i = 0; i < N; i++)
        ASSERT_OK(page_tree_insert(&t, (uint64_t)i, &fake[i]));
    static struct collect c;
    collect_init(&c, &t);
    page_tree_remove_range(&t, LO, HI, collect_fn, &c);
    EXPECT_EQ(c.n, (size_t)(HI - LO));
    EXPECT_FALSE(c.out_of_order);
    EXPECT_FALSE(c.still_in_tree);
    for (size_t k = 0; k < c.n && k < FAKE_PAGES; k++) {
        EXPECT_EQ(c.index[k], (uint64_t)(LO + k));
        EXPECT_EQ(c.page[k], &fake[LO + k]);
    }
    EXPECT_EQ(t.count, (size_t)(N - (HI - LO)));
    for (int i = 0; i < N; i++)
        EXPECT_EQ(page_tree_lookup(&t, (uint64_t)i), (i >= LO && i < HI) ? NULL : &fake[i]);
    uint64_t idx;
    vm_page_t *pg;
    ASSERT_TRUE(page_tree_next(&t, LO, UINT64_MAX, &idx, &pg));
    EXPECT_EQ(idx, (uint64_t)HI);
    collect_init(&c, NULL);
    page_tree_destroy(&t, collect_fn, &c);
    EXPECT_EQ(c.n, (size_t)(N - (HI - LO)));
    EXPECT_FALSE(c.out_of_order);
    ENV_END();
}

/* insert_run: runs that start mid-leaf, span leaves and the tree's growth, stop at an
 * occupied index, and match page_tree_insert page for page. */
HTEST(page_tree, insert_run) {
    env_start();
    struct page_tree t;
    page_tree_init(&t);
    size_t done = 0;
    ASSERT_OK(page_tree_insert_run(&t, 60, &fake[60], 200, &done)); /* leaves 0..4 */
    EXPECT_EQ(done, (size_t)200);
    EXPECT_EQ(t.count, (size_t)200);
    for (uint64_t i = 0; i < 300; i++)
        EXPECT_EQ(page_tree_lookup(&t, i), (i >= 60 && i < 260) ? &fake[i] : NULL);
    /* Far away: the tree grows under the run's first insert. */
    ASSERT_OK(page_tree_insert_run(&t, BIT(20) + 3, &fake[500], 70, &done));
    EXPECT_EQ(page_tree_lookup(&t, BIT(20) + 72), &fake[569]);
    EXPECT_EQ(t.count, (size_t)270);
    /* An occupied index in the middle: the pages before it stay, the rest are not added. */
    ASSERT_OK(page_tree_insert(&t, 330, &fake[900]));
    EXPECT_STATUS(page_tree_insert_run(&t, 300, &fake[300], 64, &done), ZX_ERR_ALREADY_EXISTS);
    EXPECT_EQ(done, (size_t)30);
    EXPECT_EQ(page_tree_lookup(&t, 329), &fake[329]);
    EXPECT_EQ(page_tree_lookup(&t, 330), &fake[900]);
    EXPECT_EQ(page_tree_lookup(&t, 331), NULL);
    EXPECT_EQ(t.count, (size_t)301);
    uint64_t idx;
    vm_page_t *pg;
    ASSERT_TRUE(page_tree_next(&t, 331, UINT64_MAX, &idx, &pg));
    EXPECT_EQ(idx, BIT(20) + 3);
    static struct collect c;
    collect_init(&c, NULL);
    page_tree_destroy(&t, collect_fn, &c);
    EXPECT_EQ(c.n, (size_t)301);
    EXPECT_FALSE(c.out_of_order);
    ENV_END();
}

HTEST(page_tree, destroy_requires_fn_when_nonempty) {
    env_start();
    struct page_tree t;
    page_tree_init(&t);
    ASSERT_OK(page_tree_insert(&t, 3, &fake[3]));
    HTEST_EXPECT_PANIC(page_tree_destroy(&t, NULL, NULL));
    page_tree_destroy(&t, collect_fn, &(struct collect){0});
    ENV_END();
}

/* Indices each needing a fresh multi-node path, so allocations fail mid-insert too. */
static uint64_t oom_index(int i) {
    return ((uint64_t)(i * 37 + 1) << 44) + ((uint64_t)i << 20) + (uint64_t)(i * 3);
}

/*
 * With every Nth PMM allocation failing, insert either succeeds or returns NO_MEMORY with
 * the tree (pages and heap footprint) unchanged; the insert then succeeds once injection
 * is off.
 */
HTEST(page_tree, no_memory_leaves_tree_unchanged) {
    enum { INSERTS = 40, MAX_EVERY = 8 };
    uint64_t failures = 0;
    for (uint32_t every = 1; every <= MAX_EVERY; every++) {
        env_start();
        struct page_tree t;
        page_tree_init(&t);
        for (int i = 0; i < INSERTS; i++) {
            uint64_t index = oom_index(i);
            size_t bytes = heap_bytes_in_use(), count = t.count;
            unsigned height = t.height;
            pmm_fault_inject_every(every);
            zx_status_t st = page_tree_insert(&t, index, &fake[i]);
            pmm_fault_inject_every(0);
            if (st == ZX_ERR_NO_MEMORY) {
                failures++;
                EXPECT_EQ(t.count, count);
                EXPECT_EQ(t.height, height);
                EXPECT_EQ(heap_bytes_in_use(), bytes);
                EXPECT_NULL(page_tree_lookup(&t, index));
                for (int j = 0; j < i; j++)
                    EXPECT_EQ(page_tree_lookup(&t, oom_index(j)), &fake[j]);
                st = page_tree_insert(&t, index, &fake[i]);
            }
            ASSERT_OK(st);
            EXPECT_EQ(page_tree_lookup(&t, index), &fake[i]);
        }
        EXPECT_EQ(t.count, (size_t)INSERTS);
        struct collect c;
        collect_init(&c, NULL);
        page_tree_destroy(&t, collect_fn, &c);
        EXPECT_EQ(c.n, (size_t)INSERTS);
        ENV_END();
    }
    EXPECT_GT(failures, 0ull);
}

/* ---- randomized comparison against a sorted pool of candidate indices ---- */

enum { POOL = FAKE_PAGES, RANDOM_OPS = 100000, FULL_CHECK_EVERY = 10000 };

static uint64_t rng_state;

static uint64_t rng_next(void) {
    return splitmix64_next(&rng_state);
}

static uint64_t rng_below(uint64_t n) { return rng_next() % n; }

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t pool[POOL];  /* sorted, distinct; pool[i] maps to &fake[i] */
static bool present[POOL];

/* First pool position whose index is >= v (POOL if none). */
static size_t pool_lower_bound(uint64_t v) {
    size_t lo = 0, hi = POOL;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (pool[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Dense runs, cluster boundaries and random sparse indices below 2^52. */
static void pool_build(void) {
    size_t n = 0;
    for (uint64_t i = 0; i < 200; i++)
        pool[n++] = i;
    for (uint64_t i = 0; i < 100; i++)
        pool[n++] = BIT(32) - 50 + i; /* straddles a level boundary */
    for (size_t i = 0; i < N_EXTREMES; i++)
        pool[n++] = extremes[i];
    while (n < POOL) {
        uint64_t v = rng_next() & INDEX_MAX_TESTED;
        if (rng_below(2))
            v &= ~(BIT(rng_below(52)) - 1); /* bias towards aligned indices */
        pool[n++] = v;
    }
    /* Sort, drop duplicates, refill until POOL distinct values. */
    for (;;) {
        qsort(pool, POOL, sizeof(pool[0]), cmp_u64);
        size_t m = 1;
        for (size_t i = 1; i < POOL; i++)
            if (pool[i] != pool[m - 1])
                pool[m++] = pool[i];
        if (m == POOL)
            return;
        while (m < POOL)
            pool[m++] = rng_next() & INDEX_MAX_TESTED;
    }
}

/* Random index near a pool entry (or anywhere), for range bounds and misses. */
static uint64_t random_bound(void) {
    if (rng_below(8) == 0)
        return rng_next() & INDEX_MAX_TESTED;
    uint64_t v = pool[rng_below(POOL)];
    switch (rng_below(3)) {
    case 0: return v > 0 ? v - 1 : v;
    case 1: return v;
    default: return v + 1;
    }
}

/* The model's first present pool position with index in [start, end), or POOL. */
static size_t model_next(uint64_t start, uint64_t end) {
    for (size_t k = pool_lower_bound(start); k < POOL && pool[k] < end; k++)
        if (present[k])
            return k;
    return POOL;
}

HTEST(page_tree, random_model) {
    env_start();
    uint64_t seed = htest_seed();
    rng_state = seed;
    pool_build();
    memset(present, 0, sizeof(present));
    size_t count = 0;
    struct page_tree t;
    page_tree_init(&t);
    static struct collect c;

    for (int op = 0; op < RANDOM_OPS; op++) {
        size_t k = rng_below(POOL);
        switch (rng_below(8)) {
        case 0:
        case 1: { /* inserts twice as likely as removes: the tree settles ~2/3 full */
            zx_status_t st = page_tree_insert(&t, pool[k], &fake[k]);
            if (present[k]) {
                EXPECT_STATUS(st, ZX_ERR_ALREADY_EXISTS);
            } else {
                EXPECT_OK(st);
                present[k] = true;
                count++;
            }
            break;
        }
        case 2:
            EXPECT_EQ(page_tree_remove(&t, pool[k]), present[k] ? &fake[k] : NULL);
            if (present[k]) {
                present[k] = false;
                count--;
            }
            break;
        case 3:
            EXPECT_EQ(page_tree_lookup(&t, pool[k]), present[k] ? &fake[k] : NULL);
            break;
        case 4: { /* lookup/remove of an arbitrary index */
            uint64_t v = random_bound();
            size_t p = pool_lower_bound(v);
            bool hit = p < POOL && pool[p] == v && present[p];
            EXPECT_EQ(page_tree_lookup(&t, v), hit ? &fake[p] : NULL);
            break;
        }
        case 5:
        case 6: {
            uint64_t start = random_bound(), end = random_bound();
            if (rng_below(4) == 0)
                end = UINT64_MAX;
            uint64_t idx = 0;
            vm_page_t *pg = NULL;
            size_t m = model_next(start, end);
            bool found = page_tree_next(&t, start, end, &idx, &pg);
            EXPECT_EQ(found, m < POOL);
            if (found && m < POOL) {
                EXPECT_EQ(idx, pool[m]);
                EXPECT_EQ(pg, &fake[m]);
            }
            break;
        }
        case 7: { /* rare, mostly short ranges so the tree does not drain */
            if (rng_below(32) != 0)
                break;
            uint64_t start = pool[k];
            size_t last = k + (size_t)rng_below(16);
            uint64_t end = pool[MIN(last, (size_t)POOL - 1)] + rng_below(2);
            collect_init(&c, &t);
            page_tree_remove_range(&t, start, end, collect_fn, &c);
            EXPECT_FALSE(c.out_of_order);
            EXPECT_FALSE(c.still_in_tree);
            size_t got = 0;
            for (size_t p = pool_lower_bound(start); p < POOL && pool[p] < end; p++) {
                if (!present[p])
                    continue;
                if (got < c.n) {
                    EXPECT_EQ(c.index[got], pool[p]);
                    EXPECT_EQ(c.page[got], &fake[p]);
                }
                got++;
                present[p] = false;
                count--;
            }
            EXPECT_EQ(c.n, got);
            break;
        }
        }
        if (t.count != count) {
            htest_fail(__FILE__, __LINE__, "count %zu, model %zu at op %d (seed %" PRIu64 ")",
                       t.count, count, op, seed);
            break;
        }
        if (op % FULL_CHECK_EVERY == 0) {
            /* Walk the whole tree with next and compare with the model. */
            uint64_t pos = 0, idx;
            vm_page_t *pg;
            size_t p = 0, seen = 0;
            while (page_tree_next(&t, pos, UINT64_MAX, &idx, &pg)) {
                while (p < POOL && !present[p])
                    p++;
                ASSERT_TRUE(p < POOL);
                EXPECT_EQ(idx, pool[p]);
                EXPECT_EQ(pg, &fake[p]);
                p++;
                seen++;
                pos = idx + 1;
            }
            EXPECT_EQ(seen, count);
        }
    }

    collect_init(&c, NULL);
    page_tree_destroy(&t, collect_fn, &c);
    EXPECT_EQ(c.n, count);
    EXPECT_FALSE(c.out_of_order);
    ENV_END();
}

/* ---------------------------------------------------------------- walk */

struct walk_check {
    const struct page_tree *tree;
    uint64_t expect_from; /* page_tree_next is the reference: the next page must be it */
    uint64_t end;
    size_t visited;
    size_t stop_after;    /* return an error after this many visits (0 = never) */
    bool mismatch;
};

static zx_status_t walk_check_fn(void *ctx, uint64_t index, vm_page_t *page) {
    struct walk_check *w = ctx;
    uint64_t want;
    vm_page_t *want_page;
    if (!page_tree_next(w->tree, w->expect_from, w->end, &want, &want_page) || want != index ||
        want_page != page)
        w->mismatch = true;
    w->expect_from = index + 1;
    w->visited++;
    if (w->stop_after && w->visited == w->stop_after)
        return ZX_ERR_STOP;
    return ZX_OK;
}

/* page_tree_walk visits exactly what repeated page_tree_next finds, in order, over
 * sparse and dense trees and arbitrary windows, and stops on the callback's error. */
HTEST(page_tree, walk_matches_next) {
    env_start();
    struct page_tree t;
    page_tree_init(&t);
    uint64_t rng_state = htest_seed();
    for (size_t i = 0; i < FAKE_PAGES; i++) {
        uint64_t r = splitmix64_next(&rng_state);
        uint64_t index = (i % 3 == 0) ? (r & 0xfff) : (i % 3 == 1) ? (r & (BIT(40) - 1)) : i;
        if (page_tree_insert(&t, index, &fake[i]) != ZX_OK && !page_tree_lookup(&t, index))
            htest_fail(__FILE__, __LINE__, "insert of %#llx failed", (unsigned long long)index);
    }
    for (int round = 0; round < 200; round++) {
        uint64_t a = splitmix64_next(&rng_state) & (BIT(41) - 1);
        uint64_t b = a + (splitmix64_next(&rng_state) & (BIT(round % 2 ? 12 : 41) - 1));
        if (round == 0) {
            a = 0;
            b = UINT64_MAX;
        }
        struct walk_check w = {.tree = &t, .expect_from = a, .end = b};
        EXPECT_OK(page_tree_walk(&t, a, b, walk_check_fn, &w));
        uint64_t idx;
        vm_page_t *pg;
        EXPECT_FALSE(w.mismatch);
        EXPECT_FALSE(page_tree_next(&t, w.expect_from, b, &idx, &pg)); /* nothing skipped */
    }
    struct walk_check stop = {.tree = &t, .expect_from = 0, .end = UINT64_MAX, .stop_after = 5};
    EXPECT_STATUS(page_tree_walk(&t, 0, UINT64_MAX, walk_check_fn, &stop), ZX_ERR_STOP);
    EXPECT_EQ(stop.visited, 5u);
    struct collect c;
    collect_init(&c, NULL);
    page_tree_destroy(&t, collect_fn, &c);
    ENV_END();
}
