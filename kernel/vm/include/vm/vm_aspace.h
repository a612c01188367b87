/*
 * Address spaces (Zircon's VmAspace): one arch aspace (page tables in a role) plus the
 * root VMAR covering [base, base + size) with CAN_MAP_READ|WRITE|EXECUTE|SPECIFIC.
 * A fault in the aspace is resolved by the mapping at its address, which the aspace finds
 * in its VMAR tree.
 *
 * Locking: see kernel/vm/vm_aspace_priv.h (aspace lock -> vmo lock -> heap/pmm/MMU).
 */
#ifndef VM_VM_ASPACE_H
#define VM_VM_ASPACE_H

#include <stdint.h>
#include <arch/mmu.h>
#include <kernel/types.h>

typedef struct vm_aspace vm_aspace_t;
typedef struct vmar vmar_t;

/* Page-fault flags for vm_aspace_page_fault. */
#define VM_PF_WRITE (1u << 0)       /* the access was a write */
#define VM_PF_EXECUTE (1u << 1)     /* an instruction fetch */
#define VM_PF_USER (1u << 2)        /* from user mode */
#define VM_PF_NOT_PRESENT (1u << 3) /* no translation (else a protection fault) */

/*
 * Creates an aspace: arch_mmu_create(base, size, role) and its root VMAR. A range below
 * 2^47 is a user aspace (mappings get ARCH_MMU_FLAG_PERM_USER). name is copied
 * (truncated to ZX_MAX_NAME_LEN - 1; NULL = ""). Randomized placement in it draws from
 * a generator started at aslr_seed (<vm/vm_aslr.h> says where seeds come from), so the
 * same seed and the same sequence of placements give the same addresses.
 * Errors: those of arch_mmu_create, ZX_ERR_NO_MEMORY. The caller owns one reference,
 * dropped by vm_aspace_destroy.
 */
zx_status_t vm_aspace_create(enum arch_aspace_role role, vaddr_t base, size_t size,
                             const char *name, uint64_t aslr_seed, vm_aspace_t **out);

/*
 * Creates the unified aspace of a SHARED and a RESTRICTED aspace (arch_mmu_create_unified):
 * the page tables a thread of a shared process loads in normal mode. It has no VMAR tree
 * of its own (vm_aspace_root_vmar is NULL): a fault or lookup at va is resolved in the
 * restricted aspace below the shared aspace's base and in the shared aspace above.
 * Holds a reference on both. Errors: those of arch_mmu_create_unified, NO_MEMORY.
 */
zx_status_t vm_aspace_create_unified(vm_aspace_t *shared, vm_aspace_t *restricted,
                                     const char *name, vm_aspace_t **out);

/* For a unified aspace, the part that owns va; any other aspace: itself. */
vm_aspace_t *vm_aspace_for_addr(vm_aspace_t *as, vaddr_t va);

/*
 * For the kernel debug console and the user fault report: prints as's page tables
 * (arch_mmu_dump, the whole range) or the walk for va (arch_mmu_dump_walk), holding the
 * aspace lock so that the tables cannot be destroyed meanwhile, and for the walk also
 * the lock of the part owning va in a unified aspace, so that no unmap frees a table the
 * walk reads (arch_mmu_dump reads each batch under the owning part's page-table lock).
 * The caller holds a reference on as and no VM lock. ZX_ERR_BAD_STATE (nothing printed)
 * once as (or the part) is destroyed.
 */
zx_status_t vm_aspace_dump_mmu(vm_aspace_t *as);
zx_status_t vm_aspace_dump_walk(vm_aspace_t *as, vaddr_t va);

/*
 * Destroys the root VMAR's tree (every mapping is unmapped, every VMAR becomes dead),
 * then the arch aspace (which must not be loaded on any CPU, nor be the calling thread's
 * aspace: thread_set_aspace), and drops the creator's reference; VMAR objects and other
 * references keep the struct alive (their operations return ZX_ERR_BAD_STATE). Returns
 * arch_mmu_destroy's status. A unified aspace only gives back its root table: its two
 * parts are destroyed separately (after every unified aspace built on them), and its
 * references on them go when its own struct is freed, so whoever still holds the unified
 * aspace reaches destroyed parts, never freed ones.
 */
zx_status_t vm_aspace_destroy(vm_aspace_t *as);

vmar_t *vm_aspace_root_vmar(vm_aspace_t *as);

/*
 * Prints the VM dump of as (docs/architecture.md, "Dump format"): its VMAR tree and
 * mappings, each mapping with the page-table entries it produced and its unpopulated
 * stretches; a unified aspace prints its restricted part, then its shared part. Takes
 * the aspace lock (a mutex) for the whole dump, so the caller holds no VM lock and may
 * block; interrupts on.
 */
void vm_aspace_dump(vm_aspace_t *as);
arch_aspace_t *vm_aspace_arch(vm_aspace_t *as);
const char *vm_aspace_name(const vm_aspace_t *as);

/*
 * Resolves a fault at va: finds the mapping containing it (down the VMAR tree,
 * O(depth * log n)), which checks its protection at va, gets the page from the VMO
 * (committing it on a write) and maps it (ARCH_EXISTING_UPGRADE; read-only when the VMO
 * returns a non-writable page such as the zero page).
 * Returns ZX_OK when the access can be retried; ZX_ERR_NOT_FOUND (no mapping),
 * ZX_ERR_ACCESS_DENIED (protection), ZX_ERR_OUT_OF_RANGE (beyond the VMO's size),
 * ZX_ERR_NO_MEMORY, ZX_ERR_BAD_STATE (aspace destroyed).
 */
zx_status_t vm_aspace_page_fault(vm_aspace_t *as, vaddr_t va, uint32_t pf_flags);

/*
 * Finds the mapping covering va and returns its VMO (*vmo holds a new reference), the
 * VMO offset of va and the bytes of the mapping from va to its end. Used to read or write
 * another process's memory through its VMOs. With for_write, only a mapping that could
 * ever be made writable qualifies: its maximum permissions (fixed at map time from the
 * VMO and VMAR handles' rights) include ZX_VM_PERM_WRITE. Nothing is held past the
 * return but the VMO reference. ZX_ERR_NOT_FOUND (no mapping), ZX_ERR_ACCESS_DENIED
 * (for_write on a mapping that can never be writable), ZX_ERR_BAD_STATE (aspace, or for
 * a unified aspace the part that owns va, destroyed).
 */
typedef struct vmo vmo_t;
zx_status_t vm_aspace_lookup_vmo(vm_aspace_t *as, vaddr_t va, bool for_write, vmo_t **vmo,
                                 uint64_t *vmo_offset, size_t *len_left);

/* Extra references keep the struct (not the mappings) alive across vm_aspace_destroy.
 * vm_aspace_ref needs a reference already held (nobody revives a struct whose last
 * reference went); debug builds check both against freed or reused memory. */
void vm_aspace_ref(vm_aspace_t *as);
void vm_aspace_unref(vm_aspace_t *as);

#endif
