/*
 * Syscall fuzzer. The test case launches FUZZ_PROCS copies of this program
 * ("--fuzz <index> <seed> <calls>"); each runs FUZZ_THREADS threads issuing random
 * syscalls (the operations in fuzz/ops.c) with a deterministic per-thread PRNG:
 * valid handles mixed with closed, wrong-type and made-up ones, wild pointers, huge and
 * zero sizes, random option bits. Every result is checked against the syscall's
 * documented status set (docs/syscalls.md, syscall-abi/decisions.md); a status outside
 * it is printed with the call and its arguments and makes the child exit non-zero. The
 * parent fails on a bad exit code, on a child that does not finish in time (a hang) and
 * on kernel free memory that does not return to its starting value once every fuzzer
 * process is gone. docs/user-tests.md ("Syscall fuzzer") describes budgets and long runs.
 *
 * Self-protection: the fuzzer's own handles (process, thread, root VMAR, job, resource,
 * the runtime's) never reach a destructive call; VMAR calls only ever get the child's
 * fuzz VMAR or VMARs made inside it; output pointers are either invalid or point into a
 * per-thread scratch area; made-up handle values have an index no table reaches.
 */
#include <beryl/kernel_info.h>
#include "fuzz/fuzz.h"

/* ---- Child process ---- */

typedef struct {
    fuzz_thread_t ft;
    tu_thread_t thread;
    uint64_t budget;
    zx_vaddr_t region;   /* the scratch VMAR */
    zx_handle_t region_vmar;
} worker_t;

static worker_t workers[FUZZ_THREADS];

/* Scratch layout (one VMAR of SCRATCH_PAGES + 2 pages, CAN_MAP_SPECIFIC):
 * [scratch RW x SCRATCH_PAGES][guard: never mapped][read-only page]. */
static zx_status_t scratch_setup(worker_t *w) {
    size_t size = (SCRATCH_PAGES + 2) * TU_PAGE;
    zx_status_t st = zx_vmar_allocate(zx_vmar_root_self(),
                                      ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE |
                                          ZX_VM_CAN_MAP_SPECIFIC,
                                      0, size, &w->region_vmar, &w->region);
    if (st != ZX_OK)
        return st;
    zx_handle_t vmo;
    if ((st = zx_vmo_create(SCRATCH_PAGES * TU_PAGE, 0, &vmo)) != ZX_OK)
        return st;
    zx_vaddr_t a;
    st = zx_vmar_map(w->region_vmar, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_SPECIFIC, 0, vmo,
                     0, SCRATCH_PAGES * TU_PAGE, &a);
    zx_handle_close(vmo);
    if (st != ZX_OK)
        return st;
    if ((st = zx_vmo_create(TU_PAGE, 0, &vmo)) != ZX_OK)
        return st;
    zx_vmo_write(vmo, ro_pattern, 0, sizeof(ro_pattern));
    st = zx_vmar_map(w->region_vmar, ZX_VM_PERM_READ | ZX_VM_SPECIFIC,
                     (SCRATCH_PAGES + 1) * TU_PAGE, vmo, 0, TU_PAGE, &a);
    zx_handle_close(vmo);
    if (st != ZX_OK)
        return st;
    w->ft.scratch = (uint8_t *)w->region;
    w->ft.ro_page = (uint8_t *)a;
    return ZX_OK;
}

static void worker_main(uintptr_t arg, uintptr_t unused) {
    (void)unused;
    worker_t *w = (worker_t *)arg;
    fuzz_thread_t *t = &w->ft;
    unsigned total_weight = 0, weight[fuzz_num_ops];
    for (size_t i = 0; i < fuzz_num_ops; i++) {
        weight[i] = (FUZZ_OP_MASK >> i) & 1 ? fuzz_ops[i].weight : 0;
        total_weight += weight[i];
    }
    for (uint64_t n = 0; n < w->budget; n++) {
        t->calls = n;
        t->used_ro = false;
        unsigned k = (unsigned)rnd_below(&t->rng, total_weight);
        size_t i = 0;
        while (k >= weight[i])
            k -= weight[i++];
#ifdef FUZZ_VERBOSE
        if (t->index == 0 && n % 100000 == 0)
            printf("fuzz: child %d: %llu calls on thread 0, %llu KiB free\n", child_index,
                   (unsigned long long)n,
                   (unsigned long long)(tu_kmem_free(beryl_resource()) >> 10));
#endif
        t->op = i;
        t->sane = chance(&t->rng, 60);
        fuzz_ops[i].fn(t);
        __atomic_fetch_add(&total_calls, 1, __ATOMIC_RELAXED);
        if (t->used_ro && memcmp(t->ro_page, ro_pattern, sizeof(ro_pattern)) != 0) {
            report(t, 0, "the kernel wrote to a read-only page");
            memcpy(ro_pattern, t->ro_page, sizeof(ro_pattern)); /* report once */
        }
    }
    zx_thread_exit();
}

static int run_child(int index, uint64_t seed, uint64_t calls) {
    child_index = index;
    printf("fuzz: child %d: %llu calls on %d threads, seed %#llx\n", index,
           (unsigned long long)calls, FUZZ_THREADS, (unsigned long long)seed);
    special[num_special++] = zx_process_self();
    special[num_special++] = zx_job_default();
    special[num_special++] = zx_thread_self();
    if (beryl_resource() != ZX_HANDLE_INVALID)
        special[num_special++] = beryl_resource();
    for (size_t i = 0; i < sizeof(ro_pattern); i++)
        ro_pattern[i] = (uint8_t)(0xa5 ^ i);
    zx_status_t st = zx_vmar_allocate(zx_vmar_root_self(),
                                      ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE |
                                          ZX_VM_CAN_MAP_EXECUTE | ZX_VM_CAN_MAP_SPECIFIC,
                                      0, FUZZ_VMAR_SIZE, &fuzz_vmar, &fuzz_base);
    if (st != ZX_OK) {
        printf("fuzz: child %d: fuzz VMAR: %d\n", index, st);
        return 100;
    }
    for (int i = 0; i < FUZZ_THREADS; i++) {
        worker_t *w = &workers[i];
        w->ft.index = i;
        w->ft.rng.s = seed ^ ((uint64_t)index << 40) ^ ((uint64_t)i << 20);
        w->budget = calls / FUZZ_THREADS + (i == 0 ? calls % FUZZ_THREADS : 0);
        if ((st = scratch_setup(w)) != ZX_OK || (st = tu_thread_create(&w->thread)) != ZX_OK) {
            printf("fuzz: child %d: setup: %d\n", index, st);
            return 100;
        }
    }
    for (int i = 0; i < FUZZ_THREADS; i++) {
        if ((st = tu_thread_start(&workers[i].thread, worker_main, (uintptr_t)&workers[i], 0)) !=
            ZX_OK) {
            printf("fuzz: child %d: start: %d\n", index, st);
            return 100;
        }
    }
    for (int i = 0; i < FUZZ_THREADS; i++) {
        st = tu_thread_join(&workers[i].thread, 100000 * TU_SEC);
        if (st != ZX_OK)
            printf("fuzz: child %d: joining thread %d: %d\n", index, i, st);
    }
    zx_handle_t ch = beryl_take_startup_handle(PA_HND(PA_USER1, 0));
    fuzz_stats_t s = {total_calls, total_checked, violations, total_ok};
    st = zx_channel_write(ch, 0, &s, sizeof(s), NULL, 0);
    if (st != ZX_OK)
        printf("fuzz: child %d: sending statistics: %d\n", index, st);
    zx_handle_close(ch);
#ifdef FUZZ_VERBOSE
    char line[512];
    int len = snprintf(line, sizeof(line), "fuzz: child %d ok/calls per op:", index);
    for (size_t i = 0; i < fuzz_num_ops && len < (int)sizeof(line); i++)
        len += snprintf(line + len, sizeof(line) - (size_t)len, " %u/%u", op_oks[i], op_calls[i]);
    printf("%s\n", line);
#endif
    /* Everything else (pool handles, mappings, threads) goes away with the process. */
    return violations > 99 ? 99 : (int)violations;
}

/* ---- Parent: the test case ---- */

/* Launches child `index` with `calls` calls; *rx receives its statistics channel. */
static zx_status_t launch_child(int index, uint64_t calls, zx_handle_t *proc, zx_handle_t *rx) {
    zx_handle_t exe = beryl_get_startup_handle(PA_HND(PA_VMO_EXECUTABLE, 0));
    zx_handle_t tx, rdup;
    zx_status_t st = zx_channel_create(0, rx, &tx);
    if (st != ZX_OK)
        return st;
    if ((st = zx_handle_duplicate(beryl_resource(), ZX_RIGHT_SAME_RIGHTS, &rdup)) != ZX_OK) {
        zx_handle_close(tx);
        zx_handle_close(*rx);
        return st;
    }
    char idx[8], seed[24], n[24];
    snprintf(idx, sizeof(idx), "%d", index);
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)BERYL_FUZZ_SEED);
    snprintf(n, sizeof(n), "%llu", (unsigned long long)calls);
    const char *argv[] = {"fuzz", "--fuzz", idx, seed, n};
    zx_handle_t hs[2] = {tx, rdup};
    uint32_t infos[2] = {PA_HND(PA_USER1, 0), PA_HND(PA_RESOURCE, 0)};
    beryl_launch_args_t a = {
        .job = zx_job_default(),
        .name = "fuzz-child",
        .exe_vmo = exe,
        .argc = 5,
        .argv = argv,
        .handles = hs,
        .handle_infos = infos,
        .num_handles = 2,
    };
    st = beryl_launch(&a, proc);
    if (st != ZX_OK)
        zx_handle_close(*rx);
    return st;
}

/* Waits for a child until deadline (killing it after that); adds its statistics. */
static zx_status_t finish_child(zx_handle_t proc, zx_handle_t rx, zx_time_t deadline,
                                int64_t *rc, fuzz_stats_t *sum) {
    zx_status_t st = beryl_wait_exit(proc, deadline, rc);
    if (st == ZX_ERR_TIMED_OUT) {
        zx_task_kill(proc);
        zx_object_wait_one(proc, ZX_PROCESS_TERMINATED, ZX_TIME_INFINITE, NULL);
    }
    zx_handle_close(proc);
    fuzz_stats_t s;
    uint32_t nb = 0, nh = 0;
    zx_status_t rst = zx_channel_read(rx, 0, &s, NULL, sizeof(s), 0, &nb, &nh);
    zx_handle_close(rx);
    if (st == ZX_OK && (rst != ZX_OK || nb != sizeof(s))) {
        printf("fuzz: a child exited (return code %lld) without statistics (read: %d)\n",
               (long long)*rc, rst);
        st = ZX_ERR_INTERNAL;
    }
    if (rst == ZX_OK && nb == sizeof(s)) {
        sum->calls += s.calls;
        sum->checked += s.checked;
        sum->violations += s.violations;
        sum->ok += s.ok;
    }
    return st;
}

TEST(Fuzz, RandomSyscalls) {
    zx_handle_t res = beryl_resource();
    ASSERT_NE(beryl_get_startup_handle(PA_HND(PA_VMO_EXECUTABLE, 0)), ZX_HANDLE_INVALID);
    ASSERT_NE(res, ZX_HANDLE_INVALID);
    uint64_t calls = BERYL_FUZZ_CALLS;
    uint64_t per = calls / FUZZ_PROCS;

    /* A warm-up child with no calls: kernel caches that grow once (object slabs, heap
     * pages) are not counted against the fuzzer. */
    zx_handle_t procs[FUZZ_PROCS], rx[FUZZ_PROCS];
    fuzz_stats_t sum = {0, 0, 0, 0};
    int64_t rc = 0;
    ASSERT_OK(launch_child(0, 0, &procs[0], &rx[0]));
    ASSERT_OK(finish_child(procs[0], rx[0], zx_deadline_after(10 * TU_SEC), &rc, &sum));
    ASSERT_EQ(rc, 0);

    uint64_t before = tu_kmem_free_settled(res); /* the warm-up child's teardown is done */
    zx_time_t t0 = zx_clock_get_monotonic();
    for (int i = 0; i < FUZZ_PROCS; i++)
        ASSERT_OK(launch_child(i, per + (i == 0 ? calls % FUZZ_PROCS : 0), &procs[i], &rx[i]));
    zx_time_t deadline = t0 + FUZZ_TIMEOUT_NS(calls);
    for (int i = 0; i < FUZZ_PROCS; i++) {
        rc = 0;
        zx_status_t st = finish_child(procs[i], rx[i], deadline, &rc, &sum);
        if (st == ZX_ERR_TIMED_OUT)
            printf("fuzz: child %d hung (killed after the deadline)\n", i);
        EXPECT_OK(st);
        EXPECT_EQ(rc, 0);
    }
    zx_time_t t1 = zx_clock_get_monotonic();
    EXPECT_EQ(sum.calls, calls);
    EXPECT_EQ(sum.violations, 0);

    /* Kernel memory is back once every fuzzer process is gone (frees may be deferred). */
    uint64_t after = tu_kmem_free(res);
    for (int i = 0; i < 50 && after != before; i++) {
        zx_nanosleep(zx_deadline_after(10 * TU_MS));
        after = tu_kmem_free(res);
    }
    if (after != before)
        printf("fuzz: free memory %llu bytes before, %llu after\n", (unsigned long long)before,
               (unsigned long long)after);
    EXPECT_EQ(after, before);
    printf("fuzz: %llu calls, %d threads, seed %#llx, %llu statuses checked (%llu ZX_OK) in "
           "%lld ms\n",
           (unsigned long long)sum.calls, FUZZ_PROCS * FUZZ_THREADS,
           (unsigned long long)BERYL_FUZZ_SEED, (unsigned long long)sum.checked,
           (unsigned long long)sum.ok, (long long)((t1 - t0) / TU_MS));
    beryl_info_irqoff_t io;
    if (zx_object_get_info(res, BERYL_INFO_IRQOFF, &io, sizeof(io), NULL, NULL) == ZX_OK)
        printf("fuzz: longest interrupts-off stretch in the kernel so far: %llu ns\n",
               (unsigned long long)io.max_ns);
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--member-exit") == 0)
        return 0; /* op_member_run: its startup handles stay in the family's table */
    if (argc >= 5 && strcmp(argv[1], "--fuzz") == 0)
        return run_child((int)strtol(argv[2], NULL, 10), (uint64_t)strtoul(argv[3], NULL, 10),
                         (uint64_t)strtoul(argv[4], NULL, 10));
    return beryl_test_run_all(argc, argv);
}
