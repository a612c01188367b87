/*
 * The architecture's part of a thread: its saved kernel context and the user-mode
 * registers the kernel keeps for it (struct arch_thread, defined by <arch/arch_impl.h>
 * and embedded in struct thread as `arch`).
 *
 * Rules: every function runs on the boot CPU with interrupts off unless it says
 * otherwise; struct arch_thread is touched only through these functions and those of
 * <arch/user.h> and <arch/fpu.h>.
 */
#ifndef ARCH_THREAD_H
#define ARCH_THREAD_H

#include <stdbool.h>
#include <stdint.h>
#include <arch/arch_impl.h>

/*
 * Prepares a thread that has never run (any interrupt state): zeroes *a, records
 * stack_top as where its ring-3 entries land, and builds a first context on the stack
 * below stack_top so that the first arch_context_switch to it calls trampoline (which
 * must never return) with a normally aligned stack.
 */
void arch_thread_init(struct arch_thread *a, uintptr_t stack_top, void (*trampoline)(void));

/*
 * ARCH_THREAD_OUTERMOST_FRAME(), a statement (defined by <arch/arch_impl.h>): the first
 * statement of the trampoline, the bottom of every new thread's stack. It marks that
 * frame as the outermost one for debuggers, so a backtrace ends there cleanly instead of
 * going on through the fake return address arch_thread_init leaves below it. Makes no
 * code.
 */

/*
 * Called by the scheduler right before arch_context_switch(from, to): points the
 * CPU's ring-3 entries (TSS rsp0, the syscall stack) at to's kernel stack and, for a
 * user thread, loads its FS / GS bases, its extended state (eager load, deferred save:
 * <arch/fpu.h>) and its syscall entry (normal or restricted mode). from_dead: `from` has
 * exited and never runs again, so its extended state needs no save.
 */
void arch_thread_switch(struct arch_thread *from, bool from_dead, struct arch_thread *to);

/* Saves the callee-saved registers and stack pointer of the running thread in *from,
 * loads *to's, and returns on to's stack (where to last called this, or into its
 * trampoline). */
void arch_context_switch(struct arch_thread *from, struct arch_thread *to);

#endif
