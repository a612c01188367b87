/*
 * Interrupts-off accounting, the CPU side of <kernel/irqoff.h>.
 *
 * Every place where the kernel itself turns interrupts off (arch_irq_disable, the
 * irqsave spinlocks, and exception / interrupt entry when the interrupted code had them
 * on) starts a stretch: a cycle count and the code address are noted. Every place that
 * turns them back on (arch_irq_enable, arch_irq_restore, the return from an exception
 * or interrupt to code that had them on, the idle loop's wait) ends it and keeps the
 * longest one. A stretch may start on one thread and end on another (a context switch
 * happens with interrupts off): what is measured is the CPU's time without interrupts.
 * The few instructions of the entry and exit stubs are not counted.
 *
 * The state is per CPU (struct arch_percpu, <arch/cpu.h>); the longest stretch is global.
 * Callers need nothing but interrupts off around begin ... end.
 */
#ifndef ARCH_IRQOFF_H
#define ARCH_IRQOFF_H

#include <stdint.h>

/* The architecture's inline bodies (the one indirection, described there). */
#include <arch/arch_impl.h>

/* ARCH_HERE(): the address of the instruction where it expands (in the inlined caller's
 * code), for the start and end addresses of a stretch. Defined by <arch/arch_impl.h>. */

/* Interrupts were just turned off at pc. */
static inline void arch_irqoff_begin(uintptr_t pc);

/* Interrupts are about to be turned on at pc: ends the current stretch (if one is
 * open) and records it if it is the longest so far. */
static inline void arch_irqoff_end(uintptr_t pc);

#endif
