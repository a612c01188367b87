/*
 * In-kernel tests of the handle table's batches, chunk walks and mutex (test=handle_table):
 * add_many grows the table and adds all or nothing, remove_many removes in array order
 * (a repeat or a stale value finds nothing), a destroyed table takes nothing, a walk
 * visits every chunk, and kernel threads hammering one table at once lose nothing.
 * Runs under PMM fault injection too: a NO_MEMORY ends a test quietly after cleaning up.
 */
#include <kernel/ktest.h>
#include <kernel/thread.h>
#include <lib/string.h>
#include <object/channel.h>
#include "../sched/ktest_thread.h"

#define HK_BATCH HANDLE_TABLE_BATCH_MAX
#define HK_THREADS 4
#define HK_ROUNDS 60
#define HK_PER_ROUND 8u

/* A channel pair to make handles to: *a gets the pair's references as handles (the
 * endpoints go when the last handle of either is released). */
static bool hk_pair(handle_ref_t *a, handle_ref_t *b) {
    channel_t *x, *y;
    if (channel_create(&x, &y) != ZX_OK)
        return false;
    handle_ref_init(a, channel_kobj(x), ZX_RIGHT_READ | ZX_RIGHT_TRANSFER);
    handle_ref_init(b, channel_kobj(y), ZX_RIGHT_READ);
    kobject_unref(channel_kobj(x));
    kobject_unref(channel_kobj(y));
    return true;
}

static void hk_count(void *ctx, zx_handle_t value, kobject_t *obj, zx_rights_t rights) {
    (void)value;
    (void)obj;
    (void)rights;
    (*(uint32_t *)ctx)++;
}

KTEST(handle_table, batches_all_or_nothing_in_array_order) {
    handle_table_t *ht = handle_table_create();
    if (ht == NULL)
        return;
    handle_ref_t a, b;
    if (!hk_pair(&a, &b)) {
        handle_table_destroy(ht);
        return;
    }
    /* One handle, then a full batch: the first chunk (64 slots) has 63 free, so the
     * batch grows the table by a chunk first. */
    zx_handle_t first;
    handle_ref_t one;
    handle_ref_dup(&a, ZX_RIGHT_READ, &one);
    zx_status_t s = handle_table_add_ref(ht, &one, &first);
    handle_ref_t refs[HK_BATCH];
    zx_handle_t values[HK_BATCH];
    for (uint32_t i = 0; i < HK_BATCH; i++)
        handle_ref_dup(&a, ZX_RIGHT_READ | (i & 1 ? ZX_RIGHT_WRITE : 0), &refs[i]);
    if (s == ZX_OK)
        s = handle_table_add_many(ht, refs, HK_BATCH, values);
    if (s != ZX_OK) {
        EXPECT_STATUS(s, ZX_ERR_NO_MEMORY);
        for (uint32_t i = 0; i < HK_BATCH; i++)
            handle_ref_release(&refs[i]); /* still ours: nothing was added */
        handle_ref_release(&one);
        handle_table_destroy(ht);
        handle_ref_release(&a);
        handle_ref_release(&b);
        return;
    }
    EXPECT_EQ(handle_table_count(ht), (size_t)HK_BATCH + 1);
    for (uint32_t i = 0; i < HK_BATCH; i++) {
        EXPECT_NULL(refs[i].obj); /* consumed */
        EXPECT_NE(values[i], first);
        if (i > 0)
            EXPECT_NE(values[i], values[i - 1]);
        kobject_t *o;
        zx_rights_t r;
        ASSERT_OK(handle_table_get(ht, values[i], ZX_OBJ_TYPE_CHANNEL, 0, &o, &r));
        EXPECT_EQ(o, a.obj);
        EXPECT_EQ(r, ZX_RIGHT_READ | (i & 1 ? ZX_RIGHT_WRITE : 0));
        kobject_unref(o);
    }

    /* A walk sees every handle, in two chunks, and nothing past them. */
    uint32_t seen = 0;
    EXPECT_TRUE(handle_table_visit_chunk(ht, 0, hk_count, &seen));
    EXPECT_TRUE(handle_table_visit_chunk(ht, 1, hk_count, &seen));
    EXPECT_FALSE(handle_table_visit_chunk(ht, 2, hk_count, &seen));
    EXPECT_EQ(seen, HK_BATCH + 1);

    /* Remove: values[0], a repeat of it, ZX_HANDLE_INVALID, a stale value (first, closed
     * just before), values[1]. Array order: the repeat finds the slot already free. */
    handle_ref_t gone;
    ASSERT_OK(handle_table_remove(ht, first, &gone));
    handle_ref_release(&gone);
    zx_handle_t rm[5] = {values[0], values[0], ZX_HANDLE_INVALID, first, values[1]};
    handle_ref_t out[5];
    EXPECT_EQ(handle_table_remove_many(ht, rm, 5, out), 2u);
    EXPECT_EQ(out[0].obj, a.obj);
    EXPECT_EQ(out[0].rights, ZX_RIGHT_READ);
    EXPECT_NULL(out[1].obj);
    EXPECT_NULL(out[2].obj);
    EXPECT_NULL(out[3].obj);
    EXPECT_EQ(out[4].obj, a.obj);
    EXPECT_EQ(out[4].rights, ZX_RIGHT_READ | ZX_RIGHT_WRITE);
    for (uint32_t i = 0; i < 5; i++)
        handle_ref_release(&out[i]);
    EXPECT_EQ(handle_table_count(ht), (size_t)HK_BATCH - 2);
    EXPECT_FALSE(handle_table_valid(ht, values[0]));
    EXPECT_TRUE(handle_table_valid(ht, values[2]));

    /* The rest in one batch; then the table is empty. */
    EXPECT_EQ(handle_table_remove_many(ht, values + 2, HK_BATCH - 2, refs), HK_BATCH - 2);
    for (uint32_t i = 0; i < HK_BATCH - 2; i++)
        handle_ref_release(&refs[i]);
    EXPECT_EQ(handle_table_count(ht), (size_t)0);
    EXPECT_FALSE(kobject_signals(b.obj) & ZX_CHANNEL_PEER_CLOSED); /* a still has one */

    /* A destroyed table takes nothing: the handles stay with the caller. */
    handle_table_ref(ht);
    handle_table_destroy(ht);
    handle_ref_dup(&a, ZX_RIGHT_READ, &refs[0]);
    EXPECT_STATUS(handle_table_add_many(ht, refs, 1, values), ZX_ERR_NO_MEMORY);
    EXPECT_EQ(refs[0].obj, a.obj);
    EXPECT_FALSE(handle_table_visit_chunk(ht, 0, hk_count, &seen));
    handle_ref_release(&refs[0]);
    handle_table_unref(ht);

    handle_ref_release(&a);
    EXPECT_TRUE(kobject_signals(b.obj) & ZX_CHANNEL_PEER_CLOSED); /* every handle went */
    handle_ref_release(&b);
}

/* Several threads on one table: each adds a batch of handles to the shared endpoint,
 * checks each is its own (right bits name the thread and round), and removes them, while
 * the table grows and shrinks under the others. */
struct hk_shared {
    handle_table_t *ht;
    handle_ref_t end;
    volatile uint32_t errors;
    volatile uint32_t no_memory;
};

struct hk_worker_arg {
    struct hk_shared *sh;
    uint32_t id;
};

static int hk_worker(void *arg) {
    struct hk_worker_arg *wa = arg;
    struct hk_shared *sh = wa->sh;
    for (int round = 0; round < HK_ROUNDS; round++) {
        handle_ref_t refs[HK_PER_ROUND];
        zx_handle_t values[HK_PER_ROUND];
        zx_rights_t tag = ((zx_rights_t)round << 8) | wa->id;
        for (uint32_t i = 0; i < HK_PER_ROUND; i++)
            handle_ref_dup(&sh->end, tag, &refs[i]);
        if (handle_table_add_many(sh->ht, refs, HK_PER_ROUND, values) != ZX_OK) {
            __atomic_add_fetch(&sh->no_memory, 1, __ATOMIC_RELAXED);
            for (uint32_t i = 0; i < HK_PER_ROUND; i++)
                handle_ref_release(&refs[i]);
            continue;
        }
        if (round % 4 == 0)
            thread_yield();
        for (uint32_t i = 0; i < HK_PER_ROUND; i++) {
            kobject_t *o;
            zx_rights_t r;
            if (handle_table_get(sh->ht, values[i], ZX_OBJ_TYPE_NONE, 0, &o, &r) != ZX_OK) {
                __atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
                continue;
            }
            if (o != sh->end.obj || r != tag)
                __atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
            kobject_unref(o);
        }
        if (handle_table_remove_many(sh->ht, values, HK_PER_ROUND, refs) != HK_PER_ROUND)
            __atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
        for (uint32_t i = 0; i < HK_PER_ROUND; i++)
            handle_ref_release(&refs[i]);
    }
    return 0;
}

KTEST(handle_table, threads_share_one_table) {
    struct hk_shared sh = {handle_table_create(), {NULL, 0}, 0, 0};
    if (sh.ht == NULL)
        return;
    handle_ref_t peer;
    if (!hk_pair(&sh.end, &peer)) {
        handle_table_destroy(sh.ht);
        return;
    }
    struct kt_thread ts[HK_THREADS];
    struct hk_worker_arg args[HK_THREADS];
    for (int i = 0; i < HK_THREADS; i++) {
        args[i] = (struct hk_worker_arg){&sh, (uint32_t)i + 1};
        kt_spawn(&ts[i], "ht-test", hk_worker, &args[i]);
    }
    /* A walker alongside: the handles it sees are always the workers' endpoint. */
    for (int pass = 0; pass < HK_ROUNDS; pass++) {
        uint32_t n = 0;
        handle_table_for_each(sh.ht, hk_count, &n);
        EXPECT_LE(n, (uint32_t)HK_THREADS * HK_PER_ROUND);
        thread_yield();
    }
    for (int i = 0; i < HK_THREADS; i++)
        kt_join(&ts[i]);
    EXPECT_EQ(sh.errors, 0u);
    EXPECT_EQ(handle_table_count(sh.ht), (size_t)0);
    handle_table_destroy(sh.ht);
    handle_ref_release(&sh.end);
    handle_ref_release(&peer);
}
