/*
 * Read-only walks of an aspace's VMAR tree for zx_object_get_info (PROCESS_MAPS,
 * PROCESS_VMOS). Both run with the aspace lock held and copy what they need into
 * caller-owned memory, so the syscall layer copies to user space without any VM lock.
 */
#include <kernel/assert.h>
#include "vmar_priv.h"

struct maps_walk {
    vm_map_entry_t *out;
    size_t cap;
    size_t n; /* entries seen so far (also the next index) */
};

static vm_map_entry_t *maps_next(struct maps_walk *w) {
    vm_map_entry_t *e = w->n < w->cap ? &w->out[w->n] : NULL;
    w->n++;
    return e;
}

/* One entry per protection run of m. */
static void maps_add_mapping(struct maps_walk *w, vm_mapping_t *m, uint32_t depth) {
    for (uint32_t i = 0; i < m->nruns; i++) {
        uint64_t start = m->runs[i].offset;
        uint64_t end = i + 1 < m->nruns ? m->runs[i + 1].offset : vm_region_size(&m->r);
        vm_map_entry_t *e = maps_next(w);
        if (!e)
            continue;
        e->type = VM_MAP_ENTRY_MAPPING;
        e->depth = depth;
        e->base = vm_region_base(&m->r) + start;
        e->size = end - start;
        e->vmo = m->vmo;
        vmo_ref(m->vmo);
        e->vmo_offset = m->vmo_offset + start;
        e->perms = m->runs[i].perms;
        e->committed_pages = vmo_committed_pages_in(m->vmo, e->vmo_offset, e->size);
    }
}

static void maps_add_vmar_entry(struct maps_walk *w, vmar_t *v, uint32_t depth) {
    vm_map_entry_t *e = maps_next(w);
    if (e) {
        *e = (vm_map_entry_t){.type = VM_MAP_ENTRY_VMAR, .depth = depth,
                              .base = vm_region_base(&v->r), .size = vm_region_size(&v->r)};
    }
}

/* root at `depth`, then its whole tree in pre-order (vmar_walk_next: no recursion). */
static void maps_add_tree(struct maps_walk *w, vmar_t *root, uint32_t depth) {
    maps_add_vmar_entry(w, root, depth);
    unsigned d = depth + 1;
    for (struct vm_region *r = vmar_walk_next(root, NULL, &d); r;
         r = vmar_walk_next(root, r, &d)) {
        if (r->type == VM_REGION_MAPPING)
            maps_add_mapping(w, vm_region_to_mapping(r), d);
        else
            maps_add_vmar_entry(w, vm_region_to_vmar(r), d);
    }
}

/* One aspace (not unified) into w: its record at depth 0, then its tree. */
static zx_status_t maps_add_aspace(struct maps_walk *w, vm_aspace_t *as) {
    mutex_acquire(&as->lock);
    if (as->destroyed) {
        mutex_release(&as->lock);
        return ZX_ERR_BAD_STATE;
    }
    vm_map_entry_t *e = maps_next(w);
    if (e)
        *e = (vm_map_entry_t){.type = VM_MAP_ENTRY_ASPACE, .base = as->base, .size = as->size};
    maps_add_tree(w, as->root, 1);
    mutex_release(&as->lock);
    return ZX_OK;
}

zx_status_t vm_aspace_list_maps(vm_aspace_t *as, vm_map_entry_t *out, size_t cap,
                                size_t *total) {
    struct maps_walk w = {out, cap, 0};
    zx_status_t st;
    if (as->shared) {
        st = maps_add_aspace(&w, vm_aspace_unified_part(as, false));
        if (st == ZX_OK)
            st = maps_add_aspace(&w, vm_aspace_unified_part(as, true));
    } else {
        st = maps_add_aspace(&w, as);
    }
    if (st != ZX_OK) { /* nothing is handed out: drop the references taken so far */
        for (size_t i = 0; i < MIN(cap, w.n); i++)
            if (out[i].vmo)
                vmo_unref(out[i].vmo);
        w.n = 0;
    }
    *total = w.n;
    return st;
}

/* fn for every mapping of one aspace (not unified), in address order. */
static zx_status_t each_mapped_vmo(vm_aspace_t *as, void (*fn)(void *ctx, vmo_t *vmo),
                                   void *ctx) {
    mutex_acquire(&as->lock);
    zx_status_t st = as->destroyed ? ZX_ERR_BAD_STATE : ZX_OK;
    unsigned depth = 0;
    for (struct vm_region *r = st == ZX_OK ? vmar_walk_next(as->root, NULL, &depth) : NULL; r;
         r = vmar_walk_next(as->root, r, &depth)) {
        if (r->type == VM_REGION_MAPPING)
            fn(ctx, vm_region_to_mapping(r)->vmo);
    }
    mutex_release(&as->lock);
    return st;
}

zx_status_t vm_aspace_for_each_mapped_vmo(vm_aspace_t *as, void (*fn)(void *ctx, vmo_t *vmo),
                                          void *ctx) {
    if (!as->shared)
        return each_mapped_vmo(as, fn, ctx);
    zx_status_t st = each_mapped_vmo(vm_aspace_unified_part(as, false), fn, ctx);
    return st == ZX_OK ? each_mapped_vmo(vm_aspace_unified_part(as, true), fn, ctx) : st;
}
