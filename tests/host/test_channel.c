/*
 * Host tests for channels through the kernel-level API (kernel/object/channel.c):
 * write/read, limits, handle transfer, signals, peer closed, queued handles released
 * on close (recursively), allocation failure. Every test ends with no kmalloc'ed block
 * left (which also proves both endpoints of every pair were freed).
 */
#include "htest.h"

#include <object/channel.h>

#include "object_host_stubs.h"

#define EXPECT_NO_LEAK() EXPECT_EQ(host_kmalloc_live(), (size_t)0)

/* Creates a pair held as in-flight handles (the way the syscalls hold them). */
static void make_pair(handle_ref_t *h0, handle_ref_t *h1) {
    channel_t *a, *b;
    ASSERT_OK(channel_create(&a, &b));
    handle_ref_init(h0, channel_kobj(a), ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_TRANSFER);
    handle_ref_init(h1, channel_kobj(b), ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_TRANSFER);
    kobject_unref(channel_kobj(a));
    kobject_unref(channel_kobj(b));
}

static channel_t *ch(handle_ref_t *h) { return (channel_t *)h->obj; }

HTEST(channel, create_signals_and_koids) {
    handle_ref_t h0, h1;
    make_pair(&h0, &h1);
    EXPECT_EQ(kobject_type(h0.obj), ZX_OBJ_TYPE_CHANNEL);
    EXPECT_EQ(kobject_signals(h0.obj), ZX_CHANNEL_WRITABLE);
    EXPECT_EQ(kobject_signals(h1.obj), ZX_CHANNEL_WRITABLE);
    EXPECT_EQ(h0.obj->ops->related_koid(h0.obj), h1.obj->koid);
    EXPECT_EQ(h1.obj->ops->related_koid(h1.obj), h0.obj->koid);
    handle_ref_release(&h0);
    handle_ref_release(&h1);
    EXPECT_NO_LEAK();
}

HTEST(channel, write_read_in_order) {
    handle_ref_t h0, h1;
    make_pair(&h0, &h1);
    for (uint32_t i = 0; i < 10; i++) {
        uint32_t msg[4] = {i, i * 2, i * 3, i * 4};
        ASSERT_OK(channel_write_kernel(ch(&h0), msg, (i % 4 + 1) * 4, NULL, 0));
    }
    EXPECT_EQ(kobject_signals(h1.obj), ZX_CHANNEL_WRITABLE | ZX_CHANNEL_READABLE);
    EXPECT_EQ(kobject_signals(h0.obj), ZX_CHANNEL_WRITABLE);
    for (uint32_t i = 0; i < 10; i++) {
        uint32_t buf[4] = {0};
        uint32_t nb = sizeof(buf), nh = 0;
        ASSERT_OK(channel_read_kernel(ch(&h1), buf, &nb, NULL, &nh));
        EXPECT_EQ(nb, (i % 4 + 1) * 4);
        EXPECT_EQ(nh, 0u);
        EXPECT_EQ(buf[0], i);
        if (nb >= 8)
            EXPECT_EQ(buf[1], i * 2);
    }
    EXPECT_EQ(kobject_signals(h1.obj), ZX_CHANNEL_WRITABLE);
    uint32_t nb = 0, nh = 0;
    EXPECT_STATUS(channel_read_kernel(ch(&h1), NULL, &nb, NULL, &nh), ZX_ERR_SHOULD_WAIT);
    /* Zero-length messages exist and make the channel readable. */
    ASSERT_OK(channel_write_kernel(ch(&h1), NULL, 0, NULL, 0));
    EXPECT_EQ(kobject_signals(h0.obj), ZX_CHANNEL_WRITABLE | ZX_CHANNEL_READABLE);
    EXPECT_OK(channel_read_kernel(ch(&h0), NULL, &nb, NULL, &nh));
    EXPECT_EQ(nb, 0u);
    handle_ref_release(&h0);
    handle_ref_release(&h1);
    EXPECT_NO_LEAK();
}

HTEST(channel, limits) {
    handle_ref_t h0, h1;
    make_pair(&h0, &h1);
    static uint8_t big[ZX_CHANNEL_MAX_MSG_BYTES + 1];
    memset(big, 0xab, sizeof(big));
    EXPECT_STATUS(channel_write_kernel(ch(&h0), big, ZX_CHANNEL_MAX_MSG_BYTES + 1, NULL, 0),
                  ZX_ERR_OUT_OF_RANGE);
    ASSERT_OK(channel_write_kernel(ch(&h0), big, ZX_CHANNEL_MAX_MSG_BYTES, NULL, 0));

    /* 65 handles: OUT_OF_RANGE, and the handles are consumed anyway. */
    handle_ref_t hs[ZX_CHANNEL_MAX_MSG_HANDLES + 1];
    handle_ref_t e0, e1;
    make_pair(&e0, &e1);
    for (uint32_t i = 0; i < ZX_CHANNEL_MAX_MSG_HANDLES + 1; i++)
        handle_ref_dup(&e0, ZX_RIGHT_TRANSFER, &hs[i]);
    EXPECT_EQ(e0.obj->handle_count, ZX_CHANNEL_MAX_MSG_HANDLES + 2);
    EXPECT_STATUS(channel_write_kernel(ch(&h0), NULL, 0, hs, ZX_CHANNEL_MAX_MSG_HANDLES + 1),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(e0.obj->handle_count, 1u);
    for (uint32_t i = 0; i < ZX_CHANNEL_MAX_MSG_HANDLES; i++)
        handle_ref_dup(&e0, ZX_RIGHT_TRANSFER, &hs[i]);
    ASSERT_OK(channel_write_kernel(ch(&h0), NULL, 0, hs, ZX_CHANNEL_MAX_MSG_HANDLES));

    /* Too small: BUFFER_TOO_SMALL with the sizes, message stays queued. */
    uint8_t small[16];
    uint32_t nb = sizeof(small), nh = 0;
    EXPECT_STATUS(channel_read_kernel(ch(&h1), small, &nb, NULL, &nh), ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_EQ(nb, ZX_CHANNEL_MAX_MSG_BYTES);
    EXPECT_EQ(nh, 0u);
    static uint8_t out[ZX_CHANNEL_MAX_MSG_BYTES];
    nb = sizeof(out);
    ASSERT_OK(channel_read_kernel(ch(&h1), out, &nb, NULL, &nh));
    EXPECT_EQ(memcmp(out, big, ZX_CHANNEL_MAX_MSG_BYTES), 0);

    /* Enough bytes but too few handle slots. */
    nb = 0;
    nh = 3;
    handle_ref_t got[ZX_CHANNEL_MAX_MSG_HANDLES];
    EXPECT_STATUS(channel_read_kernel(ch(&h1), NULL, &nb, got, &nh), ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_EQ(nh, ZX_CHANNEL_MAX_MSG_HANDLES);
    /* Closing the reader releases the queued 64 handles. */
    handle_ref_release(&h1);
    EXPECT_EQ(e0.obj->handle_count, 1u);
    handle_ref_release(&h0);
    handle_ref_release(&e0);
    handle_ref_release(&e1);
    EXPECT_NO_LEAK();
}

HTEST(channel, handle_transfer) {
    handle_ref_t h0, h1, e0, e1;
    make_pair(&h0, &h1);
    make_pair(&e0, &e1);
    /* Send e1 across; the sender's ref moves into the message. */
    handle_ref_t send = e1;
    e1.obj = NULL;
    const char hello[] = "hello";
    ASSERT_OK(channel_write_kernel(ch(&h0), hello, sizeof(hello), &send, 1));
    EXPECT_NULL(send.obj);
    char buf[16];
    handle_ref_t got[2];
    uint32_t nb = sizeof(buf), nh = 2;
    ASSERT_OK(channel_read_kernel(ch(&h1), buf, &nb, got, &nh));
    EXPECT_EQ(nh, 1u);
    EXPECT_STREQ(buf, "hello");
    EXPECT_EQ(kobject_type(got[0].obj), ZX_OBJ_TYPE_CHANNEL);
    EXPECT_EQ(got[0].obj->koid, e0.obj->ops->related_koid(e0.obj));
    /* The transferred endpoint still works. */
    ASSERT_OK(channel_write_kernel(ch(&e0), "x", 1, NULL, 0));
    nb = sizeof(buf);
    nh = 0;
    ASSERT_OK(channel_read_kernel(ch(&got[0]), buf, &nb, NULL, &nh));
    EXPECT_EQ(buf[0], 'x');
    handle_ref_release(&got[0]);
    EXPECT_TRUE(kobject_signals(e0.obj) & ZX_CHANNEL_PEER_CLOSED);
    handle_ref_release(&e0);
    handle_ref_release(&h0);
    handle_ref_release(&h1);
    EXPECT_NO_LEAK();
}

HTEST(channel, peer_closed) {
    handle_ref_t h0, h1;
    make_pair(&h0, &h1);
    ASSERT_OK(channel_write_kernel(ch(&h0), "ab", 2, NULL, 0));
    ASSERT_OK(channel_write_kernel(ch(&h0), "cd", 2, NULL, 0));
    handle_ref_t keep;
    handle_ref_dup(&h0, 0, &keep); /* a second handle: closing one is not enough */
    handle_ref_release(&h0);
    EXPECT_FALSE(kobject_signals(h1.obj) & ZX_CHANNEL_PEER_CLOSED);
    kobject_ref(h1.obj);
    handle_ref_release(&keep);
    EXPECT_EQ(kobject_signals(h1.obj), ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);

    /* Writes fail, handles included are released; queued messages still read. */
    handle_ref_t e0, e1;
    make_pair(&e0, &e1);
    EXPECT_STATUS(channel_write_kernel(ch(&h1), "z", 1, &e1, 1), ZX_ERR_PEER_CLOSED);
    EXPECT_NULL(e1.obj);
    EXPECT_TRUE(kobject_signals(e0.obj) & ZX_CHANNEL_PEER_CLOSED);
    char buf[4];
    uint32_t nb = sizeof(buf), nh = 0;
    EXPECT_OK(channel_read_kernel(ch(&h1), buf, &nb, NULL, &nh));
    nb = sizeof(buf);
    EXPECT_OK(channel_read_kernel(ch(&h1), buf, &nb, NULL, &nh));
    EXPECT_EQ(memcmp(buf, "cd", 2), 0);
    EXPECT_EQ(kobject_signals(h1.obj), ZX_CHANNEL_PEER_CLOSED);
    nb = sizeof(buf);
    EXPECT_STATUS(channel_read_kernel(ch(&h1), buf, &nb, NULL, &nh), ZX_ERR_PEER_CLOSED);
    kobject_t *o = h1.obj;
    handle_ref_release(&h1);
    kobject_unref(o);
    handle_ref_release(&e0);
    EXPECT_NO_LEAK();
}

HTEST(channel, close_releases_queued_handles_recursively) {
    /* A chain: c0 carries c1's peer end, c1 carries c2's, ...; closing the head frees
     * everything. */
    enum { DEPTH = 20 };
    handle_ref_t a[DEPTH], b[DEPTH];
    for (int i = 0; i < DEPTH; i++)
        make_pair(&a[i], &b[i]);
    for (int i = DEPTH - 2; i >= 0; i--) {
        handle_ref_t pass[2] = {a[i + 1], b[i + 1]};
        a[i + 1].obj = b[i + 1].obj = NULL;
        ASSERT_OK(channel_write_kernel(ch(&a[i]), "m", 1, pass, 2));
    }
    handle_ref_release(&a[0]);
    EXPECT_GT(host_kmalloc_live(), (size_t)0); /* b[0] still holds the chain */
    handle_ref_release(&b[0]);
    EXPECT_NO_LEAK();
}

HTEST(channel, both_ends_closed_with_messages_both_ways) {
    handle_ref_t h0, h1;
    make_pair(&h0, &h1);
    for (int i = 0; i < 5; i++) {
        ASSERT_OK(channel_write_kernel(ch(&h0), "0", 1, NULL, 0));
        ASSERT_OK(channel_write_kernel(ch(&h1), "1", 1, NULL, 0));
    }
    handle_ref_release(&h1);
    handle_ref_release(&h0);
    EXPECT_NO_LEAK();
}

/* The peer written into its own queue: nobody can read that queue, and the endpoint
 * (held only by itself) must be freed, not leaked (the collector closes it at the write;
 * test_gc.c checks the details). */
HTEST(channel, self_cycle_freed_when_peer_closes) {
    handle_ref_t h0, h1;
    make_pair(&h0, &h1);
    ASSERT_OK(channel_write_kernel(ch(&h0), "m", 1, &h1, 1));
    h1.obj = NULL;
    handle_ref_release(&h0);
    EXPECT_NO_LEAK();
}

/* Still readable through a second handle: the queue must survive the peer's close, and
 * go once the second handle does. */
HTEST(channel, self_held_queue_kept_while_another_handle_exists) {
    handle_ref_t h0, h1, extra;
    make_pair(&h0, &h1);
    handle_ref_dup(&h1, ZX_RIGHT_READ, &extra);
    ASSERT_OK(channel_write_kernel(ch(&h0), "m", 1, &h1, 1));
    h1.obj = NULL;
    handle_ref_release(&h0);
    EXPECT_TRUE(kobject_signals(extra.obj) & ZX_CHANNEL_READABLE);
    EXPECT_TRUE(kobject_signals(extra.obj) & ZX_CHANNEL_PEER_CLOSED);
    handle_ref_release(&extra); /* now only the queue holds it: freed */
    EXPECT_NO_LEAK();
}

HTEST(channel, out_of_memory) {
    channel_t *a, *b;
    host_kmalloc_fail_nth(2);
    EXPECT_STATUS(channel_create(&a, &b), ZX_ERR_NO_MEMORY);
    EXPECT_NO_LEAK();
    handle_ref_t h0, h1, e0, e1;
    make_pair(&h0, &h1);
    make_pair(&e0, &e1);
    host_kmalloc_fail_nth(1);
    EXPECT_STATUS(channel_write_kernel(ch(&h0), "x", 1, &e1, 1), ZX_ERR_NO_MEMORY);
    EXPECT_NULL(e1.obj);
    EXPECT_EQ(kobject_signals(h1.obj), ZX_CHANNEL_WRITABLE);
    handle_ref_release(&h0);
    handle_ref_release(&h1);
    handle_ref_release(&e0);
    EXPECT_NO_LEAK();
}
