/*
 * VMO operations, the top of the VMO layers: range operations (commit, decommit, zero),
 * resizing, read/write through a copy callback, and the page lookups and walks used by
 * page faults, MAP_RANGE and PROCESS_MAPS. They work on the base layer (vmo.c) and, for
 * slices and copy-on-write VMOs, through vmo_child_priv.h. Layout and lock rules:
 * vmo_priv.h.
 *
 * "The covered pages" of [offset, offset + len) are the pages that overlap it, i.e.
 * indices [offset >> 12, roundup(offset + len) >> 12); a zero-length range covers none.
 * Range checks come first (ZX_ERR_OUT_OF_RANGE for a range past the size or overflowing),
 * except where the type alone decides (decommit of a non-paged VMO, read/write/zero of a
 * physical VMO), which is checked before the range.
 *
 * Per type:
 *                 commit   decommit       zero           read/write      get_page
 *   PAGED         allocs   frees pages    see vmo_zero   zero page/commit tree / zero page
 *   CONTIGUOUS    no-op    NOT_SUPPORTED  clears bytes   via physmap     base + offset
 *   PHYSICAL      no-op    NOT_SUPPORTED  NOT_SUPPORTED  NOT_SUPPORTED   base + offset
 * Physical VMOs may describe device memory, which the physmap does not cover (or covers
 * with the wrong cache policy), so the kernel never touches their contents itself.
 *
 * Slices forward every operation to their parent, at their offset, after checking the
 * range against their own size (vmo_slice_resolve). Copy-on-write VMOs (those with a
 * hidden parent) take the vmo_cow_* paths of vmo_child.c under the family lock:
 * reads see the nearest ancestor's page, anything that writes takes a private copy first.
 *
 * Mappings (vmo_unmap_links_locked) are told about every change of the page behind an
 * offset: before pages are freed (decommit, zero, shrink) and after a page is committed
 * where a mapping may still show the zero page (commit, write, get_page for_write).
 */
#include <vm/vmo.h>

#include <kernel/assert.h>
#include <kernel/compiler.h>
#include <kernel/mutex.h>
#include <kernel/thread.h>
#include <phys/physmap.h>
#include <phys/pmm.h>

#include "vmo_child_priv.h"

/*
 * Page indices [*first, *last) covered by a range that vmo_range_ok accepted. The end
 * cannot overflow: offset + len <= size <= VMO_SIZE_MAX.
 */
static void covered_pages(uint64_t offset, uint64_t len, uint64_t *first, uint64_t *last) {
    *first = vmo_page_index(offset);
    *last = len ? vmo_page_index(ROUNDUP(offset + len, (uint64_t)PAGE_SIZE)) : *first;
}

/* ---- Committing pages -------------------------------------------------------------- */

/*
 * Allocates a zeroed page, makes it an OBJECT page of vmo at `index` (which must be
 * empty) and inserts it in the page tree. ZX_ERR_NO_MEMORY, with nothing changed, if the
 * page or a tree node is unavailable. Mappings are not told: see commit_page_locked.
 * pos (may be NULL) is index's position as page_tree_find gave it under this same
 * holding of the lock, which saves the insert its descent.
 */
static zx_status_t add_page_locked(vmo_t *vmo, uint64_t index, const page_tree_pos_t *pos,
                                   vm_page_t **out) TA_REQ(vmo->hier->lock) {
    DEBUG_ASSERT(vmo->type == VMO_TYPE_PAGED);
    vm_page_t *page;
    zx_status_t st = pmm_alloc_page(PMM_ALLOC_FLAG_ZERO, &page, NULL);
    if (st != ZX_OK)
        return st;
    page->state = VM_PAGE_STATE_OBJECT;
    page->object.object = vmo;
    page->object.page_offset = index << PAGE_SHIFT;
    st = pos ? page_tree_insert_at(&vmo->pages, pos, index, page)
             : page_tree_insert(&vmo->pages, index, page);
    if (st != ZX_OK) {
        DEBUG_ASSERT(st == ZX_ERR_NO_MEMORY);
        pmm_free_page(page);
        return st;
    }
    if (out)
        *out = page;
    return ZX_OK;
}

/*
 * add_page_locked, then every mapping drops its translation of that page: it can only
 * have been the zero page, mapped read-only by a read fault, and it would go on hiding
 * the new page. (Zircon likewise unmaps when a page replaces the zero page.)
 */
static zx_status_t commit_page_locked(vmo_t *vmo, uint64_t index, const page_tree_pos_t *pos,
                                      vm_page_t **out) TA_REQ(vmo->hier->lock) {
    zx_status_t st = add_page_locked(vmo, index, pos, out);
    if (st == ZX_OK && vmo->zero_page_handed_out)
        vmo_unmap_links_locked(vmo, index << PAGE_SHIFT, (index + 1) << PAGE_SHIFT);
    return st;
}

/* ---- commit / decommit / zero ------------------------------------------------------ */

/*
 * Before a commit and after each lock break in it, on [offset, offset + len): the VMO may
 * have shrunk meanwhile, and the operation ends with OUT_OF_RANGE rather than work past
 * the end (as vmo_copy does); a discarded VMO (vmo_discard.c) ends it with NOT_FOUND.
 */
static zx_status_t recheck_range_locked(vmo_t *vmo, uint64_t offset, uint64_t len)
    TA_REQ(vmo->hier->lock) {
    if (vmo->discarded)
        return ZX_ERR_NOT_FOUND;
    return vmo_range_ok(vmo->size, offset, len) ? ZX_OK : ZX_ERR_OUT_OF_RANGE;
}

/*
 * After an allocation for vmo failed with its family lock held: lets go of the lock,
 * discards unlocked discardable VMOs (vmo_reclaim_discardable, which takes their locks),
 * and takes the lock again. True if that freed memory: the caller retries, looking up
 * again what it read under the lock, as after a lock break.
 */
static bool reclaim_locked(vmo_t *vmo) TA_REQ(vmo->hier->lock) {
    mutex_release(&vmo->hier->lock);
    size_t freed = vmo_reclaim_discardable();
    mutex_acquire(&vmo->hier->lock);
    return freed != 0;
}

/*
 * Tells the mappings about the pages added at [*run_start, next) (a read fault may have
 * mapped the zero page there: see commit_page_locked) and starts a new run at next.
 */
static void flush_run_locked(vmo_t *vmo, uint64_t *run_start, uint64_t next)
    TA_REQ(vmo->hier->lock) {
    if (*run_start < next && vmo->zero_page_handed_out)
        vmo_unmap_links_locked(vmo, *run_start << PAGE_SHIFT, next << PAGE_SHIFT);
    *run_start = next;
}

/*
 * See vmo.h. Visits the covered indices in order: an index with a page of its own
 * is skipped (one lookup), every other one gets a page: a zeroed one, or on a
 * copy-on-write VMO a private copy of what it shows. So the work is bounded by the pages
 * committed before plus the pages allocated now, and a range larger than memory ends with
 * NO_MEMORY when the PMM runs out (the pages committed so far stay). Mappings are told
 * once per run of new pages, and always before the lock is let go between steps
 * (vmo_lock_break).
 */
zx_status_t vmo_commit(vmo_t *vmo, uint64_t offset, uint64_t len) {
    zx_status_t st = ZX_OK;
    if (!vmo_slice_resolve(&vmo, &offset, len, &st))
        return st;
    mutex_acquire(&vmo->hier->lock);
    st = recheck_range_locked(vmo, offset, len);
    uint64_t next, last;
    covered_pages(offset, len, &next, &last);
    if (vmo->type != VMO_TYPE_PAGED)
        next = last; /* contiguous and physical VMOs: always committed */
    uint64_t run_start = next;
    bool try_blocks = vmo_large_pages_enabled();
    while (st == ZX_OK && next < last) {
        if (try_blocks && IS_ALIGNED(next, VM_LARGE_PAGES) && last - next >= VM_LARGE_PAGES &&
            vmo_block_empty_locked(vmo, next)) {
            flush_run_locked(vmo, &run_start, next);
            paddr_t pa;
            zx_status_t bst = vmo_add_block_locked(vmo, next, &pa);
            if (bst == ZX_OK) /* it told the mappings itself */
                run_start = next += VM_LARGE_PAGES;
            else if (bst == ZX_ERR_NO_MEMORY)
                try_blocks = false; /* fragmented: pages from here on */
            st = thread_kill_pending() ? ZX_ERR_INTERNAL_INTR_KILLED
                                       : recheck_range_locked(vmo, offset, len);
            continue;
        }
        if (page_tree_lookup(&vmo->pages, next)) {
            flush_run_locked(vmo, &run_start, next);
            run_start = ++next;
            vmo_work(vmo, 1);
        } else if (vmo_has_cow_parent(vmo)) {
            flush_run_locked(vmo, &run_start, next);
            st = vmo_cow_own_page_locked(vmo, next, NULL); /* tells the mappings itself */
            if (st != ZX_OK)
                goto no_page;
            run_start = ++next;
        } else {
            st = add_page_locked(vmo, next, NULL, NULL);
            if (st != ZX_OK)
                goto no_page;
            next++;
            vmo_work(vmo, VMO_WORK_PAGE);
        }
        if (vmo_lock_break_due(vmo)) {
            flush_run_locked(vmo, &run_start, next);
            bool broke;
            st = vmo_lock_break(vmo, &broke);
            if (st == ZX_OK && broke)
                st = recheck_range_locked(vmo, offset, len);
        }
        continue;
    no_page: /* out of memory: discarding unlocked discardable VMOs may help */
        flush_run_locked(vmo, &run_start, next);
        if (st != ZX_ERR_NO_MEMORY || !reclaim_locked(vmo))
            break;
        st = recheck_range_locked(vmo, offset, len);
    }
    flush_run_locked(vmo, &run_start, next);
    mutex_release(&vmo->hier->lock);
    return st;
}

/*
 * See vmo.h. A batch at a time (vmo_discard_batch_locked: the mappings drop the
 * batch's range, then its pages are freed), so the work follows the committed pages, not
 * the range, with lock breaks in between. An unaligned offset decommits the whole first
 * page (the syscall layer rejects unaligned offsets, as Zircon does).
 */
zx_status_t vmo_decommit(vmo_t *vmo, uint64_t offset, uint64_t len) {
    if (vmo->type != VMO_TYPE_PAGED)
        return ZX_ERR_NOT_SUPPORTED;
    zx_status_t st = ZX_OK;
    if (!vmo_slice_resolve(&vmo, &offset, len, &st))
        return st;
    mutex_acquire(&vmo->hier->lock);
    st = recheck_range_locked(vmo, offset, len);
    if (st == ZX_OK && vmo_has_cow_parent(vmo)) {
        /* Would the range then read zeros or the ancestor's content? Zircon refuses too. */
        st = ZX_ERR_NOT_SUPPORTED;
    }
    uint64_t next, last;
    covered_pages(offset, len, &next, &last);
    while (st == ZX_OK && next < last) {
        next = vmo_discard_batch_locked(vmo, next, last);
        bool broke;
        if (next < last)
            st = vmo_lock_break(vmo, &broke);
        if (st == ZX_OK && next < last && broke) {
            st = recheck_range_locked(vmo, offset, len);
            if (st == ZX_OK && vmo_has_cow_parent(vmo))
                st = ZX_ERR_NOT_SUPPORTED; /* snapshotted meanwhile */
        }
    }
    mutex_release(&vmo->hier->lock);
    return st;
}

/*
 * Zeroes [pos, end) of a PAGED VMO (range checked) from pos on, one step at a time:
 * returns the offset to go on from. Copy-on-write: the next page that exists there
 * (vmo_cow_next_present_locked: own or an ancestor's) is zeroed by
 * vmo_cow_zero_page_locked; indices where nothing exists already read zeros. Otherwise
 * a partial page at either end is cleared in place and whole pages are decommitted a
 * batch at a time. *st is set on failure (NO_MEMORY on a copy-on-write VMO only).
 */
static uint64_t zero_step_locked(vmo_t *vmo, uint64_t pos, uint64_t end, zx_status_t *st)
    TA_REQ(vmo->hier->lock) {
    uint64_t index = vmo_page_index(pos);
    uint64_t page_end = (index + 1) << PAGE_SHIFT;
    if (vmo_has_cow_parent(vmo)) {
        uint64_t last = vmo_page_index(ROUNDUP(end, (uint64_t)PAGE_SIZE));
        index = vmo_cow_next_present_locked(vmo, index, last, vmo->parent_limit);
        if (index >= last)
            return end;
        uint64_t lo = MAX(pos, index << PAGE_SHIFT), hi = MIN(end, (index + 1) << PAGE_SHIFT);
        *st = vmo_cow_zero_page_locked(vmo, index, lo, hi);
        return hi;
    }
    if ((pos & PAGE_MASK) || end < page_end) { /* a partial page: clear what is there */
        uint64_t hi = MIN(end, page_end);
        vmo_clear_bytes_locked(vmo, pos, hi);
        vmo_work(vmo, 1);
        return hi;
    }
    uint64_t whole_last = vmo_page_index(ROUNDDOWN(end, (uint64_t)PAGE_SIZE));
    return vmo_discard_batch_locked(vmo, index, whole_last) << PAGE_SHIFT;
}

/*
 * See vmo.h. Byte-granular, like writing zeros. PAGED: pages wholly inside the
 * range are decommitted (mappings told first); the partial pages at either end are
 * cleared in place if committed; on a copy-on-write VMO, pages showing an ancestor's
 * content get private zeroed copies instead. Only the pages that exist are visited,
 * never every index of the range (zero_step_locked), with lock breaks in between.
 * CONTIGUOUS: the bytes are cleared. PHYSICAL: NOT_SUPPORTED. NO_MEMORY only on a
 * copy-on-write VMO (the part zeroed so far stays zeroed).
 */
zx_status_t vmo_zero(vmo_t *vmo, uint64_t offset, uint64_t len) {
    if (vmo->type == VMO_TYPE_PHYSICAL)
        return ZX_ERR_NOT_SUPPORTED;
    zx_status_t st = ZX_OK;
    if (!vmo_slice_resolve(&vmo, &offset, len, &st))
        return st;
    mutex_acquire(&vmo->hier->lock);
    st = recheck_range_locked(vmo, offset, len);
    uint64_t pos = offset, end = offset + len;
    while (st == ZX_OK && pos < end) {
        if (vmo->type == VMO_TYPE_CONTIGUOUS) { /* a page at a time: memory-bounded */
            uint64_t hi = MIN(end, (vmo_page_index(pos) + 1) << PAGE_SHIFT);
            vmo_clear_bytes_locked(vmo, pos, hi);
            vmo_work(vmo, VMO_WORK_PAGE);
            pos = hi;
        } else {
            pos = zero_step_locked(vmo, pos, end, &st);
        }
        bool broke;
        if (st == ZX_OK && pos < end)
            st = vmo_lock_break(vmo, &broke);
        if (st == ZX_OK && pos < end && broke)
            st = recheck_range_locked(vmo, offset, len);
    }
    mutex_release(&vmo->hier->lock);
    return st;
}

/* ---- Size ------------------------------------------------------------------------- */

/*
 * See vmo.h. Shrinking first lowers the size (so nothing past it can be looked up
 * or committed again) and tells every mapping to drop [new size, old size); then the
 * VMO's own pages there are freed (pinned ones when their copy ends), in the same lock
 * hold (a lock break would let a concurrent grow expose pages not freed yet), so that
 * part costs O(committed pages in the tail). A copy-on-write VMO never again sees its
 * parent past the new size (growing back reads zeros): its window is lowered too, and
 * the ancestor pages of the part it gives up that no leaf sees any more are released,
 * visiting only the ancestors' pages there, with lock breaks in between (a kill stops
 * that clean-up; what is left goes when its hidden node merges or dies). An unaligned
 * size also clears [size, rounded size) in the last page, as Zircon does.
 */
zx_status_t vmo_set_size(vmo_t *vmo, uint64_t size) {
    if (vmo->type != VMO_TYPE_PAGED || !(vmo->options & VMO_OPT_RESIZABLE))
        return ZX_ERR_UNAVAILABLE;
    uint64_t rounded;
    if (!vmo_round_size(size, &rounded))
        return ZX_ERR_OUT_OF_RANGE;

    mutex_acquire(&vmo->hier->lock);
    uint64_t old = vmo->size;
    if (vmo_has_cow_parent(vmo) && size < rounded) {
        /* The tail of the new last page must read as zeros: if it shows an ancestor's
         * page, take a copy first (the only step that can fail, so it goes first). */
        uint64_t last = vmo_page_index(size);
        if (!page_tree_lookup(&vmo->pages, last) && vmo_cow_lookup_locked(vmo, last)) {
            zx_status_t st = vmo_cow_own_page_locked(vmo, last, NULL);
            if (st != ZX_OK) {
                mutex_release(&vmo->hier->lock);
                return st;
            }
        }
    }
    if (rounded < old)
        vmo_unmap_links_locked(vmo, rounded, old);
    __atomic_store_n(&vmo->size, rounded, __ATOMIC_RELAXED);
    if (rounded < old)
        vmo_free_pages_locked(vmo, vmo_page_index(rounded), vmo_page_index(old));
    vmo_clear_bytes_locked(vmo, size, rounded);
    zx_status_t st = ZX_OK;
    if (vmo_has_cow_parent(vmo) && vmo->parent_limit > rounded) {
        uint64_t old_limit = vmo->parent_limit;
        vmo->parent_limit = rounded;
        vmo_family_reshaped(vmo);
        uint64_t next = vmo_page_index(rounded), end = vmo_page_index(old_limit);
        while (st == ZX_OK &&
               (next = vmo_cow_next_present_locked(vmo, next, end, old_limit)) < end) {
            vmo_cow_drop_unseen_locked(vmo, next, old_limit);
            next++;
            st = vmo_lock_break(vmo, NULL);
        }
    }
    mutex_release(&vmo->hier->lock);
    return st;
}

/* ---- read / write ------------------------------------------------------------------ */

/*
 * Finds the kernel address of byte `offset` for a copy (PAGED or CONTIGUOUS). A PAGED
 * page is pinned (*pinned = true) so that it outlives a concurrent decommit; a missing
 * page is committed for a write and read from the zero page otherwise.
 */
static zx_status_t copy_target_locked(vmo_t *vmo, uint64_t offset, bool write,
                                      void **kptr, struct vmo_pin *pin, bool *pinned)
    TA_REQ(vmo->hier->lock) {
    uint64_t in_page = offset & PAGE_MASK;
    *pinned = false;
    if (vmo->type == VMO_TYPE_CONTIGUOUS) {
        /* The run lives as long as the VMO, and the caller holds a reference. */
        *kptr = paddr_to_physmap(vmo->base + offset);
        return ZX_OK;
    }
    uint64_t index = vmo_page_index(offset);
    page_tree_pos_t pos;
    vm_page_t *page = page_tree_find(&vmo->pages, index, &pos);
    if (!page && vmo->discarded)
        return ZX_ERR_NOT_FOUND;
    if (!page && vmo_has_cow_parent(vmo)) {
        if (write) {
            zx_status_t st = vmo_cow_own_page_locked(vmo, index, &page);
            if (st != ZX_OK)
                return st;
        } else {
            page = vmo_cow_lookup_locked(vmo, index); /* an ancestor's, or NULL */
        }
    }
    if (!page) {
        if (!write) {
            *kptr = (uint8_t *)paddr_to_physmap(vmo_zero_page_paddr()) + in_page;
            return ZX_OK;
        }
        zx_status_t st = commit_page_locked(vmo, index, &pos, &page);
        if (st != ZX_OK)
            return st;
    }
    vmo_pin_locked(vmo, pin, page, write);
    *pinned = true;
    *kptr = (uint8_t *)paddr_to_physmap(vm_page_to_paddr(page)) + in_page;
    return ZX_OK;
}

/*
 * The body of vmo_read/vmo_write: one page-bounded chunk at a time, the VMO lock held
 * only to find (and pin) the chunk's page, never across the copy callback. The range is
 * checked before the first copy and again for each chunk, so a concurrent shrink ends
 * the operation with OUT_OF_RANGE rather than touching pages past the new end.
 */
static zx_status_t vmo_copy(vmo_t *vmo, uint64_t offset, size_t len, vmo_copy_fn copy,
                            void *ctx, bool write) {
    if (vmo->type == VMO_TYPE_PHYSICAL)
        return ZX_ERR_NOT_SUPPORTED;
    zx_status_t st = ZX_OK;
    if (!vmo_slice_resolve(&vmo, &offset, len, &st))
        return st;
    mutex_acquire(&vmo->hier->lock);
    st = vmo_range_ok(vmo->size, offset, len) ? ZX_OK : ZX_ERR_OUT_OF_RANGE;
    size_t done = 0;
    while (st == ZX_OK && done < len) {
        uint64_t pos = offset + done;
        size_t n = MIN(PAGE_SIZE - (size_t)(pos & PAGE_MASK), len - done);
        if (!vmo_range_ok(vmo->size, pos, n)) {
            st = ZX_ERR_OUT_OF_RANGE;
            break;
        }
        void *kptr;
        struct vmo_pin pin;
        bool pinned;
        st = copy_target_locked(vmo, pos, write, &kptr, &pin, &pinned);
        if (st == ZX_ERR_NO_MEMORY && reclaim_locked(vmo)) {
            st = ZX_OK; /* memory was freed: this chunk again, checks included */
            continue;
        }
        if (st != ZX_OK)
            break;
        mutex_release(&vmo->hier->lock);
        st = copy(ctx, done, kptr, n);
        mutex_acquire(&vmo->hier->lock);
        if (pinned)
            vmo_unpin_locked(vmo, &pin);
        if (st == ZX_OK)
            done += n;
    }
    mutex_release(&vmo->hier->lock);
    return st;
}

/* See vmo.h. Uncommitted pages read as zeros and stay uncommitted. */
zx_status_t vmo_read(vmo_t *vmo, uint64_t offset, size_t len, vmo_copy_fn copy,
                     void *ctx) {
    return vmo_copy(vmo, offset, len, copy, ctx, false);
}

/* See vmo.h. Commits each page it writes to; pages committed before a failure stay. */
zx_status_t vmo_write(vmo_t *vmo, uint64_t offset, size_t len, vmo_copy_fn copy,
                      void *ctx) {
    return vmo_copy(vmo, offset, len, copy, ctx, true);
}

/* ---- Page lookups ------------------------------------------------------------------ */

/*
 * See vmo.h. O(tree height). An unaligned offset is ZX_ERR_INVALID_ARGS. CONTIGUOUS
 * and PHYSICAL VMOs always report base + offset, writable.
 *
 * Caution: the lock is dropped on return, so the page may be decommitted (its
 * unmap_range calls already made) before the caller maps it, leaving a translation to a
 * freed page. vmo.h has no variant that maps under the VMO lock yet; until it has,
 * a fault handler must exclude decommit/zero/shrink some other way.
 */
/* vmo_get_page's work on the resolved VMO (not a slice), lock held. */
static zx_status_t get_page_locked(vmo_t *vmo, uint64_t offset, bool for_write,
                                   paddr_t *pa, bool *writable) TA_REQ(vmo->hier->lock) {
    zx_status_t st = ZX_OK;
    if (offset >= vmo->size) {
        st = ZX_ERR_OUT_OF_RANGE;
    } else if (vmo->type != VMO_TYPE_PAGED) {
        *pa = vmo->base + offset;
        *writable = true;
    } else {
        uint64_t index = vmo_page_index(offset);
        page_tree_pos_t pos;
        vm_page_t *page = page_tree_find(&vmo->pages, index, &pos);
        bool own = page != NULL;
        if (!page && vmo->discarded) {
            st = ZX_ERR_NOT_FOUND; /* discarded and not locked again (vmo_discard.c) */
        } else if (!page && vmo_has_cow_parent(vmo)) {
            if (for_write) {
                st = vmo_cow_own_page_locked(vmo, index, &page);
                own = true;
            } else {
                page = vmo_cow_lookup_locked(vmo, index); /* an ancestor's: read-only */
            }
        } else if (!page && for_write) {
            st = commit_page_locked(vmo, index, &pos, &page);
            own = true;
        }
        if (st == ZX_OK) {
            *pa = page ? vm_page_to_paddr(page) : vmo_zero_page_paddr();
            *writable = page != NULL && own;
            if (!page)
                vmo->zero_page_handed_out = true;
        }
    }
    return st;
}

/* Resolves a slice, then finds the page and (map != NULL) maps it under the lock. */
static zx_status_t get_page(vmo_t *vmo, uint64_t offset, bool for_write, paddr_t *pa,
                            bool *writable, vmo_map_fn map, void *ctx) {
    if (!IS_ALIGNED(offset, PAGE_SIZE))
        return ZX_ERR_INVALID_ARGS;
    zx_status_t st = ZX_OK;
    if (!vmo_slice_resolve(&vmo, &offset, PAGE_SIZE, &st))
        return st;
    mutex_acquire(&vmo->hier->lock);
    do /* one call site, so that get_page_locked stays inlined on the fault path */
        st = get_page_locked(vmo, offset, for_write, pa, writable);
    while (st == ZX_ERR_NO_MEMORY && reclaim_locked(vmo));
    if (st == ZX_OK && map)
        st = map(ctx, *pa, *writable);
    mutex_release(&vmo->hier->lock);
    return st;
}

zx_status_t vmo_get_page(vmo_t *vmo, uint64_t offset, bool for_write, paddr_t *pa,
                         bool *writable) {
    return get_page(vmo, offset, for_write, pa, writable, NULL, NULL);
}

zx_status_t vmo_fault_page(vmo_t *vmo, uint64_t offset, bool for_write, vmo_map_fn map,
                           void *ctx) {
    paddr_t pa;
    bool writable;
    return get_page(vmo, offset, for_write, &pa, &writable, map, ctx);
}

/*
 * See vmo.h. fn is called with the VMO lock held, so the pages it is given cannot
 * be decommitted before it maps them; fn may take MMU locks (and allocate) but must not
 * call back into this VMO. Range past the size -> ZX_ERR_OUT_OF_RANGE. PAGED VMOs skip
 * holes (cost ~ committed pages in the range, not its length); CONTIGUOUS and PHYSICAL
 * VMOs report every covered page. A copy-on-write VMO reports only the pages it owns
 * (ancestors' pages must be mapped read-only, so they are left to read faults).
 */
struct run_walk {
    vmo_run_fn fn;
    void *ctx;
    uint64_t shift; /* subtracted from every offset (a slice's parent_offset) */
};

/* page_tree_walk_leaves callback: a leaf's slots -> runs of consecutive committed pages. */
static zx_status_t leaf_runs_fn(void *ctx, uint64_t first, vm_page_t *const *slots, size_t n) {
    const struct run_walk *w = ctx;
    paddr_t pa[VMO_RUN_MAX];
    size_t k = 0;
    while (k < n) {
        while (k < n && !slots[k])
            k++;
        size_t start = k, m = 0;
        while (k < n && slots[k] && m < VMO_RUN_MAX)
            pa[m++] = vm_page_to_paddr(slots[k++]);
        if (m) {
            zx_status_t st = w->fn(w->ctx, ((first + start) << PAGE_SHIFT) - w->shift, pa, m);
            if (st != ZX_OK)
                return st;
        }
    }
    return ZX_OK;
}

/* Runs of a contiguous or physical VMO: every page is "committed" at base + offset. */
static zx_status_t linear_runs(const vmo_t *vmo, uint64_t next, uint64_t last,
                               const struct run_walk *w) {
    paddr_t pa[VMO_RUN_MAX];
    while (next < last) {
        size_t m = (size_t)MIN((uint64_t)VMO_RUN_MAX, last - next);
        for (size_t k = 0; k < m; k++)
            pa[k] = vmo->base + ((next + k) << PAGE_SHIFT);
        zx_status_t st = w->fn(w->ctx, (next << PAGE_SHIFT) - w->shift, pa, m);
        if (st != ZX_OK)
            return st;
        next += m;
    }
    return ZX_OK;
}

/* The body of a committed-page walk: pages [next, last) of a resolved VMO, lock held. */
typedef zx_status_t (*walk_body_fn)(vmo_t *vmo, uint64_t next, uint64_t last, void *arg);

/*
 * The frame every committed-page walk shares: resolves a slice (*shift = its
 * parent_offset, which the walk subtracts from the offsets it reports), takes the lock,
 * checks the range (OUT_OF_RANGE past the size) and runs body over the covered pages.
 */
static zx_status_t committed_walk(vmo_t *vmo, uint64_t offset, uint64_t len, uint64_t *shift,
                                  walk_body_fn body, void *arg) {
    zx_status_t st = ZX_OK;
    *shift = 0;
    if (vmo->flags & VMO_FLAG_SLICE) {
        *shift = vmo->parent_offset;
        if (!vmo_slice_resolve(&vmo, &offset, len, &st))
            return st;
    }
    mutex_acquire(&vmo->hier->lock);
    if (!vmo_range_ok(vmo->size, offset, len)) {
        st = ZX_ERR_OUT_OF_RANGE;
    } else {
        uint64_t next, last;
        covered_pages(offset, len, &next, &last);
        st = body(vmo, next, last, arg);
    }
    mutex_release(&vmo->hier->lock);
    return st;
}

static zx_status_t runs_body(vmo_t *vmo, uint64_t next, uint64_t last, void *arg)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    if (vmo->type != VMO_TYPE_PAGED)
        return linear_runs(vmo, next, last, arg);
    /* holes skipped whole: cost ~ committed pages, not the range's length */
    return page_tree_walk_leaves(&vmo->pages, next, last, leaf_runs_fn, arg);
}

zx_status_t vmo_for_each_committed_run(vmo_t *vmo, uint64_t offset, uint64_t len,
                                       vmo_run_fn fn, void *ctx) {
    struct run_walk w = {fn, ctx, 0};
    return committed_walk(vmo, offset, len, &w.shift, runs_body, &w);
}

/* ---- Physically contiguous extents and blocks --------------------------------------- */

/* vmo_for_each_extent's walk: the extent being grown (n pages at off -> pa; n 0: none). */
struct extent_walk {
    vmo_extent_fn fn;
    void *ctx;
    uint64_t shift; /* subtracted from every offset (a slice's parent_offset) */
    uint64_t off;
    paddr_t pa;
    uint64_t n;
};

static zx_status_t extent_flush(struct extent_walk *w) {
    uint64_t n = w->n;
    w->n = 0;
    return n ? w->fn(w->ctx, w->off - w->shift, w->pa, n) : ZX_OK;
}

/* page_tree_walk_leaves callback: grows the current extent while offsets and physical
 * addresses both advance by a page, hands it on when they stop. */
static zx_status_t leaf_extents_fn(void *ctx, uint64_t first, vm_page_t *const *slots,
                                   size_t n) {
    struct extent_walk *w = ctx;
    for (size_t k = 0; k < n; k++) {
        if (!slots[k])
            continue;
        uint64_t off = (first + k) << PAGE_SHIFT;
        paddr_t pa = vm_page_to_paddr(slots[k]);
        uint64_t len = w->n << PAGE_SHIFT;
        if (w->n && off == w->off + len && pa == w->pa + len) {
            /* Inside a run, consecutive frames have consecutive vm_page records: compare
             * the pointers (a block's 512 pages cost a few instructions each). */
            size_t j = k + 1;
            while (j < n && slots[j] == slots[k] + (j - k))
                j++;
            w->n += j - k;
            k = j - 1;
            continue;
        }
        zx_status_t st = extent_flush(w);
        if (st != ZX_OK)
            return st;
        w->off = off;
        w->pa = pa;
        w->n = 1;
    }
    return ZX_OK;
}

static zx_status_t extents_body(vmo_t *vmo, uint64_t next, uint64_t last, void *arg)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    struct extent_walk *w = arg;
    zx_status_t st = ZX_OK;
    if (vmo->type != VMO_TYPE_PAGED) {
        w->off = next << PAGE_SHIFT;
        w->pa = vmo->base + w->off;
        w->n = last - next;
    } else {
        st = page_tree_walk_leaves(&vmo->pages, next, last, leaf_extents_fn, w);
    }
    if (st == ZX_OK)
        st = extent_flush(w);
    if (st == ZX_OK)
        st = w->fn(w->ctx, 0, 0, 0); /* the end, still under the lock */
    return st;
}

zx_status_t vmo_for_each_extent(vmo_t *vmo, uint64_t offset, uint64_t len, vmo_extent_fn fn,
                                void *ctx) {
    struct extent_walk w = {.fn = fn, .ctx = ctx};
    return committed_walk(vmo, offset, len, &w.shift, extents_body, &w);
}

struct page_walk {
    vmo_page_fn fn;
    void *ctx;
};

/* Per-page view of the run walk. */
static zx_status_t page_of_run_fn(void *ctx, uint64_t offset, const paddr_t *pa, size_t n) {
    const struct page_walk *w = ctx;
    for (size_t k = 0; k < n; k++) {
        zx_status_t st = w->fn(w->ctx, offset + (k << PAGE_SHIFT), pa[k]);
        if (st != ZX_OK)
            return st;
    }
    return ZX_OK;
}

zx_status_t vmo_for_each_committed(vmo_t *vmo, uint64_t offset, uint64_t len,
                                   vmo_page_fn fn, void *ctx) {
    struct page_walk w = {fn, ctx};
    return vmo_for_each_committed_run(vmo, offset, len, page_of_run_fn, &w);
}

/* run walk callback of vmo_committed_pages_in: counts the pages. */
static zx_status_t count_run(void *ctx, uint64_t offset, const paddr_t *pa, size_t n) {
    (void)offset;
    (void)pa;
    *(size_t *)ctx += n;
    return ZX_OK;
}

size_t vmo_committed_pages_in(vmo_t *vmo, uint64_t offset, uint64_t len) {
    uint64_t size = vmo_size(vmo);
    if (offset >= size)
        return 0;
    size_t n = 0;
    vmo_for_each_committed_run(vmo, offset, MIN(len, size - offset), count_run, &n);
    return n;
}
