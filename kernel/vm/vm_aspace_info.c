/*
 * Read-only walks of an aspace's VMAR tree for zx_object_get_info (PROCESS_MAPS,
 * PROCESS_VMOS), and the page-table dumps of a live aspace for the kernel debug console
 * and the user fault report. The walks for get_info run with the aspace lock held and
 * copy what they need into caller-owned memory, so the syscall layer copies to user
 * space without any VM lock.
 * Each mapping describes itself (vm_mapping_info); this file only walks the tree.
 */
#include <kernel/assert.h>
#include "vmar_priv.h"

struct maps_walk {
    vm_map_entry_t *out;
    size_t cap;
    size_t n; /* entries seen so far (also the next index) */
};

/* The next slot of the caller's array, or NULL once it is full (the entry is counted). */
static vm_map_entry_t *maps_next(struct maps_walk *w) {
    vm_map_entry_t *e = w->n < w->cap ? &w->out[w->n] : NULL;
    w->n++;
    return e;
}

static void maps_add_mapping(struct maps_walk *w, const vm_mapping_t *m, uint32_t depth)
    TA_REQ(m->r.aspace->lock) {
    size_t room = w->n < w->cap ? w->cap - w->n : 0;
    w->n += vm_mapping_info(m, depth, room ? &w->out[w->n] : NULL, room);
}

static void maps_add_vmar_entry(struct maps_walk *w, const vmar_t *v, uint32_t depth) {
    vm_map_entry_t *e = maps_next(w);
    if (e) {
        *e = (vm_map_entry_t){.type = VM_MAP_ENTRY_VMAR, .depth = depth,
                              .base = vm_region_base(&v->r), .size = vm_region_size(&v->r)};
    }
}

/* root at `depth`, then its whole tree in pre-order (vmar_walk_next: no recursion). */
static void maps_add_tree(struct maps_walk *w, vmar_t *root, uint32_t depth)
    TA_REQ(root->r.aspace->lock) {
    maps_add_vmar_entry(w, root, depth);
    unsigned d = depth + 1;
    for (struct vm_region *r = vmar_walk_next(root, NULL, &d); r;
         r = vmar_walk_next(root, r, &d)) {
        if (r->type == VM_REGION_MAPPING) {
            const vm_mapping_t *m = vm_region_to_mapping(r);
            vm_region_same_lock(&m->r, &root->r);
            maps_add_mapping(w, m, d);
        } else {
            maps_add_vmar_entry(w, vm_region_to_vmar(r), d);
        }
    }
}

/* One aspace (not unified) into w: its record at depth 0, then its tree. */
static zx_status_t maps_add_aspace(struct maps_walk *w, vm_aspace_t *as) {
    rw_mutex_acquire(&as->lock);
    if (as->destroyed) {
        rw_mutex_release(&as->lock);
        return ZX_ERR_BAD_STATE;
    }
    vm_map_entry_t *e = maps_next(w);
    if (e)
        *e = (vm_map_entry_t){.type = VM_MAP_ENTRY_ASPACE, .base = as->base, .size = as->size};
    vm_aspace_same_lock(&as->root->r, as);
    maps_add_tree(w, as->root, 1);
    rw_mutex_release(&as->lock);
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
    rw_mutex_acquire(&as->lock);
    zx_status_t st = ZX_ERR_BAD_STATE;
    if (!as->destroyed) {
        st = ZX_OK;
        vm_aspace_same_lock(&as->root->r, as);
        unsigned depth = 0;
        for (struct vm_region *r = vmar_walk_next(as->root, NULL, &depth); r;
             r = vmar_walk_next(as->root, r, &depth)) {
            if (r->type == VM_REGION_MAPPING)
                fn(ctx, vm_region_to_mapping(r)->vmo);
        }
    }
    rw_mutex_release(&as->lock);
    return st;
}

zx_status_t vm_aspace_for_each_mapped_vmo(vm_aspace_t *as, void (*fn)(void *ctx, vmo_t *vmo),
                                          void *ctx) {
    if (!as->shared)
        return each_mapped_vmo(as, fn, ctx);
    zx_status_t st = each_mapped_vmo(vm_aspace_unified_part(as, false), fn, ctx);
    return st == ZX_OK ? each_mapped_vmo(vm_aspace_unified_part(as, true), fn, ctx) : st;
}

/* The page-table dumps hold the aspace lock: vm_aspace_destroy marks the aspace
 * destroyed under it before the arch aspace goes, so the tables stay while they print. */
zx_status_t vm_aspace_dump_mmu(vm_aspace_t *as) {
    vm_aspace_check(as);
    rw_mutex_acquire(&as->lock);
    zx_status_t st = as->destroyed ? ZX_ERR_BAD_STATE : ZX_OK;
    if (st == ZX_OK)
        arch_mmu_dump(as->arch, 0, 0);
    rw_mutex_release(&as->lock);
    return st;
}

/* The walk reads the tables below the root without the engine's lock, so it holds the
 * aspace lock of whoever may free them: as itself, and for a unified aspace also the part
 * owning va (whose unmaps free the tables there). A unified aspace's lock is taken before
 * its part's; nothing takes them the other way round. */
zx_status_t vm_aspace_dump_walk(vm_aspace_t *as, vaddr_t va) {
    vm_aspace_check(as);
    vm_aspace_t *part = vm_aspace_for_addr(as, va);
    zx_status_t st;
    rw_mutex_acquire(&as->lock);
    if (part == as) {
        st = as->destroyed ? ZX_ERR_BAD_STATE : ZX_OK;
        if (st == ZX_OK)
            arch_mmu_dump_walk(as->arch, va);
    } else {
        rw_mutex_acquire(&part->lock);
        st = as->destroyed || part->destroyed ? ZX_ERR_BAD_STATE : ZX_OK;
        if (st == ZX_OK)
            arch_mmu_dump_walk(as->arch, va);
        rw_mutex_release(&part->lock);
    }
    rw_mutex_release(&as->lock);
    return st;
}
