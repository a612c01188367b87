/*
 * Restricted mode (docs/syscalls.md: zx_restricted_* and the decisions at its end): a
 * thread of a create_shared process runs, with the registers of its bound state VMO, on
 * its process's restricted aspace alone, and comes back to normal mode at a vector when
 * it executes `syscall`, takes an exception nobody resolves, or is kicked.
 *
 * The mechanism (switching modes, leaving restricted mode, the state VMO's binding and
 * how the registers travel) is restricted_mode.c's; this file holds the syscalls and
 * the two ways into restricted_exit from the entry layer (a `syscall` in restricted
 * mode, an exception nobody resolved).
 *
 * Kicks. A kicker sets THREAD_PENDING_KICK, which the thread consumes on its way back
 * to user mode in restricted mode (uthread.c), or at its next enter, and pokes it
 * (thread_poke): a thread running restricted code on another CPU takes an IPI there and
 * passes the return-to-user check of <kernel/trap.h> at once.
 */
#include <arch/user.h>
#include <kernel/assert.h>
#include <kernel/console.h>
#include <kernel/syscall_impl.h>
#include <kernel/user_copy.h>
#include <lib/string.h>
#include <object/handle_user.h>
#include <object/vmo_dispatcher.h>
#include <zircon/rights.h>
#include <zircon/syscalls-next.h>
#include "proc_priv.h"

static arch_iframe_t *user_frame(uthread_t *ut) {
    return arch_user_frame(ut->thread.stack_top);
}

_Static_assert(sizeof(zx_restricted_exception_t) <= PAGE_SIZE, "the state VMO is one page");

/* Room for arch_iframe_describe's line. */
#define RESTRICTED_DESCRIPTION_MAX 128

/* The user fault report of an exception in restricted mode, before it goes back to normal
 * mode (FAULT_REPORT_RESTRICTED_OPTION): the kill report's first line with "in restricted
 * mode" instead of the kill, then the same body, on the restricted registers and aspace.
 * The report blocks on VM locks: user exceptions come here with interrupts on, as for a
 * syscall (<kernel/trap.h>), and no lock held. */
static void report_restricted(uthread_t *ut, const arch_iframe_t *f, zx_status_t vm_status,
                              const char *what) {
    char where[RESTRICTED_DESCRIPTION_MAX], pname[ZX_MAX_NAME_LEN], tname[ZX_MAX_NAME_LEN];
    arch_iframe_describe(f, where, sizeof(where));
    task_copy_name(&ut->proc->obj, ut->proc->name, pname);
    task_copy_name(&ut->obj, ut->name, tname);
    printf("user fault: process \"%s\" thread \"%s\": %s at %s in restricted mode; "
           "returning to normal mode\n",
           pname, tname, what, where);
    uthread_fault_report(ut, f, vm_status, NULL);
}

bool restricted_exception(arch_iframe_t *f, zx_status_t vm_status, const char *what) {
    uthread_t *ut = uthread_current();
    if (!ut || !ut->restricted.active)
        return false;
    if (fault_report_restricted_enabled())
        report_restricted(ut, f, vm_status, what);
    /* The report follows the state that restricted_exit writes (zx_restricted_exception_t);
     * it is taken from f before restricted_exit turns f into the normal-mode frame. */
    zx_exception_report_t report;
    arch_exception_report(f, vm_status, &report);
    ((zx_restricted_exception_t *)ut->restricted.state)->exception = report;
    restricted_exit(ut, f, ZX_RESTRICTED_REASON_EXCEPTION);
    return true;
}

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
        restricted_rebind(uthread_current(), vmo, pa); /* hands our reference to the binding */
    else
        vmo_unref(vmo);
    return st;
}

zx_status_t sys_restricted_unbind_state(uint32_t options) {
    if (options != 0)
        return ZX_ERR_INVALID_ARGS;
    restricted_rebind(uthread_current(), NULL, 0);
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
        restricted_resume_normal(ut, f, ZX_RESTRICTED_REASON_KICK);
        return ZX_ERR_INTERNAL_FRAME_REPLACED;
    }
    arch_get_user_bases(&ut->thread.arch, &ut->restricted.normal_fs_base,
                        &ut->restricted.normal_gs_base);
    arch_restricted_state_load(f, &st);
    arch_set_user_bases(&ut->thread.arch, st.fs_base, st.gs_base);
    restricted_switch_mode(ut, p->restricted, true);
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
    else {
        __atomic_fetch_or(&ut->thread.pending, THREAD_PENDING_KICK, __ATOMIC_RELEASE);
        thread_poke(&ut->thread);
    }
    spin_unlock_irqrestore(&ut->proc->obj.lock, s);
    kobject_unref(o);
    return st;
}

/* Only a thread in restricted mode reaches this entry, so t is a user thread. */
void trap_restricted_syscall(thread_t *t, arch_iframe_t *f) {
    restricted_exit(t->user_ctx, f, ZX_RESTRICTED_REASON_SYSCALL);
}
