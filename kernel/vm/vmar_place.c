/*
 * Placement of regions inside a VMAR (see <vm/vmar_place.h>). Pure logic: it reads only
 * the augmented AVL tree of child extents, so the host tests run it without an MMU.
 *
 * Holes, in address order, are [lo, first base), the gaps between neighbouring extents
 * and [last end, hi), each cut off at hi. A hole belongs to the extent that ends it (the
 * next extent), or to none for the last one. The descents below carry `prev_end`, the end
 * of the extent just before the current subtree (lo before the first), which is where
 * the subtree's first hole starts.
 */
#include <kernel/compiler.h>
#include <kernel/types.h>
#include <lib/rand.h>
#include <vm/vmar_place.h>

/* Uniform in [0, n), n > 0, without modulo bias (rejects the short last bucket). */
static uint64_t prng_below(uint64_t *state, uint64_t n) {
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n); /* values >= limit are rejected */
    for (;;) {
        uint64_t v = splitmix64_next(state); /* the placement PRNG */
        if (v < limit)
            return v % n;
    }
}

/* ---- the augmented tree ---- */

static struct vm_extent *ext_left(const struct vm_extent *e) {
    return vm_extent_of(e->node.left);
}

static struct vm_extent *ext_right(const struct vm_extent *e) {
    return vm_extent_of(e->node.right);
}

/* Bytes the extents of subtree s cover. */
static uint64_t sub_used(const struct vm_extent *s) {
    return s->sub_hi - s->sub_lo - s->sub_gap_sum;
}

void vm_extent_augment(struct avl_node *n) {
    struct vm_extent *e = vm_extent_of(n), *l = ext_left(e), *r = ext_right(e);
    uint64_t lo = vm_extent_base(e), hi = vm_extent_end(e), sum = 0, max = 0;
    if (l) {
        uint64_t gap = vm_extent_base(e) - l->sub_hi;
        lo = l->sub_lo;
        sum = l->sub_gap_sum + gap;
        max = MAX(l->sub_gap_max, gap);
    }
    if (r) {
        uint64_t gap = r->sub_lo - vm_extent_end(e);
        hi = r->sub_hi;
        sum += r->sub_gap_sum + gap;
        max = MAX(max, MAX(r->sub_gap_max, gap));
    }
    e->sub_lo = lo;
    e->sub_hi = hi;
    e->sub_gap_sum = sum;
    e->sub_gap_max = max;
}

void vm_extent_tree_init(struct avl_tree *t) { avl_init_augmented(t, vm_extent_augment); }

bool vm_extent_tree_check(const struct avl_tree *t) {
    if (t->augment != vm_extent_augment || !avl_check(t))
        return false;
    for (struct avl_node *n = avl_first(t); n; n = avl_next(n)) {
        struct vm_extent *e = vm_extent_of(n), want = *e;
        vm_extent_augment(&want.node); /* reads only the children through the copy */
        if (e->size == 0 || want.sub_lo != e->sub_lo || want.sub_hi != e->sub_hi ||
            want.sub_gap_sum != e->sub_gap_sum || want.sub_gap_max != e->sub_gap_max)
            return false;
        struct vm_extent *next = vm_extent_of(avl_next(n));
        if (next && vm_extent_end(e) > vm_extent_base(next))
            return false; /* overlap */
    }
    return true;
}

/* ---- lookups ---- */

struct vm_extent *vm_extent_find(const struct avl_tree *t, uint64_t addr) {
    struct vm_extent *e = vm_extent_of(avl_floor(t, addr));
    if (e && addr - vm_extent_base(e) < e->size)
        return e;
    return NULL;
}

struct vm_extent *vm_extent_first_overlap(const struct avl_tree *t, uint64_t base,
                                          uint64_t size) {
    struct vm_extent *e = vm_extent_find(t, base);
    if (e)
        return e;
    e = vm_extent_of(avl_ceil(t, base));
    if (e && vm_extent_base(e) - base < size)
        return e;
    return NULL;
}

bool vmar_place_is_free(const struct avl_tree *t, uint64_t base, uint64_t size) {
    return vm_extent_first_overlap(t, base, size) == NULL;
}

/* ---- holes ---- */

/*
 * The aligned candidates of hole [start, end) for req: *first and the count of addresses
 * first, first + align, ... that fit. Returns the count (0 if none).
 */
static uint64_t hole_candidates(const struct vmar_place_req *req, uint64_t start, uint64_t end,
                                uint64_t *first) {
    if (end <= start || end - start < req->size)
        return 0;
    uint64_t f = ROUNDUP(start, req->align);
    if (f < start) /* rounding wrapped past 2^64 */
        return 0;
    uint64_t last_start = end - req->size; /* highest address that still fits */
    if (f > last_start)
        return 0;
    *first = f;
    return (last_start - f) / req->align + 1;
}

/* Free bytes in [lo, x) (x >= lo; no extent starts below lo). */
static uint64_t free_below(const struct avl_tree *t, uint64_t lo, uint64_t x) {
    uint64_t used = 0;
    struct vm_extent *e = vm_extent_of(t->root);
    if (e && e->sub_hi <= x)
        return x - lo - sub_used(e); /* the whole tree lies below x */
    while (e) {
        if (x <= vm_extent_base(e)) {
            e = ext_left(e);
            continue;
        }
        struct vm_extent *l = ext_left(e);
        if (l)
            used += sub_used(l);
        if (x - vm_extent_base(e) < e->size) {
            used += x - vm_extent_base(e);
            break;
        }
        used += e->size;
        e = ext_right(e);
    }
    return x - lo - used;
}

/* A hole: [start, next's base), or [start, window end) when next is NULL. */
struct hole {
    uint64_t start;
    struct vm_extent *next;
};

/*
 * The hole holding free byte k of [lo, ...) (counting holes in address order from lo;
 * the caller ensures k < the free bytes below its window's end). Returns the hole and
 * the address of byte k in it.
 */
static uint64_t locate_free_byte(const struct avl_tree *t, uint64_t lo, uint64_t k,
                                 struct hole *h) {
    uint64_t prev_end = lo;
    for (struct vm_extent *e = vm_extent_of(t->root); e;) {
        struct vm_extent *l = ext_left(e);
        uint64_t below = vm_extent_base(e) - prev_end; /* free bytes up to e's base */
        if (l)
            below -= sub_used(l);
        if (k < below) {
            if (!l) {
                h->start = prev_end;
                h->next = e;
                return prev_end + k;
            }
            uint64_t in_left = l->sub_lo - prev_end + l->sub_gap_sum; /* up to l->sub_hi */
            if (k < in_left) {
                e = l;
                continue;
            }
            h->start = l->sub_hi; /* the hole between l's last extent and e */
            h->next = e;
            return l->sub_hi + (k - in_left);
        }
        k -= below;
        prev_end = vm_extent_end(e);
        e = ext_right(e);
    }
    h->start = prev_end;
    h->next = NULL;
    return prev_end + k;
}

/* True if subtree s may hold a hole of at least need bytes, its first hole starting at
 * prev_end. */
static bool subtree_may_fit(const struct vm_extent *s, uint64_t prev_end, uint64_t need) {
    return s->sub_gap_max >= need || s->sub_lo - prev_end >= need;
}

/*
 * The first extent of subtree s, in address order, whose hole (the first one starting at
 * *prev_end) is at least need bytes; *prev_end becomes that hole's start. NULL if none,
 * with *prev_end the end of the subtree's last extent.
 */
static struct vm_extent *subtree_first_fit(struct vm_extent *s, uint64_t *prev_end,
                                           uint64_t need) {
    if (!subtree_may_fit(s, *prev_end, need)) {
        *prev_end = s->sub_hi;
        return NULL;
    }
    /* Invariant: subtree s holds such a hole. If neither its left part nor s's own hole
     * does, its right part must (its summaries say so). */
    while (s) {
        struct vm_extent *l = ext_left(s);
        if (l) {
            if (subtree_may_fit(l, *prev_end, need)) {
                s = l;
                continue;
            }
            *prev_end = l->sub_hi;
        }
        if (vm_extent_base(s) - *prev_end >= need)
            return s;
        *prev_end = vm_extent_end(s);
        s = ext_right(s);
    }
    return NULL; /* unreachable while the summaries are right */
}

/*
 * The hole after h (h->next not NULL) that is at least need bytes long, in address
 * order, skipping the subtrees whose summaries rule them out: moves h there. O(log n).
 */
static void next_hole_of_size(struct hole *h, uint64_t need) {
    struct vm_extent *e = h->next, *f;
    uint64_t prev_end = vm_extent_end(e);
    struct vm_extent *r = ext_right(e);
    if (r && (f = subtree_first_fit(r, &prev_end, need)) != NULL)
        goto found;
    for (struct avl_node *n = &e->node; n->parent; n = n->parent) {
        struct vm_extent *p = vm_extent_of(n->parent);
        if (n->parent->left != n)
            continue; /* p lies before n: done already */
        if (vm_extent_base(p) - prev_end >= need) {
            f = p;
            goto found;
        }
        prev_end = vm_extent_end(p);
        r = ext_right(p);
        if (r && (f = subtree_first_fit(r, &prev_end, need)) != NULL)
            goto found;
    }
    f = NULL; /* only the last hole, [prev_end, window end), is left */
found:
    h->start = prev_end;
    h->next = f;
}

/*
 * From hole h on, in address order, the first hole with an aligned place for req inside
 * the window: sets *first and returns the number of candidates there, or 0 if none.
 */
static uint64_t first_fit_from(const struct vmar_place_req *req, struct hole h,
                               uint64_t *first) {
    for (;;) {
        if (h.start >= req->hi)
            return 0;
        uint64_t end = h.next ? MIN(vm_extent_base(h.next), req->hi) : req->hi;
        uint64_t n = hole_candidates(req, h.start, end, first);
        if (n || !h.next)
            return n;
        next_hole_of_size(&h, req->size);
    }
}

/* The window's first hole of at least req->size bytes (or the last hole). */
static struct hole first_hole_of_size(const struct avl_tree *t,
                                      const struct vmar_place_req *req) {
    struct hole h = {.start = req->lo, .next = NULL};
    struct vm_extent *root = vm_extent_of(t->root);
    if (root)
        h.next = subtree_first_fit(root, &h.start, req->size);
    return h;
}

/* ---- placement ---- */

/*
 * The randomized policy's tries (see <vm/vmar_place.h>): returns true and *out when one
 * is taken; otherwise *last is the hole of the last try.
 */
static bool random_tries(const struct avl_tree *t, const struct vmar_place_req *req,
                         uint64_t free_pages, uint64_t *rng, uint64_t *out, struct hole *last) {
    for (unsigned i = 0; i < VMAR_PLACE_RANDOM_TRIES; i++) {
        uint64_t k = prng_below(rng, free_pages) * PAGE_SIZE;
        uint64_t page = locate_free_byte(t, req->lo, k, last);
        uint64_t end = last->next ? MIN(vm_extent_base(last->next), req->hi) : req->hi;
        uint64_t c = ROUNDDOWN(page, req->align); /* c <= page */
        /* page < end always holds when no extent starts below lo; checked anyway, so a
         * broken precondition cannot yield a place outside the window. */
        if (c >= last->start && page < end && end - c >= req->size) {
            *out = c;
            return true;
        }
    }
    return false;
}

zx_status_t vmar_place_find(const struct avl_tree *t, const struct vmar_place_req *req,
                            uint64_t *rng, uint64_t *out) {
    if (req->size == 0 || req->hi <= req->lo || req->hi - req->lo < req->size)
        return ZX_ERR_NO_RESOURCES;
    uint64_t first, n;
    if (req->compact) {
        if (!first_fit_from(req, first_hole_of_size(t, req), &first))
            return ZX_ERR_NO_RESOURCES;
        *out = first;
        return ZX_OK;
    }
    uint64_t free_pages = free_below(t, req->lo, req->hi) / PAGE_SIZE;
    if (free_pages < req->size / PAGE_SIZE)
        return ZX_ERR_NO_RESOURCES;
    struct hole h;
    if (random_tries(t, req, free_pages, rng, out, &h))
        return ZX_OK;
    /* Fallback: the first fitting hole from the last try's, else from the start. */
    n = first_fit_from(req, h, &first);
    if (n == 0)
        n = first_fit_from(req, first_hole_of_size(t, req), &first);
    if (n == 0)
        return ZX_ERR_NO_RESOURCES;
    *out = first + prng_below(rng, n) * req->align;
    return ZX_OK;
}
