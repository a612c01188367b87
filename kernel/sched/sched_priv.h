/*
 * Between the scheduler core (sched.c: run queue, switch, blocking, wait queues, the
 * tick) and the thread lifecycle above the VM (thread.c: guarded kernel stacks, thread
 * creation and teardown, the reaper). thread.c owns every stack and hands the core
 * threads to run; the core never calls thread.c, and hands dead threads back through
 * the reap list.
 *
 * Bring-up order (sched_init, thread.c): sched_bootstrap, then the idle and reaper
 * threads are created, then sched_start.
 */
#ifndef SCHED_SCHED_PRIV_H
#define SCHED_SCHED_PRIV_H

#include <kernel/thread.h>

/* Makes the boot thread the current thread, named "bootstrap", and sets up the core's
 * queues. Interrupts stay off; nothing is scheduled until sched_start. Once. */
void sched_bootstrap(void);

/*
 * Fills *t (zeroing every field first) for a thread that runs entry(arg) on the kernel
 * stack [stack_base, stack_top), which the caller owns: name copied (truncated), state
 * THREAD_INITIAL, the first switch prepared (it lands in the core's thread trampoline).
 */
void sched_thread_init(thread_t *t, const char *name, thread_entry_t entry, void *arg,
                       vaddr_t stack_base, vaddr_t stack_top);

/*
 * Starts scheduling: idle (INITIAL, never started) runs when nothing else is ready;
 * reaper is started and is the thread a dying thread hands the CPU to (it calls
 * sched_reap_next). Starts the timer and enables interrupts. Once, after
 * sched_bootstrap.
 */
void sched_start(thread_t *idle, thread_t *reaper);

/*
 * The reaper's side of the reap list (reaper thread only, interrupts on): reports the
 * thread it returned last as fully reaped (waking sched_reap_wait), blocks (not
 * interruptibly: nothing ends the reaper) until a dead thread whose stack is no longer
 * in use is queued, and returns the oldest. The caller frees its stack and calls its
 * on_reaped; the core never touches it again.
 */
thread_t *sched_reap_next(void);

#endif
