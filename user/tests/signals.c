/* The signals processes, threads, VMOs and channels assert, seen through every way of
 * waiting: zx_object_wait_one, zx_object_wait_many and port bindings. */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>
#include <zircon/syscalls/port.h>

static zx_signals_t signals_of(zx_handle_t h) {
    zx_signals_t s = 0;
    zx_object_wait_one(h, ~0u, 0, &s);
    return s;
}

TEST(Signals, ProcessTerminatedThroughPort) {
    zx_handle_t proc, vmar, port;
    ASSERT_OK(zx_process_create(zx_job_default(), "sig-child", 9, 0, &proc, &vmar));
    ASSERT_OK(zx_port_create(0, &port));
    EXPECT_EQ(signals_of(proc), 0u);
    ASSERT_OK(zx_object_wait_async(proc, port, 1, ZX_PROCESS_TERMINATED, 0));
    ASSERT_OK(zx_task_kill(proc));
    zx_port_packet_t p;
    ASSERT_OK(zx_port_wait(port, zx_deadline_after(10 * TU_SEC), &p));
    EXPECT_EQ(p.key, 1u);
    EXPECT_EQ(p.signal.observed & ZX_PROCESS_TERMINATED, ZX_PROCESS_TERMINATED);
    zx_handle_close(vmar);
    zx_handle_close(proc);
    zx_handle_close(port);
}

static void sleep_then_exit(uintptr_t ev, uintptr_t unused) {
    (void)unused;
    zx_object_wait_one((zx_handle_t)ev, ZX_EVENT_SIGNALED, ZX_TIME_INFINITE, NULL);
    zx_thread_exit();
}

TEST(Signals, ThreadRunningThenTerminated) {
    zx_handle_t port, ev;
    ASSERT_OK(zx_port_create(0, &port));
    ASSERT_OK(zx_event_create(0, &ev));
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    EXPECT_EQ(signals_of(t.thread), 0u);
    ASSERT_OK(zx_object_wait_async(t.thread, port, 1, ZX_THREAD_RUNNING, 0));
    ASSERT_OK(zx_object_wait_async(t.thread, port, 2, ZX_THREAD_TERMINATED, 0));
    ASSERT_OK(tu_thread_start(&t, sleep_then_exit, ev, 0));
    zx_port_packet_t p;
    ASSERT_OK(zx_port_wait(port, zx_deadline_after(10 * TU_SEC), &p));
    EXPECT_EQ(p.key, 1u);
    EXPECT_EQ(p.signal.observed, ZX_THREAD_RUNNING);
    zx_wait_item_t items[2] = {{t.thread, ZX_THREAD_TERMINATED, 0}, {ev, ZX_USER_SIGNAL_0, 0}};
    EXPECT_STATUS(zx_object_wait_many(items, 2, 0), ZX_ERR_TIMED_OUT);
    EXPECT_EQ(items[0].pending, ZX_THREAD_RUNNING);
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
    ASSERT_OK(zx_port_wait(port, zx_deadline_after(10 * TU_SEC), &p));
    EXPECT_EQ(p.key, 2u);
    EXPECT_EQ(p.signal.observed, ZX_THREAD_TERMINATED);
    EXPECT_OK(zx_object_wait_many(items, 2, 0));
    EXPECT_EQ(items[0].pending, ZX_THREAD_TERMINATED);
    tu_thread_destroy(&t);
    zx_handle_close(ev);
    zx_handle_close(port);
}

TEST(Signals, VmoZeroChildren) {
    zx_handle_t vmo, child, port;
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    ASSERT_OK(zx_port_create(0, &port));
    EXPECT_EQ(signals_of(vmo), ZX_VMO_ZERO_CHILDREN);
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, 4096, &child));
    EXPECT_EQ(signals_of(vmo), 0u);
    EXPECT_EQ(signals_of(child), ZX_VMO_ZERO_CHILDREN);
    ASSERT_OK(zx_object_wait_async(vmo, port, 5, ZX_VMO_ZERO_CHILDREN, 0));
    zx_port_packet_t p;
    EXPECT_STATUS(zx_port_wait(port, 0, &p), ZX_ERR_TIMED_OUT);
    zx_handle_close(child);
    ASSERT_OK(zx_port_wait(port, zx_deadline_after(10 * TU_SEC), &p));
    EXPECT_EQ(p.key, 5u);
    EXPECT_EQ(p.signal.observed, ZX_VMO_ZERO_CHILDREN);
    zx_handle_close(vmo);
    zx_handle_close(port);
}

TEST(Signals, ChannelWritableReadablePeerClosed) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    EXPECT_EQ(signals_of(c0), ZX_CHANNEL_WRITABLE);
    ASSERT_OK(zx_channel_write(c1, 0, "a", 1, NULL, 0));
    EXPECT_EQ(signals_of(c0), ZX_CHANNEL_WRITABLE | ZX_CHANNEL_READABLE);
    zx_handle_close(c1);
    EXPECT_EQ(signals_of(c0), ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);
    char b;
    uint32_t nb, nh;
    ASSERT_OK(zx_channel_read(c0, 0, &b, NULL, 1, 0, &nb, &nh));
    EXPECT_EQ(signals_of(c0), ZX_CHANNEL_PEER_CLOSED);
    zx_handle_close(c0);
}
