/*
 * zx_vmar_protect over a VMAR and its descendants, checked before anything changes
 * (an error leaves no trace) and then applied, without looking anything up twice:
 *
 *   check   one lookup finds the mapping at the range's start; from there the walk
 *           follows the tree (vmar_walk_next: the next region in address order, O(1)
 *           amortised) through the mappings that cover the range, checking each, and
 *           records the first one and the spare mappings the apply will need;
 *   apply   from the recorded first mapping, each mapping's part of the range gets the
 *           new protection and is merged with its neighbours as soon as both sides of
 *           it are final, in the same pass.
 *
 * So the tree is descended once, each mapping of the range is visited by the check and
 * by the apply, and the page-table work is one engine call per mapping. Lock rules:
 * vm_aspace_priv.h.
 */
#include <kernel/assert.h>
#include "vmar_priv.h"

/* Most spare mappings one protect needs: a split of each partly covered end mapping. */
#define PROTECT_SPARES_MAX 2

/*
 * The mapping that follows m (in top's subtree) in address order if it starts where m
 * ends; NULL at a gap (space not covered by a mapping, in top or a sub-VMAR) or at the
 * end of top's subtree. *depth follows the walk (0 for a direct child of top).
 */
static vm_mapping_t *next_adjacent_mapping(vmar_t *top, vm_mapping_t *m, unsigned *depth)
    TA_REQ(top->r.aspace->lock) {
    vaddr_t end = vm_region_end(&m->r);
    struct vm_region *r = &m->r;
    do {
        r = vmar_walk_next(top, r, depth); /* into a sub-VMAR that starts at end */
    } while (r && r->type == VM_REGION_VMAR && vm_region_base(r) == end);
    if (!r || r->type != VM_REGION_MAPPING || vm_region_base(r) != end)
        return NULL;
    return vm_region_to_mapping(r);
}

/*
 * Checks protecting [a, b) (inside vmar) to perms: a gap is NOT_FOUND; a mapping whose
 * maximum permissions lack perms is ACCESS_DENIED; one in a sub-VMAR is INVALID_ARGS
 * without op_children and ACCESS_DENIED if perms would raise any of its permissions
 * (through a parent, protection only goes down). The first failure in address order
 * wins. On success *first is the mapping at a and *spares the spare mappings the apply
 * takes.
 */
static zx_status_t protect_check_locked(vmar_t *vmar, vaddr_t a, vaddr_t b,
                                        zx_vm_option_t perms, bool op_children,
                                        vm_mapping_t **first, unsigned *spares)
    TA_REQ(vmar->r.aspace->lock) {
    unsigned depth = 0;
    vm_mapping_t *m = vmar_find_mapping(vmar, a, &depth);
    *first = m;
    *spares = 0;
    for (vaddr_t va = a;;) {
        if (!m)
            return ZX_ERR_NOT_FOUND; /* a gap, or an empty part of a sub-VMAR */
        vm_region_same_lock(&m->r, &vmar->r);
        vaddr_t pe = MIN(b, vm_region_end(&m->r));
        if (perms & ~m->max_perms)
            return ZX_ERR_ACCESS_DENIED;
        if (depth > 0 && !op_children)
            return ZX_ERR_INVALID_ARGS;
        if (depth > 0 && !vm_mapping_perms_cover(m, va, pe, perms))
            return ZX_ERR_ACCESS_DENIED;
        *spares += vm_mapping_protect_spares(m, va, pe, perms);
        if (pe == b)
            return ZX_OK;
        va = pe;
        m = next_adjacent_mapping(vmar, m, &depth);
    }
}

/*
 * Protects [a, b) after protect_check_locked passed, from `first` on, taking spares as
 * counted. Merging follows each mapping's protection: the mapping just protected is
 * merged with its neighbours (vm_mapping_try_merge) once the one after it is final too,
 * i.e. after that one is protected, or at once when it ends the range; a merge that
 * swallows the next mapping moves that step on to the mapping after it. This is exactly
 * the result of protecting everything first and then merging from left to right.
 */
static void protect_apply_locked(vmar_t *vmar, vm_mapping_t *first, vaddr_t a, vaddr_t b,
                                 zx_vm_option_t perms, vm_mapping_t **spares)
    TA_REQ(vmar->r.aspace->lock) {
    vm_mapping_t *m = first;
    vm_mapping_t *pending = NULL; /* protected, its merge waiting for its next to be final */
    unsigned depth = 0;
    for (vaddr_t va = a;;) {
        vm_region_same_lock(&m->r, &vmar->r);
        vaddr_t pe = MIN(b, vm_region_end(&m->r));
        vm_mapping_t *piece = vm_mapping_protect(m, va, pe, perms, &spares);
        vm_mapping_t *next = pe < b ? next_adjacent_mapping(vmar, piece, &depth) : NULL;
        ASSERT(next || pe == b); /* checked: no gap */
        if (pending) {
            vm_region_same_lock(&pending->r, &vmar->r);
            vm_mapping_t *survivor = vm_mapping_try_merge(pending);
            pending = vm_region_end(&survivor->r) > va ? NULL : piece;
        } else {
            pending = piece;
        }
        if (!next)
            break;
        m = next;
        va = pe;
    }
    if (pending) {
        vm_region_same_lock(&pending->r, &vmar->r);
        vm_mapping_try_merge(pending);
    }
}

zx_status_t vmar_protect(vmar_t *vmar, zx_vm_option_t options, vaddr_t addr, size_t len,
                         bool op_children) {
    zx_vm_option_t o = vm_opt_resolve_xom(options);
    if ((o & (ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE)) && !(o & ZX_VM_PERM_READ))
        return ZX_ERR_INVALID_ARGS;
    if (!IS_ALIGNED(addr, PAGE_SIZE) || (o & ~VM_PERM_RWX))
        return ZX_ERR_INVALID_ARGS;
    len = ROUNDUP(len, PAGE_SIZE);
    if (len == 0)
        return ZX_ERR_INVALID_ARGS;

    vm_mapping_t *spare[PROTECT_SPARES_MAX] = {NULL, NULL};
    rw_mutex_acquire(&vmar->r.aspace->lock);
    zx_status_t st;
    unsigned needed = 0;
    vm_mapping_t *first = NULL;
    if (vmar->dead)
        st = ZX_ERR_BAD_STATE;
    else if (!vm_region_contains_range(&vmar->r, addr, len))
        st = ZX_ERR_INVALID_ARGS;
    else
        st = protect_check_locked(vmar, addr, addr + len, o, op_children, &first, &needed);
    ASSERT(needed <= PROTECT_SPARES_MAX);
    for (unsigned i = 0; st == ZX_OK && i < needed; i++)
        if (!(spare[i] = vm_mapping_alloc()))
            st = ZX_ERR_NO_MEMORY;
    if (st == ZX_OK)
        protect_apply_locked(vmar, first, addr, addr + len, o, spare);
    /* Under the lock: an installed spare may be unmapped and freed once it is dropped. */
    for (unsigned i = 0; i < PROTECT_SPARES_MAX; i++)
        vm_mapping_free_if_unused(spare[i]);
    rw_mutex_release(&vmar->r.aspace->lock);
    return st;
}
