/*
 * User threads: a scheduler thread whose kernel entry drops to ring 3, the checks on
 * every way back to ring 3 (trap_return_to_user_slow, <kernel/trap.h>), and its exits
 * (lifetimes and locking in proc_priv.h).
 */
#include <arch/fpu.h>
#include <arch/irq.h>
#include <arch/user.h>
#include <kernel/assert.h>
#include <kernel/console.h>
#include <kernel/debug_break.h>
#include <lib/string.h>
#include <phys/heap.h>
#include <zircon/syscalls/object.h>
#include "debug_console.h"
#include "proc_priv.h"

/* A thread's extended-state area sits at an ARCH_FPU_STATE_ALIGN boundary inside a heap
 * block (the heap promises 16-byte alignment only), one pointer's width up at least. */
#define FPU_BLOCK_SLACK (ARCH_FPU_STATE_ALIGN + sizeof(void *))

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

void uthread_set_block_reason(uint32_t state) {
    uthread_t *ut = uthread_current();
    if (ut)
        ut->block_reason = state;
}

/* The scheduler is done with the thread: drop its reference (may free ut). */
static void uthread_reaped(thread_t *t) { kobject_unref(&((uthread_t *)t->user_ctx)->obj); }

static int uthread_kernel_entry(void *arg) {
    uthread_t *ut = arg;
    arch_iframe_t f;
    arch_iframe_init_user(&f, ut->entry, ut->stack, ut->arg1, ut->arg2);
    if (trap_user_work_pending(&ut->thread) || arch_iframe_pc(&f) >= USER_ASPACE_TOP)
        trap_return_to_user_slow(&f);
    arch_enter_user(&f);
}

/* The rare part of the return-to-user check: something is pending, or the return
 * address is out of reach (contract in <kernel/trap.h>). */
void trap_return_to_user_slow(arch_iframe_t *f) {
    thread_t *t = thread_current();
    uint8_t p = __atomic_load_n(&t->pending, __ATOMIC_ACQUIRE);
    if (p & THREAD_PENDING_KILL)
        uthread_exit_current();
    uthread_t *ut = t->user_ctx;
    /* A kick waits for restricted mode (zx_restricted_enter consumes it there). */
    if ((p & THREAD_PENDING_KICK) && ut->restricted.active) {
        __atomic_fetch_and(&t->pending, (uint8_t)~THREAD_PENDING_KICK, __ATOMIC_ACQ_REL);
        restricted_exit(ut, f, ZX_RESTRICTED_REASON_KICK);
    }
    if (arch_iframe_pc(f) >= USER_ASPACE_TOP)
        uthread_exception_kill(f, ZX_OK, "return address outside the user aspace");
}

/* A new extended-state area in the clean initial state, for ut (false: no memory). */
static bool uthread_fpu_alloc(uthread_t *ut) {
    uint8_t *block = kmalloc(arch_fpu_state_size() + FPU_BLOCK_SLACK);
    if (!block)
        return false;
    uintptr_t a = ((uintptr_t)block + sizeof(void *) + ARCH_FPU_STATE_ALIGN - 1) &
                  ~(uintptr_t)(ARCH_FPU_STATE_ALIGN - 1);
    ut->fpu_block = block;
    ut->fpu_area = (void *)a;
    arch_fpu_state_init(ut->fpu_area);
    return true;
}

/* Frees ut's extended-state area (forgotten first if it is the loaded one). */
static void uthread_fpu_free(uthread_t *ut) {
    arch_fpu_state_release(ut->fpu_area);
    kfree(ut->fpu_block);
}

zx_status_t uthread_create(process_t *p, const char *name, size_t name_len, uthread_t **out) {
    uthread_t *ut = kzalloc(sizeof(*ut));
    if (!ut)
        return ZX_ERR_NO_MEMORY;
    if (!uthread_fpu_alloc(ut)) {
        kfree(ut);
        return ZX_ERR_NO_MEMORY;
    }
    if (name_len > ZX_MAX_NAME_LEN - 1)
        name_len = ZX_MAX_NAME_LEN - 1;
    memcpy(ut->name, name, name_len);
    ut->name[name_len] = '\0';
    zx_status_t st = thread_init(&ut->thread, ut->name, uthread_kernel_entry, ut);
    if (st != ZX_OK) {
        uthread_fpu_free(ut);
        kfree(ut);
        return st;
    }
    arch_thread_set_fpu(&ut->thread.arch, ut->fpu_area);
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
        uthread_fpu_free(ut);
        kfree(ut);
        return ZX_ERR_BAD_STATE;
    }
    kobject_ref(&p->obj);
    ut->proc = p;
    thread_set_aspace(&ut->thread, p->aspace);
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
    arch_irq_enable();
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
    thread_set_aspace(&ut->thread, NULL); /* interrupts are off under the lock */
    spin_unlock_irqrestore(&p->obj.lock, s);
    if (process_thread_exited(p))
        process_finish(p);
    kobject_unref(&ut->obj); /* the thread list's reference; the scheduler's remains */
    thread_exit(0);
}

/* Room for arch_iframe_describe's line. */
#define FAULT_DESCRIPTION_MAX 128

void uthread_exception_kill(const arch_iframe_t *f, zx_status_t vm_status, const char *what) {
    uthread_t *ut = uthread_current();
    ASSERT(ut);
    char where[FAULT_DESCRIPTION_MAX], pname[ZX_MAX_NAME_LEN], tname[ZX_MAX_NAME_LEN];
    arch_iframe_describe(f, where, sizeof(where));
    task_copy_name(&ut->proc->obj, ut->proc->name, pname);
    task_copy_name(&ut->obj, ut->name, tname);
    printf("user fault: process \"%s\" thread \"%s\": %s at %s; killing the process\n",
           pname, tname, what, where);
    debug_break_user_fault(pname, tname, what, arch_iframe_pc(f));
    /* The report blocks on VM locks and reads the user stack; the return-to-user path
     * may get here with interrupts off, and this thread never returns to user mode, so
     * nothing depends on them staying off (as in uthread_exit_current). */
    arch_irq_enable();
    uthread_fault_report(ut, f, vm_status, pname);
    process_dump_on_fault(ut->proc); /* only for a fault that kills: not restricted mode's */
    debug_console_at_fault(); /* kernel.debug-console=fault: look before the kill */
    process_kill(ut->proc, ZX_TASK_RETCODE_EXCEPTION_KILL);
    uthread_exit_current();
}

static void uthread_destroy(kobject_t *o) {
    uthread_t *ut = to_uthread(o);
    /* An unstarted thread is on its process's list, which holds a reference, until
     * uthread_kill or process_finish tears it down and marks it dead. */
    DEBUG_ASSERT(ut->state == UTHREAD_DEAD);
    restricted_thread_destroy(ut);
    uthread_fpu_free(ut);
    kobject_unref(&ut->proc->obj);
    kfree(ut);
}
