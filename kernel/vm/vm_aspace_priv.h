/*
 * Private to the VMAR side of kernel/vm: the layout of an aspace, which every file of it
 * reads (the VMAR tree takes the aspace lock and draws placements from its generator,
 * a mapping programs the aspace's page tables), and the aspace lock's rules.
 *
 * Lock rules
 *   - as->lock (a reader-writer mutex) guards the whole VMAR tree of the aspace: every tree, every
 *     region's base, size and parent, every mapping's runs and link fields, vmar->dead,
 *     as->destroyed and as->prng. Functions that need it say so with TA_REQ on the lock
 *     of the object they are given (a vmar's or a mapping's r.aspace->lock, or as->lock);
 *     where code reaches another node of the same tree (a child, a neighbour, the
 *     mapping a lookup found), vm_region_same_lock tells the analysis that node's lock
 *     is the one held, and debug builds check it. A page fault holds it shared (it only
 *     reads the tree and maps under the VMO lock), so the functions on its path say
 *     TA_REQ_SHARED; everything else holds it exclusively.
 *   - Order: aspace -> vmo -> { heap -> pmm, MMU locks }: with the aspace lock held the
 *     VMAR side calls into VMOs (vmo_fault_page, vmo_for_each_committed_run), the heap
 *     and the MMU. zx_vmar_op_range's COMMIT and DECOMMIT let go of the aspace lock
 *     around the VMO call (holding a reference on the VMO), since that work may be long
 *     and the process's faults need not wait for it. Nothing on the VMAR side runs with a
 *     VMO lock held except a mapping's unmap_range op, which reads the mapping's link
 *     window and base and calls the MMU only; those fields therefore change only with the
 *     VMO lock held as well (vmo_lock_mappings). A fault maps its page under the VMO lock
 *     (vmo_fault_page), so a concurrent decommit cannot free the page before it is mapped.
 *   - Reference counts are atomic. A VMAR holds a reference on its aspace; a parent's
 *     tree holds one reference on each child VMAR; the aspace holds one on its root.
 *     Mappings are owned by their parent's tree (one reference, plus any held through
 *     vmar_map_held) and, while alive, hold a reference on their VMO. A unified aspace
 *     holds one on each of its parts until its own struct is freed. The full table is in
 *     docs/architecture.md, "Ownership and teardown".
 */
#ifndef VM_VM_ASPACE_PRIV_H
#define VM_VM_ASPACE_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <arch/mmu.h>
#include <kernel/assert.h>
#include <kernel/compiler.h>
#include <kernel/rw_mutex.h>
#include <kernel/types.h>
#include <vm/vm_aspace.h>

/* vm_aspace.magic of a live aspace struct; a freed one is poisoned (debug builds). */
#define VM_ASPACE_MAGIC 0x61737063u /* 'aspc' */

struct vm_aspace {
    rw_mutex_t lock;
    uint32_t magic;         /* VM_ASPACE_MAGIC until freed */
    uint32_t refcount;      /* atomic */
    uint64_t serial;        /* immutable: unique per aspace ever created, never reused */
    arch_aspace_t *arch;    /* immutable */
    vmar_t *root;           /* immutable until vm_aspace_destroy */
    vaddr_t base;           /* immutable */
    size_t size;            /* immutable */
    bool user;              /* immutable: mappings get ARCH_MMU_FLAG_PERM_USER */
    bool destroyed;         /* guarded by lock */
    /* A unified aspace (vm_aspace_create_unified) has no VMARs of its own: root is NULL
     * and faults and lookups go to `restricted` (below shared->base) or `shared`. It holds
     * a reference on each from creation until its own struct is freed (not merely
     * destroyed), so a caller holding the unified aspace can always follow these; after
     * teardown they lead to destroyed parts (BAD_STATE). The serials let debug builds
     * check that a part is still the aspace it was. NULL / 0 for every other aspace.
     * Immutable. */
    vm_aspace_t *shared;
    vm_aspace_t *restricted;
    uint64_t shared_serial, restricted_serial;
    uint64_t prng;          /* guarded by lock: placement randomness */
    char name[ZX_MAX_NAME_LEN];
};

/* A use-after-free check for every entry point that takes an aspace: the struct must
 * still be a live aspace (debug builds; free in release builds). */
static inline void vm_aspace_check(const vm_aspace_t *as) {
    DEBUG_ASSERT_MSG(as->magic == VM_ASPACE_MAGIC, "vm_aspace %p used after it was freed",
                     as);
}

/* vm_aspace_ref.c: the fields every aspace starts with (its lock, magic, a fresh serial
 * and the creator's reference); the rest of the zeroed struct is the caller's. */
void vm_aspace_struct_init(vm_aspace_t *as);

/* vm_aspace.c: the shared or restricted part of a unified aspace (the caller holds the
 * unified one, so the part's struct lives; it may be destroyed). */
vm_aspace_t *vm_aspace_unified_part(vm_aspace_t *as, bool shared);

#endif
