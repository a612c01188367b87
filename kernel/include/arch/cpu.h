/*
 * The running CPU: its number, its per-CPU data, and the few instructions generic code
 * needs from it (a spin-wait hint, waiting for an interrupt, a cycle counter).
 *
 * Per-CPU data. Each CPU has one struct arch_percpu, defined by the architecture
 * (<arch/arch_impl.h>): its number, the entry paths' scratch words, the interrupts-off
 * stretch in progress, what the CPU's user-context registers hold. Generic code reads
 * only cpu_num and the running thread (arch_curr_thread); generic subsystems keep their
 * own per-CPU state in arrays indexed by CPU number. Each CPU reaches its own struct in
 * one instruction (through GS base on x86-64). A caller may use the struct only while it
 * cannot migrate (interrupts or preemption off).
 */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <arch/arch_impl.h>

/* Host builds (unit tests) have one pretend CPU, unless the test defines
 * BERYL_HOST_CPU_HOOKS and plays several CPUs with threads (tests/host/test_spinlock.c):
 * then it provides the CPU number and the spin-wait hint. */
#ifdef BERYL_HOST
#ifdef BERYL_HOST_CPU_HOOKS
uint32_t host_cpu_num(void);
void host_spin_pause(void);
static inline uint32_t arch_curr_cpu_num(void) { return host_cpu_num(); }
static inline void arch_spin_pause(void) { host_spin_pause(); }
#else
static inline uint32_t arch_curr_cpu_num(void) { return 0; }
static inline void arch_spin_pause(void) {}
#endif
static inline uint32_t arch_cpu_count(void) { return 1; }
static inline bool arch_cpus_virtual(void) { return false; }
#else
/* The number of the CPU running the caller (0 .. arch_cpu_count() - 1; the boot CPU
 * is 0). Stable only while the caller cannot migrate. */
static inline uint32_t arch_curr_cpu_num(void);

struct thread;
/* The thread the scheduler runs on this CPU (NULL before it starts), and its setter (the
 * scheduler's, with interrupts off). */
static inline struct thread *arch_curr_thread(void);
static inline void arch_set_curr_thread(struct thread *t);

/* How many CPUs are running: the boot CPU and every other CPU started at boot
 * (docs/architecture.md, "CPUs"). 1 until they are started. */
uint32_t arch_cpu_count(void);

/* The running CPU's struct arch_percpu (see above for when it may be used). */
static inline struct arch_percpu *arch_get_percpu(void);

/* Hint inside a spin-wait loop (saves power, yields to a sibling thread). */
static inline void arch_spin_pause(void);

/* Whether the CPUs are virtual ones that a host runs as its threads, so that any CPU may
 * stop for a while at any instruction, between two of its steps, while the others run
 * on (x86: CPUID's hypervisor bit). Known before a second CPU starts; never changes. */
static inline bool arch_cpus_virtual(void);

/* A free-running per-CPU cycle counter (the TSC on x86-64), read with a compiler
 * barrier on both sides so the code it brackets stays between two readings. Under QEMU's
 * -icount shift=0 it counts guest instructions (docs/benchmarks.md). */
static inline uint64_t arch_cycle_count(void);

/*
 * The idle loop's body: turns interrupts on and waits for the next one in a single step
 * (no interrupt can slip in between, or the CPU could sleep through its own wake-up),
 * ending the interrupts-off stretch. Returns after the interrupt has been handled, with
 * interrupts on.
 */
static inline void arch_idle(void);
#endif

#endif
