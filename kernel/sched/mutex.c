/*
 * Blocking mutexes (<kernel/mutex.h>).
 *
 * Fast paths (inline, in <kernel/mutex.h>): an acquire of a free mutex swaps state from 0
 * to the caller; a release with nobody waiting swaps it from the caller back to 0.
 * Neither turns interrupts off.
 *
 * Slow paths run under the mutex's spinlock. A thread that finds the mutex owned sets the
 * waiters bit (so the owner's release cannot take the fast path) and blocks; a release
 * that finds the bit set hands ownership straight to the oldest waiter, with the bit
 * kept if others still wait, before waking it. So a waiter that wakes always owns the
 * mutex, and nobody can overtake the queue.
 */
#include <kernel/mutex.h>

#include <kernel/thread.h>

uint64_t mutex_boot_owner_token;

static inline uintptr_t state_owner(uintptr_t state) { return state & ~MUTEX_STATE_WAITERS; }

void mutex_init_class(mutex_t *m, lock_class_t cls) {
    m->state = 0;
    spin_lock_init_class(&m->lock, LOCK_CLASS_MUTEX_WAIT);
    m->lock_class = cls;
    wait_queue_init(&m->waiters);
}

static __noinline void mutex_acquire_slow(mutex_t *m, uintptr_t me) TA_EXCL(m->lock) {
    ASSERT_MSG(sched_initialized(), "contended mutex %p before the scheduler", (void *)m);
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&m->lock, &s);
    for (;;) {
        uintptr_t v = __atomic_load_n(&m->state, __ATOMIC_RELAXED);
        if (v == 0) {
            /* Released by the fast path meanwhile, with nobody queued. */
            if (__atomic_compare_exchange_n(&m->state, &v, me, false, __ATOMIC_ACQUIRE,
                                            __ATOMIC_RELAXED))
                break;
            continue;
        }
        DEBUG_ASSERT_MSG(state_owner(v) != me, "recursive mutex %p", (void *)m);
        if (!(v & MUTEX_STATE_WAITERS) &&
            !__atomic_compare_exchange_n(&m->state, &v, v | MUTEX_STATE_WAITERS, false,
                                         __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            continue; /* the owner released or changed: look again */
        wait_queue_block_uninterruptible(&m->waiters, &m->lock);
        if (state_owner(__atomic_load_n(&m->state, __ATOMIC_ACQUIRE)) == me)
            break; /* handed over by the release */
    }
    spin_unlock_irqrestore(&m->lock, s);
}

/* The fast path (mutex.h) found m owned (`seen`, the state then). */
void mutex_acquire_contended(mutex_t *m, uintptr_t me, uintptr_t seen) {
    DEBUG_ASSERT_MSG(state_owner(seen) != me, "recursive mutex %p", (void *)m);
    mutex_acquire_slow(m, me);
}

static __noinline void mutex_release_slow(mutex_t *m, uintptr_t me) TA_EXCL(m->lock) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&m->lock, &s);
    ASSERT_MSG(state_owner(m->state) == me, "release of mutex %p not held", (void *)m);
    if (m->waiters.count > 0) {
        thread_t *next = containerof(m->waiters.threads.next, thread_t, queue_node);
        uintptr_t more = m->waiters.count > 1 ? MUTEX_STATE_WAITERS : 0;
        __atomic_store_n(&m->state, (uintptr_t)next | more, __ATOMIC_RELEASE);
        wait_queue_wake_one(&m->waiters, ZX_OK);
    } else {
        __atomic_store_n(&m->state, 0, __ATOMIC_RELEASE);
    }
    spin_unlock_irqrestore(&m->lock, s);
}

/* The fast path (mutex.h) found waiters queued, or m not owned by the caller. */
void mutex_release_contended(mutex_t *m, uintptr_t me, uintptr_t seen) {
    ASSERT_MSG(state_owner(seen) == me, "release of mutex %p not held", (void *)m);
    mutex_release_slow(m, me);
}

bool mutex_held(const mutex_t *m) {
    return state_owner(__atomic_load_n(&m->state, __ATOMIC_RELAXED)) == mutex_owner_me();
}
