/*
 * Memory attribution: what a range of a VMO costs, in the three measures Zircon's
 * ZX_INFO_VMO and ZX_INFO_PROCESS_MAPS report (docs/architecture.md, "Memory
 * attribution").
 *
 *   bytes          every committed page the range can read: its own pages and the
 *                  ancestor pages a copy-on-write VMO reads through (shared pages count
 *                  in full for each VMO that sees them: the VMO's resident set).
 *   private_bytes  the pages no other VMO can read: what destroying the VMO would free.
 *   scaled_bytes   each page counted as PAGE_SIZE / n, n being how many VMOs read it;
 *                  summed over every VMO this gives the memory in use. The part below one
 *                  byte goes to scaled_fraction (63-bit fixed point).
 *
 * Only copy-on-write sharing divides a page: a VMO mapped by several processes, or shown
 * by slices, is one VMO. A slice reports its parent's pages in its window, as the parent
 * would. Physical VMOs own no memory and report 0; contiguous VMOs report every page.
 *
 * Cost: a VMO without a copy-on-write parent is one walk of its own pages. Otherwise each
 * page index where the VMO or an ancestor it reads through holds a page is visited once
 * (vmo_cow_next_present_locked), and a page an ancestor holds is shared by counting the
 * leaves that read it (vmo_cow_sharers_locked, at most VMO_COW_VISIT_MAX nodes; past that
 * the count is a lower bound and the page counts as shared). The walk lets go of the
 * family lock between steps (vmo_lock_break), so the figures are a consistent count only
 * when nothing else changes the family meanwhile, as in Zircon.
 */
#include <vm/vmo.h>

#include <kernel/compiler.h>
#include <kernel/mutex.h>
#include <lib/string.h>

#include "vmo_child_priv.h"
#include "vmo_priv.h"

/* Adds one page that n VMOs read (n = 0: none, nothing to add). */
static void attr_add(struct vmo_attribution *a, uint32_t n) {
    if (n == 0)
        return;
    a->bytes += PAGE_SIZE;
    if (n == 1) {
        a->private_bytes += PAGE_SIZE;
        a->scaled_bytes += PAGE_SIZE;
        return;
    }
    a->scaled_bytes += PAGE_SIZE / n;
    /* floor(rem * 2^63 / n) without 128-bit division: rem < n <= 2^32, so neither
     * product overflows and the result is below VMO_ATTR_FRACTION_ONE. */
    uint64_t rem = PAGE_SIZE % n;
    uint64_t frac = rem * (VMO_ATTR_FRACTION_ONE / n) + rem * (VMO_ATTR_FRACTION_ONE % n) / n;
    a->scaled_fraction += frac;
    if (a->scaled_fraction >= VMO_ATTR_FRACTION_ONE) {
        a->scaled_bytes++;
        a->scaled_fraction -= VMO_ATTR_FRACTION_ONE;
    }
}

/* Every page the range reads, one by one (vmo PAGED with a copy-on-write parent). */
static void cow_attribution(vmo_t *vmo, uint64_t offset, uint64_t len,
                            struct vmo_attribution *a) TA_EXCL(vmo->hier->lock) {
    mutex_acquire(&vmo->hier->lock);
    uint64_t index = vmo_page_index(offset);
    for (;;) {
        uint64_t size = vmo->size; /* it may shrink at a lock break */
        uint64_t end = offset < size ? MIN(len, size - offset) + offset : offset;
        uint64_t last = vmo_page_index(ROUNDUP(end, (uint64_t)PAGE_SIZE));
        if (index >= last)
            break;
        index = vmo_cow_next_present_locked(vmo, index, last, vmo->parent_limit);
        if (index >= last)
            break;
        attr_add(a, vmo_cow_sharers_locked(vmo, index));
        index++;
        if (vmo_lock_break(vmo, NULL) != ZX_OK)
            break; /* killed: the caller's thread is going away */
    }
    mutex_release(&vmo->hier->lock);
}

void vmo_get_attribution(vmo_t *vmo, uint64_t offset, uint64_t len,
                         struct vmo_attribution *out) {
    memset(out, 0, sizeof(*out));
    if (vmo->flags & VMO_FLAG_SLICE) {
        uint64_t size = vmo_size(vmo); /* a slice's size never changes */
        if (offset >= size)
            return;
        len = MIN(len, size - offset);
        offset += vmo->parent_offset;
        vmo = vmo->parent; /* immutable; the slice's reference keeps it */
    }
    if (vmo->type == VMO_TYPE_PHYSICAL)
        return;
    mutex_acquire(&vmo->hier->lock);
    bool cow = vmo_has_cow_parent(vmo);
    mutex_release(&vmo->hier->lock);
    if (cow) {
        cow_attribution(vmo, offset, len, out);
        return;
    }
    /* No copy-on-write parent: nobody else reads its pages (a snapshot taken meanwhile
     * is counted as if it came after). */
    uint64_t bytes = (uint64_t)vmo_committed_pages_in(vmo, offset, len) * PAGE_SIZE;
    out->bytes = out->private_bytes = out->scaled_bytes = bytes;
}
