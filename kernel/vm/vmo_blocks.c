/*
 * Large blocks of paged VMOs (docs/architecture.md, "Large pages"): committing a whole
 * 2 MiB-aligned block from one physically contiguous run (for vmo_commit and, under the
 * FAULT policy, write faults), and finding the run behind a block for a fault that maps
 * it with one large entry (vmo_fault_block). Lock rules: vmo_priv.h.
 */
#include <vm/vmo.h>

#include <kernel/assert.h>
#include <kernel/mutex.h>
#include <phys/pmm.h>

#include "vmo_child_priv.h"

/*
 * Large blocks (docs/architecture.md, "Large pages"): a commit that covers a whole
 * VM_LARGE_PAGE_SIZE-aligned block of a paged VMO's offsets, none of whose pages is
 * committed yet, tries to back it with one physically contiguous, aligned run, so that
 * mappings can map it with one large entry (so does a write fault under the FAULT
 * policy). The run is allocated and zeroed with the VMO lock let go (it is the expensive
 * part: about 270,000 instructions), then inserted if the block is still empty;
 * otherwise it goes back. Each page stays an ordinary OBJECT page: decommitting, copying
 * or moving one later needs nothing special.
 */

/* Tests only: runs in alloc_block_unlocked's window (vmo_priv.h). */
static void (*block_unlocked_hook)(vmo_t *vmo);

void vmo_test_set_block_hook(void (*hook)(vmo_t *vmo)) {
    block_unlocked_hook = hook;
}

/* A zeroed, aligned run for a block into *pa, allocated with vmo's lock let go (a lock
 * break: whatever was read under the lock must be checked again). False if the PMM has
 * no such run. */
static bool alloc_block_unlocked(vmo_t *vmo, paddr_t *pa) TA_REQ(vmo->hier->lock) {
    mutex_release(&vmo->hier->lock);
    zx_status_t st = pmm_alloc_contiguous(VM_LARGE_PAGES, PMM_ALLOC_FLAG_ZERO,
                                          VM_LARGE_PAGE_SHIFT, pa);
    if (block_unlocked_hook)
        block_unlocked_hook(vmo);
    mutex_acquire(&vmo->hier->lock);
    vmo->hier->work = 0;
    return st == ZX_OK;
}

/* Gives back a run alloc_block_unlocked returned that did not become a block. */
static void free_block(paddr_t pa) {
    vm_page_t *first = paddr_to_vm_page(pa);
    for (size_t k = 0; k < VM_LARGE_PAGES; k++)
        first[k].state = VM_PAGE_STATE_ALLOC;
    pmm_free_contiguous(pa, VM_LARGE_PAGES);
}

/* Whether the block at page index `index` can take a run: inside the VMO, no page of
 * its own there, and no copy-on-write parent (whose pages it would hide: a snapshot
 * moves every page up, leaving the VMO's own tree empty). */
bool vmo_block_empty_locked(vmo_t *vmo, uint64_t index) {
    uint64_t found;
    vm_page_t *page;
    return !vmo_has_cow_parent(vmo) && !vmo->discarded &&
           vmo_page_index(vmo->size) >= index + VM_LARGE_PAGES &&
           !page_tree_next(&vmo->pages, index, index + VM_LARGE_PAGES, &found, &page);
}

/*
 * Makes the run at pa the pages of the block at page index `index` if the block is still
 * empty (block_empty_locked: the lock was let go since it was checked); mappings that
 * show the zero page there drop it. Otherwise nothing changes and the caller frees the
 * run: ZX_ERR_NEXT if the block changed, ZX_ERR_NO_MEMORY if a page-tree node could not
 * be allocated.
 */
static zx_status_t insert_block_locked(vmo_t *vmo, uint64_t index, paddr_t pa)
    TA_REQ(vmo->hier->lock) {
    if (!vmo_block_empty_locked(vmo, index))
        return ZX_ERR_NEXT;
    vm_page_t *first = paddr_to_vm_page(pa);
    for (size_t k = 0; k < VM_LARGE_PAGES; k++) {
        first[k].state = VM_PAGE_STATE_OBJECT;
        first[k].object.object = vmo;
        first[k].object.page_offset = (index + k) << PAGE_SHIFT;
    }
    size_t done;
    zx_status_t st = page_tree_insert_run(&vmo->pages, index, first, VM_LARGE_PAGES, &done);
    if (st != ZX_OK) {
        DEBUG_ASSERT(st == ZX_ERR_NO_MEMORY); /* the block was empty */
        page_tree_remove_range(&vmo->pages, index, index + done, NULL, NULL);
        return ZX_ERR_NO_MEMORY;
    }
    vmo_work(vmo, VMO_WORK_PAGE);
    vmo_mark_blocks_locked(vmo);
    if (vmo->zero_page_handed_out)
        vmo_unmap_links_locked(vmo, index << PAGE_SHIFT, (index + VM_LARGE_PAGES) << PAGE_SHIFT);
    return ZX_OK;
}

/* A block step for an empty block (a commit's, or a write fault's under the FAULT
 * policy): ZX_OK if it was committed from one run, at *pa; ZX_ERR_NO_MEMORY if the PMM
 * had no run (or the tree no node); ZX_ERR_NEXT if the block changed while the lock was
 * let go (which it is either way: the caller rechecks). */
zx_status_t vmo_add_block_locked(vmo_t *vmo, uint64_t index, paddr_t *pa) {
    if (!alloc_block_unlocked(vmo, pa))
        return ZX_ERR_NO_MEMORY;
    zx_status_t st = insert_block_locked(vmo, index, *pa);
    if (st != ZX_OK)
        free_block(*pa);
    return st;
}

/* page_tree_walk_leaves callback of block_run_locked: every slot holds the page that
 * continues the run at *(paddr_t *)ctx. */
static zx_status_t block_leaf_fn(void *ctx, uint64_t first, vm_page_t *const *slots,
                                 size_t n) {
    paddr_t *expect = ctx;
    (void)first;
    for (size_t k = 0; k < n; k++, *expect += PAGE_SIZE)
        if (!slots[k] || vm_page_to_paddr(slots[k]) != *expect)
            return ZX_ERR_NEXT;
    return ZX_OK;
}

/* The physical address of the aligned run backing the block at page index `index` of a
 * resolved VMO, or false. O(1) for CONTIGUOUS and PHYSICAL VMOs; a paged VMO's block
 * costs one lookup, and a walk of its slots only if its first page starts a run. */
static bool block_run_locked(vmo_t *vmo, uint64_t index, paddr_t *out)
    TA_REQ(vmo->hier->lock) {
    if (index + VM_LARGE_PAGES > vmo_page_index(vmo->size))
        return false;
    paddr_t pa;
    if (vmo->type != VMO_TYPE_PAGED) {
        pa = vmo->base + (index << PAGE_SHIFT);
    } else {
        if (!vmo->large_blocks || vmo_has_cow_parent(vmo))
            return false;
        vm_page_t *first = page_tree_lookup(&vmo->pages, index);
        if (!first)
            return false;
        pa = vm_page_to_paddr(first);
    }
    if (!IS_ALIGNED(pa, VM_LARGE_PAGE_SIZE))
        return false;
    if (vmo->type == VMO_TYPE_PAGED) {
        paddr_t expect = pa;
        if (page_tree_walk_leaves(&vmo->pages, index, index + VM_LARGE_PAGES, block_leaf_fn,
                                  &expect) != ZX_OK ||
            expect != pa + VM_LARGE_PAGE_SIZE)
            return false;
    }
    *out = pa;
    return true;
}

/* Whether a write fault may commit the block at index whole (the FAULT policy): a paged
 * VMO of at least VM_LARGE_FAULT_MIN_VMO bytes without a copy-on-write parent, the block
 * inside it and empty, and memory to spare. */
static bool fault_may_commit_block(vmo_t *vmo, uint64_t index) TA_REQ(vmo->hier->lock) {
    return vmo_large_policy() == VM_LARGE_FAULT && vmo->type == VMO_TYPE_PAGED &&
           vmo->size >= VM_LARGE_FAULT_MIN_VMO && vmo_block_empty_locked(vmo, index) &&
           pmm_count_free_pages() >= pmm_count_total_pages() / VM_LARGE_FAULT_FREE_SHARE;
}

zx_status_t vmo_fault_block(vmo_t *vmo, uint64_t offset, bool for_write, vmo_map_block_fn map,
                            void *ctx) {
    if (!IS_ALIGNED(offset, VM_LARGE_PAGE_SIZE))
        return ZX_ERR_NEXT;
    zx_status_t st = ZX_OK;
    if (!vmo_slice_resolve(&vmo, &offset, VM_LARGE_PAGE_SIZE, &st))
        return ZX_ERR_NEXT;
    paddr_t pa;
    uint64_t index = vmo_page_index(offset);
    mutex_acquire(&vmo->hier->lock);
    if (block_run_locked(vmo, index, &pa) ||
        (for_write && fault_may_commit_block(vmo, index) &&
         vmo_add_block_locked(vmo, index, &pa) == ZX_OK))
        st = map(ctx, pa);
    else
        st = ZX_ERR_NEXT;
    mutex_release(&vmo->hier->lock);
    return st;
}

