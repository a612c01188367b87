/*
 * What panics, backtraces and the debugging workflows need from the CPU.
 */
#ifndef ARCH_DEBUG_H
#define ARCH_DEBUG_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/compiler.h>

/* True if [addr, addr + len) lies inside a stack the backtrace may walk without
 * faulting: the boot stack or an exception stack of the architecture. Thread stacks
 * are not included (their guard pages make them unsafe to walk blindly). */
bool arch_is_kernel_stack(uintptr_t addr, uintptr_t len);

/* Turns interrupts off for good, without the interrupts-off accounting (a panic never
 * turns them back on). */
void arch_panic_irq_off(void);

/* Interrupts off and halt, for good (a CPU that waits to be stopped). */
__noreturn void arch_halt_forever(void);

struct thread;
/* Stops every other running CPU for good (on x86 an NMI, which interrupts-off code
 * takes too) and waits a bounded time for each to record where it stopped. Interrupts
 * off. */
void arch_panic_stop_other_cpus(void);
/* After arch_panic_stop_other_cpus: true if CPU `cpu` stopped, with the pc it was at and
 * the thread it was running (NULL before the scheduler ran there). */
bool arch_panic_cpu_state(uint32_t cpu, uintptr_t *pc, struct thread **thread);

/* Ends the machine: tells the emulator (QEMU's isa-debug-exit, Bochs' shutdown port)
 * the result, flushing the serial console first; halts forever if neither listened. */
__noreturn void arch_poweroff(bool success);

/* A breakpoint for the Bochs debugger (magic_break, docs/debugging.md); a no-op
 * instruction everywhere else. */
void arch_debug_break(void);

/* The same breakpoint with value (an address the stop is about) in a register the
 * debugger shows: rax on x86 (docs/debugging.md, "Bochs"). */
void arch_debug_break_at(uintptr_t value);

/*
 * debug.break=syscall:NAME (<kernel/debug_break.h>): from now on every syscall goes
 * through trap_syscall_break (<kernel/trap.h>) before its dispatch, for the rest of the
 * boot. The normal entry point is swapped for one that makes the call, so without this
 * the syscall path is unchanged. Call once at boot, after arch_init and before any user
 * thread runs.
 */
void arch_syscall_break_enable(void);

#endif
