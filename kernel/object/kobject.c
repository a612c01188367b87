/*
 * Kernel object core: koids, reference counts, signals and waiting (object/kobject.h).
 */
#include <object/kobject.h>

#include <kernel/assert.h>

static zx_koid_t kobject_next_koid = ZX_KOID_FIRST;

void kobject_init(kobject_t *obj, const struct kobject_ops *ops) {
    DEBUG_ASSERT(ops != NULL && ops->destroy != NULL);
    obj->ops = ops;
    obj->koid = __atomic_fetch_add(&kobject_next_koid, 1, __ATOMIC_RELAXED);
    obj->refs = 1;
    obj->handle_count = 0;
    spin_lock_init(&obj->lock);
    obj->signals = 0;
    wait_queue_init(&obj->waiters);
    obj->poke_gen = 0;
}

void kobject_ref(kobject_t *obj) {
    uint32_t old = __atomic_fetch_add(&obj->refs, 1, __ATOMIC_RELAXED);
    DEBUG_ASSERT_MSG(old > 0, "kobject_ref of dead object %p", (void *)obj);
    (void)old;
}

void kobject_unref(kobject_t *obj) {
    DEBUG_ASSERT(!spin_lock_held(&obj->lock));
    uint32_t old = __atomic_fetch_sub(&obj->refs, 1, __ATOMIC_ACQ_REL);
    ASSERT_MSG(old > 0, "kobject_unref underflow on %p", (void *)obj);
    if (old == 1) {
        DEBUG_ASSERT(obj->waiters.count == 0);
        obj->ops->destroy(obj);
    }
}

void kobject_signal_locked(kobject_t *obj, zx_signals_t clear, zx_signals_t set) {
    DEBUG_ASSERT(spin_lock_held(&obj->lock));
    zx_signals_t old = obj->signals;
    zx_signals_t now = (old & ~clear) | set;
    if (now == old)
        return;
    obj->signals = now;
    wait_queue_wake_all(&obj->waiters, ZX_OK);
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
