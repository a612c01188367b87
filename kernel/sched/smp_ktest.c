/*
 * In-kernel tests of the scheduler and IPIs on several CPUs: IPI calls to every CPU, to
 * one, and from every CPU at once; a wake-up across CPUs; migration by affinity; spinlock
 * and mutex contention between threads pinned to different CPUs. With one CPU they
 * check what one CPU can show (a call to itself) and the rest has nothing to do.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <kernel/ktest.h>
#include <kernel/mutex.h>
#include <kernel/spinlock.h>
#include <kernel/thread.h>
#include <kernel/wait.h>
#include <lib/string.h>
#include "ktest_thread.h"

#define SMPT_MAX_CPUS 64
#define SMPT_CALL_ROUNDS 200
#define SMPT_LOCK_ROUNDS 2000
#define SMPT_PINGS 200

static uint32_t smpt_hits[SMPT_MAX_CPUS];
static volatile bool smpt_irqs_were_on;

static void smpt_count_call(void *arg) {
    (void)arg;
    if (!arch_irqs_disabled())
        smpt_irqs_were_on = true;
    __atomic_fetch_add(&smpt_hits[arch_curr_cpu_num()], 1, __ATOMIC_RELAXED);
}

/* Pins the calling thread to `cpus` and returns the mask it had. */
static cpu_mask_t smpt_pin_self(cpu_mask_t cpus) {
    thread_stats_t st;
    thread_get_stats(thread_current(), &st);
    ASSERT(thread_set_affinity(thread_current(), cpus) == ZX_OK);
    return st.affinity;
}

KTEST(ipi, call_reaches_every_cpu_once) {
    uint32_t n = sched_num_cpus();
    memset(smpt_hits, 0, sizeof(smpt_hits));
    smpt_irqs_were_on = false;
    arch_ipi_call(arch_cpus_running(), smpt_count_call, NULL);
    for (uint32_t c = 0; c < n; c++)
        EXPECT_EQ(smpt_hits[c], 1u);
    for (uint32_t c = n; c < SMPT_MAX_CPUS; c++)
        EXPECT_EQ(smpt_hits[c], 0u);
    EXPECT_FALSE(smpt_irqs_were_on); /* the body runs with interrupts off everywhere */
}

KTEST(ipi, targeted_call_runs_only_there) {
    uint32_t n = sched_num_cpus();
    for (uint32_t target = 0; target < n; target++) {
        memset(smpt_hits, 0, sizeof(smpt_hits));
        arch_ipi_call(ARCH_CPU_SET_BIT(target), smpt_count_call, NULL);
        for (uint32_t c = 0; c < n; c++)
            EXPECT_EQ(smpt_hits[c], c == target ? 1u : 0u);
    }
    /* A CPU that does not run is left out, not waited for. */
    memset(smpt_hits, 0, sizeof(smpt_hits));
    if (n < SMPT_MAX_CPUS) {
        arch_ipi_call(ARCH_CPU_SET_BIT(n), smpt_count_call, NULL);
        EXPECT_EQ(smpt_hits[n], 0u);
    }
}

static uint64_t smpt_concurrent_total;

static void smpt_add_call(void *arg) {
    (void)arg;
    __atomic_fetch_add(&smpt_concurrent_total, 1, __ATOMIC_RELAXED);
}

static int smpt_caller(void *arg) {
    (void)arg;
    for (int i = 0; i < SMPT_CALL_ROUNDS; i++)
        arch_ipi_call(arch_cpus_running(), smpt_add_call, NULL);
    return 0;
}

/* Every CPU calls every CPU at once, over and over: each waits for the others while
 * the others wait for it, which deadlocks unless a waiting CPU serves incoming calls. */
KTEST(ipi, concurrent_calls_from_every_cpu) {
    uint32_t n = sched_num_cpus();
    struct kt_thread ts[SMPT_MAX_CPUS];
    smpt_concurrent_total = 0;
    uint32_t started = 0;
    for (uint32_t c = 0; c < n; c++)
        started += kt_spawn_on(&ts[c], "ipi-caller", smpt_caller, NULL, CPU_MASK_BIT(c));
    for (uint32_t c = 0; c < n; c++)
        kt_join(&ts[c]);
    EXPECT_EQ(smpt_concurrent_total, (uint64_t)started * SMPT_CALL_ROUNDS * n);
}

/* Ping-pong between a thread on the last CPU and the test thread on CPU 0 over two wait
 * queues: every wake crosses CPUs. */
struct smpt_pingpong {
    spinlock_t lock;
    wait_queue_t to_peer, to_main;
    volatile int turn; /* 0: main's turn, 1: the peer's */
    volatile int rounds;
    volatile uint32_t peer_cpu_seen;
};

static int smpt_peer(void *arg) {
    struct smpt_pingpong *p = arg;
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->lock, &s);
    for (int i = 0; i < SMPT_PINGS; i++) {
        while (p->turn != 1)
            wait_queue_block(&p->to_peer, &p->lock, ZX_TIME_INFINITE);
        p->peer_cpu_seen |= 1u << (arch_curr_cpu_num() & 31);
        p->rounds++;
        p->turn = 0;
        wait_queue_wake_one(&p->to_main, ZX_OK);
    }
    spin_unlock_irqrestore(&p->lock, s);
    return 0;
}

KTEST(sched, wake_across_cpus) {
    uint32_t n = sched_num_cpus();
    if (n < 2)
        return; /* nothing crosses with one CPU */
    cpu_mask_t old = smpt_pin_self(CPU_MASK_BIT(0));
    struct smpt_pingpong p;
    memset(&p, 0, sizeof(p));
    spin_lock_init_class(&p.lock, LOCK_CLASS_KTEST_SPIN);
    wait_queue_init(&p.to_peer);
    wait_queue_init(&p.to_main);
    struct kt_thread t;
    if (kt_spawn_on(&t, "ping-peer", smpt_peer, &p, CPU_MASK_BIT(n - 1))) {
        spin_lock_saved_state_t s;
        spin_lock_irqsave(&p.lock, &s);
        for (int i = 0; i < SMPT_PINGS; i++) {
            p.turn = 1;
            wait_queue_wake_one(&p.to_peer, ZX_OK);
            while (p.turn != 0)
                wait_queue_block(&p.to_main, &p.lock, ZX_TIME_INFINITE);
            EXPECT_EQ(arch_curr_cpu_num(), 0u);
        }
        spin_unlock_irqrestore(&p.lock, s);
        kt_join(&t);
        EXPECT_EQ(p.rounds, SMPT_PINGS);
        EXPECT_EQ(p.peer_cpu_seen, 1u << ((n - 1) & 31));
        thread_stats_t st;
        thread_get_stats(&t.t, &st);
        EXPECT_EQ(st.last_cpu, n - 1);
    }
    smpt_pin_self(old);
}

static volatile bool smpt_mig_stop;
static volatile uint32_t smpt_mig_where;

static int smpt_migrant(void *arg) {
    (void)arg;
    while (!smpt_mig_stop) {
        __atomic_store_n(&smpt_mig_where, arch_curr_cpu_num(), __ATOMIC_RELAXED);
        thread_sleep_until(current_time() + KT_MS / 4);
    }
    return 0;
}

/* A thread moves to every CPU its affinity names in turn, while running and sleeping. */
KTEST(sched, affinity_migrates_a_thread) {
    uint32_t n = sched_num_cpus();
    struct kt_thread t;
    smpt_mig_stop = false;
    smpt_mig_where = UINT32_MAX;
    if (!kt_spawn_on(&t, "migrant", smpt_migrant, NULL, CPU_MASK_BIT(0)))
        return;
    for (uint32_t round = 0; round < 2; round++) {
        for (uint32_t c = 0; c < n; c++) {
            uint32_t target = (n - 1 - c + round) % n;
            EXPECT_EQ(thread_set_affinity(&t.t, CPU_MASK_BIT(target)), ZX_OK);
            zx_time_t deadline = current_time() + 2000 * KT_MS;
            /* Seen there twice in a row: no stale report from before the move. */
            uint32_t seen = 0;
            while (seen < 2 && current_time() < deadline) {
                seen = __atomic_load_n(&smpt_mig_where, __ATOMIC_RELAXED) == target ? seen + 1 : 0;
                thread_sleep_until(current_time() + KT_MS);
            }
            EXPECT_EQ(seen, 2u);
        }
    }
    smpt_mig_stop = true;
    kt_join(&t);
}

static spinlock_t smpt_spin = SPIN_LOCK_INIT_CLASS(KTEST_SPIN);
static mutex_t smpt_mutex = MUTEX_INITIAL_VALUE_CLASS(smpt_mutex, KTEST_MUTEX);
static uint64_t smpt_counter;
static volatile int smpt_inside, smpt_overlaps;

static void smpt_critical(void) {
    if (__atomic_add_fetch(&smpt_inside, 1, __ATOMIC_RELAXED) != 1)
        smpt_overlaps++;
    uint64_t v = smpt_counter;
    arch_spin_pause();
    smpt_counter = v + 1;
    __atomic_sub_fetch(&smpt_inside, 1, __ATOMIC_RELAXED);
}

static int smpt_spin_worker(void *arg) {
    (void)arg;
    for (int i = 0; i < SMPT_LOCK_ROUNDS; i++) {
        spin_lock_saved_state_t s;
        spin_lock_irqsave(&smpt_spin, &s);
        smpt_critical();
        spin_unlock_irqrestore(&smpt_spin, s);
    }
    return 0;
}

static int smpt_mutex_worker(void *arg) {
    (void)arg;
    for (int i = 0; i < SMPT_LOCK_ROUNDS / 4; i++) {
        mutex_acquire(&smpt_mutex);
        smpt_critical();
        if (i % 16 == 0) /* block while holding it, so the others queue up */
            thread_sleep_until(current_time() + KT_MS / 8);
        mutex_release(&smpt_mutex);
    }
    return 0;
}

/* One worker pinned to each CPU, all on one lock: exact count, never two inside. */
static void smpt_contend(struct ktest_ctx *ktx, thread_entry_t worker, uint64_t rounds) {
    uint32_t n = sched_num_cpus();
    struct kt_thread ts[SMPT_MAX_CPUS];
    smpt_counter = 0;
    smpt_overlaps = 0;
    uint32_t started = 0;
    for (uint32_t c = 0; c < n; c++)
        started += kt_spawn_on(&ts[c], "lock-worker", worker, NULL, CPU_MASK_BIT(c));
    for (uint32_t c = 0; c < n; c++)
        kt_join(&ts[c]);
    EXPECT_EQ(smpt_overlaps, 0);
    EXPECT_EQ(smpt_counter, (uint64_t)started * rounds);
}

KTEST(spinlock, contention_across_cpus) {
    smpt_contend(ktx, smpt_spin_worker, SMPT_LOCK_ROUNDS);
    EXPECT_EQ(smpt_spin.owner, smpt_spin.next);
}

KTEST(mutex, contention_across_cpus) {
    smpt_contend(ktx, smpt_mutex_worker, SMPT_LOCK_ROUNDS / 4);
    EXPECT_EQ(smpt_mutex.state, 0u);
}

static volatile uint32_t smpt_spinning;

/* Spins with interrupts off until the machine stops: only an NMI reaches it. */
static int smpt_spin_irqs_off(void *arg) {
    (void)arg;
    arch_irq_disable();
    __atomic_fetch_add(&smpt_spinning, 1, __ATOMIC_RELAXED);
    for (;;)
        __asm__ volatile("" ::: "memory");
    return 0;
}

/*
 * test=smp.panic_stops_every_cpu (manual: it ends the boot): a thread on every other
 * CPU spins with interrupts off, then this CPU panics. The report must still name every
 * other CPU where it stopped (ctest qemu.panic_stops_every_cpu).
 */
KTEST_MANUAL(smp, panic_stops_every_cpu) {
    uint32_t n = sched_num_cpus();
    static struct kt_thread ts[SMPT_MAX_CPUS];
    ASSERT(thread_set_affinity(thread_current(), CPU_MASK_BIT(0)) == ZX_OK);
    uint32_t started = 0;
    for (uint32_t c = 1; c < n; c++)
        started += kt_spawn_on(&ts[c], "irqs-off-spinner", smpt_spin_irqs_off, NULL,
                               CPU_MASK_BIT(c));
    while (__atomic_load_n(&smpt_spinning, __ATOMIC_RELAXED) < started)
        thread_sleep_until(current_time() + KT_MS);
    panic("deliberate panic from test smp.panic_stops_every_cpu with %u CPUs spinning", started);
}
