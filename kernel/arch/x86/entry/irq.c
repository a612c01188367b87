/*
 * Interrupt entry (vectors >= 32): the local APIC's timer and spurious vectors, Beryl's
 * only interrupt sources so far (lapic.c). Each timer tick goes up as trap_timer_tick.
 */
#include <arch/x86/arch.h>
#include <arch/x86/iframe.h>
#include <kernel/trap.h>

static uint64_t timer_ticks;

uint64_t x86_timer_ticks(void) { return timer_ticks; }

void x86_irq_handler(struct x86_iframe *f) {
    if (f->vector == X86_VECTOR_SPURIOUS)
        return; /* no EOI for a spurious interrupt */
    x86_lapic_eoi();
    if (f->vector == X86_VECTOR_TIMER) {
        timer_ticks++;
        trap_timer_tick();
    }
}
