/*
 * Blocking reader-writer mutexes (<kernel/rw_mutex.h>).
 *
 * Fast paths (inline in the header): a reader adds RW_STATE_READER when neither a writer
 * holds the mutex nor anyone waits; a writer swaps 0 for RW_STATE_WRITER; each release
 * undoes its own change. Slow paths run under m->lock, which guards the wait queues,
 * writers_waiting and every change of the waiters bit; a thread about to block sets the
 * bit first, so a release that finds it set takes the slow path and wakes the right
 * threads:
 *  - a writer's release wakes the next writer if one waits (writers go first), else every
 *    waiting reader;
 *  - the last reader's release wakes a waiting writer (readers only ever wait behind a
 *    writer, which holds the mutex or waits for it).
 * A woken thread looks at the state again and may find the mutex taken by a thread that
 * was never blocked; it then blocks again.
 */
#include <kernel/rw_mutex.h>

#include <kernel/thread.h>

void rw_mutex_init_class(rw_mutex_t *m, lock_class_t cls) {
    m->state = 0;
    m->writer = NULL;
    spin_lock_init_class(&m->lock, LOCK_CLASS_MUTEX_WAIT);
    m->lock_class = cls;
    m->writers_waiting = 0;
    wait_queue_init(&m->readers_wq);
    wait_queue_init(&m->writers_wq);
}

bool rw_mutex_held(const rw_mutex_t *m) {
    return (__atomic_load_n(&m->state, __ATOMIC_RELAXED) & RW_STATE_WRITER) &&
           m->writer == thread_current();
}

void rw_mutex_set_writer(rw_mutex_t *m) { m->writer = thread_current(); }

/* The waiters bit for the state (lock held): set while anyone waits. */
static uintptr_t waiters_bit(const rw_mutex_t *m) TA_REQ(m->lock) {
    return m->writers_waiting > 0 || m->readers_wq.count > 0 ? RW_STATE_WAITERS : 0;
}

/* Clears the waiters bit once nobody waits any more (lock held), so that the fast paths
 * work again. */
static void settle_waiters_bit(rw_mutex_t *m) TA_REQ(m->lock) {
    if (waiters_bit(m) == 0)
        __atomic_fetch_and(&m->state, ~RW_STATE_WAITERS, __ATOMIC_RELAXED);
}

/* Sets the waiters bit in state `v` (lock held); false if state changed meanwhile. */
static bool mark_waiting(rw_mutex_t *m, uintptr_t v) TA_REQ(m->lock) {
    return (v & RW_STATE_WAITERS) ||
           __atomic_compare_exchange_n(&m->state, &v, v | RW_STATE_WAITERS, false,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void rw_mutex_acquire_slow(rw_mutex_t *m) {
    ASSERT_MSG(sched_initialized(), "contended rw_mutex %p before the scheduler", (void *)m);
    DEBUG_ASSERT_MSG(!rw_mutex_held(m), "recursive rw_mutex %p", (void *)m);
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&m->lock, &s);
    m->writers_waiting++;
    for (;;) {
        uintptr_t v = __atomic_load_n(&m->state, __ATOMIC_RELAXED);
        if ((v & ~RW_STATE_WAITERS) == 0) {
            /* Free. The bit stays while others wait. */
            bool others = m->writers_waiting > 1 || m->readers_wq.count > 0;
            uintptr_t nv = RW_STATE_WRITER | (others ? RW_STATE_WAITERS : 0);
            if (__atomic_compare_exchange_n(&m->state, &v, nv, false, __ATOMIC_ACQUIRE,
                                            __ATOMIC_RELAXED))
                break;
            continue;
        }
        if (!mark_waiting(m, v))
            continue;
        wait_queue_block_uninterruptible(&m->writers_wq, &m->lock, false);
    }
    m->writers_waiting--;
    m->writer = thread_current();
    spin_unlock_irqrestore(&m->lock, s);
}

void rw_mutex_acquire_shared_slow(rw_mutex_t *m) {
    ASSERT_MSG(sched_initialized(), "contended rw_mutex %p before the scheduler", (void *)m);
    DEBUG_ASSERT_MSG(!rw_mutex_held(m), "recursive rw_mutex %p", (void *)m);
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&m->lock, &s);
    for (;;) {
        uintptr_t v = __atomic_load_n(&m->state, __ATOMIC_RELAXED);
        if (!(v & RW_STATE_WRITER) && m->writers_waiting == 0) {
            if (__atomic_compare_exchange_n(&m->state, &v, v + RW_STATE_READER, false,
                                            __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
                break;
            continue;
        }
        if (!mark_waiting(m, v))
            continue;
        wait_queue_block_uninterruptible(&m->readers_wq, &m->lock, false);
    }
    settle_waiters_bit(m);
    spin_unlock_irqrestore(&m->lock, s);
}


void rw_mutex_release_slow(rw_mutex_t *m) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&m->lock, &s);
    ASSERT_MSG(__atomic_load_n(&m->state, __ATOMIC_RELAXED) & RW_STATE_WRITER,
               "release of rw_mutex %p not held", (void *)m);
    __atomic_store_n(&m->state, waiters_bit(m), __ATOMIC_RELEASE);
    if (m->writers_waiting > 0)
        wait_queue_wake_one(&m->writers_wq, ZX_OK);
    else
        wait_queue_wake_all(&m->readers_wq, ZX_OK);
    spin_unlock_irqrestore(&m->lock, s);
}

void rw_mutex_release_shared_slow(rw_mutex_t *m) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&m->lock, &s);
    uintptr_t v = __atomic_load_n(&m->state, __ATOMIC_RELAXED);
    /* Still free (no reader came back, no writer took it) and someone waits: the next
     * writer, or readers left behind if no writer waits any more. */
    if ((v & ~RW_STATE_WAITERS) == 0) {
        if (m->writers_waiting > 0)
            wait_queue_wake_one(&m->writers_wq, ZX_OK);
        else
            wait_queue_wake_all(&m->readers_wq, ZX_OK);
    }
    settle_waiters_bit(m);
    spin_unlock_irqrestore(&m->lock, s);
}
