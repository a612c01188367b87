/*
 * VMO and VMAR kernel objects (ZX_OBJ_TYPE_VMO / ZX_OBJ_TYPE_VMAR): the handle-visible
 * wrappers around vm_object_t and vm_vmar_t (kernel/vm). Implemented in kernel/vmsys.
 *
 * Every function taking a kobject_t * requires an object of the matching type (asserted)
 * and a reference the caller keeps for the duration of the call.
 */
#ifndef OBJECT_VM_OBJECTS_H
#define OBJECT_VM_OBJECTS_H

#include <stddef.h>
#include <stdint.h>
#include <object/kobject.h>
#include <vm/vm_object.h>
#include <vm/vm_vmar.h>
#include <zircon/syscalls/object.h>
#include <zircon/types.h>

/* ---- VMO objects ---- */

/*
 * Wraps vmo in a new VMO object (one reference, returned in *out; no handles), taking a
 * new reference on vmo (the caller keeps its own). Empty name, content size = the VMO's
 * size, ZX_VMO_ZERO_CHILDREN asserted. ZX_ERR_NO_MEMORY (nothing changed).
 */
zx_status_t vmo_object_create(vm_object_t *vmo, kobject_t **out);

/* The wrapped VMO, valid while the caller holds its reference on obj (no new one). */
vm_object_t *vmo_object_vmo(kobject_t *obj);

/* ZX_PROP_NAME: out receives the name, NUL-padded to ZX_MAX_NAME_LEN. Always ZX_OK. */
zx_status_t vmo_object_get_name(kobject_t *obj, char out[ZX_MAX_NAME_LEN]);
/* Sets the name from name[0..len) (the caller copied it from user space), truncated to
 * ZX_MAX_NAME_LEN - 1 bytes and at the first NUL. Always ZX_OK. */
zx_status_t vmo_object_set_name(kobject_t *obj, const char *name, size_t len);

/* ZX_PROP_VMO_CONTENT_SIZE (the exact size given at creation or by zx_vmo_set_size). */
uint64_t vmo_object_get_content_size(kobject_t *obj);
/* Sets it; ZX_ERR_OUT_OF_RANGE if size exceeds the VMO's (page-rounded) size. */
zx_status_t vmo_object_set_content_size(kobject_t *obj, uint64_t size);

/*
 * ZX_INFO_VMO for a handle with handle_rights (flags include ZX_INFO_VMO_VIA_HANDLE).
 * share_count is an estimate: 1 when mapped anywhere, else 0.
 */
void vmo_object_info(kobject_t *vmo_obj, zx_rights_t handle_rights, zx_info_vmo_t *out);

/*
 * ZX_INFO_PROCESS_VMOS record of a VMO reached through a mapping (flags include
 * ZX_INFO_VMO_VIA_MAPPING, handle_rights 0). Only what the VM object knows: parent_koid
 * and num_children are the wrapper's and reported as 0, and IS_COW_CLONE is not set.
 */
void vmo_mapping_info(vm_object_t *vmo, zx_info_vmo_t *out);

/* ---- VMAR objects ---- */

/*
 * Wraps vmar in a new VMAR object (one reference in *out; no handles), taking a new
 * reference on vmar (vm_vmar_ref). can_map_flags: the ZX_VM_CAN_MAP_* the VMAR was
 * created with (other bits are ignored); *default_rights_out (may be NULL) receives the
 * rights a new handle gets: ZX_DEFAULT_VMAR_RIGHTS plus READ / WRITE / EXECUTE per
 * CAN_MAP_READ / WRITE / EXECUTE (a process's root VMAR: 0x20801F). ZX_ERR_NO_MEMORY.
 */
zx_status_t vmar_object_create(vm_vmar_t *vmar, zx_vm_option_t can_map_flags, kobject_t **out,
                               zx_rights_t *default_rights_out);

/* The wrapped VMAR, valid while the caller holds its reference on obj (no new one). */
vm_vmar_t *vmar_object_vmar(kobject_t *obj);

/* The CAN_MAP_* flags given at creation. */
zx_vm_option_t vmar_object_can_map(kobject_t *obj);

/* ZX_INFO_VMAR: base and length (they never change, even after destroy). */
void vmar_object_info(kobject_t *vmar_obj, zx_info_vmar_t *out);

#endif
