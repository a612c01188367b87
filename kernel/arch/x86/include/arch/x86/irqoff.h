/*
 * Interrupts-off accounting (the arch half of <kernel/irqoff.h>).
 *
 * Every place where the kernel itself turns interrupts off (x86_irq_disable, the
 * irqsave spinlocks, and exception/interrupt entry when the interrupted code had them
 * on) starts a stretch: the TSC and the code address are noted. Every place that turns
 * them back on (x86_irq_enable, spin_unlock_irqrestore, the return from an
 * exception/interrupt to code that had them on, the idle loop's halt) ends it and keeps
 * the longest one. A stretch may start on one thread and end on another (a context
 * switch happens with interrupts off): what is measured is the CPU's time without
 * interrupts. The few instructions of the entry and exit stubs are not counted.
 *
 * Single CPU: the state is one set of globals (per-CPU data on SMP).
 */
#ifndef ARCH_X86_IRQOFF_H
#define ARCH_X86_IRQOFF_H

#include <stdint.h>
#include <arch/x86/cpu.h>

/* The address of the instruction where this expands (the inlined caller's code). */
#define X86_HERE()                                                  \
    ({                                                              \
        uintptr_t here_;                                            \
        __asm__ volatile("leaq 0(%%rip), %0" : "=r"(here_));        \
        here_;                                                      \
    })

extern uint64_t x86_irqoff_start;  /* TSC at the start of the current stretch; 0: none */
extern uintptr_t x86_irqoff_start_pc;
extern uint64_t x86_irqoff_max;    /* longest stretch so far, in TSC ticks */

/* Slow path of x86_irqoff_end: a new longest stretch of `ticks` ending at end_pc. */
void x86_irqoff_record(uint64_t ticks, uintptr_t end_pc);

/* Interrupts were just turned off at pc. */
static inline void x86_irqoff_begin(uintptr_t pc) {
    x86_irqoff_start = x86_rdtsc();
    x86_irqoff_start_pc = pc;
}

/* Interrupts are about to be turned on at pc. */
static inline void x86_irqoff_end(uintptr_t pc) {
    uint64_t start = x86_irqoff_start;
    if (start == 0)
        return;
    x86_irqoff_start = 0;
    uint64_t ticks = x86_rdtsc() - start;
    if (ticks > x86_irqoff_max)
        x86_irqoff_record(ticks, pc);
}

/* cli / sti with the accounting above. Disabling when already disabled (or enabling
 * when enabled) changes nothing. */
static inline void x86_irq_disable(void) {
    uint64_t flags = x86_save_flags();
    x86_cli();
    if (flags & X86_FLAGS_IF)
        x86_irqoff_begin(X86_HERE());
}
static inline void x86_irq_enable(void) {
    if (!(x86_save_flags() & X86_FLAGS_IF))
        x86_irqoff_end(X86_HERE());
    x86_sti();
}

#endif
