/* Blocking mutexes (kernel/mutex.h): a stand-in until main's version is merged. */
#include <kernel/mutex.h>

#include <kernel/thread.h>

void mutex_init(mutex_t *m) {
    spin_lock_init(&m->lock);
    m->owner = NULL;
    wait_queue_init(&m->waiters);
}

void mutex_acquire(mutex_t *m) TA_NO_THREAD_SAFETY_ANALYSIS {
    thread_t *me = thread_current();
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&m->lock, &s);
    DEBUG_ASSERT_MSG(m->owner != me, "recursive mutex %p", (void *)m);
    while (m->owner != NULL) {
        /* A killed thread is not woken for good by the block: let the owner run. */
        if (wait_queue_block(&m->waiters, &m->lock, ZX_TIME_INFINITE) ==
            ZX_ERR_INTERNAL_INTR_KILLED) {
            spin_unlock_irqrestore(&m->lock, s);
            thread_yield();
            spin_lock_irqsave(&m->lock, &s);
        }
    }
    m->owner = me;
    spin_unlock_irqrestore(&m->lock, s);
}

void mutex_release(mutex_t *m) TA_NO_THREAD_SAFETY_ANALYSIS {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&m->lock, &s);
    DEBUG_ASSERT_MSG(m->owner == thread_current(), "release of mutex %p not held", (void *)m);
    m->owner = NULL;
    wait_queue_wake_one(&m->waiters, ZX_OK);
    spin_unlock_irqrestore(&m->lock, s);
}

bool mutex_held(const mutex_t *m) { return m->owner != NULL && m->owner == thread_current(); }
