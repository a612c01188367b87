/*
 * The array topics of zx_object_get_info that describe a process's memory:
 * ZX_INFO_PROCESS_MAPS (its VMAR tree) and ZX_INFO_PROCESS_VMOS (the VMOs it reaches
 * through handles, then through mappings). Each takes what fits in the caller's buffer
 * with the VM or handle-table locks held and copies it out with no lock held. `actual`
 * is the number of records written and `avail` the number there were (docs/syscalls.md,
 * zx_object_get_info).
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
        /* The VMO pages under the record (no lock held here: the snapshot's reference
         * keeps the VMO). Nothing is compressed: populated equals committed. */
        struct vmo_attribution a;
        vmo_get_attribution(e->vmo, e->vmo_offset, e->size, &a);
        m->committed_bytes = m->populated_bytes = a.bytes;
        m->committed_private_bytes = m->populated_private_bytes = a.private_bytes;
        m->committed_scaled_bytes = m->populated_scaled_bytes = a.scaled_bytes;
        m->committed_fractional_scaled_bytes = m->populated_fractional_scaled_bytes =
            a.scaled_fraction;
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

/*
 * PROCESS_VMOS: the VMOs reached through handles (with each handle's rights), in slot
 * order, then those reached through mappings.
 *
 * The handle part goes one table chunk at a time: under one hold of the table lock the
 * chunk's VMO handles are counted and, while records still fit, referenced into a batch;
 * with no lock held, their records are made and copied out and the references dropped.
 * So the table lock is never held across a user copy or a VMO lock, and no buffer grows
 * with the table. The mapping part snapshots (aspace lock held) as many VMOs as still fit,
 * then copies them out.
 */
struct vmo_batch {
    struct vmo_batch_entry {
        kobject_t *obj; /* a reference */
        zx_rights_t rights;
    } e[HANDLE_TABLE_CHUNK_SLOTS];
    size_t room;  /* records that still fit in the caller's buffer */
    size_t taken; /* entries of e[] filled */
    size_t seen;  /* VMO handles seen, including those past room */
};

static void batch_handle(void *ctx, zx_handle_t value, kobject_t *obj, zx_rights_t rights) {
    (void)value;
    struct vmo_batch *b = ctx;
    if (kobject_type(obj) != ZX_OBJ_TYPE_VMO)
        return;
    b->seen++;
    if (b->taken < b->room && b->taken < HANDLE_TABLE_CHUNK_SLOTS) {
        kobject_ref(obj);
        b->e[b->taken++] = (struct vmo_batch_entry){.obj = obj, .rights = rights};
    }
}

/* Writes the records of the batch's entries from index `first` on, dropping every
 * entry's reference; returns INVALID_ARGS if the buffer faulted. */
static zx_status_t batch_copy_out(struct vmo_batch *b, user_addr_t buffer, size_t first) {
    zx_status_t st = ZX_OK;
    for (size_t i = 0; i < b->taken; i++) {
        zx_info_vmo_t rec;
        if (st == ZX_OK) {
            vmo_dispatcher_info(b->e[i].obj, b->e[i].rights, &rec);
            if (user_copy_to(buffer + (first + i) * sizeof(rec), &rec, sizeof(rec)) != ZX_OK)
                st = ZX_ERR_INVALID_ARGS;
        }
        kobject_unref(b->e[i].obj);
    }
    b->room -= b->taken;
    b->taken = 0;
    return st;
}

/* The handle part: *written records copied to buffer, *seen VMO handles. BAD_STATE if p
 * began to finish before the walk ended (the table it walked may have been emptied). */
static zx_status_t vmos_from_handles(process_t *p, user_addr_t buffer, size_t cap,
                                     size_t *written, size_t *seen) {
    *written = *seen = 0;
    handle_table_t *ht = process_handles_ref(p);
    if (!ht)
        return ZX_ERR_BAD_STATE;
    struct vmo_batch *b = kmalloc(sizeof(*b));
    zx_status_t st = b ? ZX_OK : ZX_ERR_NO_MEMORY;
    if (b) {
        b->room = cap;
        b->taken = b->seen = 0;
    }
    for (uint32_t c = 0; st == ZX_OK && handle_table_visit_chunk(ht, c, batch_handle, b); c++) {
        size_t first = cap - b->room;
        st = batch_copy_out(b, buffer, first);
        *written = cap - b->room;
    }
    if (b) {
        DEBUG_ASSERT(b->taken == 0); /* every visited chunk's batch was copied out */
        *seen = b->seen;
    }
    kfree(b);
    handle_table_unref(ht);
    if (st == ZX_OK) {
        ht = process_handles_ref(p); /* finishing marks p before the table is emptied */
        if (!ht)
            return ZX_ERR_BAD_STATE;
        handle_table_unref(ht);
    }
    return st;
}

/* The mapping part's snapshot: up to cap VMOs, each with a reference. */
struct map_snap {
    vmo_t **vmo;
    size_t cap;
    size_t n; /* seen, including those past cap */
};

static void snap_mapping(void *ctx, vmo_t *vmo) {
    struct map_snap *s = ctx;
    if (s->n < s->cap) {
        vmo_ref(vmo);
        s->vmo[s->n] = vmo;
    }
    s->n++;
}

/* The mapping part: records from index `first` of buffer on, at most cap of them. */
static zx_status_t vmos_from_mappings(vm_aspace_t *as, user_addr_t buffer, size_t first,
                                      size_t cap, size_t *written, size_t *seen) {
    struct map_snap s = {NULL, 0, 0};
    zx_status_t st = vm_aspace_for_each_mapped_vmo(as, snap_mapping, &s); /* counts only */
    s.cap = MIN(cap, s.n);
    if (st == ZX_OK && s.cap > 0) {
        s.vmo = kmalloc(s.cap * sizeof(*s.vmo));
        s.n = 0;
        st = s.vmo ? vm_aspace_for_each_mapped_vmo(as, snap_mapping, &s) : ZX_ERR_NO_MEMORY;
    }
    /* Every entry the snapshot filled holds a reference, also when it failed half-way:
     * all of them are dropped. */
    size_t filled = s.vmo ? MIN(s.cap, s.n) : 0;
    for (size_t i = 0; i < filled; i++) {
        zx_info_vmo_t rec;
        if (st == ZX_OK) {
            vmo_dispatcher_mapping_info(s.vmo[i], &rec);
            if (user_copy_to(buffer + (first + i) * sizeof(rec), &rec, sizeof(rec)) != ZX_OK)
                st = ZX_ERR_INVALID_ARGS;
        }
        vmo_unref(s.vmo[i]);
    }
    kfree(s.vmo);
    *written = st == ZX_OK ? filled : 0;
    *seen = s.n;
    return st;
}

zx_status_t info_process_vmos(process_t *p, user_addr_t buffer, size_t buffer_size,
                              size_t *actual, size_t *avail) {
    vm_aspace_t *as = process_aspace_get(p);
    if (!as)
        return ZX_ERR_BAD_STATE;
    size_t cap = buffer_size / sizeof(zx_info_vmo_t);
    size_t h_written, h_seen, m_written = 0, m_seen = 0;
    zx_status_t st = vmos_from_handles(p, buffer, cap, &h_written, &h_seen);
    if (st == ZX_OK)
        st = vmos_from_mappings(as, buffer, h_written, cap - h_written, &m_written, &m_seen);
    vm_aspace_unref(as);
    *actual = h_written + m_written;
    *avail = h_seen + m_seen;
    return st;
}
