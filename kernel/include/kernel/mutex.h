/*
 * Blocking mutexes: for critical sections that may run long (the VM's aspace and VMO
 * family locks), so that long work runs with interrupts on and can be preempted.
 *
 * Rules:
 *  - mutex_acquire may block. Call it from thread context with interrupts enabled and
 *    no spinlock held (before the scheduler runs, at boot, an uncontended acquire with
 *    interrupts off is allowed). It is not interrupted by thread_kill: a killed thread
 *    still gets the mutex and acts on the kill later, at its return to user mode.
 *  - Not recursive; only the owner releases. A release wakes the oldest waiter; a running
 *    thread may take the mutex before the woken one runs, but only once: an overtaken
 *    waiter waits at the head of the queue and a release hands the mutex straight to it,
 *    so no waiter starves and waiters get the mutex in their arrival order.
 *  - A spinlock may be taken while a mutex is held; never the other way round.
 *  - Each mutex has a lock class (<kernel/lock_class.h>) for the lock-order validator
 *    (<kernel/lockdep.h>, debug builds): MUTEX_INITIAL_VALUE_CLASS / mutex_init_class.
 *  - mutex_t is a capability of clang's thread-safety analysis (<kernel/compiler.h>);
 *    acquire and release are not analysed themselves (they implement it).
 *
 * Host builds of kernel code (BERYL_HOST) have no scheduler: there a mutex is a flag that
 * catches recursion and unbalanced releases.
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
#define MUTEX_INITIAL_VALUE_CLASS(name, cls) { false }

static inline void mutex_init(mutex_t *m) { m->held = false; }
static inline void mutex_init_class(mutex_t *m, unsigned short cls) {
    (void)cls;
    m->held = false;
}
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

typedef struct thread thread_t;

/*
 * state is the owner's thread_t address (0 when the mutex is free), with bit 0
 * (MUTEX_STATE_WAITERS) set while threads wait, even while it is free. An uncontended acquire or release is
 * one compare-exchange of state; the slow paths take `lock`, which guards the wait
 * queue and every change of the waiters bit.
 */
typedef struct TA_CAP("mutex") mutex {
    uintptr_t state;
    spinlock_t lock;   /* a leaf spinlock, of class LOCK_CLASS_MUTEX_WAIT */
    lock_class_t lock_class; /* the mutex's own class (enum lock_class_id) */
    wait_queue_t waiters;
    /* Waiters that were woken and overtaken, the first ones of the queue: releases hand
     * the mutex over to them (lock). */
    uint32_t overtaken;
} mutex_t;

#define MUTEX_STATE_WAITERS ((uintptr_t)1)

/* A free mutex named `name` of class LOCK_CLASS_<cls>; MUTEX_INITIAL_VALUE(name) is one of
 * no class (the validator refuses to see it taken). */
#define MUTEX_INITIAL_VALUE_CLASS(name, cls)                                   \
    {                                                                          \
        0, SPIN_LOCK_INIT_CLASS(MUTEX_WAIT), LOCK_CLASS_##cls,                 \
            {LIST_INITIAL_VALUE((name).waiters.threads), 0, 0, 0}, 0,          \
    }
#define MUTEX_INITIAL_VALUE(name) MUTEX_INITIAL_VALUE_CLASS(name, NONE)

void mutex_init_class(mutex_t *m, lock_class_t cls);
static inline void mutex_init(mutex_t *m) { mutex_init_class(m, LOCK_CLASS_NONE); }
/* True if the calling thread owns m (for assertions). */
bool mutex_held(const mutex_t *m);

/* Stands for the caller before the scheduler has a current thread (an address, so its
 * bit 0 is clear like a thread's). */
extern uint64_t mutex_boot_owner_token;

/* The contended halves of mutex_acquire / mutex_release (mutex.c); `me` is the caller's
 * mutex_owner_me() and `seen` the state its compare-exchange found. */
void mutex_acquire_contended(mutex_t *m, uintptr_t me, uintptr_t seen);
void mutex_release_contended(mutex_t *m, uintptr_t me, uintptr_t seen);

/* What state holds while the caller owns a mutex. */
static inline uintptr_t mutex_owner_me(void) {
    thread_t *t = thread_current();
    return t ? (uintptr_t)t : (uintptr_t)&mutex_boot_owner_token;
}

/*
 * The uncontended paths are inline (a compare-exchange and no call: they sit on every
 * handle-table operation); the validator's hook, inlined here, takes the acquisition site
 * from its return address, which lies in the caller. Not checked by the analysis: they
 * implement the capability that it tracks, with atomics it cannot see; the contended
 * paths, which use m->lock, are checked.
 */
static __always_inline void mutex_acquire(mutex_t *m) TA_ACQ(m) TA_NO_THREAD_SAFETY_ANALYSIS {
    DEBUG_ASSERT_MSG(!arch_irqs_disabled() || !sched_initialized(),
                     "mutex %p acquired with interrupts off", (void *)m);
    LOCKDEP_ACQUIRE(m->lock_class, m);
    uintptr_t me = mutex_owner_me();
    uintptr_t seen = 0;
    if (unlikely(!__atomic_compare_exchange_n(&m->state, &seen, me, false, __ATOMIC_ACQUIRE,
                                              __ATOMIC_RELAXED)))
        mutex_acquire_contended(m, me, seen);
}

static __always_inline void mutex_release(mutex_t *m) TA_REL(m) TA_NO_THREAD_SAFETY_ANALYSIS {
    LOCKDEP_RELEASE(m);
    uintptr_t me = mutex_owner_me();
    uintptr_t seen = me;
    if (unlikely(!__atomic_compare_exchange_n(&m->state, &seen, 0, false, __ATOMIC_RELEASE,
                                              __ATOMIC_RELAXED)))
        mutex_release_contended(m, me, seen);
}

#endif

#endif
