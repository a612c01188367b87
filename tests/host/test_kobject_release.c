/*
 * Host tests for the kobject layer's deferred release (kernel/object/kobject.c): an op
 * (destroy, on_zero_handles, on_handle_dropped) that releases further objects never runs
 * theirs inside its own; they wait on the thread's release queue, oldest first, and all
 * of it has run when the outermost release returns. Chains a hundred thousand deep are
 * released with at most one op active at a time (a recursive release would need tens of
 * MiB of stack here and crash). Every test ends leak-free.
 */
#include "htest.h"

#include <stdlib.h>
#include <string.h>

#include <object/handle.h>

#include "object_host_stubs.h"

/* A test object that may own one reference and up to two handles to other objects. */
struct node {
    kobject_t obj;
    int id;
    kobject_t *ref;          /* dropped by destroy */
    handle_ref_t handle[2];  /* released by on_zero_handles (or destroy, if still held) */
    kobject_t *release_in_dropped; /* a reference on_handle_dropped gives up, once */
};

/* What ran, in order: 'Z' / 'D' / 'X' (zero handles, dropped, destroy) and the id. */
#define LOG_MAX 64
static struct event {
    char op;
    int id;
} events[LOG_MAX];
static size_t nevents;
static int active, max_active;
static size_t destroyed, zeroed, dropped;

static void reset(void) {
    nevents = 0;
    active = max_active = 0;
    destroyed = zeroed = dropped = 0;
}

static void enter(char op, int id) {
    if (nevents < LOG_MAX)
        events[nevents++] = (struct event){op, id};
    if (++active > max_active)
        max_active = active;
}

static void node_destroy(kobject_t *obj) {
    struct node *n = (struct node *)obj;
    enter('X', n->id);
    destroyed++;
    kobject_t *ref = n->ref;
    handle_ref_t h0 = n->handle[0], h1 = n->handle[1];
    free(n);
    if (ref)
        kobject_unref(ref);
    handle_ref_release(&h0);
    handle_ref_release(&h1);
    active--;
}

static void node_zero_handles(kobject_t *obj) {
    struct node *n = (struct node *)obj;
    enter('Z', n->id);
    zeroed++;
    handle_ref_release(&n->handle[0]);
    handle_ref_release(&n->handle[1]);
    active--;
}

static void node_handle_dropped(kobject_t *obj) {
    struct node *n = (struct node *)obj;
    enter('D', n->id);
    dropped++;
    kobject_t *r = n->release_in_dropped;
    n->release_in_dropped = NULL;
    if (r)
        kobject_unref(r);
    active--;
}

static const struct kobject_ops node_ops = {
    .type = ZX_OBJ_TYPE_EVENT,
    .type_name = "node",
    .destroy = node_destroy,
    .on_zero_handles = node_zero_handles,
    .on_handle_dropped = node_handle_dropped,
};

static struct node *node_new(int id) {
    struct node *n = calloc(1, sizeof(*n));
    kobject_init(&n->obj, &node_ops);
    n->id = id;
    return n;
}

static bool ran(size_t i, char op, int id) {
    return i < nevents && events[i].op == op && events[i].id == id;
}

#define EXPECT_NO_LEAK() EXPECT_EQ(host_kmalloc_live(), (size_t)0)

enum { DEEP = 100000 };

HTEST(release, deep_reference_chain_one_destroy_at_a_time) {
    reset();
    /* node i holds the only reference to node i + 1 */
    struct node *head = node_new(0), *cur = head;
    for (int i = 1; i < DEEP; i++) {
        struct node *next = node_new(i);
        cur->ref = &next->obj;
        cur = next;
    }
    kobject_unref(&head->obj);
    EXPECT_EQ(destroyed, (size_t)DEEP);
    EXPECT_EQ(max_active, 1);
    EXPECT_TRUE(ran(0, 'X', 0));
    EXPECT_TRUE(ran(1, 'X', 1));
    EXPECT_TRUE(ran(LOG_MAX - 1, 'X', LOG_MAX - 1));
    EXPECT_EQ(thread_current()->release_queue.head, NULL);
    EXPECT_FALSE(thread_current()->release_queue.draining);
    EXPECT_NO_LEAK();
}

HTEST(release, deep_handle_chain_one_op_at_a_time) {
    reset();
    /* node i holds the only handle to node i + 1 (as a channel holds handles in its
     * queue) and gives it up when its own last handle goes. */
    struct node *head = node_new(0), *cur = head;
    for (int i = 1; i < DEEP; i++) {
        struct node *next = node_new(i);
        handle_ref_init(&cur->handle[0], &next->obj, ZX_RIGHT_TRANSFER);
        kobject_unref(&next->obj);
        cur = next;
    }
    handle_ref_t h;
    handle_ref_init(&h, &head->obj, ZX_RIGHT_TRANSFER);
    kobject_unref(&head->obj);
    handle_ref_release(&h);
    EXPECT_EQ(zeroed, (size_t)DEEP);
    EXPECT_EQ(destroyed, (size_t)DEEP);
    EXPECT_EQ(max_active, 1);
    EXPECT_NO_LEAK();
}

HTEST(release, queue_runs_oldest_first_and_finishes_before_return) {
    reset();
    /* A holds handles to B and C, B one to D. */
    struct node *a = node_new(1), *b = node_new(2), *c = node_new(3), *d = node_new(4);
    handle_ref_init(&a->handle[0], &b->obj, 0);
    handle_ref_init(&a->handle[1], &c->obj, 0);
    handle_ref_init(&b->handle[0], &d->obj, 0);
    kobject_unref(&b->obj);
    kobject_unref(&c->obj);
    kobject_unref(&d->obj);
    handle_ref_t h;
    handle_ref_init(&h, &a->obj, 0);
    kobject_unref(&a->obj);
    handle_ref_release(&h);
    /* A's op runs at once; what it releases waits its turn, then A's own destroy (its
     * last reference went when its op finished), and so on. */
    static const struct event want[] = {{'Z', 1}, {'Z', 2}, {'Z', 3}, {'X', 1},
                                        {'Z', 4}, {'X', 2}, {'X', 3}, {'X', 4}};
    ASSERT_EQ(nevents, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < nevents; i++)
        EXPECT_TRUE(ran(i, want[i].op, want[i].id));
    EXPECT_EQ(max_active, 1);
    EXPECT_NO_LEAK();
}

HTEST(release, outermost_ops_run_at_once) {
    reset();
    struct node *a = node_new(1);
    handle_ref_t h1, h2;
    handle_ref_init(&h1, &a->obj, 0);
    handle_ref_dup(&h1, 0, &h2);
    handle_ref_release(&h1);
    EXPECT_EQ(dropped, (size_t)1); /* not deferred: nothing else was being released */
    handle_ref_release(&h2);
    EXPECT_EQ(zeroed, (size_t)1);
    EXPECT_EQ(destroyed, (size_t)0); /* our own reference is still there */
    kobject_unref(&a->obj);
    EXPECT_EQ(destroyed, (size_t)1);
    EXPECT_NO_LEAK();
}

HTEST(release, actions_on_a_queued_object_share_its_entry) {
    reset();
    /* P holds two of X's three handles and releases both in its destroy: X is queued
     * once, with one on_handle_dropped for both, and holds one reference for it. */
    struct node *p = node_new(1), *x = node_new(2);
    handle_ref_t third;
    handle_ref_init(&p->handle[0], &x->obj, 0);
    handle_ref_dup(&p->handle[0], 0, &p->handle[1]);
    handle_ref_dup(&p->handle[0], 0, &third);
    kobject_unref(&x->obj);
    kobject_unref(&p->obj);
    EXPECT_EQ(destroyed, (size_t)1);
    EXPECT_EQ(dropped, (size_t)1);
    EXPECT_EQ(x->obj.refs, 1u);
    EXPECT_EQ(x->obj.handle_count, 1u);
    EXPECT_EQ(x->obj.release_actions, 0u);
    handle_ref_release(&third);
    EXPECT_EQ(zeroed, (size_t)1);
    EXPECT_EQ(destroyed, (size_t)2);
    EXPECT_NO_LEAK();
}

/* For the cross-thread test: P's destroy on the first thread, Q's op on the second. */
static thread_t other_thread;
static struct node *cross_q, *cross_y;
static size_t dropped_on_other, zeroed_on_other;

static void cross_destroy(kobject_t *obj) {
    enter('X', 100);
    destroyed++;
    struct node *p = (struct node *)obj;
    handle_ref_release(&p->handle[0]); /* X's drop: queued on this thread */
    free(p);
    /* Meanwhile, on another thread: Q's last handle goes, and Q's op (running there,
     * outermost) releases another of X's handles. X is already queued here, so the
     * other thread only adds the action; it runs here, once. Y's last handle goes there
     * too, outside any op: Y is queued nowhere, so its op runs there at once. */
    thread_t *me = host_set_current_thread(&other_thread);
    active--;
    handle_ref_t hq, hy;
    handle_ref_init(&hq, &cross_q->obj, 0);
    kobject_unref(&cross_q->obj);
    handle_ref_release(&hq);
    handle_ref_init(&hy, &cross_y->obj, 0);
    kobject_unref(&cross_y->obj);
    handle_ref_release(&hy);
    dropped_on_other = dropped;
    zeroed_on_other = zeroed;
    active++;
    EXPECT_NULL(other_thread.release_queue.head);
    EXPECT_FALSE(other_thread.release_queue.draining);
    host_set_current_thread(me);
    active--;
}

static const struct kobject_ops cross_ops = {
    .type = ZX_OBJ_TYPE_EVENT,
    .type_name = "cross",
    .destroy = cross_destroy,
};

HTEST(release, another_thread_adds_to_a_queued_object) {
    reset();
    memset(&other_thread, 0, sizeof(other_thread));
    struct node *p = calloc(1, sizeof(*p));
    kobject_init(&p->obj, &cross_ops);
    struct node *x = node_new(2);
    cross_q = node_new(3);
    cross_y = node_new(4);
    handle_ref_t last;
    handle_ref_init(&p->handle[0], &x->obj, 0);
    handle_ref_dup(&p->handle[0], 0, &cross_q->handle[0]);
    handle_ref_dup(&p->handle[0], 0, &last);
    kobject_unref(&x->obj);
    kobject_unref(&p->obj);
    EXPECT_EQ(dropped_on_other, (size_t)0); /* X's drop did not run there */
    EXPECT_EQ(zeroed_on_other, (size_t)2);  /* Q's and Y's ops did */
    EXPECT_EQ(dropped, (size_t)1);          /* both of X's drops, once, here */
    EXPECT_EQ(x->obj.refs, 1u);
    handle_ref_release(&last);
    EXPECT_EQ(destroyed, (size_t)4); /* P, Q, Y and X */
    EXPECT_NO_LEAK();
}

HTEST(release, destroy_may_release_a_reference_an_op_gives_up) {
    reset();
    /* X's on_handle_dropped (deferred) drops the last reference to Y: Y's destroy is
     * queued behind it and still runs before the outermost release returns. */
    struct node *p = node_new(1), *x = node_new(2), *y = node_new(3);
    x->release_in_dropped = &y->obj;
    handle_ref_t keep;
    handle_ref_init(&p->handle[0], &x->obj, 0);
    handle_ref_dup(&p->handle[0], 0, &keep);
    kobject_unref(&x->obj);
    kobject_unref(&p->obj);
    EXPECT_TRUE(ran(0, 'X', 1));
    EXPECT_TRUE(ran(1, 'D', 2));
    EXPECT_TRUE(ran(2, 'X', 3));
    EXPECT_EQ(max_active, 1);
    handle_ref_release(&keep);
    EXPECT_NO_LEAK();
}
