/*
 * Sparse map from a page index (offset >> PAGE_SHIFT) to a vm_page, as a radix tree of
 * 64-slot nodes allocated from the kernel heap. Lookup, insert and remove are O(height),
 * height <= 11 for 64-bit indices (grows with the largest index in use). Ranged walks
 * skip empty subtrees, so a sparse VMO costs what it holds, not its size.
 * Not thread-safe: the owning VMO's lock protects it. The one exception is `count`, which
 * is only ever stored atomically, so it may be read with __atomic_load_n without the lock.
 */
#ifndef VM_PAGE_TREE_H
#define VM_PAGE_TREE_H

#include <phys/vm_page.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zircon/types.h>

struct page_tree_node;

struct page_tree {
    struct page_tree_node *root;
    unsigned height; /* levels below and including root; 0 = empty */
    size_t count;    /* pages held; written only with atomic stores (see above) */
};

void page_tree_init(struct page_tree *t);

/* Stores page at index. ZX_ERR_ALREADY_EXISTS if occupied, ZX_ERR_NO_MEMORY if a node
 * cannot be allocated; the tree is unchanged on error. */
zx_status_t page_tree_insert(struct page_tree *t, uint64_t index, vm_page_t *page);

/*
 * Stores first, first + 1, ..., first + n - 1 (consecutive vm_page records: one physical
 * run) at indices index .. index + n - 1, which must all be empty: one descent per leaf,
 * then the leaf's slots directly (a 2 MiB block in a few instructions per page).
 * *done = pages stored. On error (ZX_ERR_NO_MEMORY for a node, ZX_ERR_ALREADY_EXISTS for
 * an occupied index) the first *done pages are in the tree and the rest are not; the
 * caller takes them out again if it wants all or nothing.
 */
zx_status_t page_tree_insert_run(struct page_tree *t, uint64_t index, vm_page_t *first,
                                 size_t n, size_t *done);

/* The page at index, or NULL. */
vm_page_t *page_tree_lookup(const struct page_tree *t, uint64_t index);

/*
 * Where index's page sits, or would sit: the leaf node on index's path (NULL when it does
 * not exist yet) and the slot in it. Filled by page_tree_find; good until the tree next
 * changes.
 */
typedef struct page_tree_pos {
    struct page_tree_node *leaf;
    unsigned slot;
} page_tree_pos_t;

/* page_tree_lookup that also records index's position in *pos, so that a fault that
 * commits the page inserts it without a second descent (page_tree_insert_at). */
vm_page_t *page_tree_find(const struct page_tree *t, uint64_t index, page_tree_pos_t *pos);

/*
 * page_tree_insert of an index that page_tree_find found empty (pos), the tree unchanged
 * since: a store into the leaf when it exists, else page_tree_insert. Same errors.
 */
zx_status_t page_tree_insert_at(struct page_tree *t, const page_tree_pos_t *pos, uint64_t index,
                                vm_page_t *page);

/* Puts page at index, which must hold a page, and returns that page. Never allocates. */
vm_page_t *page_tree_replace(struct page_tree *t, uint64_t index, vm_page_t *page);

/* Removes and returns the page at index (NULL if none). Frees nodes that become empty. */
vm_page_t *page_tree_remove(struct page_tree *t, uint64_t index);

/*
 * Finds the first page with index in [start, end): returns true and sets *index and *page,
 * or false if there is none.
 */
bool page_tree_next(const struct page_tree *t, uint64_t start, uint64_t end, uint64_t *index,
                    vm_page_t **page);

/*
 * Calls fn(ctx, index, page) for every page with index in [start, end), in increasing
 * order, at O(1) amortised cost per page (one descent, then slot by slot); fn must not
 * change the tree. Stops at, and returns, the first error fn returns.
 */
typedef zx_status_t (*page_tree_visit_fn)(void *ctx, uint64_t index, vm_page_t *page);
zx_status_t page_tree_walk(const struct page_tree *t, uint64_t start, uint64_t end,
                           page_tree_visit_fn fn, void *ctx);

/*
 * Like page_tree_walk, but one call per leaf node: fn(ctx, first, slots, n) gets the n
 * consecutive slots for indices [first, first + n) inside [start, end), NULL where no page
 * is held (leaves with no page at all are skipped). For bulk consumers (MAP_RANGE), so
 * the per-page work is a load in the consumer's own loop.
 */
typedef zx_status_t (*page_tree_leaf_fn)(void *ctx, uint64_t first, vm_page_t *const *slots,
                                         size_t n);
zx_status_t page_tree_walk_leaves(const struct page_tree *t, uint64_t start, uint64_t end,
                                  page_tree_leaf_fn fn, void *ctx);

/*
 * Removes every page with index in [start, end), calling fn(ctx, index, page) for each
 * (in increasing index order) after it is out of the tree. fn may free the page.
 */
typedef void (*page_tree_fn)(void *ctx, uint64_t index, vm_page_t *page);
void page_tree_remove_range(struct page_tree *t, uint64_t start, uint64_t end, page_tree_fn fn,
                            void *ctx);

/*
 * dst takes src's pages and nodes (no copy, cannot fail) and src becomes empty; dst must
 * be empty. Use this instead of assigning the struct, which would store dst's count
 * plainly.
 */
void page_tree_move(struct page_tree *dst, struct page_tree *src);

/* Frees all nodes (the tree must already be empty of pages, or fn is called for each). */
void page_tree_destroy(struct page_tree *t, page_tree_fn fn, void *ctx);

#endif
