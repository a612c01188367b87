/*
 * Address spaces: creation/destruction around an arch aspace and a root VMAR, and page
 * fault resolution. Lock rules: vm_vmar_priv.h.
 */
#include <kernel/assert.h>
#include <lib/string.h>
#include <kernel/panic.h>
#include <vm/heap.h>
#include <vm/vm_aslr.h>
#include <vm/vm_kernel.h>
#include "vm_vmar_priv.h"

/* Addresses below this are in the user half (PML4 slots 0..255). */
#define VM_USER_HALF_TOP (1ull << 47)

/* The aspace loaded on this CPU (one CPU today), for the page-fault handler. */
static vm_aspace_t *current_aspace;

/* The kernel aspace (vm_aspace_kernel_init); never destroyed. */
static vm_aspace_t *kernel_vm_aspace;

void vm_aspace_ref(vm_aspace_t *as) { __atomic_add_fetch(&as->refcount, 1, __ATOMIC_RELAXED); }

void vm_aspace_unref(vm_aspace_t *as) {
    if (__atomic_sub_fetch(&as->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
        DEBUG_ASSERT(as->destroyed);
        kfree(as);
    }
}

/* Fills a zeroed aspace around an arch aspace and creates its root VMAR.
 * ZX_ERR_NO_MEMORY (nothing to undo but the root VMAR, which was not created). */
static zx_status_t aspace_init(vm_aspace_t *as, arch_aspace_t *arch, vaddr_t base,
                               size_t size, const char *name, uint64_t aslr_seed) {
    as->arch = arch;
    mutex_init(&as->lock);
    as->refcount = 1; /* the creator's */
    as->base = base;
    as->size = size;
    as->user = base < VM_USER_HALF_TOP;
    as->prng = aslr_seed;
    if (name)
        kstrlcpy(as->name, name, sizeof(as->name));
    as->root = vm_vmar_create_root(as);
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
    vm_aspace_t *as = kzalloc(sizeof(*as));
    if (!as)
        return ZX_ERR_NO_MEMORY;
    zx_status_t st = arch_mmu_create_unified(shared->arch, restricted->arch, &as->arch);
    if (st != ZX_OK) {
        kfree(as);
        return st;
    }
    mutex_init(&as->lock);
    as->refcount = 1;
    as->base = restricted->base;
    as->size = shared->base + shared->size - restricted->base;
    as->user = true;
    if (name)
        kstrlcpy(as->name, name, sizeof(as->name));
    vm_aspace_ref(shared);
    vm_aspace_ref(restricted);
    as->shared = shared;
    as->restricted = restricted;
    *out = as;
    return ZX_OK;
}

vm_aspace_t *vm_aspace_for_addr(vm_aspace_t *as, vaddr_t va) {
    if (!as->shared)
        return as;
    return va >= as->shared->base ? as->shared : as->restricted;
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

zx_status_t vm_aspace_destroy(vm_aspace_t *as) {
    ASSERT(as != kernel_vm_aspace); /* the arch kernel aspace is not ours to destroy */
    if (as->shared) {
        ASSERT(current_aspace != as);
        zx_status_t st = arch_mmu_destroy(as->arch);
        as->destroyed = true;
        vm_aspace_unref(as->shared);
        vm_aspace_unref(as->restricted);
        vm_aspace_unref(as);
        return st;
    }
    mutex_acquire(&as->lock);
    ASSERT(!as->destroyed);
    vmar_destroy_locked(as->root); /* unmaps everything; the root becomes dead */
    as->destroyed = true;
    mutex_release(&as->lock);
    if (current_aspace == as)
        current_aspace = NULL;
    zx_status_t st = arch_mmu_destroy(as->arch);
    vm_vmar_unref(as->root); /* the aspace's reference on its root */
    vm_aspace_unref(as);     /* the creator's */
    return st;
}

vm_vmar_t *vm_aspace_root_vmar(vm_aspace_t *as) { return as->root; }
arch_aspace_t *vm_aspace_arch(vm_aspace_t *as) { return as->arch; }
const char *vm_aspace_name(const vm_aspace_t *as) { return as->name; }

void vm_aspace_set_current(vm_aspace_t *as) { current_aspace = as; }
vm_aspace_t *vm_aspace_current(void) { return current_aspace; }

/* Checks the access against the mapping's protection at va. */
static zx_status_t fault_check_perms(zx_vm_option_t perms, uint32_t pf_flags) {
    if (!(perms & ZX_VM_PERM_READ))
        return ZX_ERR_ACCESS_DENIED; /* no access at all */
    if ((pf_flags & VM_PF_WRITE) && !(perms & ZX_VM_PERM_WRITE))
        return ZX_ERR_ACCESS_DENIED;
    if ((pf_flags & VM_PF_EXECUTE) && !(perms & ZX_VM_PERM_EXECUTE))
        return ZX_ERR_ACCESS_DENIED;
    return ZX_OK;
}

/* The mapping covering va, with the aspace lock held: NOT_FOUND, or BAD_STATE once the
 * aspace is destroyed. */
static zx_status_t find_mapping_locked(vm_aspace_t *as, vaddr_t va, vm_mapping_t **m)
    TA_REQ(as->lock) {
    if (as->destroyed)
        return ZX_ERR_BAD_STATE;
    *m = vmar_find_mapping(as->root, va, NULL);
    return *m ? ZX_OK : ZX_ERR_NOT_FOUND;
}

zx_status_t vm_aspace_lookup_vmo(vm_aspace_t *as, vaddr_t va, vm_object_t **vmo,
                                 uint64_t *vmo_offset, size_t *len_left) {
    as = vm_aspace_for_addr(as, va);
    mutex_acquire(&as->lock);
    vm_mapping_t *m = NULL;
    zx_status_t st = find_mapping_locked(as, va, &m);
    if (st == ZX_OK) {
        vmo_ref(m->vmo);
        *vmo = m->vmo;
        *vmo_offset = m->vmo_offset + (va - region_base(&m->r));
        *len_left = region_end(&m->r) - va;
    }
    mutex_release(&as->lock);
    return st;
}

/* vmo_fault_page's map callback: installs the page for a fault (VMO lock held). */
struct fault_map_ctx {
    vm_aspace_t *as;
    vaddr_t page;
    uint32_t flags;
};

static zx_status_t fault_map(void *ctx, paddr_t pa, bool writable) {
    struct fault_map_ctx *f = ctx;
    uint32_t flags = f->flags;
    if (!writable)
        flags &= ~ARCH_MMU_FLAG_PERM_WRITE;
    return arch_mmu_map(f->as->arch, f->page, &pa, 1, flags, ARCH_EXISTING_UPGRADE, NULL);
}

zx_status_t vm_aspace_page_fault(vm_aspace_t *as, vaddr_t va, uint32_t pf_flags) {
    as = vm_aspace_for_addr(as, va);
    mutex_acquire(&as->lock);
    vm_mapping_t *m = NULL;
    zx_status_t st = find_mapping_locked(as, va, &m);
    zx_vm_option_t perms = 0;
    if (st == ZX_OK) {
        perms = vm_mapping_perms_at(m, va);
        st = fault_check_perms(perms, pf_flags);
    }
    if (st == ZX_OK) {
        vaddr_t page = ROUNDDOWN(va, PAGE_SIZE);
        uint64_t off = m->vmo_offset + (page - region_base(&m->r));
        struct fault_map_ctx f = {as, page, vm_mapping_arch_flags(m, perms)};
        /* Mapped under the VMO lock: a decommit cannot free the page in between. */
        st = vmo_fault_page(m->vmo, off, pf_flags & VM_PF_WRITE, fault_map, &f);
    }
    mutex_release(&as->lock);
    return st;
}
