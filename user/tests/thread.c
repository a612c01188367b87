/* Threads in our own process: create / start / exit / kill, sleeping, preemption. */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

static volatile uintptr_t g_value;

static void set_value(uintptr_t arg1, uintptr_t arg2) {
    (void)arg2;
    g_value = arg1;
    zx_thread_exit();
}

TEST(Thread, StartSetsValueAndExits) {
    tu_thread_t t;
    g_value = 0;
    ASSERT_OK(tu_thread_create(&t));
    EXPECT_OK(tu_thread_start(&t, set_value, 0x1234abcd, 0));
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    EXPECT_EQ(g_value, 0x1234abcdu);
    zx_info_handle_basic_t b;
    EXPECT_OK(zx_object_get_info(t.thread, ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL));
    EXPECT_EQ(b.type, ZX_OBJ_TYPE_THREAD);
    zx_info_handle_basic_t pb;
    EXPECT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_HANDLE_BASIC, &pb, sizeof(pb), NULL,
                                 NULL));
    EXPECT_EQ(b.related_koid, pb.koid);
    tu_thread_destroy(&t);
}

TEST(Thread, CreateNeverStarted) {
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    zx_info_thread_t ti;
    EXPECT_OK(zx_object_get_info(t.thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL));
    EXPECT_EQ(ti.state, ZX_THREAD_STATE_NEW);
    tu_thread_destroy(&t);
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
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    EXPECT_OK(tu_thread_start(&t, set_value, 1, 0));
    EXPECT_STATUS(tu_thread_start(&t, set_value, 2, 0), ZX_ERR_BAD_STATE);
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    EXPECT_STATUS(tu_thread_start(&t, set_value, 3, 0), ZX_ERR_BAD_STATE);
    tu_thread_destroy(&t);
}

TEST(Thread, StartBadEntry) {
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    EXPECT_STATUS(zx_thread_start(t.thread, 0, t.stack + TU_STACK_SIZE - 8, 0, 0),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_thread_start(t.thread, 0xffffffff80000000ull, t.stack + TU_STACK_SIZE - 8, 0,
                                  0),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_thread_start(t.thread, 0x0000900000000000ull, t.stack + TU_STACK_SIZE - 8, 0,
                                  0),
                  ZX_ERR_INVALID_ARGS);
    /* Still startable. */
    EXPECT_OK(tu_thread_start(&t, set_value, 7, 0));
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    tu_thread_destroy(&t);
}

#define NSLEEPERS 16
static volatile int g_woke[NSLEEPERS];
static zx_time_t g_sleep_base;

static void sleeper(uintptr_t i, uintptr_t arg2) {
    (void)arg2;
    zx_time_t deadline = g_sleep_base + (zx_time_t)(i + 1) * 5 * TU_MS;
    zx_nanosleep(deadline);
    g_woke[i] = zx_clock_get_monotonic() >= deadline ? 1 : 2;
    zx_thread_exit();
}

TEST(Thread, ManySleepersAllWake) {
    tu_thread_t t[NSLEEPERS];
    memset(t, 0, sizeof(t));
    g_sleep_base = zx_clock_get_monotonic();
    for (int i = 0; i < NSLEEPERS; i++) {
        g_woke[i] = 0;
        zx_status_t st = tu_thread_create(&t[i]);
        EXPECT_OK(st);
        if (st == ZX_OK)
            EXPECT_OK(tu_thread_start(&t[i], sleeper, (uintptr_t)i, 0));
    }
    for (int i = 0; i < NSLEEPERS; i++) {
        if (t[i].thread) {
            EXPECT_OK(tu_thread_join(&t[i], 10 * TU_SEC));
            EXPECT_EQ(g_woke[i], 1);
        }
        tu_thread_destroy(&t[i]);
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
    tu_thread_t t;
    g_spins = 0;
    g_stop = 0;
    ASSERT_OK(tu_thread_create(&t));
    EXPECT_OK(tu_thread_start(&t, spinner, 0, 0));
    zx_time_t t0 = zx_clock_get_monotonic();
    EXPECT_OK(zx_nanosleep(t0 + 50 * TU_MS));
    zx_time_t t1 = zx_clock_get_monotonic();
    uint64_t s1 = g_spins;
    EXPECT_GT(s1, 0u);
    EXPECT_LT(t1 - t0, 5 * TU_SEC); /* the main thread got the CPU back */
    zx_nanosleep(zx_deadline_after(20 * TU_MS));
    EXPECT_GT(g_spins, s1);
    g_stop = 1;
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    tu_thread_destroy(&t);
}

TEST(Thread, ClockMonotonicAndNanosleep) {
    zx_time_t a = zx_clock_get_monotonic();
    zx_time_t b = zx_clock_get_monotonic();
    EXPECT_GE(b, a);
    EXPECT_GT(a, 0);
    for (int i = 0; i < 3; i++) {
        zx_time_t start = zx_clock_get_monotonic();
        zx_duration_t d = (i + 1) * 10 * TU_MS;
        EXPECT_OK(zx_nanosleep(start + d));
        zx_time_t end = zx_clock_get_monotonic();
        EXPECT_GE(end - start, d);
        EXPECT_LT(end - start, d + 5 * TU_SEC);
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
    tu_thread_t t;
    g_after_sleep = 0;
    ASSERT_OK(tu_thread_create(&t));
    EXPECT_OK(tu_thread_start(&t, sleep_forever, 0, 0));
    zx_nanosleep(zx_deadline_after(20 * TU_MS));
    zx_info_thread_t ti;
    EXPECT_OK(zx_object_get_info(t.thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL));
    EXPECT_EQ(ti.state, ZX_THREAD_STATE_BLOCKED_SLEEPING);
    EXPECT_EQ(ZX_THREAD_STATE_BASIC(ti.state), ZX_THREAD_STATE_BLOCKED);
    EXPECT_OK(zx_task_kill(t.thread));
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    EXPECT_EQ(g_after_sleep, 0);
    EXPECT_OK(zx_object_get_info(t.thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL));
    EXPECT_EQ(ti.state, ZX_THREAD_STATE_DEAD);
    tu_thread_destroy(&t);
}

TEST(Thread, KillSpinningThread) {
    tu_thread_t t;
    g_stop = 0;
    ASSERT_OK(tu_thread_create(&t));
    EXPECT_OK(tu_thread_start(&t, spinner, 0, 0));
    zx_nanosleep(zx_deadline_after(10 * TU_MS));
    EXPECT_OK(zx_task_kill(t.thread));
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    tu_thread_destroy(&t);
}

TEST(Thread, KillNeedsDestroyRight) {
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    zx_handle_t weak;
    ASSERT_OK(zx_handle_duplicate(t.thread, ZX_RIGHTS_BASIC, &weak));
    EXPECT_STATUS(zx_task_kill(weak), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_thread_start(weak, (zx_vaddr_t)set_value, t.stack + TU_STACK_SIZE - 8, 0, 0),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_handle_close(weak));
    tu_thread_destroy(&t);
}

static void wait_on_handle(uintptr_t h, uintptr_t a2) {
    (void)a2;
    zx_object_wait_one((zx_handle_t)h, ZX_USER_SIGNAL_0, ZX_TIME_INFINITE, NULL);
    g_after_sleep = 1;
    zx_thread_exit();
}

/* A thread in zx_object_wait_one reports BLOCKED_WAIT_ONE, and RUNNING once woken. */
TEST(Thread, InfoStateWaitOne) {
    tu_thread_t t;
    zx_handle_t a, b;
    g_after_sleep = 0;
    ASSERT_OK(zx_channel_create(0, &a, &b));
    ASSERT_OK(tu_thread_create(&t));
    EXPECT_OK(tu_thread_start(&t, wait_on_handle, a, 0));
    zx_info_thread_t ti;
    for (int i = 0; i < 100; i++) {
        zx_nanosleep(zx_deadline_after(2 * TU_MS));
        EXPECT_OK(zx_object_get_info(t.thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL));
        if (ti.state != ZX_THREAD_STATE_RUNNING)
            break;
    }
    EXPECT_EQ(ti.state, ZX_THREAD_STATE_BLOCKED_WAIT_ONE);
    EXPECT_OK(zx_object_signal(a, 0, ZX_USER_SIGNAL_0));
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    EXPECT_EQ(g_after_sleep, 1);
    tu_thread_destroy(&t);
    zx_handle_close(a);
    zx_handle_close(b);
}
