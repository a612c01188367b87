/* Pure VMO/VMAR syscall rules; see vmsys_rules.h. */
#include "vmsys_rules.h"

zx_status_t vmsys_vmo_create_check(uint32_t options) {
    if (options & ~VMSYS_VMO_CREATE_KNOWN)
        return ZX_ERR_INVALID_ARGS;
    if ((options & ZX_VMO_UNBOUNDED) && (options & ZX_VMO_RESIZABLE))
        return ZX_ERR_INVALID_ARGS;
    if ((options & ZX_VMO_DISCARDABLE) && (options & ZX_VMO_RESIZABLE))
        return ZX_ERR_NOT_SUPPORTED; /* a discardable VMO keeps its size */
    return ZX_OK;
}

zx_rights_t vmsys_vmo_create_rights(uint32_t options) {
    zx_rights_t r = ZX_DEFAULT_VMO_RIGHTS;
    if (options & ZX_VMO_RESIZABLE)
        r |= ZX_RIGHT_RESIZE;
    return r;
}

zx_status_t vmsys_vmo_child_precheck(uint32_t options) {
    if ((options & ZX_VMO_CHILD_NO_WRITE) && (options & ZX_VMO_CHILD_RESIZABLE))
        return ZX_ERR_INVALID_ARGS;
    return ZX_OK;
}

#define SNAPSHOT_KINDS \
    (ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE | ZX_VMO_CHILD_SNAPSHOT_MODIFIED)

zx_status_t vmsys_vmo_child_check(uint32_t options, zx_rights_t parent_rights) {
    if (options & ZX_VMO_CHILD_SLICE) {
        if (options & ~(ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_NO_WRITE))
            return ZX_ERR_INVALID_ARGS;
        return ZX_OK;
    }
    if (options & ZX_VMO_CHILD_REFERENCE) {
        if (options & ~(ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_RESIZABLE))
            return ZX_ERR_INVALID_ARGS;
        if ((options & ZX_VMO_CHILD_RESIZABLE) && !(parent_rights & ZX_RIGHT_RESIZE))
            return ZX_ERR_ACCESS_DENIED;
        return ZX_ERR_NOT_SUPPORTED;
    }
    uint32_t kind = options & SNAPSHOT_KINDS;
    if (kind == 0 || (kind & (kind - 1)) != 0)
        return ZX_ERR_INVALID_ARGS;
    if (options & ~(SNAPSHOT_KINDS | ZX_VMO_CHILD_RESIZABLE | ZX_VMO_CHILD_NO_WRITE))
        return ZX_ERR_INVALID_ARGS;
    return ZX_OK;
}

zx_rights_t vmsys_vmo_child_rights(zx_rights_t parent_rights, uint32_t options) {
    zx_rights_t r = parent_rights & ~ZX_RIGHT_RESIZE;
    if (options & ZX_VMO_CHILD_RESIZABLE)
        r |= ZX_RIGHT_RESIZE;
    r |= ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY;
    if (options & ZX_VMO_CHILD_NO_WRITE)
        r &= ~ZX_RIGHT_WRITE;
    else if (options & SNAPSHOT_KINDS)
        r = (r | ZX_RIGHT_WRITE) & ~ZX_RIGHT_EXECUTE;
    return r;
}

zx_rights_t vmsys_vmar_rights(zx_vm_option_t can_map) {
    zx_rights_t r = ZX_DEFAULT_VMAR_RIGHTS;
    if (can_map & ZX_VM_CAN_MAP_READ)
        r |= ZX_RIGHT_READ;
    if (can_map & ZX_VM_CAN_MAP_WRITE)
        r |= ZX_RIGHT_WRITE;
    if (can_map & ZX_VM_CAN_MAP_EXECUTE)
        r |= ZX_RIGHT_EXECUTE;
    return r;
}

zx_status_t vmsys_vmar_allocate_check_rights(zx_vm_option_t options, zx_rights_t vmar_rights) {
    zx_rights_t need = vmsys_vmar_rights(options) & ~ZX_DEFAULT_VMAR_RIGHTS;
    return (need & ~vmar_rights) ? ZX_ERR_ACCESS_DENIED : ZX_OK;
}

zx_vm_option_t vmsys_map_max_perms(zx_rights_t vmar_rights, zx_rights_t vmo_rights) {
    zx_rights_t both = vmar_rights & vmo_rights;
    zx_vm_option_t p = 0;
    if (both & ZX_RIGHT_READ)
        p |= ZX_VM_PERM_READ;
    if (both & ZX_RIGHT_WRITE)
        p |= ZX_VM_PERM_WRITE;
    if (both & ZX_RIGHT_EXECUTE)
        p |= ZX_VM_PERM_EXECUTE;
    return p;
}

zx_rights_t vmsys_vmar_protect_rights(zx_vm_option_t options) {
    zx_rights_t r = 0;
    if (options & (ZX_VM_PERM_READ | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED))
        r |= ZX_RIGHT_READ;
    if (options & ZX_VM_PERM_WRITE)
        r |= ZX_RIGHT_WRITE;
    if (options & ZX_VM_PERM_EXECUTE)
        r |= ZX_RIGHT_EXECUTE;
    return r;
}

zx_status_t vmsys_vmo_op_rights(uint32_t op, zx_rights_t *required, bool *any_of) {
    *any_of = false;
    switch (op) {
    case ZX_VMO_OP_COMMIT:
    case ZX_VMO_OP_DECOMMIT:
    case ZX_VMO_OP_ZERO:
    case ZX_VMO_OP_CACHE_INVALIDATE:
        *required = ZX_RIGHT_WRITE;
        return ZX_OK;
    case ZX_VMO_OP_LOCK:
    case ZX_VMO_OP_TRY_LOCK:
    case ZX_VMO_OP_UNLOCK:
        *required = ZX_RIGHT_READ | ZX_RIGHT_WRITE;
        *any_of = true;
        return ZX_OK;
    case ZX_VMO_OP_CACHE_SYNC:
    case ZX_VMO_OP_CACHE_CLEAN:
    case ZX_VMO_OP_CACHE_CLEAN_INVALIDATE:
    case ZX_VMO_OP_PREFETCH:
        *required = ZX_RIGHT_READ;
        return ZX_OK;
    case ZX_VMO_OP_DONT_NEED:
    case ZX_VMO_OP_ALWAYS_NEED:
        *required = 0;
        return ZX_OK;
    default:
        return ZX_ERR_INVALID_ARGS;
    }
}

zx_status_t vmsys_vmo_op_check(uint32_t op, zx_rights_t rights) {
    zx_rights_t need;
    bool any_of;
    zx_status_t st = vmsys_vmo_op_rights(op, &need, &any_of);
    if (st != ZX_OK)
        return st;
    bool ok = any_of ? (rights & need) != 0 : (rights & need) == need;
    return ok ? ZX_OK : ZX_ERR_ACCESS_DENIED;
}

zx_status_t vmsys_vmar_op_check(uint32_t op, zx_rights_t rights, uintptr_t buffer,
                                size_t buffer_size) {
    zx_rights_t need;
    switch (op) {
    case ZX_VMAR_OP_COMMIT:
    case ZX_VMAR_OP_DECOMMIT:
    case ZX_VMAR_OP_ZERO:
        need = ZX_RIGHT_WRITE;
        break;
    case ZX_VMAR_OP_MAP_RANGE:
    case ZX_VMAR_OP_PREFETCH:
        need = ZX_RIGHT_READ;
        break;
    case ZX_VMAR_OP_DONT_NEED:
    case ZX_VMAR_OP_ALWAYS_NEED:
        need = 0;
        break;
    default:
        return ZX_ERR_INVALID_ARGS;
    }
    if (need & ~rights)
        return ZX_ERR_ACCESS_DENIED;
    if (buffer != 0 || buffer_size != 0)
        return ZX_ERR_INVALID_ARGS;
    return ZX_OK;
}

bool vmsys_range_ok(uint64_t size, uint64_t offset, uint64_t len) {
    return offset <= size && len <= size - offset;
}
