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
/* Guards the record across CPUs. A bare flag, not a spinlock_t: the record is written
 * from inside arch_irq_restore, below the lock layer and its validator. */
static uint32_t record_lock;

static void record_lock_take(void) {
    while (__atomic_exchange_n(&record_lock, 1, __ATOMIC_ACQUIRE) != 0)
        arch_spin_pause();
}

static void record_lock_drop(void) { __atomic_store_n(&record_lock, 0, __ATOMIC_RELEASE); }

/* Interrupts are off here (every caller runs just before turning them on). Another CPU
 * may have recorded a longer stretch since the caller looked. */
void arch_irqoff_record(uint64_t ticks, uintptr_t end_pc) {
    record_lock_take();
    if (ticks > arch_irqoff_max) {
        __atomic_store_n(&arch_irqoff_max, ticks, __ATOMIC_RELAXED);
        irqoff_max_start_pc = arch_get_percpu()->irqoff_start_pc;
        irqoff_max_end_pc = end_pc;
    }
    record_lock_drop();
}

void irqoff_get(struct irqoff_stats *out) {
    uint64_t flags = x86_save_flags();
    x86_cli();
    record_lock_take();
    out->max_ticks = arch_irqoff_max;
    out->start_pc = irqoff_max_start_pc;
    out->end_pc = irqoff_max_end_pc;
    record_lock_drop();
    if (flags & X86_FLAGS_IF)
        x86_sti();
    out->max_ns = x86_tsc_to_ns(out->max_ticks);
}

void irqoff_reset(void) {
    uint64_t flags = x86_save_flags();
    x86_cli();
    record_lock_take();
    __atomic_store_n(&arch_irqoff_max, 0, __ATOMIC_RELAXED);
    irqoff_max_start_pc = irqoff_max_end_pc = 0;
    record_lock_drop();
    if (flags & X86_FLAGS_IF)
        x86_sti();
}
