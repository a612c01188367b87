/*
 * Kernel objects: the refcounted things handles point at (Zircon's dispatchers).
 *
 * Every object starts with a kobject_t. Two counts keep it alive:
 *  - refs: every pointer held by the kernel, including one per handle. At zero the
 *    object's ops->destroy frees it.
 *  - handle_count: handles only. When it drops to zero ops->on_zero_handles (optional)
 *    runs, e.g. a channel endpoint tells its peer PEER_CLOSED.
 *
 * Signals: a 32-bit state word; kobject_signal changes it and wakes every waiter on the
 * object's wait queue, who re-check their condition (kobject_wait).
 *
 * Teardown never recurses. Freeing one object often releases others (a channel message
 * holds handles, a VMO child holds its parent, a process holds its handle table), and
 * user space chooses how deep such chains go. So the ops (destroy, on_zero_handles,
 * on_handle_dropped) run only at the outermost level of a thread: when a last reference
 * or a handle is released while the calling thread is already running one of them, the
 * object is queued on the thread's release queue (one entry per object, which holds a
 * reference and the actions still owed) and the outermost call runs the queue in a loop
 * before it returns. Stack depth is bounded however deep the nesting, and every
 * teardown is still complete when the outermost kobject_unref / handle_ref_release
 * returns (so before the syscall that started it returns).
 *
 * Locking: `lock` (spinlock, irqsave) guards signals and the wait queue; object types may
 * use it for their own state too. It is a leaf lock except that the VM locks are never
 * taken under it.
 */
#ifndef OBJECT_KOBJECT_H
#define OBJECT_KOBJECT_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/spinlock.h>
#include <kernel/wait.h>
#include <lib/list.h>
#include <zircon/types.h>

typedef struct kobject kobject_t;
struct handle_table;

/*
 * Observers: code told about an object's signal changes without a thread blocked on the
 * object's wait queue (zx_object_wait_many's waits, zx_object_wait_async's port
 * bindings). An observer sits on its object's `observers` list, guarded by the object's
 * lock, and is tied to the handle it was added through: removing that handle from its
 * table (close, replace, transfer, the table's destruction) cancels it.
 *
 * The ops run with the object's lock held and interrupts off, so they are short and
 * bounded; they may take locks of classes below the object's (LOCK_CLASS_PORT,
 * LOCK_CLASS_WAIT_MANY) and wake threads, never block or drop references. Every signal
 * change calls each observer's on_state, so an object holds at most
 * KOBJECT_MAX_OBSERVERS of them: the walk with interrupts off stays bounded whatever
 * user space does.
 */
struct kobject_observer;
struct kobject_observer_ops {
    /* The object's signals are `now`; `changed` are the bits that just changed (0 for
     * the call made when the observer is added). Returns true when the observer is done:
     * it is then taken off the list (and not touched by the object again). */
    bool (*on_state)(struct kobject_observer *o, zx_signals_t now, zx_signals_t changed);
    /* The handle it was added through is gone; it is already off the list. */
    void (*on_cancel)(struct kobject_observer *o);
};
struct kobject_observer {
    struct list_node node; /* on the object's observers, guarded by its lock */
    const struct kobject_observer_ops *ops;
    struct handle_table *ht; /* the handle it came through: identity only, never used */
    zx_handle_t value;
    bool listed; /* on the object's list (guarded by the object's lock) */
};

/* The most observers one object holds at once (see above). */
#define KOBJECT_MAX_OBSERVERS 256u

struct kobject_ops {
    zx_obj_type_t type;
    const char *type_name;      /* for logs */
    void (*destroy)(kobject_t *obj);        /* refs reached zero: free everything */
    void (*on_zero_handles)(kobject_t *obj); /* optional: last handle closed */
    /* Optional: a handle was closed and others remain (no lock held). */
    void (*on_handle_dropped)(kobject_t *obj);
    /* Optional: koid of the related object (channel peer, process of a thread), for
     * ZX_INFO_HANDLE_BASIC; 0 when none. */
    zx_koid_t (*related_koid)(kobject_t *obj);
    /* Optional: the object's node in the handle-cycle collector (object/gc.h), or NULL
     * when the collector does not track this object. */
    struct gc_node *(*gc_node)(kobject_t *obj);
    /* Signals besides ZX_USER_SIGNAL_ALL that zx_object_signal may set and clear (an
     * event's ZX_EVENT_SIGNALED); 0 for most kinds. */
    zx_signals_t user_signals;
    /* Optional, for peered objects (event pairs, channels): clears and sets signals on
     * the peer for zx_object_signal_peer (masks already checked against the peer's
     * allowed signals, which are the same as obj's). Returns ZX_OK or
     * ZX_ERR_PEER_CLOSED. No lock held. NULL: zx_object_signal_peer is NOT_SUPPORTED. */
    zx_status_t (*signal_peer)(kobject_t *obj, zx_signals_t clear, zx_signals_t set);
};

struct kobject {
    const struct kobject_ops *ops;
    zx_koid_t koid;
    uint32_t refs;          /* atomic */
    uint32_t handle_count;  /* atomic */
    spinlock_t lock;
    zx_signals_t signals;   /* guarded by lock */
    wait_queue_t waiters;   /* guarded by lock */
    /* Bumped (under lock) by kobject_poke_waiters, so a waiter that checked
     * still_valid without the lock can tell that a poke happened meanwhile. */
    uint32_t poke_gen;
    /* Deferred release (kobject.c): the KOBJECT_ACTION_* bits still owed (atomic; the
     * thread that sets the first bit queues the object) and the queue link (owned by
     * the queue's thread). */
    uint32_t release_actions;
    kobject_t *release_next;
    /* struct kobject_observer entries, and how many (guarded by lock; the count is also
     * read without it, atomically, to skip the walk on handle removal). */
    struct list_node observers;
    uint32_t observer_count;
};

/* What a queued object is owed, in the order it runs. */
#define KOBJECT_ACTION_HANDLE_DROPPED (1u << 0) /* ops->on_handle_dropped */
#define KOBJECT_ACTION_ZERO_HANDLES (1u << 1)   /* ops->on_zero_handles */
#define KOBJECT_ACTION_DESTROY (1u << 2)        /* ops->destroy (refs reached zero) */

/* Assigns a fresh koid (from ZX_KOID_FIRST, never reused), refs = 1, no handles, no
 * signals. */
void kobject_init(kobject_t *obj, const struct kobject_ops *ops);

static inline zx_obj_type_t kobject_type(const kobject_t *obj) { return obj->ops->type; }

void kobject_ref(kobject_t *obj);
/*
 * Takes a reference only if obj still has one (refs > 0); false once its last reference
 * has gone (its destroy is running or owed). For lists that hold objects without a
 * reference (kernel/proc/proc_registry.c): the list's lock keeps the memory valid, and
 * this decides whether the object may still be used.
 */
bool kobject_try_ref(kobject_t *obj);
/* Drops one reference; the last one calls ops->destroy (at once, or from the calling
 * thread's release queue before the outermost release returns). Never call with
 * obj->lock or any lock a destroy may take held. */
void kobject_unref(kobject_t *obj) TA_EXCL(obj->lock);

/*
 * For handle_ref_release: runs `action` (KOBJECT_ACTION_HANDLE_DROPPED or _ZERO_HANDLES;
 * the op must exist) on obj, then drops the one reference the caller hands over. Like
 * kobject_unref, the op is deferred to the release queue when the calling thread is
 * already releasing something. No lock may be held.
 */
void kobject_handle_action(kobject_t *obj, uint32_t action) TA_EXCL(obj->lock);

/* Atomically: signals = (signals & ~clear) | set; wakes waiters if anything changed. */
void kobject_signal(kobject_t *obj, zx_signals_t clear, zx_signals_t set) TA_EXCL(obj->lock);
/* Same, caller already holds obj->lock. */
void kobject_signal_locked(kobject_t *obj, zx_signals_t clear, zx_signals_t set)
    TA_REQ(obj->lock);

zx_signals_t kobject_signals(kobject_t *obj) TA_EXCL(obj->lock);

/*
 * still_valid is called WITHOUT obj->lock held (it typically takes a handle-table
 * lock), before the first block and after every wake.
 *
 * Waits until (signals & mask) != 0, the deadline passes, or `still_valid(ctx)` returns
 * false after a wake (used for "the handle waited on was closed"). *observed receives the
 * signals at return. Returns ZX_OK, ZX_ERR_TIMED_OUT, ZX_ERR_CANCELED (still_valid false)
 * or ZX_ERR_INTERNAL_INTR_KILLED.
 */
zx_status_t kobject_wait(kobject_t *obj, zx_signals_t mask, zx_time_t deadline,
                         bool (*still_valid)(void *ctx), void *ctx, zx_signals_t *observed)
    TA_EXCL(obj->lock);

/*
 * Adds observer o, tied to handle `value` of table ht, and calls its on_state once with
 * the current signals (changed 0); if that returns true it is not added. Returns ZX_OK
 * (added, or done at once: *done tells which) or ZX_ERR_NO_RESOURCES (the object has
 * KOBJECT_MAX_OBSERVERS already; nothing changed).
 */
zx_status_t kobject_observer_add(kobject_t *obj, struct kobject_observer *o,
                                 struct handle_table *ht, zx_handle_t value, bool *done)
    TA_EXCL(obj->lock);

/* Takes o off obj's list if it is still there (true), else false: it finished or was
 * cancelled meanwhile. *signals (may be NULL) receives obj's signals. */
bool kobject_observer_remove(kobject_t *obj, struct kobject_observer *o, zx_signals_t *signals)
    TA_EXCL(obj->lock);

/* Handle `value` of table ht, which referred to obj, has been removed from the table:
 * cancels the observers added through it (on_cancel). Costs one atomic load when obj
 * has no observers. No lock held. */
void kobject_cancel_handle(kobject_t *obj, struct handle_table *ht, zx_handle_t value)
    TA_EXCL(obj->lock);

/* Cancels (on_cancel) every observer of obj for which match(o, ctx) is true; returns how
 * many. match runs under obj's lock, like the ops. */
uint32_t kobject_cancel_matching(kobject_t *obj,
                                 bool (*match)(struct kobject_observer *o, void *ctx),
                                 void *ctx) TA_EXCL(obj->lock);

/* Wakes all waiters on obj without changing signals (e.g. a handle to it was closed). */
void kobject_poke_waiters(kobject_t *obj) TA_EXCL(obj->lock);

#endif
