/*
 * Process objects (lifetimes and locking in proc_priv.h).
 */
#include <arch/mmu.h>
#include <kernel/assert.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/user_copy.h>
#include <lib/rand.h>
#include <lib/string.h>
#include <object/vmar_dispatcher.h>
#include <phys/heap.h>
#include <vm/vm_aslr.h>
#include <vm/vm_aspace.h>
#include <zircon/rights.h>
#include "proc_priv.h"

#define USER_ASPACE_SIZE (USER_ASPACE_TOP - USER_ASPACE_BASE)
#define ROOT_VMAR_CAN_MAP \
    (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE | ZX_VM_CAN_MAP_SPECIFIC)

static void process_destroy(kobject_t *o);
static void process_on_zero_handles(kobject_t *o);
static void process_on_handle_dropped(kobject_t *o);
static gc_node_t *process_gc_node(kobject_t *o);

static const struct kobject_ops process_ops = {
    .type = ZX_OBJ_TYPE_PROCESS,
    .type_name = "process",
    .destroy = process_destroy,
    .on_zero_handles = process_on_zero_handles,
    .on_handle_dropped = process_on_handle_dropped,
    .gc_node = process_gc_node,
};
static const struct gc_node_ops member_gc_ops;

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

/*
 * Gives back what p owns or shares: the handle table and aspace of an ordinary process;
 * a shared family member's unified and restricted aspaces (or, for the prototype, its
 * reference on the shared aspace) and its share of the family (the last member to leave
 * tears down the shared handle table and aspace). Runs once per process; tolerates the
 * NULLs of a half-built process.
 */
static void process_release(process_t *p, handle_table_t *ht, vm_aspace_t *as,
                            vm_aspace_t *restricted) {
    if (!p->shared) {
        if (ht)
            handle_table_destroy(ht); /* handles first: they may reference this aspace */
        if (as)
            vm_aspace_destroy(as);
        return;
    }
    if (p->restricted_owner) {
        if (as)
            vm_aspace_destroy(as); /* the unified aspace, before its restricted part */
        if (restricted)
            vm_aspace_destroy(restricted);
    } else if (as) {
        vm_aspace_unref(as); /* the prototype's reference on the shared aspace */
    }
    proc_shared_leave(p->shared, &p->gc_started);
}

/*
 * The ASLR seed of a process named `name` (NUL-terminated) created now
 * (<vm/vm_aslr.h>). When a process creates it, the seed is
 *     rand_derive(rand_derive(creator's seed, hash of name), k)
 * for the creator's k-th child of that name: it depends on the creator and on which of
 * its same-named children this is, not on what else the creator or anyone else made, so
 * a program keeps its placements when other programs are added or left out (userboot
 * with a different userboot.prefix). The creator remembers counts for its
 * PROC_ASLR_NAME_SLOTS most recent names; a name that fell out starts again at k = 0
 * (its seeds repeat; they stay reproducible). A process the kernel creates (userboot)
 * gets a kernel seed.
 */
static uint64_t new_process_aslr_seed(const char *name) {
    process_t *creator = process_current();
    if (!creator)
        return vm_aslr_kernel_seed();
    uint64_t h = rand_hash_bytes(name, strlen(name));
    uint64_t k = 0;
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&creator->obj.lock, &s);
    struct proc_aslr_name *slot = NULL;
    for (size_t i = 0; i < PROC_ASLR_NAME_SLOTS && !slot; i++)
        if (creator->aslr_names[i].made && creator->aslr_names[i].hash == h)
            slot = &creator->aslr_names[i];
    if (slot) {
        k = slot->made;
    } else {
        slot = &creator->aslr_names[creator->aslr_next_slot];
        creator->aslr_next_slot = (creator->aslr_next_slot + 1) % PROC_ASLR_NAME_SLOTS;
        slot->hash = h;
        slot->made = 0;
    }
    slot->made++;
    spin_unlock_irqrestore(&creator->obj.lock, s);
    return rand_derive(rand_derive(creator->aslr_seed, h), k);
}

/* A zeroed process with its name, job, lists and ASLR seed; not yet an object. */
static process_t *process_alloc(kobject_t *job, const char *name, size_t name_len) {
    process_t *p = kzalloc(sizeof(*p));
    if (!p)
        return NULL;
    copy_name(p->name, name, name_len);
    p->aslr_seed = new_process_aslr_seed(p->name);
    list_init(&p->threads);
    list_init(&p->registry_node);
    p->state = PROCESS_INITIAL;
    kobject_ref(job);
    p->job = job;
    gc_node_init(&p->gc, &member_gc_ops);
    return p;
}

/* Records, before p is published, whether it counts among its family's holders. Not
 * checked by the analysis: nobody else can see p yet, so the gc lock that guards the
 * flag afterwards is not needed. */
static void process_init_gc_holder(process_t *p, bool holder) TA_NO_THREAD_SAFETY_ANALYSIS {
    p->gc_holder = holder;
}

/* Makes the half-built p a live object whose root VMAR (the handle-visible one) is
 * vmar; on failure releases everything and frees p. */
static zx_status_t process_publish(process_t *p, zx_status_t st, vmar_t *vmar,
                                   process_t **proc, kobject_t **root_vmar,
                                   zx_rights_t *vmar_rights) {
    kobject_t *vmar_obj = NULL;
    if (st == ZX_OK)
        st = vmar_dispatcher_create(vmar, ROOT_VMAR_CAN_MAP, &vmar_obj, vmar_rights);
    if (st != ZX_OK) {
        if (p->shared)
            proc_shared_drop_holder(p->shared, &p->gc_holder);
        process_release(p, p->handles, p->aspace, p->restricted);
        if (p->shared)
            proc_shared_unref(p->shared);
        kobject_unref(p->job);
        kfree(p);
        return st;
    }
    kobject_init(&p->obj, &process_ops);
    proc_registry_add(p);
    *proc = p;
    *root_vmar = vmar_obj;
    return ZX_OK;
}

zx_status_t process_create(kobject_t *job, const char *name, size_t name_len, bool shared,
                           process_t **proc, kobject_t **root_vmar, zx_rights_t *vmar_rights) {
    process_t *p = process_alloc(job, name, name_len);
    if (!p)
        return ZX_ERR_NO_MEMORY;
    zx_status_t st;
    if (shared) {
        st = proc_shared_create(p->name, p->aslr_seed, &p->shared);
        /* The family counts its prototype's handle to come. */
        process_init_gc_holder(p, st == ZX_OK);
        if (st == ZX_OK) {
            p->handles = proc_shared_handles(p->shared);
            p->aspace = proc_shared_aspace(p->shared);
            vm_aspace_ref(p->aspace);
        }
    } else {
        p->handles = handle_table_create();
        st = p->handles ? ZX_OK : ZX_ERR_NO_MEMORY;
        if (st == ZX_OK)
            st = vm_aspace_create(ARCH_ASPACE_INDEPENDENT, USER_ASPACE_BASE, USER_ASPACE_SIZE,
                                  p->name, p->aslr_seed, &p->aspace);
    }
    return process_publish(p, st, st == ZX_OK ? vm_aspace_root_vmar(p->aspace) : NULL, proc,
                           root_vmar, vmar_rights);
}

zx_status_t process_create_shared(process_t *proto, const char *name, size_t name_len,
                                  process_t **proc, kobject_t **restricted_vmar,
                                  zx_rights_t *vmar_rights) {
    proc_shared_t *sh = proto->shared; /* immutable */
    if (!sh)
        return ZX_ERR_INVALID_ARGS;
    if (!proc_shared_join(sh))
        return ZX_ERR_BAD_STATE;
    process_t *p = process_alloc(proto->job, name, name_len);
    if (!p) {
        bool holder = true, started = false;
        proc_shared_drop_holder(sh, &holder);
        proc_shared_leave(sh, &started);
        proc_shared_unref(sh);
        return ZX_ERR_NO_MEMORY;
    }
    p->shared = sh;
    process_init_gc_holder(p, true); /* join counted it */
    p->restricted_owner = true;
    p->handles = proc_shared_handles(sh);
    zx_status_t st = vm_aspace_create(ARCH_ASPACE_RESTRICTED, USER_RESTRICTED_BASE,
                                      USER_RESTRICTED_SIZE, p->name, p->aslr_seed,
                                      &p->restricted);
    if (st == ZX_OK)
        st = vm_aspace_create_unified(proc_shared_aspace(sh), p->restricted, p->name,
                                      &p->aspace);
    return process_publish(p, st, st == ZX_OK ? vm_aspace_root_vmar(p->restricted) : NULL, proc,
                           restricted_vmar, vmar_rights);
}

/* Contract in proc_priv.h. */
void process_finish(process_t *p) {
    process_dump_at_exit(p);
    kobject_ref(&p->obj);
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    DEBUG_ASSERT(p->live_threads == 0 && !p->finishing);
    p->finishing = true;
    handle_table_t *ht = p->handles;
    vm_aspace_t *as = p->aspace;
    vm_aspace_t *restricted = p->restricted;
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
    process_release(p, ht, as, restricted);

    spin_lock_irqsave(&p->obj.lock, &s);
    p->handles = NULL;
    p->aspace = NULL;
    p->restricted = NULL;
    p->state = PROCESS_DEAD;
    kobject_signal_locked(&p->obj, 0, ZX_TASK_TERMINATED);
    spin_unlock_irqrestore(&p->obj.lock, s);
    kobject_unref(&p->obj);
}

/*
 * p's handle table with a reference (handle_table_unref when done), for changing or
 * walking it without the process lock; NULL once p has begun to finish (the table is
 * being emptied, or is gone), or with initial_only, once p has left PROCESS_INITIAL. A
 * table emptied while referenced stays valid and empty: adds and removals fail.
 */
static handle_table_t *process_handles_get(process_t *p, bool initial_only) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    bool usable = !p->finishing && p->state != PROCESS_DEAD &&
                  (!initial_only || p->state == PROCESS_INITIAL);
    handle_table_t *ht = usable ? p->handles : NULL;
    if (ht)
        handle_table_ref(ht);
    spin_unlock_irqrestore(&p->obj.lock, s);
    return ht;
}

/* Contract in proc_priv.h. */
size_t process_handle_count(process_t *p) {
    handle_table_t *ht = process_handles_get(p, false);
    if (!ht)
        return 0;
    size_t n = handle_table_count(ht);
    handle_table_unref(ht);
    return n;
}

/* Whether p has not been started, killed or finished (a snapshot). */
static bool process_is_initial(process_t *p) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    bool initial = p->state == PROCESS_INITIAL;
    spin_unlock_irqrestore(&p->obj.lock, s);
    return initial;
}

/*
 * The first thread of p starts (see proc_priv.h). A family member's start holds the gc
 * lock from the state check to the thread's start, so the family is never a container
 * (and so never collected) while a member is being started, and a collected family
 * starts nothing.
 */
zx_status_t process_start(process_t *p, uthread_t *ut, uintptr_t entry, uintptr_t stack,
                          handle_ref_t *arg1, uintptr_t arg2) {
    bool entered = false;
    zx_status_t st = ZX_OK;
    if (!process_is_initial(p))
        return ZX_ERR_BAD_STATE; /* before the family's table is rescanned for nothing */
    if (p->shared) {
        entered = gc_enter();
        st = proc_shared_start_begin(p->shared);
        if (st != ZX_OK) {
            gc_exit(entered);
            return st;
        }
    }
    zx_handle_t child_value = ZX_HANDLE_INVALID;
    if (arg1->obj != NULL) {
        /* Added without the process lock: the add may grow the table, which allocates
         * (never with interrupts off). A kill meanwhile either empties the table first
         * (the add fails) or releases the handle with it (the start below fails);
         * either way the start is BAD_STATE. */
        handle_table_t *ht = process_handles_get(p, true);
        st = ht ? handle_table_add_ref(ht, arg1, &child_value) : ZX_ERR_BAD_STATE;
        if (ht)
            handle_table_unref(ht);
        if (st == ZX_ERR_NO_MEMORY && !process_is_initial(p))
            st = ZX_ERR_BAD_STATE; /* the table was emptied under the add */
    }
    if (st == ZX_OK) {
        st = uthread_start(ut, entry, stack, child_value, arg2, true);
        if (st != ZX_OK && child_value != ZX_HANDLE_INVALID) {
            /* A thread killed before or during the start, or a racing start or kill of
             * the process, fails it here; the table, if it still exists, gives the
             * handle back (else its teardown released it). The removal runs without
             * the process lock too: it pokes the waiters of the handle's object, which
             * may be p itself. */
            handle_table_t *ht = process_handles_get(p, false);
            if (!ht || handle_table_remove(ht, child_value, arg1) != ZX_OK)
                arg1->obj = NULL;
            if (ht)
                handle_table_unref(ht);
        }
    }
    if (p->shared) {
        gc_lock_assume_held(); /* the gc_enter of the first p->shared test */
        if (st == ZX_OK)
            p->gc_started = true; /* read by its leave, under the gc lock */
        else
            proc_shared_start_undo(p->shared);
        gc_exit(entered);
    }
    return st;
}

/* Threads asked to die per hold of the process lock (a process may have thousands). */
#define PROCESS_KILL_BATCH 32u

/*
 * Asks every thread of a DYING p to die, PROCESS_KILL_BATCH per hold of the lock: each
 * one is marked, killed and moved to the tail of the list, so the walk is over when the
 * head is a marked thread (the list only shrinks once the process is DYING: no thread
 * can be created or started, exiting ones leave it).
 */
static void process_kill_threads(process_t *p) {
    for (bool done = false; !done;) {
        spin_lock_saved_state_t s;
        spin_lock_irqsave(&p->obj.lock, &s);
        for (unsigned i = 0; i < PROCESS_KILL_BATCH; i++) {
            if (list_is_empty(&p->threads)) {
                done = true;
                break;
            }
            uthread_t *ut = containerof(p->threads.next, uthread_t, proc_node);
            if (ut->kill_sent) {
                done = true;
                break;
            }
            ut->kill_sent = true;
            list_delete(&ut->proc_node);
            list_add_tail(&p->threads, &ut->proc_node);
            if (ut->state == UTHREAD_RUNNING)
                thread_kill(&ut->thread);
        }
        spin_unlock_irqrestore(&p->obj.lock, s);
    }
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
    bool none_running = p->live_threads == 0;
    spin_unlock_irqrestore(&p->obj.lock, s);
    if (none_running)
        process_finish(p);
    else
        process_kill_threads(p);
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

/* A process that never started and has no handles left can never run: end it. A family
 * member with no handle can no longer start or prototype its family: the family may now
 * be unreachable. */
static void process_on_zero_handles(kobject_t *o) {
    process_t *p = to_process(o);
    if (p->shared)
        proc_shared_drop_holder(p->shared, &p->gc_holder);
    if (p->state == PROCESS_INITIAL)
        process_kill(p, 0);
}

/* A member whose remaining handles all sit in containers may be unreachable. */
static void process_on_handle_dropped(kobject_t *o) {
    process_t *p = to_process(o);
    if (p->shared)
        gc_reference_dropped(&p->gc);
}

/* ---- The collector's view of a family member (object/gc.h) ---- */

static gc_node_t *process_gc_node(kobject_t *o) {
    process_t *p = to_process(o);
    return p->shared ? &p->gc : NULL;
}

static inline process_t *gc_to_process(gc_node_t *n) { return containerof(n, process_t, gc); }

static uint32_t member_gc_refs(gc_node_t *n) {
    return __atomic_load_n(&gc_to_process(n)->obj.handle_count, __ATOMIC_SEQ_CST);
}

/* Every handle sits in a container. Safe without the gc lock (gc_reference_dropped). */
static bool member_gc_candidate(gc_node_t *n) {
    return gc_handles_all_contained(n, member_gc_refs(n));
}

/* With a handle to a member, its family can be started or joined. */
static void member_gc_for_each_child(gc_node_t *n, gc_visit_fn fn, void *ctx) {
    fn(proc_shared_gc_node(gc_to_process(n)->shared), ctx);
}

static void member_gc_detach(gc_node_t *n) { (void)n; }

/* Unreachable: as when its last handle closes, an unstarted member can never run. (A
 * member cannot start meanwhile: that takes the gc lock, which the collector holds.) */
static void member_gc_close(gc_node_t *n) {
    process_t *p = gc_to_process(n);
    if (p->state == PROCESS_INITIAL)
        process_kill(p, 0);
}

static void member_gc_hold(gc_node_t *n) { kobject_ref(&gc_to_process(n)->obj); }
static void member_gc_release(gc_node_t *n) { kobject_unref(&gc_to_process(n)->obj); }

static const struct gc_node_ops member_gc_ops = {
    .refs = member_gc_refs,
    .candidate = member_gc_candidate,
    .for_each_child = member_gc_for_each_child,
    .detach = member_gc_detach,
    .close = member_gc_close,
    .hold = member_gc_hold,
    .release = member_gc_release,
};

static void process_destroy(kobject_t *o) {
    process_t *p = to_process(o);
    proc_registry_remove(p); /* before anything goes: the registry holds no reference */
    ASSERT(p->state == PROCESS_DEAD || p->state == PROCESS_INITIAL);
    if (p->state == PROCESS_INITIAL) {
        /* Never started and its last reference is gone without a handle ever closing
         * (a failed zx_process_create): no thread can exist, since each holds a
         * reference. Release the contents directly. */
        DEBUG_ASSERT(list_is_empty(&p->threads));
        if (p->shared)
            proc_shared_drop_holder(p->shared, &p->gc_holder);
        process_release(p, p->handles, p->aspace, p->restricted);
    }
    DEBUG_ASSERT(!gc_node_queued(&p->gc)); /* a queued suspect holds a reference */
    if (p->shared)
        proc_shared_unref(p->shared);
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

/*
 * Once process_finish has begun it destroys the aspace without the lock, and the creator's
 * reference it drops may be the last: a reference taken after that point could be on a
 * freed struct. So no new reference is handed out once finishing is set (under the lock);
 * one taken before keeps the struct alive however the teardown goes.
 */
vm_aspace_t *process_aspace_get(process_t *p) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    vm_aspace_t *as = p->finishing || p->state == PROCESS_DEAD ? NULL : p->aspace;
    if (as)
        vm_aspace_ref(as);
    spin_unlock_irqrestore(&p->obj.lock, s);
    return as;
}

/*
 * The handle table is emptied in process_finish, which another thread may run at any
 * time: the reference on the table struct is taken while the process lock shows the
 * table still in use, so a walk covers the live table or, once teardown has emptied it,
 * an empty one.
 */
handle_table_t *process_handles_ref(process_t *p) { return process_handles_get(p, false); }
