/*
 * Events and event pairs (zx_event_create, zx_eventpair_create) and the peer half of
 * user signalling (zx_object_signal_peer).
 *
 * An event is a kobject with nothing but its signal word: zx_object_signal changes its
 * ZX_EVENT_SIGNALED and user signals. An event pair is two such objects linked as peers:
 * each side may also change the other's signals (zx_object_signal_peer, needing
 * ZX_RIGHT_SIGNAL_PEER), and when one side's last handle goes, the other sees
 * ZX_EVENTPAIR_PEER_CLOSED and further zx_object_signal_peer on it fails with
 * ZX_ERR_PEER_CLOSED.
 *
 * Peer links follow the channel's scheme (kernel/object/channel.c): each side's `peer`
 * pointer is guarded by that side's own lock and owns a reference; no path holds both
 * sides' locks at once. Whoever clears a pointer drops the reference it held.
 */
#include <object/event.h>

#include <kernel/assert.h>
#include <phys/heap.h>

typedef struct eventpair {
    kobject_t obj;
    struct eventpair *peer; /* guarded by obj.lock; owns a reference; NULL once unlinked */
    zx_koid_t peer_koid;    /* immutable (ZX_INFO_HANDLE_BASIC related_koid) */
} eventpair_t;

static void event_destroy(kobject_t *o) { kfree(o); }

static const struct kobject_ops event_ops = {
    .type = ZX_OBJ_TYPE_EVENT,
    .type_name = "event",
    .destroy = event_destroy,
    .user_signals = ZX_EVENT_SIGNALED,
};

static eventpair_t *to_eventpair(kobject_t *o) { return (eventpair_t *)o; }

static void eventpair_destroy(kobject_t *o) {
    DEBUG_ASSERT(to_eventpair(o)->peer == NULL);
    kfree(o);
}

static zx_koid_t eventpair_related_koid(kobject_t *o) { return to_eventpair(o)->peer_koid; }

/* Takes a reference to e's peer, or returns NULL once e is unlinked. */
static eventpair_t *eventpair_get_peer(eventpair_t *e) {
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&e->obj.lock, &st);
    eventpair_t *peer = e->peer;
    if (peer != NULL)
        kobject_ref(&peer->obj);
    spin_unlock_irqrestore(&e->obj.lock, st);
    return peer;
}

/*
 * Last handle of e closed: unlinks both sides. Clears e's pointer, then the peer's
 * pointer back to e (if it still points here) and asserts ZX_EVENTPAIR_PEER_CLOSED on
 * the peer; each cleared pointer's reference is dropped after the locks are released.
 */
static void eventpair_on_zero_handles(kobject_t *o) {
    eventpair_t *e = to_eventpair(o);
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&e->obj.lock, &st);
    eventpair_t *peer = e->peer;
    e->peer = NULL;
    spin_unlock_irqrestore(&e->obj.lock, st);
    if (peer == NULL)
        return;
    bool unlinked = false;
    spin_lock_irqsave(&peer->obj.lock, &st);
    if (peer->peer == e) {
        peer->peer = NULL;
        unlinked = true;
    }
    kobject_signal_locked(&peer->obj, 0, ZX_EVENTPAIR_PEER_CLOSED);
    spin_unlock_irqrestore(&peer->obj.lock, st);
    if (unlinked)
        kobject_unref(&e->obj); /* the peer's pointer to e */
    kobject_unref(&peer->obj); /* e's pointer to the peer */
}

/* zx_object_signal_peer on an event pair: changes the peer's signals while it is still
 * linked (checked again under the peer's lock, so a peer whose last handle has gone is
 * never signalled). */
static zx_status_t eventpair_signal_peer(kobject_t *o, zx_signals_t clear, zx_signals_t set) {
    eventpair_t *e = to_eventpair(o);
    eventpair_t *peer = eventpair_get_peer(e);
    if (peer == NULL)
        return ZX_ERR_PEER_CLOSED;
    zx_status_t status = ZX_ERR_PEER_CLOSED;
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&peer->obj.lock, &st);
    if (peer->peer == e) {
        kobject_signal_locked(&peer->obj, clear, set);
        status = ZX_OK;
    }
    spin_unlock_irqrestore(&peer->obj.lock, st);
    kobject_unref(&peer->obj);
    return status;
}

static const struct kobject_ops eventpair_ops = {
    .type = ZX_OBJ_TYPE_EVENTPAIR,
    .type_name = "eventpair",
    .destroy = eventpair_destroy,
    .on_zero_handles = eventpair_on_zero_handles,
    .related_koid = eventpair_related_koid,
    .user_signals = ZX_EVENTPAIR_SIGNALED,
    .signal_peer = eventpair_signal_peer,
};

zx_status_t event_create(kobject_t **out) {
    kobject_t *ev = kzalloc(sizeof(*ev));
    if (ev == NULL)
        return ZX_ERR_NO_MEMORY;
    kobject_init(ev, &event_ops);
    *out = ev;
    return ZX_OK;
}

zx_status_t eventpair_create(kobject_t *out[2]) {
    eventpair_t *e[2] = {kzalloc(sizeof(eventpair_t)), kzalloc(sizeof(eventpair_t))};
    if (e[0] == NULL || e[1] == NULL) {
        kfree(e[0]);
        kfree(e[1]);
        return ZX_ERR_NO_MEMORY;
    }
    for (int i = 0; i < 2; i++)
        kobject_init(&e[i]->obj, &eventpair_ops);
    for (int i = 0; i < 2; i++) {
        e[i]->peer = e[1 - i];
        kobject_ref(&e[1 - i]->obj); /* the peer pointer's reference */
        e[i]->peer_koid = e[1 - i]->obj.koid;
        out[i] = &e[i]->obj;
    }
    return ZX_OK;
}
