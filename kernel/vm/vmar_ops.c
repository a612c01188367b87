/*
 * zx_vmar_protect and zx_vmar_op_range over a VMAR and its descendants. Both first
 * check the whole range (so an error changes nothing), then apply. Walking the range is
 * "find the mapping containing va, handle [va, its end), continue there": O(k log n)
 * for k mappings, plus the VMO work (proportional to the pages that exist there, not to
 * the range). Lock rules: vmar_priv.h.
 */
#include <kernel/assert.h>
#include "vmar_priv.h"

/* Most spare mappings one protect needs: a split of each partly covered end mapping. */
#define PROTECT_SPARES_MAX 2

/* Checks protect of [a, b) to perms (§4 zx_vmar_protect steps 8-11); counts spares. */
static zx_status_t protect_check_locked(vmar_t *vmar, vaddr_t a, vaddr_t b,
                                        zx_vm_option_t perms, bool op_children,
                                        unsigned *spares) {
    *spares = 0;
    for (vaddr_t va = a; va < b;) {
        unsigned depth;
        vm_mapping_t *m = vmar_find_mapping(vmar, va, &depth);
        if (!m)
            return ZX_ERR_NOT_FOUND; /* a gap, or an empty part of a sub-VMAR */
        vaddr_t pe = MIN(b, vm_region_end(&m->r));
        if (perms & ~m->max_perms)
            return ZX_ERR_ACCESS_DENIED;
        if (depth > 0 && !op_children)
            return ZX_ERR_INVALID_ARGS;
        if (depth > 0 && !vm_mapping_perms_cover(m, va, pe, perms))
            return ZX_ERR_ACCESS_DENIED; /* through a parent, only reduce */
        *spares += vm_mapping_protect_spares(m, va, pe, perms);
        va = pe;
    }
    return ZX_OK;
}

zx_status_t vmar_protect(vmar_t *vmar, zx_vm_option_t options, vaddr_t addr, size_t len,
                         bool op_children) {
    zx_vm_option_t o = options;
    if (o & ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED) /* x86 has no execute-only pages */
        o = (o & ~ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED) | ZX_VM_PERM_READ;
    if ((o & (ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE)) && !(o & ZX_VM_PERM_READ))
        return ZX_ERR_INVALID_ARGS;
    if (!IS_ALIGNED(addr, PAGE_SIZE) || (o & ~VM_PERM_RWX))
        return ZX_ERR_INVALID_ARGS;
    len = ROUNDUP(len, PAGE_SIZE);
    if (len == 0)
        return ZX_ERR_INVALID_ARGS;

    vm_mapping_t *spare[PROTECT_SPARES_MAX] = {NULL, NULL};
    vm_aspace_t *as = vmar->r.aspace;
    mutex_acquire(&as->lock);
    zx_status_t st;
    unsigned needed = 0;
    vaddr_t a = addr, b = addr + len;
    if (vmar->dead)
        st = ZX_ERR_BAD_STATE;
    else if (!vm_region_contains_range(&vmar->r, addr, len))
        st = ZX_ERR_INVALID_ARGS;
    else
        st = protect_check_locked(vmar, a, b, o, op_children, &needed);
    ASSERT(needed <= PROTECT_SPARES_MAX);
    for (unsigned i = 0; st == ZX_OK && i < needed; i++)
        if (!(spare[i] = vm_mapping_alloc()))
            st = ZX_ERR_NO_MEMORY;
    if (st == ZX_OK) {
        vm_mapping_t **next_spare = spare;
        for (vaddr_t va = a; va < b && st == ZX_OK;) {
            vm_mapping_t *m = vmar_find_mapping(vmar, va, NULL);
            ASSERT(m != NULL);
            vaddr_t pe = MIN(b, vm_region_end(&m->r));
            st = vm_mapping_protect(m, va, pe, o, &next_spare);
            va = pe;
        }
        /* Merge what became mergeable (e.g. pieces whose permissions agree again). */
        for (vaddr_t va = a; va < b;) {
            vm_mapping_t *m = vmar_find_mapping(vmar, va, NULL);
            if (!m)
                break;
            m = vm_mapping_try_merge(m);
            va = vm_region_end(&m->r);
        }
    }
    /* Under the lock: an installed spare may be unmapped and freed once it is dropped. */
    for (unsigned i = 0; i < PROTECT_SPARES_MAX; i++)
        if (spare[i] && spare[i]->vmo == NULL) /* not installed */
            vm_mapping_free_unused(spare[i]);
    mutex_release(&as->lock);
    return st;
}

/*
 * Checks one step of op_range at va (< b): the mapping that contains va (*m, ending the
 * step at *pe). BAD_STATE for a gap, INVALID_ARGS for a mapping in a descendant unless
 * MAP_RANGE with op_children, ACCESS_DENIED for COMMIT/DECOMMIT without WRITE.
 */
static zx_status_t op_range_check_one(vmar_t *vmar, uint32_t op, vaddr_t va, vaddr_t b,
                                      bool op_children, vm_mapping_t **m, vaddr_t *pe) {
    unsigned depth;
    *m = vmar_find_mapping(vmar, va, &depth);
    if (!*m)
        return ZX_ERR_BAD_STATE; /* a gap */
    if (depth > 0 && (op != VMAR_OP_MAP_RANGE || !op_children))
        return ZX_ERR_INVALID_ARGS;
    if (op != VMAR_OP_MAP_RANGE && !((*m)->max_perms & ZX_VM_PERM_WRITE))
        return ZX_ERR_ACCESS_DENIED;
    *pe = MIN(b, vm_region_end(&(*m)->r));
    return ZX_OK;
}

static zx_status_t op_range_check_locked(vmar_t *vmar, uint32_t op, vaddr_t a, vaddr_t b,
                                         bool op_children) {
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
                                   vaddr_t b) TA_REQ(as->lock) {
    uint64_t off = m->vmo_offset + (a - vm_region_base(&m->r));
    uint64_t vsize = vmo_size(m->vmo);
    if (off >= vsize)
        return ZX_OK; /* the mapping extends past the VMO's end: nothing there */
    uint64_t n = MIN((uint64_t)(b - a), vsize - off);
    vmo_t *vmo = m->vmo;
    vmo_ref(vmo);
    mutex_release(&as->lock);
    zx_status_t st =
        op == VMAR_OP_COMMIT ? vmo_commit(vmo, off, n) : vmo_decommit(vmo, off, n);
    vmo_unref(vmo);
    mutex_acquire(&as->lock);
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
    vm_aspace_t *as = vmar->r.aspace;
    mutex_acquire(&as->lock);
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
        if (op == VMAR_OP_MAP_RANGE)
            st = vm_mapping_populate(m, va, pe);
        else
            st = vmo_op_unlocked(as, m, op, va, pe);
        va = pe;
    }
    mutex_release(&as->lock);
    return st;
}
