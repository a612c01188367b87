/*
 * Host tests of VMAR placement (kernel/vm/vmar_place.c) against a page-bitmap model.
 *
 * The random test runs 100,000+ operations (insert by compact / randomized / specific
 * placement with random size, alignment and upper limit; remove) and checks after each:
 * the result is aligned, inside the window and the upper limit, and free in the model;
 * NO_RESOURCES only when the model has no fitting place; compact placement returns the
 * model's lowest fitting place (so every hole is findable); the tree stays a valid AVL
 * tree. HTEST_SEED=... replays a failure.
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

static void model_clear(struct model *m) {
    while (m->n)
        model_remove(m, m->n - 1);
}

static struct model g_model;

HTEST(vmar_place, empty_and_full) {
    struct model *m = &g_model;
    avl_init(&m->tree);
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
    avl_init(&t);
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
    avl_init(&m->tree);
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
    avl_init(&m->tree);
    uint64_t seed = htest_seed();
    uint64_t trng = seed ^ 0x5555, prng = seed;
    size_t placed_random = 0, no_resources = 0;
    for (unsigned op = 0; op < RANDOM_OPS; op++) {
        uint64_t r = splitmix64_next(&trng);
        if (m->n && (r % 8 < 3 || m->n > 200)) { /* remove */
            model_remove(m, (size_t)((r >> 8) % m->n));
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
        if (op % 1024 == 0)
            ASSERT_TRUE(avl_check(&m->tree));
    }
    EXPECT_TRUE(placed_random > RANDOM_OPS / 10);
    EXPECT_TRUE(no_resources > 0);
    ASSERT_TRUE(avl_check(&m->tree));
    model_clear(m);
}
