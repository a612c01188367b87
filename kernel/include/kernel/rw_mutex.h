/*
 * Blocking reader-writer mutexes: many readers at once, or one writer. For state that is
 * read far more often than changed, where the readers' critical sections may block or
 * run long (an address space: its page faults read the VMAR tree, map, unmap and protect
 * change it).
 *
 * Rules:
 *  - As a mutex (<kernel/mutex.h>): thread context, interrupts on, no spinlock held (at
 *    boot, before the scheduler, an uncontended acquire with interrupts off); it may block; not interrupted by thread_kill. Not recursive, in either mode: a thread
 *    that holds it shared must not take it again (a writer may be waiting in between).
 *  - Writers go first: once a writer waits, new readers wait too, so a stream of page
 *    faults cannot keep a map or unmap out. A releasing writer hands on to the next
 *    writer if one waits, else wakes every waiting reader.
 *  - One lock class for both modes (the validator orders classes, not modes).
 *  - The analysis knows both modes: rw_mutex_acquire / _release are exclusive,
 *    rw_mutex_acquire_shared / _release_shared shared; TA_REQ_SHARED functions accept
 *    either.
 *
 * Host builds (BERYL_HOST): flags that catch recursion and unbalanced releases.
 */
#ifndef KERNEL_RW_MUTEX_H
#define KERNEL_RW_MUTEX_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/assert.h>
#include <kernel/compiler.h>

#ifdef BERYL_HOST

typedef struct TA_CAP("rw_mutex") rw_mutex {
    bool writer;
    uint32_t readers;
} rw_mutex_t;

static inline void rw_mutex_init_class(rw_mutex_t *m, unsigned short cls) {
    (void)cls;
    m->writer = false;
    m->readers = 0;
}
static inline void rw_mutex_acquire(rw_mutex_t *m) TA_ACQ(m) TA_NO_THREAD_SAFETY_ANALYSIS {
    ASSERT_MSG(!m->writer && m->readers == 0, "rw_mutex %p busy", (void *)m);
    m->writer = true;
}
static inline void rw_mutex_release(rw_mutex_t *m) TA_REL(m) TA_NO_THREAD_SAFETY_ANALYSIS {
    ASSERT_MSG(m->writer, "release of rw_mutex %p not held", (void *)m);
    m->writer = false;
}
static inline void rw_mutex_acquire_shared(rw_mutex_t *m) TA_ACQ_SHARED(m)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    ASSERT_MSG(!m->writer, "rw_mutex %p held by a writer", (void *)m);
    m->readers++;
}
static inline void rw_mutex_release_shared(rw_mutex_t *m) TA_REL_SHARED(m)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    ASSERT_MSG(m->readers > 0, "shared release of rw_mutex %p not held", (void *)m);
    m->readers--;
}
static inline bool rw_mutex_held(const rw_mutex_t *m) { return m->writer; }

#else

#include <kernel/lock_class.h>
#include <kernel/lockdep.h>
#include <kernel/spinlock.h>
#include <kernel/wait.h>

typedef struct thread thread_t;

/* state: RW_STATE_WRITER while a writer holds it, RW_STATE_WAITERS while threads wait,
 * plus RW_STATE_READER for each reader holding it. */
#define RW_STATE_WRITER ((uintptr_t)1)
#define RW_STATE_WAITERS ((uintptr_t)2)
#define RW_STATE_READER ((uintptr_t)4)

typedef struct TA_CAP("rw_mutex") rw_mutex {
    uintptr_t state;            /* atomic */
    thread_t *writer;           /* the writer holding it (assertions), NULL otherwise */
    spinlock_t lock;            /* leaf, class LOCK_CLASS_MUTEX_WAIT: the fields below */
    lock_class_t lock_class;    /* the rw_mutex's own class */
    uint32_t writers_waiting;   /* writers in the slow path (lock) */
    wait_queue_t readers_wq;    /* readers blocked (lock) */
    wait_queue_t writers_wq;    /* writers blocked (lock) */
} rw_mutex_t;

void rw_mutex_init_class(rw_mutex_t *m, lock_class_t cls);

/* True if the calling thread holds m exclusively (for assertions). */
bool rw_mutex_held(const rw_mutex_t *m);

/* The contended halves (rw_mutex.c). */
void rw_mutex_acquire_slow(rw_mutex_t *m);
void rw_mutex_release_slow(rw_mutex_t *m);
void rw_mutex_acquire_shared_slow(rw_mutex_t *m);
void rw_mutex_release_shared_slow(rw_mutex_t *m);
void rw_mutex_set_writer(rw_mutex_t *m);

/* Takes m exclusively, blocking while anyone holds it. */
static __always_inline void rw_mutex_acquire(rw_mutex_t *m) TA_ACQ(m)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    DEBUG_ASSERT_MSG(!arch_irqs_disabled() || !sched_initialized(),
                     "rw_mutex %p acquired with interrupts off", (void *)m);
    LOCKDEP_ACQUIRE(m->lock_class, m);
    uintptr_t seen = 0;
    if (likely(__atomic_compare_exchange_n(&m->state, &seen, RW_STATE_WRITER, false,
                                           __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
        rw_mutex_set_writer(m);
    else
        rw_mutex_acquire_slow(m);
}

static __always_inline void rw_mutex_release(rw_mutex_t *m) TA_REL(m)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    LOCKDEP_RELEASE(m);
    DEBUG_ASSERT_MSG(rw_mutex_held(m), "release of rw_mutex %p not held", (void *)m);
    m->writer = NULL;
    uintptr_t seen = RW_STATE_WRITER;
    if (unlikely(!__atomic_compare_exchange_n(&m->state, &seen, 0, false, __ATOMIC_RELEASE,
                                              __ATOMIC_RELAXED)))
        rw_mutex_release_slow(m);
}

/* Takes m shared, blocking while a writer holds it or waits for it. */
static __always_inline void rw_mutex_acquire_shared(rw_mutex_t *m) TA_ACQ_SHARED(m)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    DEBUG_ASSERT_MSG(!arch_irqs_disabled() || !sched_initialized(),
                     "rw_mutex %p acquired with interrupts off", (void *)m);
    LOCKDEP_ACQUIRE(m->lock_class, m);
    uintptr_t v = __atomic_load_n(&m->state, __ATOMIC_RELAXED);
    if (unlikely((v & (RW_STATE_WRITER | RW_STATE_WAITERS)) ||
                 !__atomic_compare_exchange_n(&m->state, &v, v + RW_STATE_READER, false,
                                              __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
        rw_mutex_acquire_shared_slow(m);
}

static __always_inline void rw_mutex_release_shared(rw_mutex_t *m) TA_REL_SHARED(m)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    LOCKDEP_RELEASE(m);
    uintptr_t old = __atomic_fetch_sub(&m->state, RW_STATE_READER, __ATOMIC_RELEASE);
    DEBUG_ASSERT_MSG(old >= RW_STATE_READER && !(old & RW_STATE_WRITER),
                     "shared release of rw_mutex %p not held", (void *)m);
    /* The last reader out with threads waiting (only a writer waits on readers). */
    if (unlikely((old & RW_STATE_WAITERS) && (old & ~(RW_STATE_READER - 1)) == RW_STATE_READER))
        rw_mutex_release_shared_slow(m);
}

#endif

#endif
