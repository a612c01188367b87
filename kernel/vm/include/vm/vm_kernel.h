/*
 * The kernel's own VM aspace and what is built on it.
 *
 * The kernel aspace wraps the arch kernel aspace adopted at boot (arch_mmu_kernel_aspace())
 * in a vm_aspace_t whose root VMAR covers only the dynamic kernel range below: mappings
 * made through the VMAR layer land there, never over the physmap or the kernel image.
 * Kernel mappings are supervisor-only (no ARCH_MMU_FLAG_PERM_USER) and global.
 *
 * Kernel stacks are mappings of committed paged VMOs, pre-populated (MAP_RANGE) so they
 * never fault, each with an unmapped guard page right below it: an overflow faults on
 * the guard instead of silently running into a neighbour.
 */
#ifndef VM_VM_KERNEL_H
#define VM_VM_KERNEL_H

#include <stddef.h>
#include <kernel/types.h>
#include <vm/vm_aspace.h>
#include <vm/vmo.h>
#include <vm/vmar.h>

/* The dynamic kernel range: PML4 slots 510 (all of it), clear of the physmap
 * (slots 256..319) and of the kernel image (the top 2 GiB, in slot 511). */
#define KERNEL_DYNAMIC_BASE 0xffffff0000000000ull
#define KERNEL_DYNAMIC_SIZE (1ull << 39) /* 512 GiB: one PML4 slot */

/* Unmapped bytes below every kernel stack. */
#define KERNEL_STACK_GUARD_SIZE ((size_t)PAGE_SIZE)

/*
 * Creates the kernel aspace (once, after vmo_zero_page_init; panics without memory).
 * vm_aspace_kernel() returns it (NULL before). It is never destroyed.
 */
void vm_aspace_kernel_init(void);
vm_aspace_t *vm_aspace_kernel(void);

struct vm_kernel_stack {
    vmar_t *vmar;     /* guard + stack; a reference */
    vmo_t *vmo;    /* the committed pages; a reference */
    vaddr_t base;        /* lowest byte of the stack (the guard is just below) */
    size_t size;         /* bytes, page-aligned */
};

/*
 * Allocates a kernel stack of roundup(size, PAGE_SIZE) bytes in the kernel aspace:
 * committed, mapped read/write, no execute, kernel-only, with KERNEL_STACK_GUARD_SIZE
 * unmapped bytes below. *top receives the address just past the stack (where a new
 * stack pointer starts) and *out the handle for vm_kernel_stack_free.
 * Errors: ZX_ERR_INVALID_ARGS (size 0 or too large), ZX_ERR_BAD_STATE (no kernel aspace
 * yet), ZX_ERR_NO_MEMORY (nothing allocated), ZX_ERR_NO_RESOURCES (range full).
 */
zx_status_t vm_kernel_stack_alloc(size_t size, vaddr_t *top, struct vm_kernel_stack *out);

/* Unmaps the stack, frees its pages and clears *stack. It must no longer be in use. */
void vm_kernel_stack_free(struct vm_kernel_stack *stack);

#endif
