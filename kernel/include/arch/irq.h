/*
 * Interrupt state of the running CPU: the generic interface every lock and the
 * scheduler use (implemented by the architecture as static inline functions, so a
 * spinlock costs what the instructions cost).
 *
 * All of them act on the calling CPU only. Turning interrupts off and on is counted by
 * the interrupts-off accounting (<arch/irqoff.h>). Interrupts between CPUs (IPIs) are
 * at the end: a synchronous "run this on these CPUs" call and the scheduler's
 * reschedule request.
 */
#ifndef ARCH_IRQ_H
#define ARCH_IRQ_H

#include <stdbool.h>
#include <stdint.h>
/* arch_irq_state_t, what arch_irq_save returns, and the inline bodies. */
#include <arch/arch_impl.h>

/* A set of CPUs for the IPI calls: bit n stands for CPU n. */
typedef uint64_t arch_cpu_set_t;
#define ARCH_CPU_SET_BIT(cpu) ((arch_cpu_set_t)1 << (cpu))
typedef void (*arch_ipi_fn_t)(void *arg);

#ifdef BERYL_HOST
/* Host builds of kernel code (unit tests): no interrupts; every lock is "irqsave"; one
 * CPU, so a call runs here or nowhere. */
static inline arch_irq_state_t arch_irq_save(void) { return 0; }
static inline void arch_irq_restore(arch_irq_state_t s) { (void)s; }
static inline bool arch_irqs_disabled(void) { return true; }
static inline void arch_ipi_call(arch_cpu_set_t cpus, arch_ipi_fn_t fn, void *arg) {
    if (cpus & 1)
        fn(arg);
}
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

/*
 * Runs fn(arg) on every running CPU in `cpus` (the caller's own included when its bit is
 * set) with interrupts off there, and returns once every one has returned from it. fn
 * must be short and must not block, take a lock another CPU may hold while it waits for
 * a call, or call arch_ipi_call. Callable with interrupts on or off (not from an
 * interrupt handler); while it waits it runs the calls other CPUs send this one, and
 * so does every spin-wait (arch_spin_pause), so CPUs calling each other, or one
 * spinning on a lock the caller holds, cannot deadlock.
 */
void arch_ipi_call(arch_cpu_set_t cpus, arch_ipi_fn_t fn, void *arg);

/* Asks CPU `cpu` (not the caller's) to enter the scheduler: it takes an interrupt,
 * which calls trap_ipi_reschedule (<kernel/trap.h>) and, on the way back to user mode,
 * acts on what its thread has pending. Interrupts off. */
void arch_ipi_reschedule(uint32_t cpu);

/* The running CPUs as a set (bits 0 .. arch_cpu_count() - 1). */
arch_cpu_set_t arch_cpus_running(void);
#endif

#endif
