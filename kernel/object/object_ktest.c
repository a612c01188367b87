/*
 * In-kernel tests of handle tables and channels on the real heap (test=object). The
 * blocking and user-copy paths need a scheduler and a process and are covered from user
 * space. Runs under PMM fault injection too: a NO_MEMORY skips the rest of a test
 * after cleaning up (the runner checks the heap is back where it started).
 */
#include <kernel/ktest.h>
#include <lib/string.h>
#include <object/channel.h>

KTEST(object, handle_table_basics) {
    handle_table_t *ht = handle_table_create();
    if (ht == NULL)
        return;
    channel_t *a, *b;
    if (channel_create(&a, &b) != ZX_OK) {
        handle_table_destroy(ht);
        return;
    }
    zx_handle_t va = ZX_HANDLE_INVALID, vb = ZX_HANDLE_INVALID;
    zx_status_t s = handle_table_add(ht, channel_kobj(a), ZX_RIGHT_READ, &va);
    if (s == ZX_OK)
        s = handle_table_add(ht, channel_kobj(b), ZX_RIGHT_WRITE, &vb);
    kobject_unref(channel_kobj(a));
    kobject_unref(channel_kobj(b));
    if (s == ZX_OK) {
        EXPECT_EQ(va & 3u, 3u);
        EXPECT_NE(va, vb);
        EXPECT_EQ(handle_table_count(ht), (size_t)2);
        kobject_t *o;
        EXPECT_STATUS(handle_table_get(ht, va, ZX_OBJ_TYPE_VMO, ZX_RIGHT_WRITE, &o, NULL),
                      ZX_ERR_WRONG_TYPE);
        EXPECT_STATUS(handle_table_get(ht, va, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_WRITE, &o, NULL),
                      ZX_ERR_ACCESS_DENIED);
        EXPECT_STATUS(handle_table_get(ht, va ^ (1u << 30), ZX_OBJ_TYPE_CHANNEL, 0, &o, NULL),
                      ZX_ERR_BAD_HANDLE);
        handle_ref_t h;
        ASSERT_OK(handle_table_remove(ht, vb, &h));
        handle_ref_release(&h);
        EXPECT_TRUE(kobject_signals(channel_kobj(a)) & ZX_CHANNEL_PEER_CLOSED);
        EXPECT_FALSE(handle_table_valid(ht, vb));
    }
    handle_table_destroy(ht); /* frees both endpoints */
}

KTEST(object, channel_roundtrip_with_handle) {
    channel_t *a, *b, *c, *d;
    if (channel_create(&a, &b) != ZX_OK)
        return;
    if (channel_create(&c, &d) != ZX_OK) {
        handle_ref_t x, y;
        handle_ref_init(&x, channel_kobj(a), 0);
        handle_ref_init(&y, channel_kobj(b), 0);
        kobject_unref(channel_kobj(a));
        kobject_unref(channel_kobj(b));
        handle_ref_release(&x);
        handle_ref_release(&y);
        return;
    }
    handle_ref_t ha, hb, hc, hd;
    handle_ref_init(&ha, channel_kobj(a), ZX_RIGHT_READ | ZX_RIGHT_WRITE);
    handle_ref_init(&hb, channel_kobj(b), ZX_RIGHT_READ | ZX_RIGHT_WRITE);
    handle_ref_init(&hc, channel_kobj(c), ZX_RIGHT_READ | ZX_RIGHT_WRITE);
    handle_ref_init(&hd, channel_kobj(d), ZX_RIGHT_TRANSFER);
    kobject_unref(channel_kobj(a));
    kobject_unref(channel_kobj(b));
    kobject_unref(channel_kobj(c));
    kobject_unref(channel_kobj(d));

    zx_status_t s = channel_write_kernel(a, "ping", 4, &hd, 1);
    EXPECT_NULL(hd.obj);
    if (s == ZX_OK) {
        char buf[8];
        handle_ref_t got;
        uint32_t nb = sizeof(buf), nh = 1;
        ASSERT_OK(channel_read_kernel(b, buf, &nb, &got, &nh));
        EXPECT_EQ(nb, 4u);
        EXPECT_EQ(nh, 1u);
        EXPECT_EQ(memcmp(buf, "ping", 4), 0);
        EXPECT_EQ(got.rights, ZX_RIGHT_TRANSFER);
        EXPECT_EQ(got.obj, channel_kobj(d));
        handle_ref_release(&got);
    } else {
        EXPECT_STATUS(s, ZX_ERR_NO_MEMORY);
    }
    EXPECT_TRUE(kobject_signals(channel_kobj(c)) & ZX_CHANNEL_PEER_CLOSED);
    uint32_t nb = 0, nh = 0;
    EXPECT_STATUS(channel_read_kernel(c, NULL, &nb, NULL, &nh), ZX_ERR_PEER_CLOSED);
    EXPECT_STATUS(channel_read_kernel(b, NULL, &nb, NULL, &nh), ZX_ERR_SHOULD_WAIT);
    handle_ref_release(&ha);
    handle_ref_release(&hb);
    handle_ref_release(&hc);
}
