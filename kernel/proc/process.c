/*
 * Process objects (lifetimes and locking in proc_priv.h).
 */
#include <arch/mmu.h>
#include <kernel/assert.h>
#include <kernel/console.h>
#include <kernel/user_copy.h>
#include <lib/string.h>
#include <object/vm_objects.h>
#include <vm/heap.h>
#include <vm/vm_aspace.h>
#include <zircon/rights.h>
#include "proc_priv.h"

#define USER_ASPACE_SIZE (USER_ASPACE_TOP - USER_ASPACE_BASE)
#define ROOT_VMAR_CAN_MAP \
    (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE | ZX_VM_CAN_MAP_SPECIFIC)

static void process_destroy(kobject_t *o);
static void process_on_zero_handles(kobject_t *o);

static const struct kobject_ops process_ops = {
    .type = ZX_OBJ_TYPE_PROCESS,
    .type_name = "process",
    .destroy = process_destroy,
    .on_zero_handles = process_on_zero_handles,
};

process_t *process_current(void) {
    uthread_t *ut = uthread_current();
    return ut ? ut->proc : NULL;
}

/* Safe without the lock: only the process's own threads call this, and the table is
 * torn down only after the last of them has exited. */
handle_table_t *process_current_handles(void) {
    process_t *p = process_current();
    DEBUG_ASSERT(p && p->handles);
    return p->handles;
}

handle_table_t *process_handles(process_t *p) { return p->handles; }

static void copy_name(char dst[ZX_MAX_NAME_LEN], const char *src, size_t len) {
    if (len > ZX_MAX_NAME_LEN - 1)
        len = ZX_MAX_NAME_LEN - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

zx_status_t process_create(kobject_t *job, const char *name, size_t name_len,
                           process_t **proc, kobject_t **root_vmar, zx_rights_t *vmar_rights) {
    process_t *p = kzalloc(sizeof(*p));
    if (!p)
        return ZX_ERR_NO_MEMORY;
    copy_name(p->name, name, name_len);
    p->handles = handle_table_create();
    zx_status_t st = p->handles ? ZX_OK : ZX_ERR_NO_MEMORY;
    if (st == ZX_OK)
        st = vm_aspace_create(ARCH_ASPACE_INDEPENDENT, USER_ASPACE_BASE, USER_ASPACE_SIZE,
                              p->name, &p->aspace);
    kobject_t *vmar_obj = NULL;
    if (st == ZX_OK)
        st = vmar_object_create(vm_aspace_root_vmar(p->aspace), ROOT_VMAR_CAN_MAP, &vmar_obj,
                                vmar_rights);
    if (st != ZX_OK) {
        if (p->aspace)
            vm_aspace_destroy(p->aspace);
        if (p->handles)
            handle_table_destroy(p->handles);
        kfree(p);
        return st;
    }
    kobject_init(&p->obj, &process_ops);
    list_init(&p->threads);
    kobject_ref(job);
    p->job = job;
    p->state = PROCESS_INITIAL;
    *proc = p;
    *root_vmar = vmar_obj;
    return ZX_OK;
}

/* Contract in proc_priv.h. */
void process_finish(process_t *p) {
    kobject_ref(&p->obj);
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    DEBUG_ASSERT(p->live_threads == 0 && !p->finishing);
    p->finishing = true;
    handle_table_t *ht = p->handles;
    vm_aspace_t *as = p->aspace;
    /* Threads created but never started go with the process. */
    struct list_node unstarted;
    list_init(&unstarted);
    while (!list_is_empty(&p->threads)) {
        uthread_t *ut = containerof(list_remove_head(&p->threads), uthread_t, proc_node);
        list_add_tail(&unstarted, &ut->proc_node);
    }
    spin_unlock_irqrestore(&p->obj.lock, s);

    while (!list_is_empty(&unstarted)) {
        uthread_t *ut = containerof(list_remove_head(&unstarted), uthread_t, proc_node);
        DEBUG_ASSERT(ut->state == UTHREAD_INITIAL);
        thread_destroy_unstarted(&ut->thread);
        ut->state = UTHREAD_DEAD;
        kobject_signal(&ut->obj, ZX_THREAD_RUNNING, ZX_THREAD_TERMINATED);
        kobject_unref(&ut->obj); /* the thread list's reference */
    }
    /* Handles first: they may reference VMARs of this aspace. */
    handle_table_destroy(ht);
    vm_aspace_destroy(as);

    spin_lock_irqsave(&p->obj.lock, &s);
    p->handles = NULL;
    p->aspace = NULL;
    p->state = PROCESS_DEAD;
    kobject_signal_locked(&p->obj, 0, ZX_TASK_TERMINATED);
    spin_unlock_irqrestore(&p->obj.lock, s);
    kobject_unref(&p->obj);
}

void process_kill(process_t *p, int64_t retcode) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    if (p->state == PROCESS_DYING || p->state == PROCESS_DEAD) {
        spin_unlock_irqrestore(&p->obj.lock, s);
        return;
    }
    p->state = PROCESS_DYING;
    p->retcode = retcode;
    uthread_t *ut;
    list_for_every_entry(&p->threads, ut, uthread_t, proc_node) {
        if (ut->state == UTHREAD_RUNNING)
            thread_kill(&ut->thread);
    }
    bool none_running = p->live_threads == 0;
    spin_unlock_irqrestore(&p->obj.lock, s);
    if (none_running)
        process_finish(p);
}

/* Called by uthread_exit_current with the exiting thread already off the list. Returns
 * true if the process must finish (the caller does it once off the aspace). */
bool process_thread_exited(process_t *p) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    DEBUG_ASSERT(p->live_threads > 0);
    bool last = --p->live_threads == 0;
    if (last && p->state == PROCESS_RUNNING) {
        p->state = PROCESS_DYING; /* the last thread left: exit code 0 */
        p->retcode = 0;
    }
    spin_unlock_irqrestore(&p->obj.lock, s);
    return last;
}

/* A process that never started and has no handles left can never run: end it. */
static void process_on_zero_handles(kobject_t *o) {
    process_t *p = to_process(o);
    if (p->state == PROCESS_INITIAL)
        process_kill(p, 0);
}

static void process_destroy(kobject_t *o) {
    process_t *p = to_process(o);
    ASSERT(p->state == PROCESS_DEAD || p->state == PROCESS_INITIAL);
    if (p->state == PROCESS_INITIAL) {
        /* Never started and its last reference is gone without a handle ever closing
         * (a failed zx_process_create): no thread can exist, since each holds a
         * reference. Release the contents directly. */
        DEBUG_ASSERT(list_is_empty(&p->threads));
        handle_table_destroy(p->handles);
        vm_aspace_destroy(p->aspace);
    }
    kobject_unref(p->job);
    kfree(p);
}

int64_t process_retcode(process_t *p) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    int64_t rc = p->retcode;
    spin_unlock_irqrestore(&p->obj.lock, s);
    return rc;
}

vm_aspace_t *process_aspace_get(process_t *p) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    vm_aspace_t *as = p->state == PROCESS_DEAD ? NULL : p->aspace;
    if (as)
        vm_aspace_ref(as);
    spin_unlock_irqrestore(&p->obj.lock, s);
    return as;
}

/*
 * The handle table goes away in process_finish, which another thread may run at any time
 * (the kernel is preemptible). With preemption off nobody else runs on this CPU, so a
 * table that is not yet being torn down stays alive for the walk (single CPU; on SMP this
 * needs a reference on the table).
 */
zx_status_t process_for_each_handle(process_t *p,
                                    void (*fn)(void *ctx, zx_handle_t value, kobject_t *obj,
                                               zx_rights_t rights),
                                    void *ctx) {
    thread_preempt_disable();
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    handle_table_t *ht = p->finishing || p->state == PROCESS_DEAD ? NULL : p->handles;
    spin_unlock_irqrestore(&p->obj.lock, s);
    if (ht)
        handle_table_for_each(ht, fn, ctx);
    thread_preempt_enable();
    return ht ? ZX_OK : ZX_ERR_BAD_STATE;
}
