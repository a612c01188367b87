/*
 * Address spaces: creation and teardown around an arch aspace and a root VMAR, the
 * kernel aspace, and the entry points that find the mapping at an address and hand the
 * work to it (page faults, VMO lookups). The top of the VMAR side: it calls the tree
 * (vmar.c) and mappings (vm_mapping.c), which never call back. The struct's references
 * are in vm_aspace_ref.c. Lock rules: vm_aspace_priv.h.
 */
#include <kernel/assert.h>
#include <lib/string.h>
#include <kernel/panic.h>
#include <kernel/thread.h>
#include <phys/heap.h>
#include <vm/vm_aslr.h>
#include <vm/vm_kernel.h>
#include "vmar_priv.h"

/* Addresses below this are in the user half (PML4 slots 0..255). */
#define VM_USER_HALF_TOP (1ull << 47)

/* The kernel aspace (vm_aspace_kernel_init); never destroyed. */
static vm_aspace_t *kernel_vm_aspace;

/* Fills a zeroed aspace around an arch aspace and creates its root VMAR.
 * ZX_ERR_NO_MEMORY (nothing to undo but the root VMAR, which was not created). */
static zx_status_t aspace_init(vm_aspace_t *as, arch_aspace_t *arch, vaddr_t base,
                               size_t size, const char *name, uint64_t aslr_seed) {
    vm_aspace_struct_init(as);
    as->arch = arch;
    as->base = base;
    as->size = size;
    as->user = base < VM_USER_HALF_TOP;
    as->prng = aslr_seed;
    if (name)
        kstrlcpy(as->name, name, sizeof(as->name));
    as->root = vmar_create_root(as);
    return as->root ? ZX_OK : ZX_ERR_NO_MEMORY;
}

zx_status_t vm_aspace_create(enum arch_aspace_role role, vaddr_t base, size_t size,
                             const char *name, uint64_t aslr_seed, vm_aspace_t **out) {
    vm_aspace_t *as = kzalloc(sizeof(*as));
    if (!as)
        return ZX_ERR_NO_MEMORY;
    arch_aspace_t *arch = NULL;
    zx_status_t st = arch_mmu_create(base, size, role, &arch);
    if (st != ZX_OK) {
        kfree(as);
        return st;
    }
    st = aspace_init(as, arch, base, size, name, aslr_seed);
    if (st != ZX_OK) {
        arch_mmu_destroy(arch);
        kfree(as);
        return st;
    }
    *out = as;
    return ZX_OK;
}

zx_status_t vm_aspace_create_unified(vm_aspace_t *shared, vm_aspace_t *restricted,
                                     const char *name, vm_aspace_t **out) {
    vm_aspace_check(shared);
    vm_aspace_check(restricted);
    ASSERT(!shared->shared && !restricted->shared);
    vm_aspace_t *as = kzalloc(sizeof(*as));
    if (!as)
        return ZX_ERR_NO_MEMORY;
    zx_status_t st = arch_mmu_create_unified(shared->arch, restricted->arch, &as->arch);
    if (st != ZX_OK) {
        kfree(as);
        return st;
    }
    vm_aspace_struct_init(as);
    /* Taken before a part's lock where both are held (vm_aspace_dump_walk). */
    rw_mutex_init_class(&as->lock, LOCK_CLASS_VM_ASPACE_UNIFIED);
    as->base = restricted->base;
    as->size = shared->base + shared->size - restricted->base;
    as->user = true;
    if (name)
        kstrlcpy(as->name, name, sizeof(as->name));
    vm_aspace_ref(shared);
    vm_aspace_ref(restricted);
    as->shared = shared;
    as->restricted = restricted;
    as->shared_serial = shared->serial;
    as->restricted_serial = restricted->serial;
    *out = as;
    return ZX_OK;
}

/* One part of a unified aspace, checked (debug builds) to be the aspace it was made from:
 * a part freed or reused behind the unified aspace's back would fail here. */
static vm_aspace_t *unified_part(vm_aspace_t *part, uint64_t serial) {
    DEBUG_ASSERT_MSG(part->magic == VM_ASPACE_MAGIC && part->serial == serial,
                     "unified aspace part %p is no longer the aspace it was built on", part);
    return part;
}

vm_aspace_t *vm_aspace_unified_part(vm_aspace_t *as, bool shared) {
    vm_aspace_check(as);
    DEBUG_ASSERT(as->shared);
    return shared ? unified_part(as->shared, as->shared_serial)
                  : unified_part(as->restricted, as->restricted_serial);
}

vm_aspace_t *vm_aspace_for_addr(vm_aspace_t *as, vaddr_t va) {
    vm_aspace_check(as);
    if (!as->shared)
        return as;
    vm_aspace_t *shared = vm_aspace_unified_part(as, true);
    return va >= shared->base ? shared : vm_aspace_unified_part(as, false);
}

void vm_aspace_kernel_init(void) {
    ASSERT(!kernel_vm_aspace);
    arch_aspace_t *arch = arch_mmu_kernel_aspace();
    ASSERT(arch);
    vm_aspace_t *as = kzalloc(sizeof(*as));
    if (!as || aspace_init(as, arch, KERNEL_DYNAMIC_BASE, KERNEL_DYNAMIC_SIZE, "kernel",
                           vm_aslr_kernel_seed()) != ZX_OK)
        panic("vm: no memory for the kernel aspace");
    ASSERT(!as->user);
    kernel_vm_aspace = as;
}

vm_aspace_t *vm_aspace_kernel(void) { return kernel_vm_aspace; }

/* Destroys as's page tables, once no thread runs in as: first off every CPU that kept
 * them loaded for a kernel thread (lazy TLB), since the engine refuses a loaded aspace. */
static zx_status_t destroy_arch(vm_aspace_t *as) {
    sched_evict_mmu(as->arch);
    return arch_mmu_destroy(as->arch);
}

zx_status_t vm_aspace_destroy(vm_aspace_t *as) {
    ASSERT(as != kernel_vm_aspace); /* the arch kernel aspace is not ours to destroy */
    vm_aspace_check(as);
    /* A thread's aspace is where its faults are resolved (thread_set_aspace); the caller
     * must have left this one. */
    ASSERT(!thread_current() || thread_current()->aspace != as);
    if (as->shared) {
        rw_mutex_acquire(&as->lock);
        ASSERT(!as->destroyed);
        as->destroyed = true;
        rw_mutex_release(&as->lock);
        zx_status_t st = destroy_arch(as);
        vm_aspace_unref(as); /* the creator's; the parts' references go with the last one */
        return st;
    }
    rw_mutex_acquire(&as->lock);
    ASSERT(!as->destroyed);
    vm_aspace_same_lock(&as->root->r, as);
    vmar_destroy_locked(as->root); /* unmaps everything; the root becomes dead */
    as->destroyed = true;
    rw_mutex_release(&as->lock);
    zx_status_t st = destroy_arch(as);
    vmar_unref(as->root); /* the aspace's reference on its root */
    vm_aspace_unref(as);  /* the creator's */
    return st;
}

vmar_t *vm_aspace_root_vmar(vm_aspace_t *as) { return as->root; }
arch_aspace_t *vm_aspace_arch(vm_aspace_t *as) { return as->arch; }
const char *vm_aspace_name(const vm_aspace_t *as) { return as->name; }

/* The mapping covering va, with the aspace lock held: NOT_FOUND, or BAD_STATE once the
 * aspace is destroyed. */
static zx_status_t find_mapping_locked(vm_aspace_t *as, vaddr_t va, vm_mapping_t **m)
    TA_REQ_SHARED(as->lock) {
    if (as->destroyed)
        return ZX_ERR_BAD_STATE;
    vm_aspace_same_lock_shared(&as->root->r, as);
    *m = vmar_find_mapping(as->root, va, NULL);
    return *m ? ZX_OK : ZX_ERR_NOT_FOUND;
}

zx_status_t vm_aspace_lookup_vmo(vm_aspace_t *as, vaddr_t va, bool for_write, vmo_t **vmo,
                                 uint64_t *vmo_offset, size_t *len_left) {
    as = vm_aspace_for_addr(as, va);
    rw_mutex_acquire(&as->lock);
    vm_mapping_t *m = NULL;
    zx_status_t st = find_mapping_locked(as, va, &m);
    if (st == ZX_OK) {
        vm_aspace_same_lock(&m->r, as);
        st = vm_mapping_vmo_at(m, va, for_write, vmo, vmo_offset, len_left);
    }
    rw_mutex_release(&as->lock);
    return st;
}

zx_status_t vm_aspace_mapping_at(vm_aspace_t *as, vaddr_t va, vm_map_entry_t *out) {
    as = vm_aspace_for_addr(as, va);
    rw_mutex_acquire(&as->lock);
    vm_mapping_t *m = NULL;
    zx_status_t st = find_mapping_locked(as, va, &m);
    if (st == ZX_OK) {
        vm_aspace_same_lock(&m->r, as);
        vm_mapping_info_at(m, va, out);
    }
    rw_mutex_release(&as->lock);
    return st;
}

/* Faults take the aspace lock shared: they only read the VMAR tree, and the page itself
 * is found and mapped under the VMO lock, so faults of different threads proceed in
 * parallel (docs/architecture.md, "Concurrency"). */
zx_status_t vm_aspace_page_fault(vm_aspace_t *as, vaddr_t va, uint32_t pf_flags) {
    as = vm_aspace_for_addr(as, va);
    rw_mutex_acquire_shared(&as->lock);
    vm_mapping_t *m = NULL;
    zx_status_t st = find_mapping_locked(as, va, &m);
    if (st == ZX_OK) {
        vm_aspace_same_lock_shared(&m->r, as);
        st = vm_mapping_page_fault(m, va, pf_flags);
    }
    rw_mutex_release_shared(&as->lock);
    return st;
}
