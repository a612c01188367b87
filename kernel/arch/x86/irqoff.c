/*
 * Interrupts-off accounting: the out-of-line half of <arch/irqoff.h> and the readout of
 * <kernel/irqoff.h> (kernel/irqoff.c prints it). The stretch in progress is per CPU (struct arch_percpu); the
 * longest one is kept here.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/x86/arch.h>
#include <kernel/irqoff.h>

uint64_t arch_irqoff_max;
static uintptr_t irqoff_max_start_pc, irqoff_max_end_pc;

/* Interrupts are off here (every caller runs just before turning them on). */
void arch_irqoff_record(uint64_t ticks, uintptr_t end_pc) {
    arch_irqoff_max = ticks;
    irqoff_max_start_pc = arch_boot_percpu.irqoff_start_pc;
    irqoff_max_end_pc = end_pc;
}

void irqoff_get(struct irqoff_stats *out) {
    uint64_t flags = x86_save_flags();
    x86_cli();
    out->max_ticks = arch_irqoff_max;
    out->start_pc = irqoff_max_start_pc;
    out->end_pc = irqoff_max_end_pc;
    if (flags & X86_FLAGS_IF)
        x86_sti();
    out->max_ns = x86_tsc_to_ns(out->max_ticks);
}

void irqoff_reset(void) {
    uint64_t flags = x86_save_flags();
    x86_cli();
    arch_irqoff_max = 0;
    irqoff_max_start_pc = irqoff_max_end_pc = 0;
    if (flags & X86_FLAGS_IF)
        x86_sti();
}
