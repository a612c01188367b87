/*
 * Placement of regions inside a VMAR (see <vm/vmar_place.h>). Pure logic: it reads only
 * the AVL tree of child extents, so the host tests run it without an MMU.
 */
#include <kernel/compiler.h>
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

/*
 * Walks the holes of [req->lo, req->hi) in address order and calls visit(ctx, first,
 * count) for each with candidates; stops when visit returns true. Returns that result.
 */
typedef bool (*hole_visit_fn)(void *ctx, uint64_t first, uint64_t count);
static bool for_each_hole(const struct avl_tree *t, const struct vmar_place_req *req,
                          hole_visit_fn visit, void *ctx) {
    uint64_t cursor = req->lo; /* start of the current hole */
    struct vm_extent *e = vm_extent_find(t, req->lo);
    if (e) {
        cursor = vm_extent_end(e);
        e = vm_extent_of(avl_next(&e->node));
    } else {
        e = vm_extent_of(avl_ceil(t, req->lo));
    }
    for (; e && vm_extent_base(e) < req->hi; e = vm_extent_of(avl_next(&e->node))) {
        uint64_t first, n = hole_candidates(req, cursor, vm_extent_base(e), &first);
        if (n && visit(ctx, first, n))
            return true;
        cursor = vm_extent_end(e);
        if (cursor >= req->hi)
            return false;
    }
    uint64_t first, n = hole_candidates(req, cursor, req->hi, &first);
    return n && visit(ctx, first, n);
}

struct pick_ctx {
    uint64_t target; /* index of the wanted candidate among those not yet visited */
    uint64_t total;  /* counting pass: candidates seen */
    uint64_t align;
    uint64_t result;
};

static bool visit_first(void *ctx, uint64_t first, uint64_t count) {
    struct pick_ctx *p = ctx;
    p->result = first;
    return true;
}

static bool visit_count(void *ctx, uint64_t first, uint64_t count) {
    struct pick_ctx *p = ctx;
    p->total += count;
    return false;
}

static bool visit_pick(void *ctx, uint64_t first, uint64_t count) {
    struct pick_ctx *p = ctx;
    if (p->target < count) {
        p->result = first + p->target * p->align;
        return true;
    }
    p->target -= count;
    return false;
}

zx_status_t vmar_place_find(const struct avl_tree *t, const struct vmar_place_req *req,
                            uint64_t *rng, uint64_t *out) {
    if (req->size == 0 || req->hi <= req->lo || req->hi - req->lo < req->size)
        return ZX_ERR_NO_RESOURCES;
    struct pick_ctx p = {.align = req->align};
    if (req->compact) {
        if (!for_each_hole(t, req, visit_first, &p))
            return ZX_ERR_NO_RESOURCES;
        *out = p.result;
        return ZX_OK;
    }
    for_each_hole(t, req, visit_count, &p);
    if (p.total == 0)
        return ZX_ERR_NO_RESOURCES;
    p.target = prng_below(rng, p.total);
    bool found = for_each_hole(t, req, visit_pick, &p);
    if (!found)
        return ZX_ERR_NO_RESOURCES; /* unreachable: the tree did not change */
    *out = p.result;
    return ZX_OK;
}
