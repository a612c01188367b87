/* x86-64 4-level paging: entry bits and geometry (Intel SDM Vol. 3A, ch. 4.5). */
#ifndef ARCH_X86_MMU_DEFS_H
#define ARCH_X86_MMU_DEFS_H

#define X86_PTE_P (1ull << 0)     /* present */
#define X86_PTE_W (1ull << 1)     /* writable */
#define X86_PTE_U (1ull << 2)     /* user */
#define X86_PTE_PWT (1ull << 3)
#define X86_PTE_PCD (1ull << 4)
#define X86_PTE_A (1ull << 5)     /* accessed */
#define X86_PTE_D (1ull << 6)     /* dirty */
#define X86_PTE_PS (1ull << 7)    /* large page (PDPT/PD level) */
#define X86_PTE_PAT_4K (1ull << 7)
#define X86_PTE_G (1ull << 8)     /* global */
#define X86_PTE_PAT_LARGE (1ull << 12)
#define X86_PTE_NX (1ull << 63)
#define X86_PTE_ADDR_MASK 0x000ffffffffff000ull

#define X86_PT_ENTRIES 512
#define X86_PML4_SHIFT 39
#define X86_PDPT_SHIFT 30
#define X86_PD_SHIFT 21
#define X86_PT_SHIFT 12
#define X86_PAGE_SIZE_1G (1ull << X86_PDPT_SHIFT)
#define X86_PAGE_SIZE_2M (1ull << X86_PD_SHIFT)

#define X86_VA_INDEX(va, shift) (((uint64_t)(va) >> (shift)) & (X86_PT_ENTRIES - 1))

/* PML4 slots 256..511 belong to the kernel and are shared by every address space. */
#define X86_KERNEL_PML4_FIRST 256

#endif
