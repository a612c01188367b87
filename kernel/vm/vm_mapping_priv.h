/*
 * Private to the VMAR side of kernel/vm: a mapping's layout and the interface the VMAR
 * tree (vmar*.c) and the aspace (vm_aspace*.c) use; vm_mapping.c implements it and calls
 * nothing above it.
 *
 * A mapping covers [base, base + size) of one VMO from vmo_offset and carries
 * *protection runs*: a sorted array of {offset, perms}, runs[0].offset == 0, run i
 * covering [runs[i].offset, runs[i+1].offset) (the last one up to size); equal neighbours
 * are always merged.
 *
 * Every function that reads or changes a mapping in a tree requires the aspace lock
 * (TA_REQ); the VMO's unmap_range op runs with the VMO lock held instead
 * (vm_aspace_priv.h).
 */
#ifndef VM_VM_MAPPING_PRIV_H
#define VM_VM_MAPPING_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <kernel/compiler.h>
#include <kernel/types.h>
#include <vm/vmo.h>
#include "vm_region.h"

/* Most protection runs one mapping keeps; a protect that would need more splits it. */
#define VM_PROT_RUNS_MAX 8

struct vm_prot_run {
    uint64_t offset;          /* from the mapping's base */
    zx_vm_option_t perms;     /* ZX_VM_PERM_* */
};

/*
 * A mapping is owned by its parent's tree (one reference) and freed when that reference
 * and every held one (vmar_map_held) are gone. Once it leaves the tree for good
 * (unmapped, merged into a neighbour, destroyed with its VMAR) it is `dead`: its
 * translations, link and VMO reference are gone and only its struct remains for holders,
 * who may read r.aspace and `dead` (under the aspace lock) and nothing else.
 */
struct vm_mapping {
    struct vm_region r;        /* first: vm_region_to_mapping casts */
    uint32_t refcount;         /* atomic: the tree's (while alive) + held ones */
    bool dead;                 /* guarded by the aspace lock */
    /* Set before the first translation of the mapping is installed (by a fault or
     * MAP_RANGE, under the VMO lock; a split copies it, a merge ORs it) and never cleared:
     * while it is false there is nothing to unmap or protect, and an unmap of a mapping
     * never touched skips the page-table engine. Atomic: faults set it under the shared
     * aspace lock. */
    bool populated;
    vmo_t *vmo;                /* a reference while alive; NULL until installed */
    uint64_t vmo_offset;       /* VMO offset of base */
    /* Fixed at map time: the PERM_* the mapping may ever have, plus
     * ZX_VM_FAULT_BEYOND_STREAM_SIZE if it was mapped with it (so a split keeps it and
     * only mappings that agree on it merge). */
    zx_vm_option_t max_perms;
    struct vmo_mapping_link link;
    uint32_t nruns;
    struct vm_prot_run runs[VM_PROT_RUNS_MAX];
};
STATIC_ASSERT(offsetof(struct vm_mapping, r) == 0);

/* ---- lifetime ---- */

/* A zeroed mapping holding the one reference its tree will own; NULL without memory. */
vm_mapping_t *vm_mapping_alloc(void);
/* Makes the dead struct m (a VMAR's spare_mapping, only reference) what vm_mapping_alloc
 * returns. Returns m. */
vm_mapping_t *vm_mapping_reuse(vm_mapping_t *m);
/* Frees m (may be NULL) if it came from vm_mapping_alloc and was never installed; an
 * installed mapping belongs to its tree and is left alone. Aspace lock held: once it is
 * let go, an installed mapping may be unmapped and freed by another thread. */
void vm_mapping_free_if_unused(vm_mapping_t *m);
/* Takes one more reference (a holder's); m must be alive. */
void vm_mapping_hold_locked(vm_mapping_t *m) TA_REQ(m->r.aspace->lock);
/* Fills m (from vm_mapping_alloc) and inserts it into parent (the range must be free);
 * takes a VMO reference and registers the link. Cannot fail. */
void vm_mapping_install(vm_mapping_t *m, vmar_t *parent, vaddr_t base, size_t size, vmo_t *vmo,
                        uint64_t vmo_offset, zx_vm_option_t perms, zx_vm_option_t max_perms)
    TA_REQ(parent->r.aspace->lock);
/* Removes translations, the link, the VMO reference and the tree entry; m becomes dead
 * and the tree's reference goes (freeing m unless someone holds it). */
void vm_mapping_destroy(vm_mapping_t *m) TA_REQ(m->r.aspace->lock);

/* ---- unmap ---- */

/* True if unmapping [a, b) from m needs a spare mapping ([a, b) strictly inside m). */
static inline bool vm_mapping_unmap_needs_spare(const vm_mapping_t *m, vaddr_t a, vaddr_t b) {
    return a > vm_region_base(&m->r) && b < vm_region_end(&m->r);
}
/* Unmaps the part of [a, b) (page-aligned) inside m. If [a, b) is strictly inside m,
 * spare (not NULL) becomes the right part; otherwise spare is not used. */
void vm_mapping_unmap_part(vm_mapping_t *m, vaddr_t a, vaddr_t b, vm_mapping_t *spare)
    TA_REQ(m->r.aspace->lock);

/* ---- protect ---- */

/* True if every run overlapping [a, b) has perms that include `perms` (no raise). */
bool vm_mapping_perms_cover(const vm_mapping_t *m, vaddr_t a, vaddr_t b, zx_vm_option_t perms)
    TA_REQ(m->r.aspace->lock);
/* Spares (0..2) vm_mapping_protect will need to protect the part of [a, b) inside m. */
unsigned vm_mapping_protect_spares(const vm_mapping_t *m, vaddr_t a, vaddr_t b,
                                   zx_vm_option_t perms) TA_REQ(m->r.aspace->lock);
/*
 * Sets perms on [a, b) (inside m, page-aligned) in the runs and the page tables, taking
 * the spares it needs from *spares (advancing it) as counted above, and returns the
 * mapping that now covers [a, b): m, or a spare split off from m when the runs did not
 * fit. Cannot fail (the VM maps 4 KiB pages only, so the engine never splits).
 */
vm_mapping_t *vm_mapping_protect(vm_mapping_t *m, vaddr_t a, vaddr_t b, zx_vm_option_t perms,
                                 vm_mapping_t ***spares) TA_REQ(m->r.aspace->lock);
/*
 * Merges m with its neighbours in the parent where possible (same VMO, contiguous
 * offsets, same max perms, runs fit): first the next one into m, then m into the previous
 * one. Returns the surviving mapping that covers m's range.
 */
vm_mapping_t *vm_mapping_try_merge(vm_mapping_t *m) TA_REQ(m->r.aspace->lock);

/* ---- faults, MAP_RANGE, lookups ---- */

/*
 * Resolves a fault at va (inside m) with VM_PF_* flags: checks the protection at va,
 * gets the page from the VMO (committing it on a write) and maps it, read-only when the
 * VMO hands out a page that must not be written (the zero page, an ancestor's page).
 * ZX_ERR_ACCESS_DENIED, and the errors of vmo_fault_page.
 */
zx_status_t vm_mapping_page_fault(vm_mapping_t *m, vaddr_t va, uint32_t pf_flags)
    TA_REQ_SHARED(m->r.aspace->lock);
/* Pre-populates translations of committed pages in [a, b) of m (MAP_RANGE). Errors of
 * the engine (NO_MEMORY); the part of the mapping past the VMO's end is skipped. */
zx_status_t vm_mapping_populate(vm_mapping_t *m, vaddr_t a, vaddr_t b)
    TA_REQ(m->r.aspace->lock);
/*
 * The VMO behind va (inside m): *vmo gets a new reference, *vmo_offset the VMO offset of
 * va, *len_left the bytes of m from va to its end. With for_write, ACCESS_DENIED unless
 * m's maximum permissions include WRITE.
 */
zx_status_t vm_mapping_vmo_at(vm_mapping_t *m, vaddr_t va, bool for_write, vmo_t **vmo,
                              uint64_t *vmo_offset, size_t *len_left) TA_REQ(m->r.aspace->lock);
/*
 * ZX_INFO_PROCESS_MAPS records of m at `depth`, one per protection run: writes the first
 * min(room, runs) of them to out (each holding a VMO reference) and returns the number
 * of runs.
 */
size_t vm_mapping_info(const vm_mapping_t *m, uint32_t depth, vm_map_entry_t *out, size_t room)
    TA_REQ(m->r.aspace->lock);
/*
 * The one ZX_INFO_PROCESS_MAPS record (depth 0) of the protection run of m that holds va
 * (inside m), holding a VMO reference; committed_pages is that of the page under va
 * alone (0 or 1). Takes the VMO lock (the aspace lock -> VMO lock order).
 */
void vm_mapping_info_at(const vm_mapping_t *m, vaddr_t va, vm_map_entry_t *out)
    TA_REQ(m->r.aspace->lock);

#endif
