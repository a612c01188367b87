/*
 * CPU bring-up in kmain's order (<arch/init.h>). The one place that calls into both
 * floors of kernel/arch/x86: the CPU services below generic code and the entry layer
 * above it (kernel/arch/x86/entry/), whose descriptor tables and MSRs it installs.
 */
#include <arch/init.h>
#include <arch/x86/arch.h>

void arch_early_init(void) {
    x86_percpu_init();
    x86_cpu_features_init();
    x86_gdt_init();
    x86_idt_init();
}

void arch_init(void) { x86_syscall_init(); }
