/*
 * Channel endpoints (object/channel.h).
 *
 * Each endpoint has its own queue of incoming messages and a `peer` pointer that owns
 * one reference to the other endpoint. Both are guarded by the endpoint's kobject lock;
 * no code path holds two endpoint locks at once (a writer reads its peer pointer under
 * its own lock, takes a reference, drops the lock, then locks the peer and re-checks
 * that the peer still points back at it). That lock is a spinlock (it guards the
 * endpoint's wait queue) held only for O(1) work: message bytes are copied into a new
 * message before it is queued and out of it after it is dequeued, handles move between
 * tables under the tables' mutexes, and a closed endpoint's queue is freed after it.
 *
 * Unlinking happens when the last handle of either endpoint goes away (on_zero_handles):
 * it clears both peer pointers, each under its own lock. Whoever clears a pointer drops
 * the reference it owned, so each reference is dropped exactly once even when both ends
 * close at the same time. The closing endpoint's queue can no longer be read, so it is
 * emptied there too, releasing the handles in it with no lock held.
 *
 * Cycles: an endpoint's queue is a container of the handle-cycle collector
 * (object/gc.h). A message whose handles include objects the collector tracks (endpoints,
 * family members) is *counted*: it is queued and dequeued with the gc lock held (taken
 * before the endpoint's spinlock) and also sits on the endpoint's gc_msgs list, which is
 * what the collector walks, so it never scans a queue under a spinlock. Messages without
 * such handles never touch the gc lock. An endpoint the collector finds unreachable is
 * closed exactly as on_zero_handles closes it (the collector's detach / close below).
 *
 * A queued message belongs to its queue. Once the endpoint's lock is dropped, a writer
 * (or a reader putting a message back) no longer touches an uncounted message: another
 * reader may already have taken and freed it. A counted one it may still use until its
 * gc_exit, since every reader of a counted message needs the gc lock.
 */
#include "channel_priv.h"

#include <kernel/assert.h>
#include <lib/string.h>
#include <object/gc.h>
#include <phys/heap.h>

struct channel {
    kobject_t obj;         /* first: channel_kobj() casts */
    channel_t *peer;       /* guarded by obj.lock; owns a reference; NULL once unlinked */
    zx_koid_t peer_koid;   /* immutable (ZX_INFO_HANDLE_BASIC related_koid) */
    bool closed;           /* guarded by obj.lock: no handle can read the queue any more */
    struct list_node queue; /* channel_msg_t, oldest first; guarded by obj.lock */
    /* The counted messages of queue (through gc_link): changed with the gc lock and
     * obj.lock held, so either one keeps it still. */
    struct list_node gc_msgs;
    gc_node_t gc;
    /* What the collector's detach took, until its close. */
    struct list_node collected TA_GUARDED(gc_lock);
    channel_t *collected_peer TA_GUARDED(gc_lock);
};

static inline channel_t *to_channel(kobject_t *obj) {
    DEBUG_ASSERT(kobject_type(obj) == ZX_OBJ_TYPE_CHANNEL);
    return (channel_t *)obj;
}

channel_msg_t *channel_msg_alloc(uint32_t num_bytes, uint32_t num_handles) {
    DEBUG_ASSERT(num_bytes <= ZX_CHANNEL_MAX_MSG_BYTES);
    DEBUG_ASSERT(num_handles <= ZX_CHANNEL_MAX_MSG_HANDLES);
    size_t handles_size = (size_t)num_handles * sizeof(handle_ref_t);
    channel_msg_t *m = kmalloc(sizeof(*m) + handles_size + num_bytes);
    if (m == NULL)
        return NULL;
    list_init(&m->node);
    list_init(&m->gc_link);
    m->counted = 0;
    m->num_bytes = num_bytes;
    m->num_handles = num_handles;
    m->handles = (handle_ref_t *)(m + 1);
    m->bytes = (uint8_t *)m->handles + handles_size;
    memset(m->handles, 0, handles_size);
    return m;
}

void channel_msg_free(channel_msg_t *m) {
    if (m == NULL)
        return;
    /* A message still linked into a queue would be written through after the free. */
    ASSERT_MSG(!list_in_list(&m->node) && !list_in_list(&m->gc_link),
               "channel message %p freed while queued", (void *)m);
    for (uint32_t i = 0; i < m->num_handles; i++)
        handle_ref_release(&m->handles[i]);
    kfree(m);
}

/* Frees every message of a list detached from its channel (no lock held). */
static void channel_free_list(struct list_node *list) {
    struct list_node *n;
    while ((n = list_remove_head(list)) != NULL)
        channel_msg_free(containerof(n, channel_msg_t, node));
}

/* How many of m's handles the collector counts. */
static uint32_t channel_msg_counted(const channel_msg_t *m) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->num_handles; i++) {
        if (m->handles[i].obj != NULL && gc_node_of(m->handles[i].obj) != NULL)
            n++;
    }
    return n;
}

/* Counts m's tracked handles as no longer contained (the message left its queue). Gc
 * lock held, no spinlock (a message has up to 64 handles). */
static void channel_msg_uncontain(channel_msg_t *m) TA_REQ(gc_lock) {
    for (uint32_t i = 0; i < m->num_handles; i++) {
        gc_node_t *n = m->handles[i].obj != NULL ? gc_node_of(m->handles[i].obj) : NULL;
        if (n != NULL)
            gc_contain(n, -1);
    }
}

/* Counts m's tracked handles as contained in into's queue, then queues as suspects those
 * the move may have made garbage (gc_moved_into: only if into itself may be). All
 * handles are counted first, so an endpoint written into its own queue is seen as the
 * candidate it has become. Gc lock held, no spinlock. */
static void channel_msg_contain(channel_msg_t *m, channel_t *into) TA_REQ(gc_lock) {
    for (uint32_t i = 0; i < m->num_handles; i++) {
        gc_node_t *n = m->handles[i].obj != NULL ? gc_node_of(m->handles[i].obj) : NULL;
        if (n != NULL)
            gc_contain_count(n);
    }
    for (uint32_t i = 0; i < m->num_handles; i++) {
        gc_node_t *n = m->handles[i].obj != NULL ? gc_node_of(m->handles[i].obj) : NULL;
        if (n != NULL)
            gc_moved_into(n, &into->gc);
    }
}

/* Uncounts every message of a list linked through gc_link (taken off a queue). The list
 * is empty unless the caller holds the gc lock: counted messages leave a queue only
 * under it (channel_lock_for_take). */
static void channel_uncount_list(struct list_node *gc_list) {
    struct list_node *l;
    while ((l = list_remove_head(gc_list)) != NULL) {
        gc_lock_assume_held(); /* a counted message: see above */
        channel_msg_uncontain(containerof(l, channel_msg_t, gc_link));
    }
}

/*
 * Locks c for taking its whole queue: when the queue holds counted messages, the gc
 * lock is taken first (it comes before the spinlock). Once c's lock is held, either the
 * gc lock is held too or c has no counted message (and, the gc lock not being held, none
 * can arrive). *entered is gc_enter's result, for gc_exit after the unlock.
 */
static void channel_lock_for_take(channel_t *c, spin_lock_saved_state_t *st, bool *entered)
    TA_ACQ(c->obj.lock) {
    *entered = false;
    spin_lock_irqsave(&c->obj.lock, st);
    if (!list_is_empty(&c->gc_msgs) && !gc_held()) {
        spin_unlock_irqrestore(&c->obj.lock, *st);
        *entered = gc_enter();
        spin_lock_irqsave(&c->obj.lock, st);
    }
}

/* Moves c's whole queue to *out and its counted messages to *out_gc (both O(1)); the
 * caller uncounts *out_gc once c's lock is dropped. Lock as in channel_lock_for_take. */
static void channel_take_queue_locked(channel_t *c, struct list_node *out,
                                      struct list_node *out_gc) TA_REQ(c->obj.lock) {
    list_move_all(&c->queue, out);
    list_move_all(&c->gc_msgs, out_gc);
    kobject_signal_locked(&c->obj, ZX_CHANNEL_READABLE, 0);
}

/* The peer half of closing c: clears peer's pointer to c (if it still points here),
 * tells it PEER_CLOSED, and drops the references the two pointers held. peer is what
 * c->peer held (its reference comes with it); NULL is ignored. No lock held. */
static void channel_unlink_peer(channel_t *c, channel_t *peer)
    TA_EXCL(c->obj.lock, peer->obj.lock) {
    if (peer == NULL)
        return;
    bool took_back = false;
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&peer->obj.lock, &st);
    if (peer->peer == c) {
        peer->peer = NULL;
        took_back = true;
        kobject_signal_locked(&peer->obj, ZX_CHANNEL_WRITABLE, ZX_CHANNEL_PEER_CLOSED);
    }
    spin_unlock_irqrestore(&peer->obj.lock, st);
    if (took_back)
        kobject_unref(&c->obj); /* the peer's reference; the caller still holds one */
    kobject_unref(&peer->obj);
}

/* A handle to c was closed and others remain: c may now be held only by containers. */
static void channel_on_handle_dropped(kobject_t *obj) {
    gc_reference_dropped(&to_channel(obj)->gc);
}

static void channel_on_zero_handles(kobject_t *obj) {
    channel_t *c = to_channel(obj);
    spin_lock_saved_state_t st;
    bool entered;
    struct list_node dead, dead_gc;

    channel_lock_for_take(c, &st, &entered);
    channel_t *peer = c->peer;
    c->peer = NULL;
    c->closed = true;
    channel_take_queue_locked(c, &dead, &dead_gc);
    spin_unlock_irqrestore(&c->obj.lock, st);
    channel_uncount_list(&dead_gc);
    gc_exit(entered);

    channel_unlink_peer(c, peer);
    channel_free_list(&dead);
}

/*
 * For channel_destroy's assertions: nothing of the collector's is left on c (a queued
 * suspect, or what a detach took until its close: both hold a reference to c). Not
 * checked by the analysis: it reads without the gc lock, which is safe once no reference
 * to c is left.
 */
static inline bool channel_gc_idle(channel_t *c) TA_NO_THREAD_SAFETY_ANALYSIS {
    return list_is_empty(&c->collected) && c->collected_peer == NULL &&
           !gc_node_queued(&c->gc);
}

static void channel_destroy(kobject_t *obj) {
    channel_t *c = to_channel(obj);
    /* A linked peer would still hold a reference to c. */
    ASSERT(c->peer == NULL);
    DEBUG_ASSERT(channel_gc_idle(c));
    spin_lock_saved_state_t st;
    bool entered;
    struct list_node dead, dead_gc;
    channel_lock_for_take(c, &st, &entered);
    channel_take_queue_locked(c, &dead, &dead_gc);
    spin_unlock_irqrestore(&c->obj.lock, st);
    channel_uncount_list(&dead_gc);
    gc_exit(entered);
    kfree(c);
    channel_free_list(&dead);
}

/* ---- The collector's view of an endpoint (object/gc.h) ---- */

static inline channel_t *gc_to_channel(gc_node_t *n) { return containerof(n, channel_t, gc); }

static uint32_t channel_gc_refs(gc_node_t *n) {
    return __atomic_load_n(&gc_to_channel(n)->obj.handle_count, __ATOMIC_SEQ_CST);
}

/* Every handle sits in a container. Safe without the gc lock (gc_reference_dropped). */
static bool channel_gc_candidate(gc_node_t *n) {
    return gc_handles_all_contained(n, channel_gc_refs(n));
}

/* Counted messages change only under the gc lock, which the collector holds: the walk
 * needs no spinlock. */
static void channel_gc_for_each_child(gc_node_t *n, gc_visit_fn fn, void *ctx)
    TA_REQ(gc_lock) {
    channel_msg_t *m;
    list_for_every_entry(&gc_to_channel(n)->gc_msgs, m, channel_msg_t, gc_link) {
        for (uint32_t i = 0; i < m->num_handles; i++) {
            gc_node_t *child = m->handles[i].obj != NULL ? gc_node_of(m->handles[i].obj) : NULL;
            if (child != NULL)
                fn(child, ctx);
        }
    }
}

/* Unreachable: closed as on_zero_handles would, in two steps. */
static void channel_gc_detach(gc_node_t *n) TA_REQ(gc_lock) {
    channel_t *c = gc_to_channel(n);
    struct list_node taken, taken_gc;
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&c->obj.lock, &st);
    DEBUG_ASSERT(c->collected_peer == NULL && list_is_empty(&c->collected));
    c->collected_peer = c->peer;
    c->peer = NULL;
    c->closed = true;
    channel_take_queue_locked(c, &taken, &taken_gc);
    spin_unlock_irqrestore(&c->obj.lock, st);
    list_move_all(&taken, &c->collected);
    channel_uncount_list(&taken_gc);
}

static void channel_gc_close(gc_node_t *n) TA_REQ(gc_lock) {
    channel_t *c = gc_to_channel(n);
    channel_t *peer = c->collected_peer;
    c->collected_peer = NULL;
    struct list_node dead;
    list_move_all(&c->collected, &dead);
    channel_unlink_peer(c, peer);
    channel_free_list(&dead);
}

static void channel_gc_hold(gc_node_t *n) { kobject_ref(&gc_to_channel(n)->obj); }
static void channel_gc_release(gc_node_t *n) { kobject_unref(&gc_to_channel(n)->obj); }

static const struct gc_node_ops channel_gc_ops = {
    .refs = channel_gc_refs,
    .candidate = channel_gc_candidate,
    .for_each_child = channel_gc_for_each_child,
    .detach = channel_gc_detach,
    .close = channel_gc_close,
    .hold = channel_gc_hold,
    .release = channel_gc_release,
};

static gc_node_t *channel_gc_node(kobject_t *obj) { return &to_channel(obj)->gc; }

static zx_koid_t channel_related_koid(kobject_t *obj) {
    return to_channel(obj)->peer_koid;
}

/* zx_object_signal_peer on a channel endpoint: changes the peer's user signals while it
 * is still linked (re-checked under the peer's lock; no two endpoint locks at once). */
static zx_status_t channel_signal_peer(kobject_t *obj, zx_signals_t clear, zx_signals_t set) {
    channel_t *c = to_channel(obj);
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&c->obj.lock, &st);
    channel_t *peer = c->peer;
    if (peer != NULL)
        kobject_ref(&peer->obj);
    spin_unlock_irqrestore(&c->obj.lock, st);
    if (peer == NULL)
        return ZX_ERR_PEER_CLOSED;
    zx_status_t status = ZX_ERR_PEER_CLOSED;
    spin_lock_irqsave(&peer->obj.lock, &st);
    if (peer->peer == c) {
        kobject_signal_locked(&peer->obj, clear, set);
        status = ZX_OK;
    }
    spin_unlock_irqrestore(&peer->obj.lock, st);
    kobject_unref(&peer->obj);
    return status;
}

static const struct kobject_ops channel_ops = {
    .type = ZX_OBJ_TYPE_CHANNEL,
    .type_name = "channel",
    .destroy = channel_destroy,
    .on_zero_handles = channel_on_zero_handles,
    .on_handle_dropped = channel_on_handle_dropped,
    .related_koid = channel_related_koid,
    .gc_node = channel_gc_node,
    .signal_peer = channel_signal_peer,
};

/* Not checked by the analysis: c is new, so nobody else can see the fields that the gc
 * lock guards once c is published. */
static void channel_init(channel_t *c) TA_NO_THREAD_SAFETY_ANALYSIS {
    kobject_init(&c->obj, &channel_ops);
    c->peer = NULL;
    c->closed = false;
    list_init(&c->queue);
    list_init(&c->gc_msgs);
    gc_node_init(&c->gc, &channel_gc_ops);
    list_init(&c->collected);
    c->collected_peer = NULL;
    c->obj.signals = ZX_CHANNEL_WRITABLE;
}

zx_status_t channel_create(channel_t **out0, channel_t **out1) {
    channel_t *a = kmalloc(sizeof(*a));
    channel_t *b = kmalloc(sizeof(*b));
    if (a == NULL || b == NULL) {
        kfree(a);
        kfree(b);
        return ZX_ERR_NO_MEMORY;
    }
    channel_init(a);
    channel_init(b);
    kobject_ref(&b->obj);
    a->peer = b;
    kobject_ref(&a->obj);
    b->peer = a;
    a->peer_koid = b->obj.koid;
    b->peer_koid = a->obj.koid;
    *out0 = a;
    *out1 = b;
    return ZX_OK;
}

/*
 * A counted message is queued with the gc lock held and counted as contained before the
 * lock is released: the handles it carries left a root (the writer's table) for a
 * container, so the outermost gc_exit collects whatever that made unreachable (an
 * endpoint written into its own queue, the last handle closing a cycle) before the
 * write returns.
 */
zx_status_t channel_write_msg(channel_t *c, channel_msg_t *m) {
    spin_lock_saved_state_t st;
    /* Once m is queued and the peer's lock dropped, an uncounted m belongs to the queue:
     * a reader may take and free it at once. So whether it is counted is kept here. */
    const bool counted = (m->counted = channel_msg_counted(m)) > 0;
    bool entered = counted && gc_enter();

    spin_lock_irqsave(&c->obj.lock, &st);
    channel_t *peer = c->peer;
    if (peer != NULL)
        kobject_ref(&peer->obj);
    spin_unlock_irqrestore(&c->obj.lock, st);

    zx_status_t status = ZX_ERR_PEER_CLOSED;
    if (peer != NULL) {
        spin_lock_irqsave(&peer->obj.lock, &st);
        if (peer->peer == c) { /* else unlinked since we looked */
            list_add_tail(&peer->queue, &m->node);
            if (counted)
                list_add_tail(&peer->gc_msgs, &m->gc_link);
            kobject_signal_locked(&peer->obj, 0, ZX_CHANNEL_READABLE);
            status = ZX_OK;
        }
        spin_unlock_irqrestore(&peer->obj.lock, st);
        if (status == ZX_OK && counted) {
            gc_lock_assume_held(); /* counted: the gc_enter above */
            channel_msg_contain(m, peer); /* m stays queued: a reader needs the gc lock */
        }
    }
    gc_exit(entered);
    if (peer != NULL)
        kobject_unref(&peer->obj);
    if (status != ZX_OK)
        channel_msg_free(m);
    return status;
}

zx_status_t channel_write_kernel(channel_t *c, const void *bytes, uint32_t num_bytes,
                                 handle_ref_t *handles, uint32_t num_handles) {
    channel_msg_t *m = NULL;
    zx_status_t status = ZX_OK;
    if (num_bytes > ZX_CHANNEL_MAX_MSG_BYTES || num_handles > ZX_CHANNEL_MAX_MSG_HANDLES)
        status = ZX_ERR_OUT_OF_RANGE;
    else if ((m = channel_msg_alloc(num_bytes, num_handles)) == NULL)
        status = ZX_ERR_NO_MEMORY;
    if (status != ZX_OK) {
        for (uint32_t i = 0; i < num_handles; i++)
            handle_ref_release(&handles[i]);
        return status;
    }
    if (num_bytes > 0)
        memcpy(m->bytes, bytes, num_bytes);
    for (uint32_t i = 0; i < num_handles; i++) {
        DEBUG_ASSERT(handles[i].obj != channel_kobj(c));
        m->handles[i] = handles[i];
        handles[i].obj = NULL;
    }
    return channel_write_msg(c, m);
}

zx_status_t channel_dequeue(channel_t *c, uint32_t byte_cap, uint32_t handle_cap,
                            bool may_discard, channel_msg_t **out, uint32_t *actual_bytes,
                            uint32_t *actual_handles) {
    spin_lock_saved_state_t st;
    channel_msg_t *m = NULL;
    zx_status_t status = ZX_OK;
    bool entered = false, taken = false;

    spin_lock_irqsave(&c->obj.lock, &st);
    if (!list_is_empty(&c->gc_msgs) &&
        containerof(c->queue.next, channel_msg_t, node)->counted > 0 && !gc_held()) {
        /* Taking a counted message out of its container must not overlap a collection.
         * With the gc lock held, whatever is at the head by then can be taken. */
        spin_unlock_irqrestore(&c->obj.lock, st);
        entered = gc_enter();
        spin_lock_irqsave(&c->obj.lock, &st);
    }
    if (list_is_empty(&c->queue)) {
        status = c->peer != NULL ? ZX_ERR_SHOULD_WAIT : ZX_ERR_PEER_CLOSED;
    } else {
        m = containerof(c->queue.next, channel_msg_t, node);
        DEBUG_ASSERT(m->counted == 0 || gc_held());
        *actual_bytes = m->num_bytes;
        *actual_handles = m->num_handles;
        bool fits = m->num_bytes <= byte_cap && m->num_handles <= handle_cap;
        if (fits || may_discard) {
            list_delete(&m->node);
            if (m->counted > 0)
                list_delete(&m->gc_link);
            taken = true;
            if (list_is_empty(&c->queue))
                kobject_signal_locked(&c->obj, ZX_CHANNEL_READABLE, 0);
        }
        if (!fits)
            status = ZX_ERR_BUFFER_TOO_SMALL;
    }
    spin_unlock_irqrestore(&c->obj.lock, st);
    if (taken && m->counted > 0) {
        gc_lock_assume_held(); /* a counted message is taken only under it (above) */
        channel_msg_uncontain(m); /* in flight in the kernel now: a root */
    }
    gc_exit(entered);

    if (status == ZX_OK)
        *out = m;
    else if (taken)
        channel_msg_free(m); /* the discarded message */
    return status;
}

/* The message goes back into the container it came from (or, if c was closed in the
 * meantime, is freed: nobody could read it). */
void channel_requeue_front(channel_t *c, channel_msg_t *m) {
    spin_lock_saved_state_t st;
    /* The reader may have dropped handles. Kept: an uncounted m may be taken and freed
     * by another reader as soon as c's lock is dropped (see channel_write_msg). */
    const bool counted = (m->counted = channel_msg_counted(m)) > 0;
    bool entered = counted && gc_enter();
    spin_lock_irqsave(&c->obj.lock, &st);
    bool closed = c->closed;
    if (!closed) {
        list_add_head(&c->queue, &m->node);
        if (counted)
            list_add_head(&c->gc_msgs, &m->gc_link);
        kobject_signal_locked(&c->obj, 0, ZX_CHANNEL_READABLE);
    }
    spin_unlock_irqrestore(&c->obj.lock, st);
    if (!closed && counted) {
        gc_lock_assume_held(); /* counted: the gc_enter above */
        channel_msg_contain(m, c);
    }
    gc_exit(entered);
    if (closed)
        channel_msg_free(m);
}

zx_status_t channel_read_kernel(channel_t *c, void *bytes, uint32_t *num_bytes,
                                handle_ref_t *handles, uint32_t *num_handles) {
    channel_msg_t *m;
    zx_status_t status = channel_dequeue(c, *num_bytes, *num_handles, false, &m, num_bytes,
                                         num_handles);
    if (status != ZX_OK)
        return status;
    if (m->num_bytes > 0)
        memcpy(bytes, m->bytes, m->num_bytes);
    for (uint32_t i = 0; i < m->num_handles; i++)
        handles[i] = m->handles[i];
    kfree(m);
    return ZX_OK;
}
