/* VMAR dispatchers: the kernel object handles point at, a kobject around a vmar_t
 * reference and its CAN_MAP_* flags. */
#include <kernel/assert.h>
#include <phys/heap.h>
#include "vmsys_priv.h"
#include "vmsys_rules.h"

#define VMAR_CAN_MAP_MASK \
    (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE | ZX_VM_CAN_MAP_SPECIFIC)

typedef struct vmar_dispatcher {
    kobject_t base;
    vmar_t *vmar;         /* one reference; immutable */
    zx_vm_option_t can_map;  /* ZX_VM_CAN_MAP_* at creation; immutable */
} vmar_dispatcher_t;

static vmar_dispatcher_t *to_vmar_dispatcher(kobject_t *obj) {
    ASSERT(kobject_type(obj) == ZX_OBJ_TYPE_VMAR);
    return (vmar_dispatcher_t *)obj;
}

/* Dropping the VMAR reference never happens under the aspace lock here: kobject_unref
 * runs destructors with no locks held (kobject.h). */
static void vmar_dispatcher_destroy(kobject_t *obj) {
    vmar_dispatcher_t *v = to_vmar_dispatcher(obj);
    vmar_unref(v->vmar);
    kfree(v);
}

static zx_koid_t vmar_dispatcher_related_koid(kobject_t *obj) { return 0; }

static const struct kobject_ops vmar_dispatcher_ops = {
    .type = ZX_OBJ_TYPE_VMAR,
    .type_name = "vmar",
    .destroy = vmar_dispatcher_destroy,
    .related_koid = vmar_dispatcher_related_koid,
};

zx_status_t vmar_dispatcher_create(vmar_t *vmar, zx_vm_option_t can_map_flags, kobject_t **out,
                                   zx_rights_t *default_rights_out) {
    vmar_dispatcher_t *v = kzalloc(sizeof(*v));
    if (!v)
        return ZX_ERR_NO_MEMORY;
    kobject_init(&v->base, &vmar_dispatcher_ops);
    vmar_ref(vmar);
    v->vmar = vmar;
    v->can_map = can_map_flags & VMAR_CAN_MAP_MASK;
    if (default_rights_out)
        *default_rights_out = vmsys_vmar_rights(v->can_map);
    *out = &v->base;
    return ZX_OK;
}

vmar_t *vmar_dispatcher_vmar(kobject_t *obj) { return to_vmar_dispatcher(obj)->vmar; }

zx_vm_option_t vmar_dispatcher_can_map(kobject_t *obj) { return to_vmar_dispatcher(obj)->can_map; }

void vmar_dispatcher_info(kobject_t *vmar_obj, zx_info_vmar_t *out) {
    vmar_t *vmar = to_vmar_dispatcher(vmar_obj)->vmar;
    out->base = vmar_base(vmar);
    out->len = vmar_size(vmar);
}
