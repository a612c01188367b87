/* Timers: zx_timer_create, zx_timer_set, zx_timer_cancel and ZX_TIMER_SIGNALED, alone and
 * through ports and zx_object_wait_many; many timers sharing a deadline. */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>
#include <zircon/syscalls/port.h>

static zx_handle_t new_timer(void) {
    zx_handle_t t = ZX_HANDLE_INVALID;
    zx_timer_create(ZX_TIMER_SLACK_CENTER, ZX_CLOCK_MONOTONIC, &t);
    return t;
}

static bool signaled(zx_handle_t t) {
    return zx_object_wait_one(t, ZX_TIMER_SIGNALED, 0, NULL) == ZX_OK;
}

TEST(Timer, CreateRightsAndArgs) {
    zx_handle_t t;
    for (uint32_t opt = ZX_TIMER_SLACK_CENTER; opt <= ZX_TIMER_SLACK_LATE; opt++) {
        ASSERT_OK(zx_timer_create(opt, ZX_CLOCK_MONOTONIC, &t));
        EXPECT_EQ(tu_basic(t).type, ZX_OBJ_TYPE_TIMER);
        EXPECT_EQ(tu_basic(t).rights, ZX_DEFAULT_TIMER_RIGHTS);
        EXPECT_FALSE(signaled(t));
        zx_handle_close(t);
    }
    t = ZX_HANDLE_INVALID;
    EXPECT_STATUS(zx_timer_create(3, ZX_CLOCK_MONOTONIC, &t), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_timer_create(0, 5, &t), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_timer_create(0, ZX_CLOCK_MONOTONIC, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(t, ZX_HANDLE_INVALID);
}

TEST(Timer, FiresAtDeadline) {
    zx_handle_t t = new_timer();
    zx_time_t deadline = zx_deadline_after(20 * TU_MS);
    ASSERT_OK(zx_timer_set(t, deadline, 0));
    EXPECT_FALSE(signaled(t));
    zx_signals_t s = 0;
    ASSERT_OK(zx_object_wait_one(t, ZX_TIMER_SIGNALED, zx_deadline_after(10 * TU_SEC), &s));
    EXPECT_GE(zx_clock_get_monotonic(), deadline);
    EXPECT_EQ(s, ZX_TIMER_SIGNALED);
    /* Stays signalled until set again or cancelled. */
    EXPECT_TRUE(signaled(t));
    zx_handle_close(t);
}

TEST(Timer, PastDeadlineFiresAtOnce) {
    zx_handle_t t = new_timer();
    ASSERT_OK(zx_timer_set(t, 0, 0));
    EXPECT_OK(zx_object_wait_one(t, ZX_TIMER_SIGNALED, zx_deadline_after(10 * TU_SEC), NULL));
    ASSERT_OK(zx_timer_set(t, ZX_TIME_INFINITE_PAST, 0));
    EXPECT_OK(zx_object_wait_one(t, ZX_TIMER_SIGNALED, zx_deadline_after(10 * TU_SEC), NULL));
    zx_handle_close(t);
}

TEST(Timer, SetClearsAndCancelDisarms) {
    zx_handle_t t = new_timer();
    ASSERT_OK(zx_timer_set(t, 0, 0));
    ASSERT_OK(zx_object_wait_one(t, ZX_TIMER_SIGNALED, zx_deadline_after(10 * TU_SEC), NULL));
    /* Setting again clears the signal at once. */
    ASSERT_OK(zx_timer_set(t, ZX_TIME_INFINITE, 0));
    EXPECT_FALSE(signaled(t));
    /* Cancel disarms: a short deadline then cancelled never fires. */
    ASSERT_OK(zx_timer_set(t, zx_deadline_after(5 * TU_MS), 0));
    ASSERT_OK(zx_timer_cancel(t));
    EXPECT_STATUS(zx_object_wait_one(t, ZX_TIMER_SIGNALED, zx_deadline_after(30 * TU_MS), NULL),
                  ZX_ERR_TIMED_OUT);
    /* Cancel clears a fired timer's signal; cancelling a disarmed timer is fine. */
    ASSERT_OK(zx_timer_set(t, 0, 0));
    ASSERT_OK(zx_object_wait_one(t, ZX_TIMER_SIGNALED, zx_deadline_after(10 * TU_SEC), NULL));
    ASSERT_OK(zx_timer_cancel(t));
    EXPECT_FALSE(signaled(t));
    EXPECT_OK(zx_timer_cancel(t));
    /* A later setting replaces an earlier one. */
    ASSERT_OK(zx_timer_set(t, zx_deadline_after(5 * TU_MS), 0));
    ASSERT_OK(zx_timer_set(t, ZX_TIME_INFINITE, 0));
    EXPECT_STATUS(zx_object_wait_one(t, ZX_TIMER_SIGNALED, zx_deadline_after(30 * TU_MS), NULL),
                  ZX_ERR_TIMED_OUT);
    zx_handle_close(t);
}

TEST(Timer, SetAndCancelChecks) {
    zx_handle_t t = new_timer(), ev;
    ASSERT_OK(zx_event_create(0, &ev));
    EXPECT_STATUS(zx_timer_set(t, 0, -1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_FALSE(signaled(t));
    EXPECT_STATUS(zx_timer_set(ev, 0, 0), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_timer_cancel(ev), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_timer_set(ZX_HANDLE_INVALID, 0, 0), ZX_ERR_BAD_HANDLE);
    zx_handle_t ro = tu_dup(t, ZX_RIGHT_WAIT);
    EXPECT_STATUS(zx_timer_set(ro, 0, 0), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_timer_cancel(ro), ZX_ERR_ACCESS_DENIED);
    /* Timers accept user signals, not their own. */
    EXPECT_OK(zx_object_signal(t, 0, ZX_USER_SIGNAL_0));
    EXPECT_STATUS(zx_object_signal(t, 0, ZX_TIMER_SIGNALED), ZX_ERR_INVALID_ARGS);
    EXPECT_OK(zx_timer_set(t, 0, 1000000));
    EXPECT_OK(zx_object_wait_one(ro, ZX_TIMER_SIGNALED, zx_deadline_after(10 * TU_SEC), NULL));
    zx_handle_close(ro);
    zx_handle_close(ev);
    zx_handle_close(t);
}

TEST(Timer, ThroughPortAndWaitMany) {
    zx_handle_t t1 = new_timer(), t2 = new_timer(), port;
    ASSERT_OK(zx_port_create(0, &port));
    ASSERT_OK(zx_object_wait_async(t1, port, 11, ZX_TIMER_SIGNALED, ZX_WAIT_ASYNC_TIMESTAMP));
    zx_time_t deadline = zx_deadline_after(10 * TU_MS);
    ASSERT_OK(zx_timer_set(t1, deadline, 0));
    zx_port_packet_t p;
    ASSERT_OK(zx_port_wait(port, zx_deadline_after(10 * TU_SEC), &p));
    EXPECT_EQ(p.key, 11u);
    EXPECT_EQ(p.signal.observed, ZX_TIMER_SIGNALED);
    EXPECT_GE(p.signal.timestamp, deadline);
    ASSERT_OK(zx_timer_set(t2, zx_deadline_after(10 * TU_MS), 0));
    zx_wait_item_t items[2] = {{t1, ZX_USER_SIGNAL_0, 0}, {t2, ZX_TIMER_SIGNALED, 0}};
    ASSERT_OK(zx_object_wait_many(items, 2, zx_deadline_after(10 * TU_SEC)));
    EXPECT_EQ(items[0].pending, ZX_TIMER_SIGNALED);
    EXPECT_EQ(items[1].pending, ZX_TIMER_SIGNALED);
    zx_handle_close(port);
    zx_handle_close(t1);
    zx_handle_close(t2);
}

TEST(Timer, ClosedWhileArmed) {
    zx_handle_t res = beryl_resource();
    for (int pass = 0; pass < 2; pass++) {
        uint64_t before = tu_kmem_heap_used(res);
        for (int i = 0; i < 50; i++) {
            zx_handle_t t = new_timer();
            ASSERT_OK(zx_timer_set(t, zx_deadline_after((i % 5) * TU_MS), 0));
            zx_handle_close(t);
        }
        zx_nanosleep(zx_deadline_after(10 * TU_MS)); /* the deadlines pass with no timer */
        if (pass == 1)
            EXPECT_LE(tu_kmem_heap_used(res), before);
    }
}

#define SHARED 300 /* more than one batch of the timer thread */

TEST(Timer, ManyShareOneDeadline) {
    static zx_handle_t t[SHARED];
    zx_time_t deadline = zx_deadline_after(20 * TU_MS);
    for (int i = 0; i < SHARED; i++) {
        t[i] = new_timer();
        ASSERT_NE(t[i], ZX_HANDLE_INVALID);
        ASSERT_OK(zx_timer_set(t[i], deadline + (i % 3), 0));
    }
    /* Cancel a third, in the middle of the chains. */
    for (int i = 0; i < SHARED; i += 3)
        ASSERT_OK(zx_timer_cancel(t[i]));
    for (int i = 0; i < SHARED; i++) {
        if (i % 3 == 0)
            continue;
        ASSERT_OK(zx_object_wait_one(t[i], ZX_TIMER_SIGNALED, zx_deadline_after(10 * TU_SEC),
                                     NULL));
    }
    for (int i = 0; i < SHARED; i += 3)
        EXPECT_FALSE(signaled(t[i]));
    for (int i = 0; i < SHARED; i++)
        zx_handle_close(t[i]);
}
