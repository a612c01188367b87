/*
 * Wait queues: where threads block until another thread or an interrupt wakes them.
 *
 * A wait queue has no lock of its own. Its "guarding lock" is the spinlock of the object
 * that owns it (taken with spin_lock_irqsave, so interrupts are off while it is held);
 * every block / wake on the queue happens with that lock held. The queue's list of threads
 * is the scheduler's: it changes only under the scheduler's lock (kernel/sched/sched.c),
 * which the block, wake, timeout and kill paths take inside the guarding lock, and a
 * blocking thread is on the queue before the guarding lock is released, so a waker that
 * takes the guarding lock next always finds it.
 */
#ifndef KERNEL_WAIT_H
#define KERNEL_WAIT_H

#include <kernel/spinlock.h>
#include <kernel/thread.h>
#include <lib/list.h>

typedef struct wait_queue {
    struct list_node threads; /* blocked threads in FIFO order */
    uint32_t count;
    uint32_t pending_wakes;   /* left by a wake_all, passed on batch by batch */
    zx_status_t pending_status;
} wait_queue_t;

/* Threads a wake_all (or each woken waiter passing it on) wakes at a time. */
#define WAIT_QUEUE_WAKE_BATCH 32

void wait_queue_init(wait_queue_t *wq);

/*
 * Blocks the calling thread on wq. `lock` is the guarding lock, held by the caller with
 * interrupts disabled; it is released while the thread sleeps and held again (interrupts
 * still disabled) when this returns. Returns the status given to the waker (ZX_OK for a
 * plain wake), ZX_ERR_TIMED_OUT once deadline (absolute; ZX_TIME_INFINITE = none) has
 * passed, or ZX_ERR_INTERNAL_INTR_KILLED if the thread is or gets killed.
 */
zx_status_t wait_queue_block(wait_queue_t *wq, spinlock_t *lock, zx_time_t deadline)
    TA_REQ(lock);

/*
 * As wait_queue_block without a deadline, but thread_kill does not end the wait: only a
 * wake does (mutexes use it; the killed thread acts on the kill later). With `first` the
 * thread waits at the head of the queue, ahead of those already there (a woken mutex
 * waiter that another thread overtook keeps its turn), else at the tail.
 */
void wait_queue_block_uninterruptible(wait_queue_t *wq, spinlock_t *lock, bool first)
    TA_REQ(lock);

/*
 * Wake the oldest / every waiter, handing them `status`. Caller holds the guarding lock.
 * Return the number of threads woken now: wake_all wakes at most WAIT_QUEUE_WAKE_BATCH
 * and each woken thread wakes the next batch as it returns from its wait, so every thread
 * waiting at the call is woken without interrupts staying off for all of them. Waiters
 * may see a spurious wake (ZX_OK) and must re-check what they wait for.
 */
int wait_queue_wake_one(wait_queue_t *wq, zx_status_t status);
int wait_queue_wake_all(wait_queue_t *wq, zx_status_t status);

#endif
