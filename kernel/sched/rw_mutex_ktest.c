/*
 * Reader-writer mutex tests: writers exclude everyone and readers exclude writers under
 * contention on every CPU; readers hold it together; a waiting writer keeps new readers
 * out and gets it first; the fast paths leave no waiters bit behind.
 */
#include <kernel/ktest.h>
#include <kernel/rw_mutex.h>
#include <kernel/thread.h>
#include "ktest_thread.h"

#define RWT_THREADS 8
#define RWT_ROUNDS 300
#define RWT_WAIT_MS 200 /* far longer than any step takes; a failing step times out */

static rw_mutex_t rwt_lock;
static volatile int rwt_writers_inside, rwt_readers_inside;
static volatile int rwt_overlaps;
static volatile uint64_t rwt_counter;

/* Odd threads write: a non-atomic increment with nobody else inside. Even threads read:
 * no writer inside while they are. Some rounds yield or sleep inside. */
static int rwt_worker(void *arg) {
    bool writer = (uintptr_t)arg & 1;
    for (int i = 0; i < RWT_ROUNDS; i++) {
        if (writer) {
            rw_mutex_acquire(&rwt_lock);
            if (__atomic_add_fetch(&rwt_writers_inside, 1, __ATOMIC_RELAXED) != 1 ||
                __atomic_load_n(&rwt_readers_inside, __ATOMIC_RELAXED) != 0)
                rwt_overlaps++;
            uint64_t v = rwt_counter;
            if (i % 5 == 0)
                thread_yield();
            rwt_counter = v + 1;
            __atomic_sub_fetch(&rwt_writers_inside, 1, __ATOMIC_RELAXED);
            rw_mutex_release(&rwt_lock);
        } else {
            rw_mutex_acquire_shared(&rwt_lock);
            __atomic_add_fetch(&rwt_readers_inside, 1, __ATOMIC_RELAXED);
            if (__atomic_load_n(&rwt_writers_inside, __ATOMIC_RELAXED) != 0)
                rwt_overlaps++;
            if (i % 7 == 0)
                thread_sleep_until(current_time() + KT_MS / 16);
            if (__atomic_load_n(&rwt_writers_inside, __ATOMIC_RELAXED) != 0)
                rwt_overlaps++;
            __atomic_sub_fetch(&rwt_readers_inside, 1, __ATOMIC_RELAXED);
            rw_mutex_release_shared(&rwt_lock);
        }
    }
    return 0;
}

KTEST(rw_mutex, writers_exclude_everyone_on_every_cpu) {
    rw_mutex_init_class(&rwt_lock, LOCK_CLASS_KTEST_MUTEX);
    rwt_counter = 0;
    rwt_overlaps = 0;
    uint32_t ncpu = sched_num_cpus();
    struct kt_thread ts[RWT_THREADS];
    int writers = 0;
    for (int i = 0; i < RWT_THREADS; i++) {
        if (kt_spawn_on(&ts[i], "rw-test", rwt_worker, (void *)(uintptr_t)i,
                        CPU_MASK_BIT((uint32_t)i % ncpu)))
            writers += i & 1;
    }
    for (int i = 0; i < RWT_THREADS; i++)
        kt_join(&ts[i]);
    EXPECT_EQ(rwt_overlaps, 0);
    EXPECT_EQ(rwt_counter, (uint64_t)writers * RWT_ROUNDS);
    EXPECT_EQ(rwt_lock.state, 0u); /* free, no waiters bit left behind */
}

/* ---- ordering ----------------------------------------------------------------------- */

static volatile int rwt_step;        /* what the threads have done, in order */
static volatile int rwt_log[4], rwt_log_n;

static void rwt_record(int who) {
    int n = __atomic_fetch_add(&rwt_log_n, 1, __ATOMIC_RELAXED);
    if (n < 4)
        rwt_log[n] = who;
}

/* Waits until *flag is at least v (sleeping a little at a time); false on timeout. */
static bool rwt_wait_for(volatile int *flag, int v) {
    zx_time_t deadline = current_time() + RWT_WAIT_MS * KT_MS;
    while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) < v) {
        if (current_time() > deadline)
            return false;
        thread_sleep_until(current_time() + KT_MS / 8);
    }
    return true;
}

/* Reader 2: takes it shared while reader 1 holds it shared. */
static int rwt_second_reader(void *arg) {
    (void)arg;
    rw_mutex_acquire_shared(&rwt_lock);
    __atomic_store_n(&rwt_step, 2, __ATOMIC_RELEASE);
    rwt_wait_for(&rwt_step, 3); /* until the first reader has seen both inside */
    rw_mutex_release_shared(&rwt_lock);
    return 0;
}

KTEST(rw_mutex, readers_hold_it_together) {
    rw_mutex_init_class(&rwt_lock, LOCK_CLASS_KTEST_MUTEX);
    rwt_step = 0;
    rw_mutex_acquire_shared(&rwt_lock);
    rwt_step = 1;
    struct kt_thread t;
    if (!kt_spawn(&t, "rw-reader", rwt_second_reader, NULL)) {
        rw_mutex_release_shared(&rwt_lock); /* out of memory (pmm.fail_*): nothing to test */
        return;
    }
    EXPECT_TRUE(rwt_wait_for(&rwt_step, 2)); /* it got in beside us */
    __atomic_store_n(&rwt_step, 3, __ATOMIC_RELEASE);
    rw_mutex_release_shared(&rwt_lock);
    kt_join(&t);
    EXPECT_EQ(rwt_lock.state, 0u);
}

static int rwt_writer(void *arg) {
    (void)arg;
    __atomic_store_n(&rwt_step, 2, __ATOMIC_RELEASE); /* about to wait */
    rw_mutex_acquire(&rwt_lock);
    rwt_record('W');
    rw_mutex_release(&rwt_lock);
    return 0;
}

static int rwt_late_reader(void *arg) {
    (void)arg;
    __atomic_store_n(&rwt_step, 3, __ATOMIC_RELEASE); /* about to wait */
    rw_mutex_acquire_shared(&rwt_lock);
    rwt_record('R');
    rw_mutex_release_shared(&rwt_lock);
    return 0;
}

/* A reader holds it; a writer waits; a reader arriving after the writer waits too, and
 * gets it only after the writer. */
KTEST(rw_mutex, waiting_writer_goes_before_later_readers) {
    rw_mutex_init_class(&rwt_lock, LOCK_CLASS_KTEST_MUTEX);
    rwt_step = 0;
    rwt_log_n = 0;
    rw_mutex_acquire_shared(&rwt_lock);
    struct kt_thread w, r;
    if (!kt_spawn(&w, "rw-writer", rwt_writer, NULL)) {
        rw_mutex_release_shared(&rwt_lock); /* out of memory (pmm.fail_*): nothing to test */
        return;
    }
    EXPECT_TRUE(rwt_wait_for(&rwt_step, 2));
    /* the writer is blocked once it has set the waiters bit */
    zx_time_t deadline = current_time() + RWT_WAIT_MS * KT_MS;
    while (!(__atomic_load_n(&rwt_lock.state, __ATOMIC_ACQUIRE) & RW_STATE_WAITERS) &&
           current_time() < deadline)
        thread_sleep_until(current_time() + KT_MS / 8);
    EXPECT_TRUE(rwt_lock.state & RW_STATE_WAITERS);
    if (!kt_spawn(&r, "rw-late-reader", rwt_late_reader, NULL)) {
        rw_mutex_release_shared(&rwt_lock);
        kt_join(&w);
        EXPECT_EQ(rwt_log_n, 1);
        return;
    }
    EXPECT_TRUE(rwt_wait_for(&rwt_step, 3));
    thread_sleep_until(current_time() + 2 * KT_MS); /* the late reader blocks meanwhile */
    EXPECT_EQ(rwt_log_n, 0);                        /* neither got in past our hold */
    rw_mutex_release_shared(&rwt_lock);
    kt_join(&w);
    kt_join(&r);
    EXPECT_EQ(rwt_log_n, 2);
    EXPECT_EQ(rwt_log[0], 'W');
    EXPECT_EQ(rwt_log[1], 'R');
    EXPECT_EQ(rwt_lock.state, 0u);
}
