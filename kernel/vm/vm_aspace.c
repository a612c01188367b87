/*
 * Address spaces: creation/destruction around an arch aspace and a root VMAR, and page
 * fault resolution. Lock rules: vmar_priv.h.
 */
#include <kernel/assert.h>
#include <lib/string.h>
#include <kernel/panic.h>
#include <vm/heap.h>
#include <vm/vm_aslr.h>
#include <vm/vm_kernel.h>
#include "vmar_priv.h"

/* Addresses below this are in the user half (PML4 slots 0..255). */
#define VM_USER_HALF_TOP (1ull << 47)

/* Source of vm_aspace.serial (atomic; 2^64 creations never wrap in practice). */
static uint64_t aspace_serial_counter;

/* Debug builds fill a freed aspace struct with this byte before handing it back, so a
 * stale pointer finds neither the magic nor the serial it expects. */
#define VM_ASPACE_POISON_BYTE 0x6b

/* The aspace loaded on this CPU (one CPU today), for the page-fault handler. */
static vm_aspace_t *current_aspace;

/* The kernel aspace (vm_aspace_kernel_init); never destroyed. */
static vm_aspace_t *kernel_vm_aspace;

/* A use-after-free check for every entry point that takes an aspace: the struct must
 * still be a live aspace (debug builds; free in release builds). */
static inline void aspace_check(const vm_aspace_t *as) {
    DEBUG_ASSERT_MSG(as->magic == VM_ASPACE_MAGIC, "vm_aspace %p used after it was freed",
                     as);
}

/* The fields every aspace starts with: its lock, magic, a fresh serial and the creator's
 * reference. The rest of the (zeroed) struct is the caller's. */
static void aspace_struct_init(vm_aspace_t *as) {
    mutex_init(&as->lock);
    as->magic = VM_ASPACE_MAGIC;
    as->refcount = 1; /* the creator's */
    as->serial = __atomic_add_fetch(&aspace_serial_counter, 1, __ATOMIC_RELAXED);
}

/* Gives the struct of a destroyed aspace whose last reference is gone back to the heap. */
static void aspace_free(vm_aspace_t *as) {
    DEBUG_ASSERT(as->destroyed);
#if BERYL_DEBUG
    memset(as, VM_ASPACE_POISON_BYTE, sizeof(*as));
#endif
    kfree(as);
}

/* Drops one reference; true if it was the last (the caller then frees the struct). */
static bool aspace_put(vm_aspace_t *as) {
    aspace_check(as);
    uint32_t left = __atomic_sub_fetch(&as->refcount, 1, __ATOMIC_ACQ_REL);
    DEBUG_ASSERT(left != UINT32_MAX);
    return left == 0;
}

void vm_aspace_ref(vm_aspace_t *as) {
    aspace_check(as);
    uint32_t old = __atomic_fetch_add(&as->refcount, 1, __ATOMIC_RELAXED);
    DEBUG_ASSERT(old > 0); /* nobody may revive an aspace whose last reference is gone */
}

/*
 * A unified aspace's references on its parts go with its struct: the parts are freed
 * here (if nothing else holds them), right after the unified struct. Parts are never
 * unified themselves, so this goes one level deep and no further.
 */
void vm_aspace_unref(vm_aspace_t *as) {
    if (!aspace_put(as))
        return;
    vm_aspace_t *parts[2] = {as->shared, as->restricted};
    aspace_free(as);
    for (size_t i = 0; i < 2; i++) {
        if (!parts[i])
            continue;
        DEBUG_ASSERT(!parts[i]->shared);
        if (aspace_put(parts[i]))
            aspace_free(parts[i]);
    }
}

/* Fills a zeroed aspace around an arch aspace and creates its root VMAR.
 * ZX_ERR_NO_MEMORY (nothing to undo but the root VMAR, which was not created). */
static zx_status_t aspace_init(vm_aspace_t *as, arch_aspace_t *arch, vaddr_t base,
                               size_t size, const char *name, uint64_t aslr_seed) {
    aspace_struct_init(as);
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
    aspace_check(shared);
    aspace_check(restricted);
    ASSERT(!shared->shared && !restricted->shared);
    vm_aspace_t *as = kzalloc(sizeof(*as));
    if (!as)
        return ZX_ERR_NO_MEMORY;
    zx_status_t st = arch_mmu_create_unified(shared->arch, restricted->arch, &as->arch);
    if (st != ZX_OK) {
        kfree(as);
        return st;
    }
    aspace_struct_init(as);
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
    aspace_check(as);
    DEBUG_ASSERT(as->shared);
    return shared ? unified_part(as->shared, as->shared_serial)
                  : unified_part(as->restricted, as->restricted_serial);
}

vm_aspace_t *vm_aspace_for_addr(vm_aspace_t *as, vaddr_t va) {
    aspace_check(as);
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

zx_status_t vm_aspace_destroy(vm_aspace_t *as) {
    ASSERT(as != kernel_vm_aspace); /* the arch kernel aspace is not ours to destroy */
    aspace_check(as);
    if (as->shared) {
        ASSERT(current_aspace != as);
        mutex_acquire(&as->lock);
        ASSERT(!as->destroyed);
        as->destroyed = true;
        mutex_release(&as->lock);
        zx_status_t st = arch_mmu_destroy(as->arch);
        vm_aspace_unref(as); /* the creator's; the parts' references go with the last one */
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
    vmar_unref(as->root); /* the aspace's reference on its root */
    vm_aspace_unref(as);     /* the creator's */
    return st;
}

vmar_t *vm_aspace_root_vmar(vm_aspace_t *as) { return as->root; }
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

zx_status_t vm_aspace_lookup_vmo(vm_aspace_t *as, vaddr_t va, bool for_write, vmo_t **vmo,
                                 uint64_t *vmo_offset, size_t *len_left) {
    as = vm_aspace_for_addr(as, va);
    mutex_acquire(&as->lock);
    vm_mapping_t *m = NULL;
    zx_status_t st = find_mapping_locked(as, va, &m);
    if (st == ZX_OK && for_write && !(m->max_perms & ZX_VM_PERM_WRITE))
        st = ZX_ERR_ACCESS_DENIED;
    if (st == ZX_OK) {
        vmo_ref(m->vmo);
        *vmo = m->vmo;
        *vmo_offset = m->vmo_offset + (va - vm_region_base(&m->r));
        *len_left = vm_region_end(&m->r) - va;
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
        uint64_t off = m->vmo_offset + (page - vm_region_base(&m->r));
        struct fault_map_ctx f = {as, page, vm_mapping_arch_flags(m, perms)};
        /* Mapped under the VMO lock: a decommit cannot free the page in between. */
        st = vmo_fault_page(m->vmo, off, pf_flags & VM_PF_WRITE, fault_map, &f);
    }
    mutex_release(&as->lock);
    return st;
}
