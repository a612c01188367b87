/* Channels: create, write/read, peer closure, handle transfer, limits. */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

TEST(ChannelCreate, BadOptions) {
    zx_handle_t c0 = ZX_HANDLE_INVALID, c1 = ZX_HANDLE_INVALID;
    EXPECT_STATUS(zx_channel_create(1, &c0, &c1), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(c0, ZX_HANDLE_INVALID);
    EXPECT_EQ(c1, ZX_HANDLE_INVALID);
}

TEST(ChannelCreate, BadOutPointer) {
    zx_handle_t c0;
    EXPECT_STATUS(zx_channel_create(0, &c0, (zx_handle_t *)0x1000), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_channel_create(0, NULL, &c0), ZX_ERR_INVALID_ARGS);
}

TEST(Channel, RoundTrip) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_channel_write(c0, 0, "hello", 5, NULL, 0));
    char buf[16];
    uint32_t nb = 0, nh = 99;
    ASSERT_OK(zx_channel_read(c1, 0, buf, NULL, sizeof(buf), 0, &nb, &nh));
    EXPECT_EQ(nb, 5u);
    EXPECT_EQ(nh, 0u);
    EXPECT_EQ(memcmp(buf, "hello", 5), 0);
    /* And the other direction. */
    ASSERT_OK(zx_channel_write(c1, 0, "yo", 2, NULL, 0));
    ASSERT_OK(zx_channel_read(c0, 0, buf, NULL, sizeof(buf), 0, &nb, NULL));
    EXPECT_EQ(nb, 2u);
    EXPECT_EQ(memcmp(buf, "yo", 2), 0);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, ZeroByteMessage) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_channel_write(c0, 0, NULL, 0, NULL, 0));
    uint32_t nb = 99;
    EXPECT_OK(zx_channel_read(c1, 0, NULL, NULL, 0, 0, &nb, NULL));
    EXPECT_EQ(nb, 0u);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, FifoOrder) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    for (uint32_t i = 0; i < 20; i++)
        ASSERT_OK(zx_channel_write(c0, 0, &i, sizeof(i), NULL, 0));
    for (uint32_t i = 0; i < 20; i++) {
        uint32_t v = 999, nb = 0;
        ASSERT_OK(zx_channel_read(c1, 0, &v, NULL, sizeof(v), 0, &nb, NULL));
        EXPECT_EQ(v, i);
    }
    uint32_t v;
    EXPECT_STATUS(zx_channel_read(c1, 0, &v, NULL, sizeof(v), 0, NULL, NULL), ZX_ERR_SHOULD_WAIT);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, ReadEmptyShouldWait) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    char buf[4];
    EXPECT_STATUS(zx_channel_read(c0, 0, buf, NULL, sizeof(buf), 0, NULL, NULL),
                  ZX_ERR_SHOULD_WAIT);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, PeerClosedWrite) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    EXPECT_OK(zx_handle_close(c1));
    EXPECT_STATUS(zx_channel_write(c0, 0, "x", 1, NULL, 0), ZX_ERR_PEER_CLOSED);
    EXPECT_OK(zx_handle_close(c0));
}

TEST(Channel, PeerClosedQueuedStillReadable) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_channel_write(c0, 0, "a", 1, NULL, 0));
    ASSERT_OK(zx_channel_write(c0, 0, "b", 1, NULL, 0));
    EXPECT_OK(zx_handle_close(c0));
    char c = 0;
    EXPECT_OK(zx_channel_read(c1, 0, &c, NULL, 1, 0, NULL, NULL));
    EXPECT_EQ(c, 'a');
    EXPECT_OK(zx_channel_read(c1, 0, &c, NULL, 1, 0, NULL, NULL));
    EXPECT_EQ(c, 'b');
    EXPECT_STATUS(zx_channel_read(c1, 0, &c, NULL, 1, 0, NULL, NULL), ZX_ERR_PEER_CLOSED);
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, BufferTooSmallKeepsMessage) {
    zx_handle_t c0, c1, vmo;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    ASSERT_OK(zx_channel_write(c0, 0, "0123456789", 10, &vmo, 1));
    char buf[16];
    zx_handle_t h = ZX_HANDLE_INVALID;
    uint32_t nb = 0, nh = 0;
    EXPECT_STATUS(zx_channel_read(c1, 0, buf, &h, 4, 1, &nb, &nh), ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_EQ(nb, 10u);
    EXPECT_EQ(nh, 1u);
    nb = nh = 0;
    EXPECT_STATUS(zx_channel_read(c1, 0, buf, &h, sizeof(buf), 0, &nb, &nh),
                  ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_EQ(nb, 10u);
    EXPECT_EQ(nh, 1u);
    EXPECT_EQ(h, ZX_HANDLE_INVALID);
    ASSERT_OK(zx_channel_read(c1, 0, buf, &h, sizeof(buf), 1, &nb, &nh));
    EXPECT_EQ(nb, 10u);
    EXPECT_EQ(nh, 1u);
    EXPECT_EQ(memcmp(buf, "0123456789", 10), 0);
    EXPECT_TRUE(tu_handle_valid(h));
    EXPECT_OK(zx_handle_close(h));
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, TransferHandle) {
    zx_handle_t c0, c1, vmo, dup;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    zx_rights_t rights = ZX_RIGHT_READ | ZX_RIGHT_TRANSFER | ZX_RIGHT_INSPECT;
    ASSERT_OK(zx_handle_duplicate(vmo, rights, &dup));
    zx_koid_t koid = tu_basic(vmo).koid;
    ASSERT_OK(zx_channel_write(c0, 0, "h", 1, &dup, 1));
    EXPECT_FALSE(tu_handle_valid(dup));
    char b;
    zx_handle_t got = ZX_HANDLE_INVALID;
    uint32_t nh = 0;
    ASSERT_OK(zx_channel_read(c1, 0, &b, &got, 1, 1, NULL, &nh));
    EXPECT_EQ(nh, 1u);
    zx_info_handle_basic_t info = tu_basic(got);
    EXPECT_EQ(info.koid, koid);
    EXPECT_EQ(info.rights, rights);
    EXPECT_EQ(info.type, ZX_OBJ_TYPE_VMO);
    EXPECT_OK(zx_handle_close(got));
    EXPECT_OK(zx_handle_close(vmo));
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, TransferChannelEndpoint) {
    zx_handle_t c0, c1, d0, d1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_channel_create(0, &d0, &d1));
    ASSERT_OK(zx_channel_write(c0, 0, NULL, 0, &d1, 1));
    zx_handle_t got;
    ASSERT_OK(zx_channel_read(c1, 0, NULL, &got, 0, 1, NULL, NULL));
    ASSERT_OK(zx_channel_write(d0, 0, "z", 1, NULL, 0));
    char b = 0;
    EXPECT_OK(zx_channel_read(got, 0, &b, NULL, 1, 0, NULL, NULL));
    EXPECT_EQ(b, 'z');
    EXPECT_OK(zx_handle_close(got));
    EXPECT_OK(zx_handle_close(d0));
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, TransferWithoutRightIsDeniedAndClosed) {
    zx_handle_t c0, c1, vmo, dup;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    ASSERT_OK(zx_handle_duplicate(vmo, ZX_RIGHT_READ, &dup));
    EXPECT_STATUS(zx_channel_write(c0, 0, "x", 1, &dup, 1), ZX_ERR_ACCESS_DENIED);
    EXPECT_FALSE(tu_handle_valid(dup));
    char b;
    EXPECT_STATUS(zx_channel_read(c1, 0, &b, NULL, 1, 0, NULL, NULL), ZX_ERR_SHOULD_WAIT);
    EXPECT_OK(zx_handle_close(vmo));
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, WriteOwnHandleNotSupported) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    EXPECT_STATUS(zx_channel_write(c0, 0, "x", 1, &c0, 1), ZX_ERR_NOT_SUPPORTED);
    /* Zircon: the handle is consumed even though the write failed. */
    EXPECT_FALSE(tu_handle_valid(c0));
    zx_signals_t observed = 0;
    EXPECT_OK(zx_object_wait_one(c1, ZX_CHANNEL_PEER_CLOSED, 0, &observed));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, WritePeerHandleIsFine) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    /* Sending the peer through the channel itself is allowed (it ends up in its own queue). */
    EXPECT_OK(zx_channel_write(c0, 0, "x", 1, &c1, 1));
    EXPECT_FALSE(tu_handle_valid(c1));
    EXPECT_OK(zx_handle_close(c0));
}

TEST(Channel, TooManyBytes) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    char *big = malloc(ZX_CHANNEL_MAX_MSG_BYTES + 1);
    ASSERT_NONNULL(big);
    memset(big, 1, ZX_CHANNEL_MAX_MSG_BYTES + 1);
    EXPECT_STATUS(zx_channel_write(c0, 0, big, ZX_CHANNEL_MAX_MSG_BYTES + 1, NULL, 0),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_OK(zx_channel_write(c0, 0, big, ZX_CHANNEL_MAX_MSG_BYTES, NULL, 0));
    uint32_t nb = 0;
    EXPECT_OK(zx_channel_read(c1, 0, big, NULL, ZX_CHANNEL_MAX_MSG_BYTES, 0, &nb, NULL));
    EXPECT_EQ(nb, ZX_CHANNEL_MAX_MSG_BYTES);
    free(big);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, TooManyHandles) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    zx_handle_t hs[ZX_CHANNEL_MAX_MSG_HANDLES + 1];
    for (uint32_t i = 0; i <= ZX_CHANNEL_MAX_MSG_HANDLES; i++)
        ASSERT_OK(zx_vmo_create(0, 0, &hs[i]));
    EXPECT_STATUS(zx_channel_write(c0, 0, NULL, 0, hs, ZX_CHANNEL_MAX_MSG_HANDLES + 1),
                  ZX_ERR_OUT_OF_RANGE);
    /* Whatever the kernel did with them, none may stay behind. */
    for (uint32_t i = 0; i <= ZX_CHANNEL_MAX_MSG_HANDLES; i++)
        zx_handle_close(hs[i]);
    /* Exactly the maximum works. */
    for (uint32_t i = 0; i < ZX_CHANNEL_MAX_MSG_HANDLES; i++)
        ASSERT_OK(zx_vmo_create(0, 0, &hs[i]));
    EXPECT_OK(zx_channel_write(c0, 0, NULL, 0, hs, ZX_CHANNEL_MAX_MSG_HANDLES));
    uint32_t nh = 0;
    EXPECT_OK(zx_channel_read(c1, 0, NULL, hs, 0, ZX_CHANNEL_MAX_MSG_HANDLES, NULL, &nh));
    EXPECT_EQ(nh, ZX_CHANNEL_MAX_MSG_HANDLES);
    EXPECT_OK(zx_handle_close_many(hs, nh));
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, BadBytePointers) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    EXPECT_STATUS(zx_channel_write(c0, 0, (void *)0x1000, 4, NULL, 0), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_channel_write(c0, 0, NULL, 4, NULL, 0), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_channel_write(c0, 0, (void *)0xffffffff80000000ull, 4, NULL, 0),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_channel_write(c0, 0, (void *)0x0000900000000000ull, 4, NULL, 0),
                  ZX_ERR_INVALID_ARGS);
    /* Nothing was queued. */
    char b;
    EXPECT_STATUS(zx_channel_read(c1, 0, &b, NULL, 1, 0, NULL, NULL), ZX_ERR_SHOULD_WAIT);
    /* Reading into a bad buffer fails and (Beryl) keeps the message. */
    ASSERT_OK(zx_channel_write(c0, 0, "q", 1, NULL, 0));
    EXPECT_STATUS(zx_channel_read(c1, 0, (void *)0x1000, NULL, 1, 0, NULL, NULL),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, BadOptions) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    EXPECT_STATUS(zx_channel_write(c0, 0x80, "x", 1, NULL, 0), ZX_ERR_INVALID_ARGS);
    char b;
    EXPECT_STATUS(zx_channel_read(c1, 0x80, &b, NULL, 1, 0, NULL, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, RightsChecked) {
    zx_handle_t c0, c1, wo, ro;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_handle_replace(c0, ZX_RIGHT_WRITE, &wo));
    ASSERT_OK(zx_handle_replace(c1, ZX_RIGHT_WRITE, &ro));
    char b;
    EXPECT_STATUS(zx_channel_read(wo, 0, &b, NULL, 1, 0, NULL, NULL), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_channel_write(wo, 0, "x", 1, NULL, 0));
    EXPECT_OK(zx_handle_close(wo));
    EXPECT_OK(zx_handle_close(ro));
}

TEST(Channel, WrongType) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    char b;
    EXPECT_STATUS(zx_channel_write(vmo, 0, "x", 1, NULL, 0), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_channel_read(vmo, 0, &b, NULL, 1, 0, NULL, NULL), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_channel_write(ZX_HANDLE_INVALID, 0, "x", 1, NULL, 0), ZX_ERR_BAD_HANDLE);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(ChannelSignals, ReadableAndPeerClosed) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    zx_signals_t observed = 0;
    EXPECT_STATUS(zx_object_wait_one(c1, ZX_CHANNEL_READABLE, 0, &observed), ZX_ERR_TIMED_OUT);
    EXPECT_EQ(observed & (ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED), 0u);
    EXPECT_NE(observed & ZX_CHANNEL_WRITABLE, 0u);
    ASSERT_OK(zx_channel_write(c0, 0, "x", 1, NULL, 0));
    EXPECT_OK(zx_object_wait_one(c1, ZX_CHANNEL_READABLE, 0, &observed));
    EXPECT_NE(observed & ZX_CHANNEL_READABLE, 0u);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_object_wait_one(c1, ZX_CHANNEL_PEER_CLOSED, ZX_TIME_INFINITE, &observed));
    EXPECT_EQ(observed & (ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED),
              ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);
    EXPECT_EQ(observed & ZX_CHANNEL_WRITABLE, 0u);
    char b;
    EXPECT_OK(zx_channel_read(c1, 0, &b, NULL, 1, 0, NULL, NULL));
    EXPECT_OK(zx_object_wait_one(c1, ZX_CHANNEL_PEER_CLOSED, 0, &observed));
    EXPECT_EQ(observed & ZX_CHANNEL_READABLE, 0u);
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Channel, ClosingFreesQueuedHandles) {
    zx_handle_t c0, c1, d0, d1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_channel_create(0, &d0, &d1));
    ASSERT_OK(zx_channel_write(c0, 0, "m", 1, &d1, 1));
    zx_signals_t observed = 0;
    EXPECT_STATUS(zx_object_wait_one(d0, ZX_CHANNEL_PEER_CLOSED, 0, &observed), ZX_ERR_TIMED_OUT);
    EXPECT_OK(zx_handle_close(c1)); /* the queue holding d1 dies */
    EXPECT_OK(zx_object_wait_one(d0, ZX_CHANNEL_PEER_CLOSED,
                                 zx_clock_get_monotonic() + 1000000000, &observed));
    EXPECT_NE(observed & ZX_CHANNEL_PEER_CLOSED, 0u);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(d0));
}
