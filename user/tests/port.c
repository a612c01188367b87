/* Ports: zx_port_create, zx_port_queue, zx_port_wait, zx_object_wait_async and
 * zx_port_cancel, with the hostile cases (full queue, handles and ports closed under
 * bindings, a port bound to itself, a reader killed while waiting, many bindings). */
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stddef.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>
#include <zircon/syscalls/port.h>

_Static_assert(sizeof(zx_port_packet_t) == 48, "packet size");
_Static_assert(offsetof(zx_port_packet_t, type) == 8, "type offset");
_Static_assert(offsetof(zx_port_packet_t, status) == 12, "status offset");
_Static_assert(offsetof(zx_port_packet_t, user) == 16, "payload offset");
_Static_assert(offsetof(zx_port_packet_t, signal.observed) == 20, "observed offset");
_Static_assert(offsetof(zx_port_packet_t, signal.count) == 24, "count offset");
_Static_assert(offsetof(zx_port_packet_t, signal.timestamp) == 32, "timestamp offset");

#define MAX_USER_PACKETS 2048 /* Zircon's per-port allowance */
#define MAX_OBSERVERS 256     /* Beryl's per-object bound (decisions.md) */

static zx_handle_t new_port(void) {
    zx_handle_t p = ZX_HANDLE_INVALID;
    zx_port_create(0, &p);
    return p;
}

static zx_handle_t new_event(void) {
    zx_handle_t e = ZX_HANDLE_INVALID;
    zx_event_create(0, &e);
    return e;
}

static zx_port_packet_t user_packet(uint64_t key, uint64_t payload) {
    zx_port_packet_t p;
    memset(&p, 0, sizeof(p));
    p.key = key;
    p.type = 0x77; /* overwritten with ZX_PKT_TYPE_USER */
    p.status = -5;
    p.user.u64[0] = payload;
    p.user.u64[3] = ~payload;
    return p;
}

static bool port_empty(zx_handle_t port) {
    zx_port_packet_t p;
    return zx_port_wait(port, 0, &p) == ZX_ERR_TIMED_OUT;
}

TEST(Port, CreateRightsAndOptions) {
    zx_handle_t port;
    ASSERT_OK(zx_port_create(0, &port));
    zx_info_handle_basic_t b = tu_basic(port);
    EXPECT_EQ(b.type, ZX_OBJ_TYPE_PORT);
    EXPECT_EQ(b.rights, ZX_DEFAULT_PORT_RIGHTS);
    EXPECT_EQ(b.rights & ZX_RIGHT_WAIT, 0u);
    zx_handle_t other = ZX_HANDLE_INVALID;
    EXPECT_STATUS(zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, &other), ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_port_create(2, &other), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_port_create(0, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(other, ZX_HANDLE_INVALID);
    zx_handle_t dup;
    ASSERT_OK(zx_handle_duplicate(port, ZX_RIGHT_SAME_RIGHTS, &dup));
    EXPECT_EQ(tu_basic(dup).koid, b.koid);
    zx_handle_close(dup);
    zx_handle_close(port);
}

TEST(Port, UserPacketsInOrder) {
    zx_handle_t port = new_port();
    for (uint64_t i = 0; i < 5; i++) {
        zx_port_packet_t p = user_packet(100 + i, i * 7);
        ASSERT_OK(zx_port_queue(port, &p));
    }
    for (uint64_t i = 0; i < 5; i++) {
        zx_port_packet_t p;
        memset(&p, 0xcc, sizeof(p));
        ASSERT_OK(zx_port_wait(port, 0, &p));
        EXPECT_EQ(p.key, 100 + i);
        EXPECT_EQ(p.type, ZX_PKT_TYPE_USER);
        EXPECT_EQ(p.status, -5);
        EXPECT_EQ(p.user.u64[0], i * 7);
        EXPECT_EQ(p.user.u64[3], ~(i * 7));
    }
    zx_time_t t0 = zx_clock_get_monotonic();
    zx_port_packet_t p;
    EXPECT_STATUS(zx_port_wait(port, zx_deadline_after(10 * TU_MS), &p), ZX_ERR_TIMED_OUT);
    EXPECT_GE(zx_clock_get_monotonic() - t0, 10 * TU_MS);
    zx_handle_close(port);
}

TEST(Port, RightsAndTypes) {
    zx_handle_t port = new_port(), ev = new_event();
    zx_port_packet_t p = user_packet(1, 2);
    zx_handle_t ro = tu_dup(port, ZX_RIGHT_READ);
    zx_handle_t wo = tu_dup(port, ZX_RIGHT_WRITE);
    EXPECT_STATUS(zx_port_queue(ro, &p), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_port_wait(wo, 0, &p), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_port_queue(ev, &p), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_port_wait(ev, 0, &p), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_port_queue(ZX_HANDLE_INVALID, &p), ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_port_queue(port, NULL), ZX_ERR_INVALID_ARGS);
    ASSERT_OK(zx_port_queue(wo, &p));
    /* A bad out pointer is refused before dequeueing: the packet is still there. */
    EXPECT_STATUS(zx_port_wait(ro, 0, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_port_wait(ro, 0, (zx_port_packet_t *)0xffff800000000000ull),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_OK(zx_port_wait(ro, 0, &p));
    EXPECT_EQ(p.key, 1u);
    zx_handle_close(ro);
    zx_handle_close(wo);
    zx_handle_close(ev);
    zx_handle_close(port);
}

TEST(Port, QueueFullSaysShouldWait) {
    zx_handle_t port = new_port(), ev = new_event();
    zx_port_packet_t p = user_packet(9, 9);
    for (int i = 0; i < MAX_USER_PACKETS; i++)
        ASSERT_OK(zx_port_queue(port, &p));
    EXPECT_STATUS(zx_port_queue(port, &p), ZX_ERR_SHOULD_WAIT);
    /* Signal packets are not user packets: a binding still delivers. */
    ASSERT_OK(zx_object_wait_async(ev, port, 55, ZX_EVENT_SIGNALED, 0));
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
    zx_port_packet_t got;
    ASSERT_OK(zx_port_wait(port, 0, &got));
    EXPECT_EQ(got.key, 9u);
    ASSERT_OK(zx_port_queue(port, &p));
    EXPECT_STATUS(zx_port_queue(port, &p), ZX_ERR_SHOULD_WAIT);
    /* Closed full, with a signal packet in it: everything is freed (userboot's leak check). */
    zx_handle_close(port);
    zx_handle_close(ev);
}

TEST(WaitAsync, LevelTriggeredOnce) {
    zx_handle_t port = new_port(), ev = new_event();
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_1));
    ASSERT_OK(zx_object_wait_async(ev, port, 0x1234, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_0, 0));
    zx_port_packet_t p;
    ASSERT_OK(zx_port_wait(port, 0, &p));
    EXPECT_EQ(p.key, 0x1234u);
    EXPECT_EQ(p.type, ZX_PKT_TYPE_SIGNAL_ONE);
    EXPECT_EQ(p.status, ZX_OK);
    EXPECT_EQ(p.signal.trigger, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_0);
    EXPECT_EQ(p.signal.observed, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_1);
    EXPECT_EQ(p.signal.count, 1u);
    EXPECT_EQ(p.signal.timestamp, 0);
    /* Once: further changes queue nothing. */
    ASSERT_OK(zx_object_signal(ev, ZX_EVENT_SIGNALED, 0));
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
    EXPECT_TRUE(port_empty(port));
    zx_handle_close(ev);
    zx_handle_close(port);
}

TEST(WaitAsync, LaterSignalQueues) {
    zx_handle_t port = new_port(), ev = new_event();
    ASSERT_OK(zx_object_wait_async(ev, port, 7, ZX_USER_SIGNAL_3, 0));
    ASSERT_OK(zx_object_signal(ev, 0, ZX_USER_SIGNAL_2));
    EXPECT_TRUE(port_empty(port));
    ASSERT_OK(zx_object_signal(ev, 0, ZX_USER_SIGNAL_3));
    zx_port_packet_t p;
    ASSERT_OK(zx_port_wait(port, 0, &p));
    EXPECT_EQ(p.key, 7u);
    EXPECT_EQ(p.signal.observed, ZX_USER_SIGNAL_2 | ZX_USER_SIGNAL_3);
    zx_handle_close(ev);
    zx_handle_close(port);
}

TEST(WaitAsync, EdgeTriggered) {
    zx_handle_t port = new_port(), ev = new_event();
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
    ASSERT_OK(zx_object_wait_async(ev, port, 1, ZX_EVENT_SIGNALED, ZX_WAIT_ASYNC_EDGE));
    EXPECT_TRUE(port_empty(port));
    /* Another bit changing while the trigger stays up is no edge. */
    ASSERT_OK(zx_object_signal(ev, 0, ZX_USER_SIGNAL_0));
    EXPECT_TRUE(port_empty(port));
    ASSERT_OK(zx_object_signal(ev, ZX_EVENT_SIGNALED, 0));
    EXPECT_TRUE(port_empty(port));
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
    zx_port_packet_t p;
    ASSERT_OK(zx_port_wait(port, 0, &p));
    EXPECT_EQ(p.key, 1u);
    EXPECT_EQ(p.signal.observed, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_0);
    zx_handle_close(ev);
    zx_handle_close(port);
}

TEST(WaitAsync, Timestamp) {
    zx_handle_t port = new_port(), ev = new_event();
    ASSERT_OK(zx_object_wait_async(ev, port, 2, ZX_EVENT_SIGNALED, ZX_WAIT_ASYNC_TIMESTAMP));
    zx_time_t before = zx_clock_get_monotonic();
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
    zx_time_t after = zx_clock_get_monotonic();
    zx_port_packet_t p;
    ASSERT_OK(zx_port_wait(port, 0, &p));
    EXPECT_GE(p.signal.timestamp, before);
    EXPECT_LE(p.signal.timestamp, after);
    ASSERT_OK(zx_object_wait_async(ev, port, 3, ZX_EVENT_SIGNALED, ZX_WAIT_ASYNC_BOOT_TIMESTAMP));
    ASSERT_OK(zx_port_wait(port, 0, &p));
    EXPECT_GE(p.signal.timestamp, before);
    zx_handle_close(ev);
    zx_handle_close(port);
}

TEST(WaitAsync, BadArguments) {
    zx_handle_t port = new_port(), ev = new_event();
    EXPECT_STATUS(zx_object_wait_async(ev, port, 0, 1, 8), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_object_wait_async(ev, port, 0, 1,
                                       ZX_WAIT_ASYNC_TIMESTAMP | ZX_WAIT_ASYNC_BOOT_TIMESTAMP),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_object_wait_async(ev, ev, 0, 1, 0), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_object_wait_async(ev, ZX_HANDLE_INVALID, 0, 1, 0), ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_object_wait_async(ZX_HANDLE_INVALID, port, 0, 1, 0), ZX_ERR_BAD_HANDLE);
    zx_handle_t ro = tu_dup(port, ZX_RIGHT_READ);
    EXPECT_STATUS(zx_object_wait_async(ev, ro, 0, 1, 0), ZX_ERR_ACCESS_DENIED);
    zx_handle_t nowait = tu_dup(ev, ZX_RIGHT_SIGNAL);
    EXPECT_STATUS(zx_object_wait_async(nowait, port, 0, 1, 0), ZX_ERR_ACCESS_DENIED);
    /* A port cannot be bound to itself (nor to another port): no WAIT right. */
    EXPECT_STATUS(zx_object_wait_async(port, port, 0, 1, 0), ZX_ERR_ACCESS_DENIED);
    zx_handle_t port2 = new_port();
    EXPECT_STATUS(zx_object_wait_async(port2, port, 0, 1, 0), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_handle_duplicate(port, ZX_DEFAULT_PORT_RIGHTS | ZX_RIGHT_WAIT, &ro),
                  ZX_ERR_INVALID_ARGS);
    zx_handle_close(ro);
    zx_handle_close(nowait);
    zx_handle_close(port2);
    EXPECT_TRUE(port_empty(port));
    zx_handle_close(ev);
    zx_handle_close(port);
}

TEST(WaitAsync, ClosingTheHandleCancels) {
    zx_handle_t port = new_port(), ev = new_event();
    zx_handle_t ev2 = tu_dup(ev, ZX_RIGHT_SAME_RIGHTS);
    ASSERT_OK(zx_object_wait_async(ev, port, 1, ZX_EVENT_SIGNALED, 0));
    ASSERT_OK(zx_handle_close(ev));
    ASSERT_OK(zx_object_signal(ev2, 0, ZX_EVENT_SIGNALED));
    EXPECT_TRUE(port_empty(port));
    /* Replacing the handle cancels too (the old value is gone). */
    ASSERT_OK(zx_object_signal(ev2, ZX_EVENT_SIGNALED, 0));
    ASSERT_OK(zx_object_wait_async(ev2, port, 2, ZX_EVENT_SIGNALED, 0));
    zx_handle_t ev3;
    ASSERT_OK(zx_handle_replace(ev2, ZX_RIGHT_SAME_RIGHTS, &ev3));
    ASSERT_OK(zx_object_signal(ev3, 0, ZX_EVENT_SIGNALED));
    EXPECT_TRUE(port_empty(port));
    /* A binding through another handle to the same object is not affected. */
    ASSERT_OK(zx_object_signal(ev3, ZX_EVENT_SIGNALED, 0));
    zx_handle_t ev4 = tu_dup(ev3, ZX_RIGHT_SAME_RIGHTS);
    ASSERT_OK(zx_object_wait_async(ev3, port, 3, ZX_EVENT_SIGNALED, 0));
    ASSERT_OK(zx_object_wait_async(ev4, port, 4, ZX_EVENT_SIGNALED, 0));
    ASSERT_OK(zx_handle_close(ev4));
    ASSERT_OK(zx_object_signal(ev3, 0, ZX_EVENT_SIGNALED));
    zx_port_packet_t p;
    ASSERT_OK(zx_port_wait(port, 0, &p));
    EXPECT_EQ(p.key, 3u);
    EXPECT_TRUE(port_empty(port));
    zx_handle_close(ev3);
    zx_handle_close(port);
}

TEST(WaitAsync, SendingTheHandleCancels) {
    zx_handle_t port = new_port(), ev = new_event(), c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_object_wait_async(ev, port, 1, ZX_EVENT_SIGNALED, 0));
    ASSERT_OK(zx_channel_write(c0, 0, NULL, 0, &ev, 1));
    zx_handle_t back;
    uint32_t nb, nh;
    ASSERT_OK(zx_channel_read(c1, 0, NULL, &back, 0, 1, &nb, &nh));
    ASSERT_OK(zx_object_signal(back, 0, ZX_EVENT_SIGNALED));
    EXPECT_TRUE(port_empty(port));
    zx_handle_close(back);
    zx_handle_close(c0);
    zx_handle_close(c1);
    zx_handle_close(port);
}

TEST(WaitAsync, ClosingThePortFreesBindings) {
    zx_handle_t ev = new_event();
    zx_handle_t res = beryl_resource();
    for (int pass = 0; pass < 2; pass++) {
        uint64_t before = tu_kmem_heap_used(res);
        zx_handle_t port = new_port();
        for (int i = 0; i < MAX_OBSERVERS; i++)
            ASSERT_OK(zx_object_wait_async(ev, port, (uint64_t)i, ZX_EVENT_SIGNALED, 0));
        zx_handle_close(port);
        /* The bindings went with the port: the event takes a full set again at once. */
        port = new_port();
        for (int i = 0; i < MAX_OBSERVERS; i++)
            ASSERT_OK(zx_object_wait_async(ev, port, (uint64_t)i, ZX_EVENT_SIGNALED, 0));
        ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
        zx_port_packet_t p;
        for (int i = 0; i < 3; i++)
            ASSERT_OK(zx_port_wait(port, 0, &p));
        zx_handle_close(port); /* 253 signal packets still queued */
        ASSERT_OK(zx_object_signal(ev, ZX_EVENT_SIGNALED, 0));
        if (pass == 1)
            EXPECT_LE(tu_kmem_heap_used(res), before);
    }
    zx_handle_close(ev);
}

TEST(WaitAsync, ManyBindingsOnOneObject) {
    zx_handle_t port = new_port(), ev = new_event();
    for (int i = 0; i < MAX_OBSERVERS; i++)
        ASSERT_OK(zx_object_wait_async(ev, port, (uint64_t)i, ZX_USER_SIGNAL_0, 0));
    EXPECT_STATUS(zx_object_wait_async(ev, port, 999, ZX_USER_SIGNAL_0, 0), ZX_ERR_NO_RESOURCES);
    zx_wait_item_t item = {ev, ZX_USER_SIGNAL_0, 0};
    EXPECT_STATUS(zx_object_wait_many(&item, 1, 0), ZX_ERR_NO_RESOURCES);
    ASSERT_OK(zx_object_signal(ev, 0, ZX_USER_SIGNAL_0));
    for (int i = 0; i < MAX_OBSERVERS; i++) {
        zx_port_packet_t p;
        ASSERT_OK(zx_port_wait(port, 0, &p));
        EXPECT_EQ(p.key, (uint64_t)i);
    }
    EXPECT_TRUE(port_empty(port));
    zx_handle_close(ev);
    zx_handle_close(port);
}

TEST(WaitAsync, ChannelSignals) {
    zx_handle_t port = new_port(), c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_object_wait_async(c0, port, 1, ZX_CHANNEL_READABLE, 0));
    ASSERT_OK(zx_object_wait_async(c0, port, 2, ZX_CHANNEL_PEER_CLOSED, 0));
    ASSERT_OK(zx_channel_write(c1, 0, "hi", 2, NULL, 0));
    zx_port_packet_t p;
    ASSERT_OK(zx_port_wait(port, 0, &p));
    EXPECT_EQ(p.key, 1u);
    EXPECT_EQ(p.signal.observed, ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE);
    zx_handle_close(c1);
    ASSERT_OK(zx_port_wait(port, 0, &p));
    EXPECT_EQ(p.key, 2u);
    EXPECT_EQ(p.signal.observed, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);
    zx_handle_close(c0);
    zx_handle_close(port);
}

TEST(WaitAsync, PortInsideTheChannelItWatches) {
    /* The port travels in the queue of the endpoint it is bound to; closing everything
     * must free the port, the binding and the message. */
    zx_handle_t res = beryl_resource();
    for (int pass = 0; pass < 2; pass++) {
        uint64_t before = tu_kmem_heap_used(res);
        zx_handle_t port = new_port(), c0, c1;
        ASSERT_OK(zx_channel_create(0, &c0, &c1));
        ASSERT_OK(zx_object_wait_async(c0, port, 1, ZX_USER_SIGNAL_0, 0));
        ASSERT_OK(zx_channel_write(c1, 0, NULL, 0, &port, 1));
        zx_handle_close(c1);
        zx_handle_close(c0);
        if (pass == 1)
            EXPECT_LE(tu_kmem_heap_used(res), before);
    }
}

TEST(PortCancel, ArmedAndQueued) {
    zx_handle_t port = new_port(), ev = new_event();
    EXPECT_STATUS(zx_port_cancel(port, ev, 1), ZX_ERR_NOT_FOUND);
    ASSERT_OK(zx_object_wait_async(ev, port, 1, ZX_EVENT_SIGNALED, 0));
    ASSERT_OK(zx_object_wait_async(ev, port, 2, ZX_EVENT_SIGNALED, 0));
    EXPECT_STATUS(zx_port_cancel(port, ev, 3), ZX_ERR_NOT_FOUND);
    EXPECT_OK(zx_port_cancel(port, ev, 1));
    EXPECT_STATUS(zx_port_cancel(port, ev, 1), ZX_ERR_NOT_FOUND);
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
    /* Key 2 fired; its packet is queued, then cancelled. User packets stay. */
    zx_port_packet_t u = user_packet(2, 0);
    ASSERT_OK(zx_port_queue(port, &u));
    EXPECT_OK(zx_port_cancel(port, ev, 2));
    zx_port_packet_t p;
    ASSERT_OK(zx_port_wait(port, 0, &p));
    EXPECT_EQ(p.type, ZX_PKT_TYPE_USER);
    EXPECT_TRUE(port_empty(port));
    EXPECT_STATUS(zx_port_cancel(ev, ev, 2), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_port_cancel(port, ZX_HANDLE_INVALID, 2), ZX_ERR_BAD_HANDLE);
    zx_handle_t ro = tu_dup(port, ZX_RIGHT_READ);
    EXPECT_STATUS(zx_port_cancel(ro, ev, 2), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(ro);
    zx_handle_close(ev);
    zx_handle_close(port);
}

TEST(PortCancel, LongQueue) {
    /* Cancelling walks a queue of 256 signal packets and 2048 user packets. */
    zx_handle_t port = new_port(), ev = new_event();
    for (int i = 0; i < MAX_OBSERVERS; i++)
        ASSERT_OK(zx_object_wait_async(ev, port, (uint64_t)(i & 1), ZX_EVENT_SIGNALED, 0));
    zx_port_packet_t u = user_packet(1, 0);
    for (int i = 0; i < MAX_USER_PACKETS; i++)
        ASSERT_OK(zx_port_queue(port, &u));
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
    EXPECT_OK(zx_port_cancel(port, ev, 1));
    int user = 0, sig = 0;
    zx_port_packet_t p;
    while (zx_port_wait(port, 0, &p) == ZX_OK) {
        if (p.type == ZX_PKT_TYPE_USER) {
            user++;
        } else {
            sig++;
            EXPECT_EQ(p.key, 0u);
        }
    }
    EXPECT_EQ(user, MAX_USER_PACKETS);
    EXPECT_EQ(sig, MAX_OBSERVERS / 2);
    zx_handle_close(ev);
    zx_handle_close(port);
}

static void block_in_port_wait(uintptr_t port, uintptr_t result) {
    zx_port_packet_t p;
    *(volatile zx_status_t *)result = zx_port_wait((zx_handle_t)port, ZX_TIME_INFINITE, &p);
    *(volatile uint64_t *)(result + 8) = p.key;
    zx_thread_exit();
}

static void wait_blocked_port(zx_handle_t thread) {
    zx_info_thread_t ti;
    do {
        zx_nanosleep(zx_deadline_after(TU_MS));
        memset(&ti, 0, sizeof(ti));
        zx_object_get_info(thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL);
    } while (ti.state != ZX_THREAD_STATE_BLOCKED_PORT);
}

TEST(Port, WaiterWokenBySignal) {
    zx_handle_t port = new_port(), ev = new_event();
    uint64_t result[2] = {1, 0};
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, block_in_port_wait, port, (uintptr_t)result));
    wait_blocked_port(t.thread);
    ASSERT_OK(zx_object_wait_async(ev, port, 42, ZX_EVENT_SIGNALED, 0));
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    EXPECT_EQ((zx_status_t)result[0], ZX_OK);
    EXPECT_EQ(result[1], 42u);
    tu_thread_destroy(&t);
    zx_handle_close(ev);
    zx_handle_close(port);
}

TEST(Port, WaiterKilledWhileBlocked) {
    zx_handle_t port = new_port();
    uint64_t result[2] = {1, 0};
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, block_in_port_wait, port, (uintptr_t)result));
    wait_blocked_port(t.thread);
    ASSERT_OK(zx_task_kill(t.thread));
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    EXPECT_EQ(result[0], 1u);
    tu_thread_destroy(&t);
    /* The port still works, and its packet goes to the next reader. */
    zx_port_packet_t u = user_packet(5, 0), p;
    ASSERT_OK(zx_port_queue(port, &u));
    ASSERT_OK(zx_port_wait(port, 0, &p));
    EXPECT_EQ(p.key, 5u);
    zx_handle_close(port);
}

TEST(Port, PortClosedUnderBlockedReader) {
    /* The reader holds its own reference: closing the handle does not free the port
     * under it, and a packet still reaches it through another handle. */
    zx_handle_t port = new_port();
    zx_handle_t port2 = tu_dup(port, ZX_RIGHT_SAME_RIGHTS);
    uint64_t result[2] = {1, 0};
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, block_in_port_wait, port, (uintptr_t)result));
    wait_blocked_port(t.thread);
    ASSERT_OK(zx_handle_close(port));
    zx_port_packet_t u = user_packet(6, 0);
    ASSERT_OK(zx_port_queue(port2, &u));
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    EXPECT_EQ((zx_status_t)result[0], ZX_OK);
    EXPECT_EQ(result[1], 6u);
    tu_thread_destroy(&t);
    zx_handle_close(port2);
}

/* The race of a port's last close: bindings fire, and a reader that holds the port
 * without a handle frees their packets, while on_zero_handles cancels the rest. */
#define RACE_EVENTS 8
#define RACE_ROUNDS 60

struct race {
    zx_handle_t port;
    zx_handle_t ev[RACE_EVENTS];
    volatile int stop;
};

static void race_reader(uintptr_t arg, uintptr_t unused) {
    (void)unused;
    struct race *r = (struct race *)arg;
    zx_port_packet_t p;
    while (zx_port_wait(r->port, ZX_TIME_INFINITE, &p) == ZX_OK) {
    }
    zx_thread_exit();
}

static void race_signaller(uintptr_t arg, uintptr_t unused) {
    (void)unused;
    struct race *r = (struct race *)arg;
    for (uint32_t i = 0; !r->stop; i++) {
        zx_object_signal(r->ev[i % RACE_EVENTS], 0, ZX_USER_SIGNAL_0);
        zx_object_signal(r->ev[i % RACE_EVENTS], ZX_USER_SIGNAL_0, 0);
    }
    zx_thread_exit();
}

TEST(Port, LastCloseRacesFiresAndReader) {
    static struct race r;
    for (int i = 0; i < RACE_EVENTS; i++)
        ASSERT_OK(zx_event_create(0, &r.ev[i]));
    for (int round = 0; round < RACE_ROUNDS; round++) {
        ASSERT_OK(zx_port_create(0, &r.port));
        for (int i = 0; i < RACE_EVENTS; i++)
            for (int k = 0; k < 16; k++)
                ASSERT_OK(zx_object_wait_async(r.ev[i], r.port, (uint64_t)k, ZX_USER_SIGNAL_0,
                                               k & 1 ? ZX_WAIT_ASYNC_EDGE : 0));
        r.stop = 0;
        tu_thread_t reader, signaller;
        ASSERT_OK(tu_thread_create(&reader));
        ASSERT_OK(tu_thread_create(&signaller));
        ASSERT_OK(tu_thread_start(&reader, race_reader, (uintptr_t)&r, 0));
        ASSERT_OK(tu_thread_start(&signaller, race_signaller, (uintptr_t)&r, 0));
        wait_blocked_port(reader.thread);
        zx_nanosleep(zx_deadline_after((round % 4) * 100000));
        ASSERT_OK(zx_handle_close(r.port)); /* the reader keeps the port alive */
        r.stop = 1;
        EXPECT_OK(tu_thread_join(&signaller, 10 * TU_SEC));
        ASSERT_OK(zx_task_kill(reader.thread));
        EXPECT_OK(tu_thread_join(&reader, 10 * TU_SEC));
        tu_thread_destroy(&reader);
        tu_thread_destroy(&signaller);
    }
    /* No binding is left on the events: each takes a full set again. */
    zx_handle_t port = new_port();
    for (int i = 0; i < RACE_EVENTS; i++)
        for (int k = 0; k < MAX_OBSERVERS; k++)
            ASSERT_OK(zx_object_wait_async(r.ev[i], port, 0, ZX_USER_SIGNAL_1, 0));
    zx_handle_close(port);
    for (int i = 0; i < RACE_EVENTS; i++)
        zx_handle_close(r.ev[i]);
}
