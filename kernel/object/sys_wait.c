/*
 * zx_object_wait_many: one thread waits on up to ZX_WAIT_MANY_MAX_ITEMS objects at once.
 *
 * A thread blocks on one wait queue at a time, so the wait is built from observers
 * (object/kobject.h): each item gets one on its object, and every observer points at
 * the same waiter, a private wait queue with its own lock that only the calling thread
 * blocks on. An observer whose object asserts a wanted signal, or whose handle is
 * removed from the table, marks the waiter fired and wakes it; the thread then takes
 * every observer off again and reports each object's signals.
 *
 * A close racing with the set-up is caught the way zx_object_wait_one catches it: the
 * closer removes the handle from the table first and cancels observers second, while
 * this side adds its observer first and checks the table second, so one of the two
 * always sees the other.
 */
#include <kernel/syscall_impl.h>
#include <kernel/thread.h>
#include <object/handle.h>
#include <object/process.h>
#include <phys/heap.h>
#include <zircon/syscalls/object.h>

/* What the items' observers share: guarded by lock; wq holds only the calling thread. */
struct wait_many_waiter {
    spinlock_t lock;
    wait_queue_t wq;
    bool fired;
};

struct wait_many_item {
    struct kobject_observer obs;
    struct wait_many_waiter *w;
    kobject_t *obj;        /* holds a reference */
    zx_signals_t waitfor;
    bool cancelled;        /* written under obj's lock, read after the observer is off */
};

/* Marks the waiter fired and wakes it. Called under an object's lock. */
static void wait_many_fire(struct wait_many_waiter *w) {
    spin_lock(&w->lock);
    w->fired = true;
    wait_queue_wake_all(&w->wq, ZX_OK);
    spin_unlock(&w->lock);
}

/* A wanted signal is asserted: wake the thread. The observer stays listed (the thread
 * takes it off and reads the signals then). */
static bool wait_many_on_state(struct kobject_observer *o, zx_signals_t now,
                               zx_signals_t changed) {
    (void)changed;
    struct wait_many_item *it = containerof(o, struct wait_many_item, obs);
    if (now & it->waitfor)
        wait_many_fire(it->w);
    return false;
}

static void wait_many_on_cancel(struct kobject_observer *o) {
    struct wait_many_item *it = containerof(o, struct wait_many_item, obs);
    it->cancelled = true;
    wait_many_fire(it->w);
}

static const struct kobject_observer_ops wait_many_observer_ops = {
    .on_state = wait_many_on_state,
    .on_cancel = wait_many_on_cancel,
};

/* Blocks until the waiter fires, the deadline passes or the thread is killed. Returns
 * ZX_OK (fired), ZX_ERR_TIMED_OUT or ZX_ERR_INTERNAL_INTR_KILLED. */
static zx_status_t wait_many_block(struct wait_many_waiter *w, zx_time_t deadline) {
    spin_lock_saved_state_t st;
    zx_status_t status = ZX_OK;
    spin_lock_irqsave(&w->lock, &st);
    while (!w->fired) {
        status = wait_queue_block(&w->wq, &w->lock, deadline);
        if (status == ZX_ERR_INTERNAL_INTR_KILLED || status == ZX_ERR_TIMED_OUT)
            break;
        status = ZX_OK;
    }
    if (w->fired && status == ZX_ERR_TIMED_OUT)
        status = ZX_OK;
    spin_unlock_irqrestore(&w->lock, st);
    return status;
}

/* With no item, the wait is a sleep to the deadline (Zircon's behaviour). */
static zx_status_t wait_many_none(zx_time_t deadline) {
    zx_status_t st = thread_sleep_until(deadline);
    return st == ZX_OK ? ZX_ERR_TIMED_OUT : st;
}

/*
 * Checks in order: count (OUT_OF_RANGE), reading items (INVALID_ARGS), then each handle
 * in item order (BAD_HANDLE, ACCESS_DENIED without WAIT). Then waits until a wanted
 * signal is asserted on any item (ZX_OK), a handle is removed from the table
 * (ZX_ERR_CANCELED; that item's pending holds ZX_SIGNAL_HANDLE_CLOSED) or the deadline
 * passes (ZX_ERR_TIMED_OUT). Every item's pending is written back, also on TIMED_OUT and
 * CANCELED; a fault writing it gives INVALID_ARGS.
 */
zx_status_t sys_object_wait_many(user_addr_t items, size_t count, zx_time_t deadline) {
    if (count > ZX_WAIT_MANY_MAX_ITEMS)
        return ZX_ERR_OUT_OF_RANGE;
    if (count == 0)
        return wait_many_none(deadline);
    zx_wait_item_t user[ZX_WAIT_MANY_MAX_ITEMS];
    if (user_copy_from(user, items, count * sizeof(zx_wait_item_t)) != ZX_OK)
        return ZX_ERR_INVALID_ARGS;
    struct wait_many_item *it = kzalloc(count * sizeof(*it));
    if (it == NULL)
        return ZX_ERR_NO_MEMORY;
    handle_table_t *ht = process_current_handles();
    zx_status_t status = ZX_OK;
    size_t got = 0;
    for (; got < count; got++) {
        status = handle_table_get(ht, user[got].handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_WAIT,
                                  &it[got].obj, NULL);
        if (status != ZX_OK)
            break;
    }

    struct wait_many_waiter w;
    spin_lock_init_class(&w.lock, LOCK_CLASS_WAIT_MANY);
    wait_queue_init(&w.wq);
    w.fired = false;
    size_t added = 0;
    if (status == ZX_OK) {
        for (; added < count; added++) {
            struct wait_many_item *x = &it[added];
            x->obs.ops = &wait_many_observer_ops;
            x->w = &w;
            x->waitfor = user[added].waitfor;
            bool done;
            status = kobject_observer_add(x->obj, &x->obs, ht, user[added].handle, &done);
            if (status != ZX_OK)
                break;
        }
    }
    if (status == ZX_OK) {
        /* A handle closed before its observer was added: cancel as if it came after. */
        for (size_t i = 0; i < count; i++) {
            kobject_t *now;
            bool same = handle_table_get(ht, user[i].handle, ZX_OBJ_TYPE_NONE, 0, &now,
                                         NULL) == ZX_OK;
            if (same) {
                same = now == it[i].obj;
                kobject_unref(now);
            }
            if (!same)
                it[i].cancelled = true;
        }
        uthread_set_block_reason(ZX_THREAD_STATE_BLOCKED_WAIT_MANY);
        status = wait_many_block(&w, deadline);
        uthread_set_block_reason(ZX_THREAD_STATE_BLOCKED);
    }

    bool cancelled = false, satisfied = false;
    for (size_t i = 0; i < added; i++) {
        zx_signals_t s;
        kobject_observer_remove(it[i].obj, &it[i].obs, &s);
        if (it[i].cancelled) {
            s |= ZX_SIGNAL_HANDLE_CLOSED;
            cancelled = true;
        }
        if (s & it[i].waitfor)
            satisfied = true;
        user[i].pending = s;
    }
    for (size_t i = 0; i < got; i++)
        kobject_unref(it[i].obj);
    kfree(it);
    if (status == ZX_ERR_INTERNAL_INTR_KILLED || added < count)
        return status;
    if (cancelled)
        status = ZX_ERR_CANCELED;
    else if (satisfied)
        status = ZX_OK;
    else
        status = ZX_ERR_TIMED_OUT;
    if (user_copy_to(items, user, count * sizeof(zx_wait_item_t)) != ZX_OK)
        return ZX_ERR_INVALID_ARGS;
    return status;
}
