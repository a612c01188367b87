/*
 * The kernel debug console (docs/debugging.md, "The kernel debug console"): a `beryl> `
 * prompt on the serial line with commands that look around the live kernel (processes,
 * threads, a process's VMAR tree and page tables, memory, interrupt latency).
 *
 * Off unless the kernel command line switches it on:
 *   kernel.debug-console=true   a prompt after the user suite, before the kernel powers off
 *   kernel.debug-console=fault  the same, and also a prompt at each user fault nobody
 *                               handles, while the faulting process is still whole (its
 *                               faulting thread waits; `exit` lets the kernel kill it)
 * Sessions run one at a time in the console's own kernel thread; whoever opens one
 * (kmain, a faulting thread) waits until the user types `exit`.
 */
#ifndef PROC_DEBUG_CONSOLE_H
#define PROC_DEBUG_CONSOLE_H

#include <stdint.h>

#define DEBUG_CONSOLE_OPTION "kernel.debug-console"

/*
 * Reads kernel.debug-console once at boot (kmain, after proc_init and before the first
 * process): when it is on, enables the process registry and starts the console's
 * thread. An unknown value, or no memory for the thread, leaves the console off (with a
 * message).
 */
void debug_console_init(void);

/* kmain, once the user suite has ended with userboot's status rc: with the console on,
 * runs a session and returns when the user leaves it; otherwise returns at once. */
void debug_console_after_suite(int64_t rc);

/*
 * The calling user thread's process is about to be killed for a fault nobody handled
 * (uthread_exception_kill, after the fault report; interrupts on, no lock held). With
 * kernel.debug-console=fault, runs a session about that process and returns when the
 * user leaves it; otherwise returns at once. The wait is not ended by thread_kill.
 */
void debug_console_at_fault(void);

#endif
