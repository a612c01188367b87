/*
 * Kernel object core: koids, reference counts, signals and waiting (object/kobject.h).
 */
#include <object/kobject.h>

#include <kernel/assert.h>
#include <kernel/compiler.h>
#include <kernel/thread.h>

static zx_koid_t kobject_next_koid = ZX_KOID_FIRST;

/* The release queue of code that runs before the scheduler has a current thread. */
static struct kobject_release_queue boot_release_queue;

/* The lock class of an object's lock: processes, threads and channel endpoints have
 * their own places in the lock order; every other kind shares one (docs/architecture.md,
 * "Locks"). */
static lock_class_t kobject_lock_class(zx_obj_type_t type) {
    switch (type) {
    case ZX_OBJ_TYPE_PROCESS:
        return LOCK_CLASS_PROCESS;
    case ZX_OBJ_TYPE_THREAD:
        return LOCK_CLASS_THREAD;
    case ZX_OBJ_TYPE_CHANNEL:
        return LOCK_CLASS_CHANNEL;
    default:
        return LOCK_CLASS_OBJECT;
    }
}

void kobject_init(kobject_t *obj, const struct kobject_ops *ops) {
    DEBUG_ASSERT(ops != NULL && ops->destroy != NULL);
    obj->ops = ops;
    obj->koid = __atomic_fetch_add(&kobject_next_koid, 1, __ATOMIC_RELAXED);
    obj->refs = 1;
    obj->handle_count = 0;
    spin_lock_init_class(&obj->lock, kobject_lock_class(ops->type));
    obj->signals = 0;
    wait_queue_init(&obj->waiters);
    obj->poke_gen = 0;
    obj->release_actions = 0;
    obj->release_next = NULL;
    list_init(&obj->observers);
    obj->observer_count = 0;
}

void kobject_ref(kobject_t *obj) {
    uint32_t old = __atomic_fetch_add(&obj->refs, 1, __ATOMIC_RELAXED);
    DEBUG_ASSERT_MSG(old > 0, "kobject_ref of dead object %p", (void *)obj);
    (void)old;
}

bool kobject_try_ref(kobject_t *obj) {
    uint32_t old = __atomic_load_n(&obj->refs, __ATOMIC_RELAXED);
    do {
        if (old == 0)
            return false;
    } while (!__atomic_compare_exchange_n(&obj->refs, &old, old + 1, true, __ATOMIC_ACQUIRE,
                                          __ATOMIC_RELAXED));
    return true;
}

/* ---- Deferred release --------------------------------------------------------------
 *
 * A thread's release queue (struct kobject_release_queue in its thread_t) is touched only
 * by code running on that thread, and always with interrupts off: code that interrupts
 * the thread on its stack (no interrupt handler releases objects today; the reaper is a
 * thread of its own) would find it either draining, and queue, or idle, and drain
 * itself, never half changed.
 *
 * An object is on at most one queue at a time: whoever turns release_actions from zero
 * to non-zero queues it, and that entry holds one reference. Anyone who adds an action
 * to an object that is already queued (on any thread's queue) drops its own reference
 * instead; the queue's owner clears release_actions only after taking the object off
 * its queue, so the added action is never lost. DESTROY comes alone: an entry holds a
 * reference, so refs cannot reach zero while one exists.
 */

static struct kobject_release_queue *release_queue_current(void) {
    thread_t *t = thread_current();
    return t != NULL ? &t->release_queue : &boot_release_queue;
}

/* Appends obj to q. Interrupts off. */
static void release_queue_push(struct kobject_release_queue *q, kobject_t *obj) {
    obj->release_next = NULL;
    if (q->tail != NULL)
        q->tail->release_next = obj;
    else
        q->head = obj;
    q->tail = obj;
}

/* Takes the oldest object off q, or returns NULL. Interrupts off. */
static kobject_t *release_queue_pop(struct kobject_release_queue *q) {
    kobject_t *obj = q->head;
    if (obj != NULL) {
        q->head = obj->release_next;
        if (q->head == NULL)
            q->tail = NULL;
        obj->release_next = NULL;
    }
    return obj;
}

/*
 * Runs what obj is owed (`actions`, KOBJECT_ACTION_*) and gives up the reference that came
 * with them. Called only by kobject_drain, so a last reference dropped here (or by the
 * ops) is queued, not run.
 */
static void release_run(kobject_t *obj, uint32_t actions) {
    if (actions & KOBJECT_ACTION_DESTROY) {
        DEBUG_ASSERT(actions == KOBJECT_ACTION_DESTROY);
        DEBUG_ASSERT(obj->waiters.count == 0);
        /* Observers are tied to handles, and every handle is gone. */
        DEBUG_ASSERT(obj->observer_count == 0);
        obj->ops->destroy(obj);
        return;
    }
    if (actions & KOBJECT_ACTION_HANDLE_DROPPED)
        obj->ops->on_handle_dropped(obj);
    if (actions & KOBJECT_ACTION_ZERO_HANDLES)
        obj->ops->on_zero_handles(obj);
    kobject_unref(obj);
}

/*
 * The outermost release of this thread (q->draining already set): runs obj's action,
 * then everything queued meanwhile, oldest first, until the queue is empty, and clears
 * the flag in the same step that finds it empty.
 *
 * The only caller of ops, so the only way back into teardown from inside one; kstack.conf
 * bounds it to one activation per stack, which holds because kobject_release calls it only
 * while the flag is clear, and the flag stays set as long as this runs.
 */
static __noinline void kobject_drain(struct kobject_release_queue *q, kobject_t *obj,
                                     uint32_t action) {
    release_run(obj, action);
    for (;;) {
        spin_lock_saved_state_t irq = arch_irq_save();
        kobject_t *next = release_queue_pop(q);
        if (next == NULL)
            q->draining = false;
        arch_irq_restore(irq);
        if (next == NULL)
            return;
        release_run(next, __atomic_exchange_n(&next->release_actions, 0, __ATOMIC_ACQ_REL));
    }
}

/*
 * Every teardown goes through here. Nested (this thread is already draining): queue obj,
 * or, if it is queued already (here or on another thread), add the action to its entry
 * and drop the caller's reference, which cannot be the last: the entry holds one.
 * Outermost: drain. The caller's reference (or, for DESTROY, the dead object) is consumed
 * either way.
 */
static void kobject_release(kobject_t *obj, uint32_t action) {
    struct kobject_release_queue *q = release_queue_current();
    spin_lock_saved_state_t irq = arch_irq_save();
    if (q->draining) {
        uint32_t old = __atomic_fetch_or(&obj->release_actions, action, __ATOMIC_ACQ_REL);
        if (old == 0)
            release_queue_push(q, obj);
        arch_irq_restore(irq);
        if (old != 0) {
            DEBUG_ASSERT(action != KOBJECT_ACTION_DESTROY);
            uint32_t refs = __atomic_fetch_sub(&obj->refs, 1, __ATOMIC_ACQ_REL);
            ASSERT_MSG(refs > 1, "kobject %p queued without its reference", (void *)obj);
        }
        return;
    }
    q->draining = true;
    arch_irq_restore(irq);
    kobject_drain(q, obj, action);
}

void kobject_unref(kobject_t *obj) {
    DEBUG_ASSERT(!spin_lock_held(&obj->lock));
    uint32_t old = __atomic_fetch_sub(&obj->refs, 1, __ATOMIC_ACQ_REL);
    ASSERT_MSG(old > 0, "kobject_unref underflow on %p", (void *)obj);
    if (old == 1)
        kobject_release(obj, KOBJECT_ACTION_DESTROY);
}

void kobject_handle_action(kobject_t *obj, uint32_t action) {
    DEBUG_ASSERT(action == KOBJECT_ACTION_HANDLE_DROPPED ||
                 action == KOBJECT_ACTION_ZERO_HANDLES);
    kobject_release(obj, action);
}

/* Tells every observer of obj about a signal change; drops those that are done. At most
 * KOBJECT_MAX_OBSERVERS calls, each bounded (kobject.h). */
static void kobject_observers_notify(kobject_t *obj, zx_signals_t now, zx_signals_t changed)
    TA_REQ(obj->lock) {
    struct list_node *n = obj->observers.next;
    while (n != &obj->observers) {
        struct list_node *next = n->next;
        struct kobject_observer *o = containerof(n, struct kobject_observer, node);
        if (o->ops->on_state(o, now, changed)) {
            list_delete(n);
            o->listed = false;
            __atomic_store_n(&obj->observer_count, obj->observer_count - 1, __ATOMIC_RELAXED);
        }
        n = next;
    }
}

zx_status_t kobject_observer_add(kobject_t *obj, struct kobject_observer *o,
                                 struct handle_table *ht, zx_handle_t value, bool *done) {
    o->ht = ht;
    o->value = value;
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&obj->lock, &st);
    if (obj->observer_count >= KOBJECT_MAX_OBSERVERS) {
        spin_unlock_irqrestore(&obj->lock, st);
        return ZX_ERR_NO_RESOURCES;
    }
    *done = o->ops->on_state(o, obj->signals, 0);
    o->listed = !*done;
    if (!*done) {
        list_add_tail(&obj->observers, &o->node);
        __atomic_store_n(&obj->observer_count, obj->observer_count + 1, __ATOMIC_RELAXED);
    }
    spin_unlock_irqrestore(&obj->lock, st);
    return ZX_OK;
}

bool kobject_observer_remove(kobject_t *obj, struct kobject_observer *o, zx_signals_t *signals) {
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&obj->lock, &st);
    bool found = o->listed;
    if (found) {
        list_delete(&o->node);
        o->listed = false;
        __atomic_store_n(&obj->observer_count, obj->observer_count - 1, __ATOMIC_RELAXED);
    }
    if (signals != NULL)
        *signals = obj->signals;
    spin_unlock_irqrestore(&obj->lock, st);
    return found;
}

uint32_t kobject_cancel_matching(kobject_t *obj,
                                 bool (*match)(struct kobject_observer *o, void *ctx),
                                 void *ctx) {
    uint32_t cancelled = 0;
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&obj->lock, &st);
    struct list_node *n = obj->observers.next;
    while (n != &obj->observers) {
        struct list_node *next = n->next;
        struct kobject_observer *o = containerof(n, struct kobject_observer, node);
        if (match(o, ctx)) {
            list_delete(n);
            o->listed = false;
            __atomic_store_n(&obj->observer_count, obj->observer_count - 1, __ATOMIC_RELAXED);
            o->ops->on_cancel(o);
            cancelled++;
        }
        n = next;
    }
    spin_unlock_irqrestore(&obj->lock, st);
    return cancelled;
}

struct cancel_handle_ctx {
    struct handle_table *ht;
    zx_handle_t value;
};

static bool cancel_handle_match(struct kobject_observer *o, void *arg) {
    struct cancel_handle_ctx *c = arg;
    return o->ht == c->ht && o->value == c->value;
}

void kobject_cancel_handle(kobject_t *obj, struct handle_table *ht, zx_handle_t value) {
    if (__atomic_load_n(&obj->observer_count, __ATOMIC_RELAXED) == 0)
        return;
    struct cancel_handle_ctx c = {ht, value};
    kobject_cancel_matching(obj, cancel_handle_match, &c);
}

void kobject_signal_locked(kobject_t *obj, zx_signals_t clear, zx_signals_t set) {
    DEBUG_ASSERT(spin_lock_held(&obj->lock));
    zx_signals_t old = obj->signals;
    zx_signals_t now = (old & ~clear) | set;
    if (now == old)
        return;
    obj->signals = now;
    wait_queue_wake_all(&obj->waiters, ZX_OK);
    if (obj->observer_count != 0)
        kobject_observers_notify(obj, now, now ^ old);
}

void kobject_signal(kobject_t *obj, zx_signals_t clear, zx_signals_t set) {
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&obj->lock, &st);
    kobject_signal_locked(obj, clear, set);
    spin_unlock_irqrestore(&obj->lock, st);
}

zx_signals_t kobject_signals(kobject_t *obj) {
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&obj->lock, &st);
    zx_signals_t s = obj->signals;
    spin_unlock_irqrestore(&obj->lock, st);
    return s;
}

void kobject_poke_waiters(kobject_t *obj) {
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&obj->lock, &st);
    obj->poke_gen++;
    wait_queue_wake_all(&obj->waiters, ZX_OK);
    spin_unlock_irqrestore(&obj->lock, st);
}

/*
 * still_valid runs without obj->lock (it takes a handle-table lock, and obj->lock is a
 * leaf). A close that lands between that check and the block is caught through
 * poke_gen: the closer removes the handle first and pokes second, so if the poke
 * counter is unchanged once the lock is held again, the check saw the removal or the
 * poke is still to come and will wake the block.
 */
zx_status_t kobject_wait(kobject_t *obj, zx_signals_t mask, zx_time_t deadline,
                         bool (*still_valid)(void *ctx), void *ctx, zx_signals_t *observed) {
    spin_lock_saved_state_t st;
    zx_status_t status;
    bool timed_out = false;

    spin_lock_irqsave(&obj->lock, &st);
    for (;;) {
        if (obj->signals & mask) {
            status = ZX_OK;
            break;
        }
        if (still_valid != NULL) {
            uint32_t gen = obj->poke_gen;
            spin_unlock_irqrestore(&obj->lock, st);
            bool valid = still_valid(ctx);
            spin_lock_irqsave(&obj->lock, &st);
            if (!valid) {
                status = ZX_ERR_CANCELED;
                break;
            }
            if (gen != obj->poke_gen || (obj->signals & mask))
                continue;
        }
        if (timed_out) {
            status = ZX_ERR_TIMED_OUT;
            break;
        }
        status = wait_queue_block(&obj->waiters, &obj->lock, deadline);
        if (status == ZX_ERR_INTERNAL_INTR_KILLED)
            break;
        if (status == ZX_ERR_TIMED_OUT)
            timed_out = true;
    }
    if (observed != NULL)
        *observed = obj->signals;
    spin_unlock_irqrestore(&obj->lock, st);
    return status;
}
