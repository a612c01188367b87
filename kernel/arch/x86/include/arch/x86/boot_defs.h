/* Constants shared by the boot assembly, the linker script and C. */
#ifndef ARCH_X86_BOOT_DEFS_H
#define ARCH_X86_BOOT_DEFS_H

#define KERNEL_VMA_BASE 0xffffffff80000000 /* -2 GiB: the image runs here */
#define KERNEL_LOAD_PHYS 0x100000          /* GRUB loads the image at 1 MiB */

#define BOOT_STACK_SIZE 16384
#define BOOT_IDENTITY_GIB 4                /* early identity map: [0, 4 GiB) with 2 MiB pages */

#define X86_GDT_KERNEL_CODE 0x08
#define X86_GDT_KERNEL_DATA 0x10
#define X86_GDT_USER_DATA 0x1b             /* 0x18 | RPL 3 */
#define X86_GDT_USER_CODE 0x23             /* 0x20 | RPL 3 */
#define X86_GDT_TSS 0x28

#endif
