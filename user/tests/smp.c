/*
 * Threads pinned to different CPUs (issue 15's user tests): channel ping-pong between
 * two CPUs, a writer and a reader of one channel racing on two CPUs, killing a thread or a process that spins in user mode on another CPU, and
 * tearing a process down while its threads run on every CPU (restricted-mode kicks
 * across CPUs are in test/smp_restricted).
 *
 * Every case needs two CPUs that run threads; with fewer it prints
 * "smp: <case>: skipped, needs 2 CPUs, ..." and checks nothing. The default suite boots
 * with -smp 4 (qemu.user_tests), so they run there. Nothing here depends on timing: each
 * wait has a deadline (SMP_DEADLINE_NS) far beyond what it takes, and placement is read
 * back from ZX_INFO_THREAD_STATS, not assumed.
 *
 * The process cases run this program again as a child: `smp --spin` (threads spinning on
 * CPUs 1..n-1) and `smp --busy EXIT` (on every CPU, one thread spinning and one making
 * syscalls; with EXIT its main thread then exits the process itself).
 */
#include <beryl/launch.h>
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <string.h>
#include <zircon/processargs.h>
#include <zircon/syscalls.h>
#include "smp_util.h"

/* Round trips per pair of CPUs in the ping-pong case. */
#define PING_PONG_ROUND_TRIPS 300u
/* Teardown rounds per way of ending the process. */
#define TEARDOWN_ROUNDS 3
/* The return code of a --busy child that exits by itself. */
#define BUSY_EXIT_CODE 42
/* The child's verdict when its own setup failed (it prints why). */
#define CHILD_SETUP_FAILED 77

/* ---- ping-pong ----------------------------------------------------------------------- */

typedef struct {
    zx_handle_t self;         /* the partner's own thread (zx_thread_self() is the main
                               * thread's handle in every thread of a process) */
    zx_handle_t ch;           /* the partner's end */
    uint32_t cpu;             /* where it is pinned */
    uint32_t round_trips;     /* how many to answer */
    volatile uint32_t wrong_cpu; /* answers given while last_scheduled_cpu != cpu */
    volatile zx_status_t status; /* first failing call, ZX_OK if none */
} partner_t;

/* Waits for one uint32_t on ch and reads it into *v; the first failing call's status. */
static zx_status_t recv_u32(zx_handle_t ch, uint32_t *v) {
    zx_status_t st = zx_object_wait_one(ch, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
                                        zx_deadline_after(SMP_DEADLINE_NS), NULL);
    if (st != ZX_OK)
        return st;
    uint32_t nb, nh;
    st = zx_channel_read(ch, 0, v, NULL, sizeof(*v), 0, &nb, &nh);
    if (st == ZX_OK && nb != sizeof(*v))
        st = ZX_ERR_IO;
    return st;
}

/* The partner: answers each number n with n + 1, checking after each wake-up that it
 * runs on its CPU. */
static void partner_main(uintptr_t arg, uintptr_t unused) {
    (void)unused;
    partner_t *p = (partner_t *)arg;
    for (uint32_t i = 0; i < p->round_trips; i++) {
        uint32_t v;
        zx_status_t st = recv_u32(p->ch, &v);
        if (smp_last_cpu(p->self) != p->cpu)
            p->wrong_cpu++;
        v++;
        if (st == ZX_OK)
            st = zx_channel_write(p->ch, 0, &v, sizeof(v), NULL, 0);
        if (st != ZX_OK) {
            p->status = st;
            break;
        }
    }
    zx_thread_exit();
}

/* The calling thread pinned to `a` plays PING_PONG_ROUND_TRIPS round trips with a
 * partner pinned to `b`; both check every step ran on its own CPU. */
static void ping_pong(uint32_t a, uint32_t b) {
    zx_handle_t self = zx_thread_self();
    ASSERT_OK(smp_pin(beryl_resource(), self, a));
    zx_handle_t mine;
    partner_t p = {.cpu = b, .round_trips = PING_PONG_ROUND_TRIPS, .status = ZX_OK};
    ASSERT_OK(zx_channel_create(0, &mine, &p.ch));
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(smp_pin(beryl_resource(), t.thread, b));
    p.self = t.thread;
    ASSERT_OK(tu_thread_start(&t, partner_main, (uintptr_t)&p, 0));
    uint32_t wrong_cpu = 0, done = 0;
    for (uint32_t i = 0; i < PING_PONG_ROUND_TRIPS; i++) {
        uint32_t v = i * 2, back = 0;
        zx_status_t st = zx_channel_write(mine, 0, &v, sizeof(v), NULL, 0);
        if (st == ZX_OK)
            st = recv_u32(mine, &back);
        if (st != ZX_OK || back != v + 1) {
            printf("smp: ping-pong %u->%u: round trip %u: status %d, got %u for %u\n", a, b,
                   i, st, back, v);
            break;
        }
        if (smp_last_cpu(self) != a)
            wrong_cpu++;
        done++;
    }
    EXPECT_EQ(done, PING_PONG_ROUND_TRIPS);
    EXPECT_EQ(wrong_cpu, 0u);
    EXPECT_OK(tu_thread_join(&t, SMP_DEADLINE_NS));
    EXPECT_OK(p.status);
    EXPECT_EQ(p.wrong_cpu, 0u);
    EXPECT_EQ(smp_last_cpu(t.thread), b);
    tu_thread_destroy(&t);
    zx_handle_close(mine);
    zx_handle_close(p.ch);
    EXPECT_OK(tu_pin_mask(beryl_resource(), self, ~0ull));
}

/* Every CPU plays against the next one (and the last against CPU 0). */
TEST(SmpPingPong, ChannelRoundTripsBetweenCpus) {
    if (smp_skip("SmpPingPong.ChannelRoundTripsBetweenCpus"))
        return;
    uint32_t n = smp_cpus();
    for (uint32_t a = 0; a < n; a++)
        ping_pong(a, (a + 1) % n);
}

/* ---- a writer and a reader of one channel on two CPUs --------------------------------- */

/* Messages the writer sends; every RACE_HANDLE_EVERY-th carries a VMO handle. */
#define RACE_MESSAGES 50000u
#define RACE_HANDLE_EVERY 8u
/* How far the writer may run ahead of the reader (bounds the queue). */
#define RACE_AHEAD 64u

typedef struct {
    zx_handle_t self;
    zx_handle_t ch;
    volatile uint32_t got;       /* messages read, in order */
    volatile uint32_t handles;   /* handles received (each closed at once) */
    volatile zx_status_t status; /* first failure, ZX_OK if none */
} race_reader_t;

/* Reads RACE_MESSAGES messages as fast as it can (a read finding the queue empty is
 * tried again at once), checking their order. */
static void race_reader_main(uintptr_t arg, uintptr_t unused) {
    (void)unused;
    race_reader_t *r = (race_reader_t *)arg;
    zx_time_t deadline = zx_deadline_after(SMP_DEADLINE_NS);
    while (r->got < RACE_MESSAGES && r->status == ZX_OK) {
        uint32_t v = 0, nb = 0, nh = 0;
        zx_handle_t h = ZX_HANDLE_INVALID;
        zx_status_t st = zx_channel_read(r->ch, 0, &v, &h, sizeof(v), 1, &nb, &nh);
        if (st == ZX_ERR_SHOULD_WAIT) {
            if (zx_clock_get_monotonic() > deadline)
                r->status = ZX_ERR_TIMED_OUT;
            continue;
        }
        if (st == ZX_OK && v != r->got)
            st = ZX_ERR_BAD_STATE;
        if (st != ZX_OK) {
            r->status = st;
            break;
        }
        if (nh == 1) {
            r->handles++;
            zx_handle_close(h);
        }
        r->got++;
    }
    zx_thread_exit();
}

/*
 * A writer on CPU 0 and a reader on CPU 1 that takes each message as soon as it is
 * queued: the writer must not touch a message once it is queued (the reader may already
 * have freed it). Booted with kernel.heap-poison=true (ctest qemu.channel_race_poisoned),
 * a writer that still reads the message after queueing it would read the poison fill
 * of the freed message and panic.
 */
TEST(SmpChannel, WriterAndReaderOnTwoCpus) {
    if (smp_skip("SmpChannel.WriterAndReaderOnTwoCpus"))
        return;
    zx_handle_t self = zx_thread_self();
    ASSERT_OK(smp_pin(beryl_resource(), self, 0));
    zx_handle_t mine, vmo;
    race_reader_t r = {.status = ZX_OK};
    ASSERT_OK(zx_channel_create(0, &mine, &r.ch));
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(smp_pin(beryl_resource(), t.thread, 1));
    r.self = t.thread;
    ASSERT_OK(tu_thread_start(&t, race_reader_main, (uintptr_t)&r, 0));
    uint32_t sent = 0, sent_handles = 0;
    zx_time_t deadline = zx_deadline_after(SMP_DEADLINE_NS);
    while (sent < RACE_MESSAGES && r.status == ZX_OK && zx_clock_get_monotonic() < deadline) {
        if (sent - r.got >= RACE_AHEAD)
            continue; /* let the reader catch up */
        zx_handle_t h = ZX_HANDLE_INVALID;
        bool with_handle = sent % RACE_HANDLE_EVERY == 0 &&
                           zx_handle_duplicate(vmo, ZX_RIGHT_SAME_RIGHTS, &h) == ZX_OK;
        zx_status_t st = zx_channel_write(mine, 0, &sent, sizeof(sent), with_handle ? &h : NULL,
                                          with_handle ? 1 : 0);
        if (st != ZX_OK) {
            printf("smp: channel race: write %u: status %d\n", sent, st);
            break;
        }
        sent_handles += with_handle;
        sent++;
    }
    EXPECT_EQ(sent, RACE_MESSAGES);
    EXPECT_OK(tu_thread_join(&t, SMP_DEADLINE_NS));
    EXPECT_OK(r.status);
    EXPECT_EQ(r.got, RACE_MESSAGES);
    EXPECT_EQ(r.handles, sent_handles);
    tu_thread_destroy(&t);
    zx_handle_close(mine);
    zx_handle_close(r.ch);
    zx_handle_close(vmo);
    EXPECT_OK(tu_pin_mask(beryl_resource(), self, ~0ull));
}

/* ---- kill of a thread spinning in user mode ------------------------------------------ */

/* Increments *counter forever: user mode only, no syscall, nothing that would enter the
 * kernel by itself. */
static void spin_user(uintptr_t counter, uintptr_t unused) {
    (void)unused;
    volatile uint64_t *c = (volatile uint64_t *)counter;
    for (;;)
        (*c)++;
}

/* The thread's counter once it stopped moving: read twice, 2 ms apart. */
static bool counter_stopped(const volatile uint64_t *c) {
    uint64_t v = *c;
    zx_nanosleep(zx_deadline_after(2 * TU_MS));
    return *c == v;
}

/* For each CPU k > 0: a thread pinned to k spins in user mode while this thread, pinned
 * to CPU 0, kills it; the kill returns and the thread terminates. */
TEST(SmpKill, ThreadSpinningInUserModeOnAnotherCpu) {
    if (smp_skip("SmpKill.ThreadSpinningInUserModeOnAnotherCpu"))
        return;
    zx_handle_t self = zx_thread_self();
    ASSERT_OK(smp_pin(beryl_resource(), self, 0));
    uint32_t n = smp_cpus();
    for (uint32_t cpu = 1; cpu < n; cpu++) {
        static volatile uint64_t counter;
        counter = 0;
        tu_thread_t t;
        ASSERT_OK(tu_thread_create(&t));
        ASSERT_OK(smp_pin(beryl_resource(), t.thread, cpu));
        ASSERT_OK(tu_thread_start(&t, spin_user, (uintptr_t)&counter, 0));
        EXPECT_TRUE(smp_wait_running_on(t.thread, cpu, &counter));
        EXPECT_EQ(smp_last_cpu(self), 0u);
        zx_time_t t0 = zx_clock_get_monotonic();
        EXPECT_OK(zx_task_kill(t.thread));
        EXPECT_OK(tu_thread_join(&t, SMP_DEADLINE_NS));
        zx_time_t t1 = zx_clock_get_monotonic();
        EXPECT_EQ(smp_thread_state(t.thread), ZX_THREAD_STATE_DEAD);
        EXPECT_TRUE(counter_stopped(&counter));
        printf("smp: thread spinning on CPU %u killed from CPU 0 in %lld us\n", cpu,
               (long long)((t1 - t0) / 1000));
        tu_thread_destroy(&t);
    }
    EXPECT_OK(tu_pin_mask(beryl_resource(), self, ~0ull));
}

/* ---- child processes ----------------------------------------------------------------- */

/* What a child sends its parent once every thread it started has run: the handles of
 * those threads (then the parent checks where they are). */
typedef struct {
    uint32_t nthreads;
    uint32_t cpu[2 * SMP_MAX_CPUS]; /* where thread i is pinned */
} child_ready_t;

/* The child's worker threads and their progress counters. */
typedef struct {
    tu_thread_t t[2 * SMP_MAX_CPUS];
    volatile uint64_t counter[2 * SMP_MAX_CPUS];
    uint32_t n;
} child_workers_t;

static child_workers_t workers;

/* Loops syscalls that take kernel locks and allocate (a VMO written and closed, a channel
 * message and a handle duplicate) until the process dies, counting rounds. */
static void busy_syscalls(uintptr_t counter, uintptr_t unused) {
    (void)unused;
    volatile uint64_t *c = (volatile uint64_t *)counter;
    for (;;) {
        zx_handle_t vmo, a, b, d;
        uint64_t v = *c;
        if (zx_vmo_create(TU_PAGE, 0, &vmo) == ZX_OK) {
            zx_vmo_write(vmo, &v, 0, sizeof(v));
            if (zx_channel_create(0, &a, &b) == ZX_OK) {
                if (zx_handle_duplicate(vmo, ZX_RIGHT_SAME_RIGHTS, &d) == ZX_OK)
                    zx_channel_write(a, 0, &v, sizeof(v), &d, 1);
                zx_handle_close(a);
                zx_handle_close(b);
            }
            zx_handle_close(vmo);
        }
        zx_nanosleep(0);
        (*c)++;
    }
}

/* Starts a worker running fn pinned to cpu; false (after printing why) on failure. */
static bool child_start_worker(zx_handle_t resource, uint32_t cpu,
                               void (*fn)(uintptr_t, uintptr_t), child_ready_t *ready) {
    uint32_t i = workers.n;
    zx_status_t st = tu_thread_create(&workers.t[i]);
    if (st == ZX_OK)
        st = smp_pin(resource, workers.t[i].thread, cpu);
    if (st == ZX_OK)
        st = tu_thread_start(&workers.t[i], fn, (uintptr_t)&workers.counter[i], 0);
    if (st != ZX_OK) {
        printf("smp child: worker %u on CPU %u: %d\n", i, cpu, st);
        return false;
    }
    ready->cpu[i] = cpu;
    workers.n++;
    return true;
}

/*
 * The child's main. `busy`: on every CPU a spinning and a syscall-making thread, else a
 * spinning thread on CPUs 1..n-1. Once each has counted, sends a child_ready_t with
 * their handles on the PA_USER0 channel; then with exit_itself exits the process
 * (BUSY_EXIT_CODE) while they run, else waits to be killed.
 */
static int child_main(bool busy, bool exit_itself) {
    zx_handle_t ch = beryl_take_startup_handle(PA_HND(PA_USER0, 0));
    zx_handle_t resource = beryl_take_startup_handle(PA_HND(PA_USER0, 1));
    uint32_t n = smp_cpus();
    child_ready_t ready;
    memset(&ready, 0, sizeof(ready));
    for (uint32_t cpu = busy ? 0 : 1; cpu < n; cpu++) {
        if (!child_start_worker(resource, cpu, spin_user, &ready))
            return CHILD_SETUP_FAILED;
        if (busy && !child_start_worker(resource, cpu, busy_syscalls, &ready))
            return CHILD_SETUP_FAILED;
    }
    ready.nthreads = workers.n;
    zx_time_t deadline = zx_deadline_after(SMP_DEADLINE_NS);
    for (uint32_t i = 0; i < workers.n; i++)
        while (workers.counter[i] == 0 && zx_clock_get_monotonic() < deadline)
            zx_nanosleep(zx_deadline_after(SMP_POLL_NS));
    zx_handle_t h[2 * SMP_MAX_CPUS];
    for (uint32_t i = 0; i < workers.n; i++) {
        if (zx_handle_duplicate(workers.t[i].thread, ZX_RIGHT_SAME_RIGHTS, &h[i]) != ZX_OK) {
            printf("smp child: duplicate of thread %u failed\n", i);
            return CHILD_SETUP_FAILED;
        }
    }
    zx_status_t st = zx_channel_write(ch, 0, &ready, sizeof(ready), h, workers.n);
    if (st != ZX_OK) {
        printf("smp child: ready message: %d\n", st);
        return CHILD_SETUP_FAILED;
    }
    if (exit_itself)
        zx_process_exit(BUSY_EXIT_CODE);
    zx_nanosleep(ZX_TIME_INFINITE);
    return CHILD_SETUP_FAILED; /* only a kill ends the sleep */
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--spin") == 0)
        return child_main(false, false);
    if (argc >= 3 && strcmp(argv[1], "--busy") == 0)
        return child_main(true, strcmp(argv[2], "exit") == 0);
    return beryl_test_run_all(argc, argv);
}

/* A started child (argv as in main) and what it reported. */
typedef struct {
    zx_handle_t proc;
    zx_handle_t ch;
    child_ready_t ready;
    zx_handle_t threads[2 * SMP_MAX_CPUS];
} child_t;

/* Launches the child and waits for its ready message; false (after failing the case)
 * if either fails. */
static bool child_start(child_t *c, const char *mode, const char *arg) {
    memset(c, 0, sizeof(*c));
    zx_handle_t theirs, res;
    const char *argv[] = {"smp", mode, arg};
    if (zx_channel_create(0, &c->ch, &theirs) != ZX_OK)
        return false;
    zx_status_t st = zx_handle_duplicate(beryl_resource(), ZX_RIGHT_SAME_RIGHTS, &res);
    EXPECT_OK(st);
    if (st != ZX_OK) {
        zx_handle_close(theirs);
        return false;
    }
    zx_handle_t h[2] = {theirs, res};
    st = tu_launch_self_handles("smp-child", arg ? 3 : 2, argv, h, 2, ZX_HANDLE_INVALID,
                                ZX_HANDLE_INVALID, &c->proc);
    EXPECT_OK(st);
    if (st != ZX_OK)
        return false;
    st = zx_object_wait_one(c->ch, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
                            zx_deadline_after(SMP_DEADLINE_NS), NULL);
    uint32_t nb = 0, nh = 0;
    if (st == ZX_OK)
        st = zx_channel_read(c->ch, 0, &c->ready, c->threads, sizeof(c->ready),
                             2 * SMP_MAX_CPUS, &nb, &nh);
    EXPECT_OK(st);
    EXPECT_EQ(nb, (uint32_t)sizeof(c->ready));
    EXPECT_EQ(nh, c->ready.nthreads);
    return st == ZX_OK && nb == sizeof(c->ready) && nh == c->ready.nthreads;
}

/* Closes everything the child_t holds; kills the child first if it still runs. */
static void child_close(child_t *c) {
    if (c->proc)
        tu_task_kill_wait(c->proc);
    zx_handle_close_many(c->threads, c->ready.nthreads);
    zx_handle_close(c->ch);
    zx_handle_close(c->proc);
    memset(c, 0, sizeof(*c));
}

/* Checks that each of the child's threads has run on the CPU it is pinned to. */
static void expect_threads_placed(const child_t *c) {
    for (uint32_t i = 0; i < c->ready.nthreads; i++) {
        uint32_t cpu = smp_last_cpu(c->threads[i]);
        if (cpu != c->ready.cpu[i])
            printf("smp: child thread %u pinned to CPU %u last ran on %u\n", i,
                   c->ready.cpu[i], cpu);
        EXPECT_EQ(cpu, c->ready.cpu[i]);
    }
}

/* Waits for the child's end (SMP_DEADLINE_NS) and checks its return code and that every
 * thread of it terminated. */
static void expect_child_ended(const child_t *c, int64_t retcode, zx_time_t since,
                               const char *what) {
    int64_t rc = 0;
    EXPECT_OK(beryl_wait_exit(c->proc, zx_deadline_after(SMP_DEADLINE_NS), &rc));
    zx_time_t t1 = zx_clock_get_monotonic();
    EXPECT_EQ(rc, retcode);
    for (uint32_t i = 0; i < c->ready.nthreads; i++) {
        zx_signals_t seen = 0;
        EXPECT_OK(zx_object_wait_one(c->threads[i], ZX_THREAD_TERMINATED, 0, &seen));
        EXPECT_EQ(smp_thread_state(c->threads[i]), ZX_THREAD_STATE_DEAD);
    }
    printf("smp: %s: %u threads ended in %lld us\n", what, c->ready.nthreads,
           (long long)((t1 - since) / 1000));
}

/* A process whose threads spin in user mode on CPUs 1..n-1 is killed from CPU 0. */
TEST(SmpKill, ProcessSpinningInUserModeOnOtherCpus) {
    if (smp_skip("SmpKill.ProcessSpinningInUserModeOnOtherCpus"))
        return;
    zx_handle_t self = zx_thread_self();
    ASSERT_OK(smp_pin(beryl_resource(), self, 0));
    child_t c;
    if (child_start(&c, "--spin", NULL)) {
        EXPECT_EQ(c.ready.nthreads, smp_cpus() - 1);
        expect_threads_placed(&c);
        for (uint32_t i = 0; i < c.ready.nthreads; i++)
            EXPECT_EQ(smp_thread_state(c.threads[i]), ZX_THREAD_STATE_RUNNING);
        zx_time_t t0 = zx_clock_get_monotonic();
        EXPECT_OK(zx_task_kill(c.proc));
        expect_child_ended(&c, ZX_TASK_RETCODE_SYSCALL_KILL, t0, "spinning process killed");
    }
    child_close(&c);
    EXPECT_OK(tu_pin_mask(beryl_resource(), self, ~0ull));
}

/* ---- teardown while threads run on every CPU ------------------------------------------ */

/* A process with a spinning and a syscall-making thread on every CPU is killed from
 * outside, several times. */
TEST(SmpTeardown, KillWhileThreadsRunOnEveryCpu) {
    if (smp_skip("SmpTeardown.KillWhileThreadsRunOnEveryCpu"))
        return;
    for (int r = 0; r < TEARDOWN_ROUNDS; r++) {
        child_t c;
        if (child_start(&c, "--busy", "wait")) {
            EXPECT_EQ(c.ready.nthreads, 2 * smp_cpus());
            expect_threads_placed(&c);
            zx_time_t t0 = zx_clock_get_monotonic();
            EXPECT_OK(zx_task_kill(c.proc));
            expect_child_ended(&c, ZX_TASK_RETCODE_SYSCALL_KILL, t0, "busy process killed");
        }
        child_close(&c);
    }
}

/* The same process exits by itself (zx_process_exit from its main thread) while its
 * other threads run on every CPU. */
TEST(SmpTeardown, ExitWhileThreadsRunOnEveryCpu) {
    if (smp_skip("SmpTeardown.ExitWhileThreadsRunOnEveryCpu"))
        return;
    for (int r = 0; r < TEARDOWN_ROUNDS; r++) {
        child_t c;
        zx_time_t t0 = zx_clock_get_monotonic();
        if (child_start(&c, "--busy", "exit")) {
            EXPECT_EQ(c.ready.nthreads, 2 * smp_cpus());
            expect_child_ended(&c, BUSY_EXIT_CODE, t0, "busy process exited");
            expect_threads_placed(&c); /* where they last ran, before the exit */
        }
        child_close(&c);
    }
}
