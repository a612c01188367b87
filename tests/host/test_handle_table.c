/*
 * Host tests for kernel objects and handle tables (kernel/object/kobject.c,
 * handle_table.c): value encoding, no immediate reuse, lookup order, growth, reference
 * and handle counts, destroy releasing everything. Every test ends leak-free
 * (host_kmalloc_live back to zero, every fake object destroyed).
 */
#include "htest.h"

#include <stdlib.h>

#include <object/handle.h>

#include "object_host_stubs.h"

struct fake {
    kobject_t obj;
    int *destroyed;
    int *zero_handles;
};

static void fake_destroy(kobject_t *obj) {
    struct fake *f = (struct fake *)obj;
    (*f->destroyed)++;
    free(f);
}

static void fake_zero_handles(kobject_t *obj) {
    struct fake *f = (struct fake *)obj;
    (*f->zero_handles)++;
}

static const struct kobject_ops fake_ops = {
    .type = ZX_OBJ_TYPE_EVENT,
    .type_name = "fake",
    .destroy = fake_destroy,
    .on_zero_handles = fake_zero_handles,
};

static int destroyed, zero_handles;

static kobject_t *fake_new(void) {
    struct fake *f = malloc(sizeof(*f));
    kobject_init(&f->obj, &fake_ops);
    f->destroyed = &destroyed;
    f->zero_handles = &zero_handles;
    return &f->obj;
}

static void reset(void) {
    destroyed = zero_handles = 0;
}

#define EXPECT_NO_LEAK() EXPECT_EQ(host_kmalloc_live(), (size_t)0)

HTEST(kobject, koids_increase_from_first) {
    reset();
    kobject_t *a = fake_new();
    kobject_t *b = fake_new();
    EXPECT_GE(a->koid, ZX_KOID_FIRST);
    EXPECT_GT(b->koid, a->koid);
    EXPECT_EQ(a->refs, 1u);
    EXPECT_EQ(a->handle_count, 0u);
    kobject_unref(a);
    kobject_unref(b);
    EXPECT_EQ(destroyed, 2);
}

HTEST(kobject, signal_and_wait_without_blocking) {
    reset();
    kobject_t *a = fake_new();
    kobject_signal(a, 0, ZX_USER_SIGNAL_0 | 1u);
    EXPECT_EQ(kobject_signals(a), ZX_USER_SIGNAL_0 | 1u);
    kobject_signal(a, 1u, 0);
    EXPECT_EQ(kobject_signals(a), ZX_USER_SIGNAL_0);
    zx_signals_t seen = 0;
    EXPECT_OK(kobject_wait(a, ZX_USER_SIGNAL_0, 0, NULL, NULL, &seen));
    EXPECT_EQ(seen, ZX_USER_SIGNAL_0);
    /* The host wait queue only times out. */
    EXPECT_STATUS(kobject_wait(a, 2u, 0, NULL, NULL, &seen), ZX_ERR_TIMED_OUT);
    kobject_unref(a);
}

static bool never_valid(void *ctx) {
    (*(int *)ctx)++;
    return false;
}

HTEST(kobject, wait_canceled_when_not_valid) {
    reset();
    kobject_t *a = fake_new();
    int calls = 0;
    zx_signals_t seen = 0;
    EXPECT_STATUS(kobject_wait(a, 1u, ZX_TIME_INFINITE, never_valid, &calls, &seen),
                  ZX_ERR_CANCELED);
    EXPECT_EQ(calls, 1);
    /* Satisfied signals win over the validity check. */
    kobject_signal(a, 0, 1u);
    EXPECT_OK(kobject_wait(a, 1u, ZX_TIME_INFINITE, never_valid, &calls, &seen));
    kobject_unref(a);
}

HTEST(handle_table, encoding) {
    reset();
    handle_table_t *ht = handle_table_create();
    ASSERT_NONNULL(ht);
    kobject_t *a = fake_new();
    for (int i = 0; i < 200; i++) {
        zx_handle_t v;
        ASSERT_OK(handle_table_add(ht, a, ZX_RIGHT_READ, &v));
        EXPECT_NE(v, ZX_HANDLE_INVALID);
        EXPECT_EQ(v & ZX_HANDLE_FIXED_BITS_MASK, ZX_HANDLE_FIXED_BITS_MASK);
        EXPECT_TRUE(handle_table_valid(ht, v));
    }
    EXPECT_EQ(handle_table_count(ht), (size_t)200);
    EXPECT_EQ(a->handle_count, 200u);
    EXPECT_EQ(a->refs, 201u);
    EXPECT_FALSE(handle_table_valid(ht, ZX_HANDLE_INVALID));
    EXPECT_FALSE(handle_table_valid(ht, 0x100)); /* low bits clear */
    kobject_unref(a);
    EXPECT_EQ(destroyed, 0);
    handle_table_destroy(ht);
    EXPECT_EQ(zero_handles, 1);
    EXPECT_EQ(destroyed, 1);
    EXPECT_NO_LEAK();
}

HTEST(handle_table, no_immediate_reuse) {
    reset();
    handle_table_t *ht = handle_table_create();
    kobject_t *a = fake_new();
    zx_handle_t first;
    ASSERT_OK(handle_table_add(ht, a, 0, &first));
    /* Close and re-add many times: the closed value must not come back soon. */
    zx_handle_t prev = first;
    for (int i = 0; i < 1000; i++) {
        handle_ref_t h;
        ASSERT_OK(handle_table_remove(ht, prev, &h));
        EXPECT_FALSE(handle_table_valid(ht, prev));
        EXPECT_STATUS(handle_table_remove(ht, prev, &h), ZX_ERR_BAD_HANDLE);
        zx_handle_t v;
        ASSERT_OK(handle_table_add_ref(ht, &h, &v));
        EXPECT_NULL(h.obj);
        EXPECT_NE(v, prev);
        EXPECT_NE(v, first);
        prev = v;
    }
    EXPECT_EQ(zero_handles, 0);
    kobject_unref(a);
    handle_table_destroy(ht);
    EXPECT_EQ(destroyed, 1);
    EXPECT_NO_LEAK();
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

HTEST(handle_table, values_unique_across_growth) {
    reset();
    enum { N = 1000 };
    static zx_handle_t vals[N];
    handle_table_t *ht = handle_table_create();
    kobject_t *a = fake_new();
    for (int i = 0; i < N; i++) {
        ASSERT_OK(handle_table_add(ht, a, (zx_rights_t)i, &vals[i]));
    }
    /* Every value still resolves to its own rights after the array grew. */
    for (int i = 0; i < N; i++) {
        kobject_t *o;
        zx_rights_t r;
        ASSERT_OK(handle_table_get(ht, vals[i], ZX_OBJ_TYPE_NONE, 0, &o, &r));
        EXPECT_EQ(o, a);
        EXPECT_EQ(r, (zx_rights_t)i);
        kobject_unref(o);
    }
    qsort(vals, N, sizeof(vals[0]), cmp_u32);
    for (int i = 1; i < N; i++)
        EXPECT_NE(vals[i], vals[i - 1]);
    kobject_unref(a);
    handle_table_destroy(ht);
    EXPECT_EQ(destroyed, 1);
    EXPECT_NO_LEAK();
}

HTEST(handle_table, growth_failure_changes_nothing) {
    reset();
    handle_table_t *ht = handle_table_create();
    kobject_t *a = fake_new();
    zx_handle_t v;
    for (int i = 0; i < 64; i++)
        ASSERT_OK(handle_table_add(ht, a, 0, &v));
    host_kmalloc_fail_nth(1);
    EXPECT_STATUS(handle_table_add(ht, a, 0, &v), ZX_ERR_NO_MEMORY);
    EXPECT_EQ(handle_table_count(ht), (size_t)64);
    EXPECT_EQ(a->handle_count, 64u);
    EXPECT_EQ(a->refs, 65u);
    handle_ref_t h;
    handle_ref_init(&h, a, 0);
    host_kmalloc_fail_nth(1);
    EXPECT_STATUS(handle_table_add_ref(ht, &h, &v), ZX_ERR_NO_MEMORY);
    EXPECT_EQ(h.obj, a); /* stays with the caller */
    handle_ref_release(&h);
    EXPECT_OK(handle_table_add(ht, a, 0, &v));
    kobject_unref(a);
    handle_table_destroy(ht);
    EXPECT_EQ(destroyed, 1);
    EXPECT_EQ(zero_handles, 1);
    EXPECT_NO_LEAK();
}

static const struct kobject_ops other_ops = {
    .type = ZX_OBJ_TYPE_VMO,
    .type_name = "other",
    .destroy = fake_destroy,
};

HTEST(handle_table, lookup_order) {
    reset();
    handle_table_t *ht = handle_table_create();
    struct fake *f = malloc(sizeof(*f));
    kobject_init(&f->obj, &other_ops);
    f->destroyed = &destroyed;
    f->zero_handles = &zero_handles;
    zx_handle_t v;
    ASSERT_OK(handle_table_add(ht, &f->obj, ZX_RIGHT_READ, &v));
    kobject_t *o = NULL;
    /* Bad handle beats wrong type beats missing right. */
    EXPECT_STATUS(handle_table_get(ht, v ^ 0x4, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_WRITE, &o, NULL),
                  ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(handle_table_get(ht, v, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_WRITE, &o, NULL),
                  ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(handle_table_get(ht, v, ZX_OBJ_TYPE_VMO, ZX_RIGHT_WRITE, &o, NULL),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(handle_table_get(ht, v, ZX_OBJ_TYPE_NONE, ZX_RIGHT_READ | ZX_RIGHT_WRITE, &o,
                                   NULL),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_NULL(o);
    ASSERT_OK(handle_table_get(ht, v, ZX_OBJ_TYPE_VMO, ZX_RIGHT_READ, &o, NULL));
    EXPECT_EQ(o, &f->obj);
    EXPECT_EQ(f->obj.refs, 3u);
    kobject_unref(o);
    /* A stale value of a removed handle is BAD_HANDLE, even with a new handle in the
     * same slot. */
    handle_ref_t h;
    ASSERT_OK(handle_table_remove(ht, v, &h));
    EXPECT_STATUS(handle_table_get(ht, v, ZX_OBJ_TYPE_NONE, 0, &o, NULL), ZX_ERR_BAD_HANDLE);
    handle_ref_release(&h);
    kobject_unref(&f->obj);
    EXPECT_EQ(destroyed, 1);
    handle_table_destroy(ht);
    EXPECT_NO_LEAK();
}

static void count_cb(void *ctx, zx_handle_t value, kobject_t *obj, zx_rights_t rights) {
    (*(int *)ctx)++;
}

HTEST(handle_table, destroy_releases_everything) {
    reset();
    handle_table_t *ht = handle_table_create();
    zx_handle_t v;
    for (int i = 0; i < 150; i++) {
        kobject_t *o = fake_new();
        ASSERT_OK(handle_table_add(ht, o, 0, &v));
        if (i % 3 == 0)
            ASSERT_OK(handle_table_add(ht, o, 0, &v));
        kobject_unref(o); /* the table now holds the only references */
    }
    int n = 0;
    handle_table_for_each(ht, count_cb, &n);
    EXPECT_EQ(n, 200);
    EXPECT_EQ(destroyed, 0);
    handle_table_destroy(ht);
    EXPECT_EQ(destroyed, 150);
    EXPECT_EQ(zero_handles, 150);
    EXPECT_NO_LEAK();
}

HTEST(handle_table, ref_dup_and_release) {
    reset();
    kobject_t *a = fake_new();
    handle_ref_t h1, h2;
    handle_ref_init(&h1, a, ZX_RIGHT_READ | ZX_RIGHT_WRITE);
    handle_ref_dup(&h1, ZX_RIGHT_READ, &h2);
    EXPECT_EQ(a->handle_count, 2u);
    EXPECT_EQ(h2.rights, ZX_RIGHT_READ);
    kobject_unref(a);
    handle_ref_release(&h1);
    EXPECT_NULL(h1.obj);
    EXPECT_EQ(zero_handles, 0);
    handle_ref_release(&h2);
    EXPECT_EQ(zero_handles, 1);
    EXPECT_EQ(destroyed, 1);
}
