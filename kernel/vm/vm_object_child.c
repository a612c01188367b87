/*
 * VMO children (vmo_create_child): slices and copy-on-write snapshots. Layout and lock
 * rules: vm_object_priv.h; the contracts: vm_object.h.
 *
 * Slices. A slice is a window [parent_offset, + size) onto its parent, which it holds by
 * a reference. It owns no pages: vm_object_ops.c forwards each operation to the parent
 * (vmo_slice_resolve). Its mapping links stay on the slice (the mapping code owns and
 * rewrites link->vmo_offset), and the parent reaches them through its `slices` list
 * whenever it tells its own mappings about a change (vmo_unmap_links_locked). A slice of
 * a slice is made a slice of the original, so that list is one level deep.
 *
 * Copy-on-write, with hidden nodes. Snapshotting P creates a hidden node H that takes all
 * of P's pages (O(pages), no copies); P and the new child C both become children of H,
 * reading H's pages through their parent windows:
 *
 *        before:   G? -- P              after:   G? -- H -- P   (offset 0, limit = size)
 *                                                       \-- C   (offset, limit = what
 *                                                                of H lies in C's range)
 * P keeps its identity (pointer, references, mappings, size). Every mapping of P drops
 * its translations at once, since they may map now-shared pages writable; faults map
 * ancestors' pages read-only again. A read of offset o walks up: own page, else (if o <
 * parent_limit) the parent at o + parent_offset, and so on; nothing found reads zeros. A
 * write (vmo_write, write fault, commit, zero) first gives the leaf a private copy of
 * what it shows (vmo_cow_own_page_locked: a 4 KiB copy through the physmap, or a zeroed
 * page), and then every mapping of the leaf drops that offset. Hidden nodes never
 * change their pages' content, so neither side ever sees the other's later writes.
 * When the page shown belongs to any ancestor A and no other leaf can see it (for every
 * node on the path from A down to the leaf, the other child's subtree has it outside its
 * window or shadows it with a page of its own: subtree_sees), the page is moved into the
 * leaf instead of copied: nobody else could ever read it again. Mappings of other leaves
 * cannot map it (they do not see it, and a leaf's mappings drop an offset whenever the
 * leaf stops seeing an ancestor page there); the leaf's own keep the same frame.
 *
 * Freeing. Hidden nodes are owned by the structure, not by references: when a child of H
 * dies (its last unref), H is left with one child R and is merged into it: H's pages
 * that R cannot see (outside R's window) or shadows (R has its own page there) are
 * freed; the others move into R; then R takes H's place under H's parent and H is freed.
 * If a page cannot move (the page tree of R needs a node and the heap is out), the merge
 * stops there and H stays as a one-child node until R dies too; that is still correct,
 * only a longer chain. A hidden node left with no child (its last child died after such
 * a failed merge) frees all its pages and detaches itself from its own parent the same
 * way. A shrink of a leaf (parent_limit lowered) frees the ancestor pages of the part of
 * its window it gives up that no other leaf sees (vmo_cow_shrink_locked). So pages no
 * longer reachable are freed at once: when a sibling dies, when the last leaf that sees
 * an ancestor page writes or zeroes it (the move), or when it shrinks past it. The
 * last unref in a family frees every page it ever held.
 *
 * Known gap: a vmo_write copy in flight (the family lock dropped, the page pinned) into
 * a page that a concurrent snapshot moves into a hidden node lands in the shared page,
 * so the new child may see part of a write that raced with its creation.
 *
 * Zero on a copy-on-write VMO allocates: where an ancestor's page shows through, the
 * leaf gets its own zeroed copy; elsewhere it behaves as for plain VMOs. It, commit and
 * the visibility checks run page by page (cost ~ pages in the range, not pages held).
 */
#include <vm/vm_object.h>

#include <kernel/assert.h>
#include <kernel/compiler.h>
#include <kernel/mutex.h>
#include <lib/list.h>
#include <lib/string.h>
#include <vm/physmap.h>
#include <vm/pmm.h>

#include "vm_object_priv.h"

#define CHILD_KIND_MASK \
    (VMO_CHILD_SNAPSHOT | VMO_CHILD_SLICE | VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE)
#define CHILD_KNOWN_OPTIONS (CHILD_KIND_MASK | VMO_CHILD_RESIZABLE | VMO_CHILD_NO_WRITE)

/* A page-tree index past every real one ("to the end"). */
#define INDEX_END UINT64_MAX

bool vmo_child_no_write(const vm_object_t *vmo) {
    return (vmo->flags & VMO_FLAG_NO_WRITE) != 0;
}

/* See vm_object_priv.h. A slice's size and parent never change, so no lock is needed. */
bool vmo_slice_resolve(vm_object_t **vmo, uint64_t *offset, uint64_t len, zx_status_t *st) {
    vm_object_t *slice = *vmo;
    if (!(slice->flags & VMO_FLAG_SLICE))
        return true;
    if (!vmo_range_ok(slice->size, *offset, len)) {
        *st = ZX_ERR_OUT_OF_RANGE;
        return false;
    }
    *offset += slice->parent_offset;
    *vmo = slice->parent;
    return true;
}

/* ---- Lookups and private copies ------------------------------------------------------ */

/*
 * The page the ancestors of node show at byte offset `offset` of node (page-aligned), or
 * NULL. The family lock is held (the analysis cannot tell that node shares the caller's
 * family, hence the opt-out here and below).
 */
static vm_page_t *ancestor_page(vm_object_t *node, uint64_t offset)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    while (node->parent && offset < node->parent_limit) {
        offset += node->parent_offset;
        node = node->parent;
        vm_page_t *page = page_tree_lookup(&node->pages, vmo_page_index(offset));
        if (page)
            return page;
    }
    return NULL;
}

vm_page_t *vmo_cow_lookup_locked(vm_object_t *vmo, uint64_t index) {
    vm_page_t *page = page_tree_lookup(&vmo->pages, index);
    return page ? page : ancestor_page(vmo, index << PAGE_SHIFT);
}

/*
 * The child of hidden node h after `prev` (NULL: the first) whose window covers h's byte
 * offset `off`, or NULL.
 */
static vm_object_t *next_child_covering(vm_object_t *h, vm_object_t *prev, uint64_t off)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    int i = 0;
    if (prev) {
        while (h->child[i] != prev)
            i++;
        i++;
    }
    for (; i < VMO_HIDDEN_CHILDREN; i++) {
        vm_object_t *c = h->child[i];
        if (c && off >= c->parent_offset && off - c->parent_offset < c->parent_limit)
            return c;
    }
    return NULL;
}

/*
 * True if some leaf of the subtree rooted at `top` reads its parent's content at byte
 * offset `off` of top (off lies inside top's window): a node with its own page there
 * hides it from its whole subtree, a leaf without one sees it, a hidden node sees it if
 * either child does (offsets translated by parent_offset going down). Walks the subtree
 * without recursion (down by child[], back up by parent), since chains can be long.
 */
static bool subtree_sees(vm_object_t *top, uint64_t off) TA_NO_THREAD_SAFETY_ANALYSIS {
    vm_object_t *node = top;
    for (;;) {
        vm_object_t *next = NULL;
        if (!page_tree_lookup(&node->pages, vmo_page_index(off))) {
            if (!(node->flags & VMO_FLAG_HIDDEN))
                return true;
            next = next_child_covering(node, NULL, off);
        }
        while (!next) { /* node's subtree is done: on to its next sibling */
            if (node == top)
                return false;
            vm_object_t *up = node->parent;
            off += node->parent_offset;
            next = next_child_covering(up, node, off);
            node = up;
        }
        off -= next->parent_offset;
        node = next;
    }
}

/*
 * The ancestor page that leaf `vmo` shows (or showed: vmo itself is not consulted) at
 * its byte offset `off`, if no other leaf of the family can see it: for every node on
 * the path from the page's owner down to vmo, the other child's subtree does not see it.
 * Returns the page, its owner in *owner and the owner's page index in *owner_index; NULL
 * if there is no such page or someone else still sees it.
 */
static vm_page_t *lone_ancestor_page(vm_object_t *vmo, uint64_t off, vm_object_t **owner,
                                     uint64_t *owner_index) TA_NO_THREAD_SAFETY_ANALYSIS {
    vm_object_t *node = vmo;
    while (node->parent && off < node->parent_limit) {
        vm_object_t *h = node->parent;
        off += node->parent_offset;
        for (int i = 0; i < VMO_HIDDEN_CHILDREN; i++) {
            vm_object_t *other = h->child[i];
            if (other && other != node && off >= other->parent_offset &&
                off - other->parent_offset < other->parent_limit &&
                subtree_sees(other, off - other->parent_offset))
                return NULL;
        }
        vm_page_t *page = page_tree_lookup(&h->pages, vmo_page_index(off));
        if (page) {
            *owner = h;
            *owner_index = vmo_page_index(off);
            return page;
        }
        node = h;
    }
    return NULL;
}

/*
 * If the page vmo shows at index belongs to an ancestor and nobody else can see it any
 * more, moves it into vmo instead of copying (Zircon does the same): *out is the page,
 * or NULL if that does not apply. NO_MEMORY, with nothing changed, if the move needs a
 * tree node the heap cannot supply (a copy would need the same node).
 */
static zx_status_t take_from_ancestor(vm_object_t *vmo, uint64_t index, vm_page_t **out)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    vm_object_t *owner;
    uint64_t owner_index;
    uint64_t off = index << PAGE_SHIFT;
    *out = NULL;
    vm_page_t *page = lone_ancestor_page(vmo, off, &owner, &owner_index);
    if (!page)
        return ZX_OK;
    zx_status_t st = page_tree_insert(&vmo->pages, index, page);
    if (st != ZX_OK)
        return st;
    page_tree_remove(&owner->pages, owner_index);
    page->object.object = vmo;
    page->object.page_offset = off;
    *out = page;
    return ZX_OK;
}

/*
 * See vm_object_priv.h. Called by a shrink of leaf vmo before its parent_limit drops to
 * `new_limit`, after its own pages and mappings there are gone: frees every ancestor
 * page that only vmo could see at [new_limit, parent_limit). Visits the ancestors'
 * pages in that window (not every index), so a sparse shrink is cheap.
 */
void vmo_cow_shrink_locked(vm_object_t *vmo, uint64_t new_limit) TA_NO_THREAD_SAFETY_ANALYSIS {
    uint64_t lo = new_limit, hi = vmo->parent_limit; /* in node's offsets, node's window */
    uint64_t shift = 0; /* node offset = vmo offset + shift (mod 2^64) */
    vm_object_t *node = vmo;
    while (node->parent && lo < MIN(hi, node->parent_limit)) {
        hi = MIN(hi, node->parent_limit);
        lo += node->parent_offset;
        hi += node->parent_offset;
        shift += node->parent_offset;
        node = node->parent;
        uint64_t next = vmo_page_index(lo), last = vmo_page_index(hi), index;
        vm_page_t *page;
        while (page_tree_next(&node->pages, next, last, &index, &page)) {
            next = index + 1;
            vm_object_t *owner;
            uint64_t owner_index;
            uint64_t off = (index << PAGE_SHIFT) - shift;
            if (lone_ancestor_page(vmo, off, &owner, &owner_index) != page)
                continue;
            page_tree_remove(&node->pages, index);
            vmo_release_page_locked(node, page);
        }
    }
}

zx_status_t vmo_cow_own_page_locked(vm_object_t *vmo, uint64_t index, vm_page_t **out) {
    DEBUG_ASSERT(!page_tree_lookup(&vmo->pages, index));
    vm_page_t *taken = NULL;
    if (vmo_has_cow_parent(vmo)) {
        zx_status_t st = take_from_ancestor(vmo, index, &taken);
        if (st != ZX_OK)
            return st;
    }
    if (taken) {
        /* Same page, but the mappings have it read-only: let a write fault upgrade. */
        vmo_unmap_links_locked(vmo, index << PAGE_SHIFT, (index + 1) << PAGE_SHIFT);
        if (out)
            *out = taken;
        return ZX_OK;
    }
    vm_page_t *src = ancestor_page(vmo, index << PAGE_SHIFT);
    vm_page_t *page;
    zx_status_t st = pmm_alloc_page(src ? 0 : PMM_ALLOC_FLAG_ZERO, &page, NULL);
    if (st != ZX_OK)
        return st;
    if (src)
        memcpy(paddr_to_physmap(vm_page_to_paddr(page)),
               paddr_to_physmap(vm_page_to_paddr(src)), PAGE_SIZE);
    page->state = VM_PAGE_STATE_OBJECT;
    page->object.object = vmo;
    page->object.page_offset = index << PAGE_SHIFT;
    st = page_tree_insert(&vmo->pages, index, page);
    if (st != ZX_OK) {
        pmm_free_page(page);
        return st;
    }
    /* A mapping may still show the ancestor's page (or the zero page) read-only. */
    vmo_unmap_links_locked(vmo, index << PAGE_SHIFT, (index + 1) << PAGE_SHIFT);
    if (out)
        *out = page;
    return ZX_OK;
}

/*
 * See vm_object_priv.h. Per page: where an ancestor shows through, the leaf takes its own
 * copy and clears the bytes in it; elsewhere a whole page is decommitted (mappings told
 * first) and a partial one cleared in place if committed. NO_MEMORY: pages already
 * zeroed stay zeroed.
 */
zx_status_t vmo_cow_zero_locked(vm_object_t *vmo, uint64_t offset, uint64_t len) {
    uint64_t end = offset + len;
    for (uint64_t pos = offset; pos < end;) {
        uint64_t index = vmo_page_index(pos);
        uint64_t page_start = index << PAGE_SHIFT;
        uint64_t hi = MIN(end, page_start + PAGE_SIZE);
        vm_page_t *own = page_tree_lookup(&vmo->pages, index);
        bool shows_ancestor = ancestor_page(vmo, page_start) != NULL;
        bool whole = pos == page_start && hi == page_start + PAGE_SIZE;
        if (shows_ancestor && !own) {
            zx_status_t st = vmo_cow_own_page_locked(vmo, index, &own);
            if (st != ZX_OK)
                return st;
        }
        if (own && whole && !shows_ancestor) {
            vmo_unmap_links_locked(vmo, page_start, page_start + PAGE_SIZE);
            vmo_free_pages_locked(vmo, index, index + 1);
        } else if (own) {
            uint8_t *kva = paddr_to_physmap(vm_page_to_paddr(own));
            memset(kva + (pos - page_start), 0, (size_t)(hi - pos));
        }
        pos = hi;
    }
    return ZX_OK;
}

/* ---- Hidden nodes: merging and freeing ----------------------------------------------- */

/* Replaces `old` by `new` (either may be NULL) among the children of hidden node h. */
static void replace_child(vm_object_t *h, vm_object_t *old, vm_object_t *new)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    for (int i = 0; i < VMO_HIDDEN_CHILDREN; i++) {
        if (h->child[i] == old) {
            h->child[i] = new;
            return;
        }
    }
    panic("vmo: %p is not a child of hidden node %p", (void *)old, (void *)h);
}

/* page_tree_fn: a page leaving hidden node ctx (pins in the family are honoured). */
static void release_hidden_page_cb(void *ctx, uint64_t index, vm_page_t *page)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    vmo_release_page_locked(ctx, page);
}

/*
 * Merges hidden node h, whose only child is now `rest`, into rest (see the top of the
 * file). Never allocates except page-tree nodes of rest; if one is unavailable h stays.
 * When rest sees h from offset 0 and holds no page itself it adopts h's tree instead.
 */
static void merge_hidden(vm_object_t *h, vm_object_t *rest) TA_NO_THREAD_SAFETY_ANALYSIS {
    uint64_t first = vmo_page_index(rest->parent_offset); /* rest sees [first, end) of h */
    uint64_t end = first + vmo_page_index(rest->parent_limit);
    bool stuck = false;
    uint64_t next = 0, index;
    vm_page_t *page;
    if (first == 0 && rest->pages.count == 0) {
        /* The usual case: the snapshot's original outlives its child (an ELF data copy,
         * say) and has no pages of its own. It takes h's whole tree back, the mirror of
         * create_snapshot: no page-tree node is reallocated, so this cannot fail, and a
         * long-lived VMO keeps the same nodes however often it is snapshotted. */
        page_tree_remove_range(&h->pages, end, INDEX_END, release_hidden_page_cb, h);
        rest->pages = h->pages;
        page_tree_init(&h->pages);
        while (page_tree_next(&rest->pages, next, INDEX_END, &index, &page)) {
            page->object.object = rest; /* page_offset is unchanged: the same offsets */
            next = index + 1;
        }
    }
    while (page_tree_next(&h->pages, next, INDEX_END, &index, &page)) {
        next = index + 1;
        bool visible = index >= first && index < end &&
                       !page_tree_lookup(&rest->pages, index - first);
        if (!visible) {
            page_tree_remove(&h->pages, index);
            vmo_release_page_locked(h, page);
            continue;
        }
        if (stuck || page_tree_insert(&rest->pages, index - first, page) != ZX_OK) {
            stuck = true; /* keep freeing what nobody sees; moving stops */
            continue;
        }
        page_tree_remove(&h->pages, index);
        page->object.object = rest;
        page->object.page_offset = (index - first) << PAGE_SHIFT;
    }
    if (stuck)
        return;

    /* h is empty: rest takes its place, its window composed with h's. */
    vm_object_t *grand = h->parent;
    rest->parent = grand;
    if (grand) {
        uint64_t limit =
            h->parent_limit > rest->parent_offset ? h->parent_limit - rest->parent_offset : 0;
        rest->parent_limit = MIN(rest->parent_limit, limit);
        rest->parent_offset += h->parent_offset;
        replace_child(grand, h, rest);
    } else {
        rest->parent_offset = 0;
        rest->parent_limit = 0;
    }
    page_tree_destroy(&h->pages, NULL, NULL);
    vmo_free_struct(h);
}

/* See vm_object_priv.h. Walks up while hidden nodes are left with no child at all. */
void vmo_cow_detach_locked(vm_object_t *vmo) TA_NO_THREAD_SAFETY_ANALYSIS {
    vm_object_t *node = vmo;
    while (node->parent) {
        vm_object_t *h = node->parent;
        node->parent = NULL;
        replace_child(h, node, NULL);
        if (node != vmo)
            vmo_free_struct(node); /* an emptied hidden node */
        vm_object_t *rest = h->child[0] ? h->child[0] : h->child[1];
        if (rest) {
            merge_hidden(h, rest);
            return;
        }
        page_tree_destroy(&h->pages, release_hidden_page_cb, h);
        node = h;
    }
    if (node != vmo)
        vmo_free_struct(node);
}

/* ---- Creation ------------------------------------------------------------------------ */

static zx_status_t create_slice(vm_object_t *parent, uint32_t options, uint64_t offset,
                                uint64_t size, vm_object_t **out) {
    if ((options & VMO_CHILD_RESIZABLE) || !IS_ALIGNED(offset, PAGE_SIZE))
        return ZX_ERR_INVALID_ARGS;
    if (vmo_is_resizable(parent))
        return ZX_ERR_NOT_SUPPORTED;
    if (size > VMO_SIZE_MAX)
        return ZX_ERR_OUT_OF_RANGE;
    uint64_t rounded = ROUNDUP(size, (uint64_t)PAGE_SIZE);
    if (offset > UINT64_MAX - rounded)
        return ZX_ERR_OUT_OF_RANGE;
    /* Not resizable, so the parent's size is fixed: no lock needed to read it. */
    if (!vmo_range_ok(vmo_size(parent), offset, rounded))
        return ZX_ERR_INVALID_ARGS; /* Zircon's code for a slice outside its parent */
    if (parent->flags & VMO_FLAG_SLICE) {
        offset += parent->parent_offset;
        parent = parent->parent;
    }
    vm_object_t *slice = vmo_alloc(parent->type, 0, rounded, 0, parent->hier);
    if (!slice)
        return ZX_ERR_NO_MEMORY;
    slice->flags = VMO_FLAG_SLICE | ((options & VMO_CHILD_NO_WRITE) ? VMO_FLAG_NO_WRITE : 0);
    slice->parent = parent;
    slice->parent_offset = offset;
    vmo_ref(parent);
    mutex_acquire(&parent->hier->lock);
    list_add_tail(&parent->slices, &slice->slice_node);
    mutex_release(&parent->hier->lock);
    *out = slice;
    return ZX_OK;
}

static zx_status_t create_snapshot(vm_object_t *parent, uint32_t options, uint64_t offset,
                                   uint64_t size, vm_object_t **out) {
    if (parent->type != VMO_TYPE_PAGED || (parent->flags & VMO_FLAG_SLICE))
        return ZX_ERR_NOT_SUPPORTED;
    if (!IS_ALIGNED(offset, PAGE_SIZE))
        return ZX_ERR_INVALID_ARGS;
    if (size > VMO_SIZE_MAX)
        return ZX_ERR_OUT_OF_RANGE;
    uint64_t rounded = ROUNDUP(size, (uint64_t)PAGE_SIZE);
    if (offset > VMO_SIZE_MAX - rounded)
        return ZX_ERR_OUT_OF_RANGE;

    uint32_t child_opts = (options & VMO_CHILD_RESIZABLE) ? VMO_OPT_RESIZABLE : 0;
    vm_object_t *child = vmo_alloc(VMO_TYPE_PAGED, child_opts, rounded, 0, parent->hier);
    vm_object_t *h = vmo_alloc(VMO_TYPE_PAGED, 0, 0, 0, parent->hier);
    if (!child || !h) {
        if (child)
            vmo_free_struct(child);
        if (h)
            vmo_free_struct(h);
        return ZX_ERR_NO_MEMORY;
    }
    child->flags = (options & VMO_CHILD_NO_WRITE) ? VMO_FLAG_NO_WRITE : 0;
    h->flags = VMO_FLAG_HIDDEN;

    mutex_acquire(&parent->hier->lock);
    /* H takes P's pages and P's place in the tree. */
    h->size = parent->size;
    h->pages = parent->pages;
    page_tree_init(&parent->pages);
    uint64_t next = 0, index;
    vm_page_t *page;
    while (page_tree_next(&h->pages, next, INDEX_END, &index, &page)) {
        page->object.object = h; /* page_offset is unchanged: H has P's offsets */
        next = index + 1;
    }
    h->parent = parent->parent;
    h->parent_offset = parent->parent_offset;
    h->parent_limit = parent->parent_limit;
    if (h->parent)
        replace_child(h->parent, parent, h);
    parent->parent = h;
    parent->parent_offset = 0;
    parent->parent_limit = parent->size;
    child->parent = h;
    child->parent_offset = offset;
    child->parent_limit = offset < h->size ? MIN(rounded, h->size - offset) : 0;
    h->child[0] = parent;
    h->child[1] = child;
    /* P's mappings may map the pages H now shares writable. */
    vmo_unmap_links_locked(parent, 0, parent->size);
    mutex_release(&parent->hier->lock);
    *out = child;
    return ZX_OK;
}

/* See vm_object.h. */
zx_status_t vmo_create_child(vm_object_t *parent, uint32_t options, uint64_t offset,
                             uint64_t size, vm_object_t **out) {
    if (options & ~CHILD_KNOWN_OPTIONS)
        return ZX_ERR_INVALID_ARGS;
    if ((options & VMO_CHILD_NO_WRITE) && (options & VMO_CHILD_RESIZABLE))
        return ZX_ERR_INVALID_ARGS;
    uint32_t kind = options & CHILD_KIND_MASK;
    if (kind == VMO_CHILD_SLICE)
        return create_slice(parent, options, offset, size, out);
    if (kind == VMO_CHILD_SNAPSHOT || kind == VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE)
        return create_snapshot(parent, options, offset, size, out);
    return ZX_ERR_INVALID_ARGS;
}
