/*
 * Interrupt state of the running CPU: the generic interface every lock and the
 * scheduler use (implemented by the architecture as static inline functions, so a
 * spinlock costs what the instructions cost).
 *
 * All of them act on the calling CPU only. Turning interrupts off and on is counted by
 * the interrupts-off accounting (<arch/irqoff.h>). Interrupts between CPUs (IPIs) are
 * not here: with one CPU there are none; the SMP work adds arch_ipi_* next to these.
 */
#ifndef ARCH_IRQ_H
#define ARCH_IRQ_H

#include <stdbool.h>
#include <stdint.h>
/* arch_irq_state_t, what arch_irq_save returns, and the inline bodies. */
#include <arch/arch_impl.h>

#ifdef BERYL_HOST
/* Host builds of kernel code (unit tests): no interrupts; every lock is "irqsave". */
static inline arch_irq_state_t arch_irq_save(void) { return 0; }
static inline void arch_irq_restore(arch_irq_state_t s) { (void)s; }
static inline bool arch_irqs_disabled(void) { return true; }
#else
#include <arch/irqoff.h>

/* Turns interrupts off and returns the state to hand to arch_irq_restore. Nests. */
static inline arch_irq_state_t arch_irq_save(void);

/* Puts back the state arch_irq_save returned: interrupts are on again if they were on
 * at that save. */
static inline void arch_irq_restore(arch_irq_state_t state);

/* Unconditionally off / on (a no-op when already so). For code that knows the state it
 * is in: thread start, exit, the scheduler, the exception paths. */
static inline void arch_irq_disable(void);
static inline void arch_irq_enable(void);

/* True when interrupts are off on this CPU. */
static inline bool arch_irqs_disabled(void);
#endif

#endif
