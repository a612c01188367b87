/*
 * Blocking mutexes (<kernel/mutex.h>).
 *
 * The mutex's own spinlock guards owner and the wait queue. A release with waiters hands
 * ownership to the oldest one before waking it, so a waiter that wakes always owns the
 * mutex and nobody can overtake the queue.
 */
#include <kernel/mutex.h>

#include <kernel/thread.h>

/* Owner recorded for acquisitions made before the scheduler has a current thread. */
static thread_t *const boot_owner = (thread_t *)(uintptr_t)1;

static thread_t *mutex_me(void) {
    thread_t *t = thread_current();
    return t ? t : boot_owner;
}

void mutex_init(mutex_t *m) {
    spin_lock_init(&m->lock);
    m->owner = NULL;
    wait_queue_init(&m->waiters);
}

void mutex_acquire(mutex_t *m) TA_NO_THREAD_SAFETY_ANALYSIS {
    thread_t *me = mutex_me();
    DEBUG_ASSERT_MSG(!arch_irqs_disabled() || !sched_initialized(),
                     "mutex %p acquired with interrupts off", (void *)m);
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&m->lock, &s);
    DEBUG_ASSERT_MSG(m->owner != me, "recursive mutex %p", (void *)m);
    if (m->owner == NULL) {
        m->owner = me;
    } else {
        ASSERT_MSG(sched_initialized(), "contended mutex %p before the scheduler", (void *)m);
        do
            wait_queue_block_uninterruptible(&m->waiters, &m->lock);
        while (m->owner != me);
    }
    spin_unlock_irqrestore(&m->lock, s);
}

void mutex_release(mutex_t *m) TA_NO_THREAD_SAFETY_ANALYSIS {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&m->lock, &s);
    ASSERT_MSG(m->owner == mutex_me(), "release of mutex %p not held", (void *)m);
    if (m->waiters.count > 0) {
        m->owner = containerof(m->waiters.threads.next, thread_t, queue_node);
        wait_queue_wake_one(&m->waiters, ZX_OK);
    } else {
        m->owner = NULL;
    }
    spin_unlock_irqrestore(&m->lock, s);
}

bool mutex_held(const mutex_t *m) {
    return __atomic_load_n(&m->owner, __ATOMIC_RELAXED) == mutex_me();
}
