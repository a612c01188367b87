/*
 * x86-64 internals shared by the files of kernel/arch/x86 (generic code uses the headers
 * of kernel/include/arch/ instead). Functions marked (entry) live in the entry layer,
 * kernel/arch/x86/entry/.
 */
#ifndef ARCH_X86_ARCH_H
#define ARCH_X86_ARCH_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/compiler.h>
#include <kernel/boot_info.h>
#include <arch/x86/percpu.h>

/* CPU features detected once at boot (x86_cpu_features_init). */
struct x86_features {
    char vendor[13];
    uint32_t max_leaf;
    uint32_t max_ext_leaf;
    bool nx, smep, smap, page1g, pge, pat, la57, pcid, invpcid, x2apic, apic;
    uint32_t phys_addr_bits, virt_addr_bits;
};
extern struct x86_features x86_features;

/* Sets up the boot CPU's struct arch_percpu (percpu.c); first thing in arch_early_init. */
void x86_percpu_init(void);
/* CPU cpu_num's struct arch_percpu (its cpu_num and self set), or NULL when cpu_num is
 * not below SMP_MAX_CPUS (percpu.c). */
struct arch_percpu *x86_percpu_of(uint32_t cpu_num);
/* Records how many CPUs run (arch_cpu_count): one more each time a CPU has started and
 * can serve IPIs. */
void x86_percpu_set_running(uint32_t count);

/* On a CPU whose GS base points at its struct arch_percpu (the CPUs other than the boot
 * CPU; kernel/arch/x86/boot/smp.c): that struct, read through GS. */
static inline struct arch_percpu *x86_percpu_gs_self(void) {
    struct arch_percpu *self;
    __asm__ volatile("movq %%gs:%c1, %0" : "=r"(self) : "i"(X86_PERCPU_SELF));
    return self;
}
/* cpuid + enable NX, SMEP, SMAP, PGE, WP, and the extended state (<arch/x86/fpu.h>) */
void x86_cpu_features_init(void);
/* The same protections and extended state on another CPU, from what the boot CPU found
 * (the CPUs of one machine are alike; kernel/arch/x86/boot/smp.c). */
void x86_cpu_features_init_other_cpu(void);
void x86_gdt_init(void);            /* final GDT + TSS with IST stacks (boot CPU) */
void x86_idt_init(void);            /* IDT for all exception vectors (entry) */
void x86_idt_load(void);            /* loads that IDT on another CPU (entry) */
/* EFER.SCE, STAR, FMASK and the syscall entry points (entry); see syscall.c there. */
void x86_syscall_init(void);
/* The same MSRs on another CPU, with LSTAR at the normal entry registered now (entry). */
void x86_syscall_init_other_cpu(void);
/* The normal syscall entry point registered with x86_set_syscall_entries (user.c). */
uintptr_t x86_syscall_entry_normal(void);
/* The two syscall entry points LSTAR may hold (user.c writes LSTAR on a switch). */
void x86_set_syscall_entries(uintptr_t normal, uintptr_t restricted);

/* The FS / GS selectors were reloaded: the bases the CPU holds are unknown (user.c;
 * the loads themselves are arch_user_bases_load and arch_syscall_entry_load,
 * <arch/arch_impl.h>). Interrupts off. */
void x86_user_bases_forget(void);
/* The stack the CPU loads on an interrupt or exception from ring 3 (the running thread's
 * kernel stack top; set on every context switch). */
void x86_tss_set_rsp0(uint64_t rsp0);
/* Acknowledges the interrupt being handled at the local APIC (lapic.c). */
void x86_lapic_eoi(void);
/* The running CPU's local APIC ID (xAPIC: 8 bits; lapic.c, after arch_timer_init). */
uint32_t x86_lapic_id(void);
/* The interrupt command register (lapic_icr.c): lapic.c hands over the mapped registers;
 * until then every send returns false. */
void x86_lapic_icr_attach(volatile uint32_t *regs);
/* INIT and STARTUP IPIs to the CPU with local APIC ID apic_id (xAPIC: below 255), for
 * bringing it up; vector is the start page's number (address >> 12). Each returns false
 * when the local APIC did not deliver the IPI in time. Interrupts on or off. */
bool x86_lapic_send_init(uint32_t apic_id);
bool x86_lapic_send_startup(uint32_t apic_id, uint8_t vector);
/* A fixed-vector IPI to a running CPU (false when not delivered in time). Interrupts off,
 * so no other send on this CPU interleaves with the two register writes. */
bool x86_lapic_send_fixed(uint32_t apic_id, uint8_t vector);
/* An NMI to every other CPU (the panic stop); false if the ICR did not come free. Works
 * before the clock runs. */
bool x86_lapic_send_nmi_all_but_self(void);
/* Turns on the calling (non-boot) CPU's local APIC and starts its timer at the boot
 * CPU's calibrated tick (after arch_timer_init ran there). */
void x86_lapic_init_other_cpu(void);

/* The panic stop (panic_stop.c): true once a CPU has started stopping the others; the
 * NMI handler of a stopped CPU records its frame and halts for good. */
bool x86_panic_stopping(void);
struct x86_iframe;
__noreturn void x86_panic_stop_this_cpu(const struct x86_iframe *f);
/* Timer interrupts taken since boot (entry/irq.c). */
uint64_t x86_timer_ticks(void);
/* TSC ticks as nanoseconds (0 before the timer is calibrated; tsc.c). */
uint64_t x86_tsc_to_ns(uint64_t ticks);
/* Starts the clock at the calibrated TSC rate: current_time() counts from now. */
void x86_tsc_start(uint64_t hz);

/*
 * Finds the entry that maps va in the current tables. Returns the entry value (0 if not
 * mapped) and stores the level it was found at (0 = PT ... 3 = PML4) in *level. Used by
 * boot tests; the full walker comes with the MMU engine.
 */
uint64_t x86_mmu_boot_lookup(uintptr_t va, int *level);

/* Prints the page-table walk for vaddr in the tables loaded in CR3 (fault reports). */
void x86_mmu_dump_walk_current(uintptr_t vaddr);

/* Physical address of the kernel PML4 (valid after arch_mmu_boot_init). */
uint64_t x86_kernel_pml4_phys(void);
/* The end of the physmap: physical [0, end) is mapped at PHYSMAP_BASE (valid after
 * arch_mmu_boot_init; mmu/boot.c). */
uint64_t x86_physmap_end(void);

#endif
