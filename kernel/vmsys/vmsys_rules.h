/*
 * Pure rules of the VMO/VMAR syscalls: option validation and rights derivation that need
 * no object, no lock and no user memory (docs/syscalls.md gives each syscall's rights and
 * the order of its checks). Kept free of kernel
 * dependencies so the host tests can check them directly (tests/host/test_vmsys_rules.c).
 */
#ifndef VMSYS_VMSYS_RULES_H
#define VMSYS_VMSYS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zircon/rights.h>
#include <zircon/types.h>

/* Options zx_vmo_create accepts in Beryl (DISCARDABLE: see vmsys_vmo_create_check). */
#define VMSYS_VMO_CREATE_KNOWN (ZX_VMO_RESIZABLE | ZX_VMO_DISCARDABLE | ZX_VMO_UNBOUNDED)

/* zx_vmo_create's option check, its first: unknown bits or UNBOUNDED|RESIZABLE ->
 * INVALID_ARGS; DISCARDABLE -> NOT_SUPPORTED (the VM has no discardable VMOs). */
zx_status_t vmsys_vmo_create_check(uint32_t options);

/* Rights of a new VMO: ZX_DEFAULT_VMO_RIGHTS, plus RESIZE for ZX_VMO_RESIZABLE. */
zx_rights_t vmsys_vmo_create_rights(uint32_t options);

/* zx_vmo_create_child's first check (before the handle lookup): NO_WRITE with
 * RESIZABLE -> INVALID_ARGS. */
zx_status_t vmsys_vmo_child_precheck(uint32_t options);

/*
 * zx_vmo_create_child option checks that need only the parent handle's rights (after the
 * handle and rights checks, before the VM's own): SLICE takes only NO_WRITE; REFERENCE only
 * RESIZABLE (and RESIZABLE needs RESIZE on the handle: ACCESS_DENIED), then
 * NOT_SUPPORTED (Beryl has no reference children); otherwise exactly one snapshot kind
 * and only RESIZABLE / NO_WRITE besides. INVALID_ARGS on any violation.
 */
zx_status_t vmsys_vmo_child_check(uint32_t options, zx_rights_t parent_rights);

/* Rights of a child VMO, from the parent handle's (docs/syscalls.md, zx_vmo_create_child):
 * RESIZE only with ZX_VMO_CHILD_RESIZABLE; GET_PROPERTY and SET_PROPERTY added; NO_WRITE
 * drops WRITE; otherwise a snapshot gains WRITE and loses EXECUTE. */
zx_rights_t vmsys_vmo_child_rights(zx_rights_t parent_rights, uint32_t options);

/* Rights of a VMAR handle: ZX_DEFAULT_VMAR_RIGHTS plus READ / WRITE / EXECUTE for each
 * CAN_MAP_READ / WRITE / EXECUTE in can_map. */
zx_rights_t vmsys_vmar_rights(zx_vm_option_t can_map);

/* zx_vmar_allocate's first check after the handle lookup: CAN_MAP_R/W/X need
 * READ/WRITE/EXECUTE -> ACCESS_DENIED. */
zx_status_t vmsys_vmar_allocate_check_rights(zx_vm_option_t options, zx_rights_t vmar_rights);

/* zx_vmar_map: the ZX_VM_PERM_* set both handles allow (the max_perms of vmar_map). */
zx_vm_option_t vmsys_map_max_perms(zx_rights_t vmar_rights, zx_rights_t vmo_rights);

/* zx_vmar_protect's first check after the handle lookup (READ_IF_XOM_UNSUPPORTED counts
 * as PERM_READ on x86): returns the rights the VMAR handle needs. */
zx_rights_t vmsys_vmar_protect_rights(zx_vm_option_t options);

/*
 * zx_vmo_op_range: the rights op needs, in *required; *any_of is set when one of them
 * suffices (LOCK family: READ or WRITE). INVALID_ARGS for an unknown op.
 */
zx_status_t vmsys_vmo_op_rights(uint32_t op, zx_rights_t *required, bool *any_of);

/* zx_vmo_op_range rights check as a whole (ACCESS_DENIED / INVALID_ARGS / OK). */
zx_status_t vmsys_vmo_op_check(uint32_t op, zx_rights_t rights);

/* zx_vmar_op_range checks before the VM: unknown op -> INVALID_ARGS, rights ->
 * ACCESS_DENIED, a buffer (non-zero pointer or size) -> INVALID_ARGS. */
zx_status_t vmsys_vmar_op_check(uint32_t op, zx_rights_t rights, uintptr_t buffer,
                                size_t buffer_size);

/* True if [offset, offset + len) lies within size bytes without overflowing. */
bool vmsys_range_ok(uint64_t size, uint64_t offset, uint64_t len);

#endif
