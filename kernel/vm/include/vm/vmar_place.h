/*
 * Placement of a new region inside a VMAR: pure logic over the VMAR's children, kept
 * free of the MMU, the VMO layer and locks so it can be tested on the host.
 *
 * The children of a VMAR are `vm_extent`s in an intrusive AVL tree keyed by base
 * address; extents never overlap. A free *hole* is a maximal gap between extents (or
 * between an extent and the edge of the placement window). The tree is augmented: every
 * extent keeps a summary of its subtree (lowest base, highest end, the total and the
 * largest size of the holes between the subtree's extents), so the free space below an
 * address, the hole holding the k-th free page and the next hole of at least a given
 * size are each found in O(log n) without visiting every hole.
 *
 * Policies
 *   compact     the lowest aligned address that fits (first fit, in address order).
 *   randomized  (ASLR) a try draws a free page of the window uniformly (every free page
 *               equally likely, from the tree's summaries) and proposes the aligned
 *               address at or below it, ROUNDDOWN(page, align); the proposal is taken if
 *               it lies in the same hole and the region fits there. Each candidate
 *               address c (aligned, [c, c + size) free inside the window) is proposed by
 *               the free pages of [c, c + align) in its hole, so when align <= size every
 *               candidate is proposed by exactly align / PAGE_SIZE pages and the result is
 *               exactly uniform over all candidates of all holes, as drawing among the
 *               candidates one by one would be. When align > size the highest candidate
 *               of a hole may be proposed by fewer pages (at least size / PAGE_SIZE): its
 *               probability is at least size / align times the others'. A try is
 *               refused only by free pages below a hole's first aligned address or too
 *               close to its end, which in a large, sparsely used VMAR (the root VMAR of
 *               a process) are a small share. After VMAR_PLACE_RANDOM_TRIES refused
 *               tries (a VMAR mostly filled, or holes too small for the request) the
 *               fallback takes the first hole that fits at or after the last try's hole
 *               (wrapping to the window's start), found through the tree's largest-hole
 *               summaries, and a uniformly drawn candidate in it: still random, but each
 *               fitting hole weighted by the refused pages that lead to it rather than
 *               exactly uniform. The result is a function of the tree and the PRNG
 *               state only, so an aspace's placements replay from its seed (aslr.seed).
 *
 * Cost: O(log n) in the number of children for lookups, the free-range test, each
 * randomized try and a compact search, plus O(log n) for every hole the fit search meets
 * that is as long as the request but has no aligned place for it (possible only when
 * align > PAGE_SIZE).
 *
 * Locking: none here; the caller holds the lock that protects the tree (the aspace lock).
 */
#ifndef VM_VMAR_PLACE_H
#define VM_VMAR_PLACE_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/compiler.h>
#include <lib/avl.h>

/* Refused randomized tries before the fallback search (see above). */
#define VMAR_PLACE_RANDOM_TRIES 8

/*
 * One child of a VMAR: [node.key, node.key + size), size > 0, page-aligned. The sub_*
 * fields summarise the extent's subtree (vm_extent_augment keeps them; nothing else
 * writes them).
 */
struct vm_extent {
    struct avl_node node; /* key = base address */
    uint64_t size;
    uint64_t sub_lo;      /* lowest base in the subtree */
    uint64_t sub_hi;      /* highest end in the subtree */
    uint64_t sub_gap_sum; /* bytes in the holes between the subtree's extents */
    uint64_t sub_gap_max; /* the largest of those holes (0 if none) */
};

static inline uint64_t vm_extent_base(const struct vm_extent *e) { return e->node.key; }
static inline uint64_t vm_extent_end(const struct vm_extent *e) { return e->node.key + e->size; }
static inline struct vm_extent *vm_extent_of(const struct avl_node *n) {
    return n ? containerof(n, struct vm_extent, node) : NULL;
}

/* An empty tree of extents, augmented with the subtree summaries placement needs. */
void vm_extent_tree_init(struct avl_tree *t);

/* The tree's augment function (<lib/avl.h>): recomputes n's sub_* fields. */
void vm_extent_augment(struct avl_node *n);

/* After e->size changed in place (e stays in t, overlapping nothing): updates the
 * summaries. O(log n). */
static inline void vm_extent_resized(const struct avl_tree *t, struct vm_extent *e) {
    avl_augment_up(t, &e->node);
}

/* Checks every extent's summary against its data and its children's (and that t is an
 * augmented extent tree and a valid AVL tree); for tests. */
bool vm_extent_tree_check(const struct avl_tree *t);

/* The extent containing addr, or NULL. */
struct vm_extent *vm_extent_find(const struct avl_tree *t, uint64_t addr);

/* The lowest extent overlapping [base, base + size) (size > 0, no overflow), or NULL. */
struct vm_extent *vm_extent_first_overlap(const struct avl_tree *t, uint64_t base,
                                          uint64_t size);

/* True if [base, base + size) overlaps no extent. */
bool vmar_place_is_free(const struct avl_tree *t, uint64_t base, uint64_t size);

/* A placement request: find addr with lo <= addr, addr + size <= hi, addr % align == 0,
 * and [addr, addr + size) free. align is a power of two >= PAGE_SIZE; size > 0; lo, hi
 * and size are page-aligned; no extent of the tree starts below lo (extents may reach
 * past hi). */
struct vmar_place_req {
    uint64_t lo, hi;
    uint64_t size;
    uint64_t align;
    bool compact;
};

/*
 * Finds a place per the request. t is a tree from vm_extent_tree_init. rng is the state
 * of the caller's splitmix64 PRNG (<lib/rand.h>), advanced only by randomized placement.
 * Returns ZX_OK and *out, or ZX_ERR_NO_RESOURCES if no aligned place fits (both policies
 * find a place whenever one exists).
 */
zx_status_t vmar_place_find(const struct avl_tree *t, const struct vmar_place_req *req,
                            uint64_t *rng, uint64_t *out);

#endif
