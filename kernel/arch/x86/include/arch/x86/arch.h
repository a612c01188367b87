/* x86 architecture services used by the generic kernel. */
#ifndef ARCH_X86_ARCH_H
#define ARCH_X86_ARCH_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/compiler.h>
#include <kernel/boot_info.h>

/* CPU features detected once at boot (x86_cpu_features_init). */
struct x86_features {
    char vendor[13];
    uint32_t max_leaf;
    uint32_t max_ext_leaf;
    bool nx, smep, smap, page1g, pge, pat, la57, pcid, invpcid, x2apic, apic;
    uint32_t phys_addr_bits, virt_addr_bits;
};
extern struct x86_features x86_features;

/* cpuid + enable NX, SMEP, SMAP, PGE, WP, and the extended state (<arch/x86/fpu.h>) */
void x86_cpu_features_init(void);
void x86_gdt_init(void);            /* final GDT + TSS with IST stacks */
void x86_idt_init(void);            /* IDT for all exception vectors */
/* The stack the CPU loads on an interrupt or exception from ring 3 (the running thread's
 * kernel stack top; set on every context switch). */
void x86_tss_set_rsp0(uint64_t rsp0);
/* Masks the 8259s, calibrates TSC and LAPIC timer against the PIT, starts the periodic
 * tick (lapic.c). */
void x86_timer_init(void);
uint64_t x86_timer_ticks(void);
/* TSC ticks as nanoseconds (0 before the timer is calibrated). */
uint64_t x86_tsc_to_ns(uint64_t ticks);

/*
 * Builds the kernel's page tables (physmap of all RAM, kernel image with section
 * permissions, PML4 slots 256..511 pre-allocated), switches CR3 to them, then sets up the
 * vm_page array and the PMM. Panics with a clear message if memory is insufficient.
 */
void x86_mmu_boot_init(const struct boot_info *bi);

/*
 * Finds the entry that maps va in the current tables. Returns the entry value (0 if not
 * mapped) and stores the level it was found at (0 = PT ... 3 = PML4) in *level. Used by
 * boot tests; the full walker comes with the MMU engine.
 */
uint64_t x86_mmu_boot_lookup(uintptr_t va, int *level);

/* Prints the page-table walk for vaddr in the tables loaded in CR3 (fault reports). */
void x86_mmu_dump_walk_current(uintptr_t vaddr);

/* Physical address of the kernel PML4 (valid after x86_mmu_boot_init). */
uint64_t x86_kernel_pml4_phys(void);

/* Ends the machine: QEMU isa-debug-exit, then Bochs' "Shutdown" port, then halts. */
__noreturn void arch_poweroff(bool success);

/* Stack ranges the backtrace may walk (boot stack and IST stacks). */
bool x86_is_kernel_stack(uintptr_t addr, uintptr_t len);

/* Magic breakpoint for Bochs (`magic_break: enabled=1`): xchg bx, bx. */
static inline void bochs_magic_break(void) { __asm__ volatile("xchg %%bx, %%bx" ::: "memory"); }

#endif
