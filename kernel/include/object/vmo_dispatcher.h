/*
 * VMO dispatchers (ZX_OBJ_TYPE_VMO): the handle-visible kernel object around a vmo_t
 * (kernel/vm), with the state only handles see (content size, child bookkeeping).
 * Implemented in kernel/vmsys/vmo_dispatcher.c.
 *
 * Every function taking a kobject_t * requires an object of type ZX_OBJ_TYPE_VMO
 * (asserted) and a reference the caller keeps for the duration of the call.
 */
#ifndef OBJECT_VMO_DISPATCHER_H
#define OBJECT_VMO_DISPATCHER_H

#include <stddef.h>
#include <stdint.h>
#include <object/kobject.h>
#include <vm/vmo.h>
#include <zircon/syscalls/object.h>
#include <zircon/types.h>

/*
 * Wraps vmo in a new VMO dispatcher (one reference, returned in *out; no handles), taking a
 * new reference on vmo (the caller keeps its own). Empty name, content size = the VMO's
 * size, ZX_VMO_ZERO_CHILDREN asserted. ZX_ERR_NO_MEMORY (nothing changed).
 */
zx_status_t vmo_dispatcher_create(vmo_t *vmo, kobject_t **out);

/* The wrapped VMO, valid while the caller holds its reference on obj (no new one). */
vmo_t *vmo_dispatcher_vmo(kobject_t *obj);

/* ZX_PROP_NAME: out receives the name, NUL-padded to ZX_MAX_NAME_LEN. Always ZX_OK. */
zx_status_t vmo_dispatcher_get_name(kobject_t *obj, char out[ZX_MAX_NAME_LEN]);
/* Sets the name from name[0..len) (the caller copied it from user space), truncated to
 * ZX_MAX_NAME_LEN - 1 bytes and at the first NUL. Always ZX_OK. */
zx_status_t vmo_dispatcher_set_name(kobject_t *obj, const char *name, size_t len);

/* ZX_PROP_VMO_CONTENT_SIZE (the exact size given at creation or by zx_vmo_set_size). */
uint64_t vmo_dispatcher_get_content_size(kobject_t *obj);
/* Sets it; ZX_ERR_OUT_OF_RANGE if size exceeds the VMO's (page-rounded) size. */
zx_status_t vmo_dispatcher_set_content_size(kobject_t *obj, uint64_t size);

/*
 * ZX_INFO_VMO for a handle with handle_rights (flags include ZX_INFO_VMO_VIA_HANDLE).
 * share_count is an estimate: 1 when mapped anywhere, else 0.
 */
void vmo_dispatcher_info(kobject_t *vmo_obj, zx_rights_t handle_rights, zx_info_vmo_t *out);

/*
 * ZX_INFO_PROCESS_VMOS record of a VMO reached through a mapping (flags include
 * ZX_INFO_VMO_VIA_MAPPING, handle_rights 0). Only what the VMO itself knows: parent_koid
 * and num_children are the wrapper's and reported as 0, and IS_COW_CLONE is not set.
 */
void vmo_dispatcher_mapping_info(vmo_t *vmo, zx_info_vmo_t *out);

#endif
