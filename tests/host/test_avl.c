/*
 * Host tests for the intrusive AVL tree (kernel/lib/avl.c): directed cases for every
 * operation and rebalancing shape, then a randomized comparison against a bitmap model
 * with avl_check after every operation (seed: htest_seed(), replay with HTEST_SEED).
 */
#include <lib/rand.h>
#include "htest.h"

#include <stdlib.h>

#include <kernel/compiler.h>
#include <lib/avl.h>

struct item {
    uint64_t tag; /* something before the node, so containerof is exercised */
    struct avl_node node;
};

static uint64_t rng_state;

/* splitmix64: small, deterministic, good enough for test decisions. */
static uint64_t rng_next(void) {
    return splitmix64_next(&rng_state);
}

static uint64_t rng_below(uint64_t n) { return rng_next() % n; }

static uint64_t key_of(const struct avl_node *n) { return n ? n->key : UINT64_MAX; }

/* Height bound of an AVL tree with n nodes: h < 1.4405 log2(n + 2) - 0.3277. */
static bool height_ok(const struct avl_tree *t) {
    size_t n = t->count;
    int log2 = 0;
    while ((n + 2) >> (log2 + 1))
        log2++;
    int h = t->root ? t->root->height : 0;
    return h * 10000 <= 14405 * (log2 + 1);
}

HTEST(avl, empty) {
    struct avl_tree t;
    avl_init(&t);
    EXPECT_TRUE(avl_check(&t));
    EXPECT_NULL(avl_find(&t, 0));
    EXPECT_NULL(avl_floor(&t, UINT64_MAX));
    EXPECT_NULL(avl_ceil(&t, 0));
    EXPECT_NULL(avl_first(&t));
    EXPECT_NULL(avl_last(&t));
    EXPECT_EQ(t.count, (size_t)0);
}

HTEST(avl, insert_find_duplicate) {
    struct avl_tree t;
    avl_init(&t);
    struct item a = {.tag = 1, .node.key = 10}, b = {.tag = 2, .node.key = 10};
    EXPECT_OK(avl_insert(&t, &a.node));
    EXPECT_STATUS(avl_insert(&t, &b.node), ZX_ERR_ALREADY_EXISTS);
    EXPECT_EQ(t.count, (size_t)1);
    EXPECT_TRUE(avl_check(&t));
    struct avl_node *f = avl_find(&t, 10);
    ASSERT_NONNULL(f);
    EXPECT_EQ(avl_entry(f, struct item, node)->tag, 1ull);
    EXPECT_NULL(avl_find(&t, 9));
    EXPECT_NULL(avl_find(&t, 11));
    avl_remove(&t, &a.node);
    EXPECT_TRUE(avl_check(&t));
    EXPECT_NULL(t.root);
}

/* The four single-insert rebalancing shapes (LL, RR, LR, RL) each end as a balanced 3. */
HTEST(avl, rotations) {
    static const uint64_t shapes[4][3] = {{3, 2, 1}, {1, 2, 3}, {3, 1, 2}, {1, 3, 2}};
    for (int s = 0; s < 4; s++) {
        struct avl_tree t;
        avl_init(&t);
        struct item it[3];
        for (int i = 0; i < 3; i++) {
            it[i].node.key = shapes[s][i];
            EXPECT_OK(avl_insert(&t, &it[i].node));
            EXPECT_TRUE(avl_check(&t));
        }
        ASSERT_NONNULL(t.root);
        EXPECT_EQ(t.root->key, 2ull);
        EXPECT_EQ(t.root->height, 2);
        EXPECT_NULL(t.root->parent);
    }
}

HTEST(avl, floor_ceil_iterate) {
    struct avl_tree t;
    avl_init(&t);
    enum { N = 100, STRIDE = 10 };
    static struct item it[N];
    for (int i = 0; i < N; i++) {
        it[i].node.key = (uint64_t)(i * STRIDE + STRIDE); /* 10, 20, ..., 1000 */
        ASSERT_OK(avl_insert(&t, &it[i].node));
    }
    EXPECT_TRUE(avl_check(&t));
    EXPECT_TRUE(height_ok(&t));
    EXPECT_NULL(avl_floor(&t, 9));
    EXPECT_EQ(key_of(avl_floor(&t, 10)), 10ull);
    EXPECT_EQ(key_of(avl_floor(&t, 19)), 10ull);
    EXPECT_EQ(key_of(avl_floor(&t, UINT64_MAX)), 1000ull);
    EXPECT_EQ(key_of(avl_ceil(&t, 0)), 10ull);
    EXPECT_EQ(key_of(avl_ceil(&t, 11)), 20ull);
    EXPECT_EQ(key_of(avl_ceil(&t, 1000)), 1000ull);
    EXPECT_NULL(avl_ceil(&t, 1001));
    EXPECT_EQ(key_of(avl_first(&t)), 10ull);
    EXPECT_EQ(key_of(avl_last(&t)), 1000ull);

    uint64_t expect = STRIDE;
    size_t seen = 0;
    for (struct avl_node *n = avl_first(&t); n; n = avl_next(n), expect += STRIDE, seen++)
        EXPECT_EQ(n->key, expect);
    EXPECT_EQ(seen, (size_t)N);
    expect = N * STRIDE;
    seen = 0;
    for (struct avl_node *n = avl_last(&t); n; n = avl_prev(n), expect -= STRIDE, seen++)
        EXPECT_EQ(n->key, expect);
    EXPECT_EQ(seen, (size_t)N);
}

HTEST(avl, extreme_keys) {
    struct avl_tree t;
    avl_init(&t);
    struct item lo = {.node.key = 0}, hi = {.node.key = UINT64_MAX};
    EXPECT_OK(avl_insert(&t, &hi.node));
    EXPECT_OK(avl_insert(&t, &lo.node));
    EXPECT_TRUE(avl_check(&t));
    EXPECT_EQ(avl_floor(&t, UINT64_MAX - 1), &lo.node);
    EXPECT_EQ(avl_ceil(&t, 1), &hi.node);
    EXPECT_EQ(avl_next(&lo.node), &hi.node);
    EXPECT_NULL(avl_next(&hi.node));
    EXPECT_EQ(avl_prev(&hi.node), &lo.node);
    EXPECT_NULL(avl_prev(&lo.node));
}

/* Removal of the root, of nodes with two children (successor adjacent or deep), leaves. */
HTEST(avl, remove_shapes) {
    enum { N = 63 };
    static struct item it[N];
    struct avl_tree t;
    avl_init(&t);
    for (int i = 0; i < N; i++) {
        it[i].node.key = (uint64_t)i;
        ASSERT_OK(avl_insert(&t, &it[i].node));
    }
    ASSERT_TRUE(avl_check(&t));
    /* Always removing the root hits the two-children case with a deep successor. */
    while (t.root && t.count > N / 2) {
        avl_remove(&t, t.root);
        ASSERT_TRUE(avl_check(&t));
    }
    /* Then the rest, smallest first (leaves and one-child nodes). */
    while (t.root) {
        struct avl_node *f = avl_first(&t);
        avl_remove(&t, f);
        EXPECT_NULL(f->parent);
        ASSERT_TRUE(avl_check(&t));
    }
    EXPECT_EQ(t.count, (size_t)0);
}

/* Sequential inserts (the worst case for an unbalanced tree) stay logarithmic. */
HTEST(avl, large_sequential) {
    enum { N = 100000 };
    struct item *it = calloc(N, sizeof(*it));
    ASSERT_NONNULL(it);
    struct avl_tree t;
    avl_init(&t);
    for (int i = 0; i < N; i++) {
        it[i].node.key = (uint64_t)i;
        ASSERT_OK(avl_insert(&t, &it[i].node));
    }
    EXPECT_TRUE(avl_check(&t));
    EXPECT_TRUE(height_ok(&t));
    EXPECT_LE(t.root->height, 17); /* perfectly balanced would be 17 */
    rng_state = htest_seed();
    /* Remove in a random order (Fisher-Yates over the indices). */
    int *order = malloc(N * sizeof(*order));
    ASSERT_NONNULL(order);
    for (int i = 0; i < N; i++)
        order[i] = i;
    for (int i = N - 1; i > 0; i--) {
        int j = (int)rng_below((uint64_t)i + 1), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    for (int i = 0; i < N; i++) {
        avl_remove(&t, &it[order[i]].node);
        if (i % (N / 10) == 0) {
            EXPECT_TRUE(avl_check(&t));
            EXPECT_TRUE(height_ok(&t));
        }
    }
    EXPECT_TRUE(avl_check(&t));
    EXPECT_NULL(t.root);
    free(order);
    free(it);
}

/*
 * Random operations against a bitmap model. Model slot k holds key k * KEY_STRIDE +
 * KEY_BASE, so floor/ceil queries fall between keys and the keys are large.
 */
enum { MODEL_KEYS = 512, RANDOM_OPS = 200000 };
#define KEY_STRIDE 0x100000001ull
#define KEY_BASE 7ull

static uint64_t model_key(int k) { return (uint64_t)k * KEY_STRIDE + KEY_BASE; }

/* Model slot of the greatest present key <= key, or -1. */
static int model_floor(const bool *present, uint64_t key) {
    if (key < KEY_BASE)
        return -1;
    uint64_t k = (key - KEY_BASE) / KEY_STRIDE;
    for (int i = (int)MIN(k, (uint64_t)MODEL_KEYS - 1); i >= 0; i--)
        if (present[i])
            return i;
    return -1;
}

/* Model slot of the smallest present key >= key, or -1. */
static int model_ceil(const bool *present, uint64_t key) {
    int i = key <= KEY_BASE ? 0 : (int)MIN((key - KEY_BASE + KEY_STRIDE - 1) / KEY_STRIDE,
                                           (uint64_t)MODEL_KEYS);
    for (; i < MODEL_KEYS; i++)
        if (present[i])
            return i;
    return -1;
}

static int slot_of_node(const struct item *items, const struct avl_node *n) {
    return n ? (int)(avl_entry(n, struct item, node) - items) : -1;
}

HTEST(avl, random_model) {
    static struct item items[MODEL_KEYS];
    static bool present[MODEL_KEYS];
    memset(present, 0, sizeof(present));
    struct avl_tree t;
    avl_init(&t);
    size_t count = 0;
    uint64_t seed = htest_seed();
    rng_state = seed;
    for (int op = 0; op < RANDOM_OPS; op++) {
        int k = (int)rng_below(MODEL_KEYS);
        uint64_t probe = rng_below(model_key(MODEL_KEYS) + KEY_STRIDE);
        switch (rng_below(7)) {
        case 0:
        case 1: { /* inserts are twice as likely as removes: the tree settles ~2/3 full */
            items[k].node.key = model_key(k);
            zx_status_t st = avl_insert(&t, &items[k].node);
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
            if (present[k]) {
                avl_remove(&t, &items[k].node);
                present[k] = false;
                count--;
            }
            break;
        case 3: {
            struct avl_node *f = avl_find(&t, model_key(k));
            EXPECT_EQ(slot_of_node(items, f), present[k] ? k : -1);
            EXPECT_NULL(avl_find(&t, model_key(k) + 1));
            break;
        }
        case 4:
            EXPECT_EQ(slot_of_node(items, avl_floor(&t, probe)), model_floor(present, probe));
            break;
        case 5:
            EXPECT_EQ(slot_of_node(items, avl_ceil(&t, probe)), model_ceil(present, probe));
            break;
        case 6:
            if (present[k]) {
                struct avl_node *n = &items[k].node;
                int next = model_ceil(present, model_key(k) + 1);
                int prev = k > 0 ? model_floor(present, model_key(k) - 1) : -1;
                EXPECT_EQ(slot_of_node(items, avl_next(n)), next);
                EXPECT_EQ(slot_of_node(items, avl_prev(n)), prev);
            } else {
                EXPECT_EQ(slot_of_node(items, avl_first(&t)), model_ceil(present, 0));
                EXPECT_EQ(slot_of_node(items, avl_last(&t)),
                          model_floor(present, UINT64_MAX));
            }
            break;
        }
        if (!avl_check(&t) || t.count != count || !height_ok(&t)) {
            htest_fail(__FILE__, __LINE__, "invariant broken at op %d (seed %" PRIu64 ")", op,
                       seed);
            return;
        }
    }
}

/* ---- augmentation ---- */

/* An item whose summary is its subtree's node count and the sum of its weights. */
struct aug_item {
    struct avl_node node;
    uint64_t weight;
    uint64_t sub_count, sub_weight;
};

static struct aug_item *aug_of(struct avl_node *n) {
    return n ? containerof(n, struct aug_item, node) : NULL;
}

static void aug_update(struct avl_node *n) {
    struct aug_item *a = aug_of(n), *l = aug_of(n->left), *r = aug_of(n->right);
    a->sub_count = 1 + (l ? l->sub_count : 0) + (r ? r->sub_count : 0);
    a->sub_weight = a->weight + (l ? l->sub_weight : 0) + (r ? r->sub_weight : 0);
}

/* Every node's summary against a brute-force count of its subtree (in-order walk of the
 * subtree's key range, O(n^2) in all: the tree stays small). */
static bool aug_summaries_ok(const struct avl_tree *t) {
    for (struct avl_node *n = avl_first(t); n; n = avl_next(n)) {
        struct avl_node *lo = n, *hi = n;
        while (lo->left)
            lo = lo->left;
        while (hi->right)
            hi = hi->right;
        uint64_t count = 0, weight = 0;
        for (struct avl_node *m = lo;; m = avl_next(m)) {
            count++;
            weight += aug_of(m)->weight;
            if (m == hi)
                break;
        }
        if (aug_of(n)->sub_count != count || aug_of(n)->sub_weight != weight)
            return false;
    }
    return true;
}

/* Random inserts, removes and in-place weight changes (avl_augment_up) keep every
 * summary exact, through every rotation and the early end of rebalancing. */
HTEST(avl, augmented_random) {
    enum { KEYS = 128, OPS = 20000 };
    static struct aug_item items[KEYS];
    static bool in[KEYS];
    struct avl_tree t;
    avl_init_augmented(&t, aug_update);
    rng_state = htest_seed();
    for (int i = 0; i < KEYS; i++) {
        items[i].node.key = (uint64_t)i * 3;
        in[i] = false;
    }
    for (int op = 0; op < OPS; op++) {
        int k = (int)rng_below(KEYS);
        uint64_t what = rng_below(3);
        if (!in[k]) {
            items[k].weight = rng_below(1000);
            ASSERT_OK(avl_insert(&t, &items[k].node));
            in[k] = true;
        } else if (what == 0) {
            avl_remove(&t, &items[k].node);
            in[k] = false;
        } else {
            items[k].weight = rng_below(1000);
            avl_augment_up(&t, &items[k].node);
        }
        ASSERT_TRUE(avl_check(&t));
        ASSERT_TRUE(aug_summaries_ok(&t));
    }
    uint64_t total = 0;
    for (int i = 0; i < KEYS; i++)
        total += in[i] ? items[i].weight : 0;
    EXPECT_EQ(t.root ? aug_of(t.root)->sub_weight : 0, total);
}
