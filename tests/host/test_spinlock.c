/*
 * Host tests for the ticket spinlock (<kernel/spinlock.h>), with POSIX threads playing
 * CPUs: each thread has its own CPU number (BERYL_HOST_CPU_HOOKS), and the spin-wait hint
 * yields, so waiters do not starve the holder on a busy machine.
 *
 * Checked: mutual exclusion under contention, FIFO order (waiters get the lock in the
 * order they drew tickets), trylock, and the debug checks (recursion, unlock by a CPU
 * that does not hold the lock).
 */
#define BERYL_HOST_CPU_HOOKS 1

#include <kernel/spinlock.h>

#include <pthread.h>
#include <sched.h>

#include "htest.h"

#define EXCL_THREADS 4
#define EXCL_ROUNDS 20000
#define FIFO_THREADS 6

static _Thread_local uint32_t tl_cpu;

uint32_t host_cpu_num(void) { return tl_cpu; }
void host_spin_pause(void) { sched_yield(); }

static spinlock_t excl_lock = SPIN_LOCK_INIT_CLASS(KTEST_SPIN);
static uint64_t excl_counter;
static int excl_inside;
static int excl_overlaps;

struct worker {
    pthread_t thread;
    uint32_t cpu;
    int index;
};

/* A non-atomic read-yield-write of the counter inside the lock: any overlap loses an
 * increment or shows in excl_inside. */
static void *excl_worker(void *arg) {
    struct worker *w = arg;
    tl_cpu = w->cpu;
    for (int i = 0; i < EXCL_ROUNDS; i++) {
        spin_lock(&excl_lock);
        if (__atomic_add_fetch(&excl_inside, 1, __ATOMIC_RELAXED) != 1)
            excl_overlaps++;
        uint64_t v = excl_counter;
        if (i % 256 == 0)
            sched_yield();
        excl_counter = v + 1;
        __atomic_sub_fetch(&excl_inside, 1, __ATOMIC_RELAXED);
        spin_unlock(&excl_lock);
    }
    return NULL;
}

HTEST(spinlock, excludes_under_contention) {
    struct worker w[EXCL_THREADS];
    for (int i = 0; i < EXCL_THREADS; i++) {
        w[i].cpu = (uint32_t)i + 1;
        ASSERT_EQ(pthread_create(&w[i].thread, NULL, excl_worker, &w[i]), 0);
    }
    for (int i = 0; i < EXCL_THREADS; i++)
        pthread_join(w[i].thread, NULL);
    EXPECT_EQ(excl_overlaps, 0);
    EXPECT_EQ(excl_counter, (uint64_t)EXCL_THREADS * EXCL_ROUNDS);
    EXPECT_EQ(excl_lock.owner, excl_lock.next);
    EXPECT_EQ(excl_lock.holder, 0);
}

static spinlock_t fifo_lock = SPIN_LOCK_INIT_CLASS(KTEST_SPIN);
static int fifo_order[FIFO_THREADS];
static int fifo_n;

static void *fifo_worker(void *arg) {
    struct worker *w = arg;
    tl_cpu = w->cpu;
    spin_lock(&fifo_lock);
    fifo_order[fifo_n++] = w->index;
    spin_unlock(&fifo_lock);
    return NULL;
}

/* The main thread holds the lock while the workers queue one at a time (each starts only
 * after the previous one drew its ticket); on release they must get it in that order. */
static void fifo_checks(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    tl_cpu = 0;
    struct worker w[FIFO_THREADS];
    spin_lock(&fifo_lock);
    for (int i = 0; i < FIFO_THREADS; i++) {
        w[i].cpu = (uint32_t)i + 1;
        w[i].index = i;
        ASSERT_EQ(pthread_create(&w[i].thread, NULL, fifo_worker, &w[i]), 0);
        while (__atomic_load_n(&fifo_lock.next, __ATOMIC_RELAXED) != (uint16_t)(i + 2))
            sched_yield();
    }
    spin_unlock(&fifo_lock);
    for (int i = 0; i < FIFO_THREADS; i++)
        pthread_join(w[i].thread, NULL);
    EXPECT_EQ(fifo_n, FIFO_THREADS);
    for (int i = 0; i < FIFO_THREADS; i++)
        EXPECT_EQ(fifo_order[i], i);
}

/* Not checked by the analysis: a failed thread start returns with the lock held. */
HTEST(spinlock, waiters_get_it_in_ticket_order) { fifo_checks(); }

/* Not checked by the thread-safety analysis: it takes held locks on purpose. */
static void trylock_checks(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    tl_cpu = 0;
    spinlock_t l = SPIN_LOCK_INIT_CLASS(KTEST_SPIN);
    EXPECT_TRUE(spin_trylock(&l));
    EXPECT_TRUE(spin_lock_held(&l));
    tl_cpu = 1;
    EXPECT_FALSE(spin_lock_held(&l));
    EXPECT_FALSE(spin_trylock(&l)); /* held elsewhere: no wait, no ticket drawn */
    EXPECT_EQ(l.next, 1);
    tl_cpu = 0;
    spin_unlock(&l);
    EXPECT_EQ(l.owner, 1);
    EXPECT_TRUE(spin_trylock(&l));
    spin_unlock(&l);
    /* A waiter has drawn a ticket: the lock is not free for a trylock. */
    l.next = (uint16_t)(l.owner + 1);
    tl_cpu = 1;
    EXPECT_FALSE(spin_trylock(&l));
}

HTEST(spinlock, trylock_takes_only_a_free_lock) { trylock_checks(); }

static void debug_checks(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    tl_cpu = 2;
    spinlock_t l = SPIN_LOCK_INIT_CLASS(KTEST_SPIN);
    spin_lock(&l);
    HTEST_EXPECT_PANIC(spin_lock(&l));
    EXPECT_TRUE(strstr(htest_last_panic, "recursive spinlock") != NULL);
    EXPECT_EQ(l.next, 1); /* caught before drawing a ticket */
    tl_cpu = 3;
    HTEST_EXPECT_PANIC(spin_unlock(&l));
    EXPECT_TRUE(strstr(htest_last_panic, "not held") != NULL);
    tl_cpu = 2;
    spin_unlock(&l);
    EXPECT_EQ(l.holder, 0);
}

HTEST(spinlock, debug_checks_catch_recursion_and_foreign_unlock) { debug_checks(); }
