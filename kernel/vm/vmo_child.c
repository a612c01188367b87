/*
 * VMO families, built on the base layer (vmo.c) and calling nothing above it: children
 * (vmo_create_child: slices and copy-on-write snapshots), the lookups and private copies
 * copy-on-write needs (the interface of vmo_child_priv.h, used by vmo_ops.c), and how a
 * member leaves its family when its last reference goes (vmo_unref). Layout and lock
 * rules: vmo_priv.h; the contracts: vmo.h.
 *
 * Slices. A slice is a window [parent_offset, + size) onto its parent, which it holds by
 * a reference. It owns no pages: vmo_ops.c forwards each operation to the parent
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
 * parent_limit) the parent at o + parent_offset, and so on; nothing found reads zeros.
 * The walk steps over hidden nodes that held no page when the family last changed shape
 * in one hop (struct vmo.hop, ancestor_find), so empty history costs nothing. A
 * write (vmo_write, write fault, commit, zero) first gives the leaf a private copy of
 * what it shows (vmo_cow_own_page_locked: a 4 KiB copy through the physmap, or a zeroed
 * page), and then every mapping of the leaf drops that offset. Hidden nodes never
 * change their pages' content, so neither side ever sees the other's later writes.
 * When the page shown belongs to any ancestor A and no other leaf can see it (for every
 * node on the path from A down to the leaf, the other child's subtree has it outside its
 * window or shadows it with a page of its own: subtree_sees), the page is moved into the
 * leaf instead of copied: nobody else could ever read it again. Mappings of other leaves
 * cannot map it (they do not see it, and a leaf's mappings drop an offset whenever the
 * leaf stops seeing an ancestor page there); the leaf's own keep the same frame. A page
 * a copy in flight has pinned is copied instead (the pin rules of vmo_priv.h),
 * and so is one whose visibility check ran out of its budget (VMO_COW_VISIT_MAX).
 *
 * Freeing. Hidden nodes are owned by the structure, not by references: when a child of H
 * dies (its last unref), H is left with one child R and is merged into it: H's pages
 * that R cannot see (outside R's window) or shadows (R has its own page there) are
 * freed; the others move into R; then R takes H's place under H's parent and H is freed.
 * If a page cannot move (the page tree of R needs a node and the heap is out), the merge
 * stops there and H stays as a one-child node until R dies too; that is still correct,
 * only a longer chain. A hidden node left with no child (its last child died after such
 * a failed merge) frees all its pages and detaches itself from its own parent the same
 * way. A shrink of a leaf lowers its parent_limit, then frees the ancestor pages of the
 * part of its window it gave up that no leaf sees any more (vmo_cow_drop_unseen_locked).
 * So pages no longer reachable are freed at once: when a sibling dies, when the last
 * leaf that sees an ancestor page writes or zeroes it (the move), or when it shrinks past
 * it; only a visibility check that ran out of budget leaves one until its node merges or
 * dies. The last unref in a family frees every page it ever held.
 *
 * A snapshot taken while a vmo_write copy is writing one of P's pages (a write pin)
 * leaves that page with P, where the copy goes on, and gives H a copy of it as it is at
 * that moment: the new child sees the write's bytes so far, and never anything later.
 *
 * Zero on a copy-on-write VMO allocates: where an ancestor's page shows through, the
 * leaf gets its own zeroed copy; elsewhere it behaves as for plain VMOs. Zero and the
 * shrink clean-up visit only the indices where the leaf or an ancestor holds a page
 * (vmo_cow_next_present_locked: one page_tree_next per ancestor), never every index of
 * the range. Depth is capped (VMO_COW_DEPTH_MAX), so every walk up is bounded.
 */
#include <vm/vmo.h>

#include <kernel/assert.h>
#include <kernel/compiler.h>
#include <kernel/mutex.h>
#include <lib/list.h>
#include <lib/string.h>
#include <phys/physmap.h>
#include <phys/pmm.h>

#include "vmo_child_priv.h"

#define CHILD_KIND_MASK \
    (VMO_CHILD_SNAPSHOT | VMO_CHILD_SLICE | VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE)
#define CHILD_KNOWN_OPTIONS (CHILD_KIND_MASK | VMO_CHILD_RESIZABLE | VMO_CHILD_NO_WRITE)

/* A page-tree index past every real one ("to the end"). */
#define INDEX_END UINT64_MAX

bool vmo_child_no_write(const vmo_t *vmo) {
    return (vmo->flags & VMO_FLAG_NO_WRITE) != 0;
}

/* See vmo_child_priv.h. A slice's size and parent never change, so no lock is needed. */
bool vmo_slice_resolve(vmo_t **vmo, uint64_t *offset, uint64_t len, zx_status_t *st) {
    vmo_t *slice = *vmo;
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
/*
 * Recomputes node's hop (node has a copy-on-write parent; the family changed shape since
 * it was cached): walks up over the hidden nodes that hold no page, composing their
 * windows, to the first one that holds some (or the root).
 */
static __attribute__((noinline)) void refresh_hop(vmo_t *node) TA_NO_THREAD_SAFETY_ANALYSIS {
    uint64_t s = node->parent_offset, lim = node->parent_limit;
    vmo_t *up = node->parent;
    while (up->parent && up->pages.count == 0) {
        lim = MIN(lim, up->parent_limit > s ? up->parent_limit - s : 0);
        s += up->parent_offset;
        up = up->parent;
        vmo_work(node, 1);
    }
    node->hop.to = up;
    node->hop.shift = s;
    node->hop.limit = lim;
    node->hop.shape = node->hier->shape;
}

/*
 * The page the ancestors of node show at byte offset `offset` of node (page-aligned),
 * with its owner and the owner's byte offset of it; NULL if none. One step per ancestor
 * that held a page when the family last changed shape (struct vmo.hop), each charged as
 * one unit of work.
 */
static vm_page_t *ancestor_find(vmo_t *node, uint64_t offset, vmo_t **owner,
                                uint64_t *owner_offset) TA_NO_THREAD_SAFETY_ANALYSIS {
    struct vmo_hier *hier = node->hier;
    uint64_t steps = 0;
    vm_page_t *page = NULL;
    while (node->parent) {
        if (node->hop.shape != hier->shape)
            refresh_hop(node);
        if (offset >= node->hop.limit)
            break;
        offset += node->hop.shift;
        node = node->hop.to;
        steps++;
        page = page_tree_lookup(&node->pages, vmo_page_index(offset));
        if (page) {
            *owner = node;
            *owner_offset = offset;
            break;
        }
    }
    hier->work += steps;
    return page;
}

static vm_page_t *ancestor_page(vmo_t *node, uint64_t offset) {
    vmo_t *owner;
    uint64_t owner_offset;
    return ancestor_find(node, offset, &owner, &owner_offset);
}

vm_page_t *vmo_cow_lookup_locked(vmo_t *vmo, uint64_t index) {
    vm_page_t *page = page_tree_lookup(&vmo->pages, index);
    return page ? page : ancestor_page(vmo, index << PAGE_SHIFT);
}

/*
 * The child of hidden node h after `prev` (NULL: the first) whose window covers h's byte
 * offset `off`, or NULL.
 */
static vmo_t *next_child_covering(vmo_t *h, vmo_t *prev, uint64_t off)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    int i = 0;
    if (prev) {
        while (h->child[i] != prev)
            i++;
        i++;
    }
    for (; i < VMO_HIDDEN_CHILDREN; i++) {
        vmo_t *c = h->child[i];
        if (c && off >= c->parent_offset && off - c->parent_offset < c->parent_limit)
            return c;
    }
    return NULL;
}

/*
 * How many leaves of the subtree rooted at `top` read their parent's content at byte
 * offset `off` of top (off lies inside top's window): a node with its own page there
 * hides it from its whole subtree, a leaf without one sees it, a hidden node passes it
 * to its children whose windows cover it (offsets translated by parent_offset going
 * down). Stops counting at `enough`. Walks the subtree without recursion (down by
 * child[], back up by parent), since chains can be long. Each node visited costs one
 * unit of *budget; when it runs out the walk stops and *cut is set (the count is then
 * only a lower bound).
 */
static uint32_t subtree_count(vmo_t *top, uint64_t off, uint32_t *budget, uint32_t enough,
                              bool *cut) TA_NO_THREAD_SAFETY_ANALYSIS {
    uint32_t seen = 0;
    vmo_t *node = top;
    for (;;) {
        if (*budget == 0) {
            *cut = true;
            return seen;
        }
        (*budget)--;
        vmo_work(node, 1);
        vmo_t *next = NULL;
        if (!page_tree_lookup(&node->pages, vmo_page_index(off))) {
            if (!(node->flags & VMO_FLAG_HIDDEN)) {
                if (++seen >= enough)
                    return seen;
            } else {
                next = next_child_covering(node, NULL, off);
            }
        }
        while (!next) { /* node's subtree is done: on to its next sibling */
            if (node == top)
                return seen;
            vmo_t *up = node->parent;
            off += node->parent_offset;
            next = next_child_covering(up, node, off);
            node = up;
        }
        off -= next->parent_offset;
        node = next;
    }
}

/*
 * True if some leaf of the subtree rooted at `top` reads its parent's content at byte
 * offset `off` of top (subtree_count). When *budget runs out the answer is "seen", which
 * is always safe (a copy instead of a move, a page kept a while longer).
 */
static bool subtree_sees(vmo_t *top, uint64_t off, uint32_t *budget) {
    bool cut = false;
    return subtree_count(top, off, budget, 1, &cut) != 0 || cut;
}

/*
 * The ancestor page that leaf `vmo` shows (or showed: vmo itself is not consulted) at
 * its byte offset `off`, if no other leaf of the family can see it: for every node on
 * the path from the page's owner down to vmo, the other child's subtree does not see it.
 * Returns the page, its owner in *owner and the owner's page index in *owner_index; NULL
 * if there is no such page or someone else still sees it.
 */
static vm_page_t *lone_ancestor_page(vmo_t *vmo, uint64_t off, vmo_t **owner,
                                     uint64_t *owner_index) TA_NO_THREAD_SAFETY_ANALYSIS {
    vmo_t *node = vmo;
    uint32_t budget = VMO_COW_VISIT_MAX; /* for the whole check, not per level */
    while (node->parent && off < node->parent_limit) {
        vmo_t *h = node->parent;
        off += node->parent_offset;
        if (budget == 0)
            return NULL;
        budget--;
        vmo_work(h, 1);
        for (int i = 0; i < VMO_HIDDEN_CHILDREN; i++) {
            vmo_t *other = h->child[i];
            if (other && other != node && off >= other->parent_offset &&
                off - other->parent_offset < other->parent_limit &&
                subtree_sees(other, off - other->parent_offset, &budget))
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
 * Allocates a page for vmo at index holding a copy of src (a zeroed page if src is NULL)
 * and inserts it in vmo's tree (which must have no page there). NO_MEMORY, with nothing
 * changed, if the page or a tree node is unavailable. Mappings are not told.
 */
static zx_status_t insert_copy(vmo_t *vmo, uint64_t index, const vm_page_t *src,
                               vm_page_t **out) TA_NO_THREAD_SAFETY_ANALYSIS {
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
    vmo_work(vmo, VMO_WORK_PAGE);
    *out = page;
    return ZX_OK;
}

/*
 * If the page vmo shows at index belongs to an ancestor and nobody else can see it any
 * more, moves it into vmo instead of copying (Zircon does the same): *out is the page,
 * or NULL if that does not apply. A pinned page is not moved (rule 2 of Pins: a copy in
 * flight reads it and vmo is about to write it): vmo gets a copy and the old page, which
 * nobody sees now, is released to its pins. NO_MEMORY, with nothing changed, if the page
 * or tree node needed is unavailable.
 */
static zx_status_t take_from_ancestor(vmo_t *vmo, uint64_t index, vm_page_t **out)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    vmo_t *owner;
    uint64_t owner_index;
    uint64_t off = index << PAGE_SHIFT;
    *out = NULL;
    vm_page_t *page = lone_ancestor_page(vmo, off, &owner, &owner_index);
    if (!page)
        return ZX_OK;
    if (vmo_page_pinned(page)) {
        zx_status_t st = insert_copy(vmo, index, page, out);
        if (st != ZX_OK)
            return st;
        page_tree_remove(&owner->pages, owner_index);
        vmo_release_page_locked(vmo, page);
        return ZX_OK;
    }
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
 * How many leaves read the page hidden node h holds at page index `index` (the children
 * whose windows cover it, each through subtree_count), counting up to `enough` within
 * VMO_COW_VISIT_MAX nodes; *cut is set if the budget ran out first.
 */
static uint32_t hidden_page_viewers(vmo_t *h, uint64_t index, uint32_t enough, bool *cut)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    uint32_t budget = VMO_COW_VISIT_MAX;
    uint32_t seen = 0;
    uint64_t off = index << PAGE_SHIFT;
    for (int i = 0; i < VMO_HIDDEN_CHILDREN && seen < enough && !*cut; i++) {
        vmo_t *c = h->child[i];
        if (c && off >= c->parent_offset && off - c->parent_offset < c->parent_limit)
            seen += subtree_count(c, off - c->parent_offset, &budget, enough - seen, cut);
    }
    return seen;
}

/*
 * True if no leaf can read the page hidden node h holds at page index `index` ("seen"
 * when the visit budget runs out first).
 */
static bool hidden_page_unseen(vmo_t *h, uint64_t index) {
    bool cut = false;
    return hidden_page_viewers(h, index, 1, &cut) == 0 && !cut;
}

uint32_t vmo_cow_sharers_locked(vmo_t *vmo, uint64_t index) {
    if (page_tree_lookup(&vmo->pages, index))
        return 1; /* a leaf's own page: no other VMO reads it */
    vmo_t *owner;
    uint64_t off;
    if (!ancestor_find(vmo, index << PAGE_SHIFT, &owner, &off))
        return 0;
    bool cut = false;
    uint32_t n = hidden_page_viewers(owner, vmo_page_index(off), UINT32_MAX, &cut);
    return cut ? MAX(n, 2u) : MAX(n, 1u);
}

/*
 * See vmo_child_priv.h. The walk up from vmo: at each ancestor, vmo's page indices
 * [from, lim) read it, at the ancestor's index + shift; lim shrinks with every window
 * (page indices and shifts stay below 2^52, so index + shift cannot overflow).
 */
uint64_t vmo_cow_next_present_locked(vmo_t *vmo, uint64_t from, uint64_t to,
                                     uint64_t limit) TA_NO_THREAD_SAFETY_ANALYSIS {
    uint64_t best = to, index;
    vm_page_t *page;
    if (page_tree_next(&vmo->pages, from, to, &index, &page))
        best = index;
    uint64_t shift = 0; /* ancestor byte offset = vmo byte offset + shift */
    uint64_t lim = ROUNDUP(limit, (uint64_t)PAGE_SIZE) >> PAGE_SHIFT; /* vmo page index */
    vmo_t *node = vmo;
    while (node->parent && from < MIN(lim, best)) {
        shift += node->parent_offset;
        node = node->parent;
        vmo_work(vmo, 1);
        uint64_t s = shift >> PAGE_SHIFT; /* offsets are page-aligned */
        if (page_tree_next(&node->pages, from + s, MIN(lim, best) + s, &index, &page))
            best = index - s;
        if (!node->parent)
            break;
        /* node's window into its parent, in vmo's page indices */
        uint64_t node_lim = node->parent_limit >> PAGE_SHIFT;
        lim = MIN(lim, node_lim > s ? node_lim - s : 0);
    }
    return best;
}

/*
 * See vmo_child_priv.h. At vmo's page index `index` (which vmo no longer reads through
 * its parent: its parent_limit is already lowered), every ancestor page that no leaf can
 * see any more is released. old_limit is the parent_limit vmo had.
 */
void vmo_cow_drop_unseen_locked(vmo_t *vmo, uint64_t index, uint64_t old_limit)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    uint64_t off = index << PAGE_SHIFT; /* in node's offsets as the walk goes up */
    uint64_t lim = old_limit;           /* node's window into its parent */
    vmo_t *node = vmo;
    while (node->parent && off < lim) {
        off += node->parent_offset;
        node = node->parent;
        lim = node->parent_limit;
        vmo_work(vmo, 1);
        uint64_t i = vmo_page_index(off);
        vm_page_t *page = page_tree_lookup(&node->pages, i);
        if (page && hidden_page_unseen(node, i)) {
            page_tree_remove(&node->pages, i);
            vmo_release_page_locked(node, page);
            vmo_work(vmo, VMO_WORK_PAGE);
        }
    }
}

zx_status_t vmo_cow_own_page_locked(vmo_t *vmo, uint64_t index, vm_page_t **out) {
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
    vm_page_t *page;
    zx_status_t st = insert_copy(vmo, index, ancestor_page(vmo, index << PAGE_SHIFT), &page);
    if (st != ZX_OK)
        return st;
    /* A mapping may still show the ancestor's page (or the zero page) read-only. */
    vmo_unmap_links_locked(vmo, index << PAGE_SHIFT, (index + 1) << PAGE_SHIFT);
    if (out)
        *out = page;
    return ZX_OK;
}

/*
 * See vmo_child_priv.h. Where an ancestor shows through, the leaf takes its own copy and
 * clears the bytes in it; elsewhere a whole page is decommitted (mappings told first)
 * and a partial one cleared in place if committed.
 */
zx_status_t vmo_cow_zero_page_locked(vmo_t *vmo, uint64_t index, uint64_t lo,
                                     uint64_t hi) {
    uint64_t page_start = index << PAGE_SHIFT;
    DEBUG_ASSERT(lo >= page_start && lo < hi && hi <= page_start + PAGE_SIZE);
    vm_page_t *own = page_tree_lookup(&vmo->pages, index);
    bool shows_ancestor = ancestor_page(vmo, page_start) != NULL;
    bool whole = lo == page_start && hi == page_start + PAGE_SIZE;
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
        memset(kva + (lo - page_start), 0, (size_t)(hi - lo));
    }
    vmo_work(vmo, VMO_WORK_PAGE);
    return ZX_OK;
}

/* ---- Hidden nodes: merging and freeing ----------------------------------------------- */

/* Replaces `old` by `new` (either may be NULL) among the children of hidden node h. */
static void replace_child(vmo_t *h, vmo_t *old, vmo_t *new)
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

/* page_tree_walk_leaves callback: every page in the leaf now belongs to VMO ctx (its
 * page_offset, the same offsets, stays). A leaf at a time: a few instructions a page. */
static zx_status_t set_owner_leaf(void *ctx, uint64_t first, vm_page_t *const *slots, size_t n) {
    (void)first;
    for (size_t k = 0; k < n; k++)
        if (slots[k])
            slots[k]->object.object = ctx;
    return ZX_OK;
}

/* Makes vmo the owner of every page in its tree (after a page_tree_move). */
static void set_owner_all(vmo_t *vmo) TA_NO_THREAD_SAFETY_ANALYSIS {
    page_tree_walk_leaves(&vmo->pages, 0, INDEX_END, set_owner_leaf, vmo);
}

/*
 * Merges hidden node h, whose only child is now `rest`, into rest (see the top of the
 * file). Never allocates except page-tree nodes of rest; if one is unavailable h stays.
 * When rest sees h from offset 0 and holds no page itself it adopts h's tree instead.
 */
static void merge_hidden(vmo_t *h, vmo_t *rest) TA_NO_THREAD_SAFETY_ANALYSIS {
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
        page_tree_move(&rest->pages, &h->pages);
        set_owner_all(rest);
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
    vmo_t *grand = h->parent;
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

/*
 * Called by the last unref of vmo (its own pages already freed): unlinks it from the
 * family, merging or freeing the hidden nodes this leaves with fewer than two children.
 * Walks up while hidden nodes are left with no child at all.
 */
static void cow_detach_locked(vmo_t *vmo) TA_REQ(vmo->hier->lock) TA_NO_THREAD_SAFETY_ANALYSIS {
    vmo_family_reshaped(vmo); /* for the merge below too: its survivor may gain pages */
    vmo_t *node = vmo;
    while (node->parent) {
        vmo_t *h = node->parent;
        node->parent = NULL;
        replace_child(h, node, NULL);
        if (node != vmo)
            vmo_free_struct(node); /* an emptied hidden node */
        vmo_t *rest = h->child[0] ? h->child[0] : h->child[1];
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

/* ---- The end of a member: the last reference --------------------------------------- */

/*
 * Releases every page a dying PAGED VMO owns, a VMO_DISCARD_SPAN of indices from the next
 * committed page at a time, with a lock break in between. Nobody can reach them any more
 * (no reference is left, other family members only read ancestors' pages, and no copy of
 * another VMO has one pinned: see Pins in vmo_priv.h), so the family may go on
 * meanwhile; a sibling dying then may even merge pages into vmo, which is why every
 * round looks for the next page from index 0 again. A kill does not stop a teardown.
 */
static void free_own_pages_locked(vmo_t *vmo)
    TA_REQ(vmo->hier->lock) {
    /* No more pages than one batch frees (most short-lived VMOs): release them as the
     * tree is taken down, one pass without the searches. The lock is held for no more
     * pages than a batch would hold it. */
    if (__atomic_load_n(&vmo->pages.count, __ATOMIC_RELAXED) <= VMO_DISCARD_SPAN) {
        page_tree_destroy(&vmo->pages, vmo_release_page_cb, vmo);
        return;
    }
    uint64_t index;
    vm_page_t *page;
    while (page_tree_next(&vmo->pages, 0, UINT64_MAX, &index, &page)) {
        uint64_t end = index > UINT64_MAX - VMO_DISCARD_SPAN ? UINT64_MAX
                                                             : index + VMO_DISCARD_SPAN;
        vmo_free_pages_locked(vmo, index, end);
        vmo_work(vmo, 1);
        (void)vmo_lock_break(vmo, NULL);
    }
    page_tree_destroy(&vmo->pages, NULL, NULL); /* empty: nothing left to free */
}

/*
 * Frees everything the VMO owns, then the struct. Only when the last reference is gone.
 * A slice leaves its parent's slice list and returns the parent, whose reference the
 * caller drops; a copy-on-write VMO leaves the family tree (cow_detach_locked) and
 * returns NULL.
 */
static vmo_t *vmo_destroy(vmo_t *vmo) {
    if (vmo->options & VMO_OPT_DISCARDABLE)
        vmo_discard_unregister(vmo); /* before the reclaimer could find it dead */
    mutex_acquire(&vmo->hier->lock);
    ASSERT_MSG(list_is_empty(&vmo->mappings), "vmo %p destroyed while still mapped",
               (void *)vmo);
    ASSERT(list_is_empty(&vmo->slices));
    vmo_t *slice_parent = NULL;
    if (vmo->flags & VMO_FLAG_SLICE) {
        list_delete(&vmo->slice_node);
        slice_parent = vmo->parent;
    } else {
        if (vmo->type == VMO_TYPE_PAGED)
            free_own_pages_locked(vmo);
        if (vmo->parent)
            cow_detach_locked(vmo);
    }
    uint64_t size = vmo->size;
    mutex_release(&vmo->hier->lock);

    if (vmo->type == VMO_TYPE_CONTIGUOUS && !slice_parent)
        pmm_free_contiguous(vmo->base, (size_t)(size >> PAGE_SHIFT));
    vmo_free_struct(vmo);
    return slice_parent;
}

/* Drops a reference; the last one frees the VMO and every page it owns. A dead slice's
 * reference on its parent is dropped by the loop, not by a nested call, so the call
 * graph has no cycle here (kernel/kstack.conf). */
void vmo_unref(vmo_t *vmo) {
    while (vmo) {
        uint32_t old = __atomic_fetch_sub(&vmo->refcount, 1, __ATOMIC_ACQ_REL);
        ASSERT_MSG(old > 0, "vmo_unref of dead vmo %p", (void *)vmo);
        if (old != 1)
            return;
        vmo = vmo_destroy(vmo);
    }
}

/* ---- Creation ------------------------------------------------------------------------ */

static zx_status_t create_slice(vmo_t *parent, uint32_t options, uint64_t offset,
                                uint64_t size, vmo_t **out) {
    if ((options & VMO_CHILD_RESIZABLE) || !IS_ALIGNED(offset, PAGE_SIZE))
        return ZX_ERR_INVALID_ARGS;
    if (vmo_is_resizable(parent))
        return ZX_ERR_NOT_SUPPORTED;
    if (size > VMO_SIZE_MAX)
        return ZX_ERR_OUT_OF_RANGE;
    uint64_t rounded = ROUNDUP(size, (uint64_t)PAGE_SIZE);
    /* Not resizable, so the parent's size is fixed: no lock needed to read it. Outside
     * the parent, offset + size overflowing included: INVALID_ARGS, Zircon's code. */
    if (!vmo_range_ok(vmo_size(parent), offset, rounded))
        return ZX_ERR_INVALID_ARGS;
    if (parent->flags & VMO_FLAG_SLICE) {
        offset += parent->parent_offset;
        parent = parent->parent;
    }
    vmo_t *slice = vmo_alloc(parent->type, 0, rounded, 0, parent->hier);
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

/*
 * See vmo_child_priv.h. root_offset is at least the sum of the parent_offsets on vmo's
 * path to the root (vmo_priv.h), so once creation and growth are checked here that sum
 * never overflows, and neither does any offset a window composes from part of it.
 */
bool vmo_cow_window_fits(const vmo_t *vmo, uint64_t offset, uint64_t len) {
    if (offset > UINT64_MAX - vmo->root_offset)
        return false;
    return len <= UINT64_MAX - (vmo->root_offset + offset);
}

/* Hidden ancestors of vmo (0 for a root): what a lookup in vmo may have to walk. */
static uint32_t cow_depth(const vmo_t *vmo) TA_NO_THREAD_SAFETY_ANALYSIS {
    uint32_t depth = 0;
    for (const vmo_t *p = vmo->parent; p; p = p->parent)
        depth++;
    return depth;
}

/* page_tree_fn that leaves the page alone (the tree only borrowed it). */
static void keep_page_cb(void *ctx, uint64_t index, vm_page_t *page) {}

/* page_tree_fn for copies that were never published: straight back to the PMM. */
static void free_copy_cb(void *ctx, uint64_t index, vm_page_t *page) { pmm_free_page(page); }

/*
 * The pages of `parent` that a vmo_write copy is writing right now (its write pins) stay
 * with parent when a snapshot takes its pages (rule 2 of Pins): collects each in *kept
 * (same index) and a copy of it as it is now in *copies, for the hidden node. A page two
 * writers pin is taken once. NO_MEMORY with both trees empty and nothing else changed.
 * Costs O(write pins in the family), i.e. O(threads in vmo_write).
 */
static zx_status_t collect_written_pages(vmo_t *parent, struct page_tree *kept,
                                         struct page_tree *copies)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    page_tree_init(kept);
    page_tree_init(copies);
    struct vmo_pin *pin;
    list_for_every_entry(&parent->hier->write_pins, pin, struct vmo_pin, node) {
        vm_page_t *page = pin->page;
        if (page->object.object != parent)
            continue; /* another VMO's page, or an orphan */
        uint64_t index = vmo_page_index(page->object.page_offset);
        if (page_tree_lookup(kept, index))
            continue;
        vm_page_t *copy;
        zx_status_t st = pmm_alloc_page(0, &copy, NULL);
        if (st == ZX_OK) {
            memcpy(paddr_to_physmap(vm_page_to_paddr(copy)),
                   paddr_to_physmap(vm_page_to_paddr(page)), PAGE_SIZE);
            copy->state = VM_PAGE_STATE_OBJECT;
            copy->object.page_offset = page->object.page_offset; /* owner: set later */
            st = page_tree_insert(copies, index, copy);
            if (st != ZX_OK)
                pmm_free_page(copy);
        }
        if (st == ZX_OK) {
            st = page_tree_insert(kept, index, page);
            if (st != ZX_OK)
                pmm_free_page(page_tree_remove(copies, index));
        }
        if (st != ZX_OK) {
            page_tree_destroy(kept, keep_page_cb, NULL);
            page_tree_destroy(copies, free_copy_cb, NULL);
            return st;
        }
    }
    return ZX_OK;
}

/*
 * Refuses (OUT_OF_RANGE) a snapshot that would put parent and the child below
 * VMO_COW_DEPTH_MAX hidden nodes, so that every lookup stays bounded.
 */
static zx_status_t create_snapshot(vmo_t *parent, uint32_t options, uint64_t offset,
                                   uint64_t size, vmo_t **out) {
    if (parent->type != VMO_TYPE_PAGED || (parent->flags & VMO_FLAG_SLICE))
        return ZX_ERR_NOT_SUPPORTED;
    if (!IS_ALIGNED(offset, PAGE_SIZE))
        return ZX_ERR_INVALID_ARGS;
    if (size > VMO_SIZE_MAX)
        return ZX_ERR_OUT_OF_RANGE;
    uint64_t rounded = ROUNDUP(size, (uint64_t)PAGE_SIZE);
    if (!vmo_cow_window_fits(parent, offset, rounded))
        return ZX_ERR_INVALID_ARGS; /* Zircon's rule against accumulated overflow */

    uint32_t child_opts = (options & VMO_CHILD_RESIZABLE) ? VMO_OPT_RESIZABLE : 0;
    vmo_t *child = vmo_alloc(VMO_TYPE_PAGED, child_opts, rounded, 0, parent->hier);
    vmo_t *h = vmo_alloc(VMO_TYPE_PAGED, 0, 0, 0, parent->hier);
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
    struct page_tree kept, copies;
    zx_status_t st = cow_depth(parent) >= VMO_COW_DEPTH_MAX
                         ? ZX_ERR_OUT_OF_RANGE
                         : collect_written_pages(parent, &kept, &copies);
    if (st != ZX_OK) {
        mutex_release(&parent->hier->lock);
        vmo_free_struct(child);
        vmo_free_struct(h);
        return st;
    }
    /* H takes P's pages (but for those being written: their copies) and P's place. */
    h->size = parent->size;
    page_tree_move(&h->pages, &parent->pages);
    page_tree_move(&parent->pages, &kept);
    uint64_t next = 0, index;
    vm_page_t *page;
    while (page_tree_next(&copies, next, INDEX_END, &index, &page)) {
        page_tree_replace(&h->pages, index, page);
        next = index + 1;
    }
    page_tree_destroy(&copies, keep_page_cb, NULL);
    set_owner_all(h); /* page_offset is unchanged: H has P's offsets */
    vmo_work(parent, h->pages.count);
    h->parent = parent->parent;
    h->parent_offset = parent->parent_offset;
    h->parent_limit = parent->parent_limit;
    if (h->parent)
        replace_child(h->parent, parent, h);
    parent->parent = h;
    parent->parent_offset = 0;
    parent->parent_limit = parent->size;
    h->root_offset = parent->root_offset;
    child->root_offset = parent->root_offset + offset; /* checked above */
    child->parent = h;
    child->parent_offset = offset;
    child->parent_limit = offset < h->size ? MIN(rounded, h->size - offset) : 0;
    h->child[0] = parent;
    h->child[1] = child;
    vmo_family_reshaped(parent);
    /* P's mappings may map the pages H now shares writable. */
    vmo_unmap_links_locked(parent, 0, parent->size);
    mutex_release(&parent->hier->lock);
    *out = child;
    return ZX_OK;
}

/* See vmo.h. */
zx_status_t vmo_create_child(vmo_t *parent, uint32_t options, uint64_t offset,
                             uint64_t size, vmo_t **out) {
    if (options & ~CHILD_KNOWN_OPTIONS)
        return ZX_ERR_INVALID_ARGS;
    if ((options & VMO_CHILD_NO_WRITE) && (options & VMO_CHILD_RESIZABLE))
        return ZX_ERR_INVALID_ARGS;
    uint32_t kind = options & CHILD_KIND_MASK;
    zx_status_t st = ZX_ERR_INVALID_ARGS;
    if ((kind == VMO_CHILD_SLICE || kind == VMO_CHILD_SNAPSHOT ||
         kind == VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE) &&
        (parent->options & VMO_OPT_DISCARDABLE))
        return ZX_ERR_NOT_SUPPORTED; /* its pages may go at any moment: no child shares them */
    if (kind == VMO_CHILD_SLICE)
        st = create_slice(parent, options, offset, size, out);
    else if (kind == VMO_CHILD_SNAPSHOT || kind == VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE)
        st = create_snapshot(parent, options, offset, size, out);
    if (st == ZX_OK && parent->origin) { /* no one else sees the child yet */
        (*out)->origin = parent->origin;
        (*out)->origin_offset = parent->origin_offset + offset; /* may wrap: diagnostics */
    }
    return st;
}
