/*
 * Blocking and waking (contracts in <kernel/thread.h> and <kernel/wait.h>): threads that
 * sleep until a deadline, blocks on wait queues with their wakes, kills and pokes. The
 * other half of the scheduler core (sched.c: run queues, switch, tick); both run under
 * sched_lock, and sched_core.h is the interface between them.
 */
#include <arch/irq.h>
#include <arch/timer.h>
#include <kernel/assert.h>
#include <kernel/thread.h>
#include <kernel/wait.h>
#include <lib/avl.h>
#include "sched_core.h"

/* Threads blocked with a deadline: an AVL tree keyed by deadline with one node per
 * distinct deadline, so inserting and expiring cost O(log n) with interrupts off however
 * many threads sleep; threads sharing a deadline chain behind the node's owner. The boot
 * CPU's tick expires them. */
static struct avl_tree sleepers;
/* The earliest deadline in `sleepers` (ZX_TIME_INFINITE: none), written under the lock,
 * read without it by the tick to decide whether to take the lock at all. */
static zx_time_t sleepers_next = ZX_TIME_INFINITE;

void sched_sleepers_init(void) { avl_init(&sleepers); }

bool sched_sleepers_due(zx_time_t now) {
    return __atomic_load_n(&sleepers_next, __ATOMIC_RELAXED) <= now;
}

static void wait_queue_pass_on(wait_queue_t *wq);

static void sleepers_note_next(void) TA_REQ(sched_lock) {
    struct avl_node *first = avl_first(&sleepers);
    zx_time_t next = first ? (zx_time_t)first->key : ZX_TIME_INFINITE;
    __atomic_store_n(&sleepers_next, next, __ATOMIC_RELAXED);
}

static void sleepers_insert(thread_t *t) TA_REQ(sched_lock) {
    DEBUG_ASSERT(t->wake_deadline >= 0 && t->timer_state == THREAD_TIMER_NONE);
    uint64_t key = (uint64_t)t->wake_deadline;
    struct avl_node *n = avl_find(&sleepers, key);
    if (n) {
        thread_t *owner = containerof(n, thread_t, timer_node);
        list_add_tail(&owner->timer_chain, &t->timer_chain);
        t->timer_state = THREAD_TIMER_CHAINED;
        return;
    }
    t->timer_node.key = key;
    ASSERT(avl_insert(&sleepers, &t->timer_node) == ZX_OK);
    list_init(&t->timer_chain);
    t->timer_state = THREAD_TIMER_TREE;
    sleepers_note_next();
}

/* Takes t off the sleepers; the next thread of its chain takes over its tree node. */
static void sleepers_remove(thread_t *t) TA_REQ(sched_lock) {
    if (t->timer_state == THREAD_TIMER_CHAINED) {
        list_delete(&t->timer_chain);
    } else if (t->timer_state == THREAD_TIMER_TREE) {
        avl_remove(&sleepers, &t->timer_node);
        struct list_node *first = list_remove_head(&t->timer_chain);
        if (first) {
            thread_t *heir = containerof(first, thread_t, timer_chain);
            list_move_all(&t->timer_chain, &heir->timer_chain);
            heir->timer_node.key = t->timer_node.key;
            ASSERT(avl_insert(&sleepers, &heir->timer_node) == ZX_OK);
            heir->timer_state = THREAD_TIMER_TREE;
        }
        sleepers_note_next();
    }
    t->timer_state = THREAD_TIMER_NONE;
}

/* Makes a BLOCKED thread ready with status, off any wait queue and the sleeper list. */
void sched_wake_blocked(thread_t *t, zx_status_t status) {
    DEBUG_ASSERT(t->state == THREAD_BLOCKED);
    if (t->blocked_on) {
        list_delete(&t->queue_node);
        wait_queue_count_add(t->blocked_on, -1);
        t->blocked_on = NULL;
    }
    sleepers_remove(t);
    t->wake_status = status;
    sched_make_ready(t);
}

/*
 * Blocks the current thread (on wq if not NULL; at its head if `first`, else at its
 * tail) until woken or deadline. An interruptible block ends early when the thread is
 * killed. Lock held. `guard`, if not NULL, is the wait queue's guarding lock, held by the
 * caller: it is released once the thread is on the queue (or at once if it does not
 * block), so a waker, who needs it, always finds the thread there.
 */
zx_status_t sched_block_current(wait_queue_t *wq, zx_time_t deadline, bool interruptible,
                                spinlock_t *guard, bool first) TA_NO_THREAD_SAFETY_ANALYSIS {
    thread_t *t = thread_current();
    zx_status_t early = ZX_OK;
    if (interruptible &&
        (__atomic_load_n(&t->pending, __ATOMIC_RELAXED) & THREAD_PENDING_KILL))
        early = ZX_ERR_INTERNAL_INTR_KILLED;
    else if (deadline != ZX_TIME_INFINITE && deadline <= current_time())
        early = ZX_ERR_TIMED_OUT;
    if (early != ZX_OK) {
        if (guard)
            spin_unlock(guard);
        return early;
    }
    t->state = THREAD_BLOCKED;
    t->block_interruptible = interruptible;
    t->wake_status = ZX_OK;
    t->wake_deadline = deadline;
    if (wq) {
        t->blocked_on = wq;
        if (first)
            list_add_head(&wq->threads, &t->queue_node);
        else
            list_add_tail(&wq->threads, &t->queue_node);
        wait_queue_count_add(wq, 1);
    }
    if (deadline != ZX_TIME_INFINITE)
        sleepers_insert(t);
    if (guard)
        spin_unlock(guard);
    sched_reschedule();
    if (t->wake_status == ZX_ERR_TIMED_OUT)
        sched_sleepers_expire(); /* pass the tick's expiry on (see sched_sleepers_expire) */
    return t->wake_status;
}

zx_status_t thread_sleep_until(zx_time_t deadline) {
    spin_lock_saved_state_t s = arch_irq_save();
    lock_sched();
    zx_status_t st = sched_block_current(NULL, deadline, true, NULL, false);
    unlock_sched();
    arch_irq_restore(s);
    if (st == ZX_ERR_TIMED_OUT)
        st = ZX_OK;
    return st;
}

bool thread_kill_pending(void) {
    thread_t *t = thread_current(); /* NULL before sched_init: boot code is never killed */
    return t && (__atomic_load_n(&t->pending, __ATOMIC_RELAXED) & THREAD_PENDING_KILL) != 0;
}

/* t has something pending: if it runs on another CPU, interrupt it there, so that it
 * acts on it at its return to user mode now rather than at its next kernel entry. */
static void poke_locked(thread_t *t) TA_REQ(sched_lock) {
    if (t->state == THREAD_RUNNING && t->last_cpu != arch_curr_cpu_num())
        arch_ipi_reschedule(t->last_cpu);
}

void thread_kill(thread_t *t) {
    spin_lock_saved_state_t s = arch_irq_save();
    lock_sched();
    __atomic_fetch_or(&t->pending, THREAD_PENDING_KILL, __ATOMIC_RELEASE);
    if (t->state == THREAD_BLOCKED && t->block_interruptible)
        sched_wake_blocked(t, ZX_ERR_INTERNAL_INTR_KILLED);
    else
        poke_locked(t);
    unlock_sched();
    arch_irq_restore(s);
}

void thread_poke(thread_t *t) {
    spin_lock_saved_state_t s = arch_irq_save();
    lock_sched();
    poke_locked(t);
    unlock_sched();
    arch_irq_restore(s);
}

void wait_queue_init(wait_queue_t *wq) {
    list_init(&wq->threads);
    wq->count = 0;
    wq->pending_wakes = 0;
    wq->pending_status = ZX_OK;
}

/* Not analysed: sched_block_current releases `lock` for it, which the analysis cannot follow
 * through the NULL-able parameter. */
zx_status_t wait_queue_block(wait_queue_t *wq, spinlock_t *lock, zx_time_t deadline)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    DEBUG_ASSERT(arch_irqs_disabled());
    lock_sched();
    zx_status_t st = sched_block_current(wq, deadline, true, lock, false);
    unlock_sched();
    spin_lock(lock);
    wait_queue_pass_on(wq);
    return st;
}

void wait_queue_block_uninterruptible(wait_queue_t *wq, spinlock_t *lock, bool first)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    DEBUG_ASSERT(arch_irqs_disabled());
    lock_sched();
    sched_block_current(wq, ZX_TIME_INFINITE, false, lock, first);
    unlock_sched();
    spin_lock(lock);
    wait_queue_pass_on(wq);
}

/* wake_one with the lock held. */
static int wake_one_locked(wait_queue_t *wq, zx_status_t status) TA_REQ(sched_lock) {
    if (list_is_empty(&wq->threads))
        return 0;
    sched_wake_blocked(containerof(wq->threads.next, thread_t, queue_node), status);
    return 1;
}

/*
 * Whether a wake of wq has nothing to do, decided without the scheduler lock: no thread
 * waits and no wake_all is being passed on. The caller holds wq's guarding lock, and a
 * thread joins wq only while holding it too (sched_block_current adds the thread before it
 * releases the guard), so with the guard held the count cannot grow; it can only shrink,
 * when a timeout or a kill takes a waiter off, and such a waiter needs no wake. Most
 * wakes find nobody waiting (every signal change, every handle close pokes its object),
 * and taking the one scheduler lock for each of them would make every CPU's syscalls
 * queue on it.
 */
static inline bool wait_queue_idle(const wait_queue_t *wq) {
    return __atomic_load_n(&wq->count, __ATOMIC_RELAXED) == 0 && wq->pending_wakes == 0;
}

int wait_queue_wake_one(wait_queue_t *wq, zx_status_t status) {
    DEBUG_ASSERT(arch_irqs_disabled());
    if (wait_queue_idle(wq))
        return 0;
    lock_sched();
    int n = wake_one_locked(wq, status);
    unlock_sched();
    return n;
}

/*
 * Waking every waiter at once would keep interrupts off for a time proportional to the
 * number of waiters, which user space chooses. So wake_all wakes the first
 * WAIT_QUEUE_WAKE_BATCH and leaves the rest pending; every woken thread, back in
 * wait_queue_block with the guarding lock, wakes the next batch (wait_queue_pass_on).
 * The pending ones are at the head of the queue (FIFO); if some left meanwhile (timeout,
 * kill), a few later arrivals may be woken too: a spurious wake, which every caller's
 * re-check loop absorbs.
 */
int sched_wake_all_locked(wait_queue_t *wq, zx_status_t status) {
    int n = 0;
    while (n < WAIT_QUEUE_WAKE_BATCH && wake_one_locked(wq, status))
        n++;
    wq->pending_wakes = wq->count;
    wq->pending_status = status;
    return n;
}

int wait_queue_wake_all(wait_queue_t *wq, zx_status_t status) {
    DEBUG_ASSERT(arch_irqs_disabled());
    if (wait_queue_idle(wq))
        return 0;
    lock_sched();
    int n = sched_wake_all_locked(wq, status);
    unlock_sched();
    return n;
}

/* A woken waiter passes a pending wake_all on to the next batch. */
void sched_pass_on_locked(wait_queue_t *wq) {
    uint32_t n = MIN(wq->pending_wakes, (uint32_t)WAIT_QUEUE_WAKE_BATCH);
    uint32_t woken = 0;
    while (woken < n && wake_one_locked(wq, wq->pending_status))
        woken++;
    wq->pending_wakes = woken < n ? 0 : MIN(wq->pending_wakes - n, wq->count);
}

/* wait_queue_block's pass-on, guarding lock held. */
static void wait_queue_pass_on(wait_queue_t *wq) {
    if (wq->pending_wakes == 0)
        return;
    lock_sched();
    sched_pass_on_locked(wq);
    unlock_sched();
}

/*
 * Wakes sleepers whose deadline has passed, at most WAIT_QUEUE_WAKE_BATCH of them: many
 * threads may share a tick (user space chooses how many), and waking them all at once
 * would keep interrupts off for all of them. Every thread woken by its deadline expires
 * the next batch when it runs (sched_block_current), so expiry cascades batch by batch.
 */
void sched_sleepers_expire(void) {
    if (sleepers.count == 0)
        return;
    zx_time_t now = current_time();
    struct avl_node *n;
    for (unsigned i = 0; i < WAIT_QUEUE_WAKE_BATCH && (n = avl_first(&sleepers)) != NULL; i++) {
        thread_t *t = containerof(n, thread_t, timer_node);
        if (t->wake_deadline > now)
            break;
        sched_wake_blocked(t, ZX_ERR_TIMED_OUT); /* its chain's next thread takes the node */
    }
}

