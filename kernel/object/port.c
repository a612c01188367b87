/*
 * Ports: packet queues (object/port.h).
 *
 * Locks. A port's `lock` (LOCK_CLASS_PORT) guards its queue, its list of armed bindings
 * and its readers' wait queue. It nests inside object locks: a binding fires from
 * inside kobject_signal_locked, with the waited object's lock held, and moves its own
 * packet onto the queue. Nothing here takes an object lock while holding a port lock.
 *
 * A binding (struct port_observer) is in one of three places:
 *  - armed: on the target's observer list and on the port's `armed` list (both entries
 *    made and removed under the target's lock, the port part also under the port's);
 *  - queued: off both lists, its packet on the port's queue; whoever takes the packet
 *    off the queue (port_wait, port_cancel, the port's destroy) frees the binding;
 *  - gone: freed by whoever took it out of the armed state without queueing it
 *    (cancellation through its handle, port_cancel, the port's last handle going).
 * A binding holds no reference: its target cannot be destroyed while it is listed there
 * (observers are tied to handles, and removing the handle removes them first), and its
 * port cannot be destroyed while it is armed (the port's on_zero_handles takes every
 * armed binding off before the last reference can go, and no binding is added once it
 * has run: `dead`). So a port waiting on objects never keeps itself or them alive, and
 * no binding outlives either side.
 */
#include <object/port.h>

#include <arch/timer.h>
#include <kernel/assert.h>
#include <phys/heap.h>

/* One queued packet: a user packet (kmalloc'ed alone), a binding's own packet, or a
 * port_cancel's place marker (on its stack; port_wait skips it). */
enum port_node_kind { PORT_NODE_USER, PORT_NODE_SIGNAL, PORT_NODE_MARKER };

struct port_node {
    struct list_node node;
    enum port_node_kind kind;
    zx_port_packet_t packet;
};

typedef struct port {
    kobject_t obj;
    spinlock_t lock;
    struct list_node queue;   /* struct port_node, oldest first */
    struct list_node armed;   /* struct port_observer.armed_node */
    wait_queue_t readers;
    uint32_t user_queued;
    bool dead; /* on_zero_handles has run: no new bindings */
} port_t;

/* How the first on_state call (the one made while adding) ended. */
enum port_add_result { PORT_ADD_ARMED, PORT_ADD_QUEUED, PORT_ADD_DEAD };

struct port_observer {
    struct kobject_observer base;
    port_t *port;
    kobject_t *target;
    struct list_node armed_node; /* on port->armed while armed (port lock) */
    struct port_node packet;
    uint64_t key;
    zx_signals_t trigger;
    uint32_t options;
    enum port_add_result *add_result; /* the adder's, for the first on_state only */
};

static port_t *to_port(kobject_t *o) { return (port_t *)o; }

static struct port_observer *to_port_observer(struct kobject_observer *o) {
    return containerof(o, struct port_observer, base);
}

/* Frees a node taken off a queue (a marker is never freed). */
static void port_node_free(struct port_node *n) {
    if (n->kind == PORT_NODE_USER)
        kfree(n);
    else if (n->kind == PORT_NODE_SIGNAL)
        kfree(containerof(n, struct port_observer, packet));
}

static void port_destroy(kobject_t *o) {
    port_t *p = to_port(o);
    DEBUG_ASSERT(list_is_empty(&p->armed));
    /* The last reference: nobody else can see the queue. */
    struct list_node *n;
    while ((n = list_remove_head(&p->queue)) != NULL)
        port_node_free(containerof(n, struct port_node, node));
    kfree(p);
}

static const struct kobject_observer_ops port_observer_ops;

/* Matches the bindings of one port (kobject_cancel_matching). */
static bool port_binding_of(struct kobject_observer *o, void *port) {
    return o->ops == &port_observer_ops && to_port_observer(o)->port == port;
}

/*
 * The last handle went: every armed binding is cancelled, then the port refuses new ones.
 * The first armed binding names an object; all of this port's bindings on that object
 * are cancelled through the object's list, under its lock, so a binding that fires or is
 * cancelled meanwhile (and may then be freed by a reader) is never touched here. One
 * object per hold of the locks.
 */
static void port_on_zero_handles(kobject_t *o) {
    port_t *p = to_port(o);
    for (;;) {
        spin_lock_saved_state_t st;
        spin_lock_irqsave(&p->lock, &st);
        if (list_is_empty(&p->armed)) {
            p->dead = true;
            spin_unlock_irqrestore(&p->lock, st);
            return;
        }
        struct port_observer *ob =
            containerof(p->armed.next, struct port_observer, armed_node);
        /* Armed: listed on its target, or a fire or cancel holds the target's lock; either
         * way the target still has a reference. */
        kobject_t *target = ob->target;
        kobject_ref(target);
        spin_unlock_irqrestore(&p->lock, st);
        kobject_cancel_matching(target, port_binding_of, p);
        kobject_unref(target);
    }
}

static const struct kobject_ops port_ops = {
    .type = ZX_OBJ_TYPE_PORT,
    .type_name = "port",
    .destroy = port_destroy,
    .on_zero_handles = port_on_zero_handles,
};

zx_status_t port_create(kobject_t **out) {
    port_t *p = kzalloc(sizeof(*p));
    if (p == NULL)
        return ZX_ERR_NO_MEMORY;
    kobject_init(&p->obj, &port_ops);
    spin_lock_init_class(&p->lock, LOCK_CLASS_PORT);
    list_init(&p->queue);
    list_init(&p->armed);
    wait_queue_init(&p->readers);
    *out = &p->obj;
    return ZX_OK;
}

/* Appends n and wakes one reader. Port lock held. */
static void port_enqueue_locked(port_t *p, struct port_node *n) {
    list_add_tail(&p->queue, &n->node);
    wait_queue_wake_one(&p->readers, ZX_OK);
}

zx_status_t port_queue_user(kobject_t *o, const zx_port_packet_t *packet) {
    port_t *p = to_port(o);
    struct port_node *n = kmalloc(sizeof(*n));
    if (n == NULL)
        return ZX_ERR_NO_MEMORY;
    n->kind = PORT_NODE_USER;
    n->packet = *packet;
    n->packet.type = ZX_PKT_TYPE_USER;
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&p->lock, &st);
    if (p->user_queued >= PORT_MAX_USER_PACKETS) {
        spin_unlock_irqrestore(&p->lock, st);
        kfree(n);
        return ZX_ERR_SHOULD_WAIT;
    }
    p->user_queued++;
    port_enqueue_locked(p, n);
    spin_unlock_irqrestore(&p->lock, st);
    return ZX_OK;
}

/* The oldest packet that is not a marker, or NULL. Port lock held. */
static struct port_node *port_first_locked(port_t *p) {
    struct list_node *l;
    list_for_every(&p->queue, l) {
        struct port_node *n = containerof(l, struct port_node, node);
        if (n->kind != PORT_NODE_MARKER)
            return n;
    }
    return NULL;
}

zx_status_t port_wait(kobject_t *o, zx_time_t deadline, zx_port_packet_t *out) {
    port_t *p = to_port(o);
    spin_lock_saved_state_t st;
    zx_status_t status;
    bool timed_out = false;
    struct port_node *n;
    spin_lock_irqsave(&p->lock, &st);
    for (;;) {
        n = port_first_locked(p);
        if (n != NULL) {
            list_delete(&n->node);
            if (n->kind == PORT_NODE_USER)
                p->user_queued--;
            status = ZX_OK;
            break;
        }
        if (timed_out) {
            status = ZX_ERR_TIMED_OUT;
            break;
        }
        status = wait_queue_block(&p->readers, &p->lock, deadline);
        if (status == ZX_ERR_INTERNAL_INTR_KILLED)
            break;
        if (status == ZX_ERR_TIMED_OUT)
            timed_out = true;
    }
    spin_unlock_irqrestore(&p->lock, st);
    if (status == ZX_OK) {
        *out = n->packet;
        port_node_free(n);
    }
    return status;
}

/* Fills ob's packet from the signals `now` and queues it (ob is not on the armed list:
 * never put there, or taken off by the caller). Target's and port lock held. */
static void port_observer_fire_locked(struct port_observer *ob, zx_signals_t now) {
    port_t *p = ob->port;
    zx_port_packet_t *pk = &ob->packet.packet;
    pk->key = ob->key;
    pk->type = ZX_PKT_TYPE_SIGNAL_ONE;
    pk->status = ZX_OK;
    pk->signal.trigger = ob->trigger;
    pk->signal.observed = now;
    pk->signal.count = 1;
    pk->signal.timestamp =
        (ob->options & (ZX_WAIT_ASYNC_TIMESTAMP | ZX_WAIT_ASYNC_BOOT_TIMESTAMP)) ? current_time()
                                                                                : 0;
    pk->signal.reserved1 = 0;
    port_enqueue_locked(p, &ob->packet);
}

/*
 * Under the target's lock. The first call (changed 0, while adding) arms the binding or
 * fires it at once (level-triggered and already asserted), or refuses it when the port
 * is dead; later calls fire it when a trigger signal is asserted (edge-triggered: when
 * one has just risen). Returns true when the binding leaves the target's list.
 */
static bool port_observer_on_state(struct kobject_observer *o, zx_signals_t now,
                                   zx_signals_t changed) {
    struct port_observer *ob = to_port_observer(o);
    port_t *p = ob->port;
    bool edge = (ob->options & ZX_WAIT_ASYNC_EDGE) != 0;
    bool fire = edge ? (now & changed & ob->trigger) != 0 : (now & ob->trigger) != 0;
    spin_lock(&p->lock);
    if (changed == 0 && ob->add_result != NULL) {
        enum port_add_result *r = ob->add_result;
        ob->add_result = NULL;
        if (p->dead) {
            *r = PORT_ADD_DEAD;
            spin_unlock(&p->lock);
            return true;
        }
        if (fire) {
            *r = PORT_ADD_QUEUED;
            port_observer_fire_locked(ob, now);
        } else {
            *r = PORT_ADD_ARMED;
            list_add_tail(&p->armed, &ob->armed_node);
        }
        spin_unlock(&p->lock);
        return fire;
    }
    if (fire) {
        list_delete(&ob->armed_node);
        port_observer_fire_locked(ob, now);
    }
    spin_unlock(&p->lock);
    return fire;
}

/* The handle the binding came through is gone (or port_cancel matched it): it is off
 * the target's list already; take it off the armed list and free it. */
static void port_observer_on_cancel(struct kobject_observer *o) {
    struct port_observer *ob = to_port_observer(o);
    spin_lock(&ob->port->lock);
    list_delete(&ob->armed_node);
    spin_unlock(&ob->port->lock);
    kfree(ob);
}

static const struct kobject_observer_ops port_observer_ops = {
    .on_state = port_observer_on_state,
    .on_cancel = port_observer_on_cancel,
};

zx_status_t port_wait_async(kobject_t *port, kobject_t *target, struct handle_table *ht,
                            zx_handle_t value, uint64_t key, zx_signals_t signals,
                            uint32_t options) {
    struct port_observer *ob = kzalloc(sizeof(*ob));
    if (ob == NULL)
        return ZX_ERR_NO_MEMORY;
    enum port_add_result result = PORT_ADD_DEAD;
    ob->base.ops = &port_observer_ops;
    ob->port = to_port(port);
    ob->target = target;
    ob->packet.kind = PORT_NODE_SIGNAL;
    ob->key = key;
    ob->trigger = signals;
    ob->options = options;
    ob->add_result = &result;
    bool done;
    zx_status_t st = kobject_observer_add(target, &ob->base, ht, value, &done);
    /* From here ob belongs to the target and the port, unless it was refused. */
    if (st != ZX_OK) {
        kfree(ob);
        return st;
    }
    if (result == PORT_ADD_DEAD) {
        kfree(ob);
        return ZX_ERR_BAD_HANDLE;
    }
    return ZX_OK;
}

struct port_cancel_ctx {
    port_t *port;
    struct handle_table *ht;
    zx_handle_t value;
    uint64_t key;
};

static bool port_cancel_match(struct kobject_observer *o, void *arg) {
    struct port_cancel_ctx *c = arg;
    if (o->ops != &port_observer_ops)
        return false;
    struct port_observer *ob = to_port_observer(o);
    return ob->port == c->port && o->ht == c->ht && o->value == c->value && ob->key == c->key;
}

/*
 * Armed bindings go through the target's observer list. Queued packets are found with a
 * marker walked along the queue PORT_CANCEL_BATCH nodes per hold of the lock, so a long
 * queue never keeps interrupts off for long; readers skip the marker.
 */
zx_status_t port_cancel(kobject_t *port, kobject_t *target, struct handle_table *ht,
                        zx_handle_t value, uint64_t key) {
    port_t *p = to_port(port);
    struct port_cancel_ctx c = {p, ht, value, key};
    uint32_t found = kobject_cancel_matching(target, port_cancel_match, &c);

    struct port_node marker = {.kind = PORT_NODE_MARKER};
    struct list_node gone;
    list_init(&gone);
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&p->lock, &st);
    list_add_head(&p->queue, &marker.node);
    for (;;) {
        for (uint32_t i = 0; i < PORT_CANCEL_BATCH && marker.node.next != &p->queue; i++) {
            struct list_node *l = marker.node.next;
            struct port_node *n = containerof(l, struct port_node, node);
            list_delete(&marker.node);
            if (n->kind == PORT_NODE_SIGNAL) {
                struct port_observer *ob = containerof(n, struct port_observer, packet);
                if (ob->target == target && ob->base.ht == ht && ob->base.value == value &&
                    ob->key == key) {
                    list_add_after(l, &marker.node);
                    list_delete(l);
                    list_add_tail(&gone, l);
                    found++;
                    continue;
                }
            }
            list_add_after(l, &marker.node);
        }
        if (marker.node.next == &p->queue)
            break;
        spin_unlock_irqrestore(&p->lock, st);
        spin_lock_irqsave(&p->lock, &st);
    }
    list_delete(&marker.node);
    spin_unlock_irqrestore(&p->lock, st);
    struct list_node *l;
    while ((l = list_remove_head(&gone)) != NULL)
        port_node_free(containerof(l, struct port_node, node));
    return found != 0 ? ZX_OK : ZX_ERR_NOT_FOUND;
}
