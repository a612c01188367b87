/*
 * Multiboot2 entry: GRUB jumps to _start32 in 32-bit protected mode with paging off,
 * eax = bootloader magic, ebx = physical address of the boot information.
 *
 * We build temporary page tables that identity-map [0, 4 GiB) and map the kernel at
 * -2 GiB (-> physical 0..2 GiB), enter long mode, jump to the higher half, clear .bss,
 * and call kmain(magic, mbi_phys). kmain replaces these tables with the real ones.
 */
#include <arch/x86/boot_defs.h>
#define X86_MSR_GS_BASE 0xc0000101

#define MB2_ARCH_I386 0
#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80
#define PAGE 4096

/* ---- Multiboot2 header (must lie in the first 32 KiB of the file, 8-byte aligned) ---- */
.section .multiboot2, "a"
.balign 8
mb2_header:
    .long 0xe85250d6                                 /* header magic */
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long 0x100000000 - (0xe85250d6 + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    .balign 8                                        /* end tag */
    .short 0
    .short 0
    .long 8
mb2_header_end:

/* ---- Early page tables, stack for 32-bit code: low memory, identity-addressed ---- */
.section .boot.bss, "aw", @nobits
.balign PAGE
boot_pml4:      .skip PAGE
boot_pdpt_low:  .skip PAGE
boot_pdpt_high: .skip PAGE
boot_pd:        .skip PAGE * BOOT_IDENTITY_GIB
boot_stack32:   .skip 1024
boot_stack32_top:

.section .boot.data, "aw"
.balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff   /* 0x08: 64-bit code, DPL 0 */
    .quad 0x00cf92000000ffff   /* 0x10: data, DPL 0 */
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt
.global boot_mb_magic, boot_mb_info
boot_mb_magic: .long 0
boot_mb_info:  .long 0

.section .boot.text, "ax"
.code32
.global _start32
_start32:
    cli
    cld
    mov $boot_stack32_top, %esp
    mov %eax, boot_mb_magic
    mov %ebx, boot_mb_info

    /* Long mode available? (cpuid 0x80000001 edx bit 29). If not, halt: nothing to print on. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    test $(1 << 29), %edx
    jz no_long_mode

    /* Zero the early tables (GRUB does not promise to clear NOBITS memory). */
    mov $boot_pml4, %edi
    xor %eax, %eax
    mov $((3 + BOOT_IDENTITY_GIB) * PAGE / 4), %ecx
    rep stosl

    /* PML4[0] -> pdpt_low, PML4[511] -> pdpt_high */
    mov $boot_pdpt_low, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pml4
    mov $boot_pdpt_high, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pml4 + 511 * 8

    /* pdpt_low[i] -> pd[i] for the identity map; pdpt_high[510,511] -> pd[0,1] (-2 GiB). */
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $12, %eax
    add $boot_pd, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pdpt_low(, %ecx, 8)
    inc %ecx
    cmp $BOOT_IDENTITY_GIB, %ecx
    jb 1b
    mov $boot_pd, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pdpt_high + 510 * 8
    add $PAGE, %eax
    mov %eax, boot_pdpt_high + 511 * 8

    /* pd entries: 2 MiB pages covering [0, BOOT_IDENTITY_GIB GiB). The high dword holds
     * bits 32+ of the physical address (entry i maps i * 2 MiB). */
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_P | PTE_W | PTE_PS), %eax
    mov %eax, boot_pd(, %ecx, 8)
    mov %ecx, %eax
    shr $11, %eax
    mov %eax, boot_pd + 4(, %ecx, 8)
    inc %ecx
    cmp $(512 * BOOT_IDENTITY_GIB), %ecx
    jb 2b

    /* CR4.PAE, CR3, EFER.LME, then CR0.PG|WP. */
    mov %cr4, %eax
    or $(1 << 5), %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or $(1 << 8), %eax
    wrmsr
    mov %cr0, %eax
    or $((1 << 31) | (1 << 16) | 1), %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $X86_GDT_KERNEL_CODE, $long_mode_entry

no_long_mode:
    hlt
    jmp no_long_mode

.code64
long_mode_entry:
    mov $X86_GDT_KERNEL_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    movabs $higher_half_entry, %rax
    jmp *%rax

.section .text.boot64, "ax"
/* CFI (into .debug_frame, which the kernel keeps): the bottom of the boot thread's stack,
 * whose return address is undefined, so a debugger's backtrace from kmain and everything
 * it calls ends here. The directives make no code. */
.cfi_sections .debug_frame
higher_half_entry:
    .cfi_startproc simple
    .cfi_def_cfa rsp, 0
    .cfi_undefined rip
    /* Clear .bss before anything uses it (the boot stack lives there, still unused). */
    movabs $__bss_start, %rdi
    movabs $__bss_end, %rcx
    sub %rdi, %rcx
    xor %eax, %eax
    rep stosb

    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp                 /* terminates frame-pointer backtraces */
    /* GS base: the boot CPU's struct arch_percpu (<arch/arch_impl.h>), before any C code
     * asks which CPU it runs on. Its initializer lives in .data, which the clear above
     * leaves alone. */
    movl $X86_MSR_GS_BASE, %ecx
    movabs $arch_boot_percpu, %rax
    movq %rax, %rdx
    shrq $32, %rdx
    wrmsr
    mov boot_mb_magic, %edi
    mov boot_mb_info, %esi
    call kmain
3:  cli
    hlt
    jmp 3b
    .cfi_endproc

.section .bss
.balign 16
.global boot_stack_bottom, boot_stack_top
boot_stack_bottom:
    .skip BOOT_STACK_SIZE
boot_stack_top:
