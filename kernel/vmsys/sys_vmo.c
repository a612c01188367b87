/*
 * zx_vmo_* syscalls (docs/syscalls.md): handle lookups and rights here, the memory work
 * in kernel/vm. Every check that can fail runs before anything changes; the one
 * exception is a bad `out` pointer, detected only after the object exists: the new
 * handle is then removed again (handle_table_publish), so nothing outlives the call.
 */
#include <object/handle_user.h>
#include <kernel/assert.h>
#include <object/process.h>
#include "sys_vm.h"
#include "vmsys_priv.h"
#include "vmsys_rules.h"

/* Looks up a VMO handle of the calling process (BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED). */
static zx_status_t get_vmo(zx_handle_t handle, zx_rights_t required, kobject_t **obj,
                           zx_rights_t *rights) {
    return handle_table_get(process_current_handles(), handle, ZX_OBJ_TYPE_VMO, required, obj,
                            rights);
}

zx_status_t sys_vmo_create(uint64_t size, uint32_t options, user_addr_t out) {
    zx_status_t st = vmsys_vmo_create_check(options);
    if (st != ZX_OK)
        return st;
    /* An unbounded VMO spans the largest size; `size` is only its content size. */
    uint64_t vm_size = size;
    if (options & ZX_VMO_UNBOUNDED) {
        if (size > VMO_SIZE_MAX)
            return ZX_ERR_OUT_OF_RANGE;
        vm_size = VMO_SIZE_MAX;
    }
    vmo_t *vmo;
    uint32_t vm_options = (options & ZX_VMO_RESIZABLE) ? VMO_OPT_RESIZABLE : 0;
    if (options & ZX_VMO_DISCARDABLE)
        vm_options |= VMO_OPT_DISCARDABLE;
    st = vmo_create_paged(vm_size, vm_options, &vmo);
    if (st != ZX_OK)
        return st;
    /* The dispatcher starts with the VMO's size as its content size: only a size that
     * differs (rounded up to pages, or an unbounded VMO's) is set again. */
    uint64_t created_size = vmo_size(vmo);
    kobject_t *obj;
    st = vmo_dispatcher_create(vmo, &obj);
    vmo_unref(vmo);
    if (st != ZX_OK)
        return st;
    if (size != created_size)
        vmo_dispatcher_set_content_size(obj, size);
    st = handle_table_publish(process_current_handles(), obj, vmsys_vmo_create_rights(options),
                              out, NULL);
    kobject_unref(obj);
    return st;
}

/* vmo_read / vmo_write copy callbacks: the user buffer starts at *(user_addr_t *)ctx. A
 * fault on it is ZX_ERR_NOT_FOUND, what Zircon's tests expect (docs/syscalls.md,
 * "Bad buffer in zx_vmo_read / zx_vmo_write"). */
static zx_status_t copy_to_user_buf(void *ctx, size_t done, void *kptr, size_t n) {
    user_addr_t base = *(const user_addr_t *)ctx;
    return user_copy_to(base + done, kptr, n) == ZX_OK ? ZX_OK : ZX_ERR_NOT_FOUND;
}

static zx_status_t copy_from_user_buf(void *ctx, size_t done, void *kptr, size_t n) {
    user_addr_t base = *(const user_addr_t *)ctx;
    return user_copy_from(kptr, base + done, n) == ZX_OK ? ZX_OK : ZX_ERR_NOT_FOUND;
}

/* The whole user buffer must be a user range; checked after the VMO range check (an
 * out-of-range request with a bad buffer is OUT_OF_RANGE), so the copy callbacks see no
 * wrapping addresses. */
static zx_status_t vmo_rw(zx_handle_t handle, user_addr_t buffer, uint64_t offset, size_t len,
                          bool write) {
    kobject_t *obj;
    zx_status_t st = get_vmo(handle, write ? ZX_RIGHT_WRITE : ZX_RIGHT_READ, &obj, NULL);
    if (st != ZX_OK)
        return st;
    vmo_t *vmo = vmo_dispatcher_vmo(obj);
    if (!vmsys_range_ok(vmo_size(vmo), offset, len))
        st = ZX_ERR_OUT_OF_RANGE;
    else if (len != 0 && !user_range_ok(buffer, len))
        st = ZX_ERR_NOT_FOUND;
    else if (write)
        st = vmo_write(vmo, offset, len, copy_from_user_buf, &buffer);
    else
        st = vmo_read(vmo, offset, len, copy_to_user_buf, &buffer);
    kobject_unref(obj);
    return st;
}

zx_status_t sys_vmo_read(zx_handle_t handle, user_addr_t buffer, uint64_t offset,
                         size_t buffer_size) {
    return vmo_rw(handle, buffer, offset, buffer_size, false);
}

zx_status_t sys_vmo_write(zx_handle_t handle, user_addr_t buffer, uint64_t offset,
                          size_t buffer_size) {
    return vmo_rw(handle, buffer, offset, buffer_size, true);
}

zx_status_t sys_vmo_get_size(zx_handle_t handle, user_addr_t size) {
    kobject_t *obj;
    zx_status_t st = get_vmo(handle, ZX_RIGHT_NONE, &obj, NULL);
    if (st != ZX_OK)
        return st;
    uint64_t sz = vmo_size(vmo_dispatcher_vmo(obj));
    kobject_unref(obj);
    return user_put_u64(size, sz) == ZX_OK ? ZX_OK : ZX_ERR_INVALID_ARGS;
}

zx_status_t sys_vmo_set_size(zx_handle_t handle, uint64_t size) {
    kobject_t *obj;
    zx_rights_t rights;
    zx_status_t st = get_vmo(handle, ZX_RIGHT_WRITE, &obj, &rights);
    if (st != ZX_OK)
        return st;
    vmo_t *vmo = vmo_dispatcher_vmo(obj);
    if (vmo_is_resizable(vmo) && !(rights & ZX_RIGHT_RESIZE))
        st = ZX_ERR_ACCESS_DENIED;
    else
        st = vmo_set_size(vmo, size); /* UNAVAILABLE, OUT_OF_RANGE, NO_MEMORY */
    if (st == ZX_OK)
        vmo_dispatcher_set_content_size(obj, size);
    kobject_unref(obj);
    return st;
}

/*
 * ZX_VMO_OP_LOCK: the buffer must hold a zx_vmo_lock_state_t (INVALID_ARGS before
 * anything changes otherwise); if writing it faults, the lock is undone (INVALID_ARGS).
 */
static zx_status_t vmo_op_lock(vmo_t *vmo, uint64_t offset, uint64_t size, user_addr_t buffer,
                               size_t buffer_size) {
    if (!vmo_is_discardable(vmo))
        return ZX_ERR_NOT_SUPPORTED;
    if (buffer_size < sizeof(zx_vmo_lock_state_t))
        return ZX_ERR_INVALID_ARGS;
    struct vmo_lock_state ls;
    zx_status_t st = vmo_discardable_lock(vmo, offset, size, false, &ls);
    if (st != ZX_OK)
        return st;
    zx_vmo_lock_state_t out = {ls.offset, ls.size, ls.discarded_offset, ls.discarded_size};
    if (user_copy_to(buffer, &out, sizeof(out)) != ZX_OK) {
        vmo_discardable_unlock(vmo, offset, size);
        return ZX_ERR_INVALID_ARGS;
    }
    return ZX_OK;
}

/* The VMO part of zx_vmo_op_range once rights passed. */
static zx_status_t vmo_op(vmo_t *vmo, uint32_t op, uint64_t offset, uint64_t size,
                          user_addr_t buffer, size_t buffer_size) {
    bool in_range = vmsys_range_ok(vmo_size(vmo), offset, size);
    switch (op) {
    case ZX_VMO_OP_COMMIT:
        return vmo_commit(vmo, offset, size);
    case ZX_VMO_OP_DECOMMIT:
        if (!in_range)
            return ZX_ERR_OUT_OF_RANGE;
        if (offset & (PAGE_SIZE - 1))
            return ZX_ERR_INVALID_ARGS;
        return vmo_decommit(vmo, offset, size);
    case ZX_VMO_OP_ZERO:
        return vmo_zero(vmo, offset, size);
    case ZX_VMO_OP_LOCK:
        return vmo_op_lock(vmo, offset, size, buffer, buffer_size);
    case ZX_VMO_OP_TRY_LOCK:
        return vmo_discardable_lock(vmo, offset, size, true, NULL);
    case ZX_VMO_OP_UNLOCK:
        return vmo_discardable_unlock(vmo, offset, size);
    case ZX_VMO_OP_CACHE_INVALIDATE:
        return ZX_ERR_NOT_SUPPORTED; /* needs kernel.enable-debugging-syscalls */
    case ZX_VMO_OP_CACHE_SYNC:
    case ZX_VMO_OP_CACHE_CLEAN:
    case ZX_VMO_OP_CACHE_CLEAN_INVALIDATE:
        if (size == 0)
            return ZX_ERR_INVALID_ARGS;
        if (!in_range)
            return ZX_ERR_OUT_OF_RANGE;
        if (vmo_type(vmo) == VMO_TYPE_PHYSICAL)
            return ZX_ERR_NOT_SUPPORTED;
        return ZX_OK; /* x86 caches are coherent with instruction fetch and DMA */
    case ZX_VMO_OP_DONT_NEED:
    case ZX_VMO_OP_ALWAYS_NEED:
    case ZX_VMO_OP_PREFETCH:
        return in_range ? ZX_OK : ZX_ERR_OUT_OF_RANGE; /* hints; paged memory is lazy */
    default:
        return ZX_ERR_INVALID_ARGS;
    }
}

zx_status_t sys_vmo_op_range(zx_handle_t handle, uint32_t op, uint64_t offset, uint64_t size,
                             user_addr_t buffer, size_t buffer_size) {
    kobject_t *obj;
    zx_rights_t rights;
    zx_status_t st = get_vmo(handle, ZX_RIGHT_NONE, &obj, &rights);
    if (st != ZX_OK)
        return st;
    st = vmsys_vmo_op_check(op, rights);
    if (st == ZX_OK)
        st = vmo_op(vmo_dispatcher_vmo(obj), op, offset, size, buffer, buffer_size);
    kobject_unref(obj);
    return st;
}

/* ZX_VMO_CHILD_* to the VM's child options (SNAPSHOT_MODIFIED acts as SNAPSHOT: Beryl
 * has no pager-backed VMOs, where the two differ). */
static uint32_t vm_child_options(uint32_t options) {
    uint32_t o = options & (VMO_CHILD_SNAPSHOT | VMO_CHILD_RESIZABLE | VMO_CHILD_SLICE |
                            VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE | VMO_CHILD_NO_WRITE);
    if (options & ZX_VMO_CHILD_SNAPSHOT_MODIFIED)
        o |= VMO_CHILD_SNAPSHOT;
    return o;
}

zx_status_t sys_vmo_create_child(zx_handle_t handle, uint32_t options, uint64_t offset,
                                 uint64_t size, user_addr_t out) {
    zx_status_t st = vmsys_vmo_child_precheck(options);
    if (st != ZX_OK)
        return st;
    kobject_t *parent;
    zx_rights_t rights;
    st = get_vmo(handle, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ, &parent, &rights);
    if (st != ZX_OK)
        return st;
    st = vmsys_vmo_child_check(options, rights);
    vmo_t *child_vmo = NULL;
    if (st == ZX_OK)
        st = vmo_create_child(vmo_dispatcher_vmo(parent), vm_child_options(options), offset, size,
                              &child_vmo);
    kobject_t *child = NULL;
    if (st == ZX_OK) {
        st = vmo_dispatcher_create_child(parent, child_vmo, options, size, &child);
        vmo_unref(child_vmo);
    }
    if (st == ZX_OK) {
        st = handle_table_publish(process_current_handles(), child,
                                  vmsys_vmo_child_rights(rights, options), out, NULL);
        kobject_unref(child);
    }
    kobject_unref(parent);
    return st;
}

/*
 * vmex: Beryl has no VMEX resource kind, so ZX_HANDLE_INVALID is accepted (Zircon's
 * ambient ZX_POL_AMBIENT_MARK_VMO_EXEC allowed) and any valid resource handle too; a
 * bad vmex is reported after the input handle is consumed, as in Zircon.
 */
zx_status_t sys_vmo_replace_as_executable(zx_handle_t handle, zx_handle_t vmex,
                                          user_addr_t out) {
    handle_table_t *ht = process_current_handles();
    zx_status_t vmex_st = ZX_OK;
    if (vmex != ZX_HANDLE_INVALID) {
        kobject_t *res;
        vmex_st = handle_table_get(ht, vmex, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_NONE, &res, NULL);
        if (vmex_st == ZX_OK)
            kobject_unref(res);
    }
    handle_ref_t h;
    zx_status_t st = handle_table_remove(ht, handle, &h);
    if (st != ZX_OK)
        return st;
    if (vmex_st != ZX_OK)
        st = vmex_st;
    else if (kobject_type(h.obj) != ZX_OBJ_TYPE_VMO)
        st = ZX_ERR_WRONG_TYPE;
    else
        st = handle_table_publish(ht, h.obj, h.rights | ZX_RIGHT_EXECUTE, out, NULL);
    handle_ref_release(&h);
    return st;
}

zx_status_t sys_vmo_set_cache_policy(zx_handle_t handle, uint32_t cache_policy) {
    kobject_t *obj;
    zx_status_t st = get_vmo(handle, ZX_RIGHT_MAP, &obj, NULL);
    if (st != ZX_OK)
        return st;
    if (cache_policy & ~ZX_CACHE_POLICY_MASK)
        st = ZX_ERR_INVALID_ARGS;
    else
        st = vmo_set_cache_policy(vmo_dispatcher_vmo(obj), cache_policy);
    kobject_unref(obj);
    return st;
}
