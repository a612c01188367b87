/*
 * Between the two halves of the scheduler core: sched.c (run queues, the switch, the
 * tick, placement) and wait.c (sleepers, blocking on wait queues, wakes, kills). Both
 * work under sched_lock, the innermost lock of the kernel (sched.c explains it).
 */
#ifndef SCHED_SCHED_CORE_H
#define SCHED_SCHED_CORE_H

#include <kernel/spinlock.h>
#include <kernel/thread.h>
#include <kernel/wait.h>

extern spinlock_t sched_lock;

static inline void lock_sched(void) TA_ACQ(sched_lock) { spin_lock_untracked(&sched_lock); }
static inline void unlock_sched(void) TA_REL(sched_lock) { spin_unlock_untracked(&sched_lock); }

/* Changes wq->count (lock held). The store is atomic because the wake functions read the
 * count without the lock (wait.c, wait_queue_idle). */
static inline void wait_queue_count_add(wait_queue_t *wq, int32_t delta) TA_REQ(sched_lock) {
    __atomic_store_n(&wq->count, wq->count + (uint32_t)delta, __ATOMIC_RELAXED);
}

/* sched.c: makes t READY on the CPU the placement picks, waking that CPU if it idles. */
void sched_make_ready(thread_t *t) TA_REQ(sched_lock);
/* sched.c: switches to the next thread of this CPU if the current one may not go on (or
 * should yield); returns, lock held, once the caller runs again. Interrupts off. */
void sched_reschedule(void) TA_REQ(sched_lock);

/* wait.c: the sleepers' tree, empty (sched_bootstrap). */
void sched_sleepers_init(void);
/* wait.c: whether a sleeper's deadline is at or before now (no lock: the tick asks). */
bool sched_sleepers_due(zx_time_t now);
/* wait.c: wakes at most WAIT_QUEUE_WAKE_BATCH sleepers whose deadline has passed. */
void sched_sleepers_expire(void) TA_REQ(sched_lock);
/* wait.c: makes a BLOCKED thread ready with status, off any wait queue and the sleepers. */
void sched_wake_blocked(thread_t *t, zx_status_t status) TA_REQ(sched_lock);
/*
 * wait.c: blocks the current thread (on wq if not NULL; at its head if `first`, else at
 * its tail) until woken or deadline; an interruptible block ends early when the thread
 * is killed. `guard`, if not NULL, is the wait queue's guarding lock, held by the caller
 * and released once the thread is on the queue. Returns the wake status.
 */
zx_status_t sched_block_current(wait_queue_t *wq, zx_time_t deadline, bool interruptible,
                                spinlock_t *guard, bool first) TA_REQ(sched_lock);
/* wait.c: wake_all and a woken waiter's pass-on of it, lock held (sched.c's reap waits
 * use them on their own queues). */
int sched_wake_all_locked(wait_queue_t *wq, zx_status_t status) TA_REQ(sched_lock);
void sched_pass_on_locked(wait_queue_t *wq) TA_REQ(sched_lock);

#endif
