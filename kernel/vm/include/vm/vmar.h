/*
 * VMARs (virtual memory address regions) and mappings, with Zircon's semantics. Each
 * zx_vmar_* syscall is meant to be a thin wrapper over one function here that only
 * translates handles and rights: `options` are the syscall's zx_vm_option_t as given,
 * `max_perms` (map) is the ZX_VM_PERM_* set the VMO and VMAR handle rights allow, and
 * `op_children` is whether the VMAR handle has ZX_RIGHT_OP_CHILDREN. The checks come in
 * the order docs/syscalls.md lists for each syscall, from the first one that needs no
 * handle, so that a call with several faults gets the status Zircon gives.
 *
 * Addresses are absolute. A destroyed ("dead") VMAR stays allocated while referenced,
 * and every operation on it returns ZX_ERR_BAD_STATE.
 *
 * Locking: every call takes the aspace lock (kernel/vm/vm_aspace_priv.h).
 */
#ifndef VM_VMAR_H
#define VM_VMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <kernel/types.h>
#include <vm/vm_aspace.h>
#include <vm/vmo.h>

typedef struct vm_mapping vm_mapping_t;

/* zx_vmar_op_range ops (values of ZX_VMAR_OP_*). */
#define VMAR_OP_COMMIT 1u
#define VMAR_OP_DECOMMIT 2u
#define VMAR_OP_MAP_RANGE 3u

/*
 * zx_vmar_allocate: a child VMAR of `size` bytes at `offset` (SPECIFIC), below
 * `offset` (OFFSET_IS_UPPER_LIMIT) or anywhere. Its CAN_MAP_* and COMPACT come from
 * options. *child receives a reference (the caller's), *addr its base.
 * Errors: INVALID_ARGS (bad options / alignment / size / offset, range outside the
 * parent), BAD_STATE (parent dead), ACCESS_DENIED (CAN_MAP_* beyond the parent's, or
 * SPECIFIC/UPPER_LIMIT without the parent's CAN_MAP_SPECIFIC), ALREADY_EXISTS (SPECIFIC
 * range in use), NO_RESOURCES (no hole), NO_MEMORY.
 */
zx_status_t vmar_allocate(vmar_t *parent, size_t offset, size_t size,
                             zx_vm_option_t options, vmar_t **child, vaddr_t *addr);

/*
 * zx_vmar_map: maps [vmo_offset, vmo_offset + roundup(len)) of vmo with the PERM_* in
 * options. SPECIFIC_OVERWRITE atomically replaces the mappings in the range (a sub-VMAR
 * in it: INVALID_ARGS); MAP_RANGE pre-populates committed pages. Errors:
 * INVALID_ARGS, ACCESS_DENIED (perms beyond max_perms or the VMAR's CAN_MAP_*),
 * NOT_SUPPORTED (REQUIRE_NON_RESIZABLE on a resizable VMO), OUT_OF_RANGE (len rounding
 * or offset overflow, physical VMO overrun), BAD_STATE, ALREADY_EXISTS, NO_RESOURCES,
 * NO_MEMORY.
 */
zx_status_t vmar_map(vmar_t *vmar, size_t vmar_offset, vmo_t *vmo,
                     uint64_t vmo_offset, size_t len, zx_vm_option_t options,
                     zx_vm_option_t max_perms, vaddr_t *addr);

/*
 * vmar_map that also hands back the mapping it created: on success *held is a
 * reference to that mapping (not to whatever lies at *addr later; another thread may
 * unmap it, split it with a protect, or map something else there at any time). The
 * caller gives it back with vm_mapping_unref, or with vm_mapping_destroy_held, which
 * first destroys the mapping if it is still alive (whatever range it covers now) and
 * never touches another one. The caller keeps its reference on vmar until then.
 */
zx_status_t vmar_map_held(vmar_t *vmar, size_t vmar_offset, vmo_t *vmo,
                          uint64_t vmo_offset, size_t len, zx_vm_option_t options,
                          zx_vm_option_t max_perms, vaddr_t *addr, vm_mapping_t **held);
void vm_mapping_destroy_held(vm_mapping_t *m);
void vm_mapping_unref(vm_mapping_t *m);

/*
 * zx_vmar_unmap: removes mappings in [addr, addr + roundup(len)) (splitting those partly
 * inside) and destroys sub-VMARs wholly inside. Holes are fine. INVALID_ARGS for an
 * unaligned addr, a length rounding to 0, a range outside the VMAR, a sub-VMAR partly
 * covered or any covered while !op_children (checked before anything changes);
 * BAD_STATE; NO_MEMORY (nothing changed).
 */
zx_status_t vmar_unmap(vmar_t *vmar, vaddr_t addr, size_t len, bool op_children);

/*
 * zx_vmar_protect: sets the PERM_* of options on [addr, addr + roundup(len)), which must
 * be covered by mappings (in vmar or its descendants) without gaps (NOT_FOUND). Errors:
 * INVALID_ARGS, BAD_STATE, NOT_FOUND, ACCESS_DENIED (beyond a mapping's max perms, or
 * raising a descendant's perms), INVALID_ARGS (descendant while !op_children), NO_MEMORY
 * (nothing changed). All or nothing.
 */
zx_status_t vmar_protect(vmar_t *vmar, zx_vm_option_t options, vaddr_t addr, size_t len,
                         bool op_children);

/*
 * zx_vmar_op_range: COMMIT / DECOMMIT / MAP_RANGE over [addr, addr + roundup(len)),
 * which must be covered by mappings (BAD_STATE for a gap). INVALID_ARGS (unknown op,
 * bad range, COMMIT/DECOMMIT in a descendant, any op in one while !op_children),
 * OUT_OF_RANGE (outside the VMAR), BAD_STATE (dead), ACCESS_DENIED (COMMIT/DECOMMIT on
 * a mapping whose max perms lack WRITE), NO_MEMORY, and the VMO's errors. The parts of
 * the range past a VMO's end are skipped.
 */
zx_status_t vmar_op_range(vmar_t *vmar, uint32_t op, vaddr_t addr, size_t len,
                          bool op_children);

/*
 * zx_vmar_destroy: unmaps everything in vmar, destroys its sub-VMARs recursively, marks
 * them all dead and frees the range in the parent. NOT_SUPPORTED for a root VMAR,
 * BAD_STATE if already dead.
 */
zx_status_t vmar_destroy(vmar_t *vmar);

void vmar_ref(vmar_t *vmar);
void vmar_unref(vmar_t *vmar);

/* ZX_INFO_VMAR and friends. Base and size never change, even after destroy. */
vaddr_t vmar_base(const vmar_t *vmar);
size_t vmar_size(const vmar_t *vmar);
zx_vm_option_t vmar_flags(const vmar_t *vmar); /* CAN_MAP_* | COMPACT */
vm_aspace_t *vmar_aspace(const vmar_t *vmar);
bool vmar_is_dead(vmar_t *vmar);

/* The permissions perms (ZX_VM_PERM_*) as the three letters "rwx", '-' for each one
 * missing: the form every dump and report of the VM prints them in. */
#define VM_PERMS_STRING_LEN 4
void vm_perms_string(zx_vm_option_t perms, char out[VM_PERMS_STRING_LEN]);

/*
 * One node of an aspace's region tree as ZX_INFO_PROCESS_MAPS reports it. Types match
 * ZX_INFO_MAPS_TYPE_*. A mapping with several protection runs is reported once per run
 * (Zircon splits the mapping itself where Beryl keeps runs, so user space sees the same).
 */
#define VM_MAP_ENTRY_ASPACE 1u
#define VM_MAP_ENTRY_VMAR 2u
#define VM_MAP_ENTRY_MAPPING 3u
typedef struct vm_map_entry {
    uint32_t type;
    uint32_t depth;          /* 0 aspace, 1 root VMAR, 2 and more its descendants */
    vaddr_t base;
    size_t size;
    vmo_t *vmo;        /* MAPPING: a reference the caller drops with vmo_unref */
    uint64_t vmo_offset;     /* MAPPING: VMO offset of base */
    zx_vm_option_t perms;    /* MAPPING: ZX_VM_PERM_* */
    size_t committed_pages;  /* the fault-report lookup only (below); a listing leaves 0
                              * (its reader counts with vmo_get_attribution, unlocked) */
} vm_map_entry_t;

/*
 * Takes a snapshot of as's tree in depth-first pre-order (the aspace, its root VMAR,
 * then each VMAR's children by address): writes the first min(cap, total) entries to
 * out and the number of entries in *total. A unified aspace lists its restricted part,
 * then its shared part (two depth-0 records). ZX_ERR_BAD_STATE if the aspace (or a part)
 * is destroyed; then nothing was written.
 */
zx_status_t vm_aspace_list_maps(vm_aspace_t *as, vm_map_entry_t *out, size_t cap,
                                size_t *total);

/*
 * What covers user address va in as (for a unified aspace, in the part that owns va), for
 * a fault report: the protection run of the mapping there as one MAPPING record (depth
 * 0; out->vmo holds a reference the caller drops with vmo_unref); committed_pages is 1
 * if the VMO page under va is committed, else 0. Takes the aspace lock, then the VMO
 * lock, so the caller holds neither and may block; the work is bounded (one tree
 * descent, one page looked up). ZX_ERR_NOT_FOUND (no mapping at va), ZX_ERR_BAD_STATE
 * (destroyed); then *out is untouched.
 */
zx_status_t vm_aspace_mapping_at(vm_aspace_t *as, vaddr_t va, vm_map_entry_t *out);

/*
 * Calls fn(ctx, vmo) once for each mapping in as (in address order, so a VMO mapped
 * twice is reported twice), with the aspace lock held: fn must not block, fault or take
 * an aspace lock. A unified aspace: its restricted part, then its shared part.
 * ZX_ERR_BAD_STATE if the aspace is destroyed.
 */
zx_status_t vm_aspace_for_each_mapped_vmo(vm_aspace_t *as, void (*fn)(void *ctx, vmo_t *vmo),
                                          void *ctx);

/* Debug/test helpers. */
size_t vmar_debug_count_mappings(vmar_t *vmar); /* recursive */
/* Protection runs of the mapping containing addr (0 if none). */
size_t vmar_debug_prot_runs(vmar_t *vmar, vaddr_t addr);
/* True if the child trees of vmar and of every VMAR below it are valid AVL trees whose
 * placement summaries (<vm/vmar_place.h>) match their extents. */
bool vmar_debug_tree_ok(vmar_t *vmar);

#endif
