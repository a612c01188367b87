/*
 * Private to the VMAR side of kernel/vm: what VMARs and mappings share, being the nodes
 * of a VMAR tree, and the layout of a VMAR (the tree's inner node, whose children a
 * mapping joins and leaves).
 *
 * Every VMAR keeps its children (sub-VMARs and mappings, both `struct vm_region`) in an
 * AVL tree keyed by base address (struct vm_extent, <vm/vmar_place.h>); children never
 * overlap and lie inside their parent. Everything here is guarded by the aspace lock
 * (vm_aspace_priv.h).
 */
#ifndef VM_VM_REGION_H
#define VM_VM_REGION_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/assert.h>
#include <kernel/compiler.h>
#include <kernel/types.h>
#include <lib/avl.h>
#include <vm/vmar.h>
#include <vm/vmar_place.h>
#include "vm_aspace_priv.h"

enum vm_region_type {
    VM_REGION_VMAR,
    VM_REGION_MAPPING,
};

/* What VMARs and mappings have in common: their place in the parent's tree. */
struct vm_region {
    struct vm_extent ext;     /* ext.node.key = base; ext.size */
    enum vm_region_type type;
    vmar_t *parent;           /* NULL for a root or after removal */
    vm_aspace_t *aspace;      /* immutable */
};

struct vmar {
    struct vm_region r;
    uint32_t refcount;        /* atomic */
    zx_vm_option_t flags;     /* CAN_MAP_* and COMPACT; immutable */
    struct avl_tree children; /* struct vm_region, by base */
    bool dead;                /* destroyed: every operation is BAD_STATE */
    /* In a user aspace, the struct of one buried child mapping (dead, no other
     * reference), which the next map into this VMAR reuses instead of a heap round trip;
     * freed when the VMAR dies. NULL if none. */
    vm_mapping_t *spare_mapping;
};

static inline vaddr_t vm_region_base(const struct vm_region *r) { return r->ext.node.key; }
static inline size_t vm_region_size(const struct vm_region *r) { return r->ext.size; }
static inline vaddr_t vm_region_end(const struct vm_region *r) {
    return r->ext.node.key + r->ext.size;
}
static inline struct vm_region *vm_region_of(struct vm_extent *e) {
    return e ? containerof(e, struct vm_region, ext) : NULL;
}
static inline vmar_t *vm_region_to_vmar(struct vm_region *r) {
    return containerof(r, vmar_t, r);
}
static inline vm_mapping_t *vm_region_to_mapping(struct vm_region *r) {
    return (vm_mapping_t *)r; /* struct vm_mapping starts with its region (asserted there) */
}

/* The region after r in its parent's tree, NULL at the end. */
static inline struct vm_region *vm_region_next(struct vm_region *r) {
    return vm_region_of(vm_extent_of(avl_next(&r->ext.node)));
}

/* True if [addr, addr + len) lies inside region r (len > 0). */
static inline bool vm_region_contains_range(const struct vm_region *r, vaddr_t addr,
                                            size_t len) {
    return addr >= vm_region_base(r) && len <= vm_region_size(r) &&
           addr - vm_region_base(r) <= vm_region_size(r) - len;
}

/*
 * For the analysis: r, reached from `held` through the tree (a child, a neighbour, what a
 * lookup returned), is in held's aspace, so its lock is the one the caller holds. Debug
 * builds check that the two share the aspace; otherwise this costs nothing.
 */
static inline void vm_region_same_lock(const struct vm_region *r, const struct vm_region *held)
    TA_REQ(held->aspace->lock) TA_ASSERT(r->aspace->lock) {
    DEBUG_ASSERT(r->aspace == held->aspace);
}

/* The same for a region reached from an aspace whose lock the caller holds shared (or
 * exclusively): what a page fault's lookup returned. */
static inline void vm_aspace_same_lock_shared(const struct vm_region *r, const vm_aspace_t *as)
    TA_REQ_SHARED(as->lock) TA_ASSERT_SHARED(r->aspace->lock) {
    DEBUG_ASSERT(r->aspace == as);
}

/* The same for a region reached from an aspace whose lock the caller holds (its root,
 * what a lookup from the root returned). */
static inline void vm_aspace_same_lock(const struct vm_region *r, const vm_aspace_t *as)
    TA_REQ(as->lock) TA_ASSERT(r->aspace->lock) {
    DEBUG_ASSERT(r->aspace == as);
}

#endif
