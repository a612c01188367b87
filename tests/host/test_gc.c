/*
 * Host tests of the handle-cycle collector (kernel/object/gc.c) on graphs built from real
 * channel endpoints (kernel/object/channel.c) and, for mixed graphs, a test-only container
 * type ("box": a kobject holding handles, like a family table). Roots are handle_ref_t
 * variables of the test (handles the kernel holds in flight). Every test ends with no
 * kmalloc'ed block left.
 *
 * The random test builds graphs with HTEST_SEED (printed) and checks after every step
 * that an endpoint is closed (its peer sees PEER_CLOSED) exactly when a model says it is
 * unreachable.
 */
#include "htest.h"

#include <stdlib.h>

#include <object/channel.h>
#include <object/gc.h>

#include "../../kernel/object/channel_priv.h"
#include "object_host_stubs.h"

#define EXPECT_NO_LEAK() EXPECT_EQ(host_kmalloc_live(), (size_t)0)
#define RW_T (ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_TRANSFER | ZX_RIGHT_DUPLICATE)

static void make_pair(handle_ref_t *h0, handle_ref_t *h1) {
    channel_t *a, *b;
    ASSERT_OK(channel_create(&a, &b));
    handle_ref_init(h0, channel_kobj(a), RW_T);
    handle_ref_init(h1, channel_kobj(b), RW_T);
    kobject_unref(channel_kobj(a));
    kobject_unref(channel_kobj(b));
}

static channel_t *ch(handle_ref_t *h) { return (channel_t *)h->obj; }

static bool peer_closed(handle_ref_t *h) {
    return (kobject_signals(h->obj) & ZX_CHANNEL_PEER_CLOSED) != 0;
}

/* Writes *h (consumed) with a one-byte tag through the endpoint w. */
static zx_status_t send(handle_ref_t *w, handle_ref_t *h, uint8_t tag) {
    handle_ref_t moved = *h;
    h->obj = NULL;
    return channel_write_kernel(ch(w), &tag, 1, &moved, 1);
}

static uint64_t collected_count(void) {
    struct gc_stats s;
    gc_get_stats(&s);
    return s.collected;
}

/* a1 in b1's queue and b1 in a1's queue: unreachable the moment the second write lands,
 * although the writing ends a0 / b0 are still held. */
HTEST(gc, two_cycle_collected_at_once) {
    handle_ref_t a0, a1, b0, b1;
    make_pair(&a0, &a1);
    make_pair(&b0, &b1);
    ASSERT_OK(send(&b0, &a1, 'a'));
    EXPECT_FALSE(peer_closed(&a0)); /* a1 is readable through b1 */
    uint64_t before = collected_count();
    ASSERT_OK(send(&a0, &b1, 'b'));
    EXPECT_TRUE(peer_closed(&a0));
    EXPECT_TRUE(peer_closed(&b0));
    EXPECT_EQ(collected_count() - before, (uint64_t)2);
    /* Writing into a collected endpoint fails like writing to a closed one. */
    EXPECT_STATUS(channel_write_kernel(ch(&a0), "x", 1, NULL, 0), ZX_ERR_PEER_CLOSED);
    handle_ref_release(&a0);
    handle_ref_release(&b0);
    EXPECT_NO_LEAK();
}

/* An endpoint written into its own queue (its peer still open) can never be read. */
HTEST(gc, self_cycle_collected_while_peer_open) {
    handle_ref_t h0, h1;
    make_pair(&h0, &h1);
    ASSERT_OK(channel_write_kernel(ch(&h0), "q", 1, NULL, 0));
    ASSERT_OK(send(&h0, &h1, 's'));
    EXPECT_TRUE(peer_closed(&h0));
    handle_ref_release(&h0);
    EXPECT_NO_LEAK();
}

/* A chain of n endpoints: e[i]'s queue holds e[i+1]; only e[0] and the writing ends
 * stay with the caller, who may close the cycle by sending e[0] through w[n-1]. */
static void build_chain(int n, handle_ref_t *w, handle_ref_t *e) {
    for (int i = 0; i < n; i++)
        make_pair(&w[i], &e[i]);
    for (int i = 1; i < n; i++)
        ASSERT_OK(send(&w[i - 1], &e[i], (uint8_t)i));
}

HTEST(gc, long_cycle_collected) {
    enum { N = 1000 };
    static handle_ref_t w[N], e[N];
    build_chain(N, w, e);
    for (int i = 0; i < N; i++)
        EXPECT_FALSE(peer_closed(&w[i]));
    ASSERT_OK(send(&w[N - 1], &e[0], 0)); /* closes the cycle: all unreachable */
    for (int i = 0; i < N; i++)
        EXPECT_TRUE(peer_closed(&w[i]));
    for (int i = 0; i < N; i++)
        handle_ref_release(&w[i]);
    EXPECT_NO_LEAK();
}

/* The same cycle with a second handle to one member is reachable: nothing is closed, and
 * reading around it gives back every endpoint with its messages in order. */
HTEST(gc, cycle_with_outside_handle_kept_and_readable) {
    enum { N = 50 };
    static handle_ref_t w[N], e[N];
    build_chain(N, w, e);
    handle_ref_t keep;
    handle_ref_dup(&e[0], RW_T, &keep);
    ASSERT_OK(send(&w[N - 1], &e[0], 0));
    for (int i = 0; i < N; i++)
        EXPECT_FALSE(peer_closed(&w[i]));
    /* Walk: keep -> e[1] -> ... -> e[N-1] -> e[0] (the same object as keep), keeping every
     * handle read (dropping one would close an endpoint it alone held). */
    static handle_ref_t got[N + 1];
    got[0] = keep;
    for (int i = 1; i <= N; i++) {
        uint8_t tag = 0xff;
        uint32_t nb = 1, nh = 1;
        ASSERT_OK(channel_read_kernel(ch(&got[i - 1]), &tag, &nb, &got[i], &nh));
        EXPECT_EQ(nh, 1u);
        EXPECT_EQ(tag, (uint8_t)(i % N));
        EXPECT_EQ(got[i].obj->koid, w[i % N].obj->ops->related_koid(w[i % N].obj));
    }
    /* Every queue is empty and every peer still open. */
    for (int i = 0; i < N; i++)
        EXPECT_FALSE(peer_closed(&w[i]));
    for (int i = 0; i <= N; i++)
        handle_ref_release(&got[i]);
    for (int i = 0; i < N; i++)
        handle_ref_release(&w[i]);
    EXPECT_NO_LEAK();
}

/* A cycle whose queues also hold (a) a chain of endpoints hanging off it and (b) a handle
 * to an endpoint that the test also holds: the cycle and the chain go; the held endpoint
 * (and what its own queue holds) stays and works. */
HTEST(gc, garbage_with_tail_and_a_reachable_branch) {
    handle_ref_t cw[2], ce[2], tw[3], te[3], r0, r1, x0, x1;
    build_chain(2, cw, ce);
    for (int i = 0; i < 3; i++)
        make_pair(&tw[i], &te[i]);
    ASSERT_OK(send(&tw[1], &te[2], 't')); /* te1 holds te2 */
    ASSERT_OK(send(&tw[0], &te[1], 't')); /* te0 holds te1 */
    ASSERT_OK(send(&cw[0], &te[0], 't')); /* ce0 holds te0 */
    make_pair(&r0, &r1);
    make_pair(&x0, &x1);
    ASSERT_OK(send(&r0, &x1, 'x')); /* r1 (held) holds x1 */
    handle_ref_t r1_dup;
    handle_ref_dup(&r1, RW_T, &r1_dup);
    ASSERT_OK(send(&cw[1], &r1_dup, 'r')); /* ce1 holds a second handle to r1 */
    ASSERT_OK(send(&cw[1], &ce[0], 'c')); /* closes the cycle ce0 <-> ce1 */
    for (int i = 0; i < 2; i++)
        EXPECT_TRUE(peer_closed(&cw[i]));
    for (int i = 0; i < 3; i++)
        EXPECT_TRUE(peer_closed(&tw[i]));
    EXPECT_FALSE(peer_closed(&r0));
    EXPECT_FALSE(peer_closed(&x0));
    uint8_t tag = 0;
    uint32_t nb = 1, nh = 1;
    handle_ref_t got = {0};
    ASSERT_OK(channel_read_kernel(ch(&r1), &tag, &nb, &got, &nh));
    EXPECT_EQ(tag, 'x');
    EXPECT_EQ(got.obj->koid, x0.obj->ops->related_koid(x0.obj));
    handle_ref_release(&got);
    EXPECT_TRUE(peer_closed(&x0));
    handle_ref_t *all[] = {&cw[0], &cw[1], &tw[0], &tw[1], &tw[2], &r0, &r1, &x0};
    for (size_t i = 0; i < countof(all); i++)
        handle_ref_release(all[i]);
    EXPECT_NO_LEAK();
}

/* A root holds the head of a chain whose last queue holds a second handle into a cycle:
 * the cycle is reachable and stays whole until the root goes. */
HTEST(gc, cycle_reachable_through_a_tail_from_a_root) {
    enum { N = 8, T = 5 };
    handle_ref_t w[N], e[N], tw[T], te[T];
    build_chain(N, w, e);
    build_chain(T, tw, te); /* a chain te0 -> ... -> te4; the test holds te0 */
    handle_ref_t into;
    handle_ref_dup(&e[0], RW_T, &into);
    ASSERT_OK(send(&tw[T - 1], &into, 0));  /* te4's queue holds e0 */
    ASSERT_OK(send(&w[N - 1], &e[0], 0));   /* the cycle closes */
    for (int i = 0; i < N; i++)
        EXPECT_FALSE(peer_closed(&w[i]));
    for (int i = 0; i < T; i++)
        EXPECT_FALSE(peer_closed(&tw[i]));
    handle_ref_release(&te[0]); /* the root: chain and cycle go together */
    for (int i = 0; i < N; i++)
        EXPECT_TRUE(peer_closed(&w[i]));
    for (int i = 0; i < T; i++)
        EXPECT_TRUE(peer_closed(&tw[i]));
    for (int i = 0; i < N; i++)
        handle_ref_release(&w[i]);
    for (int i = 0; i < T; i++)
        handle_ref_release(&tw[i]);
    EXPECT_NO_LEAK();
}

/* The last outside handle closing is what makes the cycle garbage. */
HTEST(gc, closing_last_outside_handle_collects) {
    enum { N = 5 };
    handle_ref_t w[N], e[N], extra;
    build_chain(N, w, e);
    handle_ref_dup(&e[0], RW_T, &extra);
    ASSERT_OK(send(&w[N - 1], &e[0], 0));
    EXPECT_FALSE(peer_closed(&w[2]));
    handle_ref_release(&extra);
    for (int i = 0; i < N; i++)
        EXPECT_TRUE(peer_closed(&w[i]));
    for (int i = 0; i < N; i++)
        handle_ref_release(&w[i]);
    EXPECT_NO_LEAK();
}

/* Messages without tracked handles do not involve the collector at all; a cycle whose
 * queues also hold plain messages still goes, plain messages included. */
HTEST(gc, plain_messages_collected_with_their_queue) {
    handle_ref_t w[2], e[2];
    build_chain(2, w, e);
    for (int i = 0; i < 10; i++)
        ASSERT_OK(channel_write_kernel(ch(&w[0]), "plain", 5, NULL, 0));
    ASSERT_OK(send(&w[1], &e[0], 0));
    EXPECT_TRUE(peer_closed(&w[0]));
    handle_ref_release(&w[0]);
    handle_ref_release(&w[1]);
    EXPECT_NO_LEAK();
}

/*
 * Races, at the granularity the gc lock allows.
 * A reader that looked its endpoint up (a kernel reference, no handle) before the last
 * outside handle went: the endpoint is collected as if that handle had been its last,
 * and the late read sees a closed endpoint, not a half-emptied open one.
 */
HTEST(gc, reader_with_reference_sees_closed_endpoint) {
    handle_ref_t w[2], e[2];
    build_chain(2, w, e);
    kobject_t *reader = e[0].obj;
    kobject_ref(reader);                  /* the reader's lookup */
    ASSERT_OK(send(&w[1], &e[0], 0));     /* last handle of e0 goes into e1's queue */
    uint8_t b;
    uint32_t nb = 1, nh = 1;
    handle_ref_t got = {0};
    EXPECT_STATUS(channel_read_kernel((channel_t *)reader, &b, &nb, &got, &nh),
                  ZX_ERR_PEER_CLOSED);
    kobject_unref(reader);
    handle_ref_release(&w[0]);
    handle_ref_release(&w[1]);
    EXPECT_NO_LEAK();
}

/* A message dequeued before the collection is in flight in the kernel (a root): what it
 * carries survives; put back (a failed copy-out) it closes the cycle again. */
HTEST(gc, dequeued_message_is_a_root_until_requeued) {
    handle_ref_t w[2], e[2], keep;
    build_chain(2, w, e);
    handle_ref_dup(&e[0], RW_T, &keep);
    ASSERT_OK(send(&w[1], &e[0], 0)); /* cycle e0 <-> e1, reachable through keep */
    /* A reader of keep (e0) takes the message carrying e1 out of the queue... */
    channel_msg_t *m = NULL;
    uint32_t nb, nh;
    ASSERT_OK(channel_dequeue(ch(&keep), 1, 1, false, &m, &nb, &nh));
    /* ...and meanwhile the last outside handle is closed: e0 is now only in e1's queue,
     * and e1 is in flight: neither is garbage. */
    kobject_t *e0 = keep.obj;
    kobject_ref(e0);
    handle_ref_release(&keep);
    EXPECT_FALSE(peer_closed(&w[0]));
    EXPECT_FALSE(peer_closed(&w[1]));
    /* The copy-out failed: the message goes back, and the cycle is unreachable again. */
    channel_requeue_front((channel_t *)e0, m);
    EXPECT_TRUE(peer_closed(&w[0]));
    EXPECT_TRUE(peer_closed(&w[1]));
    kobject_unref(e0);
    handle_ref_release(&w[0]);
    handle_ref_release(&w[1]);
    EXPECT_NO_LEAK();
}

/* What other threads may do while a collection runs without the gc lock: read plain
 * messages off a queue being scanned, close handles in roots. The collection stays
 * right and the late close is collected in the next round. */
static handle_ref_t *hook_close;
static channel_t *hook_read;
static int hook_calls;

static void race_hook(void) {
    hook_calls++;
    if (hook_read != NULL) {
        channel_msg_t *m = NULL;
        uint32_t nb, nh;
        while (channel_dequeue(hook_read, 64, 0, false, &m, &nb, &nh) == ZX_OK)
            channel_msg_free(m);
        hook_read = NULL;
    }
    if (hook_close != NULL) {
        handle_ref_release(hook_close);
        hook_close = NULL;
    }
}

HTEST(gc, concurrent_plain_reads_and_root_close) {
    handle_ref_t w[2], e[2], v[2], f[2], extra;
    make_pair(&w[0], &e[0]);
    make_pair(&w[1], &e[1]);
    kobject_t *e1 = e[1].obj;
    kobject_ref(e1);
    ASSERT_OK(send(&w[0], &e[1], 1)); /* e0 holds e1 */
    build_chain(2, v, f);
    handle_ref_dup(&f[0], RW_T, &extra);
    ASSERT_OK(send(&v[1], &f[0], 0)); /* second cycle, reachable through extra */
    for (int i = 0; i < 5; i++)
        ASSERT_OK(channel_write_kernel(ch(&w[1]), "p", 1, NULL, 0)); /* plain, in e1 */
    hook_read = (channel_t *)e1;
    hook_close = &extra;
    hook_calls = 0;
    gc_test_hook = race_hook;
    ASSERT_OK(send(&w[1], &e[0], 0)); /* first cycle: collected, hook runs mid-way */
    gc_test_hook = NULL;
    EXPECT_GE(hook_calls, 2); /* the second round collected the second cycle */
    EXPECT_TRUE(peer_closed(&w[0]));
    EXPECT_TRUE(peer_closed(&w[1]));
    EXPECT_TRUE(peer_closed(&v[0]));
    EXPECT_TRUE(peer_closed(&v[1]));
    kobject_unref(e1);
    handle_ref_t *all[] = {&w[0], &w[1], &v[0], &v[1]};
    for (size_t i = 0; i < countof(all); i++)
        handle_ref_release(all[i]);
    EXPECT_NO_LEAK();
}

/* ---- mixed graphs: a second container type ---- */

/* A box holds handles like a family table: a container while `closed_box`, a root
 * otherwise (like a family with a running member). Reachable iff a handle to it is. */
typedef struct box {
    kobject_t obj;
    gc_node_t gc;
    bool closed_box;       /* gc lock */
    handle_ref_t items[8]; /* gc lock */
    bool detached;
} box_t;

static box_t *gc_to_box(gc_node_t *n) { return containerof(n, box_t, gc); }
static uint32_t box_refs(gc_node_t *n) {
    return __atomic_load_n(&gc_to_box(n)->obj.handle_count, __ATOMIC_SEQ_CST);
}
static bool box_candidate(gc_node_t *n) { return gc_handles_all_contained(n, box_refs(n)); }
static void box_for_each_child(gc_node_t *n, gc_visit_fn fn, void *ctx) {
    box_t *b = gc_to_box(n);
    if (!b->closed_box)
        return;
    for (int i = 0; i < 8; i++) {
        gc_node_t *c = b->items[i].obj ? gc_node_of(b->items[i].obj) : NULL;
        if (c)
            fn(c, ctx);
    }
}
/* Counts or uncounts the contents (gc lock held). */
static void box_contain(box_t *b, int32_t delta) TA_REQ(gc_lock) {
    for (int i = 0; i < 8; i++) {
        gc_node_t *c = b->items[i].obj ? gc_node_of(b->items[i].obj) : NULL;
        if (c)
            gc_contain(c, delta);
    }
}
static void box_detach(gc_node_t *n) TA_REQ(gc_lock) {
    box_t *b = gc_to_box(n);
    if (b->closed_box)
        box_contain(b, -1);
    b->closed_box = false;
    b->detached = true;
}
static void box_close(gc_node_t *n) {
    box_t *b = gc_to_box(n);
    for (int i = 0; i < 8; i++)
        handle_ref_release(&b->items[i]);
}
static void box_hold(gc_node_t *n) { kobject_ref(&gc_to_box(n)->obj); }
static void box_release(gc_node_t *n) { kobject_unref(&gc_to_box(n)->obj); }
static const struct gc_node_ops box_gc_ops = {
    box_refs, box_candidate, box_for_each_child, box_detach, box_close, box_hold, box_release,
};
static gc_node_t *box_gc_node(kobject_t *o) { return &((box_t *)o)->gc; }
static void box_destroy(kobject_t *o) {
    box_t *b = (box_t *)o;
    bool entered = gc_enter();
    if (b->closed_box)
        box_contain(b, -1);
    gc_exit(entered);
    for (int i = 0; i < 8; i++)
        handle_ref_release(&b->items[i]);
    free(b);
}
static void box_on_handle_dropped(kobject_t *o) { gc_reference_dropped(&((box_t *)o)->gc); }
static const struct kobject_ops box_ops = {
    .type = ZX_OBJ_TYPE_VMO, /* any type: the collector only looks at gc_node */
    .type_name = "box",
    .destroy = box_destroy,
    .on_handle_dropped = box_on_handle_dropped,
    .gc_node = box_gc_node,
};

static void box_new(handle_ref_t *out) {
    box_t *b = calloc(1, sizeof(*b));
    kobject_init(&b->obj, &box_ops);
    gc_node_init(&b->gc, &box_gc_ops);
    b->closed_box = true;
    handle_ref_init(out, &b->obj, RW_T);
    kobject_unref(&b->obj);
}

/* Moves *h into slot i of the box (a counted container insert, gc lock held). */
static void box_put(handle_ref_t *box, int i, handle_ref_t *h) {
    box_t *b = (box_t *)box->obj;
    bool entered = gc_enter();
    b->items[i] = *h;
    h->obj = NULL;
    gc_node_t *c = gc_node_of(b->items[i].obj);
    if (c && b->closed_box)
        gc_contain(c, +1);
    gc_exit(entered);
}

/* A box is opened (becomes a root, like a family member starting) or closed again. */
static void box_set_closed(handle_ref_t *box, bool closed) {
    box_t *b = (box_t *)box->obj;
    bool entered = gc_enter();
    if (closed != b->closed_box) {
        b->closed_box = closed;
        box_contain(b, closed ? +1 : -1);
        if (closed)
            gc_suspect(&b->gc);
    }
    gc_exit(entered);
}

/* box -> endpoint e -> (e's queue) box: garbage once the outside handle to the box goes. */
HTEST(gc, mixed_cycle_through_box) {
    handle_ref_t bx, w, e, w2, e2;
    box_new(&bx);
    make_pair(&w, &e);
    make_pair(&w2, &e2);
    handle_ref_t bdup;
    handle_ref_dup(&bx, RW_T, &bdup);
    ASSERT_OK(send(&w, &bdup, 'b')); /* e's queue holds the box */
    box_put(&bx, 0, &e);             /* the box holds e */
    box_put(&bx, 1, &e2);            /* and e2, a leaf hanging off */
    EXPECT_FALSE(peer_closed(&w));
    handle_ref_release(&bx); /* the last outside handle */
    EXPECT_TRUE(peer_closed(&w));
    EXPECT_TRUE(peer_closed(&w2));
    handle_ref_release(&w);
    handle_ref_release(&w2);
    EXPECT_NO_LEAK();
}

/* An open box is a root (like a family with a running member): what it holds stays even
 * when no handle to the box is left outside; once it closes (its last member stops) the
 * cycle through it is garbage at that moment. */
HTEST(gc, box_root_then_container) {
    handle_ref_t bx, w, e;
    box_new(&bx);
    box_set_closed(&bx, false);
    make_pair(&w, &e);
    handle_ref_t bdup;
    handle_ref_dup(&bx, RW_T, &bdup);
    ASSERT_OK(send(&w, &bdup, 'b')); /* e's queue holds the box */
    box_put(&bx, 0, &e);             /* the box holds e */
    handle_ref_t running = {bx.obj, 0}; /* what a running member would hold: no handle */
    kobject_ref(running.obj);
    handle_ref_release(&bx);
    EXPECT_FALSE(peer_closed(&w));
    box_set_closed(&running, true);
    EXPECT_TRUE(peer_closed(&w));
    kobject_unref(running.obj);
    handle_ref_release(&w);
    EXPECT_NO_LEAK();
}

/* Two boxes, each holding an endpoint and the other box: garbage once the last outside
 * handle (to the first box) goes. */
HTEST(gc, nested_boxes) {
    handle_ref_t b1, b2, w1, e1, w2, e2, b1dup;
    box_new(&b1);
    box_new(&b2);
    make_pair(&w1, &e1);
    make_pair(&w2, &e2);
    handle_ref_dup(&b1, RW_T, &b1dup);
    box_put(&b1, 0, &e1);
    box_put(&b2, 0, &e2);
    box_put(&b2, 1, &b1dup); /* b2 holds b1 */
    box_put(&b1, 1, &b2);    /* b1 holds b2, whose last outside handle this was */
    EXPECT_FALSE(peer_closed(&w1));
    EXPECT_FALSE(peer_closed(&w2));
    handle_ref_release(&b1);
    EXPECT_TRUE(peer_closed(&w1));
    EXPECT_TRUE(peer_closed(&w2));
    handle_ref_release(&w1);
    handle_ref_release(&w2);
    EXPECT_NO_LEAK();
}

/* ---- random graphs against a model ---- */

enum { RN = 64, ROPS = 400 };

/* Model: endpoint i (reader end e[i], observed through w[i]) is alive or closed; its
 * handles are in `held` (roots) or in queues (qcount[i][j]: handles to i in j's queue). */
struct model {
    bool alive[RN];
    int held[RN];
    int inq[RN][RN];
};

/* Closes (in the model) every endpoint no root reaches, as the collector must. */
static void model_collect(struct model *md) {
    bool reach[RN] = {0};
    int stack[RN], sp = 0;
    for (int i = 0; i < RN; i++) {
        if (md->alive[i] && md->held[i] > 0) {
            reach[i] = true;
            stack[sp++] = i;
        }
    }
    while (sp > 0) {
        int j = stack[--sp];
        for (int i = 0; i < RN; i++) {
            if (md->inq[i][j] > 0 && !reach[i]) {
                reach[i] = true;
                stack[sp++] = i;
            }
        }
    }
    for (int i = 0; i < RN; i++) {
        if (md->alive[i] && !reach[i]) {
            md->alive[i] = false;
            for (int j = 0; j < RN; j++)
                md->inq[j][i] = 0; /* its queue is emptied */
        }
    }
    /* A closed endpoint's handles in other queues are gone with those queues or stay
     * until read; they never make it reachable again. */
}

static uint64_t rng_state;
static uint32_t rnd(uint32_t n) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33) % n;
}

HTEST(gc, random_graphs_match_model) {
    uint64_t seed = htest_seed();
    printf("    gc.random_graphs_match_model: seed %llu (HTEST_SEED=... to replay)\n",
           (unsigned long long)seed);
    for (int round = 0; round < 8; round++) {
        rng_state = seed + (uint64_t)round * 0x9e3779b97f4a7c15ull;
        static handle_ref_t w[RN], held[RN][4];
        static struct model md;
        memset(&md, 0, sizeof(md));
        memset(held, 0, sizeof(held));
        for (int i = 0; i < RN; i++) {
            make_pair(&w[i], &held[i][0]);
            md.alive[i] = true;
            md.held[i] = 1;
        }
        for (int op = 0; op < ROPS; op++) {
            int i = (int)rnd(RN), k = (int)rnd(4);
            uint32_t kind = rnd(10);
            if (kind < 5 && held[i][k].obj != NULL) {
                /* Send this handle to i into j's queue (through w[j]). */
                int j = (int)rnd(RN);
                zx_status_t st = send(&w[j], &held[i][k], (uint8_t)i);
                md.held[i]--;
                if (md.alive[j]) {
                    EXPECT_OK(st);
                    md.inq[i][j]++;
                } else {
                    EXPECT_STATUS(st, ZX_ERR_PEER_CLOSED);
                }
            } else if (kind < 7 && held[i][k].obj != NULL) {
                handle_ref_release(&held[i][k]);
                md.held[i]--;
            } else if (kind < 8 && held[i][k].obj != NULL) {
                int slot = (k + 1) % 4;
                if (held[i][slot].obj == NULL) {
                    handle_ref_dup(&held[i][k], RW_T, &held[i][slot]);
                    md.held[i]++;
                }
            } else if (held[i][k].obj != NULL) {
                /* Read one message from i's queue; keep what it carries if a slot is free. */
                uint8_t tag = 0xff;
                uint32_t nb = 1, nh = 1;
                handle_ref_t got = {0};
                zx_status_t st = channel_read_kernel(ch(&held[i][k]), &tag, &nb, &got, &nh);
                if (st == ZX_OK) {
                    int t = tag;
                    ASSERT_TRUE(t < RN && md.inq[t][i] > 0);
                    md.inq[t][i]--;
                    int slot = -1;
                    for (int s = 0; s < 4 && slot < 0; s++)
                        if (held[t][s].obj == NULL)
                            slot = s;
                    if (slot >= 0) {
                        held[t][slot] = got;
                        md.held[t]++;
                    } else {
                        handle_ref_release(&got);
                    }
                } else {
                    bool empty = true;
                    for (int t = 0; t < RN; t++)
                        empty = empty && md.inq[t][i] == 0;
                    EXPECT_TRUE(empty);
                }
            }
            model_collect(&md);
            for (int x = 0; x < RN; x++) {
                if (peer_closed(&w[x]) != !md.alive[x]) {
                    htest_fail(__FILE__, __LINE__, "seed %llu round %d op %d: endpoint %d %s",
                               (unsigned long long)seed, round, op, x,
                               md.alive[x] ? "closed but reachable" : "unreachable but open");
                    return;
                }
            }
        }
        for (int i = 0; i < RN; i++) {
            for (int k = 0; k < 4; k++)
                handle_ref_release(&held[i][k]);
        }
        for (int i = 0; i < RN; i++)
            EXPECT_TRUE(peer_closed(&w[i]));
        for (int i = 0; i < RN; i++)
            handle_ref_release(&w[i]);
        EXPECT_NO_LEAK();
    }
}
