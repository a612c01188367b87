/*
 * Kernel stacks in the kernel aspace (<vm/vm_kernel.h>).
 *
 * Layout of one stack, inside its own sub-VMAR of the kernel root VMAR:
 *
 *   vmar base                  base = vmar base + guard            top = base + size
 *   | guard (never mapped)     | stack: mapping of the committed VMO |
 *
 * The sub-VMAR reserves the guard: nothing else can ever be placed there, and since the
 * VMAR has no mapping over it a stray access faults (no VMAR mapping: NOT_FOUND).
 */
#include <kernel/assert.h>
#include <lib/string.h>
#include <vm/vm_kernel.h>

#define STACK_PERMS (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)
#define STACK_VMAR_FLAGS (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC)

zx_status_t vm_kernel_stack_alloc(size_t size, vaddr_t *top, struct vm_kernel_stack *out) {
    vm_aspace_t *kas = vm_aspace_kernel();
    if (!kas)
        return ZX_ERR_BAD_STATE;
    if (size == 0 || size > KERNEL_DYNAMIC_SIZE - KERNEL_STACK_GUARD_SIZE)
        return ZX_ERR_INVALID_ARGS;
    size = ROUNDUP(size, PAGE_SIZE);

    vmo_t *vmo = NULL;
    vmar_t *vmar = NULL;
    vaddr_t vmar_base = 0, base = 0;
    zx_status_t st = vmo_create_paged(size, 0, &vmo);
    if (st == ZX_OK)
        st = vmo_commit(vmo, 0, size);
    if (st == ZX_OK)
        st = vmar_allocate(vm_aspace_root_vmar(kas), 0, size + KERNEL_STACK_GUARD_SIZE,
                           STACK_VMAR_FLAGS, &vmar, &vmar_base);
    if (st == ZX_OK)
        st = vmar_map(vmar, KERNEL_STACK_GUARD_SIZE, vmo, 0, size,
                      ZX_VM_SPECIFIC | ZX_VM_MAP_RANGE | STACK_PERMS, STACK_PERMS, &base);
    if (st != ZX_OK) {
        if (vmar) {
            vmar_destroy(vmar);
            vmar_unref(vmar);
        }
        if (vmo)
            vmo_unref(vmo);
        return st;
    }
    DEBUG_ASSERT(base == vmar_base + KERNEL_STACK_GUARD_SIZE);
    out->vmar = vmar;
    out->vmo = vmo;
    out->base = base;
    out->size = size;
    *top = base + size;
    return ZX_OK;
}

void vm_kernel_stack_free(struct vm_kernel_stack *stack) {
    zx_status_t st = vmar_destroy(stack->vmar); /* unmaps; drops the mapping's VMO ref */
    ASSERT(st == ZX_OK);
    vmar_unref(stack->vmar);
    vmo_unref(stack->vmo); /* the last reference: the pages go back to the PMM */
    memset(stack, 0, sizeof(*stack));
}
