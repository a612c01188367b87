/*
 * Interrupt entry (vectors >= 32): the local APIC's timer and spurious vectors (lapic.c)
 * and the two IPI vectors (ipi.c). Each timer tick goes up as trap_timer_tick; a
 * reschedule IPI as trap_ipi_reschedule; a call IPI runs the calls sent to this CPU.
 */
#include <arch/cpu.h>
#include <arch/x86/arch.h>
#include <arch/x86/iframe.h>
#include <arch/x86/ipi.h>
#include <kernel/trap.h>

static uint64_t timer_ticks;

/* The boot CPU's ticks (every CPU's timer runs at the same rate). */
uint64_t x86_timer_ticks(void) { return __atomic_load_n(&timer_ticks, __ATOMIC_RELAXED); }

void x86_irq_handler(struct x86_iframe *f) {
    switch (f->vector) {
    case X86_VECTOR_SPURIOUS:
        return; /* no EOI for a spurious interrupt */
    case X86_VECTOR_TIMER:
        x86_lapic_eoi();
        if (arch_curr_cpu_num() == 0)
            __atomic_store_n(&timer_ticks, timer_ticks + 1, __ATOMIC_RELAXED);
        trap_timer_tick();
        return;
    case X86_VECTOR_IPI_CALL:
        x86_lapic_eoi();
        x86_ipi_serve_calls();
        trap_ipi_reschedule(); /* a call may have made a thread ready here */
        return;
    case X86_VECTOR_IPI_RESCHEDULE:
        x86_lapic_eoi();
        trap_ipi_reschedule();
        return;
    default:
        x86_lapic_eoi();
        return;
    }
}
