/* Kernel-wide scalar types. */
#ifndef KERNEL_TYPES_H
#define KERNEL_TYPES_H

#include <zircon/types.h>

typedef uint64_t paddr_t; /* physical address */
typedef uintptr_t vaddr_t; /* virtual address */

#define PAGE_SHIFT 12
#define PAGE_SIZE ((size_t)1 << PAGE_SHIFT)
#define PAGE_MASK (PAGE_SIZE - 1)

#endif
