/*
 * Guest benchmarks of the IPIs and of wake-ups across CPUs (kernel command line
 * bench=smp, docs/benchmarks.md): run after every CPU has joined the scheduler.
 *
 * Same method as the other kernel benchmarks (kernel/vm/vm_bench.c): a warm-up round,
 * then SB_ROUNDS timed rounds of SB_ITERS operations, the median reported with the
 * spread. Under -icount shift=0 the TSC counts guest instructions; with several CPUs
 * QEMU runs them round robin, so a delta counts every CPU's instructions meanwhile (the
 * waiting CPU's pause loop included): what a round trip costs the whole machine.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <kernel/console.h>
#include <kernel/smp_bench.h>
#include <kernel/spinlock.h>
#include <kernel/thread.h>
#include <kernel/wait.h>
#include <lib/string.h>

#define SB_ROUNDS 3
#define SB_ITERS 200u

static void sb_noop(void *arg) { (void)arg; }

static uint64_t sb_median(uint64_t *v) {
    for (int i = 0; i < SB_ROUNDS; i++)
        for (int j = i + 1; j < SB_ROUNDS; j++)
            if (v[j] < v[i]) {
                uint64_t t = v[i];
                v[i] = v[j];
                v[j] = t;
            }
    return v[SB_ROUNDS / 2];
}

static void sb_report(const char *what, uint64_t *per_round) {
    uint64_t lo = per_round[0], hi = per_round[0];
    for (int i = 1; i < SB_ROUNDS; i++) {
        lo = per_round[i] < lo ? per_round[i] : lo;
        hi = per_round[i] > hi ? per_round[i] : hi;
    }
    uint64_t med = sb_median(per_round);
    printf("bench: smp %s: %lu.%lu per operation (median of %d rounds of %u; min %lu.%lu, "
           "max %lu.%lu)\n", what, med / SB_ITERS, (med % SB_ITERS) * 10 / SB_ITERS,
           SB_ROUNDS, SB_ITERS, lo / SB_ITERS, (lo % SB_ITERS) * 10 / SB_ITERS,
           hi / SB_ITERS, (hi % SB_ITERS) * 10 / SB_ITERS);
}

/* arch_ipi_call of a function that does nothing on `cpus`, SB_ITERS times per round. */
static void sb_ipi_call(const char *what, arch_cpu_set_t cpus) {
    uint64_t rounds[SB_ROUNDS];
    for (int r = -1; r < SB_ROUNDS; r++) {
        uint64_t t0 = arch_cycle_count();
        for (uint32_t i = 0; i < SB_ITERS; i++)
            arch_ipi_call(cpus, sb_noop, NULL);
        uint64_t t1 = arch_cycle_count();
        if (r >= 0)
            rounds[r] = t1 - t0;
    }
    sb_report(what, rounds);
}

/* Ping-pong between the benchmark thread (on CPU 0) and a peer thread over two wait
 * queues: one operation is one wake there and one back (a round trip). */
struct sb_pingpong {
    spinlock_t lock;
    wait_queue_t to_peer, to_main;
    volatile uint32_t turn; /* 0: main's, 1: the peer's, 2: the peer stops */
};

static int sb_peer(void *arg) {
    struct sb_pingpong *p = arg;
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->lock, &s);
    for (;;) {
        while (p->turn == 0)
            wait_queue_block(&p->to_peer, &p->lock, ZX_TIME_INFINITE);
        if (p->turn == 2)
            break;
        p->turn = 0;
        wait_queue_wake_one(&p->to_main, ZX_OK);
    }
    spin_unlock_irqrestore(&p->lock, s);
    return 0;
}

static volatile bool sb_peer_reaped;
static void sb_peer_done(thread_t *t) { (void)t; sb_peer_reaped = true; }

static void sb_wake(const char *what, uint32_t peer_cpu) {
    static struct sb_pingpong p;
    static thread_t peer;
    memset(&p, 0, sizeof(p));
    spin_lock_init_class(&p.lock, LOCK_CLASS_KTEST_SPIN);
    wait_queue_init(&p.to_peer);
    wait_queue_init(&p.to_main);
    sb_peer_reaped = false;
    if (thread_init(&peer, "bench-peer", sb_peer, &p) != ZX_OK) {
        printf("bench: FAILED: no memory for the peer thread\n");
        return;
    }
    peer.on_reaped = sb_peer_done;
    thread_set_affinity(&peer, CPU_MASK_BIT(peer_cpu));
    thread_start(&peer);
    uint64_t rounds[SB_ROUNDS];
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p.lock, &s);
    for (int r = -1; r < SB_ROUNDS; r++) {
        uint64_t t0 = arch_cycle_count();
        for (uint32_t i = 0; i < SB_ITERS; i++) {
            p.turn = 1;
            wait_queue_wake_one(&p.to_peer, ZX_OK);
            while (p.turn != 0)
                wait_queue_block(&p.to_main, &p.lock, ZX_TIME_INFINITE);
        }
        uint64_t t1 = arch_cycle_count();
        if (r >= 0)
            rounds[r] = t1 - t0;
    }
    p.turn = 2;
    wait_queue_wake_one(&p.to_peer, ZX_OK);
    spin_unlock_irqrestore(&p.lock, s);
    while (!sb_peer_reaped)
        thread_sleep_until(current_time() + 1000000);
    sb_report(what, rounds);
}

void smp_bench_run(void) {
    uint32_t n = sched_num_cpus();
    ASSERT(thread_set_affinity(thread_current(), CPU_MASK_BIT(0)) == ZX_OK);
    printf("bench: smp: %u CPUs run threads\n", n);
    sb_ipi_call("ipi call to this CPU only", ARCH_CPU_SET_BIT(0));
    sb_wake("wake round trip on one CPU", 0);
    if (n >= 2) {
        sb_ipi_call("ipi call round trip to one other CPU", ARCH_CPU_SET_BIT(1));
        sb_ipi_call("ipi call to every CPU", arch_cpus_running());
        sb_wake("wake round trip across CPUs", 1);
    } else {
        printf("bench: smp: one CPU: no cross-CPU figures (boot with -smp 2 or more)\n");
    }
    printf("bench: smp done\n");
}
