/*
 * The entry layer's only way up: what kernel/arch/x86/entry (exception, interrupt and
 * syscall entry, user copies, return to user mode) asks of generic code.
 *
 * The entry layer decodes the hardware's view (vectors, error codes, the saved frame)
 * and calls exactly these; generic code implements them and never calls the entry layer
 * back (its user-mode needs go to the CPU services of <arch/user.h>). Who implements
 * what: trap_timer_tick and trap_ipi_reschedule kernel/sched/sched.c; trap_page_fault and trap_user_exception
 * kernel/proc/trap.c; trap_restricted_syscall kernel/proc/restricted.c;
 * trap_return_to_user_slow kernel/proc/uthread.c; trap_syscall_break
 * kernel/proc/syscall_break.c; trap_syscall is the generated dispatcher
 * (<kernel/syscall.h>).
 *
 * Interrupt state: trap_timer_tick and trap_ipi_reschedule run with interrupts off;
 * everything else with interrupts on unless stated. Every CPU enters on its own, in
 * parallel with the others.
 */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdbool.h>
#include <stdint.h>
#include <arch/user.h>
#include <kernel/syscall.h>
#include <kernel/thread.h>
#include <kernel/user_copy.h>
#include <zircon/types.h>

/* How a page fault happened (trap_page_fault's flags). */
#define TRAP_PF_WRITE (1u << 0)       /* a write (else a read or fetch) */
#define TRAP_PF_EXECUTE (1u << 1)     /* an instruction fetch */
#define TRAP_PF_USER (1u << 2)        /* from user mode (else a kernel user copy) */
#define TRAP_PF_NOT_PRESENT (1u << 3) /* no translation (else a permission fault) */

/*
 * A page fault at user address va that the entry layer judged legitimate to resolve (a
 * user access, or a kernel user copy): offered to the VM of the current user aspace.
 * ZX_OK when the page is now mapped and the access may be retried; ZX_ERR_NOT_FOUND when
 * no user aspace is current; otherwise the VM's reason. Blocks; interrupts on.
 */
zx_status_t trap_page_fault(uintptr_t va, uint32_t flags);

/* One tick of the periodic timer (<arch/timer.h>), interrupts off: wakes sleepers and
 * may switch threads. */
void trap_timer_tick(void);

/* Another CPU asked this one to look at its run queue (arch_ipi_reschedule), or an IPI
 * call ran here: switches threads if the running one is idle and work is queued here or
 * can be taken, or may no longer run here. Interrupts off. The interrupted thread acts
 * on what it has pending (a kill, a kick) on its way back to user mode. */
void trap_ipi_reschedule(void);

/*
 * A user-mode exception nothing resolved (vm_status: why the VM did not, for a page
 * fault; what: the exception's name, for the log). A thread in restricted mode leaves
 * it and *f becomes its normal-mode frame (the exception is reported to normal mode);
 * otherwise the process is killed and the call does not return. Called with interrupts
 * on and no lock held (the VM has just been asked about a page fault).
 */
void trap_user_exception(arch_iframe_t *f, zx_status_t vm_status, const char *what);

/* Syscall num with its raw argument registers (the generated dispatcher); returns the
 * value for the user's return register, or ZX_ERR_INTERNAL_FRAME_REPLACED. */
static inline int64_t trap_syscall(uint64_t num, const uint64_t args[8]) {
    return syscall_dispatch(num, args);
}

/* debug.break=syscall:NAME (<kernel/debug_break.h>): syscall num is about to run for the
 * calling thread, called from user pc user_pc. Stops in the debugger when num's stop is
 * armed. Only the entry that arch_syscall_break_enable installs calls this. */
void trap_syscall_break(uint64_t num, uintptr_t user_pc);

/* A syscall's status when it has replaced the whole user frame (zx_restricted_enter):
 * the entry layer then returns with every register from the frame and leaves the
 * return register alone (never seen by user space). */
#define ZX_ERR_INTERNAL_FRAME_REPLACED (-503)

/* The thread the entry runs on behalf of (the calling thread). */
static inline thread_t *trap_current_thread(void) { return thread_current(); }

/* The syscall instruction executed in restricted mode (the per-thread restricted entry,
 * <arch/user.h>) by t, the calling thread: it leaves restricted mode; *f becomes its
 * normal-mode frame. */
void trap_restricted_syscall(thread_t *t, arch_iframe_t *f);

/*
 * The return to user mode. Every way back (syscall, exception, interrupt from ring 3, a
 * thread's first entry) tests, with t the calling thread and f the frame about to be
 * restored:
 *     trap_user_work_pending(t) || the pc of f >= USER_ASPACE_TOP
 * and calls trap_return_to_user_slow(f) when that holds. It acts on a pending kill (the
 * thread exits there) and on a kick of a thread in restricted mode (it leaves
 * restricted mode, rewriting *f), and kills the process rather than return to an
 * address the return instruction could not reach. Any interrupt state; returns with
 * the state it was called with.
 */
static inline bool trap_user_work_pending(const thread_t *t) {
    return __atomic_load_n(&t->pending, __ATOMIC_RELAXED) != 0;
}
void trap_return_to_user_slow(arch_iframe_t *f);

#endif
