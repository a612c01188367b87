/*
 * VMOs, the base layer: the object itself (creation of the three types, attributes,
 * cache policy), its mapping links, the zero page, and the page bookkeeping the layers
 * above share (pins, lock breaks, freeing, discarding and clearing ranges). Copy-on-write
 * children and slices are built on this in vmo_child.c, the operations in vmo_ops.c;
 * this file calls neither. Layout and lock rules: vmo_priv.h.
 *
 *   PAGED       committed pages live in a page_tree (index -> vm_page), each in state
 *               OBJECT with object = the VMO and page_offset = its byte offset. An index
 *               absent from the tree reads as zeros (the shared zero page).
 *   CONTIGUOUS  one PMM run allocated (zeroed) at creation, every page OBJECT; it is
 *               never decommitted and is freed as a whole by the last unref.
 *   PHYSICAL    [base, base + size) given by the caller; the VMO owns no page.
 *
 * Decisions the header leaves open:
 *   - Mappings hold their own reference: the mapping code calls vmo_ref() before
 *     vmo_add_mapping() and vmo_unref() after vmo_remove_mapping(). The last unref
 *     therefore never sees a registered mapping (asserted).
 *   - vmo_create_contiguous/physical with size 0 -> ZX_ERR_INVALID_ARGS (there would be
 *     nothing to allocate or map). align_log2 < PAGE_SHIFT means page alignment; above
 *     the PMM's limit (40) -> ZX_ERR_INVALID_ARGS. vmo_create_physical: base not
 *     page-aligned -> ZX_ERR_INVALID_ARGS; base + size past 2^64 -> ZX_ERR_OUT_OF_RANGE.
 *   - Every VMO starts with cache policy CACHED (Zircon's physical VMOs do too).
 *   - vmo_committed_pages counts pages the VMO owns: the tree's pages (PAGED; for a
 *     copy-on-write VMO not the ancestors' pages it shows), every page (CONTIGUOUS),
 *     none (PHYSICAL, and any slice).
 *   - Slices and snapshots share their parent's family lock (vmo->hier), allocated with
 *     the first VMO of the family and freed with its last.
 *   - Attribute getters take const pointers and so cannot lock: they return a snapshot
 *     read atomically.
 */
#include <vm/vmo.h>

#include <kernel/assert.h>
#include <kernel/compiler.h>
#include <kernel/mutex.h>
#include <kernel/thread.h>
#include <lib/list.h>
#include <lib/string.h>
#include <phys/heap.h>
#include <phys/physmap.h>
#include <phys/pmm.h>

#include "vmo_priv.h"

/* The PMM's largest contiguous alignment (pmm_alloc_contiguous returns INVALID_ARGS above). */
#define VMO_CONTIG_MAX_ALIGN_LOG2 40

/* ---- The shared zero page ---------------------------------------------------------- */

static paddr_t zero_page_pa;
static bool zero_page_ready;

/*
 * Allocates the zero page: one zeroed page kept forever, marked WIRED so that the PMM
 * refuses to free it. Called once at boot (after the PMM); host tests call it again after
 * every pmm_init, which forgets all pages. Panics if no page is available.
 */
void vmo_zero_page_init(void) {
    vm_page_t *page;
    paddr_t pa;
    zx_status_t st = pmm_alloc_page(PMM_ALLOC_FLAG_ZERO | PMM_ALLOC_FLAG_NO_INJECT, &page, &pa);
    ASSERT_MSG(st == ZX_OK, "vmo_zero_page_init: no page (status %d)", st);
    page->state = VM_PAGE_STATE_WIRED;
    zero_page_pa = pa;
    zero_page_ready = true;
}

static unsigned large_policy = VM_LARGE_ON;

enum vm_large_policy vmo_large_policy(void) {
    return (enum vm_large_policy)__atomic_load_n(&large_policy, __ATOMIC_RELAXED);
}

bool vmo_large_pages_enabled(void) {
    return vmo_large_policy() != VM_LARGE_OFF;
}

void vmo_set_large_policy(enum vm_large_policy policy) {
    __atomic_store_n(&large_policy, (unsigned)policy, __ATOMIC_RELAXED);
}

enum vmo_block_hint vmo_block_hint(const vmo_t *vmo) {
    if (vmo->flags & VMO_FLAG_SLICE)
        vmo = vmo->parent; /* immutable */
    if (vmo->type != VMO_TYPE_PAGED || __atomic_load_n(&vmo->large_blocks, __ATOMIC_RELAXED))
        return VMO_BLOCKS_ANY;
    if (vmo_large_policy() == VM_LARGE_FAULT && !vmo_has_cow_parent(vmo) &&
        vmo_size(vmo) >= VM_LARGE_FAULT_MIN_VMO)
        return VMO_BLOCKS_ON_WRITE;
    return VMO_BLOCKS_NONE;
}

/* Returns the zero page's physical address; vmo_zero_page_init() must have run. */
paddr_t vmo_zero_page_paddr(void) {
    DEBUG_ASSERT(zero_page_ready);
    return zero_page_pa;
}

/* ---- Creation and lifetime --------------------------------------------------------- */

/* See vmo_priv.h. */
vmo_t *vmo_alloc(enum vmo_type type, uint32_t options, uint64_t size, paddr_t base,
                 struct vmo_hier *hier) {
    vmo_t *vmo = kzalloc(sizeof(*vmo));
    if (!vmo)
        return NULL;
    if (!hier) {
        hier = kzalloc(sizeof(*hier));
        if (!hier) {
            kfree(vmo);
            return NULL;
        }
        mutex_init_class(&hier->lock, LOCK_CLASS_VMO);
        list_init(&hier->write_pins);
        hier->shape = 1; /* a zeroed hop cache is never valid */
    }
    __atomic_fetch_add(&hier->members, 1, __ATOMIC_RELAXED);
    vmo->hier = hier;
    vmo->refcount = 1;
    vmo->type = type;
    vmo->options = options;
    vmo->base = base;
    vmo->size = size;
    vmo->cache_policy = VMO_CACHE_CACHED;
    page_tree_init(&vmo->pages);
    list_init(&vmo->mappings);
    vmo->mapping_count = 0;
    list_init(&vmo->slices);
    list_init(&vmo->slice_node);
    return vmo;
}

/* See vmo_priv.h. */
void vmo_free_struct(vmo_t *vmo) {
    struct vmo_hier *hier = vmo->hier;
    kfree(vmo);
    if (__atomic_sub_fetch(&hier->members, 1, __ATOMIC_ACQ_REL) == 0)
        kfree(hier);
}

/* ---- The lists of discardable VMOs (used by vmo_discard.c; see vmo_priv.h) ----------- */

mutex_t vmo_discard_lock = MUTEX_INITIAL_VALUE_CLASS(vmo_discard_lock, VMO_DISCARD);
struct list_node vmo_discard_all = LIST_INITIAL_VALUE(vmo_discard_all);
struct list_node vmo_discard_unlocked = LIST_INITIAL_VALUE(vmo_discard_unlocked);

/* A new discardable VMO goes on both lists: it starts unlocked. */
static void discard_register(vmo_t *vmo) {
    list_init(&vmo->discard_node);
    list_init(&vmo->unlocked_node);
    mutex_acquire(&vmo_discard_lock);
    list_add_tail(&vmo_discard_all, &vmo->discard_node);
    list_add_tail(&vmo_discard_unlocked, &vmo->unlocked_node);
    mutex_release(&vmo_discard_lock);
}

void vmo_discard_unregister(vmo_t *vmo) {
    mutex_acquire(&vmo_discard_lock);
    list_delete(&vmo->discard_node);
    if (list_in_list(&vmo->unlocked_node))
        list_delete(&vmo->unlocked_node);
    mutex_release(&vmo_discard_lock);
}

/* See vmo.h. options: VMO_OPT_RESIZABLE or VMO_OPT_DISCARDABLE. */
zx_status_t vmo_create_paged(uint64_t size, uint32_t options, vmo_t **out) {
    if (options & ~(VMO_OPT_RESIZABLE | VMO_OPT_DISCARDABLE))
        return ZX_ERR_INVALID_ARGS;
    if ((options & VMO_OPT_RESIZABLE) && (options & VMO_OPT_DISCARDABLE))
        return ZX_ERR_NOT_SUPPORTED;
    uint64_t rounded;
    if (!vmo_round_size(size, &rounded))
        return ZX_ERR_OUT_OF_RANGE;
    vmo_t *vmo = vmo_alloc(VMO_TYPE_PAGED, options, rounded, 0, NULL);
    if (!vmo)
        return ZX_ERR_NO_MEMORY;
    if (options & VMO_OPT_DISCARDABLE)
        discard_register(vmo);
    *out = vmo;
    return ZX_OK;
}

/*
 * See vmo.h. Allocates the whole run now (zeroed, aligned to 2^align_log2 bytes,
 * at least a page) and marks every page OBJECT. Size 0 -> INVALID_ARGS.
 */
zx_status_t vmo_create_contiguous(uint64_t size, uint8_t align_log2, vmo_t **out) {
    uint64_t rounded;
    if (!vmo_round_size(size, &rounded))
        return ZX_ERR_OUT_OF_RANGE;
    if (rounded == 0 || align_log2 > VMO_CONTIG_MAX_ALIGN_LOG2)
        return ZX_ERR_INVALID_ARGS;

    size_t npages = (size_t)(rounded >> PAGE_SHIFT);
    paddr_t base;
    zx_status_t st = pmm_alloc_contiguous(npages, PMM_ALLOC_FLAG_ZERO, align_log2, &base);
    if (st != ZX_OK)
        return st;
    vmo_t *vmo = vmo_alloc(VMO_TYPE_CONTIGUOUS, 0, rounded, base, NULL);
    if (!vmo) {
        pmm_free_contiguous(base, npages);
        return ZX_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < npages; i++) {
        vm_page_t *page = paddr_to_vm_page(base + ((paddr_t)i << PAGE_SHIFT));
        page->state = VM_PAGE_STATE_OBJECT;
        page->object.object = vmo;
        page->object.page_offset = (uint64_t)i << PAGE_SHIFT;
    }
    *out = vmo;
    return ZX_OK;
}

/*
 * See vmo.h. The VMO only describes [base, base + size); it allocates nothing but
 * its struct. base must be page-aligned and size non-zero (INVALID_ARGS).
 */
zx_status_t vmo_create_physical(paddr_t base, uint64_t size, vmo_t **out) {
    if (!IS_ALIGNED(base, PAGE_SIZE) || size == 0)
        return ZX_ERR_INVALID_ARGS;
    uint64_t rounded;
    if (!vmo_round_size(size, &rounded) || base > UINT64_MAX - (rounded - 1))
        return ZX_ERR_OUT_OF_RANGE;
    vmo_t *vmo = vmo_alloc(VMO_TYPE_PHYSICAL, 0, rounded, base, NULL);
    if (!vmo)
        return ZX_ERR_NO_MEMORY;
    *out = vmo;
    return ZX_OK;
}

/* Takes a reference. The caller must already hold one. */
void vmo_ref(vmo_t *vmo) {
    uint32_t old = __atomic_fetch_add(&vmo->refcount, 1, __ATOMIC_RELAXED);
    ASSERT_MSG(old > 0, "vmo_ref of dead vmo %p", (void *)vmo);
}

/* ---- Attributes (snapshots: the const pointer rules out taking the lock) ----------- */

enum vmo_type vmo_type(const vmo_t *vmo) { return vmo->type; }

uint64_t vmo_size(const vmo_t *vmo) {
    return __atomic_load_n(&vmo->size, __ATOMIC_RELAXED);
}

bool vmo_is_resizable(const vmo_t *vmo) {
    return (vmo->options & VMO_OPT_RESIZABLE) != 0;
}

size_t vmo_committed_pages(const vmo_t *vmo) {
    if (vmo->flags & VMO_FLAG_SLICE)
        return 0; /* a slice owns nothing: its parent owns the pages it shows */
    switch (vmo->type) {
    case VMO_TYPE_PAGED: /* without the lock: page_tree stores count only atomically */
        return __atomic_load_n(&vmo->pages.count, __ATOMIC_RELAXED);
    case VMO_TYPE_CONTIGUOUS:
        return (size_t)(vmo->size >> PAGE_SHIFT); /* never changes */
    case VMO_TYPE_PHYSICAL:
        break;
    }
    return 0;
}

void vmo_set_koid(vmo_t *vmo, uint64_t koid) {
    uint64_t none = 0;
    __atomic_compare_exchange_n(&vmo->koid, &none, koid, false, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
}

uint64_t vmo_koid(const vmo_t *vmo) { return __atomic_load_n(&vmo->koid, __ATOMIC_RELAXED); }

void vmo_set_origin(vmo_t *vmo, uint32_t tag) {
    vmo->origin = tag;
    vmo->origin_offset = 0;
}

uint32_t vmo_origin(const vmo_t *vmo, uint64_t *offset) {
    if (vmo->origin)
        *offset = vmo->origin_offset;
    return vmo->origin;
}

void vmo_get_name(vmo_t *vmo, char out[VMO_NAME_LEN]) {
    mutex_acquire(&vmo->hier->lock);
    memcpy(out, vmo->name, VMO_NAME_LEN);
    mutex_release(&vmo->hier->lock);
}

void vmo_set_name(vmo_t *vmo, const char *name, size_t len) {
    char tmp[VMO_NAME_LEN] = {0};
    memcpy(tmp, name, strnlen(name, MIN(len, (size_t)VMO_NAME_LEN - 1)));
    mutex_acquire(&vmo->hier->lock);
    memcpy(vmo->name, tmp, VMO_NAME_LEN);
    mutex_release(&vmo->hier->lock);
}

uint32_t vmo_cache_policy(const vmo_t *vmo) {
    if (vmo->flags & VMO_FLAG_SLICE)
        vmo = vmo->parent; /* a slice maps its parent's memory, so it has its policy */
    return __atomic_load_n(&vmo->cache_policy, __ATOMIC_RELAXED);
}

size_t vmo_mapping_count(const vmo_t *vmo) {
    return __atomic_load_n(&vmo->mapping_count, __ATOMIC_RELAXED);
}

/* ---- Mapping links ----------------------------------------------------------------- */

/*
 * Registers a mapping of [link->vmo_offset, + link->len). The link's ops must be set and
 * its node not on any list; the window must not wrap past 2^64.
 */
void vmo_add_mapping(vmo_t *vmo, struct vmo_mapping_link *link) {
    ASSERT(link->ops && link->ops->unmap_range);
    ASSERT(link->len <= UINT64_MAX - link->vmo_offset);
    mutex_acquire(&vmo->hier->lock);
    link->blocks = (uint8_t)vmo_block_hint(vmo);
    list_add_tail(&vmo->mappings, &link->node);
    __atomic_store_n(&vmo->mapping_count, vmo->mapping_count + 1, __ATOMIC_RELAXED);
    mutex_release(&vmo->hier->lock);
}

/* The family's lock; vmo.h cannot name it for callers (the layout is private), so the
 * definitions say what they do and the mapping code pairs the calls itself. */
void vmo_lock_mappings(vmo_t *vmo) TA_ACQ(vmo->hier->lock) {
    mutex_acquire(&vmo->hier->lock);
}

void vmo_unlock_mappings(vmo_t *vmo) TA_REL(vmo->hier->lock) {
    mutex_release(&vmo->hier->lock);
}

/* Unregisters a link added by vmo_add_mapping; its ops are not called any more. */
void vmo_remove_mapping(vmo_t *vmo, struct vmo_mapping_link *link) {
    mutex_acquire(&vmo->hier->lock);
    DEBUG_ASSERT(vmo->mapping_count > 0);
    list_delete(&link->node);
    __atomic_store_n(&vmo->mapping_count, vmo->mapping_count - 1, __ATOMIC_RELAXED);
    mutex_release(&vmo->hier->lock);
}

/* unmap_range on vmo's own links for [start, end) of vmo's offsets. */
static void unmap_own_links_locked(vmo_t *vmo, uint64_t start, uint64_t end) {
    struct vmo_mapping_link *link;
    list_for_every_entry(&vmo->mappings, link, struct vmo_mapping_link, node) {
        uint64_t lo = MAX(start, link->vmo_offset);
        uint64_t hi = MIN(end, link->vmo_offset + link->len);
        if (lo < hi)
            link->ops->unmap_range(link, lo, hi - lo);
    }
}

/* Also reaches the mappings of vmo's slices (their links stay on the slice, in the
 * slice's offsets, since the mapping code owns and rewrites link->vmo_offset). */
void vmo_unmap_links_locked(vmo_t *vmo, uint64_t start, uint64_t end) {
    unmap_own_links_locked(vmo, start, end);
    /* A link visited is work too: a program may map one VMO many times over, and the
     * operation's next lock break should come the sooner for it. */
    vmo_work(vmo, vmo->mapping_count);
    vmo_t *slice;
    list_for_every_entry(&vmo->slices, slice, vmo_t, slice_node) {
        vmo_work(vmo, 1 + slice->mapping_count);
        uint64_t lo = MAX(start, slice->parent_offset);
        uint64_t hi = MIN(end, slice->parent_offset + slice->size);
        if (lo < hi)
            unmap_own_links_locked(slice, lo - slice->parent_offset,
                                   hi - slice->parent_offset);
    }
}

void vmo_mark_blocks_locked(vmo_t *vmo) {
    if (vmo->large_blocks)
        return;
    __atomic_store_n(&vmo->large_blocks, true, __ATOMIC_RELAXED);
    struct vmo_mapping_link *link;
    list_for_every_entry(&vmo->mappings, link, struct vmo_mapping_link, node)
        __atomic_store_n(&link->blocks, (uint8_t)VMO_BLOCKS_ANY, __ATOMIC_RELAXED);
    vmo_t *slice;
    list_for_every_entry(&vmo->slices, slice, vmo_t, slice_node) {
        list_for_every_entry(&slice->mappings, link, struct vmo_mapping_link, node)
            __atomic_store_n(&link->blocks, (uint8_t)VMO_BLOCKS_ANY, __ATOMIC_RELAXED);
    }
    vmo_work(vmo, vmo->mapping_count);
}

/* ---- Pages ------------------------------------------------------------------------- */

void vmo_pin_locked(vmo_t *vmo, struct vmo_pin *pin, vm_page_t *page, bool write) {
    DEBUG_ASSERT(page->state == VM_PAGE_STATE_OBJECT && page->object.object);
    pin->page = page;
    pin->write = write;
    page->object.pins++;
    if (write)
        list_add_tail(&vmo->hier->write_pins, &pin->node);
}

void vmo_unpin_locked(vmo_t *vmo, struct vmo_pin *pin) {
    vm_page_t *page = pin->page;
    DEBUG_ASSERT(page->state == VM_PAGE_STATE_OBJECT && page->object.pins > 0);
    if (pin->write)
        list_delete(&pin->node);
    if (--page->object.pins == 0 && !page->object.object)
        pmm_free_page(page); /* orphaned during the copy, and this was its last pin */
}

/*
 * page_tree_fn for pages leaving a live VMO (ctx = the VMO, whose lock the caller of
 * page_tree_remove_range holds).
 */
void vmo_release_page_cb(void *ctx, uint64_t index, vm_page_t *page)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    vmo_release_page_locked(ctx, page);
    vmo_work(ctx, VMO_WORK_PAGE);
}

void vmo_release_page_locked(vmo_t *vmo, vm_page_t *page) {
    DEBUG_ASSERT(page->state == VM_PAGE_STATE_OBJECT);
    if (vmo_page_pinned(page))
        page->object.object = NULL; /* an orphan: the last unpin frees it */
    else
        pmm_free_page(page);
}

zx_status_t vmo_lock_break(vmo_t *vmo, bool *broke) {
    if (broke)
        *broke = false;
    if (vmo->hier->work < VMO_LOCK_BREAK_WORK)
        return ZX_OK;
    vmo->hier->work = 0;
    /* A release hands the mutex to the oldest waiter, if any (a fault, a read, another
     * operation of the family); the acquire then waits for its turn behind it. */
    mutex_release(&vmo->hier->lock);
    mutex_acquire(&vmo->hier->lock);
    if (broke)
        *broke = true;
    return thread_kill_pending() ? ZX_ERR_INTERNAL_INTR_KILLED : ZX_OK;
}

void vmo_free_pages_locked(vmo_t *vmo, uint64_t first, uint64_t last) {
    if (vmo->type == VMO_TYPE_PAGED && first < last)
        page_tree_remove_range(&vmo->pages, first, last, vmo_release_page_cb, vmo);
}

void vmo_discard_range_locked(vmo_t *vmo, uint64_t start, uint64_t end) {
    if (start >= end)
        return;
    vmo_unmap_links_locked(vmo, start, end);
    vmo_free_pages_locked(vmo, vmo_page_index(start), vmo_page_index(end));
}

uint64_t vmo_discard_batch_locked(vmo_t *vmo, uint64_t first, uint64_t last) {
    uint64_t index, end = last;
    vm_page_t *page;
    if (page_tree_next(&vmo->pages, first, last, &index, &page) &&
        last - index > VMO_DISCARD_SPAN)
        end = index + VMO_DISCARD_SPAN;
    vmo_work(vmo, 1);
    vmo_discard_range_locked(vmo, first << PAGE_SHIFT, end << PAGE_SHIFT);
    return end;
}

void vmo_clear_bytes_locked(vmo_t *vmo, uint64_t start, uint64_t end) {
    DEBUG_ASSERT(vmo->type != VMO_TYPE_PHYSICAL);
    if (start >= end)
        return;
    if (vmo->type == VMO_TYPE_CONTIGUOUS) {
        memset(paddr_to_physmap(vmo->base + start), 0, (size_t)(end - start));
        return;
    }
    /* PAGED: visit only the committed pages under the range. */
    uint64_t last = vmo_page_index(end - 1) + 1;
    uint64_t next = vmo_page_index(start);
    uint64_t index;
    vm_page_t *page;
    while (page_tree_next(&vmo->pages, next, last, &index, &page)) {
        uint64_t page_start = index << PAGE_SHIFT;
        uint64_t lo = MAX(start, page_start);
        uint64_t hi = MIN(end, page_start + PAGE_SIZE);
        uint8_t *kva = paddr_to_physmap(vm_page_to_paddr(page));
        memset(kva + (lo - page_start), 0, (size_t)(hi - lo));
        next = index + 1;
    }
}

/* ---- Size and cache policy --------------------------------------------------------- */

/* See vmo.h. Checks: policy (INVALID_ARGS), type (NOT_SUPPORTED; slices too),
 * mapped, directly or through a slice (BAD_STATE). */
zx_status_t vmo_set_cache_policy(vmo_t *vmo, uint32_t policy) {
    if (policy > VMO_CACHE_WRITE_COMBINING)
        return ZX_ERR_INVALID_ARGS;
    if (vmo->type != VMO_TYPE_PHYSICAL || (vmo->flags & VMO_FLAG_SLICE))
        return ZX_ERR_NOT_SUPPORTED;
    mutex_acquire(&vmo->hier->lock);
    zx_status_t st = ZX_ERR_BAD_STATE;
    size_t mapped = vmo->mapping_count;
    vmo_t *slice;
    list_for_every_entry(&vmo->slices, slice, vmo_t, slice_node)
        mapped += slice->mapping_count; /* a slice's mappings use this policy too */
    if (mapped == 0) {
        __atomic_store_n(&vmo->cache_policy, policy, __ATOMIC_RELAXED);
        st = ZX_OK;
    }
    mutex_release(&vmo->hier->lock);
    return st;
}
