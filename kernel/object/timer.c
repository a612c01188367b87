/*
 * Timers (object/timer.h).
 *
 * Armed timers sit in one tree keyed by deadline (one node per distinct deadline, timers
 * sharing it chained behind the node's owner, as the scheduler keeps its sleepers), under
 * one spinlock, timer_lock. A kernel thread, started at boot (timer_init), sleeps on the
 * scheduler's deadline mechanism (wait_queue_block with the earliest deadline) and, when
 * woken, asserts ZX_TIMER_SIGNALED on every timer that is due, TIMER_FIRE_BATCH at a time
 * with interrupts back on between batches however many timers share a deadline. Setting
 * or cancelling a timer that changes the earliest deadline wakes the thread to sleep
 * again until the new one. Nothing runs in the tick: timers cost the scheduler nothing.
 *
 * Slack: Beryl fires every timer at its deadline, which lies inside the window of every
 * slack mode (CENTER, EARLY, LATE), so slack is checked and kept but never moves a timer.
 *
 * Locks: timer_lock (LOCK_CLASS_TIMER) nests outside object locks: the thread asserts
 * the signal, and zx_timer_set / zx_timer_cancel clear it, with timer_lock held, so a
 * timer is never signalled for a setting that has already been replaced. The tree holds
 * no reference: a timer's destroy takes it out of the tree under the same lock.
 */
#include <object/timer.h>

#include <arch/timer.h>
#include <kernel/assert.h>
#include <kernel/thread.h>
#include <lib/avl.h>
#include <phys/heap.h>

/* Timers signalled per hold of timer_lock. */
#define TIMER_FIRE_BATCH 32u

enum timer_state { TIMER_IDLE, TIMER_TREE, TIMER_CHAINED };

typedef struct ktimer {
    kobject_t obj;
    uint32_t options;          /* ZX_TIMER_SLACK_* */
    /* Guarded by timer_lock. */
    zx_time_t deadline;
    zx_duration_t slack;
    enum timer_state state;
    struct avl_node node;      /* in the tree (state TREE), keyed by deadline */
    struct list_node chain;    /* TREE: the timers sharing the deadline; CHAINED: link */
} ktimer_t;

static spinlock_t timer_lock = SPIN_LOCK_INIT_CLASS(TIMER);
static struct avl_tree timer_tree;
static wait_queue_t timer_thread_wq;
static thread_t timer_thread_storage;

static ktimer_t *to_timer(kobject_t *o) { return (ktimer_t *)o; }

/* Puts an IDLE timer into the tree. timer_lock held. */
static void timer_insert_locked(ktimer_t *t) {
    uint64_t key = (uint64_t)(t->deadline < 0 ? 0 : t->deadline);
    struct avl_node *n = avl_find(&timer_tree, key);
    if (n != NULL) {
        ktimer_t *owner = containerof(n, ktimer_t, node);
        list_add_tail(&owner->chain, &t->chain);
        t->state = TIMER_CHAINED;
        return;
    }
    t->node.key = key;
    ASSERT(avl_insert(&timer_tree, &t->node) == ZX_OK);
    list_init(&t->chain);
    t->state = TIMER_TREE;
}

/* Takes t out of the tree (the next timer of its chain takes over its node). timer_lock
 * held. */
static void timer_remove_locked(ktimer_t *t) {
    if (t->state == TIMER_CHAINED) {
        list_delete(&t->chain);
    } else if (t->state == TIMER_TREE) {
        avl_remove(&timer_tree, &t->node);
        struct list_node *first = list_remove_head(&t->chain);
        if (first != NULL) {
            ktimer_t *heir = containerof(first, ktimer_t, chain);
            list_move_all(&t->chain, &heir->chain);
            heir->node.key = t->node.key;
            ASSERT(avl_insert(&timer_tree, &heir->node) == ZX_OK);
            heir->state = TIMER_TREE;
        }
    }
    t->state = TIMER_IDLE;
}

static zx_time_t timer_earliest_locked(void) {
    struct avl_node *n = avl_first(&timer_tree);
    return n != NULL ? (zx_time_t)n->key : ZX_TIME_INFINITE;
}

/* The timer thread: signals due timers, then sleeps until the earliest deadline or a
 * wake from timer_set / timer_cancel. */
static int timer_thread_loop(void *arg) {
    (void)arg;
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&timer_lock, &st);
    for (;;) {
        zx_time_t now = current_time();
        uint32_t fired = 0;
        struct avl_node *n;
        while (fired < TIMER_FIRE_BATCH && (n = avl_first(&timer_tree)) != NULL &&
               (zx_time_t)n->key <= now) {
            ktimer_t *t = containerof(n, ktimer_t, node);
            timer_remove_locked(t);
            kobject_signal(&t->obj, 0, ZX_TIMER_SIGNALED);
            fired++;
        }
        if (fired == TIMER_FIRE_BATCH) {
            spin_unlock_irqrestore(&timer_lock, st); /* let interrupts in */
            spin_lock_irqsave(&timer_lock, &st);
            continue;
        }
        wait_queue_block(&timer_thread_wq, &timer_lock, timer_earliest_locked());
    }
    return 0;
}

void timer_init(void) {
    wait_queue_init(&timer_thread_wq);
    avl_init(&timer_tree);
    ASSERT(thread_init(&timer_thread_storage, "timers", timer_thread_loop, NULL) == ZX_OK);
    thread_start(&timer_thread_storage);
}

static void timer_destroy(kobject_t *o) {
    ktimer_t *t = to_timer(o);
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&timer_lock, &st);
    timer_remove_locked(t);
    spin_unlock_irqrestore(&timer_lock, st);
    kfree(t);
}

static const struct kobject_ops timer_ops = {
    .type = ZX_OBJ_TYPE_TIMER,
    .type_name = "timer",
    .destroy = timer_destroy,
};

zx_status_t timer_create(uint32_t options, kobject_t **out) {
    ktimer_t *t = kzalloc(sizeof(*t));
    if (t == NULL)
        return ZX_ERR_NO_MEMORY;
    kobject_init(&t->obj, &timer_ops);
    t->options = options;
    t->state = TIMER_IDLE;
    list_init(&t->chain);
    *out = &t->obj;
    return ZX_OK;
}

void timer_set(kobject_t *o, zx_time_t deadline, zx_duration_t slack) {
    ktimer_t *t = to_timer(o);
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&timer_lock, &st);
    zx_time_t before = timer_earliest_locked();
    timer_remove_locked(t);
    kobject_signal(&t->obj, ZX_TIMER_SIGNALED, 0);
    t->deadline = deadline;
    t->slack = slack;
    timer_insert_locked(t);
    if (timer_earliest_locked() < before)
        wait_queue_wake_all(&timer_thread_wq, ZX_OK);
    spin_unlock_irqrestore(&timer_lock, st);
}

void timer_cancel(kobject_t *o) {
    ktimer_t *t = to_timer(o);
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&timer_lock, &st);
    /* The thread may now sleep too short; it wakes, finds nothing due and sleeps on. */
    timer_remove_locked(t);
    kobject_signal(&t->obj, ZX_TIMER_SIGNALED, 0);
    spin_unlock_irqrestore(&timer_lock, st);
}
