/*
 * Channel endpoints (object/channel.h).
 *
 * Each endpoint has its own queue of incoming messages and a `peer` pointer that owns
 * one reference to the other endpoint. Both are guarded by the endpoint's kobject lock;
 * no code path holds two endpoint locks at once (a writer reads its peer pointer under
 * its own lock, takes a reference, drops the lock, then locks the peer and re-checks
 * that the peer still points back at it).
 *
 * Unlinking happens when the last handle of either endpoint goes away (on_zero_handles):
 * it clears both peer pointers, each under its own lock. Whoever clears a pointer drops
 * the reference it owned, so each reference is dropped exactly once even when both ends
 * close at the same time. The closing endpoint's queue can no longer be read, so it is
 * emptied there too, releasing the handles in it with no lock held.
 *
 * Self-cycles: an endpoint whose peer was written into it (legal, as in Zircon) holds its
 * own handle in its queue. Once its peer is gone and every handle to it lives in its own
 * queue, nobody can ever read that queue again, and the handles would keep the endpoint
 * alive forever: whichever happens last, the peer's close or the close of the last other
 * handle, empties such a queue, which releases the endpoint. (Longer cycles through
 * several channels are not detected.)
 */
#include "channel_priv.h"

#include <kernel/assert.h>
#include <lib/string.h>
#include <vm/heap.h>

struct channel {
    kobject_t obj;         /* first: channel_kobj() casts */
    channel_t *peer;       /* guarded by obj.lock; owns a reference; NULL once unlinked */
    zx_koid_t peer_koid;   /* immutable (ZX_INFO_HANDLE_BASIC related_koid) */
    struct list_node queue; /* channel_msg_t, oldest first; guarded by obj.lock */
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

/* Moves c's whole queue to *out (c's is empty on return), in O(1). Caller holds c's
 * lock. */
static void channel_steal_queue_locked(channel_t *c, struct list_node *out) {
    list_move_all(&c->queue, out);
}

/* True if every handle to c is in c's own queue (c can never be read again once its
 * peer is gone). Caller holds c's lock. */
static bool channel_only_self_held_locked(channel_t *c) {
    uint32_t own = 0;
    channel_msg_t *m;
    list_for_every_entry(&c->queue, m, channel_msg_t, node) {
        for (uint32_t i = 0; i < m->num_handles; i++)
            if (m->handles[i].obj == &c->obj)
                own++;
    }
    return own > 0 && own == __atomic_load_n(&c->obj.handle_count, __ATOMIC_ACQUIRE);
}

/* If c can never be read again (peer gone, only self-held: see the file comment), moves
 * its queue to *out (left empty otherwise). Caller holds c's lock and frees *out after
 * dropping it. */
static void channel_take_unreadable_locked(channel_t *c, struct list_node *out) {
    list_init(out);
    if (c->peer == NULL && channel_only_self_held_locked(c)) {
        channel_steal_queue_locked(c, out);
        kobject_signal_locked(&c->obj, ZX_CHANNEL_READABLE, 0);
    }
}

/* A handle to c was closed: if c is now unreachable, empty it. */
static void channel_on_handle_dropped(kobject_t *obj) {
    channel_t *c = to_channel(obj);
    struct list_node unreadable;
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&c->obj.lock, &st);
    channel_take_unreadable_locked(c, &unreadable);
    if (!list_is_empty(&unreadable))
        kobject_ref(&c->obj); /* the queue's handles may hold the last references */
    spin_unlock_irqrestore(&c->obj.lock, st);
    if (!list_is_empty(&unreadable)) {
        channel_free_list(&unreadable);
        kobject_unref(&c->obj);
    }
}

static void channel_on_zero_handles(kobject_t *obj) {
    channel_t *c = to_channel(obj);
    spin_lock_saved_state_t st;
    struct list_node dead;

    spin_lock_irqsave(&c->obj.lock, &st);
    channel_t *peer = c->peer;
    c->peer = NULL;
    channel_steal_queue_locked(c, &dead);
    kobject_signal_locked(&c->obj, ZX_CHANNEL_READABLE, 0);
    spin_unlock_irqrestore(&c->obj.lock, st);

    struct list_node unreadable;
    list_init(&unreadable);
    if (peer != NULL) {
        bool took_back = false;
        spin_lock_irqsave(&peer->obj.lock, &st);
        if (peer->peer == c) {
            peer->peer = NULL;
            took_back = true;
            kobject_signal_locked(&peer->obj, ZX_CHANNEL_WRITABLE, ZX_CHANNEL_PEER_CLOSED);
            channel_take_unreadable_locked(peer, &unreadable);
        }
        spin_unlock_irqrestore(&peer->obj.lock, st);
        if (took_back)
            kobject_unref(&c->obj); /* the peer's reference; the caller still holds one */
        kobject_unref(&peer->obj);
    }
    channel_free_list(&dead);
    channel_free_list(&unreadable); /* may release the peer's last handle and reference */
}

static void channel_destroy(kobject_t *obj) {
    channel_t *c = to_channel(obj);
    /* A linked peer would still hold a reference to c. */
    ASSERT(c->peer == NULL);
    struct list_node dead;
    channel_steal_queue_locked(c, &dead);
    kfree(c);
    channel_free_list(&dead);
}

static zx_koid_t channel_related_koid(kobject_t *obj) {
    return to_channel(obj)->peer_koid;
}

static const struct kobject_ops channel_ops = {
    .type = ZX_OBJ_TYPE_CHANNEL,
    .type_name = "channel",
    .destroy = channel_destroy,
    .on_zero_handles = channel_on_zero_handles,
    .on_handle_dropped = channel_on_handle_dropped,
    .related_koid = channel_related_koid,
};

zx_status_t channel_create(channel_t **out0, channel_t **out1) {
    channel_t *a = kmalloc(sizeof(*a));
    channel_t *b = kmalloc(sizeof(*b));
    if (a == NULL || b == NULL) {
        kfree(a);
        kfree(b);
        return ZX_ERR_NO_MEMORY;
    }
    kobject_init(&a->obj, &channel_ops);
    kobject_init(&b->obj, &channel_ops);
    list_init(&a->queue);
    list_init(&b->queue);
    kobject_ref(&b->obj);
    a->peer = b;
    kobject_ref(&a->obj);
    b->peer = a;
    a->peer_koid = b->obj.koid;
    b->peer_koid = a->obj.koid;
    a->obj.signals = ZX_CHANNEL_WRITABLE;
    b->obj.signals = ZX_CHANNEL_WRITABLE;
    *out0 = a;
    *out1 = b;
    return ZX_OK;
}

zx_status_t channel_write_msg(channel_t *c, channel_msg_t *m) {
    spin_lock_saved_state_t st;

    spin_lock_irqsave(&c->obj.lock, &st);
    channel_t *peer = c->peer;
    if (peer != NULL)
        kobject_ref(&peer->obj);
    spin_unlock_irqrestore(&c->obj.lock, st);
    if (peer == NULL) {
        channel_msg_free(m);
        return ZX_ERR_PEER_CLOSED;
    }

    zx_status_t status = ZX_OK;
    spin_lock_irqsave(&peer->obj.lock, &st);
    if (peer->peer != c) {
        status = ZX_ERR_PEER_CLOSED; /* unlinked since we looked */
    } else {
        list_add_tail(&peer->queue, &m->node);
        kobject_signal_locked(&peer->obj, 0, ZX_CHANNEL_READABLE);
    }
    spin_unlock_irqrestore(&peer->obj.lock, st);
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

    spin_lock_irqsave(&c->obj.lock, &st);
    if (list_is_empty(&c->queue)) {
        status = c->peer != NULL ? ZX_ERR_SHOULD_WAIT : ZX_ERR_PEER_CLOSED;
    } else {
        m = containerof(c->queue.next, channel_msg_t, node);
        *actual_bytes = m->num_bytes;
        *actual_handles = m->num_handles;
        bool fits = m->num_bytes <= byte_cap && m->num_handles <= handle_cap;
        if (fits || may_discard) {
            list_delete(&m->node);
            if (list_is_empty(&c->queue))
                kobject_signal_locked(&c->obj, ZX_CHANNEL_READABLE, 0);
        }
        if (!fits) {
            status = ZX_ERR_BUFFER_TOO_SMALL;
            if (!may_discard)
                m = NULL;
        }
    }
    spin_unlock_irqrestore(&c->obj.lock, st);

    if (status == ZX_OK) {
        *out = m;
    } else {
        channel_msg_free(m); /* the discarded message, if any */
    }
    return status;
}

void channel_requeue_front(channel_t *c, channel_msg_t *m) {
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&c->obj.lock, &st);
    list_add_head(&c->queue, &m->node);
    kobject_signal_locked(&c->obj, 0, ZX_CHANNEL_READABLE);
    spin_unlock_irqrestore(&c->obj.lock, st);
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
