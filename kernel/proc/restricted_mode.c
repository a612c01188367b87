/*
 * Restricted mode's mechanism: how a thread switches modes, leaves restricted mode and
 * gives up its state VMO. The thread layer (uthread.c) calls it on the way back to user
 * mode (a kick) and at thread teardown; the syscalls and the exception path built on it
 * are in restricted.c. It calls nothing in process.c, uthread.c or restricted.c.
 *
 * Mechanics. Every user frame of a thread sits at the top of its kernel stack (syscall
 * entry and the CPU's interrupt push both start at the TSS / syscall stack top), so
 * entering means rewriting that frame with the restricted registers and returning to
 * user mode with iret (sysret cannot restore rcx and r11); leaving means saving the
 * frame to the state VMO and rewriting it with the normal-mode registers saved at entry,
 * except rip = vector, rdi = context, rsi = rax = reason. Zircon leaves the normal-mode
 * registers undefined; Beryl defines them so that a vector which is a bare `ret` makes
 * zx_restricted_enter look like a call that returned the reason (decisions.md). The
 * entering half is sys_restricted_enter's (restricted.c), with restricted_switch_mode.
 *
 * The state VMO is a one-page contiguous VMO: its page is committed at creation and
 * cannot be decommitted, so while the binding holds a reference the kernel copies the
 * registers in and out through the physmap (user threads may change the page meanwhile:
 * enter validates its own copy).
 *
 * The aspace switch (thread_set_aspace: the thread's aspace and page tables, which the
 * fault handler and the scheduler's switch read) and the syscall entry change together
 * with interrupts off, so that a switch away from the thread always sees one mode's
 * state. While a thread is in restricted mode, LSTAR points at a separate syscall entry,
 * so the normal syscall path never tests for restricted mode. `restricted.active` is
 * only changed by the thread itself.
 *
 * The registers themselves are the architecture's: the frame and the state VMO's
 * layout are converted by the functions of <arch/user.h>.
 */
#include <arch/irq.h>
#include <arch/user.h>
#include <kernel/assert.h>
#include <kernel/thread.h>
#include <phys/physmap.h>
#include <zircon/syscalls-next.h>
#include "proc_priv.h"

void restricted_switch_mode(uthread_t *ut, vm_aspace_t *to, bool active) {
    arch_irq_state_t s = arch_irq_save();
    ut->restricted.active = active;
    thread_set_aspace(&ut->thread, to);
    arch_set_syscall_entry(&ut->thread.arch, active);
    arch_irq_restore(s);
}

void restricted_resume_normal(uthread_t *ut, arch_iframe_t *f, uint64_t reason) {
    *f = ut->restricted.normal;
    arch_iframe_set_vector_call(f, ut->restricted.vector, ut->restricted.context, reason);
}

void restricted_exit(uthread_t *ut, arch_iframe_t *f, uint64_t reason) {
    DEBUG_ASSERT(ut->restricted.active && ut->restricted.state);
    arch_restricted_state_save(ut->restricted.state, f, &ut->thread.arch);
    restricted_switch_mode(ut, ut->proc->aspace, false);
    arch_set_user_bases(&ut->thread.arch, ut->restricted.normal_fs_base,
                        ut->restricted.normal_gs_base);
    restricted_resume_normal(ut, f, reason);
}

void restricted_rebind(uthread_t *ut, vmo_t *new_vmo, paddr_t state_pa) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&ut->obj.lock, &s);
    vmo_t *old = ut->restricted.state_vmo;
    ut->restricted.state_vmo = new_vmo;
    ut->restricted.state = new_vmo ? paddr_to_physmap(state_pa) : NULL;
    spin_unlock_irqrestore(&ut->obj.lock, s);
    if (old)
        vmo_unref(old);
}

void restricted_thread_destroy(uthread_t *ut) { restricted_rebind(ut, NULL, 0); }
