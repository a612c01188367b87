/*
 * Scheduler tests: sleeping and waking in deadline order, preemption of a thread that
 * never yields, wait-queue wake order and timeouts, killing a blocked thread. Every test
 * waits until its threads have been reaped, so the leak check sees their stacks freed.
 */
#include <kernel/ktest.h>
#include <kernel/thread.h>
#include <kernel/wait.h>
#include <lib/string.h>
#include <phys/heap.h>
#include "ktest_thread.h"

#define SLEEPERS 16
static volatile int wake_order[SLEEPERS];
static volatile int wake_count;
static zx_time_t sleep_base;

static int sleeper(void *arg) {
    int i = (int)(uintptr_t)arg;
    /* Reverse order of creation: the last created wakes first. Deadlines are relative to
     * one base, so slow thread creation (Bochs) cannot reorder them. */
    thread_sleep_until(sleep_base + (SLEEPERS - i) * 2 * KT_MS);
    wake_order[__atomic_fetch_add(&wake_count, 1, __ATOMIC_RELAXED)] = i;
    return 0;
}

KTEST(sched, sleepers_wake_in_deadline_order) {
    struct kt_thread *ts = kzalloc(sizeof(*ts) * SLEEPERS);
    if (!ts)
        return; /* out of memory under fault injection */
    wake_count = 0;
    sleep_base = current_time() + 100 * KT_MS;
    int started = 0;
    /* On one CPU, so that the order they run in is the order they expire in (threads
     * woken onto different CPUs run when those CPUs get to them). */
    for (int i = 0; i < SLEEPERS; i++)
        started += kt_spawn_on(&ts[i], "sleeper", sleeper, (void *)(uintptr_t)i,
                               CPU_MASK_BIT(0));
    for (int i = 0; i < SLEEPERS; i++)
        kt_join(&ts[i]); /* a thread that could not be created counts as reaped */
    EXPECT_EQ(wake_count, started);
    for (int i = 0; i < started && started == SLEEPERS; i++)
        EXPECT_EQ(wake_order[i], SLEEPERS - 1 - i);
    kfree(ts);
}

static volatile bool spin_stop;
static volatile uint64_t spin_count;

static int spinner(void *arg) {
    (void)arg;
    while (!spin_stop)
        spin_count++;
    return 0;
}

KTEST(sched, spinning_thread_is_preempted) {
    struct kt_thread s;
    spin_stop = false;
    spin_count = 0;
    /* Both on CPU 0: on different CPUs they would run side by side without preemption. */
    thread_stats_t mine;
    thread_get_stats(thread_current(), &mine);
    ASSERT(thread_set_affinity(thread_current(), CPU_MASK_BIT(0)) == ZX_OK);
    if (!kt_spawn_on(&s, "spinner", spinner, NULL, CPU_MASK_BIT(0))) {
        thread_set_affinity(thread_current(), mine.affinity);
        return;
    }
    /* Busy-wait (never yielding) until the spinner has run: only preemption lets it. */
    zx_time_t deadline = current_time() + 2000 * KT_MS;
    while (spin_count == 0 && current_time() < deadline)
        ;
    EXPECT_GT(spin_count, 0u);
    uint64_t seen = spin_count;
    /* And the spinner, which never yields, must let us run too. */
    thread_sleep_until(current_time() + 30 * KT_MS);
    EXPECT_GT(spin_count, seen);
    spin_stop = true;
    kt_join(&s);
    thread_set_affinity(thread_current(), mine.affinity);
}

struct wq_ctx {
    spinlock_t lock;
    wait_queue_t wq;
    volatile int order[3];
    volatile int n;
    volatile zx_status_t st[3];
};

struct wq_arg {
    struct wq_ctx *c;
    int id;
    zx_time_t deadline;
};

static int wq_waiter(void *p) {
    struct wq_arg *a = p;
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&a->c->lock, &s);
    zx_status_t st = wait_queue_block(&a->c->wq, &a->c->lock, a->deadline);
    a->c->st[a->id] = st;
    a->c->order[a->c->n++] = a->id;
    spin_unlock_irqrestore(&a->c->lock, s);
    return 0;
}

static void wq_wait_blocked(struct wq_ctx *c, uint32_t n) {
    while (__atomic_load_n(&c->wq.count, __ATOMIC_RELAXED) < n)
        thread_yield();
}

KTEST(sched, wait_queue_fifo_wake_and_timeout) {
    struct wq_ctx c;
    memset(&c, 0, sizeof(c));
    spin_lock_init_class(&c.lock, LOCK_CLASS_KTEST_SPIN);
    wait_queue_init(&c.wq);
    struct wq_arg a[3];
    struct kt_thread t[3];
    for (int i = 0; i < 2; i++) {
        a[i] = (struct wq_arg){&c, i, ZX_TIME_INFINITE};
        /* The waiters share CPU 0, so they run (and record) in the order they were woken;
         * on different CPUs either could get there first. */
        if (!kt_spawn_on(&t[i], "waiter", wq_waiter, &a[i], CPU_MASK_BIT(0))) {
            if (i == 1) { /* release the first waiter before giving up */
                spin_lock_saved_state_t s;
                spin_lock_irqsave(&c.lock, &s);
                wait_queue_wake_all(&c.wq, ZX_OK);
                spin_unlock_irqrestore(&c.lock, s);
                kt_join(&t[0]);
            }
            return;
        }
        wq_wait_blocked(&c, (uint32_t)i + 1);
    }
    a[2] = (struct wq_arg){&c, 2, current_time() + 20 * KT_MS};
    bool have_timeout = kt_spawn_on(&t[2], "timeout", wq_waiter, &a[2], CPU_MASK_BIT(0));
    kt_join(&t[2]);
    if (have_timeout)
        EXPECT_EQ(c.st[2], ZX_ERR_TIMED_OUT);
    int o = have_timeout ? 1 : 0;
    /* The thread wake_one wakes records itself before the second wake: on several CPUs
     * two woken threads race for the lock, so the order they record in after waking
     * together would say nothing about the order they were woken in. */
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&c.lock, &s);
    EXPECT_EQ(wait_queue_wake_one(&c.wq, ZX_OK), 1);
    spin_unlock_irqrestore(&c.lock, s);
    while (__atomic_load_n(&c.n, __ATOMIC_ACQUIRE) < o + 1)
        thread_yield();
    spin_lock_irqsave(&c.lock, &s);
    EXPECT_EQ(wait_queue_wake_all(&c.wq, ZX_ERR_CANCELED), 1);
    EXPECT_EQ(wait_queue_wake_all(&c.wq, ZX_OK), 0);
    spin_unlock_irqrestore(&c.lock, s);
    kt_join(&t[0]);
    kt_join(&t[1]);
    if (have_timeout)
        EXPECT_EQ(c.order[0], 2);
    EXPECT_EQ(c.order[o], 0); /* FIFO: the first to block is woken first */
    EXPECT_EQ(c.order[o + 1], 1);
    EXPECT_EQ(c.st[0], ZX_OK);
    EXPECT_EQ(c.st[1], ZX_ERR_CANCELED);
}

static volatile zx_status_t killed_status;

static int kill_target(void *arg) {
    (void)arg;
    killed_status = thread_sleep_until(ZX_TIME_INFINITE);
    return 0;
}

KTEST(sched, kill_wakes_a_blocked_thread) {
    struct kt_thread s;
    killed_status = ZX_OK;
    if (!kt_spawn(&s, "victim", kill_target, NULL))
        return;
    while (s.t.state != THREAD_BLOCKED)
        thread_yield();
    thread_kill(&s.t);
    kt_join(&s);
    EXPECT_EQ(killed_status, ZX_ERR_INTERNAL_INTR_KILLED);
}

KTEST(sched, clock_is_monotonic_and_sleep_waits) {
    zx_time_t t0 = current_time();
    EXPECT_OK(thread_sleep_until(t0 + 5 * KT_MS));
    zx_time_t t1 = current_time();
    EXPECT_GE(t1 - t0, 5 * KT_MS);
    EXPECT_OK(thread_sleep_until(t0)); /* a past deadline returns at once */
    EXPECT_GE(current_time(), t1);
}

/* CPUs join in order, once each, below SCHED_MAX_CPUS; refused numbers change nothing. */
KTEST(sched, cpu_online_keeps_numbering_dense) {
    uint32_t n = sched_num_cpus();
    cpu_mask_t online = sched_online_cpus();
    EXPECT_GE(n, 1u);
    EXPECT_EQ(online, n >= SCHED_MAX_CPUS ? CPU_MASK_ALL : CPU_MASK_BIT(n) - 1);
    EXPECT_EQ(sched_cpu_online(0), ZX_ERR_INVALID_ARGS);        /* already online */
    EXPECT_EQ(sched_cpu_online(n + 1), ZX_ERR_INVALID_ARGS);    /* leaves a gap */
    EXPECT_EQ(sched_cpu_online(SCHED_MAX_CPUS), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(sched_num_cpus(), n);
    EXPECT_EQ(sched_online_cpus(), online);
}

static volatile uint32_t pinned_saw_cpu;

static int report_cpu(void *arg) {
    (void)arg;
    thread_yield(); /* away and back: it must come back where its mask allows */
    thread_stats_t s;
    thread_get_stats(thread_current(), &s);
    pinned_saw_cpu = s.last_cpu;
    return 0;
}

/* A mask without a CPU that runs threads is refused; a thread pinned to each CPU in turn
 * runs there, and its stats say so. */
KTEST(sched, affinity_places_threads) {
    for (uint32_t cpu = 0; cpu < sched_num_cpus(); cpu++) {
        struct kt_thread s;
        memset(&s, 0, sizeof(s));
        if (thread_init(&s.t, "pinned", report_cpu, NULL) != ZX_OK)
            return; /* out of memory under fault injection */
        s.t.on_reaped = kt_reaped;
        thread_stats_t st;
        thread_get_stats(&s.t, &st);
        EXPECT_EQ(st.last_cpu, THREAD_CPU_NONE);
        EXPECT_EQ(st.runtime_ns, 0u);
        EXPECT_EQ(st.affinity, CPU_MASK_ALL);
        EXPECT_EQ(thread_set_affinity(&s.t, 0), ZX_ERR_INVALID_ARGS);
        if (sched_online_cpus() != CPU_MASK_ALL)
            EXPECT_EQ(thread_set_affinity(&s.t, ~sched_online_cpus()), ZX_ERR_INVALID_ARGS);
        thread_get_stats(&s.t, &st);
        EXPECT_EQ(st.affinity, CPU_MASK_ALL);
        EXPECT_OK(thread_set_affinity(&s.t, CPU_MASK_BIT(cpu)));
        pinned_saw_cpu = THREAD_CPU_NONE;
        thread_start(&s.t);
        kt_join(&s);
        EXPECT_EQ(pinned_saw_cpu, cpu);
        thread_get_stats(&s.t, &st);
        EXPECT_EQ(st.last_cpu, cpu);
        EXPECT_EQ(st.affinity, CPU_MASK_BIT(cpu));
    }
}
