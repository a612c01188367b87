/*
 * The SMP stress test (issue 15; docs/user-tests.md, "SMP stress test"): worker threads
 * pinned to every CPU create and destroy processes, threads, channels and VMOs at random
 * for a fixed number of operations, and the run must end with every check passed, no
 * kernel panic and no page lost. Boot module stress/churn, run by
 * `userboot.prefix=stress/churn` (ctest qemu.stress_smp4); userboot's own leak check
 * follows it, and the program checks itself that the kernel's free memory came back.
 *
 * What the workers do (weights in pick_op):
 *   - vmo: create a VMO of 1..16 pages, map it, write and read back some pages, maybe
 *     through a copy-on-write child, unmap, close;
 *   - channel: a fresh channel with a few messages carrying bytes and handles (VMOs, the
 *     end of another channel), some read back, then both ends closed with the rest queued;
 *   - thread: a thread of this process, pinned to a random CPU, that makes a few
 *     syscalls and exits, joined or killed at a random point;
 *   - process: a process that never starts (a thread and a mapping in it), closed;
 *   - launch: this program again as a child that maps VMOs it is sent and answers, asked
 *     to exit or killed at a random point;
 *   - pool write / read / replace: the shared pool, channel ends every worker takes and
 *     puts back, so that one CPU writes (ends of the pool itself among the handles) what
 *     another reads, and ends are closed under other CPUs' feet.
 *
 * The seed: the -DBERYL_STRESS_SEED build option if not 0, else `--seed N` when the
 * program is started with arguments, else one derived from where the kernel's ASLR placed
 * a fresh mapping, which depends only on the boot's aslr.seed (a boot with the same
 * aslr.seed and userboot.prefix repeats it). The operation sequence of each worker
 * follows from the seed; how the CPUs interleave them does not.
 */
#include <beryl/launch.h>
#include <beryl/startup.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/processargs.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/profile.h>
#include "churn/stress_priv.h"
#include "stress_common.h"

#ifndef BERYL_STRESS_OPS
#define BERYL_STRESS_OPS 1500
#endif
#ifndef BERYL_STRESS_SEED
#define BERYL_STRESS_SEED 0
#endif

stress_t g_stress;

/* ---- the pseudo-random numbers ------------------------------------------------------ */

uint64_t stress_rand(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

uint32_t stress_below(uint64_t *state, uint32_t n) {
    return (uint32_t)(stress_rand(state) % n);
}

/* ---- failures ------------------------------------------------------------------------ */

bool stress_fail(worker_t *w, int line, const char *what, zx_status_t st) {
    printf("stress: FAILED: worker %u op %u (%s) line %d: %s (status %d)\n", w->index,
           w->op, w->op_name, line, what, st);
    __atomic_add_fetch(&g_stress.failures, 1, __ATOMIC_RELAXED);
    return false;
}

/* ---- the pool ------------------------------------------------------------------------ */

zx_handle_t stress_pool_take(uint32_t slot) {
    return __atomic_exchange_n(&g_stress.pool[slot % STRESS_POOL_SLOTS], ZX_HANDLE_INVALID,
                               __ATOMIC_ACQ_REL);
}

void stress_pool_put(uint32_t slot, zx_handle_t h) {
    if (h == ZX_HANDLE_INVALID)
        return;
    zx_handle_t old = __atomic_exchange_n(&g_stress.pool[slot % STRESS_POOL_SLOTS], h,
                                          __ATOMIC_ACQ_REL);
    if (old != ZX_HANDLE_INVALID)
        zx_handle_close(old);
}

/* ---- the run ------------------------------------------------------------------------- */

/* Runs worker w's share of the operations; stops at its first failure. */
static void worker_main(uintptr_t arg, uintptr_t unused) {
    (void)unused;
    worker_t *w = (worker_t *)arg;
    for (w->op = 0; w->op < w->ops && g_stress.failures == 0; w->op++)
        if (!stress_run_op(w))
            break;
    __atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
    zx_thread_exit();
}

/*
 * Grows this process's handle table to room for STRESS_HANDLE_HEADROOM more handles: a
 * table keeps the chunks it grew by until the process dies, so growth during the run
 * would look like lost memory to the check at its end.
 */
static void grow_handle_table(void) {
    static zx_handle_t spare[STRESS_HANDLE_HEADROOM];
    uint32_t n = 0;
    while (n < STRESS_HANDLE_HEADROOM &&
           zx_handle_duplicate(beryl_resource(), ZX_RIGHT_SAME_RIGHTS, &spare[n]) == ZX_OK)
        n++;
    zx_handle_close_many(spare, n);
}

/* Pins thread to cpu; false if the profile cannot be made or set. */
zx_status_t stress_pin(zx_handle_t thread, uint32_t cpu) {
    return tu_pin_mask(beryl_resource(), thread, 1ull << cpu);
}

static worker_t workers[STRESS_MAX_WORKERS];

/*
 * Waits for the first `started` workers to finish (at most STRESS_WORKER_TIMEOUT_NS in
 * all; then the ones left are killed and the run fails). Every STRESS_PROGRESS_NS it
 * prints how many operations ran, and where each unfinished worker is when none ran since
 * the last line (a hang: which worker waits in which operation). Returns the operations
 * run; closes the workers' threads.
 */
static uint64_t join_workers(uint32_t started, uint32_t ops) {
    zx_time_t deadline = zx_deadline_after(STRESS_WORKER_TIMEOUT_NS);
    uint64_t last = ~0ull, done = 0;
    for (;;) {
        uint32_t running = 0, first = 0;
        done = 0;
        for (uint32_t i = started; i-- > 0;) {
            done += __atomic_load_n(&workers[i].op, __ATOMIC_RELAXED);
            if (!__atomic_load_n(&workers[i].finished, __ATOMIC_ACQUIRE)) {
                running++;
                first = i;
            }
        }
        if (running == 0)
            break;
        bool timed_out = zx_clock_get_monotonic() >= deadline;
        if (last != ~0ull)
            printf("stress: %llu of %u operations, %u workers running\n",
                   (unsigned long long)done, ops, running);
        if (timed_out || done == last) {
            for (uint32_t i = 0; i < started; i++)
                if (!__atomic_load_n(&workers[i].finished, __ATOMIC_ACQUIRE))
                    printf("stress: %sworker %u (CPU %u) in op %u (%s)\n",
                           timed_out ? "FAILED: " : "no progress: ", i, workers[i].cpu,
                           workers[i].op, workers[i].op_name);
        }
        if (timed_out) {
            g_stress.failures++;
            for (uint32_t i = 0; i < started; i++)
                tu_task_kill_wait(workers[i].thread.thread);
            break;
        }
        last = done;
        zx_object_wait_one(workers[first].thread.thread, ZX_THREAD_TERMINATED,
                           zx_deadline_after(STRESS_PROGRESS_NS), NULL);
    }
    for (uint32_t i = 0; i < started; i++)
        tu_thread_destroy(&workers[i].thread);
    return done;
}

/* Touches the stack the main thread uses while it measures (see main). */
static __attribute__((noinline)) void prefault_stack(void) {
    volatile char buf[STRESS_STACK_PREFAULT];
    for (size_t i = 0; i < sizeof(buf); i += TU_PAGE / 4)
        buf[i] = 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], STRESS_CHILD_ARG) == 0)
        return stress_child_main();
    const char *source;
    uint64_t seed = stress_pick_seed(argc, argv, (uint64_t)BERYL_STRESS_SEED, "-DBERYL_STRESS_SEED",
                                     &source);
    uint32_t ops = stress_pick_ops(argc, argv, BERYL_STRESS_OPS);
    uint32_t ncpus = zx_system_get_num_cpus();
    if (ncpus > STRESS_MAX_WORKERS / STRESS_WORKERS_PER_CPU)
        ncpus = STRESS_MAX_WORKERS / STRESS_WORKERS_PER_CPU;
    uint32_t nworkers = ncpus * STRESS_WORKERS_PER_CPU;
    memset(&g_stress, 0, sizeof(g_stress));
    g_stress.ncpus = ncpus;
    printf("stress: seed 0x%016llx (from %s), %u operations, %u workers on %u CPU%s\n",
           (unsigned long long)seed, source, ops, nworkers, ncpus, ncpus == 1 ? "" : "s");
    if (beryl_resource() == ZX_HANDLE_INVALID) {
        printf("stress: FAILED: no resource handle (pinning and the leak check need it)\n");
        return 1;
    }

    /* Whatever of this process's own memory the run would grow for good (its handle
     * table; data, bss and stack pages written first) grows now, before the measurement:
     * the main thread runs each kind of operation once. */
    grow_handle_table();
    memset(workers, 0, sizeof(workers));
    prefault_stack();
    worker_t warm = {
        .index = STRESS_MAX_WORKERS, .rng = stress_splitmix(seed), .op_name = "warm-up"};
    if (!stress_run_each_op(&warm))
        return 1;
    stress_kmem_t before = stress_kmem_now();
    zx_time_t t0 = zx_clock_get_monotonic();
    uint32_t started = 0;
    for (uint32_t i = 0; i < nworkers; i++) {
        worker_t *w = &workers[i];
        w->index = i;
        w->cpu = i % ncpus;
        w->rng = stress_splitmix(seed ^ stress_splitmix(i + 1));
        w->ops = ops / nworkers + (i < ops % nworkers ? 1 : 0);
        w->op_name = "start";
        zx_status_t st = tu_thread_create(&w->thread);
        if (st == ZX_OK)
            st = stress_pin(w->thread.thread, w->cpu);
        if (st == ZX_OK)
            st = tu_thread_start(&w->thread, worker_main, (uintptr_t)w, 0);
        if (st != ZX_OK) {
            printf("stress: FAILED: starting worker %u: %d\n", i, st);
            g_stress.failures++;
            tu_thread_destroy(&w->thread);
            break;
        }
        started++;
    }
    uint64_t done_ops = join_workers(started, ops);
    for (uint32_t s = 0; s < STRESS_POOL_SLOTS; s++) {
        zx_handle_t h = stress_pool_take(s);
        if (h != ZX_HANDLE_INVALID)
            zx_handle_close(h);
    }
    zx_time_t t1 = zx_clock_get_monotonic();
    printf("stress: %llu operations in %lld ms: %u launches, %u threads, %u messages, "
           "%u pages touched\n",
           (unsigned long long)done_ops, (long long)((t1 - t0) / TU_MS),
           g_stress.launches, g_stress.threads, g_stress.messages, g_stress.pages);

    /* Everything the workers made is gone once the last handle closed; deferred frees
     * may take a moment. */
    stress_kmem_t after = stress_kmem_now();
    for (int r = 0; r < STRESS_LEAK_RETRIES && stress_kmem_lost(&before, &after) > 0; r++) {
        zx_nanosleep(zx_deadline_after(STRESS_LEAK_RETRY_NS));
        after = stress_kmem_now();
    }
    int64_t lost = stress_kmem_lost(&before, &after);
    if (lost > 0) {
        printf("stress: FAILED: %lld pages of kernel memory did not come back (free %lld -> "
               "%lld; VMO pages %+lld, page tables %+lld, heap pages %+lld with %+lld bytes "
               "in use, other %+lld)\n",
               (long long)lost, (long long)before.free_pages, (long long)after.free_pages,
               (long long)(after.vmo_pages - before.vmo_pages),
               (long long)(after.mmu_pages - before.mmu_pages),
               (long long)(after.heap_pages - before.heap_pages),
               (long long)(after.heap_used - before.heap_used),
               (long long)(after.other_pages - before.other_pages));
        g_stress.failures++;
    } else {
        printf("stress: kernel free memory back to its start (%lld pages)\n",
               (long long)before.free_pages);
    }
    if (g_stress.failures == 0 && done_ops != ops) {
        printf("stress: FAILED: %llu of %u operations ran\n", (unsigned long long)done_ops,
               ops);
        g_stress.failures++;
    }
    printf("stress: %s, seed 0x%016llx\n", g_stress.failures ? "FAILED" : "passed",
           (unsigned long long)seed);
    return g_stress.failures ? 1 : 0;
}
