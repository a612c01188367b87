/* Events and event pairs: zx_event_create, zx_eventpair_create, zx_object_signal,
 * zx_object_signal_peer, and what a peer sees when the other side's last handle goes. */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

/* The object's signals now (a zero-deadline wait for all of them). */
static zx_signals_t signals_of(zx_handle_t h) {
    zx_signals_t s = 0;
    zx_object_wait_one(h, ~0u, 0, &s);
    return s;
}

TEST(Event, CreateRightsAndType) {
    zx_handle_t ev;
    ASSERT_OK(zx_event_create(0, &ev));
    zx_info_handle_basic_t b = tu_basic(ev);
    EXPECT_EQ(b.type, ZX_OBJ_TYPE_EVENT);
    EXPECT_EQ(b.rights, ZX_DEFAULT_EVENT_RIGHTS);
    EXPECT_EQ(b.related_koid, 0u);
    EXPECT_EQ(signals_of(ev), 0u);
    EXPECT_OK(zx_handle_close(ev));
}

TEST(Event, CreateBadArgs) {
    zx_handle_t ev = ZX_HANDLE_INVALID;
    EXPECT_STATUS(zx_event_create(1, &ev), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(ev, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_event_create(0, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_event_create(0, (zx_handle_t *)0xffff800000000000ull), ZX_ERR_INVALID_ARGS);
}

TEST(Event, SignalAndClear) {
    zx_handle_t ev;
    ASSERT_OK(zx_event_create(0, &ev));
    ASSERT_OK(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED));
    zx_signals_t s = 0;
    EXPECT_OK(zx_object_wait_one(ev, ZX_EVENT_SIGNALED, 0, &s));
    EXPECT_EQ(s, ZX_EVENT_SIGNALED);
    ASSERT_OK(zx_object_signal(ev, ZX_EVENT_SIGNALED, ZX_USER_SIGNAL_3 | ZX_USER_SIGNAL_7));
    EXPECT_EQ(signals_of(ev), ZX_USER_SIGNAL_3 | ZX_USER_SIGNAL_7);
    EXPECT_STATUS(zx_object_wait_one(ev, ZX_EVENT_SIGNALED, 0, &s), ZX_ERR_TIMED_OUT);
    /* Clear first, then set: a bit in both ends up set. */
    ASSERT_OK(zx_object_signal(ev, ZX_USER_SIGNAL_ALL, ZX_USER_SIGNAL_0));
    EXPECT_EQ(signals_of(ev), ZX_USER_SIGNAL_0);
    /* Only user signals and ZX_EVENT_SIGNALED. */
    EXPECT_STATUS(zx_object_signal(ev, 0, ZX_EVENTPAIR_PEER_CLOSED), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_object_signal(ev, 1u << 0, 0), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(signals_of(ev), ZX_USER_SIGNAL_0);
    EXPECT_STATUS(zx_object_signal_peer(ev, 0, ZX_USER_SIGNAL_0), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_handle_close(ev));
}

TEST(Event, SignalNeedsRight) {
    zx_handle_t ev;
    ASSERT_OK(zx_event_create(0, &ev));
    zx_handle_t ro = tu_dup(ev, ZX_RIGHT_WAIT);
    EXPECT_STATUS(zx_object_signal(ro, 0, ZX_EVENT_SIGNALED), ZX_ERR_ACCESS_DENIED);
    /* The right is checked before the masks. */
    EXPECT_STATUS(zx_object_signal(ro, 0, 1u), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_object_signal(ZX_HANDLE_INVALID, 0, 0), ZX_ERR_BAD_HANDLE);
    EXPECT_EQ(signals_of(ev), 0u);
    zx_handle_close(ro);
    zx_handle_close(ev);
}

static void signal_later(uintptr_t ev, uintptr_t unused) {
    (void)unused;
    zx_nanosleep(zx_deadline_after(5000000));
    zx_object_signal((zx_handle_t)ev, 0, ZX_EVENT_SIGNALED);
    zx_thread_exit();
}

TEST(Event, WakesWaiter) {
    zx_handle_t ev;
    ASSERT_OK(zx_event_create(0, &ev));
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, signal_later, ev, 0));
    zx_signals_t s = 0;
    EXPECT_OK(zx_object_wait_one(ev, ZX_EVENT_SIGNALED, zx_deadline_after(10000000000ll), &s));
    EXPECT_EQ(s, ZX_EVENT_SIGNALED);
    EXPECT_OK(tu_thread_join(&t, 10000000000ll));
    tu_thread_destroy(&t);
    zx_handle_close(ev);
}

TEST(Event, DuplicateAndReplaceKeepType) {
    zx_handle_t ev, dup, rep;
    ASSERT_OK(zx_event_create(0, &ev));
    ASSERT_OK(zx_handle_duplicate(ev, ZX_RIGHT_SAME_RIGHTS, &dup));
    EXPECT_EQ(tu_basic(dup).koid, tu_basic(ev).koid);
    ASSERT_OK(zx_handle_replace(dup, ZX_RIGHT_WAIT | ZX_RIGHT_SIGNAL, &rep));
    EXPECT_EQ(tu_basic(rep).type, ZX_OBJ_TYPE_EVENT);
    EXPECT_EQ(tu_basic(rep).rights, ZX_RIGHT_WAIT | ZX_RIGHT_SIGNAL);
    ASSERT_OK(zx_object_signal(rep, 0, ZX_USER_SIGNAL_1));
    EXPECT_EQ(signals_of(ev), ZX_USER_SIGNAL_1);
    zx_handle_close(rep);
    zx_handle_close(ev);
}

TEST(EventPair, CreateRightsAndPeers) {
    zx_handle_t a, b;
    ASSERT_OK(zx_eventpair_create(0, &a, &b));
    zx_info_handle_basic_t ia = tu_basic(a), ib = tu_basic(b);
    EXPECT_EQ(ia.type, ZX_OBJ_TYPE_EVENTPAIR);
    EXPECT_EQ(ib.type, ZX_OBJ_TYPE_EVENTPAIR);
    EXPECT_EQ(ia.rights, ZX_DEFAULT_EVENTPAIR_RIGHTS);
    EXPECT_NE(ia.koid, ib.koid);
    EXPECT_EQ(ia.related_koid, ib.koid);
    EXPECT_EQ(ib.related_koid, ia.koid);
    EXPECT_EQ(signals_of(a), 0u);
    zx_handle_close(a);
    zx_handle_close(b);
}

TEST(EventPair, CreateBadArgs) {
    zx_handle_t a = 0, b = 0;
    EXPECT_STATUS(zx_eventpair_create(1, &a, &b), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_eventpair_create(0, &a, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_eventpair_create(0, NULL, &b), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(a, 0u);
    EXPECT_EQ(b, 0u);
}

TEST(EventPair, SignalSelfAndPeer) {
    zx_handle_t a, b;
    ASSERT_OK(zx_eventpair_create(0, &a, &b));
    ASSERT_OK(zx_object_signal(a, 0, ZX_EVENTPAIR_SIGNALED));
    EXPECT_EQ(signals_of(a), ZX_EVENTPAIR_SIGNALED);
    EXPECT_EQ(signals_of(b), 0u);
    ASSERT_OK(zx_object_signal_peer(a, 0, ZX_EVENTPAIR_SIGNALED | ZX_USER_SIGNAL_2));
    EXPECT_EQ(signals_of(b), ZX_EVENTPAIR_SIGNALED | ZX_USER_SIGNAL_2);
    ASSERT_OK(zx_object_signal_peer(b, ZX_EVENTPAIR_SIGNALED, 0));
    EXPECT_EQ(signals_of(a), 0u);
    /* PEER_CLOSED is the kernel's alone. */
    EXPECT_STATUS(zx_object_signal(a, 0, ZX_EVENTPAIR_PEER_CLOSED), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_object_signal_peer(a, 0, ZX_EVENTPAIR_PEER_CLOSED), ZX_ERR_INVALID_ARGS);
    zx_handle_t nopeer = tu_dup(a, ZX_RIGHT_SIGNAL | ZX_RIGHT_WAIT);
    EXPECT_STATUS(zx_object_signal_peer(nopeer, 0, ZX_USER_SIGNAL_0), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(nopeer);
    zx_handle_close(a);
    zx_handle_close(b);
}

TEST(EventPair, PeerClosedOnLastHandle) {
    zx_handle_t a, b;
    ASSERT_OK(zx_eventpair_create(0, &a, &b));
    zx_handle_t a2 = tu_dup(a, ZX_RIGHT_SAME_RIGHTS);
    ASSERT_OK(zx_object_signal(b, 0, ZX_USER_SIGNAL_5));
    EXPECT_OK(zx_handle_close(a));
    /* One handle to a is left: no PEER_CLOSED yet. */
    EXPECT_EQ(signals_of(b), ZX_USER_SIGNAL_5);
    EXPECT_OK(zx_object_signal_peer(b, 0, ZX_USER_SIGNAL_0));
    EXPECT_EQ(signals_of(a2), ZX_USER_SIGNAL_0);
    EXPECT_OK(zx_handle_close(a2));
    zx_signals_t s = 0;
    EXPECT_OK(zx_object_wait_one(b, ZX_EVENTPAIR_PEER_CLOSED, 0, &s));
    EXPECT_EQ(s, ZX_EVENTPAIR_PEER_CLOSED | ZX_USER_SIGNAL_5);
    EXPECT_STATUS(zx_object_signal_peer(b, 0, ZX_USER_SIGNAL_0), ZX_ERR_PEER_CLOSED);
    /* The masks are checked before the peer. */
    EXPECT_STATUS(zx_object_signal_peer(b, 0, 1u), ZX_ERR_INVALID_ARGS);
    /* Its own signals still work. */
    EXPECT_OK(zx_object_signal(b, ZX_USER_SIGNAL_5, ZX_EVENTPAIR_SIGNALED));
    EXPECT_EQ(signals_of(b), ZX_EVENTPAIR_PEER_CLOSED | ZX_EVENTPAIR_SIGNALED);
    zx_handle_close(b);
}

static void close_later(uintptr_t h, uintptr_t unused) {
    (void)unused;
    zx_nanosleep(zx_deadline_after(5000000));
    zx_handle_close((zx_handle_t)h);
    zx_thread_exit();
}

TEST(EventPair, PeerClosedWakesWaiter) {
    zx_handle_t a, b;
    ASSERT_OK(zx_eventpair_create(0, &a, &b));
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, close_later, a, 0));
    zx_signals_t s = 0;
    EXPECT_OK(zx_object_wait_one(b, ZX_EVENTPAIR_PEER_CLOSED, zx_deadline_after(10000000000ll), &s));
    EXPECT_EQ(s, ZX_EVENTPAIR_PEER_CLOSED);
    EXPECT_OK(tu_thread_join(&t, 10000000000ll));
    tu_thread_destroy(&t);
    zx_handle_close(b);
}

TEST(EventPair, SidesSentThroughChannel) {
    /* A side travelling in a channel message keeps the pair linked; the pair unlinks
     * when the message (and the side in it) is destroyed with the channel. */
    zx_handle_t a, b, c0, c1;
    ASSERT_OK(zx_eventpair_create(0, &a, &b));
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_channel_write(c0, 0, NULL, 0, &a, 1));
    EXPECT_OK(zx_object_signal_peer(b, 0, ZX_USER_SIGNAL_4));
    EXPECT_EQ(signals_of(b), 0u);
    zx_handle_close(c1);
    zx_handle_close(c0);
    EXPECT_EQ(signals_of(b), ZX_EVENTPAIR_PEER_CLOSED);
    zx_handle_close(b);
}

TEST(ChannelSignal, SignalPeer) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_object_signal_peer(c0, 0, ZX_USER_SIGNAL_6));
    EXPECT_EQ(signals_of(c1) & ZX_USER_SIGNAL_ALL, ZX_USER_SIGNAL_6);
    EXPECT_EQ(signals_of(c0) & ZX_USER_SIGNAL_ALL, 0u);
    EXPECT_STATUS(zx_object_signal_peer(c0, 0, ZX_CHANNEL_READABLE), ZX_ERR_INVALID_ARGS);
    zx_handle_close(c1);
    EXPECT_STATUS(zx_object_signal_peer(c0, 0, ZX_USER_SIGNAL_6), ZX_ERR_PEER_CLOSED);
    zx_handle_close(c0);
}

TEST(ChannelSignal, NotPeeredIsNotSupported) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    /* A VMO handle has no SIGNAL_PEER right: ACCESS_DENIED comes first. */
    EXPECT_STATUS(zx_object_signal_peer(vmo, 0, 0), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(vmo);
}
