/*
 * Restricted mode (docs/syscalls.md: zx_restricted_* and the decisions at its end): a
 * thread of a create_shared process runs, with the registers of its bound state VMO, on
 * its process's restricted aspace alone, and comes back to normal mode at a vector when
 * it executes `syscall`, takes an exception nobody resolves, or is kicked.
 *
 * Mechanics. Every user frame of a thread sits at the top of its kernel stack (syscall
 * entry and the CPU's interrupt push both start at the TSS / syscall stack top), so
 * entering means rewriting that frame with the restricted registers and returning to
 * user mode with iret (sysret cannot restore rcx and r11); leaving means saving the
 * frame to the state VMO and rewriting it with the normal-mode registers saved at entry,
 * except rip = vector, rdi = context, rsi = rax = reason. Zircon leaves the normal-mode
 * registers undefined; Beryl defines them so that a vector which is a bare `ret` makes
 * zx_restricted_enter look like a call that returned the reason (decisions.md).
 *
 * The state VMO is a one-page contiguous VMO: its page is committed at creation and
 * cannot be decommitted, so while the binding holds a reference the kernel copies the
 * registers in and out through the physmap (user threads may change the page meanwhile:
 * enter validates its own copy).
 *
 * The aspace switch (thread_set_aspace: the thread's aspace and page tables, which the
 * fault handler and the scheduler's switch read) happens with interrupts off so that the
 * scheduler's switch hook always sees a consistent pair.
 * While a thread is in restricted mode, LSTAR points at a separate syscall entry, so the
 * normal syscall path never tests for restricted mode. `restricted.active` is only
 * changed by the thread itself; kickers only set THREAD_PENDING_KICK, which the thread
 * consumes on its way back to user mode in restricted mode, or at its next enter (single
 * CPU: a thread running restricted code is never the kicker, so it is preempted in user
 * mode and passes the return-to-user check of <kernel/trap.h> before it runs again).
 *
 * The registers themselves are the architecture's: the frame and the state VMO's
 * layout are converted by the functions of <arch/user.h>.
 */
#include <arch/irq.h>
#include <arch/user.h>
#include <kernel/assert.h>
#include <kernel/syscall_impl.h>
#include <kernel/user_copy.h>
#include <lib/string.h>
#include <object/handle_user.h>
#include <object/vmo_dispatcher.h>
#include <phys/physmap.h>
#include <zircon/rights.h>
#include <zircon/vmo_vmar.h>
#include <zircon/syscalls-next.h>
#include "proc_priv.h"

static arch_iframe_t *user_frame(uthread_t *ut) {
    return arch_user_frame(ut->thread.stack_top);
}

/* Loads mode's aspace and syscall entry for the calling thread (interrupts off, so the
 * scheduler's switch hook sees either the old state or the new one). */
static void switch_mode(uthread_t *ut, vm_aspace_t *to, bool active) {
    arch_irq_state_t s = arch_irq_save();
    ut->restricted.active = active;
    thread_set_aspace(&ut->thread, to);
    arch_set_syscall_entry(&ut->thread.arch, active);
    arch_irq_restore(s);
}

/* f as the normal-mode frame at the vector (see the file comment). */
static void resume_normal(uthread_t *ut, arch_iframe_t *f, uint64_t reason) {
    *f = ut->restricted.normal;
    arch_iframe_set_vector_call(f, ut->restricted.vector, ut->restricted.context, reason);
}

void restricted_exit(uthread_t *ut, arch_iframe_t *f, uint64_t reason) {
    DEBUG_ASSERT(ut->restricted.active && ut->restricted.state);
    arch_restricted_state_save(ut->restricted.state, f, &ut->thread.arch);
    switch_mode(ut, ut->proc->aspace, false);
    arch_set_user_bases(&ut->thread.arch, ut->restricted.normal_fs_base,
                        ut->restricted.normal_gs_base);
    resume_normal(ut, f, reason);
}

_Static_assert(sizeof(zx_restricted_exception_t) <= PAGE_SIZE, "the state VMO is one page");

bool restricted_exception(arch_iframe_t *f, zx_status_t vm_status) {
    uthread_t *ut = uthread_current();
    if (!ut || !ut->restricted.active)
        return false;
    /* The report follows the state that restricted_exit writes (zx_restricted_exception_t);
     * it is taken from f before restricted_exit turns f into the normal-mode frame. */
    zx_exception_report_t report;
    arch_exception_report(f, vm_status, &report);
    ((zx_restricted_exception_t *)ut->restricted.state)->exception = report;
    restricted_exit(ut, f, ZX_RESTRICTED_REASON_EXCEPTION);
    return true;
}

/* Swaps the binding of ut (new_vmo may be NULL, else a contiguous VMO at state_pa);
 * drops the old one. */
static void rebind(uthread_t *ut, vmo_t *new_vmo, paddr_t state_pa) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&ut->obj.lock, &s);
    vmo_t *old = ut->restricted.state_vmo;
    ut->restricted.state_vmo = new_vmo;
    ut->restricted.state = new_vmo ? paddr_to_physmap(state_pa) : NULL;
    spin_unlock_irqrestore(&ut->obj.lock, s);
    if (old)
        vmo_unref(old);
}

void restricted_thread_destroy(uthread_t *ut) { rebind(ut, NULL, 0); }

zx_status_t sys_restricted_bind_state(uint32_t options, user_addr_t out_vmo) {
    if (options != 0)
        return ZX_ERR_INVALID_ARGS;
    vmo_t *vmo;
    zx_status_t st = vmo_create_contiguous(PAGE_SIZE, PAGE_SHIFT, &vmo);
    if (st != ZX_OK)
        return st;
    paddr_t pa = 0;
    bool writable;
    st = vmo_get_page(vmo, 0, false, &pa, &writable); /* committed at creation */
    ASSERT(st == ZX_OK);
    kobject_t *obj;
    st = vmo_dispatcher_create(vmo, &obj);
    if (st == ZX_OK) {
        st = handle_table_publish(process_current_handles(), obj, ZX_DEFAULT_VMO_RIGHTS,
                                  out_vmo, NULL);
        kobject_unref(obj);
    }
    if (st == ZX_OK)
        rebind(uthread_current(), vmo, pa); /* hands our reference to the binding */
    else
        vmo_unref(vmo);
    return st;
}

zx_status_t sys_restricted_unbind_state(uint32_t options) {
    if (options != 0)
        return ZX_ERR_INVALID_ARGS;
    rebind(uthread_current(), NULL, 0);
    return ZX_OK;
}

zx_status_t sys_restricted_enter(uint32_t options, uintptr_t vector_table_ptr,
                                 uintptr_t context) {
    uthread_t *ut = uthread_current();
    process_t *p = ut->proc;
    if (options != 0 || vector_table_ptr < USER_ASPACE_BASE ||
        vector_table_ptr >= USER_ASPACE_TOP)
        return ZX_ERR_INVALID_ARGS;
    if (!p->restricted_owner)
        return ZX_ERR_BAD_STATE;
    if (!ut->restricted.state) /* only this thread binds, so no lock is needed */
        return ZX_ERR_BAD_STATE;
    zx_restricted_state_t st = *ut->restricted.state;
    if (st.ip < USER_RESTRICTED_BASE || st.ip >= USER_RESTRICTED_TOP ||
        !arch_restricted_state_bases_ok(&st))
        return ZX_ERR_BAD_STATE;

    arch_iframe_t *f = user_frame(ut);
    ut->restricted.normal = *f;
    ut->restricted.vector = vector_table_ptr;
    ut->restricted.context = context;
    if (__atomic_fetch_and(&ut->thread.pending, (uint8_t)~THREAD_PENDING_KICK,
                           __ATOMIC_ACQ_REL) & THREAD_PENDING_KICK) {
        resume_normal(ut, f, ZX_RESTRICTED_REASON_KICK);
        return ZX_ERR_INTERNAL_FRAME_REPLACED;
    }
    arch_get_user_bases(&ut->thread.arch, &ut->restricted.normal_fs_base,
                        &ut->restricted.normal_gs_base);
    arch_restricted_state_load(f, &st);
    arch_set_user_bases(&ut->thread.arch, st.fs_base, st.gs_base);
    switch_mode(ut, p->restricted, true);
    return ZX_ERR_INTERNAL_FRAME_REPLACED;
}

zx_status_t sys_restricted_kick(zx_handle_t thread, uint32_t options) {
    if (options != 0)
        return ZX_ERR_INVALID_ARGS;
    kobject_t *o;
    zx_status_t st = handle_table_get(process_current_handles(), thread, ZX_OBJ_TYPE_THREAD,
                                      ZX_RIGHT_MANAGE_THREAD, &o, NULL);
    if (st != ZX_OK)
        return st;
    uthread_t *ut = to_uthread(o);
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&ut->proc->obj.lock, &s);
    if (ut->state == UTHREAD_DEAD)
        st = ZX_ERR_BAD_STATE;
    else
        __atomic_fetch_or(&ut->thread.pending, THREAD_PENDING_KICK, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&ut->proc->obj.lock, s);
    kobject_unref(o);
    return st;
}

/* Only a thread in restricted mode reaches this entry, so t is a user thread. */
void trap_restricted_syscall(thread_t *t, arch_iframe_t *f) {
    restricted_exit(t->user_ctx, f, ZX_RESTRICTED_REASON_SYSCALL);
}
