/*
 * VMAR dispatchers (ZX_OBJ_TYPE_VMAR): the handle-visible kernel object around a vmar_t
 * (kernel/vm) and the CAN_MAP_* flags its handles' rights derive from. Implemented in
 * kernel/vmsys/vmar_dispatcher.c.
 *
 * Every function taking a kobject_t * requires an object of type ZX_OBJ_TYPE_VMAR
 * (asserted) and a reference the caller keeps for the duration of the call.
 */
#ifndef OBJECT_VMAR_DISPATCHER_H
#define OBJECT_VMAR_DISPATCHER_H

#include <object/kobject.h>
#include <vm/vmar.h>
#include <zircon/syscalls/object.h>
#include <zircon/types.h>

/*
 * Wraps vmar in a new VMAR dispatcher (one reference in *out; no handles), taking a new
 * reference on vmar (vmar_ref). can_map_flags: the ZX_VM_CAN_MAP_* the VMAR was
 * created with (other bits are ignored); *default_rights_out (may be NULL) receives the
 * rights a new handle gets: ZX_DEFAULT_VMAR_RIGHTS plus READ / WRITE / EXECUTE per
 * CAN_MAP_READ / WRITE / EXECUTE (a process's root VMAR: 0x20801F). ZX_ERR_NO_MEMORY.
 */
zx_status_t vmar_dispatcher_create(vmar_t *vmar, zx_vm_option_t can_map_flags, kobject_t **out,
                                   zx_rights_t *default_rights_out);

/* The wrapped VMAR, valid while the caller holds its reference on obj (no new one). */
vmar_t *vmar_dispatcher_vmar(kobject_t *obj);

/* The CAN_MAP_* flags given at creation. */
zx_vm_option_t vmar_dispatcher_can_map(kobject_t *obj);

/* ZX_INFO_VMAR: base and length (they never change, even after destroy). */
void vmar_dispatcher_info(kobject_t *vmar_obj, zx_info_vmar_t *out);

#endif
