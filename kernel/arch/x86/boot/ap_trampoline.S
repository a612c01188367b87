/*
 * The application processors' way from reset to C (docs/architecture.md, "CPUs").
 *
 * x86_ap_trampoline .. x86_ap_trampoline_end is a blob smp.c copies to a page below
 * 1 MiB; a STARTUP IPI starts the AP there in real mode with CS = page >> 4, IP = 0.
 * The blob first writes the linear addresses it needs into its own far pointers (it
 * cannot know its address before), then goes 16-bit -> 32-bit protected mode -> long
 * mode on the temporary tables named in its parameter block (<arch/x86/smp_defs.h>),
 * and jumps to x86_ap_entry64 in the kernel image, which switches to the kernel PML4
 * and calls x86_ap_main(percpu) on the AP's own stack. Interrupts stay off throughout.
 */
#include <arch/x86/boot_defs.h>
#include <arch/x86/smp_defs.h>

#define CR0_PE (1 << 0)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
/* The trampoline's own GDT: code and data where the kernel's GDT has them, and a 32-bit
 * code segment for the step through protected mode. */
#define TRAMP_CODE64 X86_GDT_KERNEL_CODE
#define TRAMP_DATA X86_GDT_KERNEL_DATA
#define TRAMP_CODE32 0x18

#define OFF(label) ((label) - x86_ap_trampoline)

.section .rodata.ap_trampoline, "a"
.balign 16
.global x86_ap_trampoline, x86_ap_trampoline_end, x86_ap_tramp_params
.code16
x86_ap_trampoline:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    movzwl %ax, %ebx
    shll $4, %ebx                       /* ebx: the trampoline's physical address */
    leal OFF(tramp_gdt)(%ebx), %eax
    movl %eax, OFF(tramp_gdtr) + 2
    leal OFF(tramp_32)(%ebx), %eax
    movl %eax, OFF(tramp_to32)
    leal OFF(tramp_64)(%ebx), %eax
    movl %eax, OFF(tramp_to64)
    lgdtl OFF(tramp_gdtr)
    movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    ljmpl *OFF(tramp_to32)

.code32
tramp_32:
    movw $TRAMP_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl OFF(x86_ap_tramp_params) + X86_AP_PARAM_TEMP_CR3(%ebx), %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl OFF(x86_ap_tramp_params) + X86_AP_PARAM_EFER(%ebx), %eax
    wrmsr
    movl %cr0, %eax
    orl $(CR0_PG | CR0_WP | CR0_PE), %eax
    movl %eax, %cr0
    ljmpl *OFF(tramp_to64)(%ebx)

.code64
tramp_64:
    movl %ebx, %ebx                     /* zero-extended */
    movq OFF(x86_ap_tramp_params) + X86_AP_PARAM_STACK(%rbx), %rsp
    movq OFF(x86_ap_tramp_params) + X86_AP_PARAM_PERCPU(%rbx), %rdi
    movq OFF(x86_ap_tramp_params) + X86_AP_PARAM_KERNEL_CR3(%rbx), %rsi
    movq OFF(x86_ap_tramp_params) + X86_AP_PARAM_ENTRY(%rbx), %rax
    jmp *%rax

.balign 8
tramp_gdt:
    .quad 0
    .quad 0x00af9a000000ffff            /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff            /* 0x10: data */
    .quad 0x00cf9a000000ffff            /* 0x18: 32-bit code */
tramp_gdt_end:
.balign 8
tramp_gdtr:
    .short tramp_gdt_end - tramp_gdt - 1
    .long 0                             /* base: written above */
.balign 8
tramp_to32:
    .long 0                             /* offset: written above */
    .short TRAMP_CODE32
.balign 8
tramp_to64:
    .long 0
    .short TRAMP_CODE64
.balign 8
x86_ap_tramp_params:
    .skip X86_AP_PARAM_SIZE
x86_ap_trampoline_end:

/*
 * x86_ap_entry64(percpu = rdi, kernel_cr3 = rsi): the AP's first instructions in the
 * kernel image, on its own stack. The kernel PML4 does not map the trampoline, so
 * nothing here touches it again; x86_ap_main loads the AP's own GDT before any
 * segment register changes.
 */
.section .text
.cfi_sections .debug_frame
.global x86_ap_entry64
.type x86_ap_entry64, @function
x86_ap_entry64:
    .cfi_startproc simple
    .cfi_def_cfa rsp, 0
    .cfi_undefined rip                  /* the bottom of the AP's stack */
    movq %rsi, %cr3
    xorl %ebp, %ebp
    call x86_ap_main
1:  cli
    hlt
    jmp 1b
    .cfi_endproc
.size x86_ap_entry64, . - x86_ap_entry64
