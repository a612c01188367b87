/*
 * Host tests of VMAR placement (kernel/vm/vmar_place.c) against a page-bitmap model.
 *
 * The random test runs 100,000+ operations (insert by compact / randomized / specific
 * placement with random size, alignment and upper limit; remove) and checks after each:
 * the result is aligned, inside the window and the upper limit, and free in the model;
 * NO_RESOURCES only when the model has no fitting place; compact placement returns the
 * model's lowest fitting place (so every hole is findable); the tree stays a valid AVL
 * tree. Extents also grow and shrink in place (vm_extent_resized), and after every
 * operation each extent's subtree summary is checked against its children
 * (vm_extent_tree_check) and the root's against the model's holes, found by brute force.
 * The distribution tests count where randomized placement lands and compare with the
 * documented distribution (exactly uniform over candidates when align <= size).
 * HTEST_SEED=... replays a failure.
 */
#include <stdlib.h>
#include "htest.h"
#include <kernel/types.h>
#include <lib/rand.h>
#include <vm/vmar_place.h>

#define MODEL_PAGES 1024u             /* the parent window, in pages */
#define MODEL_BASE 0x40000000ull      /* its base address */
#define MAX_EXTENTS MODEL_PAGES
#define MAX_ALIGN_LOG2 18             /* alignments 4 KiB .. 256 KiB */
#define RANDOM_OPS 120000u

struct model {
    struct avl_tree tree;
    struct vm_extent *slots[MAX_EXTENTS]; /* live extents, unordered */
    size_t n;
    uint8_t used[MODEL_PAGES];
};

static uint64_t page_addr(size_t page) { return MODEL_BASE + (uint64_t)page * PAGE_SIZE; }

/* The lowest aligned address in [lo, hi) where `pages` free pages fit, or 0. */
static uint64_t model_lowest_fit(const struct model *m, uint64_t lo, uint64_t hi,
                                 uint64_t pages, uint64_t align) {
    for (uint64_t a = ROUNDUP(lo, align); a + pages * PAGE_SIZE <= hi; a += align) {
        size_t p0 = (a - MODEL_BASE) / PAGE_SIZE, i;
        for (i = 0; i < pages && !m->used[p0 + i]; i++)
            ;
        if (i == pages)
            return a;
    }
    return 0;
}

static bool model_is_free(const struct model *m, uint64_t addr, uint64_t pages) {
    size_t p0 = (addr - MODEL_BASE) / PAGE_SIZE;
    for (size_t i = 0; i < pages; i++)
        if (m->used[p0 + i])
            return false;
    return true;
}

static void model_insert(struct model *m, uint64_t addr, uint64_t pages) {
    struct vm_extent *e = calloc(1, sizeof(*e));
    e->node.key = addr;
    e->size = pages * PAGE_SIZE;
    if (avl_insert(&m->tree, &e->node) != ZX_OK)
        htest_fail(__FILE__, __LINE__, "insert of 0x%llx failed", (unsigned long long)addr);
    size_t p0 = (addr - MODEL_BASE) / PAGE_SIZE;
    for (size_t i = 0; i < pages; i++)
        m->used[p0 + i] = 1;
    m->slots[m->n++] = e;
}

static void model_remove(struct model *m, size_t slot) {
    struct vm_extent *e = m->slots[slot];
    avl_remove(&m->tree, &e->node);
    size_t p0 = (vm_extent_base(e) - MODEL_BASE) / PAGE_SIZE;
    for (size_t i = 0; i < e->size / PAGE_SIZE; i++)
        m->used[p0 + i] = 0;
    m->slots[slot] = m->slots[--m->n];
    free(e);
}

/* Grows (delta > 0, into free pages) or shrinks extent `slot` at its end in place. */
static void model_resize(struct model *m, size_t slot, int64_t delta_pages) {
    struct vm_extent *e = m->slots[slot];
    size_t p_end = (vm_extent_end(e) - MODEL_BASE) / PAGE_SIZE;
    if (delta_pages > 0) {
        for (int64_t i = 0; i < delta_pages; i++)
            m->used[p_end + (size_t)i] = 1;
    } else {
        for (int64_t i = delta_pages; i < 0; i++)
            m->used[(size_t)((int64_t)p_end + i)] = 0;
    }
    e->size = (uint64_t)((int64_t)e->size + delta_pages * (int64_t)PAGE_SIZE);
    vm_extent_resized(&m->tree, e);
}

/* The holes between the model's extents, by brute force: their total and the largest. */
static void model_inner_holes(const struct model *m, uint64_t *sum, uint64_t *max) {
    *sum = *max = 0;
    size_t first = MODEL_PAGES, last = 0;
    for (size_t p = 0; p < MODEL_PAGES; p++) {
        if (m->used[p]) {
            first = MIN(first, p);
            last = p;
        }
    }
    uint64_t run = 0;
    for (size_t p = first; p <= last && first < MODEL_PAGES; p++) {
        if (!m->used[p]) {
            run++;
            *sum += PAGE_SIZE;
            *max = MAX(*max, run * PAGE_SIZE);
        } else {
            run = 0;
        }
    }
}

/* The tree's summaries are consistent and the root's agrees with the model. */
static bool model_summaries_ok(const struct model *m) {
    if (!vm_extent_tree_check(&m->tree))
        return false;
    struct vm_extent *root = vm_extent_of(m->tree.root);
    if (!root)
        return m->n == 0;
    uint64_t sum, max;
    model_inner_holes(m, &sum, &max);
    return root->sub_gap_sum == sum && root->sub_gap_max == max &&
           root->sub_lo == vm_extent_base(vm_extent_of(avl_first(&m->tree))) &&
           root->sub_hi == vm_extent_end(vm_extent_of(avl_last(&m->tree)));
}

static void model_clear(struct model *m) {
    while (m->n)
        model_remove(m, m->n - 1);
}

static struct model g_model;

HTEST(vmar_place, empty_and_full) {
    struct model *m = &g_model;
    vm_extent_tree_init(&m->tree);
    uint64_t rng = 1, out = 0;
    struct vmar_place_req req = {page_addr(0), page_addr(MODEL_PAGES), PAGE_SIZE, PAGE_SIZE, true};
    ASSERT_OK(vmar_place_find(&m->tree, &req, &rng, &out));
    EXPECT_EQ(out, page_addr(0));
    req.size = MODEL_PAGES * PAGE_SIZE;
    ASSERT_OK(vmar_place_find(&m->tree, &req, &rng, &out));
    EXPECT_EQ(out, page_addr(0));
    req.size += PAGE_SIZE;
    EXPECT_STATUS(vmar_place_find(&m->tree, &req, &rng, &out), ZX_ERR_NO_RESOURCES);
    model_insert(m, page_addr(0), MODEL_PAGES);
    req.size = PAGE_SIZE;
    EXPECT_STATUS(vmar_place_find(&m->tree, &req, &rng, &out), ZX_ERR_NO_RESOURCES);
    req.compact = false;
    EXPECT_STATUS(vmar_place_find(&m->tree, &req, &rng, &out), ZX_ERR_NO_RESOURCES);
    EXPECT_FALSE(vmar_place_is_free(&m->tree, page_addr(5), PAGE_SIZE));
    EXPECT_NULL(vm_extent_find(&m->tree, page_addr(MODEL_PAGES)));
    model_clear(m);
}

HTEST(vmar_place, top_of_address_space) {
    /* Holes that end at 2^64: the rounding and the end must not wrap. */
    struct avl_tree t;
    vm_extent_tree_init(&t);
    uint64_t rng = 7, out = 0;
    uint64_t lo = 0ull - 16 * PAGE_SIZE;
    struct vmar_place_req req = {lo, 0ull - PAGE_SIZE, 4 * PAGE_SIZE, 1ull << 32, true};
    EXPECT_STATUS(vmar_place_find(&t, &req, &rng, &out), ZX_ERR_NO_RESOURCES);
    req.align = 4 * PAGE_SIZE;
    ASSERT_OK(vmar_place_find(&t, &req, &rng, &out));
    EXPECT_EQ(out, lo);
    req.compact = false;
    for (int i = 0; i < 100; i++) {
        ASSERT_OK(vmar_place_find(&t, &req, &rng, &out));
        EXPECT_TRUE(out >= lo && out - lo <= 11 * PAGE_SIZE && out % (4 * PAGE_SIZE) == 0);
    }
}

HTEST(vmar_place, random_covers_holes) {
    /* Five one-page holes of equal size: randomized placement must hit all of them,
     * roughly evenly, and never a used page. */
    struct model *m = &g_model;
    vm_extent_tree_init(&m->tree);
    const size_t holes[] = {3, 100, 511, 700, 1020};
    size_t prev = 0;
    for (size_t i = 0; i < countof(holes); i++) {
        if (holes[i] > prev)
            model_insert(m, page_addr(prev), holes[i] - prev);
        prev = holes[i] + 1;
    }
    model_insert(m, page_addr(prev), MODEL_PAGES - prev);
    uint64_t rng = htest_seed(), out;
    unsigned hits[countof(holes)] = {0};
    struct vmar_place_req req = {page_addr(0), page_addr(MODEL_PAGES), PAGE_SIZE, PAGE_SIZE, false};
    const unsigned tries = 5000;
    for (unsigned i = 0; i < tries; i++) {
        ASSERT_OK(vmar_place_find(&m->tree, &req, &rng, &out));
        size_t page = (out - MODEL_BASE) / PAGE_SIZE, h;
        for (h = 0; h < countof(holes) && holes[h] != page; h++)
            ;
        ASSERT_TRUE(h < countof(holes));
        hits[h]++;
    }
    for (size_t h = 0; h < countof(holes); h++) /* expected 1000 each */
        EXPECT_TRUE(hits[h] > 800 && hits[h] < 1200);
    model_clear(m);
}

HTEST(vmar_place, random_model) {
    struct model *m = &g_model;
    vm_extent_tree_init(&m->tree);
    uint64_t seed = htest_seed();
    uint64_t trng = seed ^ 0x5555, prng = seed;
    size_t placed_random = 0, no_resources = 0;
    for (unsigned op = 0; op < RANDOM_OPS; op++) {
        uint64_t r = splitmix64_next(&trng);
        if (m->n && (r % 8 < 3 || m->n > 200)) { /* remove */
            model_remove(m, (size_t)((r >> 8) % m->n));
            ASSERT_TRUE(model_summaries_ok(m));
            continue;
        }
        if (m->n && r % 8 == 3) { /* grow or shrink an extent at its end, in place */
            size_t slot = (size_t)((r >> 8) % m->n);
            struct vm_extent *e = m->slots[slot];
            size_t p_end = (vm_extent_end(e) - MODEL_BASE) / PAGE_SIZE;
            int64_t want = 1 + (int64_t)((r >> 20) % 4), d = 0;
            if ((r >> 24) & 1) {
                while (d < want && p_end + (size_t)d < MODEL_PAGES && !m->used[p_end + (size_t)d])
                    d++;
            } else {
                d = -MIN(want, (int64_t)(e->size / PAGE_SIZE) - 1);
            }
            if (d != 0)
                model_resize(m, slot, d);
            ASSERT_TRUE(model_summaries_ok(m));
            continue;
        }
        uint64_t pages = 1 + (r >> 8) % (r % 5 == 0 ? 64 : 8);
        uint64_t align = 1ull << (PAGE_SHIFT + (r >> 20) % (MAX_ALIGN_LOG2 - PAGE_SHIFT + 1));
        uint64_t lo = page_addr(0), hi = page_addr(MODEL_PAGES);
        if ((r >> 30) % 4 == 0) /* an upper limit */
            hi = page_addr((size_t)((r >> 32) % (MODEL_PAGES + 1)));
        int kind = (int)((r >> 44) % 3); /* 0 compact, 1 random, 2 specific */
        uint64_t out = 0;
        if (kind == 2) {
            uint64_t addr = page_addr((size_t)((r >> 48) % MODEL_PAGES));
            if (addr + pages * PAGE_SIZE > hi)
                continue;
            bool free_model = model_is_free(m, addr, pages);
            ASSERT_EQ(vmar_place_is_free(&m->tree, addr, pages * PAGE_SIZE), free_model);
            if (free_model)
                model_insert(m, addr, pages);
            ASSERT_TRUE(model_summaries_ok(m));
            continue;
        }
        struct vmar_place_req req = {lo, hi, pages * PAGE_SIZE, align, kind == 0};
        uint64_t lowest = hi >= lo ? model_lowest_fit(m, lo, hi, pages, align) : 0;
        zx_status_t st = vmar_place_find(&m->tree, &req, &prng, &out);
        if (lowest == 0) {
            ASSERT_STATUS(st, ZX_ERR_NO_RESOURCES);
            no_resources++;
            continue;
        }
        ASSERT_OK(st);
        ASSERT_EQ(out % align, 0);
        ASSERT_TRUE(out >= lo && out + pages * PAGE_SIZE <= hi);
        ASSERT_TRUE(model_is_free(m, out, pages));
        if (kind == 0)
            ASSERT_EQ(out, lowest);
        else
            placed_random++;
        model_insert(m, out, pages);
        ASSERT_TRUE(model_summaries_ok(m));
    }
    EXPECT_TRUE(placed_random > RANDOM_OPS / 10);
    EXPECT_TRUE(no_resources > 0);
    ASSERT_TRUE(model_summaries_ok(m));
    model_clear(m);
}

/*
 * Builds the model's extents so the free pages are exactly the holes [start, start + len)
 * given in pages (ascending, not touching).
 */
static void model_make_holes(struct model *m, const size_t (*holes)[2], size_t nholes) {
    size_t prev = 0;
    for (size_t i = 0; i < nholes; i++) {
        if (holes[i][0] > prev)
            model_insert(m, page_addr(prev), holes[i][0] - prev);
        prev = holes[i][0] + holes[i][1];
    }
    if (prev < MODEL_PAGES)
        model_insert(m, page_addr(prev), MODEL_PAGES - prev);
}

/*
 * Randomized placement of `pages` pages at `align` over holes of different sizes: every
 * candidate address (brute force over the model) must come up, each within 6 standard
 * deviations of the uniform expectation, and nothing else may.
 */
static void check_uniform(struct model *m, uint64_t pages, uint64_t align, uint64_t *rng) {
    enum { PER_CANDIDATE = 2000 };
    static unsigned hits[MODEL_PAGES];
    static bool candidate[MODEL_PAGES];
    size_t ncand = 0;
    for (size_t p = 0; p < MODEL_PAGES; p++) {
        hits[p] = 0;
        candidate[p] = page_addr(p) % align == 0 && p + pages <= MODEL_PAGES &&
                       model_is_free(m, page_addr(p), pages);
        ncand += candidate[p];
    }
    ASSERT_TRUE(ncand > 1);
    struct vmar_place_req req = {page_addr(0), page_addr(MODEL_PAGES), pages * PAGE_SIZE, align,
                                 false};
    for (size_t i = 0; i < ncand * PER_CANDIDATE; i++) {
        uint64_t out = 0;
        ASSERT_OK(vmar_place_find(&m->tree, &req, rng, &out));
        size_t p = (out - MODEL_BASE) / PAGE_SIZE;
        ASSERT_TRUE(out >= MODEL_BASE && p < MODEL_PAGES && candidate[p]);
        hits[p]++;
    }
    /* Binomial(N, 1/ncand) has a standard deviation below sqrt(PER_CANDIDATE) = 44.7. */
    for (size_t p = 0; p < MODEL_PAGES; p++)
        if (candidate[p])
            EXPECT_TRUE(hits[p] > PER_CANDIDATE - 270 && hits[p] < PER_CANDIDATE + 270);
}

HTEST(vmar_place, random_is_uniform_over_candidates) {
    /* Holes of 1, 2, 3, 5, 8 and 13 pages, some starting at odd pages. */
    static const size_t holes[][2] = {{3, 1}, {10, 2}, {21, 3}, {101, 5}, {300, 8}, {517, 13}};
    struct model *m = &g_model;
    vm_extent_tree_init(&m->tree);
    model_make_holes(m, holes, countof(holes));
    uint64_t rng = htest_seed();
    check_uniform(m, 1, PAGE_SIZE, &rng); /* 32 candidates */
    check_uniform(m, 2, PAGE_SIZE, &rng); /* 26 */
    check_uniform(m, 3, PAGE_SIZE, &rng); /* 21: the 1- and 2-page holes never fit */
    check_uniform(m, 2, 2 * PAGE_SIZE, &rng); /* align == size: still exact */
    check_uniform(m, 4, 2 * PAGE_SIZE, &rng);
    model_clear(m);
}

HTEST(vmar_place, random_fallback_finds_the_only_fit) {
    /* 300 one-page holes and one 8-page hole: an 8-page request is refused by nearly
     * every try (the big hole holds 8 of ~308 free pages and one candidate), so the
     * fallback must find the big hole, from wherever the last try landed. */
    static size_t holes[301][2];
    for (size_t i = 0; i < 300; i++) {
        holes[i][0] = 1 + 3 * i;
        holes[i][1] = 1;
    }
    holes[300][0] = 950;
    holes[300][1] = 8;
    struct model *m = &g_model;
    vm_extent_tree_init(&m->tree);
    model_make_holes(m, holes, countof(holes));
    ASSERT_TRUE(model_summaries_ok(m));
    uint64_t rng = htest_seed(), out = 0;
    struct vmar_place_req req = {page_addr(0), page_addr(MODEL_PAGES), 8 * PAGE_SIZE, PAGE_SIZE,
                                 false};
    for (int i = 0; i < 200; i++) {
        ASSERT_OK(vmar_place_find(&m->tree, &req, &rng, &out));
        EXPECT_EQ(out, page_addr(950));
    }
    req.size = 9 * PAGE_SIZE;
    EXPECT_STATUS(vmar_place_find(&m->tree, &req, &rng, &out), ZX_ERR_NO_RESOURCES);
    req.compact = true;
    EXPECT_STATUS(vmar_place_find(&m->tree, &req, &rng, &out), ZX_ERR_NO_RESOURCES);
    req.size = 8 * PAGE_SIZE;
    ASSERT_OK(vmar_place_find(&m->tree, &req, &rng, &out));
    EXPECT_EQ(out, page_addr(950));
    /* An upper limit that cuts the big hole: nothing fits below it. */
    req.hi = page_addr(957);
    req.compact = false;
    EXPECT_STATUS(vmar_place_find(&m->tree, &req, &rng, &out), ZX_ERR_NO_RESOURCES);
    model_clear(m);
}

HTEST(vmar_place, same_seed_same_places) {
    /* Randomized placement is a function of the tree and the PRNG state (aslr.seed). */
    static const size_t holes[][2] = {{3, 40}, {100, 200}, {400, 600}};
    struct model *m = &g_model;
    vm_extent_tree_init(&m->tree);
    model_make_holes(m, holes, countof(holes));
    uint64_t seed = htest_seed(), a = seed, b = seed, x = 0, y = 0;
    struct vmar_place_req req = {page_addr(0), page_addr(MODEL_PAGES), 4 * PAGE_SIZE,
                                 4 * PAGE_SIZE, false};
    for (int i = 0; i < 100; i++) {
        ASSERT_OK(vmar_place_find(&m->tree, &req, &a, &x));
        ASSERT_OK(vmar_place_find(&m->tree, &req, &b, &y));
        EXPECT_EQ(x, y);
    }
    EXPECT_EQ(a, b);
    model_clear(m);
}
