/*
 * Placement of a new region inside a VMAR: pure logic over the VMAR's children, kept
 * free of the MMU, the VMO layer and locks so it can be tested on the host.
 *
 * The children of a VMAR are `vm_extent`s in an intrusive AVL tree keyed by base
 * address; extents never overlap. A free *hole* is a maximal gap between extents (or
 * between an extent and the edge of the placement window).
 *
 * Policies
 *   compact     the lowest aligned address that fits (first fit, in address order).
 *   randomized  uniform over every aligned candidate address in every hole (ASLR): each
 *               address at which the region would fit is equally likely.
 *
 * Cost: O(log n) for lookups and the free-range test; O(n) in the number of children for
 * a search (one pass for compact, two for randomized).
 *
 * Locking: none here; the caller holds the lock that protects the tree (the aspace lock).
 */
#ifndef VM_VMAR_PLACE_H
#define VM_VMAR_PLACE_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/compiler.h>
#include <lib/avl.h>

/* One child of a VMAR: [node.key, node.key + size), size > 0. */
struct vm_extent {
    struct avl_node node; /* key = base address */
    uint64_t size;
};

static inline uint64_t vm_extent_base(const struct vm_extent *e) { return e->node.key; }
static inline uint64_t vm_extent_end(const struct vm_extent *e) { return e->node.key + e->size; }
static inline struct vm_extent *vm_extent_of(const struct avl_node *n) {
    return n ? containerof(n, struct vm_extent, node) : NULL;
}

/* The extent containing addr, or NULL. */
struct vm_extent *vm_extent_find(const struct avl_tree *t, uint64_t addr);

/* The lowest extent overlapping [base, base + size) (size > 0, no overflow), or NULL. */
struct vm_extent *vm_extent_first_overlap(const struct avl_tree *t, uint64_t base,
                                          uint64_t size);

/* True if [base, base + size) overlaps no extent. */
bool vmar_place_is_free(const struct avl_tree *t, uint64_t base, uint64_t size);

/* A placement request: find addr with lo <= addr, addr + size <= hi, addr % align == 0,
 * and [addr, addr + size) free. align is a power of two; size > 0; lo <= hi. */
struct vmar_place_req {
    uint64_t lo, hi;
    uint64_t size;
    uint64_t align;
    bool compact;
};

/*
 * Finds a place per the request. rng is the state of the caller's splitmix64 PRNG
 * (<lib/rand.h>), advanced only by randomized placement. Returns ZX_OK and *out, or
 * ZX_ERR_NO_RESOURCES if no aligned place fits.
 */
zx_status_t vmar_place_find(const struct avl_tree *t, const struct vmar_place_req *req,
                            uint64_t *rng, uint64_t *out);

#endif
