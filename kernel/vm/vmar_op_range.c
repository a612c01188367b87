/*
 * zx_vmar_op_range over a VMAR and its descendants: the whole range is checked first (an
 * error changes nothing), then each mapping's part is handed to the mapping (MAP_RANGE)
 * or to its VMO (COMMIT, DECOMMIT). Walking the range is "find the mapping containing
 * va, handle [va, its end), continue there": O(k log n) for k mappings, plus the VMO
 * work (proportional to the pages that exist there, not to the range). Lock rules:
 * vm_aspace_priv.h.
 */
#include <kernel/assert.h>
#include "vmar_priv.h"

/*
 * Checks one step of op_range at va (< b): the mapping that contains va (*m, ending the
 * step at *pe). BAD_STATE for a gap, INVALID_ARGS for a mapping in a descendant unless
 * MAP_RANGE with op_children, ACCESS_DENIED for COMMIT/DECOMMIT without WRITE.
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
    if (depth > 0 && (op != VMAR_OP_MAP_RANGE || !op_children))
        return ZX_ERR_INVALID_ARGS;
    if (op != VMAR_OP_MAP_RANGE && !(found->max_perms & ZX_VM_PERM_WRITE))
        return ZX_ERR_ACCESS_DENIED;
    *pe = MIN(b, vm_region_end(&found->r));
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
 * COMMIT / DECOMMIT of [a, b) of m (page-aligned, inside m) on m's VMO, with the aspace
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
        st = op == VMAR_OP_COMMIT ? vmo_commit(vmo, off, n) : vmo_decommit(vmo, off, n);
        rw_mutex_acquire(&as->lock);
    }
    vmo_unref(vmo);
    return st;
}

/*
 * The whole range is checked first, so that a bad range changes nothing. The steps then
 * run mapping by mapping; COMMIT and DECOMMIT let go of the aspace lock for the VMO's
 * work, so each later step is checked again (a concurrent unmap or destroy ends the
 * operation with the status the check gives: BAD_STATE for the gap or the dead VMAR).
 */
zx_status_t vmar_op_range(vmar_t *vmar, uint32_t op, vaddr_t addr, size_t len,
                          bool op_children) {
    if (op != VMAR_OP_COMMIT && op != VMAR_OP_DECOMMIT && op != VMAR_OP_MAP_RANGE)
        return ZX_ERR_INVALID_ARGS;
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
        if (op == VMAR_OP_MAP_RANGE)
            st = vm_mapping_populate(m, va, pe);
        else
            st = vmo_op_unlocked(vmar->r.aspace, m, op, va, pe);
        va = pe;
    }
    rw_mutex_release(&vmar->r.aspace->lock);
    return st;
}
