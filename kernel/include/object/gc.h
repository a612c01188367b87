/*
 * The handle-cycle collector (object/gc.c).
 *
 * Handles can sit inside other objects: in the queue of a channel endpoint, and in the
 * handle table of a shared process family that has no running member. Such a
 * *container* can only be emptied by someone who can reach it, so objects can keep each
 * other alive through handles nobody will ever use (two endpoints in each other's
 * queues, a family whose only member handle is in its own table). The collector finds
 * those objects and closes them as if their last handle had been closed.
 *
 * The graph. Every object that is a container, or leads to one, has a gc_node:
 *  - a channel endpoint: its queue holds handles (children: the objects of the handles
 *    in its queued messages); reachable iff a handle to it is reachable;
 *  - a member of a shared family (a process): its one child is its family; reachable
 *    iff a handle to it is reachable (with it a family can be started or joined);
 *  - a family: its table is a container only while no member runs (children: the
 *    objects of the handles in it); reachable iff a member with handles is reachable.
 * Everything else (VMOs, threads, ...) is a leaf: it is freed when the containers
 * holding its handles are emptied.
 *
 * Counting. `contained` is the number of an object's handles that sit in containers
 * (queued messages, tables of non-running families), kept exact under the gc lock. An
 * object whose handles all sit in containers (refs == contained) is a *candidate*;
 * anything else has a handle in a root (a running process's table, a handle the kernel
 * holds in flight) and is reachable.
 *
 * Locking: the gc lock is a mutex (gc_enter / gc_exit). Everything that puts handles the
 * collector counts into a container or takes them out (queueing, dequeueing and freeing
 * messages that carry them, a family starting or ending its last running member, joining
 * a family) holds it, so containers do not change while a collection looks at them. It
 * is taken with interrupts on and no spinlock held; spinlocks (an endpoint's, a handle
 * table's) may be taken under it. It nests: code that already holds it (the collector
 * closing garbage releases handles, which runs on_zero_handles, which may need it) passes
 * straight through.
 */
#ifndef OBJECT_GC_H
#define OBJECT_GC_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/compiler.h>
#include <kernel/mutex.h>
#include <lib/list.h>
#include <object/kobject.h>

typedef struct gc_node gc_node_t;
typedef void (*gc_visit_fn)(gc_node_t *child, void *ctx);

/* The gc lock (gc.c). Named here for the thread-safety annotations of what it guards;
 * code takes it only through gc_enter / gc_exit. */
extern mutex_t gc_lock;

/* What the collector needs from a node type. Every op runs with the gc lock held, except
 * that gc_reference_dropped calls `candidate` without it (so it must then read only
 * atomics). */
struct gc_node_ops {
    /* References that make the node reachable if one of them is: its handle count (a
     * family: its members that have handles). */
    uint32_t (*refs)(gc_node_t *n);
    /* True if the node may be unreachable: every reference sits in a container (a
     * family: no member runs). Others are reachable from a root. */
    bool (*candidate)(gc_node_t *n);
    /* Calls fn once per reference the node's container holds (one per handle; a member
     * once, for its family). Must not block; may take spinlocks. */
    void (*for_each_child)(gc_node_t *n, gc_visit_fn fn, void *ctx);
    /* The node is garbage. detach: it stops being a container (no handle leaves its
     * container in a way the collector would count afterwards) without releasing
     * anything; close (after every garbage node is detached): release what detach took
     * and end the object as if its last handle had been closed. */
    void (*detach)(gc_node_t *n);
    void (*close)(gc_node_t *n);
    /* Keep the node's object alive / let it go (an object reference). */
    void (*hold)(gc_node_t *n);
    void (*release)(gc_node_t *n);
};

struct gc_node {
    const struct gc_node_ops *ops;
    uint32_t contained; /* handles in containers: changed under the gc lock, read atomically */
    /* The rest is the collector's, under the gc lock. */
    uint8_t mark TA_GUARDED(gc_lock);      /* GC_MARK_* of the collection `epoch` */
    uint8_t queue TA_GUARDED(gc_lock);     /* GC_QUEUE_*: suspect state, across collections */
    uint32_t internal TA_GUARDED(gc_lock); /* references found in this collection */
    uint64_t epoch TA_GUARDED(gc_lock);    /* the collection that last visited the node */
    /* The collection's visited list; its work lists, then its garbage list; the suspect
     * list, then the round list. */
    struct list_node seen_node TA_GUARDED(gc_lock);
    struct list_node work_node TA_GUARDED(gc_lock);
    struct list_node suspect_node TA_GUARDED(gc_lock);
};

/* Makes n a node of type ops (no references contained, not queued). n is not yet
 * reachable by anyone else. */
void gc_node_init(gc_node_t *n, const struct gc_node_ops *ops);

/* For assertions when n's object is destroyed: true if n is still queued as a suspect
 * (it must not be: a queued suspect holds a reference to its object). Not checked by the
 * analysis: it reads without the gc lock, which is safe once no reference is left, since
 * queueing takes one. */
static inline bool gc_node_queued(const gc_node_t *n) TA_NO_THREAD_SAFETY_ANALYSIS {
    return n->queue != 0;
}

/*
 * The `candidate` test of a node whose references are its object's handles (`handles`,
 * read atomically by the caller): true if there is one and every one sits in a
 * container. Reads only atomics, so it is safe without the gc lock.
 */
static inline bool gc_handles_all_contained(const gc_node_t *n, uint32_t handles) {
    return handles > 0 && handles == __atomic_load_n(&n->contained, __ATOMIC_SEQ_CST);
}

/* The node of a kobject (NULL for objects the collector does not track). */
static inline gc_node_t *gc_node_of(kobject_t *obj) {
    return obj->ops->gc_node != NULL ? obj->ops->gc_node(obj) : NULL;
}

/*
 * Takes the gc lock unless the calling thread holds it already; returns whether it took
 * it. Pass the result to gc_exit, which, if it was taken, first collects from every
 * suspect queued meanwhile (with the lock held; see gc_suspect) and then releases it.
 * Call with interrupts on and no spinlock held.
 */
bool gc_enter(void) TA_ASSERT(gc_lock);
void gc_exit_locked(void);
static inline void gc_exit(bool entered) {
    if (entered) /* inline: the common path (nothing taken) costs one test */
        gc_exit_locked();
}
/*
 * The analysis cannot express a lock that nests, so it reads gc_enter as "the gc lock is
 * held from here on" (true whether it was taken now or further up) and gc_exit as
 * leaving it so.
 *
 * gc_lock_assume_held tells the analysis (no code) that the calling thread holds the
 * gc lock where clang cannot follow it: after a gc_enter made under a condition that the
 * code tests again. Each use says which gc_enter it relies on; the gc functions called
 * next check it at run time (DEBUG_ASSERT(gc_held())).
 */
static inline void gc_lock_assume_held(void) TA_ASSERT(gc_lock) {}

/* True if the calling thread holds the gc lock. */
bool gc_held(void);

/*
 * n may have become garbage (one of its references went away or moved into a
 * container): queue it for the collection that runs when the outermost gc_exit
 * releases the lock. Takes a reference (hold) while queued. Gc lock held.
 */
void gc_suspect(gc_node_t *n) TA_REQ(gc_lock);

/* Adds delta to n->contained (gc lock held). After an increment, queues n as a suspect
 * if it has become a candidate. */
void gc_contain(gc_node_t *n, int32_t delta) TA_REQ(gc_lock);

/*
 * The same increment in two steps, for a message whose handles all move into the
 * container of one node at once: gc_contain_count counts each, then gc_moved_into
 * queues each as a suspect only if the container's node is itself a candidate (every
 * handle to it contained). When it is not, it has a handle in a root, so n is reachable
 * through it and so is everything n leads to: the move made nothing garbage (there was
 * none before: every event that can make garbage is collected), and the collection
 * from n, which would visit all of that, is skipped. This keeps building a chain of
 * nested endpoints linear instead of quadratic. Gc lock held.
 */
void gc_contain_count(gc_node_t *n) TA_REQ(gc_lock);
void gc_moved_into(gc_node_t *n, gc_node_t *container) TA_REQ(gc_lock);

/*
 * A reference to n went away (a handle closed) and n may now be a candidate: if so,
 * runs a collection from n before returning. No lock held (takes the gc lock only when
 * n is a candidate, so an ordinary close costs two atomic loads).
 */
void gc_reference_dropped(gc_node_t *n);

#ifdef BERYL_HOST
/* Test hook (host tests): called by each collection after it has decided what is
 * garbage and before it closes anything. NULL by default. */
extern void (*gc_test_hook)(void);
#endif

/* Statistics since boot, for tests and logs (gc lock not needed; approximate). */
struct gc_stats {
    uint64_t collections;  /* rounds run */
    uint64_t visited;      /* nodes visited, summed over rounds */
    uint64_t collected;    /* garbage nodes closed */
};
void gc_get_stats(struct gc_stats *out);

#endif
