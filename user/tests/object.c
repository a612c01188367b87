/* Object syscalls: get_info, properties, wait_one, signal. */
#include <beryl/test.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#ifndef ZX_USER_SIGNAL_1
#define ZX_USER_SIGNAL_1 ((zx_signals_t)(1u << 25))
#endif

TEST(ObjectInfo, HandleBasicVmo) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    zx_info_handle_basic_t info;
    size_t actual = 99, avail = 99;
    ASSERT_OK(zx_object_get_info(vmo, ZX_INFO_HANDLE_BASIC, &info, sizeof(info), &actual, &avail));
    EXPECT_EQ(actual, 1u);
    EXPECT_EQ(avail, 1u);
    EXPECT_NE(info.koid, 0u);
    EXPECT_EQ(info.type, ZX_OBJ_TYPE_VMO);
    EXPECT_EQ(info.related_koid, 0u);
    EXPECT_NE(info.rights & ZX_RIGHT_DUPLICATE, 0u);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(ObjectInfo, HandleBasicChannelPeers) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    zx_info_handle_basic_t a, b;
    ASSERT_OK(zx_object_get_info(c0, ZX_INFO_HANDLE_BASIC, &a, sizeof(a), NULL, NULL));
    ASSERT_OK(zx_object_get_info(c1, ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL));
    EXPECT_EQ(a.type, ZX_OBJ_TYPE_CHANNEL);
    EXPECT_EQ(b.type, ZX_OBJ_TYPE_CHANNEL);
    EXPECT_NE(a.koid, b.koid);
    EXPECT_EQ(a.related_koid, b.koid);
    EXPECT_EQ(b.related_koid, a.koid);
    EXPECT_EQ(a.rights, ZX_DEFAULT_CHANNEL_RIGHTS);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(ObjectInfo, HandleBasicNoRightsNeeded) {
    zx_handle_t vmo, none;
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    ASSERT_OK(zx_handle_duplicate(vmo, ZX_RIGHT_NONE, &none));
    zx_info_handle_basic_t info;
    ASSERT_OK(zx_object_get_info(none, ZX_INFO_HANDLE_BASIC, &info, sizeof(info), NULL, NULL));
    EXPECT_EQ(info.rights, ZX_RIGHT_NONE);
    EXPECT_OK(zx_handle_close(vmo));
    EXPECT_OK(zx_handle_close(none));
}

TEST(ObjectInfo, HandleValid) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    EXPECT_OK(zx_object_get_info(vmo, ZX_INFO_HANDLE_VALID, NULL, 0, NULL, NULL));
    EXPECT_OK(zx_handle_close(vmo));
    EXPECT_STATUS(zx_object_get_info(vmo, ZX_INFO_HANDLE_VALID, NULL, 0, NULL, NULL),
                  ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_object_get_info(ZX_HANDLE_INVALID, ZX_INFO_HANDLE_VALID, NULL, 0, NULL, NULL),
                  ZX_ERR_BAD_HANDLE);
}

TEST(ObjectInfo, ProcessSelf) {
    zx_info_process_t info;
    size_t actual = 0;
    ASSERT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS, &info, sizeof(info),
                                 &actual, NULL));
    EXPECT_EQ(actual, 1u);
    EXPECT_NE(info.flags & ZX_INFO_PROCESS_FLAG_STARTED, 0u);
    EXPECT_EQ(info.flags & ZX_INFO_PROCESS_FLAG_EXITED, 0u);
    zx_info_handle_basic_t b;
    ASSERT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL));
    EXPECT_EQ(b.type, ZX_OBJ_TYPE_PROCESS);
}

TEST(ObjectInfo, ThreadSelf) {
    zx_info_thread_t info;
    ASSERT_OK(zx_object_get_info(zx_thread_self(), ZX_INFO_THREAD, &info, sizeof(info), NULL,
                                 NULL));
    EXPECT_EQ(info.state, ZX_THREAD_STATE_RUNNING);
    zx_info_handle_basic_t b, p;
    ASSERT_OK(zx_object_get_info(zx_thread_self(), ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL));
    ASSERT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_HANDLE_BASIC, &p, sizeof(p), NULL, NULL));
    EXPECT_EQ(b.type, ZX_OBJ_TYPE_THREAD);
    EXPECT_EQ(b.related_koid, p.koid);
}

TEST(ObjectInfo, WrongTypeForTopic) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    zx_info_process_t info;
    EXPECT_STATUS(zx_object_get_info(vmo, ZX_INFO_PROCESS, &info, sizeof(info), NULL, NULL),
                  ZX_ERR_WRONG_TYPE);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(ObjectInfo, UnknownTopic) {
    char buf[64];
    EXPECT_STATUS(zx_object_get_info(zx_process_self(), 0x0fffffffu, buf, sizeof(buf), NULL, NULL),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_object_get_info(zx_process_self(), ZX_INFO_NONE, buf, sizeof(buf), NULL, NULL),
                  ZX_ERR_NOT_SUPPORTED);
}

TEST(ObjectInfo, BufferTooSmall) {
    zx_info_handle_basic_t info;
    EXPECT_STATUS(zx_object_get_info(zx_process_self(), ZX_INFO_HANDLE_BASIC, &info,
                                     sizeof(info) - 1, NULL, NULL),
                  ZX_ERR_BUFFER_TOO_SMALL);
    zx_info_process_t pinfo;
    EXPECT_STATUS(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS, &pinfo, 0, NULL, NULL),
                  ZX_ERR_BUFFER_TOO_SMALL);
}

TEST(ObjectInfo, ProcessNeedsInspect) {
    zx_handle_t p;
    ASSERT_OK(zx_handle_duplicate(zx_process_self(), ZX_RIGHT_DUPLICATE, &p));
    zx_info_process_t info;
    EXPECT_STATUS(zx_object_get_info(p, ZX_INFO_PROCESS, &info, sizeof(info), NULL, NULL),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_handle_close(p));
}

TEST(ObjectProperty, ProcessName) {
    char old[ZX_MAX_NAME_LEN], name[ZX_MAX_NAME_LEN];
    ASSERT_OK(zx_object_get_property(zx_process_self(), ZX_PROP_NAME, old, sizeof(old)));
    ASSERT_OK(zx_object_set_property(zx_process_self(), ZX_PROP_NAME, "renamed", 7));
    ASSERT_OK(zx_object_get_property(zx_process_self(), ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_STR_EQ(name, "renamed");
    EXPECT_OK(zx_object_set_property(zx_process_self(), ZX_PROP_NAME, old, strlen(old)));
    ASSERT_OK(zx_object_get_property(zx_process_self(), ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_STR_EQ(name, old);
}

/* A thread's name: set and read back through a handle with the property rights, cut to
 * ZX_MAX_NAME_LEN - 1 characters; a handle lacking one of the rights is refused. (The
 * thread is this one: the test framework names it after the case, so the old name is
 * put back for the framework to restore.) */
TEST(ObjectProperty, ThreadName) {
    char old[ZX_MAX_NAME_LEN], name[ZX_MAX_NAME_LEN];
    zx_handle_t self = zx_thread_self();
    ASSERT_OK(zx_object_get_property(self, ZX_PROP_NAME, old, sizeof(old)));
    ASSERT_OK(zx_object_set_property(self, ZX_PROP_NAME, "renamed-thread", 14));
    ASSERT_OK(zx_object_get_property(self, ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_STR_EQ(name, "renamed-thread");
    const char *longname = "0123456789abcdefghijklmnopqrstuvwxyzABCDEF"; /* 42 chars */
    ASSERT_OK(zx_object_set_property(self, ZX_PROP_NAME, longname, strlen(longname)));
    memset(name, 'x', sizeof(name));
    ASSERT_OK(zx_object_get_property(self, ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_EQ(name[ZX_MAX_NAME_LEN - 1], 0);
    EXPECT_STR_EQ(name, "0123456789abcdefghijklmnopqrstu");
    zx_handle_t get_only, set_only;
    ASSERT_OK(zx_handle_duplicate(self, ZX_RIGHT_GET_PROPERTY, &get_only));
    ASSERT_OK(zx_handle_duplicate(self, ZX_RIGHT_SET_PROPERTY, &set_only));
    EXPECT_STATUS(zx_object_set_property(get_only, ZX_PROP_NAME, "a", 1), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_object_get_property(set_only, ZX_PROP_NAME, name, sizeof(name)),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_object_set_property(set_only, ZX_PROP_NAME, old, strlen(old)));
    ASSERT_OK(zx_object_get_property(get_only, ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_STR_EQ(name, old);
    EXPECT_OK(zx_handle_close(get_only));
    EXPECT_OK(zx_handle_close(set_only));
}

TEST(ObjectProperty, VmoNameTruncated) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    char name[ZX_MAX_NAME_LEN];
    memset(name, 'x', sizeof(name));
    ASSERT_OK(zx_object_get_property(vmo, ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_STR_EQ(name, "");
    const char *longname = "0123456789abcdefghijklmnopqrstuvwxyzABCDEF"; /* 42 chars */
    ASSERT_OK(zx_object_set_property(vmo, ZX_PROP_NAME, longname, strlen(longname)));
    memset(name, 'x', sizeof(name));
    ASSERT_OK(zx_object_get_property(vmo, ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_EQ(name[31], 0);
    EXPECT_EQ(strlen(name), 31u);
    EXPECT_STR_EQ(name, "0123456789abcdefghijklmnopqrstu");
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(ObjectProperty, GetBufferTooSmall) {
    char name[8];
    EXPECT_STATUS(zx_object_get_property(zx_process_self(), ZX_PROP_NAME, name, sizeof(name)),
                  ZX_ERR_BUFFER_TOO_SMALL);
}

TEST(ObjectProperty, NeedsPropertyRights) {
    zx_handle_t vmo, ro;
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    ASSERT_OK(zx_handle_duplicate(vmo, ZX_RIGHT_READ, &ro));
    char name[ZX_MAX_NAME_LEN];
    EXPECT_STATUS(zx_object_get_property(ro, ZX_PROP_NAME, name, sizeof(name)),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_object_set_property(ro, ZX_PROP_NAME, "a", 1), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_handle_close(vmo));
    EXPECT_OK(zx_handle_close(ro));
}

TEST(ObjectWait, AlreadyAssertedReturnsAtOnce) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_channel_write(c1, 0, "x", 1, NULL, 0));
    zx_signals_t observed = 0;
    EXPECT_OK(zx_object_wait_one(c0, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE, &observed));
    EXPECT_NE(observed & ZX_CHANNEL_READABLE, 0u);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(ObjectWait, TimesOut) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    zx_signals_t observed = 0xdead;
    EXPECT_STATUS(zx_object_wait_one(c0, ZX_CHANNEL_READABLE, 0, &observed), ZX_ERR_TIMED_OUT);
    EXPECT_EQ(observed & ZX_CHANNEL_READABLE, 0u);
    zx_time_t start = zx_clock_get_monotonic();
    EXPECT_STATUS(zx_object_wait_one(c0, ZX_CHANNEL_READABLE, start + 10000000, &observed),
                  ZX_ERR_TIMED_OUT);
    EXPECT_GE(zx_clock_get_monotonic(), start + 10000000);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(ObjectWait, BadHandle) {
    zx_signals_t observed;
    EXPECT_STATUS(zx_object_wait_one(ZX_HANDLE_INVALID, ZX_CHANNEL_READABLE, 0, &observed),
                  ZX_ERR_BAD_HANDLE);
}

TEST(ObjectWait, NeedsWaitRight) {
    zx_handle_t c0, c1, nowait;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_handle_replace(c0, ZX_RIGHT_READ, &nowait));
    EXPECT_STATUS(zx_object_wait_one(nowait, ZX_CHANNEL_READABLE, 0, NULL), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_handle_close(nowait));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(ObjectSignal, UserSignals) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    zx_signals_t observed = 0;
    EXPECT_STATUS(zx_object_wait_one(c0, ZX_USER_SIGNAL_0, 0, &observed), ZX_ERR_TIMED_OUT);
    ASSERT_OK(zx_object_signal(c0, 0, ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_1));
    EXPECT_OK(zx_object_wait_one(c0, ZX_USER_SIGNAL_0, 0, &observed));
    EXPECT_EQ(observed & ZX_USER_SIGNAL_ALL, ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_1);
    /* The peer does not see them. */
    EXPECT_STATUS(zx_object_wait_one(c1, ZX_USER_SIGNAL_0, 0, &observed), ZX_ERR_TIMED_OUT);
    ASSERT_OK(zx_object_signal(c0, ZX_USER_SIGNAL_0, 0));
    EXPECT_STATUS(zx_object_wait_one(c0, ZX_USER_SIGNAL_0, 0, &observed), ZX_ERR_TIMED_OUT);
    EXPECT_EQ(observed & ZX_USER_SIGNAL_ALL, ZX_USER_SIGNAL_1);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(ObjectSignal, NonUserSignalsRejected) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    EXPECT_STATUS(zx_object_signal(c0, 0, ZX_CHANNEL_READABLE), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_object_signal(c0, ZX_CHANNEL_PEER_CLOSED, 0), ZX_ERR_INVALID_ARGS);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(ObjectSignal, NeedsSignalRight) {
    zx_handle_t c0, c1, nosig;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_handle_replace(c0, ZX_RIGHT_WAIT, &nosig));
    EXPECT_STATUS(zx_object_signal(nosig, 0, ZX_USER_SIGNAL_0), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_handle_close(nosig));
    EXPECT_OK(zx_handle_close(c1));
}
