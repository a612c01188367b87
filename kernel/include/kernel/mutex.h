/*
 * Blocking mutexes (a stand-in with the interface the lead is adding on main; replaced
 * by main's version at the next merge).
 *
 * mutex_acquire may block: call it from thread context with interrupts enabled and no
 * spinlock held. Not recursive; only the owner releases. A spinlock may be taken while a
 * mutex is held, never the other way round. Host builds (BERYL_HOST) have no scheduler:
 * there a mutex is a flag that catches recursion and unbalanced releases.
 */
#ifndef KERNEL_MUTEX_H
#define KERNEL_MUTEX_H

#include <stdbool.h>
#include <stddef.h>
#include <kernel/assert.h>
#include <kernel/compiler.h>

#ifdef BERYL_HOST

typedef struct TA_CAP("mutex") mutex {
    bool held;
} mutex_t;

#define MUTEX_INITIAL_VALUE(name) { false }

static inline void mutex_init(mutex_t *m) { m->held = false; }
static inline void mutex_acquire(mutex_t *m) TA_ACQ(m) TA_NO_THREAD_SAFETY_ANALYSIS {
    ASSERT_MSG(!m->held, "recursive mutex %p", (void *)m);
    m->held = true;
}
static inline void mutex_release(mutex_t *m) TA_REL(m) TA_NO_THREAD_SAFETY_ANALYSIS {
    ASSERT_MSG(m->held, "release of mutex %p not held", (void *)m);
    m->held = false;
}
static inline bool mutex_held(const mutex_t *m) { return m->held; }

#else

#include <kernel/spinlock.h>
#include <kernel/wait.h>

typedef struct TA_CAP("mutex") mutex {
    spinlock_t lock;   /* guards owner and waiters */
    thread_t *owner;   /* NULL when free */
    wait_queue_t waiters;
} mutex_t;

#define MUTEX_INITIAL_VALUE(name)                                              \
    {                                                                          \
        SPIN_LOCK_INITIAL_VALUE, NULL,                                         \
            {LIST_INITIAL_VALUE((name).waiters.threads), 0},                   \
    }

void mutex_init(mutex_t *m);
void mutex_acquire(mutex_t *m) TA_ACQ(m);
void mutex_release(mutex_t *m) TA_REL(m);
/* True if the calling thread owns m. */
bool mutex_held(const mutex_t *m);

#endif

#endif
