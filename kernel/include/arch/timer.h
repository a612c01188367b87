/*
 * The clock and the periodic tick.
 *
 * The tick is the scheduler's only interrupt: each one reaches generic code as
 * trap_timer_tick (<kernel/trap.h>) through the entry layer, with interrupts off. On SMP
 * every CPU runs its own tick; arch_timer_init then becomes per CPU.
 */
#ifndef ARCH_TIMER_H
#define ARCH_TIMER_H

#include <stdint.h>
#include <zircon/types.h>

/*
 * Boot, once, from sched_init with interrupts off: quiets the legacy interrupt
 * controllers, calibrates the clock and starts the periodic tick (its first tick
 * arrives once interrupts are enabled). Prints one "timer:" line. Panics if the machine
 * has no usable timer.
 */
void arch_timer_init(void);

/* Time since boot in nanoseconds; 0 before arch_timer_init. Monotonic. */
zx_time_t current_time(void);

/* The tick counter behind current_time(): ticks since boot (on x86-64 TSC cycles
 * since the boot-time reading); 0 before arch_timer_init. Monotonic on every CPU. */
zx_ticks_t current_ticks(void);

/* The rate of current_ticks() in ticks per second, constant once arch_timer_init has
 * calibrated it (0 before). */
zx_ticks_t ticks_per_second(void);

/* Nanoseconds for a difference of two arch_cycle_count() readings (<arch/cpu.h>) taken
 * on the same CPU or on CPUs whose counters run in step (the TSC of one machine does);
 * 0 before arch_timer_init. For run-time accounting, which counts cycles at each switch
 * and converts only when asked. */
uint64_t arch_cycles_to_ns(uint64_t cycles);

#endif
