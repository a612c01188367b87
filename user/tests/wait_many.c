/* zx_object_wait_many: waking, timeouts, argument checks, handles closed during the wait,
 * many waiters on one object, a waiter killed while blocked. */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

/* Sleeps until thread is blocked in `state` (so a later event surely finds it waiting). */
static void wait_blocked(zx_handle_t thread, uint32_t state) {
    zx_info_thread_t ti;
    do {
        zx_nanosleep(zx_deadline_after(TU_MS));
        memset(&ti, 0, sizeof(ti));
        zx_object_get_info(thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL);
    } while (ti.state != state);
}

TEST(WaitMany, AlreadySignaled) {
    zx_handle_t e0, e1;
    ASSERT_OK(zx_event_create(0, &e0));
    ASSERT_OK(zx_event_create(0, &e1));
    ASSERT_OK(zx_object_signal(e1, 0, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_1));
    zx_wait_item_t items[2] = {{e0, ZX_EVENT_SIGNALED, 0x55}, {e1, ZX_EVENT_SIGNALED, 0x55}};
    EXPECT_OK(zx_object_wait_many(items, 2, ZX_TIME_INFINITE));
    EXPECT_EQ(items[0].pending, 0u);
    EXPECT_EQ(items[1].pending, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_1);
    EXPECT_EQ(items[0].handle, e0);
    EXPECT_EQ(items[1].waitfor, ZX_EVENT_SIGNALED);
    zx_handle_close(e0);
    zx_handle_close(e1);
}

TEST(WaitMany, TimesOutWithPending) {
    zx_handle_t e0, e1;
    ASSERT_OK(zx_event_create(0, &e0));
    ASSERT_OK(zx_event_create(0, &e1));
    ASSERT_OK(zx_object_signal(e0, 0, ZX_USER_SIGNAL_2));
    zx_wait_item_t items[2] = {{e0, ZX_EVENT_SIGNALED, 0}, {e1, ZX_EVENT_SIGNALED, 7}};
    zx_time_t t0 = zx_clock_get_monotonic();
    EXPECT_STATUS(zx_object_wait_many(items, 2, zx_deadline_after(20 * TU_MS)), ZX_ERR_TIMED_OUT);
    EXPECT_GE(zx_clock_get_monotonic() - t0, 20 * TU_MS);
    EXPECT_EQ(items[0].pending, ZX_USER_SIGNAL_2);
    EXPECT_EQ(items[1].pending, 0u);
    EXPECT_STATUS(zx_object_wait_many(items, 2, 0), ZX_ERR_TIMED_OUT);
    EXPECT_STATUS(zx_object_wait_many(items, 2, ZX_TIME_INFINITE_PAST), ZX_ERR_TIMED_OUT);
    zx_handle_close(e0);
    zx_handle_close(e1);
}

TEST(WaitMany, ZeroItemsSleeps) {
    zx_time_t t0 = zx_clock_get_monotonic();
    EXPECT_STATUS(zx_object_wait_many(NULL, 0, zx_deadline_after(10 * TU_MS)), ZX_ERR_TIMED_OUT);
    EXPECT_GE(zx_clock_get_monotonic() - t0, 10 * TU_MS);
    EXPECT_STATUS(zx_object_wait_many(NULL, 0, 0), ZX_ERR_TIMED_OUT);
}

TEST(WaitMany, BadArguments) {
    zx_handle_t ev;
    ASSERT_OK(zx_event_create(0, &ev));
    zx_wait_item_t items[ZX_WAIT_MANY_MAX_ITEMS + 1];
    for (size_t i = 0; i < ZX_WAIT_MANY_MAX_ITEMS + 1; i++)
        items[i] = (zx_wait_item_t){ev, ZX_EVENT_SIGNALED, 0};
    EXPECT_STATUS(zx_object_wait_many(items, ZX_WAIT_MANY_MAX_ITEMS + 1, 0), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_object_wait_many(items, ZX_WAIT_MANY_MAX_ITEMS, 0), ZX_ERR_TIMED_OUT);
    EXPECT_STATUS(zx_object_wait_many(NULL, 1, 0), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_object_wait_many((zx_wait_item_t *)0xffff800000001000ull, 1, 0),
                  ZX_ERR_INVALID_ARGS);
    items[1].handle = ZX_HANDLE_INVALID;
    EXPECT_STATUS(zx_object_wait_many(items, 3, 0), ZX_ERR_BAD_HANDLE);
    zx_handle_t nowait = tu_dup(ev, ZX_RIGHT_SIGNAL);
    items[1].handle = nowait;
    EXPECT_STATUS(zx_object_wait_many(items, 3, 0), ZX_ERR_ACCESS_DENIED);
    /* The first bad item decides. */
    items[2].handle = ZX_HANDLE_INVALID;
    EXPECT_STATUS(zx_object_wait_many(items, 3, 0), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(nowait);
    zx_handle_close(ev);
}

TEST(WaitMany, ReadOnlyItemsFailAtCopyOut) {
    zx_handle_t ev, vmo;
    ASSERT_OK(zx_event_create(0, &ev));
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    zx_wait_item_t item = {ev, ZX_EVENT_SIGNALED, 0};
    ASSERT_OK(zx_vmo_write(vmo, &item, 0, sizeof(item)));
    zx_vaddr_t ro;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, vmo, 0, 4096, &ro));
    EXPECT_STATUS(zx_object_wait_many((zx_wait_item_t *)ro, 1, 0), ZX_ERR_INVALID_ARGS);
    zx_vmar_unmap(zx_vmar_root_self(), ro, 4096);
    zx_handle_close(vmo);
    zx_handle_close(ev);
}

static void signal_when_blocked(uintptr_t thread, uintptr_t ev) {
    wait_blocked((zx_handle_t)thread, ZX_THREAD_STATE_BLOCKED_WAIT_MANY);
    zx_object_signal((zx_handle_t)ev, 0, ZX_USER_SIGNAL_0);
    zx_thread_exit();
}

TEST(WaitMany, WokenBySignal) {
    zx_handle_t ev[3];
    for (int i = 0; i < 3; i++)
        ASSERT_OK(zx_event_create(0, &ev[i]));
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, signal_when_blocked, zx_thread_self(), ev[2]));
    zx_wait_item_t items[3];
    for (int i = 0; i < 3; i++)
        items[i] = (zx_wait_item_t){ev[i], ZX_USER_SIGNAL_0, 0};
    EXPECT_OK(zx_object_wait_many(items, 3, zx_deadline_after(10 * TU_SEC)));
    EXPECT_EQ(items[0].pending, 0u);
    EXPECT_EQ(items[2].pending, ZX_USER_SIGNAL_0);
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    tu_thread_destroy(&t);
    for (int i = 0; i < 3; i++)
        zx_handle_close(ev[i]);
}

static void close_when_blocked(uintptr_t thread, uintptr_t h) {
    wait_blocked((zx_handle_t)thread, ZX_THREAD_STATE_BLOCKED_WAIT_MANY);
    zx_handle_close((zx_handle_t)h);
    zx_thread_exit();
}

TEST(WaitMany, HandleClosedDuringWaitCancels) {
    zx_handle_t e0, e1;
    ASSERT_OK(zx_event_create(0, &e0));
    ASSERT_OK(zx_event_create(0, &e1));
    zx_handle_t e1b = tu_dup(e1, ZX_RIGHT_SAME_RIGHTS); /* the object outlives the close */
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, close_when_blocked, zx_thread_self(), e1));
    zx_wait_item_t items[2] = {{e0, ZX_EVENT_SIGNALED, 0}, {e1, ZX_EVENT_SIGNALED, 0}};
    EXPECT_STATUS(zx_object_wait_many(items, 2, zx_deadline_after(10 * TU_SEC)),
                  ZX_ERR_CANCELED);
    EXPECT_EQ(items[0].pending, 0u);
    EXPECT_EQ(items[1].pending, ZX_SIGNAL_HANDLE_CLOSED);
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    tu_thread_destroy(&t);
    zx_handle_close(e0);
    zx_handle_close(e1b);
}

static void close_when_blocked_one(uintptr_t thread, uintptr_t h) {
    wait_blocked((zx_handle_t)thread, ZX_THREAD_STATE_BLOCKED_WAIT_ONE);
    zx_handle_close((zx_handle_t)h);
    zx_thread_exit();
}

TEST(WaitOne, HandleClosedReportsHandleClosed) {
    zx_handle_t ev;
    ASSERT_OK(zx_event_create(0, &ev));
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, close_when_blocked_one, zx_thread_self(), ev));
    zx_signals_t s = 0;
    EXPECT_STATUS(zx_object_wait_one(ev, ZX_EVENT_SIGNALED, zx_deadline_after(10 * TU_SEC), &s),
                  ZX_ERR_CANCELED);
    EXPECT_EQ(s, ZX_SIGNAL_HANDLE_CLOSED);
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    tu_thread_destroy(&t);
}

TEST(WaitMany, SameHandleTwiceAndMixedKinds) {
    zx_handle_t ev, c0, c1;
    ASSERT_OK(zx_event_create(0, &ev));
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    zx_wait_item_t items[3] = {{ev, ZX_EVENT_SIGNALED, 0},
                               {ev, ZX_USER_SIGNAL_0, 0},
                               {c0, ZX_CHANNEL_READABLE, 0}};
    ASSERT_OK(zx_channel_write(c1, 0, "x", 1, NULL, 0));
    EXPECT_OK(zx_object_wait_many(items, 3, 0));
    EXPECT_EQ(items[0].pending, 0u);
    EXPECT_EQ(items[1].pending, 0u);
    EXPECT_EQ(items[2].pending, ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE);
    zx_handle_close(c1);
    items[2].waitfor = ZX_CHANNEL_PEER_CLOSED;
    EXPECT_OK(zx_object_wait_many(items, 3, 0));
    EXPECT_EQ(items[2].pending & ZX_CHANNEL_PEER_CLOSED, ZX_CHANNEL_PEER_CLOSED);
    zx_handle_close(c0);
    zx_handle_close(ev);
}

/* A full-size wait on one event (64 observers on it). */
static void wait_full(uintptr_t ev, uintptr_t result) {
    zx_wait_item_t items[ZX_WAIT_MANY_MAX_ITEMS];
    for (size_t i = 0; i < ZX_WAIT_MANY_MAX_ITEMS; i++)
        items[i] = (zx_wait_item_t){(zx_handle_t)ev, ZX_EVENT_SIGNALED, 0};
    *(volatile zx_status_t *)result =
        zx_object_wait_many(items, ZX_WAIT_MANY_MAX_ITEMS, zx_deadline_after(30 * TU_SEC));
    zx_thread_exit();
}

#define FULL_WAITERS 4 /* 4 x 64 observers: the most one object holds */

TEST(WaitMany, ManyWaitersOnOneObject) {
    zx_handle_t ev;
    ASSERT_OK(zx_event_create(0, &ev));
    tu_thread_t t[FULL_WAITERS];
    zx_status_t result[FULL_WAITERS];
    for (int i = 0; i < FULL_WAITERS; i++) {
        result[i] = 1;
        ASSERT_OK(tu_thread_create(&t[i]));
        ASSERT_OK(tu_thread_start(&t[i], wait_full, ev, (uintptr_t)&result[i]));
    }
    for (int i = 0; i < FULL_WAITERS; i++)
        wait_blocked(t[i].thread, ZX_THREAD_STATE_BLOCKED_WAIT_MANY);
    /* The object is full: one more wait is refused, and the blocked ones are untouched. */
    zx_wait_item_t one = {ev, ZX_EVENT_SIGNALED, 0};
    EXPECT_STATUS(zx_object_wait_many(&one, 1, 0), ZX_ERR_NO_RESOURCES);
    /* wait_one does not use observers. */
    EXPECT_STATUS(zx_object_wait_one(ev, ZX_EVENT_SIGNALED, 0, NULL), ZX_ERR_TIMED_OUT);
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
    for (int i = 0; i < FULL_WAITERS; i++) {
        EXPECT_OK(tu_thread_join(&t[i], 30 * TU_SEC));
        EXPECT_EQ(result[i], ZX_OK);
        tu_thread_destroy(&t[i]);
    }
    /* All observers are gone again. */
    EXPECT_OK(zx_object_wait_many(&one, 1, 0));
    zx_handle_close(ev);
}

TEST(WaitMany, WaiterKilledWhileBlocked) {
    zx_handle_t ev;
    ASSERT_OK(zx_event_create(0, &ev));
    tu_thread_t t;
    zx_status_t result = 1;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, wait_full, ev, (uintptr_t)&result));
    wait_blocked(t.thread, ZX_THREAD_STATE_BLOCKED_WAIT_MANY);
    ASSERT_OK(zx_task_kill(t.thread));
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    EXPECT_EQ(result, 1);
    tu_thread_destroy(&t);
    /* Its observers went with it: signalling touches nothing stale, and the object takes
     * the full number of observers again. */
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
    zx_wait_item_t items[ZX_WAIT_MANY_MAX_ITEMS];
    for (size_t i = 0; i < ZX_WAIT_MANY_MAX_ITEMS; i++)
        items[i] = (zx_wait_item_t){ev, ZX_EVENT_SIGNALED, 0};
    EXPECT_OK(zx_object_wait_many(items, ZX_WAIT_MANY_MAX_ITEMS, 0));
    zx_handle_close(ev);
}
