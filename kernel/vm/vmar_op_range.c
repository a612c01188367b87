/*
 * zx_vmar_op_range over a VMAR and its descendants: the whole range is checked first (an
 * error changes nothing), then each mapping's part is handed to the mapping (MAP_RANGE,
 * PREFETCH, ALWAYS_NEED: translations of committed pages) or to its VMO (COMMIT,
 * DECOMMIT, ZERO); DONT_NEED only validates (Beryl reclaims no pages). Walking the range
 * is "find the mapping containing va, handle [va, its end), continue there": O(k log n)
 * for k mappings, plus the VMO work (proportional to the pages that exist there, not to
 * the range). Lock rules: vm_aspace_priv.h.
 */
#include <kernel/assert.h>
#include "vmar_priv.h"

/* The ops that write the mapped VMOs' content: each mapping must allow WRITE. */
static bool op_writes(uint32_t op) {
    return op == VMAR_OP_COMMIT || op == VMAR_OP_DECOMMIT || op == VMAR_OP_ZERO;
}

/*
 * Checks one step of op_range at va (< b): the mapping that contains va (*m, ending the
 * step at *pe). BAD_STATE for a gap; INVALID_ARGS for a mapping in a descendant without
 * op_children, or at all for COMMIT / DECOMMIT / PREFETCH (they act as if they raised
 * the mapping's protection to what its maximum allows, which a protect through a parent
 * VMAR may not do); ACCESS_DENIED for COMMIT / DECOMMIT / ZERO without WRITE and for
 * PREFETCH without READ in the mapping's maximum permissions; OUT_OF_RANGE for a mapping
 * made with ZX_VM_FAULT_BEYOND_STREAM_SIZE whose part reaches past its VMO's content
 * size (rounded up to a page).
 */
static zx_status_t op_range_check_one(vmar_t *vmar, uint32_t op, vaddr_t va, vaddr_t b,
                                      bool op_children, vm_mapping_t **m, vaddr_t *pe)
    TA_REQ(vmar->r.aspace->lock) {
    unsigned depth;
    vm_mapping_t *found = vmar_find_mapping(vmar, va, &depth);
    *m = found;
    if (!found)
        return ZX_ERR_BAD_STATE; /* a gap */
    vm_region_same_lock(&found->r, &vmar->r);
    if (depth > 0 && (!op_children || op == VMAR_OP_COMMIT || op == VMAR_OP_DECOMMIT ||
                      op == VMAR_OP_PREFETCH))
        return ZX_ERR_INVALID_ARGS;
    if (op_writes(op) && !(found->max_perms & ZX_VM_PERM_WRITE))
        return ZX_ERR_ACCESS_DENIED;
    if (op == VMAR_OP_PREFETCH && !(found->max_perms & ZX_VM_PERM_READ))
        return ZX_ERR_ACCESS_DENIED;
    *pe = MIN(b, vm_region_end(&found->r));
    if (found->max_perms & ZX_VM_FAULT_BEYOND_STREAM_SIZE) {
        /* Zircon's rule: such a mapping's part must lie within the content size's page. */
        uint64_t off = found->vmo_offset + (va - vm_region_base(&found->r));
        uint64_t end = vmo_stream_end(found->vmo);
        if (off > end || *pe - va > end - off)
            return ZX_ERR_OUT_OF_RANGE;
    }
    return ZX_OK;
}

static zx_status_t op_range_check_locked(vmar_t *vmar, uint32_t op, vaddr_t a, vaddr_t b,
                                         bool op_children) TA_REQ(vmar->r.aspace->lock) {
    for (vaddr_t va = a; va < b;) {
        vm_mapping_t *m;
        zx_status_t st = op_range_check_one(vmar, op, va, b, op_children, &m, &va);
        if (st != ZX_OK)
            return st;
    }
    return ZX_OK;
}

/*
 * COMMIT / DECOMMIT / ZERO of [a, b) of m (page-aligned, inside m) on m's VMO, with the aspace
 * lock let go meanwhile: the VMO work is bounded by memory and committed pages, not by
 * the range, but it may still be long, and the process's faults and other VM calls need
 * not wait for it (the VMO lets its own waiters in between steps: vmo_lock_break). m's
 * VMO is held by a reference, since m may be unmapped in the meantime; that is harmless,
 * the VMO operation does not involve m.
 */
static zx_status_t vmo_op_unlocked(vm_aspace_t *as, vm_mapping_t *m, uint32_t op, vaddr_t a,
                                   vaddr_t b) TA_REQ(as->lock) TA_REQ(m->r.aspace->lock) {
    vmo_t *vmo;
    uint64_t off;
    size_t left;
    zx_status_t st = vm_mapping_vmo_at(m, a, false, &vmo, &off, &left);
    ASSERT(st == ZX_OK);
    uint64_t vsize = vmo_size(vmo);
    if (off < vsize) { /* else the mapping extends past the VMO's end: nothing there */
        uint64_t n = MIN((uint64_t)(b - a), vsize - off);
        rw_mutex_release(&as->lock);
        if (op == VMAR_OP_COMMIT)
            st = vmo_commit(vmo, off, n);
        else if (op == VMAR_OP_DECOMMIT)
            st = vmo_decommit(vmo, off, n);
        else
            st = vmo_zero(vmo, off, n);
        rw_mutex_acquire(&as->lock);
    }
    vmo_unref(vmo);
    return st;
}

/*
 * The whole range is checked first, so that a bad range changes nothing. The steps then
 * run mapping by mapping; COMMIT, DECOMMIT and ZERO let go of the aspace lock for the VMO's
 * work, so each later step is checked again (a concurrent unmap or destroy ends the
 * operation with the status the check gives: BAD_STATE for the gap or the dead VMAR).
 */
zx_status_t vmar_op_range(vmar_t *vmar, uint32_t op, vaddr_t addr, size_t len,
                          bool op_children) {
    switch (op) {
    case VMAR_OP_COMMIT:
    case VMAR_OP_DECOMMIT:
    case VMAR_OP_MAP_RANGE:
    case VMAR_OP_ZERO:
    case VMAR_OP_DONT_NEED:
    case VMAR_OP_ALWAYS_NEED:
    case VMAR_OP_PREFETCH:
        break;
    default:
        return ZX_ERR_INVALID_ARGS;
    }
    if (!IS_ALIGNED(addr, PAGE_SIZE))
        return ZX_ERR_INVALID_ARGS;
    len = ROUNDUP(len, PAGE_SIZE);
    if (len == 0)
        return ZX_ERR_INVALID_ARGS;
    rw_mutex_acquire(&vmar->r.aspace->lock);
    zx_status_t st;
    vaddr_t a = addr, b = addr + len;
    if (!vm_region_contains_range(&vmar->r, addr, len))
        st = ZX_ERR_OUT_OF_RANGE;
    else if (vmar->dead)
        st = ZX_ERR_BAD_STATE;
    else
        st = op_range_check_locked(vmar, op, a, b, op_children);
    for (vaddr_t va = a; st == ZX_OK && va < b;) {
        vm_mapping_t *m;
        vaddr_t pe;
        st = vmar->dead ? ZX_ERR_BAD_STATE
                        : op_range_check_one(vmar, op, va, b, op_children, &m, &pe);
        if (st != ZX_OK)
            break;
        vm_region_same_lock(&m->r, &vmar->r);
        if (op_writes(op))
            st = vmo_op_unlocked(vmar->r.aspace, m, op, va, pe);
        else if (op != VMAR_OP_DONT_NEED) /* MAP_RANGE, PREFETCH, ALWAYS_NEED */
            st = vm_mapping_populate(m, va, pe);
        va = pe;
    }
    rw_mutex_release(&vmar->r.aspace->lock);
    return st;
}
