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

static void update_height(struct avl_node *n) {
    n->height = 1 + MAX(height(n->left), height(n->right));
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
    update_height(x);
    update_height(y);
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
    update_height(x);
    update_height(y);
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
    update_height(n);
    return n;
}

/* Fixes heights and balance from n up to the root (n may be NULL). */
static void retrace(struct avl_tree *t, struct avl_node *n) {
    while (n) {
        n = rebalance(t, n);
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
 * Checks the subtree at n: keys strictly inside (lo, hi) (each bound only if its has_ flag
 * is set), children point back to their parent, stored heights are exact and balanced.
 * Adds the nodes to *count. Returns the subtree's height, or -1 on a violation.
 */
static int check_subtree(const struct avl_node *n, bool has_lo, uint64_t lo, bool has_hi,
                         uint64_t hi, size_t *count) {
    if (!n)
        return 0;
    if ((has_lo && n->key <= lo) || (has_hi && n->key >= hi))
        return -1;
    if ((n->left && n->left->parent != n) || (n->right && n->right->parent != n))
        return -1;
    int hl = check_subtree(n->left, has_lo, lo, true, n->key, count);
    int hr = check_subtree(n->right, true, n->key, has_hi, hi, count);
    if (hl < 0 || hr < 0)
        return -1;
    if (hl - hr > AVL_MAX_IMBALANCE || hr - hl > AVL_MAX_IMBALANCE)
        return -1;
    if (n->height != 1 + MAX(hl, hr))
        return -1;
    (*count)++;
    return n->height;
}

bool avl_check(const struct avl_tree *t) {
    if (t->root && t->root->parent)
        return false;
    size_t count = 0;
    if (check_subtree(t->root, false, 0, false, 0, &count) < 0)
        return false;
    return count == t->count;
}
