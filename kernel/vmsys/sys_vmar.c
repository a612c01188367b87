/*
 * zx_vmar_* syscalls (docs/syscalls.md): handle lookups, rights and user copies; the
 * checks and work are vmar_* (<vm/vmar.h>), which keep the order docs/syscalls.md
 * lists from the first check that needs no handle.
 */
#include <object/handle_user.h>
#include <kernel/assert.h>
#include <object/process.h>
#include "sys_vm.h"
#include "vmsys_priv.h"
#include "vmsys_rules.h"

/* sys_vmar_op_range hands the op code to the VM unchanged. */
STATIC_ASSERT(VMAR_OP_COMMIT == ZX_VMAR_OP_COMMIT && VMAR_OP_DECOMMIT == ZX_VMAR_OP_DECOMMIT);
STATIC_ASSERT(VMAR_OP_MAP_RANGE == ZX_VMAR_OP_MAP_RANGE && VMAR_OP_ZERO == ZX_VMAR_OP_ZERO);
STATIC_ASSERT(VMAR_OP_DONT_NEED == ZX_VMAR_OP_DONT_NEED);
STATIC_ASSERT(VMAR_OP_ALWAYS_NEED == ZX_VMAR_OP_ALWAYS_NEED);
STATIC_ASSERT(VMAR_OP_PREFETCH == ZX_VMAR_OP_PREFETCH);

static zx_status_t get_vmar(zx_handle_t handle, zx_rights_t required, kobject_t **obj,
                            zx_rights_t *rights) {
    return handle_table_get(process_current_handles(), handle, ZX_OBJ_TYPE_VMAR, required, obj,
                            rights);
}

/*
 * A failed out-pointer copy after zx_vmar_allocate succeeded destroys the new VMAR again
 * (docs/syscalls.md, "A bad out-pointer leaves no trace"), so a failing call leaves no
 * reserved range behind.
 */
zx_status_t sys_vmar_allocate(zx_handle_t parent_vmar, zx_vm_option_t options, size_t offset,
                              size_t size, user_addr_t child_vmar, user_addr_t child_addr) {
    kobject_t *parent;
    zx_rights_t rights;
    zx_status_t st = get_vmar(parent_vmar, ZX_RIGHT_NONE, &parent, &rights);
    if (st != ZX_OK)
        return st;
    st = vmsys_vmar_allocate_check_rights(options, rights);
    vmar_t *child = NULL;
    vaddr_t base = 0;
    if (st == ZX_OK)
        st = vmar_allocate(vmar_dispatcher_vmar(parent), offset, size, options, &child, &base);
    kobject_unref(parent);
    if (st != ZX_OK)
        return st;

    kobject_t *obj = NULL;
    zx_rights_t child_rights;
    st = vmar_dispatcher_create(child, options, &obj, &child_rights);
    if (st == ZX_OK && user_put_u64(child_addr, base) != ZX_OK)
        st = ZX_ERR_INVALID_ARGS;
    if (st == ZX_OK)
        st = handle_table_publish(process_current_handles(), obj, child_rights, child_vmar, NULL);
    if (st != ZX_OK)
        vmar_destroy(child);
    if (obj)
        kobject_unref(obj);
    vmar_unref(child);
    return st;
}

/*
 * A failed mapped_addr copy destroys the new mapping (as Zircon does), found by the
 * reference vmar_map_held returned, never by address: another thread of the process
 * may already have unmapped it and put something else at that address while the copy
 * faulted. What a SPECIFIC_OVERWRITE replaced stays gone.
 */
zx_status_t sys_vmar_map(zx_handle_t handle, zx_vm_option_t options, size_t vmar_offset,
                         zx_handle_t vmo, uint64_t vmo_offset, size_t len,
                         user_addr_t mapped_addr) {
    struct handle_get h[2] = {{handle, ZX_OBJ_TYPE_VMAR, ZX_RIGHT_NONE, NULL, 0},
                              {vmo, ZX_OBJ_TYPE_VMO, ZX_RIGHT_MAP, NULL, 0}};
    zx_status_t st = handle_table_get2(process_current_handles(), h);
    if (st != ZX_OK)
        return st;
    kobject_t *vmar_obj = h[0].obj, *vmo_obj = h[1].obj;
    zx_rights_t vmar_rights = h[0].rights, vmo_rights = h[1].rights;
    vmar_t *vmar = vmar_dispatcher_vmar(vmar_obj);
    vaddr_t addr = 0;
    vm_mapping_t *mapping = NULL;
    st = vmar_map_held(vmar, vmar_offset, vmo_dispatcher_vmo(vmo_obj), vmo_offset, len, options,
                       vmsys_map_max_perms(vmar_rights, vmo_rights), &addr, &mapping);
    if (st == ZX_OK) {
        if (user_put_u64(mapped_addr, addr) != ZX_OK) {
            vm_mapping_destroy_held(mapping);
            st = ZX_ERR_INVALID_ARGS;
        } else {
            vm_mapping_unref(mapping);
        }
    }
    kobject_unref(vmo_obj);
    kobject_unref(vmar_obj);
    return st;
}

zx_status_t sys_vmar_unmap(zx_handle_t handle, zx_vaddr_t addr, size_t len) {
    kobject_t *obj;
    zx_rights_t rights;
    zx_status_t st = get_vmar(handle, ZX_RIGHT_NONE, &obj, &rights);
    if (st != ZX_OK)
        return st;
    st = vmar_unmap(vmar_dispatcher_vmar(obj), addr, len, rights & ZX_RIGHT_OP_CHILDREN);
    kobject_unref(obj);
    return st;
}

zx_status_t sys_vmar_protect(zx_handle_t handle, zx_vm_option_t options, zx_vaddr_t addr,
                             size_t len) {
    kobject_t *obj;
    zx_rights_t rights;
    zx_status_t st = get_vmar(handle, vmsys_vmar_protect_rights(options), &obj, &rights);
    if (st != ZX_OK)
        return st;
    st = vmar_protect(vmar_dispatcher_vmar(obj), options, addr, len,
                      rights & ZX_RIGHT_OP_CHILDREN);
    kobject_unref(obj);
    return st;
}

/*
 * The op codes are the VM's (VMAR_OP_* == ZX_VMAR_OP_*); the VM does the range,
 * mapping-permission and child-VMAR checks (docs/syscalls.md, "zx_vmar_op_range").
 */
zx_status_t sys_vmar_op_range(zx_handle_t handle, uint32_t op, zx_vaddr_t address, size_t size,
                              user_addr_t buffer, size_t buffer_size) {
    kobject_t *obj;
    zx_rights_t rights;
    zx_status_t st = get_vmar(handle, ZX_RIGHT_NONE, &obj, &rights);
    if (st != ZX_OK)
        return st;
    st = vmsys_vmar_op_check(op, rights, buffer, buffer_size);
    if (st == ZX_OK)
        st = vmar_op_range(vmar_dispatcher_vmar(obj), op, address, size,
                           rights & ZX_RIGHT_OP_CHILDREN);
    kobject_unref(obj);
    return st;
}

zx_status_t sys_vmar_destroy(zx_handle_t handle) {
    kobject_t *obj;
    zx_status_t st = get_vmar(handle, ZX_RIGHT_OP_CHILDREN, &obj, NULL);
    if (st != ZX_OK)
        return st;
    st = vmar_destroy(vmar_dispatcher_vmar(obj));
    kobject_unref(obj);
    return st;
}
