/* Threads in our own process: create / start / exit / kill, sleeping, preemption. */
#include <beryl/test.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#define SEC 1000000000ll
#define MS 1000000ll
#define STACK_SIZE (64u * 1024u)

static zx_time_t after(zx_duration_t ns) { return zx_clock_get_monotonic() + ns; }

typedef struct uthr {
    zx_handle_t thread;
    zx_vaddr_t stack;
} uthr_t;

static zx_status_t thr_create(uthr_t *t) {
    memset(t, 0, sizeof(*t));
    zx_handle_t vmo;
    zx_status_t st = zx_vmo_create(STACK_SIZE, 0, &vmo);
    if (st != ZX_OK)
        return st;
    st = zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0,
                     STACK_SIZE, &t->stack);
    zx_handle_close(vmo);
    if (st != ZX_OK)
        return st;
    return zx_thread_create(zx_process_self(), "worker", 6, 0, &t->thread);
}

static zx_status_t thr_start(uthr_t *t, void (*fn)(uintptr_t, uintptr_t), uintptr_t arg) {
    /* rsp = top - 8: the alignment a called C function expects. */
    return zx_thread_start(t->thread, (zx_vaddr_t)fn, t->stack + STACK_SIZE - 8, arg, 0);
}

static zx_status_t thr_join(uthr_t *t, zx_duration_t timeout) {
    return zx_object_wait_one(t->thread, ZX_THREAD_TERMINATED, after(timeout), NULL);
}

/* Only after the thread has terminated (or was never started). */
static void thr_destroy(uthr_t *t) {
    if (t->thread)
        zx_handle_close(t->thread);
    if (t->stack)
        zx_vmar_unmap(zx_vmar_root_self(), t->stack, STACK_SIZE);
    memset(t, 0, sizeof(*t));
}

static volatile uintptr_t g_value;

static void set_value(uintptr_t arg1, uintptr_t arg2) {
    (void)arg2;
    g_value = arg1;
    zx_thread_exit();
}

TEST(Thread, StartSetsValueAndExits) {
    uthr_t t;
    g_value = 0;
    ASSERT_OK(thr_create(&t));
    EXPECT_OK(thr_start(&t, set_value, 0x1234abcd));
    EXPECT_OK(thr_join(&t, 10 * SEC));
    EXPECT_EQ(g_value, 0x1234abcdu);
    zx_info_handle_basic_t b;
    EXPECT_OK(zx_object_get_info(t.thread, ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL));
    EXPECT_EQ(b.type, ZX_OBJ_TYPE_THREAD);
    zx_info_handle_basic_t pb;
    EXPECT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_HANDLE_BASIC, &pb, sizeof(pb), NULL,
                                 NULL));
    EXPECT_EQ(b.related_koid, pb.koid);
    thr_destroy(&t);
}

TEST(Thread, CreateNeverStarted) {
    uthr_t t;
    ASSERT_OK(thr_create(&t));
    zx_info_thread_t ti;
    EXPECT_OK(zx_object_get_info(t.thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL));
    EXPECT_EQ(ti.state, ZX_THREAD_STATE_NEW);
    thr_destroy(&t);
}

TEST(Thread, CreateBadOptions) {
    zx_handle_t h;
    EXPECT_STATUS(zx_thread_create(zx_process_self(), "x", 1, 1, &h), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_thread_create(zx_process_self(), "x", 1, 0x80000000u, &h),
                  ZX_ERR_INVALID_ARGS);
}

TEST(Thread, CreateBadHandles) {
    zx_handle_t h, vmo;
    EXPECT_STATUS(zx_thread_create(ZX_HANDLE_INVALID, "x", 1, 0, &h), ZX_ERR_BAD_HANDLE);
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    EXPECT_STATUS(zx_thread_create(vmo, "x", 1, 0, &h), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_thread_create(zx_process_self(), "x", 1, 0, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_thread_create(zx_process_self(), "x", 1, 0, (zx_handle_t *)0x1000),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(Thread, StartTwice) {
    uthr_t t;
    ASSERT_OK(thr_create(&t));
    EXPECT_OK(thr_start(&t, set_value, 1));
    EXPECT_STATUS(thr_start(&t, set_value, 2), ZX_ERR_BAD_STATE);
    EXPECT_OK(thr_join(&t, 10 * SEC));
    EXPECT_STATUS(thr_start(&t, set_value, 3), ZX_ERR_BAD_STATE);
    thr_destroy(&t);
}

TEST(Thread, StartBadEntry) {
    uthr_t t;
    ASSERT_OK(thr_create(&t));
    EXPECT_STATUS(zx_thread_start(t.thread, 0, t.stack + STACK_SIZE - 8, 0, 0),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_thread_start(t.thread, 0xffffffff80000000ull, t.stack + STACK_SIZE - 8, 0,
                                  0),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_thread_start(t.thread, 0x0000900000000000ull, t.stack + STACK_SIZE - 8, 0,
                                  0),
                  ZX_ERR_INVALID_ARGS);
    /* Still startable. */
    EXPECT_OK(thr_start(&t, set_value, 7));
    EXPECT_OK(thr_join(&t, 10 * SEC));
    thr_destroy(&t);
}

#define NSLEEPERS 16
static volatile int g_woke[NSLEEPERS];
static zx_time_t g_sleep_base;

static void sleeper(uintptr_t i, uintptr_t arg2) {
    (void)arg2;
    zx_time_t deadline = g_sleep_base + (zx_time_t)(i + 1) * 5 * MS;
    zx_nanosleep(deadline);
    g_woke[i] = zx_clock_get_monotonic() >= deadline ? 1 : 2;
    zx_thread_exit();
}

TEST(Thread, ManySleepersAllWake) {
    uthr_t t[NSLEEPERS];
    memset(t, 0, sizeof(t));
    g_sleep_base = zx_clock_get_monotonic();
    for (int i = 0; i < NSLEEPERS; i++) {
        g_woke[i] = 0;
        zx_status_t st = thr_create(&t[i]);
        EXPECT_OK(st);
        if (st == ZX_OK)
            EXPECT_OK(thr_start(&t[i], sleeper, (uintptr_t)i));
    }
    for (int i = 0; i < NSLEEPERS; i++) {
        if (t[i].thread) {
            EXPECT_OK(thr_join(&t[i], 10 * SEC));
            EXPECT_EQ(g_woke[i], 1);
        }
        thr_destroy(&t[i]);
    }
}

static volatile uint64_t g_spins;
static volatile int g_stop;

static void spinner(uintptr_t a1, uintptr_t a2) {
    (void)a1;
    (void)a2;
    while (!g_stop)
        g_spins++;
    zx_thread_exit();
}

TEST(Thread, SpinnerDoesNotStarveMain) {
    uthr_t t;
    g_spins = 0;
    g_stop = 0;
    ASSERT_OK(thr_create(&t));
    EXPECT_OK(thr_start(&t, spinner, 0));
    zx_time_t t0 = zx_clock_get_monotonic();
    EXPECT_OK(zx_nanosleep(t0 + 50 * MS));
    zx_time_t t1 = zx_clock_get_monotonic();
    uint64_t s1 = g_spins;
    EXPECT_GT(s1, 0u);
    EXPECT_LT(t1 - t0, 5 * SEC); /* the main thread got the CPU back */
    zx_nanosleep(after(20 * MS));
    EXPECT_GT(g_spins, s1);
    g_stop = 1;
    EXPECT_OK(thr_join(&t, 10 * SEC));
    thr_destroy(&t);
}

TEST(Thread, ClockMonotonicAndNanosleep) {
    zx_time_t a = zx_clock_get_monotonic();
    zx_time_t b = zx_clock_get_monotonic();
    EXPECT_GE(b, a);
    EXPECT_GT(a, 0);
    for (int i = 0; i < 3; i++) {
        zx_time_t start = zx_clock_get_monotonic();
        zx_duration_t d = (i + 1) * 10 * MS;
        EXPECT_OK(zx_nanosleep(start + d));
        zx_time_t end = zx_clock_get_monotonic();
        EXPECT_GE(end - start, d);
        EXPECT_LT(end - start, d + 5 * SEC);
    }
    /* A deadline in the past returns at once. */
    EXPECT_OK(zx_nanosleep(0));
    EXPECT_OK(zx_nanosleep(ZX_TIME_INFINITE_PAST));
}

static volatile int g_after_sleep;

static void sleep_forever(uintptr_t a1, uintptr_t a2) {
    (void)a1;
    (void)a2;
    zx_nanosleep(ZX_TIME_INFINITE);
    g_after_sleep = 1;
    zx_thread_exit();
}

TEST(Thread, KillSleepingThread) {
    uthr_t t;
    g_after_sleep = 0;
    ASSERT_OK(thr_create(&t));
    EXPECT_OK(thr_start(&t, sleep_forever, 0));
    zx_nanosleep(after(20 * MS));
    zx_info_thread_t ti;
    EXPECT_OK(zx_object_get_info(t.thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL));
    EXPECT_EQ(ti.state, ZX_THREAD_STATE_BLOCKED_SLEEPING);
    EXPECT_EQ(ZX_THREAD_STATE_BASIC(ti.state), ZX_THREAD_STATE_BLOCKED);
    EXPECT_OK(zx_task_kill(t.thread));
    EXPECT_OK(thr_join(&t, 10 * SEC));
    EXPECT_EQ(g_after_sleep, 0);
    EXPECT_OK(zx_object_get_info(t.thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL));
    EXPECT_EQ(ti.state, ZX_THREAD_STATE_DEAD);
    thr_destroy(&t);
}

TEST(Thread, KillSpinningThread) {
    uthr_t t;
    g_stop = 0;
    ASSERT_OK(thr_create(&t));
    EXPECT_OK(thr_start(&t, spinner, 0));
    zx_nanosleep(after(10 * MS));
    EXPECT_OK(zx_task_kill(t.thread));
    EXPECT_OK(thr_join(&t, 10 * SEC));
    thr_destroy(&t);
}

TEST(Thread, KillNeedsDestroyRight) {
    uthr_t t;
    ASSERT_OK(thr_create(&t));
    zx_handle_t weak;
    ASSERT_OK(zx_handle_duplicate(t.thread, ZX_RIGHTS_BASIC, &weak));
    EXPECT_STATUS(zx_task_kill(weak), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_thread_start(weak, (zx_vaddr_t)set_value, t.stack + STACK_SIZE - 8, 0, 0),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_handle_close(weak));
    thr_destroy(&t);
}

static void wait_on_handle(uintptr_t h, uintptr_t a2) {
    (void)a2;
    zx_object_wait_one((zx_handle_t)h, ZX_USER_SIGNAL_0, ZX_TIME_INFINITE, NULL);
    g_after_sleep = 1;
    zx_thread_exit();
}

/* A thread in zx_object_wait_one reports BLOCKED_WAIT_ONE, and RUNNING once woken. */
TEST(Thread, InfoStateWaitOne) {
    uthr_t t;
    zx_handle_t a, b;
    g_after_sleep = 0;
    ASSERT_OK(zx_channel_create(0, &a, &b));
    ASSERT_OK(thr_create(&t));
    EXPECT_OK(thr_start(&t, wait_on_handle, a));
    zx_info_thread_t ti;
    for (int i = 0; i < 100; i++) {
        zx_nanosleep(after(2 * MS));
        EXPECT_OK(zx_object_get_info(t.thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL));
        if (ti.state != ZX_THREAD_STATE_RUNNING)
            break;
    }
    EXPECT_EQ(ti.state, ZX_THREAD_STATE_BLOCKED_WAIT_ONE);
    EXPECT_OK(zx_object_signal(a, 0, ZX_USER_SIGNAL_0));
    EXPECT_OK(thr_join(&t, 10 * SEC));
    EXPECT_EQ(g_after_sleep, 1);
    thr_destroy(&t);
    zx_handle_close(a);
    zx_handle_close(b);
}
