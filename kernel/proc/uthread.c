/*
 * User threads: a scheduler thread whose kernel entry drops to ring 3, and its exits
 * (lifetimes and locking in proc_priv.h).
 */
#include <arch/mmu.h>
#include <arch/x86/boot_defs.h>
#include <arch/x86/cpu.h>
#include <arch/x86/irqoff.h>
#include <kernel/assert.h>
#include <kernel/console.h>
#include <lib/string.h>
#include <phys/heap.h>
#include <vm/vm_aspace.h>
#include <zircon/syscalls/object.h>
#include "proc_priv.h"


#define USER_RFLAGS_INITIAL (X86_FLAGS_IF | (1ull << 1)) /* bit 1 is always set */

static void uthread_destroy(kobject_t *o);
static void uthread_on_zero_handles(kobject_t *o);
static zx_koid_t uthread_related_koid(kobject_t *o) { return to_uthread(o)->proc->obj.koid; }

static const struct kobject_ops uthread_ops = {
    .type = ZX_OBJ_TYPE_THREAD,
    .type_name = "thread",
    .destroy = uthread_destroy,
    .on_zero_handles = uthread_on_zero_handles,
    .related_koid = uthread_related_koid,
};

uthread_t *uthread_current(void) {
    thread_t *t = thread_current();
    return t ? (uthread_t *)t->user_ctx : NULL;
}

void uthread_set_block_reason(uint32_t state) {
    uthread_t *ut = uthread_current();
    if (ut)
        ut->block_reason = state;
}

/* The scheduler is done with the thread: drop its reference (may free ut). */
static void uthread_reaped(thread_t *t) { kobject_unref(&((uthread_t *)t->user_ctx)->obj); }

static int uthread_kernel_entry(void *arg) {
    uthread_t *ut = arg;
    struct x86_iframe f;
    memset(&f, 0, sizeof(f));
    f.rip = ut->entry;
    f.rsp = ut->stack;
    f.rdi = ut->arg1;
    f.rsi = ut->arg2;
    f.cs = X86_GDT_USER_CODE;
    f.ss = X86_GDT_USER_DATA;
    f.rflags = USER_RFLAGS_INITIAL;
    x86_return_to_user_check(&f);
    x86_enter_user(&f);
}

zx_status_t uthread_create(process_t *p, const char *name, size_t name_len, uthread_t **out) {
    uthread_t *ut = kzalloc(sizeof(*ut));
    if (!ut)
        return ZX_ERR_NO_MEMORY;
    ut->fpu = x86_fpu_state_create(); /* the clean initial state */
    if (!ut->fpu) {
        kfree(ut);
        return ZX_ERR_NO_MEMORY;
    }
    if (name_len > ZX_MAX_NAME_LEN - 1)
        name_len = ZX_MAX_NAME_LEN - 1;
    memcpy(ut->name, name, name_len);
    ut->name[name_len] = '\0';
    zx_status_t st = thread_init(&ut->thread, ut->name, uthread_kernel_entry, ut);
    if (st != ZX_OK) {
        x86_fpu_state_destroy(ut->fpu);
        kfree(ut);
        return st;
    }
    kobject_init(&ut->obj, &uthread_ops);
    ut->thread.user_ctx = ut;
    ut->thread.on_reaped = uthread_reaped;
    ut->state = UTHREAD_INITIAL;
    ut->block_reason = ZX_THREAD_STATE_BLOCKED;

    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    if (p->state == PROCESS_DYING || p->state == PROCESS_DEAD) {
        spin_unlock_irqrestore(&p->obj.lock, s);
        thread_destroy_unstarted(&ut->thread);
        x86_fpu_state_destroy(ut->fpu);
        kfree(ut);
        return ZX_ERR_BAD_STATE;
    }
    kobject_ref(&p->obj);
    ut->proc = p;
    ut->thread.aspace = p->aspace;
    kobject_ref(&ut->obj); /* the thread list's reference */
    list_add_tail(&p->threads, &ut->proc_node);
    spin_unlock_irqrestore(&p->obj.lock, s);
    *out = ut;
    return ZX_OK;
}

zx_status_t uthread_start(uthread_t *ut, uintptr_t entry, uintptr_t stack, uintptr_t arg1,
                          uintptr_t arg2, bool first) {
    process_t *p = ut->proc;
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    zx_status_t st = ZX_OK;
    if (ut->state != UTHREAD_INITIAL)
        st = ZX_ERR_BAD_STATE;
    else if (first ? p->state != PROCESS_INITIAL : p->state != PROCESS_RUNNING)
        st = ZX_ERR_BAD_STATE;
    if (st == ZX_OK) {
        if (first) {
            p->state = PROCESS_RUNNING;
            p->start_time = current_time();
        }
        ut->entry = entry;
        ut->stack = stack;
        ut->arg1 = arg1;
        ut->arg2 = arg2;
        ut->state = UTHREAD_RUNNING;
        p->live_threads++;
        kobject_ref(&ut->obj); /* the scheduler's reference, dropped in uthread_reaped */
        thread_start(&ut->thread);
    }
    spin_unlock_irqrestore(&p->obj.lock, s);
    if (st == ZX_OK)
        kobject_signal(&ut->obj, 0, ZX_THREAD_RUNNING);
    return st;
}

void uthread_kill(uthread_t *ut) {
    process_t *p = ut->proc;
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    bool unstarted = ut->state == UTHREAD_INITIAL && !p->finishing;
    if (unstarted) {
        list_delete(&ut->proc_node);
        ut->state = UTHREAD_DEAD;
    } else if (ut->state == UTHREAD_RUNNING) {
        thread_kill(&ut->thread);
    }
    spin_unlock_irqrestore(&p->obj.lock, s);
    if (unstarted) {
        thread_destroy_unstarted(&ut->thread);
        kobject_signal(&ut->obj, 0, ZX_THREAD_TERMINATED);
        kobject_unref(&ut->obj); /* the thread list's reference */
    }
}

/* An unstarted thread with no handles can never start: tear it down. */
static void uthread_on_zero_handles(kobject_t *o) {
    uthread_t *ut = to_uthread(o);
    if (ut->state == UTHREAD_INITIAL)
        uthread_kill(ut);
}

void uthread_exit_current(void) {
    uthread_t *ut = uthread_current();
    ASSERT(ut);
    /* Some paths get here with interrupts off (a kill acted on at the return to user
     * mode from an interrupt); the teardown below blocks and may run long. This thread
     * never returns to user mode, so nothing else depends on them staying off. */
    x86_irq_enable();
    process_t *p = ut->proc;
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    DEBUG_ASSERT(ut->state == UTHREAD_RUNNING);
    list_delete(&ut->proc_node);
    ut->state = UTHREAD_DEAD;
    spin_unlock_irqrestore(&p->obj.lock, s);
    kobject_signal(&ut->obj, ZX_THREAD_RUNNING, ZX_THREAD_TERMINATED);
    /* Leave the process's aspace before this thread stops counting as live: once it does,
     * another thread may find itself the last, finish the process and destroy the aspace
     * while this one, preempted before thread_exit, still has to be switched back in. */
    spin_lock_irqsave(&p->obj.lock, &s);
    arch_mmu_context_switch(vm_aspace_arch(ut->thread.aspace), NULL);
    vm_aspace_set_current(NULL);
    ut->thread.aspace = NULL;
    spin_unlock_irqrestore(&p->obj.lock, s);
    if (process_thread_exited(p))
        process_finish(p);
    kobject_unref(&ut->obj); /* the thread list's reference; the scheduler's remains */
    thread_exit(0);
}

void uthread_exception_kill(const struct x86_iframe *f, const char *what) {
    uthread_t *ut = uthread_current();
    ASSERT(ut);
    printf("user fault: process \"%s\" thread \"%s\": %s at rip 0x%lx (vector %lu, error "
           "0x%lx, cr2 0x%lx); killing the process\n",
           ut->proc->name, ut->name, what, f->rip, f->vector, f->err_code, x86_fault_address(f));
    process_kill(ut->proc, ZX_TASK_RETCODE_EXCEPTION_KILL);
    uthread_exit_current();
}

static void uthread_destroy(kobject_t *o) {
    uthread_t *ut = to_uthread(o);
    /* An unstarted thread is on its process's list, which holds a reference, until
     * uthread_kill or process_finish tears it down and marks it dead. */
    DEBUG_ASSERT(ut->state == UTHREAD_DEAD);
    restricted_thread_destroy(ut);
    x86_fpu_state_destroy(ut->fpu);
    kobject_unref(&ut->proc->obj);
    kfree(ut);
}
