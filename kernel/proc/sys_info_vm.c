/*
 * The array topics of zx_object_get_info that describe a process's memory:
 * ZX_INFO_PROCESS_MAPS (its VMAR tree) and ZX_INFO_PROCESS_VMOS (the VMOs it reaches
 * through handles, then through mappings). Both take a snapshot into a kernel buffer
 * sized for what fits in the caller's buffer, with the VM or handle-table locks held, and
 * copy it out with no lock held. `actual` is the number of records written and `avail`
 * the number there were (docs/syscalls.md, zx_object_get_info).
 */
#include <kernel/user_copy.h>
#include <lib/string.h>
#include <object/vmo_dispatcher.h>
#include <phys/heap.h>
#include <vm/vmar.h>
#include <zircon/syscalls/object.h>
#include "proc_priv.h"
#include "sys_info_priv.h"

static void maps_record(const vm_map_entry_t *e, const char *aspace_name, zx_info_maps_t *r) {
    memset(r, 0, sizeof(*r));
    r->base = e->base;
    r->size = e->size;
    r->depth = e->depth;
    r->type = e->type;
    switch (e->type) {
    case VM_MAP_ENTRY_ASPACE:
        kstrlcpy(r->name, aspace_name, sizeof(r->name));
        break;
    case VM_MAP_ENTRY_VMAR:
        kstrlcpy(r->name, e->depth == 1 ? "root" : "vmar", sizeof(r->name));
        break;
    case VM_MAP_ENTRY_MAPPING: {
        vmo_get_name(e->vmo, r->name);
        zx_info_maps_mapping_t *m = &r->u.mapping;
        m->mmu_flags = e->perms;
        m->vmo_koid = vmo_koid(e->vmo);
        m->vmo_offset = e->vmo_offset;
        size_t bytes = e->committed_pages * PAGE_SIZE;
        m->committed_bytes = m->populated_bytes = bytes;
        m->committed_private_bytes = m->populated_private_bytes = bytes;
        m->committed_scaled_bytes = m->populated_scaled_bytes = bytes;
        break;
    }
    }
}

zx_status_t info_process_maps(process_t *p, user_addr_t buffer, size_t buffer_size,
                              size_t *actual, size_t *avail) {
    vm_aspace_t *as = process_aspace_get(p);
    if (!as)
        return ZX_ERR_BAD_STATE;
    size_t total = 0;
    zx_status_t st = vm_aspace_list_maps(as, NULL, 0, &total);
    size_t cap = MIN(buffer_size / sizeof(zx_info_maps_t), total);
    vm_map_entry_t *snap = NULL;
    if (st == ZX_OK && cap > 0) {
        snap = kmalloc(cap * sizeof(*snap));
        st = snap ? vm_aspace_list_maps(as, snap, cap, &total) : ZX_ERR_NO_MEMORY;
    }
    size_t n = st == ZX_OK ? MIN(cap, total) : 0;
    for (size_t i = 0; i < n; i++) {
        zx_info_maps_t rec;
        maps_record(&snap[i], vm_aspace_name(as), &rec);
        if (st == ZX_OK && user_copy_to(buffer + i * sizeof(rec), &rec, sizeof(rec)) != ZX_OK)
            st = ZX_ERR_INVALID_ARGS;
        if (snap[i].vmo)
            vmo_unref(snap[i].vmo);
    }
    kfree(snap);
    vm_aspace_unref(as);
    *actual = n;
    *avail = total;
    return st;
}

/* PROCESS_VMOS snapshot: VMOs from handles (with the handle's rights), then mapped ones. */
struct vmo_snap {
    struct vmo_snap_entry {
        kobject_t *obj;       /* via a handle: a reference; NULL for a mapping */
        vmo_t *vmo;     /* via a mapping: a reference */
        zx_rights_t rights;
    } *e;
    size_t cap;
    size_t n; /* seen, including those past cap */
};

static void snap_handle(void *ctx, zx_handle_t value, kobject_t *obj, zx_rights_t rights) {
    (void)value;
    struct vmo_snap *s = ctx;
    if (kobject_type(obj) != ZX_OBJ_TYPE_VMO)
        return;
    if (s->n < s->cap) {
        kobject_ref(obj);
        s->e[s->n] = (struct vmo_snap_entry){.obj = obj, .rights = rights};
    }
    s->n++;
}

static void snap_mapping(void *ctx, vmo_t *vmo) {
    struct vmo_snap *s = ctx;
    if (s->n < s->cap) {
        vmo_ref(vmo);
        s->e[s->n] = (struct vmo_snap_entry){.vmo = vmo};
    }
    s->n++;
}

static zx_status_t vmo_snapshot(process_t *p, vm_aspace_t *as, struct vmo_snap *s) {
    s->n = 0;
    zx_status_t st = process_for_each_handle(p, snap_handle, s);
    return st == ZX_OK ? vm_aspace_for_each_mapped_vmo(as, snap_mapping, s) : st;
}

zx_status_t info_process_vmos(process_t *p, user_addr_t buffer, size_t buffer_size,
                              size_t *actual, size_t *avail) {
    vm_aspace_t *as = process_aspace_get(p);
    if (!as)
        return ZX_ERR_BAD_STATE;
    struct vmo_snap s = {NULL, 0, 0};
    zx_status_t st = vmo_snapshot(p, as, &s); /* counts only */
    s.cap = MIN(buffer_size / sizeof(zx_info_vmo_t), s.n);
    if (st == ZX_OK && s.cap > 0) {
        s.e = kmalloc(s.cap * sizeof(*s.e));
        st = s.e ? vmo_snapshot(p, as, &s) : ZX_ERR_NO_MEMORY;
    }
    /* Every entry the snapshot filled holds a reference, also when it failed half-way
     * (the target died between its handles and its mappings): all of them are dropped,
     * and only a complete snapshot is copied out. */
    size_t filled = s.e ? MIN(s.cap, s.n) : 0;
    size_t n = st == ZX_OK ? filled : 0;
    for (size_t i = 0; i < filled; i++) {
        zx_info_vmo_t rec;
        if (s.e[i].obj) {
            if (i < n)
                vmo_dispatcher_info(s.e[i].obj, s.e[i].rights, &rec);
            kobject_unref(s.e[i].obj);
        } else {
            if (i < n)
                vmo_dispatcher_mapping_info(s.e[i].vmo, &rec);
            vmo_unref(s.e[i].vmo);
        }
        if (i < n && st == ZX_OK &&
            user_copy_to(buffer + i * sizeof(rec), &rec, sizeof(rec)) != ZX_OK)
            st = ZX_ERR_INVALID_ARGS;
    }
    kfree(s.e);
    vm_aspace_unref(as);
    *actual = n;
    *avail = s.n;
    return st;
}
