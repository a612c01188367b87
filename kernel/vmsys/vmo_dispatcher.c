/*
 * VMO dispatchers: the kernel object handles point at, a kobject around a vmo_t
 * reference, with the per-handle-visible state the VM does not keep (content size, child
 * bookkeeping for ZX_VMO_ZERO_CHILDREN and ZX_INFO_VMO). The koid and name are the VMO's
 * (vmo_set_koid / vmo_set_name), so that mappings can report them.
 *
 * Locking: base.lock guards content_size and num_children. It is taken without any
 * VM lock held and no VM lock is taken under it (kobject.h's rule).
 */
#include <kernel/assert.h>
#include <lib/string.h>
#include <phys/heap.h>
#include "vmsys_priv.h"

STATIC_ASSERT(VMO_NAME_LEN == ZX_MAX_NAME_LEN);

typedef struct vmo_dispatcher {
    kobject_t base;
    vmo_t *vmo;          /* one reference; immutable */
    kobject_t *parent;         /* a child's parent VMO object (one reference), or NULL */
    zx_koid_t parent_koid;     /* immutable */
    uint32_t child_options;    /* ZX_VMO_CHILD_* it was created with; 0 if not a child */
    size_t num_children;       /* guarded by base.lock */
    uint64_t content_size;     /* guarded by base.lock */
} vmo_dispatcher_t;

static vmo_dispatcher_t *to_vmo_dispatcher(kobject_t *obj) {
    ASSERT(kobject_type(obj) == ZX_OBJ_TYPE_VMO);
    return (vmo_dispatcher_t *)obj;
}

/* A child gone: the parent may have reached zero children (ZX_VMO_ZERO_CHILDREN). */
static void vmo_dispatcher_child_gone(kobject_t *parent) {
    vmo_dispatcher_t *p = to_vmo_dispatcher(parent);
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&parent->lock, &s);
    ASSERT(p->num_children > 0);
    if (--p->num_children == 0)
        kobject_signal_locked(parent, 0, ZX_VMO_ZERO_CHILDREN);
    spin_unlock_irqrestore(&parent->lock, s);
}

static void vmo_dispatcher_destroy(kobject_t *obj) {
    vmo_dispatcher_t *v = to_vmo_dispatcher(obj);
    if (v->parent) {
        vmo_dispatcher_child_gone(v->parent);
        kobject_unref(v->parent);
    }
    vmo_unref(v->vmo);
    kfree(v);
}

static zx_koid_t vmo_dispatcher_related_koid(kobject_t *obj) { return 0; }

static const struct kobject_ops vmo_dispatcher_ops = {
    .type = ZX_OBJ_TYPE_VMO,
    .type_name = "vmo",
    .destroy = vmo_dispatcher_destroy,
    .related_koid = vmo_dispatcher_related_koid,
};

static vmo_dispatcher_t *vmo_dispatcher_alloc(vmo_t *vmo, uint64_t content_size) {
    vmo_dispatcher_t *v = kzalloc(sizeof(*v));
    if (!v)
        return NULL;
    kobject_init(&v->base, &vmo_dispatcher_ops);
    vmo_ref(vmo);
    v->vmo = vmo;
    v->content_size = content_size;
    vmo_set_koid(vmo, v->base.koid);
    /* No handle names the object yet, so nothing can wait on it or read its signals:
     * the initial state is stored without the lock and without a wake-up. */
    v->base.signals = ZX_VMO_ZERO_CHILDREN;
    return v;
}

zx_status_t vmo_dispatcher_create(vmo_t *vmo, kobject_t **out) {
    vmo_dispatcher_t *v = vmo_dispatcher_alloc(vmo, vmo_size(vmo));
    if (!v)
        return ZX_ERR_NO_MEMORY;
    *out = &v->base;
    return ZX_OK;
}

zx_status_t vmo_dispatcher_create_child(kobject_t *parent_obj, vmo_t *child_vmo,
                                        uint32_t child_options, uint64_t content_size,
                                        kobject_t **out) {
    vmo_dispatcher_t *p = to_vmo_dispatcher(parent_obj);
    vmo_dispatcher_t *v = vmo_dispatcher_alloc(child_vmo, content_size);
    if (!v)
        return ZX_ERR_NO_MEMORY;
    kobject_ref(parent_obj);
    v->parent = parent_obj;
    v->parent_koid = parent_obj->koid;
    v->child_options = child_options;
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&parent_obj->lock, &s);
    if (p->num_children++ == 0)
        kobject_signal_locked(parent_obj, ZX_VMO_ZERO_CHILDREN, 0);
    spin_unlock_irqrestore(&parent_obj->lock, s);
    *out = &v->base;
    return ZX_OK;
}

vmo_t *vmo_dispatcher_vmo(kobject_t *obj) { return to_vmo_dispatcher(obj)->vmo; }

size_t vmo_dispatcher_num_children(kobject_t *obj) {
    vmo_dispatcher_t *v = to_vmo_dispatcher(obj);
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&obj->lock, &s);
    size_t n = v->num_children;
    spin_unlock_irqrestore(&obj->lock, s);
    return n;
}

zx_status_t vmo_dispatcher_get_name(kobject_t *obj, char out[ZX_MAX_NAME_LEN]) {
    vmo_get_name(to_vmo_dispatcher(obj)->vmo, out);
    return ZX_OK;
}

zx_status_t vmo_dispatcher_set_name(kobject_t *obj, const char *name, size_t len) {
    vmo_set_name(to_vmo_dispatcher(obj)->vmo, name, len);
    return ZX_OK;
}

uint64_t vmo_dispatcher_get_content_size(kobject_t *obj) {
    vmo_dispatcher_t *v = to_vmo_dispatcher(obj);
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&obj->lock, &s);
    uint64_t size = v->content_size;
    spin_unlock_irqrestore(&obj->lock, s);
    return size;
}

zx_status_t vmo_dispatcher_set_content_size(kobject_t *obj, uint64_t size) {
    vmo_dispatcher_t *v = to_vmo_dispatcher(obj);
    if (size > vmo_size(v->vmo))
        return ZX_ERR_OUT_OF_RANGE;
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&obj->lock, &s);
    v->content_size = size;
    spin_unlock_irqrestore(&obj->lock, s);
    return ZX_OK;
}

/* The part of ZX_INFO_VMO the VMO alone knows (no dispatcher, no handle). */
static void vmo_info_common(vmo_t *vmo, zx_info_vmo_t *out) {
    memset(out, 0, sizeof(*out));
    out->koid = vmo_koid(vmo);
    vmo_get_name(vmo, out->name);
    out->size_bytes = vmo_size(vmo);
    out->num_mappings = vmo_mapping_count(vmo);
    out->share_count = out->num_mappings ? 1 : 0;
    uint32_t flags = 0;
    switch (vmo_type(vmo)) {
    case VMO_TYPE_PAGED:
        flags |= ZX_INFO_VMO_TYPE_PAGED;
        break;
    case VMO_TYPE_CONTIGUOUS:
        flags |= ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_CONTIGUOUS;
        break;
    case VMO_TYPE_PHYSICAL:
        flags |= ZX_INFO_VMO_TYPE_PHYSICAL;
        break;
    }
    if (vmo_is_resizable(vmo))
        flags |= ZX_INFO_VMO_RESIZABLE;
    if (vmo_is_discardable(vmo))
        flags |= ZX_INFO_VMO_DISCARDABLE;
    out->flags = flags;
    /* Nothing is compressed or paged out: populated equals committed. */
    struct vmo_attribution a;
    vmo_get_attribution(vmo, 0, vmo_size(vmo), &a);
    out->committed_bytes = out->populated_bytes = a.bytes;
    out->committed_private_bytes = out->populated_private_bytes = a.private_bytes;
    out->committed_scaled_bytes = out->populated_scaled_bytes = a.scaled_bytes;
    out->committed_fractional_scaled_bytes = out->populated_fractional_scaled_bytes =
        a.scaled_fraction;
    out->cache_policy = vmo_cache_policy(vmo);
}

void vmo_dispatcher_info(kobject_t *vmo_obj, zx_rights_t handle_rights, zx_info_vmo_t *out) {
    vmo_dispatcher_t *v = to_vmo_dispatcher(vmo_obj);
    vmo_info_common(v->vmo, out);
    out->koid = vmo_obj->koid; /* the same unless another object wrapped the VMO first */
    out->parent_koid = v->parent_koid;
    out->num_children = vmo_dispatcher_num_children(vmo_obj);
    out->flags |= ZX_INFO_VMO_VIA_HANDLE;
    if (v->child_options & (ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE |
                            ZX_VMO_CHILD_SNAPSHOT_MODIFIED))
        out->flags |= ZX_INFO_VMO_IS_COW_CLONE;
    out->handle_rights = handle_rights;
}

void vmo_dispatcher_mapping_info(vmo_t *vmo, zx_info_vmo_t *out) {
    vmo_info_common(vmo, out);
    out->flags |= ZX_INFO_VMO_VIA_MAPPING;
}
