/*
 * The handle-cycle collector (object/gc.h has the graph and the counting).
 *
 * When it runs. Nothing becomes garbage unless a reference goes away: a handle is closed,
 * a handle moves from a root into a container (written into a channel, passed to a
 * family member), or a family's table stops being a root (its last running member ends).
 * Whoever does that queues the object that lost the reference as a *suspect* (only when
 * it is a candidate, so ordinary closes cost two atomic loads), and the outermost gc_exit
 * on that thread collects before it releases the lock: the garbage is gone before the
 * syscall that made it returns.
 *
 * What one collection looks at. If everything was collected after the previous event,
 * then anything unreachable now was reachable only through the reference that just went
 * away, so it lies below the suspect: the collection visits only what the suspects'
 * containers lead to, and never descends into an object that is not a candidate (it has
 * a handle in a root, so everything below it is reachable). Its cost is proportional to
 * the candidates below the suspects and the handles in their containers, not to
 * everything in flight in the system; it runs with interrupts on and can be preempted
 * (only a family table is scanned with its spinlock held, a chunk of slots at a time).
 * Every step is a loop over work lists linked through the nodes themselves: no
 * recursion, no allocation (so no failure).
 *
 * The algorithm (a scoped version of the classic one for in-flight descriptors):
 *  1. visit: from the suspects, walk the containers of candidates; for every reference
 *     found, count it in the child's `internal`;
 *  2. a visited node that is not a candidate, or has more references than were found in
 *     the visited containers (one lives in a root, or in a container that is reachable
 *     because it is not below the suspects), is reachable; so is everything its container
 *     holds, transitively;
 *  3. the candidates left are garbage: every garbage node is detached first (its queue
 *     taken, its table no longer counted: nothing is released yet), then closed (what
 *     was taken is freed; endpoints are unlinked from their peers, which see
 *     PEER_CLOSED; unstarted members are killed), exactly as if their last handles had
 *     been closed. Those releases may make new suspects; they are collected in the next
 *     round of the same gc_exit.
 *
 * Why concurrent threads cannot fool it. Containers only change under the gc lock, so a
 * collection sees each of them whole. What can change meanwhile is outside containers:
 *  - a handle in a root is closed: a candidate stays a candidate and a non-candidate
 *    may become one; either way the closer queues a suspect and collects next (it
 *    blocks on the lock), so nothing is missed;
 *  - a handle is created from a kernel reference (zx_handle_duplicate of a handle that
 *    another thread closes at the same time, a reader that looked an endpoint up before
 *    its last handle went): the collector may already have closed that object, exactly
 *    as closing the last handle would have, and the late user sees a closed endpoint or
 *    a dead process, never an open object with lost contents;
 *  - a reader dequeues a message that carries counted handles: it holds the gc lock to
 *    do it, so the message is either still in its queue for the whole collection or
 *    already out (its handles are then in flight in the kernel, a root).
 *  - starting or joining a family holds the gc lock, so a family is either a container
 *    for a whole collection (and then collected with every member that could start it)
 *    or running, and a collected family refuses new members and starts.
 */
#include <object/gc.h>

#include <kernel/assert.h>
#include <kernel/mutex.h>

#define GC_MARK_CANDIDATE (1u << 0)
#define GC_MARK_REACHABLE (1u << 1)

#define GC_QUEUE_SUSPECT (1u << 0) /* on gc_suspects */
#define GC_QUEUE_ROUND (1u << 1)   /* on the round list of the running collection */
#define GC_QUEUE_AGAIN (1u << 2)   /* suspected again while on the round list */

mutex_t gc_lock = MUTEX_INITIAL_VALUE_CLASS(gc_lock, GC);
static struct list_node gc_suspects TA_GUARDED(gc_lock) = LIST_INITIAL_VALUE(gc_suspects);
static uint64_t gc_epoch TA_GUARDED(gc_lock);
static struct gc_stats gc_stat TA_GUARDED(gc_lock);

#ifdef BERYL_HOST
void (*gc_test_hook)(void);
#endif

/* Not checked by the analysis: n is new, so nobody else can see the fields that the gc
 * lock guards once n is in use. */
void gc_node_init(gc_node_t *n, const struct gc_node_ops *ops) TA_NO_THREAD_SAFETY_ANALYSIS {
    n->ops = ops;
    n->contained = 0;
    n->mark = 0;
    n->queue = 0;
    n->internal = 0;
    n->epoch = 0;
    list_init(&n->seen_node);
    list_init(&n->work_node);
    list_init(&n->suspect_node);
}

bool gc_held(void) { return mutex_held(&gc_lock); }

void gc_suspect(gc_node_t *n) {
    DEBUG_ASSERT(gc_held());
    if (n->queue & GC_QUEUE_SUSPECT)
        return;
    if (n->queue & GC_QUEUE_ROUND) {
        n->queue |= GC_QUEUE_AGAIN; /* after the visit: it needs another look */
        return;
    }
    n->ops->hold(n);
    n->queue |= GC_QUEUE_SUSPECT;
    list_add_tail(&gc_suspects, &n->suspect_node);
}

void gc_contain(gc_node_t *n, int32_t delta) {
    DEBUG_ASSERT(gc_held());
    uint32_t old = __atomic_fetch_add(&n->contained, (uint32_t)delta, __ATOMIC_SEQ_CST);
    DEBUG_ASSERT(delta >= 0 || old >= (uint32_t)-delta);
    (void)old;
    if (delta > 0 && n->ops->candidate(n))
        gc_suspect(n);
}

void gc_contain_count(gc_node_t *n) {
    DEBUG_ASSERT(gc_held());
    __atomic_fetch_add(&n->contained, 1u, __ATOMIC_SEQ_CST);
}

void gc_moved_into(gc_node_t *n, gc_node_t *container) {
    DEBUG_ASSERT(gc_held());
    if (n->ops->candidate(n) && container->ops->candidate(container))
        gc_suspect(n);
}

/* One collection's lists. */
struct gc_walk {
    struct list_node seen; /* every node visited (seen_node) */
    struct list_node work; /* nodes whose containers are still to scan (work_node) */
};

/* First sight of n in this collection: reset its counts, remember whether it can be
 * garbage, and scan its container later if so. */
static void gc_visit(struct gc_walk *w, gc_node_t *n) TA_REQ(gc_lock) {
    if (n->epoch == gc_epoch)
        return;
    n->epoch = gc_epoch;
    n->internal = 0;
    n->mark = 0;
    list_add_tail(&w->seen, &n->seen_node);
    gc_stat.visited++;
    if (n->ops->candidate(n)) {
        n->mark = GC_MARK_CANDIDATE;
        list_add_tail(&w->work, &n->work_node);
    }
}

static void gc_count_child(gc_node_t *child, void *ctx) TA_REQ(gc_lock) {
    gc_visit(ctx, child);
    child->internal++;
}

static void gc_mark_reachable(struct gc_walk *w, gc_node_t *n) TA_REQ(gc_lock) {
    if (n->mark & GC_MARK_REACHABLE)
        return;
    n->mark |= GC_MARK_REACHABLE;
    if (n->mark & GC_MARK_CANDIDATE) /* its container was scanned: follow it */
        list_add_tail(&w->work, &n->work_node);
}

static void gc_mark_child(gc_node_t *child, void *ctx) TA_REQ(gc_lock) {
    /* Containers are frozen under the gc lock, so the second scan finds exactly the
     * children the first one visited. */
    DEBUG_ASSERT(child->epoch == gc_epoch);
    gc_mark_reachable(ctx, child);
}

/* Pops the next node of a list linked through work_node, or NULL. */
static gc_node_t *gc_pop_work(struct list_node *list) TA_REQ(gc_lock) {
    struct list_node *l = list_remove_head(list);
    return l != NULL ? containerof(l, gc_node_t, work_node) : NULL;
}

/*
 * One collection from the suspects on `round` (linked through suspect_node): finds what
 * is unreachable below them and closes it. Gc lock held throughout; closing releases
 * handles, which may queue new suspects on gc_suspects.
 */
static void gc_collect(struct list_node *round) TA_REQ(gc_lock) {
    struct gc_walk w;
    list_init(&w.seen);
    list_init(&w.work);
    gc_epoch++;
    gc_stat.collections++;

    gc_node_t *n;
    list_for_every_entry(round, n, gc_node_t, suspect_node)
        gc_visit(&w, n);
    while ((n = gc_pop_work(&w.work)) != NULL)
        n->ops->for_each_child(n, gc_count_child, &w);

    list_for_every_entry(&w.seen, n, gc_node_t, seen_node) {
        if (!(n->mark & GC_MARK_CANDIDATE) || n->internal < n->ops->refs(n))
            gc_mark_reachable(&w, n);
    }
    while ((n = gc_pop_work(&w.work)) != NULL)
        n->ops->for_each_child(n, gc_mark_child, &w);

    /* What is left is garbage. Hold each one: closing one may release the last handle
     * and reference of another. The seen list is not used after this point (its other
     * nodes are not held). */
    struct list_node garbage;
    list_init(&garbage);
    list_for_every_entry(&w.seen, n, gc_node_t, seen_node) {
        if (n->mark == GC_MARK_CANDIDATE) {
            n->ops->hold(n);
            list_add_tail(&garbage, &n->work_node);
        }
    }
#ifdef BERYL_HOST
    if (gc_test_hook != NULL)
        gc_test_hook();
#endif
    list_for_every_entry(&garbage, n, gc_node_t, work_node)
        n->ops->detach(n);
    list_for_every_entry(&garbage, n, gc_node_t, work_node) {
        n->ops->close(n);
        gc_stat.collected++;
    }
    while ((n = gc_pop_work(&garbage)) != NULL)
        n->ops->release(n);
}

/* Collects until no suspect is left. Gc lock held. */
static void gc_drain(void) TA_REQ(gc_lock) {
    while (!list_is_empty(&gc_suspects)) {
        struct list_node round;
        list_init(&round);
        struct list_node *l;
        while ((l = list_remove_head(&gc_suspects)) != NULL) {
            gc_node_t *n = containerof(l, gc_node_t, suspect_node);
            n->queue = GC_QUEUE_ROUND;
            list_add_tail(&round, l);
        }
        gc_collect(&round);
        while ((l = list_remove_head(&round)) != NULL) {
            gc_node_t *n = containerof(l, gc_node_t, suspect_node);
            if (n->queue & GC_QUEUE_AGAIN) {
                n->queue = GC_QUEUE_SUSPECT; /* keeps its hold */
                list_add_tail(&gc_suspects, l);
            } else {
                n->queue = 0;
                n->ops->release(n);
            }
        }
    }
}

/* Not checked by the analysis: the lock nests (see gc.h), which clang cannot express;
 * the two functions below are the only ones that take and release it. */
bool gc_enter(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    if (mutex_held(&gc_lock))
        return false;
    mutex_acquire(&gc_lock);
    return true;
}

/* gc_exit when gc_enter took the lock: collect, then release. Not checked by the
 * analysis: see gc_enter. */
void gc_exit_locked(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    gc_drain();
    mutex_release(&gc_lock);
}

void gc_reference_dropped(gc_node_t *n) {
    /* The closer decremented the handle count, a writer increments `contained` under the
     * lock; each then reads the other's count. The fence orders our read after our
     * decrement, so at least one of the two sees both changes and queues the suspect. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!n->ops->candidate(n))
        return;
    bool entered = gc_enter();
    gc_suspect(n);
    gc_exit(entered);
}

/* Not checked by the analysis: a copy without the lock (gc.h: approximate). */
void gc_get_stats(struct gc_stats *out) TA_NO_THREAD_SAFETY_ANALYSIS { *out = gc_stat; }
