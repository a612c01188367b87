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
#include <zircon/types.h>

typedef struct kobject kobject_t;

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
};

/* Assigns a fresh koid (from ZX_KOID_FIRST, never reused), refs = 1, no handles, no
 * signals. */
void kobject_init(kobject_t *obj, const struct kobject_ops *ops);

static inline zx_obj_type_t kobject_type(const kobject_t *obj) { return obj->ops->type; }

void kobject_ref(kobject_t *obj);
/* Drops one reference; the last one calls ops->destroy. Never call with obj->lock held. */
void kobject_unref(kobject_t *obj);

/* Atomically: signals = (signals & ~clear) | set; wakes waiters if anything changed. */
void kobject_signal(kobject_t *obj, zx_signals_t clear, zx_signals_t set);
/* Same, caller already holds obj->lock. */
void kobject_signal_locked(kobject_t *obj, zx_signals_t clear, zx_signals_t set);

zx_signals_t kobject_signals(kobject_t *obj);

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
                         bool (*still_valid)(void *ctx), void *ctx, zx_signals_t *observed);

/* Wakes all waiters on obj without changing signals (e.g. a handle to it was closed). */
void kobject_poke_waiters(kobject_t *obj);

#endif
