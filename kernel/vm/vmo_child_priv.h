/*
 * Private to the VMO implementation: what copy-on-write children and slices
 * (vmo_child.c, built on the base layer of vmo.c) offer the operations above them
 * (vmo_ops.c). All of it runs with the family lock held (vmo_priv.h) except
 * vmo_slice_resolve, which reads only what never changes.
 */
#ifndef VM_VMO_CHILD_PRIV_H
#define VM_VMO_CHILD_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/compiler.h>
#include <phys/vm_page.h>
#include <vm/vmo.h>
#include "vmo_priv.h"

/*
 * The page a copy-on-write VMO shows at page index `index`: its own, else the nearest
 * ancestor's within the parent_limit windows, else NULL (reads as zeros).
 */
vm_page_t *vmo_cow_lookup_locked(vmo_t *vmo, uint64_t index) TA_REQ(vmo->hier->lock);

/*
 * How many VMOs see the page leaf `vmo` shows at page index `index` (memory attribution,
 * vmo_attr.c): 1 for its own page, the number of leaves reading an ancestor's page
 * through the family, 0 if it shows none (reads as zeros). Slices are not counted (they
 * show their parent's pages as the parent). Counting an ancestor page visits at most
 * VMO_COW_VISIT_MAX nodes; past that the answer is a lower bound, and at least 2.
 */
uint32_t vmo_cow_sharers_locked(vmo_t *vmo, uint64_t index) TA_REQ(vmo->hier->lock);

/*
 * Gives vmo a page of its own at index (which it must not have yet): a copy of the
 * ancestor page it shows there, or a zeroed page. Then every mapping of vmo drops that
 * offset, since it may map the ancestor page (or the zero page) read-only. NO_MEMORY
 * with nothing changed.
 */
zx_status_t vmo_cow_own_page_locked(vmo_t *vmo, uint64_t index, vm_page_t **out)
    TA_REQ(vmo->hier->lock);

/*
 * The smallest page index in [from, to) at which vmo holds a page or an ancestor it
 * reads through holds one (shadowed by a nearer node or not), or `to` if there is none:
 * how range operations skip what cannot matter. `limit` stands for vmo->parent_limit
 * (a shrink passes the limit vmo had). One page_tree_next per ancestor (at most
 * VMO_COW_DEPTH_MAX), charged as work.
 */
uint64_t vmo_cow_next_present_locked(vmo_t *vmo, uint64_t from, uint64_t to,
                                     uint64_t limit) TA_REQ(vmo->hier->lock);

/*
 * vmo_zero's step for page `index` of a copy-on-write VMO: makes its bytes [lo, hi)
 * (byte offsets of vmo, within that page, lo < hi) read as zeros. Where an ancestor's
 * page shows through, vmo first takes a private copy; an own page wholly covered with
 * nothing showing through is decommitted (mappings told first); otherwise the bytes are
 * cleared in place. NO_MEMORY with nothing changed.
 */
zx_status_t vmo_cow_zero_page_locked(vmo_t *vmo, uint64_t index, uint64_t lo,
                                     uint64_t hi) TA_REQ(vmo->hier->lock);

/*
 * A shrink's clean-up at vmo's page index `index`, after vmo->parent_limit was lowered
 * from old_limit to at most index's offset: releases every ancestor page there (seen
 * through the old window) that no leaf can see any more. O(depth) plus the visibility
 * checks, each within VMO_COW_VISIT_MAX.
 */
void vmo_cow_drop_unseen_locked(vmo_t *vmo, uint64_t index, uint64_t old_limit)
    TA_REQ(vmo->hier->lock);

/*
 * Slices: if vmo is a slice, checks [*offset, + len) against its size (false, with
 * *st = OUT_OF_RANGE, when outside) and rewrites *vmo and *offset to the parent's.
 * Returns true to go on with the operation.
 */
bool vmo_slice_resolve(vmo_t **vmo, uint64_t *offset, uint64_t len, zx_status_t *st);

#endif
