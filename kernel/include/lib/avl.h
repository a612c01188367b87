/*
 * Intrusive AVL tree keyed by uint64_t (O(log n) insert, remove, lookup, floor, ceiling).
 * Nodes are embedded in the caller's objects (containerof); the tree never allocates.
 * Keys are unique. Not thread-safe: the owner's lock protects the tree.
 *
 * Augmentation: a tree made with avl_init_augmented keeps a per-node summary of each
 * subtree in the caller's object. The tree calls the caller's augment function on a node
 * whenever the node's children may have changed (insert, remove, rotations), always on a
 * node's children before the node itself, so the function computes the node's summary
 * from its own data and its children's summaries alone. When the caller changes the data
 * a summary depends on (not the key) in place, it calls avl_augment_up.
 */
#ifndef LIB_AVL_H
#define LIB_AVL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zircon/types.h>

struct avl_node {
    struct avl_node *left, *right, *parent;
    int height;   /* 1 for a leaf */
    uint64_t key; /* set by the caller before insertion; never changed while inserted */
};

/* Recomputes n's subtree summary from n and its children (whose summaries are current). */
typedef void (*avl_augment_fn)(struct avl_node *n);

struct avl_tree {
    struct avl_node *root;
    size_t count;
    avl_augment_fn augment; /* NULL: no augmentation */
};

void avl_init(struct avl_tree *t);
/* An empty tree whose nodes keep subtree summaries through augment (not NULL). */
void avl_init_augmented(struct avl_tree *t, avl_augment_fn augment);
/* After n's own summarised data changed in place: recomputes the summaries of n and of
 * every ancestor (O(log n)). n is in t; t is augmented. */
void avl_augment_up(const struct avl_tree *t, struct avl_node *n);

/* Inserts node (its key already set). ZX_ERR_ALREADY_EXISTS (tree unchanged) if the key
 * is present. */
zx_status_t avl_insert(struct avl_tree *t, struct avl_node *node);

/* Removes a node that is in the tree. */
void avl_remove(struct avl_tree *t, struct avl_node *node);

struct avl_node *avl_find(const struct avl_tree *t, uint64_t key);  /* exact, or NULL */
struct avl_node *avl_floor(const struct avl_tree *t, uint64_t key); /* greatest <= key */
struct avl_node *avl_ceil(const struct avl_tree *t, uint64_t key);  /* smallest >= key */
struct avl_node *avl_first(const struct avl_tree *t);
struct avl_node *avl_last(const struct avl_tree *t);
struct avl_node *avl_next(const struct avl_node *n); /* in-order successor or NULL */
struct avl_node *avl_prev(const struct avl_node *n);

/* Checks every invariant (order, parent links, heights, balance, count); for tests. */
bool avl_check(const struct avl_tree *t);

#define avl_entry(ptr, type, member) containerof(ptr, type, member)

#endif
