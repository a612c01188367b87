/*
 * Page tree: radix tree of 64-slot nodes mapping a page index to a vm_page (see
 * vm/page_tree.h).
 *
 * Levels are numbered from the bottom: a node at level 1 (a leaf) holds vm_page_t
 * pointers, a node at level L > 1 holds pointers to level L-1 nodes. The slot for index i
 * at level L is bits [(L-1)*6, L*6) of i. The root is at level t->height, so the tree
 * covers indices [0, 2^(6*height)). Invariants:
 *   - every node reachable from the root has count == its number of non-NULL slots > 0
 *     (a node that becomes empty is freed at once);
 *   - the root is never a lone slot-0 wrapper (height > 1 implies the root has a
 *     non-NULL slot other than 0), so height is the minimum that covers the largest
 *     index held.
 */
#include <vm/page_tree.h>

#include <kernel/assert.h>
#include <kernel/compiler.h>
#include <phys/heap.h>

#define PT_BITS 6                       /* index bits resolved per level */
#define PT_SLOTS (1u << PT_BITS)        /* 64 slots per node */
#define PT_SLOT_MASK (PT_SLOTS - 1)
#define PT_INDEX_BITS 64                /* width of an index */
/* Levels needed to cover every 64-bit index: ceil(64 / 6). */
#define PT_MAX_HEIGHT ((PT_INDEX_BITS + PT_BITS - 1) / PT_BITS)
STATIC_ASSERT(PT_MAX_HEIGHT == 11);

struct page_tree_node {
    void *slots[PT_SLOTS]; /* level > 1: struct page_tree_node *; level 1: vm_page_t * */
    unsigned count;        /* non-NULL slots */
};

/* Number of index bits below the slots of a level-`level` node. */
static unsigned level_shift(unsigned level) { return (level - 1) * PT_BITS; }

static unsigned slot_of(uint64_t index, unsigned level) {
    return (unsigned)((index >> level_shift(level)) & PT_SLOT_MASK);
}

/*
 * Slots of a level-`level` node that can hold 64-bit indices: 64, except at the top level
 * (11), whose slots each span 2^60 indices, so only 16 of them are reachable.
 */
static unsigned slot_limit(unsigned level) {
    unsigned shift = level_shift(level);
    if (shift + PT_BITS > PT_INDEX_BITS)
        return 1u << (PT_INDEX_BITS - shift);
    return PT_SLOTS;
}

/* Largest index a tree of the given height (>= 1) can hold. */
static uint64_t max_index(unsigned height) {
    if (height * PT_BITS >= PT_INDEX_BITS)
        return UINT64_MAX;
    return (1ull << (height * PT_BITS)) - 1;
}

/* Smallest height (>= 1) whose tree covers index. */
static unsigned height_for(uint64_t index) {
    unsigned h = 1;
    while (h < PT_MAX_HEIGHT && (index >> (h * PT_BITS)) != 0)
        h++;
    return h;
}

static struct page_tree_node *node_alloc(void) {
    return kzalloc(sizeof(struct page_tree_node));
}

/*
 * The page count changes only with atomic stores: the tree's owner (a VMO, under its lock)
 * is the only writer, but vmo_committed_pages reads it with an atomic load and without
 * the lock (ZX_INFO_VMO), so a plain store would race with that read on another CPU.
 */
static void count_set(struct page_tree *t, size_t n) {
    __atomic_store_n(&t->count, n, __ATOMIC_RELAXED);
}

/* Drops root wrappers that only use slot 0 (restores the minimal-height invariant). */
static void shrink(struct page_tree *t) {
    while (t->height > 1 && t->root->count == 1 && t->root->slots[0]) {
        struct page_tree_node *old = t->root;
        t->root = old->slots[0];
        t->height--;
        kfree(old);
    }
}

void page_tree_init(struct page_tree *t) {
    t->root = NULL;
    t->height = 0;
    count_set(t, 0);
}

/* The leaf (level-1 node) that holds index's slot, or NULL if there is none. */
static inline struct page_tree_node *leaf_of(const struct page_tree *t, uint64_t index) {
    if (!t->root || index > max_index(t->height))
        return NULL;
    struct page_tree_node *n = t->root;
    for (unsigned level = t->height; level > 1; level--) {
        n = n->slots[slot_of(index, level)];
        if (!n)
            return NULL;
    }
    return n;
}

zx_status_t page_tree_insert_run(struct page_tree *t, uint64_t index, vm_page_t *first,
                                 size_t n, size_t *done) {
    size_t k = 0;
    zx_status_t st = ZX_OK;
    while (k < n) {
        /* The first page of each leaf's share builds the path (and may fail cleanly). */
        st = page_tree_insert(t, index + k, first + k);
        if (st != ZX_OK)
            break;
        struct page_tree_node *leaf = leaf_of(t, index + k);
        DEBUG_ASSERT(leaf);
        size_t j = k + 1;
        for (unsigned s = slot_of(index + k, 1) + 1; j < n && s < PT_SLOTS; j++, s++) {
            if (leaf->slots[s]) {
                st = ZX_ERR_ALREADY_EXISTS;
                break;
            }
            leaf->slots[s] = first + j;
        }
        leaf->count += (unsigned)(j - k - 1);
        count_set(t, t->count + (j - k - 1));
        k = j;
        if (st != ZX_OK)
            break;
    }
    *done = k;
    return st;
}

vm_page_t *page_tree_lookup(const struct page_tree *t, uint64_t index) {
    struct page_tree_node *n = leaf_of(t, index);
    return n ? n->slots[slot_of(index, 1)] : NULL;
}

vm_page_t *page_tree_find(const struct page_tree *t, uint64_t index, page_tree_pos_t *pos) {
    struct page_tree_node *n = leaf_of(t, index);
    pos->leaf = n;
    if (!n)
        return NULL;
    pos->slot = slot_of(index, 1);
    return n->slots[pos->slot];
}

/* Stores page into the empty slot `slot` of leaf n. */
static void leaf_store(struct page_tree *t, struct page_tree_node *n, unsigned slot,
                       vm_page_t *page) {
    n->slots[slot] = page;
    n->count++;
    count_set(t, t->count + 1);
}

zx_status_t page_tree_insert_at(struct page_tree *t, const page_tree_pos_t *pos, uint64_t index,
                                vm_page_t *page) {
    if (!pos->leaf)
        return page_tree_insert(t, index, page);
    DEBUG_ASSERT(page && pos->slot == slot_of(index, 1));
    if (pos->leaf->slots[pos->slot])
        return ZX_ERR_ALREADY_EXISTS;
    leaf_store(t, pos->leaf, pos->slot, page);
    return ZX_OK;
}

/*
 * Nodes page_tree_insert must allocate to store index in a tree that will have height
 * `height` (>= t->height): the new root wrappers plus the missing nodes on index's path.
 */
static unsigned nodes_needed(const struct page_tree *t, uint64_t index, unsigned height) {
    if (!t->root)
        return height;
    if (height > t->height) {
        /* The old root goes under slot 0 of a chain of wrappers; index's top slot is
         * non-zero, so its whole path below the new root is new. */
        return (height - t->height) + (height - 1);
    }
    const struct page_tree_node *n = t->root;
    for (unsigned level = t->height; level > 1; level--) {
        const struct page_tree_node *child = n->slots[slot_of(index, level)];
        if (!child)
            return level - 1; /* nodes at levels level-1 .. 1 */
        n = child;
    }
    return 0;
}

/*
 * page_tree_insert when the leaf on index's path already exists (the common case: a fault
 * next to pages committed before): one descent and the store. Returns false, with
 * nothing changed, when a node on the path is missing or index is past the tree's
 * height; *st is then untouched.
 */
static bool insert_into_leaf(struct page_tree *t, uint64_t index, vm_page_t *page,
                             zx_status_t *st) {
    struct page_tree_node *n = leaf_of(t, index);
    if (!n)
        return false;
    unsigned slot = slot_of(index, 1);
    if (n->slots[slot]) {
        *st = ZX_ERR_ALREADY_EXISTS;
        return true;
    }
    leaf_store(t, n, slot, page);
    *st = ZX_OK;
    return true;
}

zx_status_t page_tree_insert(struct page_tree *t, uint64_t index, vm_page_t *page) {
    DEBUG_ASSERT(page);
    zx_status_t st;
    if (insert_into_leaf(t, index, page, &st))
        return st;
    /* A node on the path is missing, so index holds no page. */

    /* Allocate every node first so that failure leaves the tree untouched. */
    unsigned height = MAX(t->height, height_for(index));
    unsigned need = nodes_needed(t, index, height);
    struct page_tree_node *spare[2 * PT_MAX_HEIGHT];
    DEBUG_ASSERT(need <= countof(spare));
    for (unsigned i = 0; i < need; i++) {
        spare[i] = node_alloc();
        if (!spare[i]) {
            while (i--)
                kfree(spare[i]);
            return ZX_ERR_NO_MEMORY;
        }
    }
    unsigned used = 0;

    if (!t->root) {
        t->root = spare[used++];
        t->height = height;
    }
    while (t->height < height) {
        struct page_tree_node *wrap = spare[used++];
        wrap->slots[0] = t->root;
        wrap->count = 1;
        t->root = wrap;
        t->height++;
    }

    struct page_tree_node *n = t->root;
    for (unsigned level = t->height; level > 1; level--) {
        unsigned s = slot_of(index, level);
        if (!n->slots[s]) {
            n->slots[s] = spare[used++];
            n->count++;
        }
        n = n->slots[s];
    }
    n->slots[slot_of(index, 1)] = page;
    n->count++;
    count_set(t, t->count + 1);
    ASSERT(used == need);
    return ZX_OK;
}

vm_page_t *page_tree_replace(struct page_tree *t, uint64_t index, vm_page_t *page) {
    DEBUG_ASSERT(page);
    ASSERT_MSG(t->root && index <= max_index(t->height), "page_tree_replace: no page at %llu",
               (unsigned long long)index);
    struct page_tree_node *n = t->root;
    for (unsigned level = t->height; level > 1; level--) {
        n = n->slots[slot_of(index, level)];
        ASSERT_MSG(n, "page_tree_replace: no page at %llu", (unsigned long long)index);
    }
    vm_page_t *old = n->slots[slot_of(index, 1)];
    ASSERT_MSG(old, "page_tree_replace: no page at %llu", (unsigned long long)index);
    n->slots[slot_of(index, 1)] = page;
    return old;
}

vm_page_t *page_tree_remove(struct page_tree *t, uint64_t index) {
    if (!t->root || index > max_index(t->height))
        return NULL;

    /* path[level - 1] is the node at that level on index's path. */
    struct page_tree_node *path[PT_MAX_HEIGHT];
    struct page_tree_node *n = t->root;
    for (unsigned level = t->height; level > 1; level--) {
        path[level - 1] = n;
        n = n->slots[slot_of(index, level)];
        if (!n)
            return NULL;
    }
    path[0] = n;
    unsigned s = slot_of(index, 1);
    vm_page_t *page = n->slots[s];
    if (!page)
        return NULL;
    n->slots[s] = NULL;
    n->count--;
    count_set(t, t->count - 1);

    /* Free the nodes that became empty, bottom up. */
    for (unsigned level = 1; path[level - 1]->count == 0; level++) {
        kfree(path[level - 1]);
        if (level == t->height) {
            t->root = NULL;
            t->height = 0;
            return page;
        }
        struct page_tree_node *parent = path[level];
        parent->slots[slot_of(index, level + 1)] = NULL;
        parent->count--;
    }
    shrink(t);
    return page;
}

/*
 * First page with index in [start, end) under n (a level-`level` node covering indices
 * from base). Only slots that can intersect the range are visited, and only non-empty
 * subtrees are entered: every subtree after the one holding start lies wholly at or
 * above start, so the walk finds its answer in the first non-empty one (or stops at end).
 */
static bool next_in(const struct page_tree_node *n, unsigned level, uint64_t base,
                    uint64_t start, uint64_t end, uint64_t *index, vm_page_t **page) {
    unsigned shift = level_shift(level);
    unsigned first = start > base ? (unsigned)((start - base) >> shift) : 0;
    for (unsigned s = first; s < slot_limit(level); s++) {
        uint64_t slot_base = base + ((uint64_t)s << shift);
        if (slot_base >= end)
            return false;
        void *slot = n->slots[s];
        if (!slot)
            continue;
        if (level == 1) {
            *index = slot_base;
            *page = slot;
            return true;
        }
        if (next_in(slot, level - 1, slot_base, start, end, index, page))
            return true;
    }
    return false;
}

bool page_tree_next(const struct page_tree *t, uint64_t start, uint64_t end, uint64_t *index,
                    vm_page_t **page) {
    if (!t->root || start >= end || start > max_index(t->height))
        return false;
    return next_in(t->root, t->height, 0, start, end, index, page);
}

/* In-order visit of the pages with index in [start, end) under n; stops on fn's error. */
static zx_status_t walk_in(const struct page_tree_node *n, unsigned level, uint64_t base,
                           uint64_t start, uint64_t end, page_tree_visit_fn fn, void *ctx) {
    unsigned shift = level_shift(level);
    unsigned first = start > base ? (unsigned)((start - base) >> shift) : 0;
    for (unsigned s = first; s < slot_limit(level); s++) {
        uint64_t slot_base = base + ((uint64_t)s << shift);
        if (slot_base >= end)
            break;
        void *slot = n->slots[s];
        if (!slot)
            continue;
        zx_status_t st = level == 1 ? fn(ctx, slot_base, slot)
                                    : walk_in(slot, level - 1, slot_base, start, end, fn, ctx);
        if (st != ZX_OK)
            return st;
    }
    return ZX_OK;
}

/* Leaf-level visit: one fn call per leaf node (its slots within [start, end)). */
static zx_status_t walk_leaves_in(const struct page_tree_node *n, unsigned level,
                                  uint64_t base, uint64_t start, uint64_t end,
                                  page_tree_leaf_fn fn, void *ctx) {
    unsigned shift = level_shift(level);
    unsigned first = start > base ? (unsigned)((start - base) >> shift) : 0;
    if (level == 1) {
        uint64_t span_end = base + PT_SLOTS; /* cannot overflow below the top level */
        unsigned last = end < span_end ? (unsigned)(end - base) : PT_SLOTS;
        if (n->count == 0 || first >= last)
            return ZX_OK;
        return fn(ctx, base + first, (vm_page_t *const *)&n->slots[first], last - first);
    }
    for (unsigned s = first; s < slot_limit(level); s++) {
        uint64_t slot_base = base + ((uint64_t)s << shift);
        if (slot_base >= end)
            break;
        if (!n->slots[s])
            continue;
        zx_status_t st = walk_leaves_in(n->slots[s], level - 1, slot_base, start, end, fn, ctx);
        if (st != ZX_OK)
            return st;
    }
    return ZX_OK;
}

zx_status_t page_tree_walk_leaves(const struct page_tree *t, uint64_t start, uint64_t end,
                                  page_tree_leaf_fn fn, void *ctx) {
    if (!t->root || start >= end || start > max_index(t->height))
        return ZX_OK;
    return walk_leaves_in(t->root, t->height, 0, start, end, fn, ctx);
}

zx_status_t page_tree_walk(const struct page_tree *t, uint64_t start, uint64_t end,
                           page_tree_visit_fn fn, void *ctx) {
    if (!t->root || start >= end || start > max_index(t->height))
        return ZX_OK;
    return walk_in(t->root, t->height, 0, start, end, fn, ctx);
}

/*
 * Removes the pages with index in [start, end) under n (level `level`, covering indices
 * from base), frees the child nodes that become empty and calls fn for each page after
 * unlinking it. n itself is left to the caller (it may end with count 0).
 */
static void remove_range_in(struct page_tree *t, struct page_tree_node *n, unsigned level,
                            uint64_t base, uint64_t start, uint64_t end, page_tree_fn fn,
                            void *ctx) {
    unsigned shift = level_shift(level);
    unsigned first = start > base ? (unsigned)((start - base) >> shift) : 0;
    for (unsigned s = first; s < slot_limit(level) && n->count > 0; s++) {
        uint64_t slot_base = base + ((uint64_t)s << shift);
        if (slot_base >= end)
            return;
        void *slot = n->slots[s];
        if (!slot)
            continue;
        if (level == 1) {
            n->slots[s] = NULL;
            n->count--;
            count_set(t, t->count - 1);
            if (fn)
                fn(ctx, slot_base, slot);
            continue;
        }
        struct page_tree_node *child = slot;
        remove_range_in(t, child, level - 1, slot_base, start, end, fn, ctx);
        if (child->count == 0) {
            n->slots[s] = NULL;
            n->count--;
            kfree(child);
        }
    }
}

void page_tree_remove_range(struct page_tree *t, uint64_t start, uint64_t end, page_tree_fn fn,
                            void *ctx) {
    if (!t->root || start >= end || start > max_index(t->height))
        return;
    remove_range_in(t, t->root, t->height, 0, start, end, fn, ctx);
    if (t->root->count == 0) {
        kfree(t->root);
        t->root = NULL;
        t->height = 0;
        return;
    }
    shrink(t);
}

/* Frees n (level `level`, covering indices from base) and everything under it. */
static void destroy_in(struct page_tree_node *n, unsigned level, uint64_t base,
                       page_tree_fn fn, void *ctx) {
    unsigned shift = level_shift(level);
    for (unsigned s = 0; s < slot_limit(level) && n->count > 0; s++) {
        void *slot = n->slots[s];
        if (!slot)
            continue;
        n->slots[s] = NULL;
        n->count--;
        uint64_t slot_base = base + ((uint64_t)s << shift);
        if (level == 1)
            fn(ctx, slot_base, slot);
        else
            destroy_in(slot, level - 1, slot_base, fn, ctx);
    }
    kfree(n);
}

void page_tree_move(struct page_tree *dst, struct page_tree *src) {
    ASSERT_MSG(dst->count == 0, "page_tree_move: %zu pages in the destination", dst->count);
    dst->root = src->root;
    dst->height = src->height;
    count_set(dst, src->count);
    page_tree_init(src);
}

void page_tree_destroy(struct page_tree *t, page_tree_fn fn, void *ctx) {
    ASSERT_MSG(fn || t->count == 0, "page_tree_destroy: %zu pages left and no fn", t->count);
    if (t->root)
        destroy_in(t->root, t->height, 0, fn, ctx);
    page_tree_init(t);
}
