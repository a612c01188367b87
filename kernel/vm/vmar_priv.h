/*
 * Private to the VMAR side of kernel/vm: what the VMAR tree files (vmar.c,
 * vmar_protect.c, vmar_op_range.c) share, and the tree operations the aspace
 * (vm_aspace.c, vm_aspace_info.c) uses. Lock rules: vm_aspace_priv.h.
 *
 * Layering, bottom up: vm_aspace_ref.c (the aspace struct's lifetime), vm_mapping.c (one
 * mapping), the tree (vmar.c, then vmar_protect.c and vmar_op_range.c on it), and the
 * aspace (vm_aspace.c, vm_aspace_info.c). No file calls into one above it.
 */
#ifndef VM_VMAR_PRIV_H
#define VM_VMAR_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/compiler.h>
#include <kernel/types.h>
#include <vm/vmar.h>
#include "vm_mapping_priv.h"
#include "vm_region.h"

#define VM_PERM_RWX (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE)
#define VM_CAN_MAP_RWX (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE)
/* CAN_MAP_x == PERM_x << VM_CAN_MAP_SHIFT. */
#define VM_CAN_MAP_SHIFT 7
STATIC_ASSERT(ZX_VM_CAN_MAP_READ == ZX_VM_PERM_READ << VM_CAN_MAP_SHIFT);
STATIC_ASSERT(ZX_VM_CAN_MAP_EXECUTE == ZX_VM_PERM_EXECUTE << VM_CAN_MAP_SHIFT);

/* zx_vm_option_t: bits 0..15 are the ZX_VM_* options, 16..23 are unused (INVALID_ARGS),
 * 24..31 hold the alignment exponent (ZX_VM_ALIGN_BASE; 0 asks for none). */
#define VM_OPT_KNOWN ((zx_vm_option_t)0xffffu)
/* Defined bits that zx_vmar_allocate rejects with its first option checks, and those it
 * accepts. */
#define VM_OPT_ALLOCATE_FORBIDDEN \
    (ZX_VM_MAP_RANGE | ZX_VM_REQUIRE_NON_RESIZABLE | ZX_VM_ALLOW_FAULTS)
#define VM_OPT_ALLOCATE_ALLOWED                                                        \
    (ZX_VM_SPECIFIC | ZX_VM_CAN_MAP_SPECIFIC | ZX_VM_COMPACT | VM_CAN_MAP_RWX |       \
     ZX_VM_OFFSET_IS_UPPER_LIMIT)
/* The alignment field of an option word: its whole top byte (ZX_VM_ALIGN_BASE). */
#define VM_OPT_ALIGN_MASK ((zx_vm_option_t)(0xffu << ZX_VM_ALIGN_BASE))
#define VM_ALIGN_LOG2_MIN 10
#define VM_ALIGN_LOG2_MAX 32

/* The alignment an option word asks for (at least a page). INVALID_ARGS for an
 * exponent outside VM_ALIGN_LOG2_MIN..MAX (0 = none requested). */
static inline zx_status_t vm_opt_align(zx_vm_option_t o, uint64_t *align) {
    uint32_t e = (o & VM_OPT_ALIGN_MASK) >> ZX_VM_ALIGN_BASE;
    if (e == 0) {
        *align = PAGE_SIZE;
        return ZX_OK;
    }
    if (e < VM_ALIGN_LOG2_MIN || e > VM_ALIGN_LOG2_MAX)
        return ZX_ERR_INVALID_ARGS;
    *align = MAX(1ull << e, (uint64_t)PAGE_SIZE);
    return ZX_OK;
}

/* PERM_READ_IF_XOM_UNSUPPORTED read as READ: x86 has no execute-only pages. */
static inline zx_vm_option_t vm_opt_resolve_xom(zx_vm_option_t o) {
    if (o & ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED)
        o = (o & ~ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED) | ZX_VM_PERM_READ;
    return o;
}

/* The root VMAR of as, covering the whole aspace; NULL without memory. */
vmar_t *vmar_create_root(vm_aspace_t *as);

/* Destroys vmar's subtree and the vmar itself (see vmar_destroy). Works without
 * recursion, so any nesting depth is fine. */
void vmar_destroy_locked(vmar_t *vmar) TA_REQ(vmar->r.aspace->lock);

/*
 * Pre-order walk of the regions below `top`, without recursion (VMARs nest as deep as
 * user space likes): returns the region after r (r NULL: the first child of top), going
 * into r's children first when r is a VMAR, NULL once the walk leaves top's subtree.
 * *depth goes up by one for each level the walk goes down and down by one for each level
 * it comes back up. Regions come in address order of their bases, a VMAR before its
 * children. r (if not NULL) is in top's subtree.
 */
struct vm_region *vmar_walk_next(vmar_t *top, struct vm_region *r, unsigned *depth)
    TA_REQ(top->r.aspace->lock);

/* The mapping containing addr among vmar and its descendants, or NULL (a gap). *depth
 * (if non-NULL) = 0 for a direct child of vmar, 1 for a grandchild, ... */
vm_mapping_t *vmar_find_mapping(vmar_t *vmar, vaddr_t addr, unsigned *depth)
    TA_REQ_SHARED(vmar->r.aspace->lock);

#endif
