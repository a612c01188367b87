/*
 * The AP start-up trampoline's layout, shared by kernel/arch/x86/boot/ap_trampoline.S
 * and kernel/arch/x86/boot/smp.c (docs/architecture.md, "CPUs").
 *
 * The trampoline occupies X86_AP_TRAMP_PAGES pages of low memory: the code and its
 * parameter block in the first page (which the STARTUP IPI names), then a PML4, a PDPT
 * and a PD that identity-map the first 2 MiB (so the switch to paging can run from low
 * memory) and share the kernel half with the kernel's own PML4.
 */
#ifndef ARCH_X86_SMP_DEFS_H
#define ARCH_X86_SMP_DEFS_H

#define X86_AP_TRAMP_PAGES 4
#define X86_AP_TRAMP_PML4_PAGE 1
#define X86_AP_TRAMP_PDPT_PAGE 2
#define X86_AP_TRAMP_PD_PAGE 3
/* The trampoline must lie where real mode reaches it and below the one identity-mapped
 * 2 MiB page; the STARTUP IPI's vector is its page number. */
#define X86_AP_TRAMP_LIMIT 0x100000u
/* Lowest address considered: page 0 holds the real-mode interrupt table and the BIOS
 * data area, and the usual boot-sector area lies below this. */
#define X86_AP_TRAMP_FLOOR 0x8000u

/* Byte offsets in the parameter block (8-byte fields; the 32-bit code reads the low
 * halves of the first two). */
#define X86_AP_PARAM_TEMP_CR3 0    /* the trampoline's PML4 (physical, below 4 GiB) */
#define X86_AP_PARAM_EFER 8        /* EFER bits to set: LME, and NXE as on the boot CPU */
#define X86_AP_PARAM_STACK 16      /* the AP's stack top (kernel virtual) */
#define X86_AP_PARAM_PERCPU 24     /* its struct arch_percpu */
#define X86_AP_PARAM_KERNEL_CR3 32 /* the kernel PML4 (physical) */
#define X86_AP_PARAM_ENTRY 40      /* x86_ap_entry64 (kernel virtual) */
#define X86_AP_PARAM_SIZE 48

#endif
