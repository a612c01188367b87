/*
 * Intrusive AVL tree (see lib/avl.h).
 *
 * Every node keeps its parent, so in-order iteration needs no stack and removal can
 * retrace from the point of change up to the root. Invariant: for every node,
 * |height(left) - height(right)| <= 1, which bounds the height by ~1.44 log2(n + 2).
 */
#include <lib/avl.h>

#include <kernel/assert.h>
#include <kernel/compiler.h>

/* Largest allowed |height(left) - height(right)|. */
#define AVL_MAX_IMBALANCE 1

static int height(const struct avl_node *n) { return n ? n->height : 0; }

static int balance(const struct avl_node *n) { return height(n->left) - height(n->right); }

/* Recomputes n's height and, in an augmented tree, its summary (children first: every
 * caller updates a node only after the nodes below it). */
static void update_height(const struct avl_tree *t, struct avl_node *n) {
    n->height = 1 + MAX(height(n->left), height(n->right));
    if (t->augment)
        t->augment(n);
}

/* Makes `repl` take `old`'s place under `parent` (or as the root when parent is NULL). */
static void replace_child(struct avl_tree *t, struct avl_node *parent, struct avl_node *old,
                          struct avl_node *repl) {
    if (!parent)
        t->root = repl;
    else if (parent->left == old)
        parent->left = repl;
    else
        parent->right = repl;
}

/*
 *     x               y
 *      \             /
 *       y    =>     x
 *      /             \
 *     b               b
 */
static struct avl_node *rotate_left(struct avl_tree *t, struct avl_node *x) {
    struct avl_node *y = x->right;
    x->right = y->left;
    if (y->left)
        y->left->parent = x;
    y->parent = x->parent;
    replace_child(t, x->parent, x, y);
    y->left = x;
    x->parent = y;
    update_height(t, x);
    update_height(t, y);
    return y;
}

/* Mirror image of rotate_left. */
static struct avl_node *rotate_right(struct avl_tree *t, struct avl_node *x) {
    struct avl_node *y = x->left;
    x->left = y->right;
    if (y->right)
        y->right->parent = x;
    y->parent = x->parent;
    replace_child(t, x->parent, x, y);
    y->right = x;
    x->parent = y;
    update_height(t, x);
    update_height(t, y);
    return y;
}

/*
 * Restores the balance of n, whose subtrees are valid AVL trees differing in height by
 * at most 2. Returns the root of the rebalanced subtree (n or the node rotated above it).
 */
static struct avl_node *rebalance(struct avl_tree *t, struct avl_node *n) {
    int bf = balance(n);
    if (bf > AVL_MAX_IMBALANCE) {
        if (balance(n->left) < 0)
            rotate_left(t, n->left); /* left-right case */
        return rotate_right(t, n);
    }
    if (bf < -AVL_MAX_IMBALANCE) {
        if (balance(n->right) > 0)
            rotate_right(t, n->right); /* right-left case */
        return rotate_left(t, n);
    }
    update_height(t, n);
    return n;
}

/*
 * Fixes heights and balance from n up (n may be NULL; its stored height and those above
 * it are still the ones from before the change). Once a subtree comes out of rebalancing
 * as high as it was, nothing above it changes shape, so rebalancing stops there; an
 * augmented tree still gets the summaries of the remaining ancestors recomputed.
 */
static void retrace(struct avl_tree *t, struct avl_node *n) {
    while (n) {
        int before = n->height;
        n = rebalance(t, n);
        if (n->height == before) {
            if (t->augment)
                avl_augment_up(t, n->parent);
            return;
        }
        n = n->parent;
    }
}

static struct avl_node *leftmost(struct avl_node *n) {
    while (n->left)
        n = n->left;
    return n;
}

static struct avl_node *rightmost(struct avl_node *n) {
    while (n->right)
        n = n->right;
    return n;
}

void avl_init(struct avl_tree *t) {
    t->root = NULL;
    t->count = 0;
    t->augment = NULL;
}

void avl_init_augmented(struct avl_tree *t, avl_augment_fn augment) {
    avl_init(t);
    t->augment = augment;
}

void avl_augment_up(const struct avl_tree *t, struct avl_node *n) {
    DEBUG_ASSERT(t->augment != NULL);
    for (; n; n = n->parent)
        t->augment(n);
}

zx_status_t avl_insert(struct avl_tree *t, struct avl_node *node) {
    struct avl_node *parent = NULL;
    struct avl_node **link = &t->root;
    while (*link) {
        parent = *link;
        if (node->key == parent->key)
            return ZX_ERR_ALREADY_EXISTS;
        link = node->key < parent->key ? &parent->left : &parent->right;
    }
    node->left = node->right = NULL;
    node->parent = parent;
    node->height = 1;
    if (t->augment)
        t->augment(node); /* a leaf: its summary is its own data */
    *link = node;
    t->count++;
    retrace(t, parent);
    return ZX_OK;
}

void avl_remove(struct avl_tree *t, struct avl_node *node) {
    DEBUG_ASSERT(t->count > 0);
    struct avl_node *fix; /* lowest node whose subtree changed shape */

    if (node->left && node->right) {
        /* Put the in-order successor s (no left child) in node's place. */
        struct avl_node *s = leftmost(node->right);
        if (s->parent == node) {
            fix = s;
        } else {
            fix = s->parent;
            s->parent->left = s->right;
            if (s->right)
                s->right->parent = s->parent;
            s->right = node->right;
            node->right->parent = s;
        }
        s->left = node->left;
        node->left->parent = s;
        s->parent = node->parent;
        replace_child(t, node->parent, node, s);
        s->height = node->height;
    } else {
        struct avl_node *child = node->left ? node->left : node->right;
        if (child)
            child->parent = node->parent;
        replace_child(t, node->parent, node, child);
        fix = node->parent;
    }
    node->left = node->right = node->parent = NULL;
    t->count--;
    retrace(t, fix);
}

struct avl_node *avl_find(const struct avl_tree *t, uint64_t key) {
    struct avl_node *n = t->root;
    while (n && n->key != key)
        n = key < n->key ? n->left : n->right;
    return n;
}

struct avl_node *avl_floor(const struct avl_tree *t, uint64_t key) {
    struct avl_node *best = NULL;
    struct avl_node *n = t->root;
    while (n) {
        if (n->key == key)
            return n;
        if (n->key < key) {
            best = n;
            n = n->right;
        } else {
            n = n->left;
        }
    }
    return best;
}

struct avl_node *avl_ceil(const struct avl_tree *t, uint64_t key) {
    struct avl_node *best = NULL;
    struct avl_node *n = t->root;
    while (n) {
        if (n->key == key)
            return n;
        if (n->key > key) {
            best = n;
            n = n->left;
        } else {
            n = n->right;
        }
    }
    return best;
}

struct avl_node *avl_first(const struct avl_tree *t) {
    return t->root ? leftmost(t->root) : NULL;
}

struct avl_node *avl_last(const struct avl_tree *t) {
    return t->root ? rightmost(t->root) : NULL;
}

struct avl_node *avl_next(const struct avl_node *n) {
    if (n->right)
        return leftmost(n->right);
    while (n->parent && n->parent->right == n)
        n = n->parent;
    return n->parent;
}

struct avl_node *avl_prev(const struct avl_node *n) {
    if (n->left)
        return rightmost(n->left);
    while (n->parent && n->parent->left == n)
        n = n->parent;
    return n->parent;
}

/*
 * In-order walk with the parent links, no recursion: every node's children point back
 * to it, keys strictly increase, stored heights are exact (1 + the larger child's
 * stored height, which is checked at the child in turn) and balanced, and the count
 * matches. A corrupt tree cannot make the walk loop: it gives up after more pointer
 * steps than a well-formed tree of t->count nodes needs.
 */
bool avl_check(const struct avl_tree *t) {
    const struct avl_node *n = t->root;
    if (n && n->parent)
        return false;
    size_t steps = 0, max_steps = 4 * t->count + 4, count = 0;
    bool have_prev = false;
    uint64_t prev = 0;
    while (n && n->left) {
        n = n->left;
        if (++steps > max_steps)
            return false;
    }
    while (n) {
        if ((n->left && n->left->parent != n) || (n->right && n->right->parent != n))
            return false;
        if (have_prev && n->key <= prev)
            return false;
        int hl = n->left ? n->left->height : 0;
        int hr = n->right ? n->right->height : 0;
        if (hl - hr > AVL_MAX_IMBALANCE || hr - hl > AVL_MAX_IMBALANCE ||
            n->height != 1 + MAX(hl, hr))
            return false;
        have_prev = true;
        prev = n->key;
        count++;
        if (n->right) {
            n = n->right;
            while (n->left) {
                n = n->left;
                if (++steps > max_steps)
                    return false;
            }
        } else {
            while (n->parent && n->parent->right == n) {
                n = n->parent;
                if (++steps > max_steps)
                    return false;
            }
            n = n->parent;
        }
        if (++steps > max_steps)
            return false;
    }
    return count == t->count;
}
