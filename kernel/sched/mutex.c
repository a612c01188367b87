/*
 * Blocking mutexes (<kernel/mutex.h>).
 *
 * Fast paths (inline, in <kernel/mutex.h>): an acquire of a free mutex swaps state from 0
 * to the caller; a release with nobody waiting swaps it from the caller back to 0.
 * Neither turns interrupts off.
 *
 * Slow paths run under the mutex's spinlock. A thread that finds the mutex owned sets the
 * waiters bit (so the owner's release cannot take the fast path) and blocks; the bit
 * stays set, owner or not, while threads wait. A release that finds the bit set frees
 * the mutex and wakes the oldest waiter, which takes it unless a running thread took it
 * first; an overtaken waiter goes back to the head of the queue, and a release hands the
 * mutex straight to it (see mutex_release_slow for why not always).
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
    m->overtaken = 0;
}

static __noinline void mutex_acquire_slow(mutex_t *m, uintptr_t me) TA_EXCL(m->lock) {
    ASSERT_MSG(sched_initialized(), "contended mutex %p before the scheduler", (void *)m);
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&m->lock, &s);
    bool woken = false;
    for (;;) {
        uintptr_t v = __atomic_load_n(&m->state, __ATOMIC_RELAXED);
        if (state_owner(v) == me) {
            DEBUG_ASSERT_MSG(woken, "recursive mutex %p", (void *)m);
            break; /* handed over by the release that woke us */
        }
        if (state_owner(v) == 0) {
            /* Free: released by the fast path, or by a release that woke a waiter
             * without handing over. The bit stays if others still wait. */
            uintptr_t more = m->waiters.count > 0 ? MUTEX_STATE_WAITERS : 0;
            if (__atomic_compare_exchange_n(&m->state, &v, me | more, false, __ATOMIC_ACQUIRE,
                                            __ATOMIC_RELAXED))
                break;
            continue;
        }
        if (!(v & MUTEX_STATE_WAITERS) &&
            !__atomic_compare_exchange_n(&m->state, &v, v | MUTEX_STATE_WAITERS, false,
                                         __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            continue; /* the owner released or changed: look again */
        /* Woken and overtaken: wait first in line, for a release to hand the mutex over,
         * so that nobody overtakes a waiter twice. */
        if (woken)
            m->overtaken++;
        wait_queue_block_uninterruptible(&m->waiters, &m->lock, woken);
        woken = true;
    }
    spin_unlock_irqrestore(&m->lock, s);
}

/* The fast path (mutex.h) found m owned (`seen`, the state then). */
void mutex_acquire_contended(mutex_t *m, uintptr_t me, uintptr_t seen) {
    DEBUG_ASSERT_MSG(state_owner(seen) != me, "recursive mutex %p", (void *)m);
    mutex_acquire_slow(m, me);
}

/*
 * A release with waiters wakes the oldest. It does not hand it the mutex, but leaves the
 * mutex free for whoever takes it first: the woken thread still has to be scheduled, and
 * a mutex owned by a thread that waits for a CPU stops every thread that needs it, which
 * then queues and gets the mutex the same slow way (a convoy). Only to a waiter that was
 * woken and overtaken (at the head of the queue, counted in m->overtaken) does the
 * release hand the mutex over.
 */
static __noinline void mutex_release_slow(mutex_t *m, uintptr_t me) TA_EXCL(m->lock) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&m->lock, &s);
    ASSERT_MSG(state_owner(m->state) == me, "release of mutex %p not held", (void *)m);
    if (m->waiters.count > 0) {
        uintptr_t more = m->waiters.count > 1 ? MUTEX_STATE_WAITERS : 0;
        uintptr_t next = 0;
        if (m->overtaken > 0) {
            next = (uintptr_t)containerof(m->waiters.threads.next, thread_t, queue_node);
            m->overtaken--;
        }
        __atomic_store_n(&m->state, next | more, __ATOMIC_RELEASE);
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
