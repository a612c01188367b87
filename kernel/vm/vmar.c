/*
 * The VMAR tree: references and accessors, lookups and walks, placement, and allocate /
 * map / unmap / destroy. Protect and op_range are built on it (vmar_protect.c,
 * vmar_op_range.c); what happens to one mapping is the mapping's (vm_mapping.c).
 * Lock rules: vm_aspace_priv.h.
 */
#include <kernel/assert.h>
#include <phys/heap.h>
#include "vmar_priv.h"

/* ---- references and accessors ---- */

void vmar_ref(vmar_t *vmar) { __atomic_add_fetch(&vmar->refcount, 1, __ATOMIC_RELAXED); }

/* The last reference goes only after the VMAR left its parent's tree (or, for a root,
 * after vm_aspace_destroy); it must not be dropped with the aspace lock held unless
 * another reference keeps the aspace alive. */
void vmar_unref(vmar_t *vmar) {
    if (__atomic_sub_fetch(&vmar->refcount, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    ASSERT(vmar->dead && vmar->children.count == 0 && !vmar->spare_mapping);
    vm_aspace_t *as = vmar->r.aspace;
    kfree(vmar);
    vm_aspace_unref(as);
}

vaddr_t vmar_base(const vmar_t *vmar) { return vm_region_base(&vmar->r); }
size_t vmar_size(const vmar_t *vmar) { return vm_region_size(&vmar->r); }
zx_vm_option_t vmar_flags(const vmar_t *vmar) { return vmar->flags; }
vm_aspace_t *vmar_aspace(const vmar_t *vmar) { return vmar->r.aspace; }

bool vmar_is_dead(vmar_t *vmar) {
    rw_mutex_acquire(&vmar->r.aspace->lock);
    bool dead = vmar->dead;
    rw_mutex_release(&vmar->r.aspace->lock);
    return dead;
}

/* A new VMAR holding one reference (the caller's) and one on the aspace. */
static vmar_t *vmar_alloc(vm_aspace_t *as, vaddr_t base, size_t size, zx_vm_option_t flags) {
    vmar_t *v = kzalloc(sizeof(*v));
    if (!v)
        return NULL;
    v->r.ext.node.key = base;
    v->r.ext.size = size;
    v->r.type = VM_REGION_VMAR;
    v->r.aspace = as;
    v->refcount = 1;
    v->flags = flags;
    vm_extent_tree_init(&v->children);
    vm_aspace_ref(as);
    return v;
}

vmar_t *vmar_create_root(vm_aspace_t *as) {
    return vmar_alloc(as, as->base, as->size, VM_CAN_MAP_RWX | ZX_VM_CAN_MAP_SPECIFIC);
}

/* ---- lookups and walks ---- */

vm_mapping_t *vmar_find_mapping(vmar_t *vmar, vaddr_t addr, unsigned *depth) {
    for (unsigned d = 0;; d++) {
        struct vm_region *r = vm_region_of(vm_extent_find(&vmar->children, addr));
        if (!r)
            return NULL;
        if (r->type == VM_REGION_MAPPING) {
            if (depth)
                *depth = d;
            return vm_region_to_mapping(r);
        }
        vmar = vm_region_to_vmar(r);
    }
}

struct vm_region *vmar_walk_next(vmar_t *top, struct vm_region *r, unsigned *depth) {
    if (!r)
        return vm_region_of(vm_extent_of(avl_first(&top->children)));
    if (r->type == VM_REGION_VMAR) {
        struct vm_region *child =
            vm_region_of(vm_extent_of(avl_first(&vm_region_to_vmar(r)->children)));
        if (child) {
            (*depth)++;
            return child;
        }
    }
    while (r != &top->r) {
        struct vm_region *next = vm_region_next(r);
        if (next)
            return next;
        r = &r->parent->r;
        (*depth)--;
    }
    return NULL;
}

/* ---- placement (shared by allocate and map) ---- */

struct place_args {
    zx_vm_option_t options;
    size_t offset;
    size_t size;
    uint64_t align;          /* requested alignment, >= PAGE_SIZE */
    zx_vm_option_t can_map;  /* CAN_MAP_* the new region needs from the parent */
};

/*
 * Finds the place of a new child of parent: the checks of zx_vmar_allocate from "parent
 * destroyed" on, which zx_vmar_map shares, in the order docs/syscalls.md lists. With
 * SPECIFIC_OVERWRITE an occupied range is not an error (the caller replaces what is
 * there).
 */
static zx_status_t place_locked(vmar_t *parent, const struct place_args *a, vaddr_t *out)
    TA_REQ(parent->r.aspace->lock) {
    zx_vm_option_t o = a->options;
    bool specific = o & (ZX_VM_SPECIFIC | ZX_VM_SPECIFIC_OVERWRITE);
    bool upper = o & ZX_VM_OFFSET_IS_UPPER_LIMIT;
    size_t psize = vm_region_size(&parent->r);
    vaddr_t pbase = vm_region_base(&parent->r);
    if (parent->dead)
        return ZX_ERR_BAD_STATE;
    if (a->size == 0)
        return ZX_ERR_INVALID_ARGS;
    if (a->can_map & ~parent->flags & VM_CAN_MAP_RWX)
        return ZX_ERR_ACCESS_DENIED;
    if (specific && upper)
        return ZX_ERR_INVALID_ARGS;
    if ((a->offset != 0 && !specific && !upper) || !IS_ALIGNED(a->offset, PAGE_SIZE))
        return ZX_ERR_INVALID_ARGS;
    if ((specific || upper) && !(parent->flags & ZX_VM_CAN_MAP_SPECIFIC))
        return ZX_ERR_ACCESS_DENIED;
    if (upper) {
        if (a->offset > psize || a->size > psize || a->size > a->offset)
            return ZX_ERR_INVALID_ARGS;
    } else if (a->offset >= psize || a->size > psize - a->offset) {
        return ZX_ERR_INVALID_ARGS;
    }
    if (specific) {
        vaddr_t addr = pbase + a->offset;
        if (!IS_ALIGNED(addr, a->align))
            return ZX_ERR_INVALID_ARGS;
        if (!(o & ZX_VM_SPECIFIC_OVERWRITE) &&
            !vmar_place_is_free(&parent->children, addr, a->size))
            return ZX_ERR_ALREADY_EXISTS;
        *out = addr;
        return ZX_OK;
    }
    struct vmar_place_req req = {
        .lo = pbase,
        .hi = pbase + (upper ? a->offset : psize),
        .size = a->size,
        .align = a->align,
        .compact = parent->flags & ZX_VM_COMPACT,
    };
    uint64_t addr;
    zx_status_t st = vmar_place_find(&parent->children, &req, &parent->r.aspace->prng, &addr);
    if (st == ZX_OK)
        *out = (vaddr_t)addr;
    return st;
}

/* ---- allocate ---- */

zx_status_t vmar_allocate(vmar_t *parent, size_t offset, size_t size, zx_vm_option_t options,
                          vmar_t **child, vaddr_t *addr) {
    uint64_t align;
    if ((options & ~(VM_OPT_KNOWN | VM_OPT_ALIGN_MASK)) || vm_opt_align(options, &align) != ZX_OK)
        return ZX_ERR_INVALID_ARGS;
    if (options & VM_OPT_ALLOCATE_FORBIDDEN)
        return ZX_ERR_INVALID_ARGS;
    if (options & VM_PERM_RWX)
        return ZX_ERR_INVALID_ARGS;
    if (!IS_ALIGNED(size, PAGE_SIZE))
        return ZX_ERR_INVALID_ARGS;
    if (options & ~(VM_OPT_ALLOCATE_ALLOWED | VM_OPT_ALIGN_MASK))
        return ZX_ERR_INVALID_ARGS;

    vmar_t *v = vmar_alloc(parent->r.aspace, 0, size,
                           options & (VM_CAN_MAP_RWX | ZX_VM_CAN_MAP_SPECIFIC | ZX_VM_COMPACT));
    rw_mutex_acquire(&parent->r.aspace->lock);
    struct place_args pa = {options, offset, size, align, options & VM_CAN_MAP_RWX};
    vaddr_t base = 0;
    zx_status_t st = place_locked(parent, &pa, &base);
    if (st == ZX_OK && !v)
        st = ZX_ERR_NO_MEMORY;
    if (st != ZX_OK) {
        rw_mutex_release(&parent->r.aspace->lock);
        if (v) {
            v->dead = true;
            vmar_unref(v);
        }
        return st;
    }
    v->r.ext.node.key = base;
    v->r.parent = parent;
    vmar_ref(v); /* the parent's tree reference */
    st = avl_insert(&parent->children, &v->r.ext.node);
    ASSERT(st == ZX_OK);
    rw_mutex_release(&parent->r.aspace->lock);
    *child = v;
    *addr = base;
    return ZX_OK;
}

/* ---- unmap ---- */

/*
 * Checks unmapping [a, b) (inside vmar): a sub-VMAR only partly inside, or any sub-VMAR
 * while !op_children, is INVALID_ARGS (zx_vmar_unmap's rule). Counts the spare mappings
 * needed (a mapping strictly containing the range). *first gets the lowest region
 * overlapping [a, b) (NULL if none), where unmap_apply_locked starts.
 */
static zx_status_t unmap_check_locked(vmar_t *vmar, vaddr_t a, vaddr_t b, bool op_children,
                                      unsigned *spares, struct vm_region **first)
    TA_REQ(vmar->r.aspace->lock) {
    *spares = 0;
    *first = vm_region_of(vm_extent_first_overlap(&vmar->children, a, b - a));
    for (struct vm_region *r = *first; r && vm_region_base(r) < b; r = vm_region_next(r)) {
        if (r->type == VM_REGION_VMAR) {
            if (vm_region_base(r) < a || vm_region_end(r) > b || !op_children)
                return ZX_ERR_INVALID_ARGS;
        } else if (vm_mapping_unmap_needs_spare(vm_region_to_mapping(r), a, b)) {
            (*spares)++;
        }
    }
    return ZX_OK;
}

/* Unmaps [a, b) after unmap_check_locked passed, from the first region it found (the
 * tree is unchanged since); spare is used if one was needed. Each later region is looked
 * up again, as the one before it may be gone. */
static void unmap_apply_locked(vmar_t *vmar, vaddr_t a, vaddr_t b, struct vm_region *first,
                               vm_mapping_t *spare) TA_REQ(vmar->r.aspace->lock) {
    for (struct vm_region *r = first; r;) {
        vm_region_same_lock(r, &vmar->r);
        vaddr_t cursor = MAX(vm_region_base(r), a);
        vaddr_t next = MIN(vm_region_end(r), b);
        if (r->type == VM_REGION_VMAR) {
            vmar_t *sub = vm_region_to_vmar(r);
            vm_region_same_lock(&sub->r, &vmar->r);
            vmar_destroy_locked(sub);
        } else {
            vm_mapping_t *m = vm_region_to_mapping(r);
            vm_region_same_lock(&m->r, &vmar->r);
            vm_mapping_unmap_part(m, cursor, b, vm_mapping_unmap_needs_spare(m, a, b) ? spare
                                                                                   : NULL);
        }
        r = next < b ? vm_region_of(vm_extent_first_overlap(&vmar->children, next, b - next))
                     : NULL;
    }
}

/* Allocates the spare mapping unmap/overwrite needs (lock held; the heap nests inside). */
static zx_status_t alloc_spare(unsigned needed, vm_mapping_t **spare) {
    ASSERT(needed <= 1);
    *spare = NULL;
    if (needed && !(*spare = vm_mapping_alloc()))
        return ZX_ERR_NO_MEMORY;
    return ZX_OK;
}

zx_status_t vmar_unmap(vmar_t *vmar, vaddr_t addr, size_t len, bool op_children) {
    if (!IS_ALIGNED(addr, PAGE_SIZE))
        return ZX_ERR_INVALID_ARGS;
    len = ROUNDUP(len, PAGE_SIZE);
    if (len == 0)
        return ZX_ERR_INVALID_ARGS;
    rw_mutex_acquire(&vmar->r.aspace->lock);
    zx_status_t st;
    unsigned needed = 0;
    vm_mapping_t *spare = NULL;
    struct vm_region *first;
    if (vmar->dead)
        st = ZX_ERR_BAD_STATE;
    else if (!vm_region_contains_range(&vmar->r, addr, len))
        st = ZX_ERR_INVALID_ARGS;
    else if ((st = unmap_check_locked(vmar, addr, addr + len, op_children, &needed, &first)) ==
                 ZX_OK &&
             (st = alloc_spare(needed, &spare)) == ZX_OK)
        unmap_apply_locked(vmar, addr, addr + len, first, spare);
    vm_mapping_free_if_unused(spare);
    rw_mutex_release(&vmar->r.aspace->lock);
    return st;
}

/* ---- destroy ---- */

/*
 * Post-order, without recursion: go down to a VMAR with no sub-VMAR left, destroy its
 * mappings, let it die, continue with its parent (found before the VMAR may be freed),
 * until vmar itself has died.
 */
void vmar_destroy_locked(vmar_t *vmar) {
    vmar_t *v = vmar;
    for (;;) {
        struct vm_region *r = vm_region_of(vm_extent_of(avl_first(&v->children)));
        if (r && r->type == VM_REGION_VMAR) {
            v = vm_region_to_vmar(r);
            continue;
        }
        if (r) {
            vm_mapping_t *m = vm_region_to_mapping(r);
            vm_region_same_lock(&m->r, &vmar->r);
            vm_mapping_destroy(m);
            continue;
        }
        vmar_t *parent = v->r.parent;
        bool last = v == vmar;
        v->dead = true;
        if (v->spare_mapping) {
            vm_mapping_unref(v->spare_mapping); /* the only reference: frees it */
            v->spare_mapping = NULL;
        }
        if (parent) {
            avl_remove(&parent->children, &v->r.ext.node);
            v->r.parent = NULL;
            vmar_unref(v); /* the tree's reference; the aspace outlives this call */
        }
        if (last)
            return;
        v = parent;
    }
}

zx_status_t vmar_destroy(vmar_t *vmar) {
    if (vmar->r.aspace->root == vmar)
        return ZX_ERR_NOT_SUPPORTED;
    rw_mutex_acquire(&vmar->r.aspace->lock);
    zx_status_t st = ZX_OK;
    if (vmar->dead)
        st = ZX_ERR_BAD_STATE;
    else
        vmar_destroy_locked(vmar);
    rw_mutex_release(&vmar->r.aspace->lock);
    return st;
}

/* ---- map ---- */

/* The checks of zx_vmar_map that need no lock (docs/syscalls.md gives their order).
 * *perms gets the PERM_* bits. */
static zx_status_t map_check_args(vmo_t *vmo, uint64_t vmo_offset, size_t *len,
                                  zx_vm_option_t *options, zx_vm_option_t max_perms,
                                  uint64_t *align) {
    zx_vm_option_t o = vm_opt_resolve_xom(*options);
    *options = o;
    if ((o & (ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE)) && !(o & ZX_VM_PERM_READ))
        return ZX_ERR_INVALID_ARGS;
    if ((o & ZX_VM_MAP_RANGE) && (o & ZX_VM_SPECIFIC_OVERWRITE))
        return ZX_ERR_INVALID_ARGS;
    if (o & (VM_CAN_MAP_RWX | ZX_VM_CAN_MAP_SPECIFIC))
        return ZX_ERR_INVALID_ARGS;
    if (o & VM_PERM_RWX & ~max_perms)
        return ZX_ERR_ACCESS_DENIED;
    if ((o & ZX_VM_FAULT_BEYOND_STREAM_SIZE) && !(o & ZX_VM_ALLOW_FAULTS))
        return ZX_ERR_INVALID_ARGS;
    if ((o & ~(VM_OPT_KNOWN | VM_OPT_ALIGN_MASK)) || vm_opt_align(o, align) != ZX_OK)
        return ZX_ERR_INVALID_ARGS;
    if ((o & ZX_VM_REQUIRE_NON_RESIZABLE) && vmo_is_resizable(vmo))
        return ZX_ERR_NOT_SUPPORTED;
    if (o & ZX_VM_COMPACT)
        return ZX_ERR_INVALID_ARGS;
    if (!IS_ALIGNED(vmo_offset, PAGE_SIZE))
        return ZX_ERR_INVALID_ARGS;
    if (*len > SIZE_MAX - PAGE_SIZE + 1)
        return ZX_ERR_OUT_OF_RANGE; /* rounding up wraps */
    size_t rounded = ROUNDUP(*len, PAGE_SIZE);
    if (rounded > UINT64_MAX - vmo_offset)
        return ZX_ERR_OUT_OF_RANGE;
    if (vmo_type(vmo) == VMO_TYPE_PHYSICAL && vmo_offset + rounded > vmo_size(vmo))
        return ZX_ERR_OUT_OF_RANGE;
    *len = rounded;
    return ZX_OK;
}

zx_status_t vmar_map(vmar_t *vmar, size_t vmar_offset, vmo_t *vmo, uint64_t vmo_offset,
                     size_t len, zx_vm_option_t options, zx_vm_option_t max_perms,
                     vaddr_t *addr) {
    return vmar_map_held(vmar, vmar_offset, vmo, vmo_offset, len, options, max_perms, addr,
                         NULL);
}

zx_status_t vmar_map_held(vmar_t *vmar, size_t vmar_offset, vmo_t *vmo, uint64_t vmo_offset,
                          size_t len, zx_vm_option_t options, zx_vm_option_t max_perms,
                          vaddr_t *addr, vm_mapping_t **held) {
    uint64_t align;
    zx_status_t st = map_check_args(vmo, vmo_offset, &len, &options, max_perms, &align);
    if (st != ZX_OK)
        return st;
    zx_vm_option_t perms = options & VM_PERM_RWX;
    vm_mapping_t *spare = NULL;
    rw_mutex_acquire(&vmar->r.aspace->lock);
    struct place_args pa = {options, vmar_offset, len, align, perms << VM_CAN_MAP_SHIFT};
    vaddr_t base = 0;
    st = place_locked(vmar, &pa, &base);
    /* Once placed: the struct a recent unmap left in this VMAR, else a new one (the heap
     * nests inside the aspace lock). A call that fails placement touches neither, so it
     * holds the lock only for the checks. */
    vm_mapping_t *m = NULL;
    if (st == ZX_OK) {
        m = vmar->spare_mapping;
        if (m) {
            vmar->spare_mapping = NULL;
            vm_mapping_reuse(m);
        } else if ((m = vm_mapping_alloc()) == NULL) {
            st = ZX_ERR_NO_MEMORY;
        }
    }
    unsigned needed = 0;
    if (st == ZX_OK && (options & ZX_VM_SPECIFIC_OVERWRITE)) {
        /* A sub-VMAR in the range is INVALID_ARGS, as for an unmap without OP_CHILDREN. */
        struct vm_region *first;
        st = unmap_check_locked(vmar, base, base + len, false, &needed, &first);
        if (st == ZX_OK)
            st = alloc_spare(needed, &spare);
        if (st == ZX_OK)
            unmap_apply_locked(vmar, base, base + len, first, spare);
    }
    if (st == ZX_OK) {
        zx_vm_option_t max = max_perms & VM_PERM_RWX & (vmar->flags >> VM_CAN_MAP_SHIFT);
        vm_mapping_install(m, vmar, base, len, vmo, vmo_offset, perms, max);
        vm_region_same_lock(&m->r, &vmar->r);
        if (options & ZX_VM_MAP_RANGE) {
            st = vm_mapping_populate(m, base, base + len);
            if (st != ZX_OK)
                vm_mapping_destroy(m);
        }
        if (st == ZX_OK && held) {
            vm_mapping_hold_locked(m);
            *held = m;
        }
    } else {
        vm_mapping_free_if_unused(m);
    }
    vm_mapping_free_if_unused(spare);
    rw_mutex_release(&vmar->r.aspace->lock);
    if (st == ZX_OK)
        *addr = base;
    return st;
}

/* ---- debug ---- */

size_t vmar_debug_count_mappings(vmar_t *vmar) {
    rw_mutex_acquire(&vmar->r.aspace->lock);
    size_t n = 0;
    unsigned depth = 0;
    for (struct vm_region *r = vmar_walk_next(vmar, NULL, &depth); r;
         r = vmar_walk_next(vmar, r, &depth))
        n += r->type == VM_REGION_MAPPING;
    rw_mutex_release(&vmar->r.aspace->lock);
    return n;
}

size_t vmar_debug_prot_runs(vmar_t *vmar, vaddr_t addr) {
    rw_mutex_acquire(&vmar->r.aspace->lock);
    vm_mapping_t *m = vmar_find_mapping(vmar, addr, NULL);
    size_t n = m ? m->nruns : 0;
    rw_mutex_release(&vmar->r.aspace->lock);
    return n;
}

bool vmar_debug_tree_ok(vmar_t *vmar) {
    rw_mutex_acquire(&vmar->r.aspace->lock);
    bool ok = vm_extent_tree_check(&vmar->children);
    unsigned depth = 0;
    for (struct vm_region *r = vmar_walk_next(vmar, NULL, &depth); r && ok;
         r = vmar_walk_next(vmar, r, &depth))
        if (r->type == VM_REGION_VMAR)
            ok = vm_extent_tree_check(&vm_region_to_vmar(r)->children);
    rw_mutex_release(&vmar->r.aspace->lock);
    return ok;
}
