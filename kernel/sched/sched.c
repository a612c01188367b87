/*
 * The scheduler core (contracts in <kernel/thread.h> and <kernel/wait.h>): run queue,
 * context switch, blocking and waking, wait queues, the timer tick. It never calls the
 * VM: kernel stacks, thread creation and the reaper's work live above it, in thread.c
 * (the interface between the two is sched_priv.h).
 *
 * Round robin: one FIFO run queue, a time slice of SCHED_SLICE_TICKS timer ticks, an idle
 * thread that halts. Threads run on the boot CPU; placement data is kept for several
 * (below). Everything here runs with interrupts disabled (that
 * is the scheduler lock on one CPU). A switch happens only from sched_reschedule; it
 * loads the next thread's page tables (thread.mmu) when they differ from the previous
 * thread's.
 *
 * A thread cannot free the stack it is running on, and the switch path runs with
 * interrupts off, where nothing may block or run long. So the next thread to run only
 * moves a dead predecessor onto the reap list (sched_finish_switch), and the reaper
 * thread takes it from there (sched_reap_next) to free its stack and call its owner's
 * on_reaped with interrupts on: both may take the kernel aspace mutex and release
 * objects whose teardown runs long.
 *
 * Placement. Each thread carries an affinity mask (thread_set_affinity refuses one
 * without an online CPU) and the run queue hands a CPU the first thread whose mask
 * holds it; with one CPU online that is always the head. Each switch records where and
 * how long threads run with one TSC read and three stores: next->last_cpu, prev's run
 * time grown by the cycles since the previous switch (arch_cycle_count, converted to
 * nanoseconds only when asked), and the new switch_stamp. switch_stamp, the cycle count of this CPU's last switch, and the run queue
 * become per CPU with the SMP scheduler.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/mmu.h>
#include <arch/thread.h>
#include <arch/timer.h>
#include <kernel/assert.h>
#include <kernel/console.h>
#include <kernel/thread.h>
#include <kernel/trap.h>
#include <kernel/wait.h>
#include <lib/string.h>
#include <zircon/syscalls/profile.h>
#include "sched_priv.h"

#define SCHED_SLICE_TICKS 10u


static struct list_node run_queue = LIST_INITIAL_VALUE(run_queue);
/* Threads blocked with a deadline: an AVL tree keyed by deadline with one node per
 * distinct deadline, so inserting and expiring cost O(log n) with interrupts off however
 * many threads sleep; threads sharing a deadline chain behind the node's owner. */
static struct avl_tree sleepers;
static thread_t *current;
static thread_t *idle_thread;
static thread_t *dead_thread; /* exited, waiting for the next thread to run */
static struct list_node reap_list = LIST_INITIAL_VALUE(reap_list); /* dead, stacks in use */
static wait_queue_t reaper_wq;  /* the reaper sleeps here while reap_list is empty */
static wait_queue_t reaped_wq;  /* sched_reap_wait callers */
static bool reaper_busy;        /* the reaper is freeing a thread it took off reap_list */
static thread_t *reaper;        /* thread.c's reaper thread (sched_start) */
static thread_t bootstrap_thread;
static bool initialized;
/* CPUs that run threads (sched_cpu_online): a mask and its count, written by one CPU at
 * a time, read without a lock. */
static cpu_mask_t online_mask;
static uint32_t online_count;
static uint64_t switch_stamp; /* arch_cycle_count() at this CPU's last switch */

bool sched_initialized(void) { return initialized; }

thread_t *thread_current(void) { return current; }

static void copy_name(thread_t *t, const char *name) {
    size_t n = name ? strnlen(name, sizeof(t->name) - 1) : 0;
    memcpy(t->name, name, n);
    t->name[n] = '\0';
}

/* Hands a dead predecessor to the reaper; runs first thing on the new thread after
 * every switch (interrupts off). */
static void sched_finish_switch(void) {
    thread_t *d = dead_thread;
    if (!d)
        return;
    dead_thread = NULL;
    list_add_tail(&reap_list, &d->queue_node);
    wait_queue_wake_one(&reaper_wq, ZX_OK);
}

static void wait_queue_pass_on(wait_queue_t *wq);
static void sleepers_expire(void);

static void make_ready(thread_t *t) {
    t->state = THREAD_READY;
    list_add_tail(&run_queue, &t->queue_node);
}

/* A thread is dying: let the reaper run next (the dying thread's switch hands it over),
 * unless it is blocked on something other than its own queue. Interrupts off. */
static void reaper_run_next(void) {
    thread_t *r = reaper;
    if (r->state == THREAD_BLOCKED && r->blocked_on == &reaper_wq) {
        list_delete(&r->queue_node);
        r->blocked_on->count--;
        r->blocked_on = NULL;
        r->wake_status = ZX_OK;
    } else if (r->state == THREAD_READY) {
        list_delete(&r->queue_node);
    } else {
        return;
    }
    r->state = THREAD_READY;
    list_add_head(&run_queue, &r->queue_node);
}

/* Loads next's page tables if they differ from prev's (the fault handler reads the
 * aspace from the running thread, so nothing else changes). Interrupts off. */
static inline void switch_aspace(thread_t *prev, thread_t *next) {
    if (prev->mmu != next->mmu)
        arch_mmu_context_switch(prev->mmu, next->mmu);
}

/* Takes the first ready thread allowed on cpu off the run queue; idle if none is.
 * Interrupts off. With one CPU online every queued thread is allowed (thread_set_affinity
 * keeps an online CPU in every mask), so this takes the head; a scan past threads
 * pinned elsewhere happens only with several CPUs on the one queue. */
static thread_t *pick_next(uint32_t cpu) {
    cpu_mask_t me = CPU_MASK_BIT(cpu);
    thread_t *t;
    list_for_every_entry(&run_queue, t, thread_t, queue_node) {
        if (t->affinity & me) {
            list_delete(&t->queue_node);
            return t;
        }
    }
    return idle_thread;
}

/*
 * Picks the next thread and switches to it. A RUNNING current goes to the back of the run
 * queue; the caller has already made a BLOCKED or DEAD current leave it. Interrupts off.
 */
static void sched_reschedule(void) {
    DEBUG_ASSERT(arch_irqs_disabled());
    thread_t *prev = current;
    if (prev == idle_thread)
        prev->state = THREAD_READY; /* never queued: it runs when nothing else can */
    else if (prev->state == THREAD_RUNNING)
        make_ready(prev);
    uint32_t cpu = arch_curr_cpu_num();
    thread_t *next = pick_next(cpu);
    next->state = THREAD_RUNNING;
    next->ticks_left = SCHED_SLICE_TICKS;
    if (next == prev)
        return;
    uint64_t now = arch_cycle_count();
    prev->runtime_cycles += now - switch_stamp;
    switch_stamp = now;
    next->last_cpu = cpu;
    if (prev->state == THREAD_DEAD) {
        DEBUG_ASSERT(!dead_thread);
        dead_thread = prev;
    }
    current = next;
    switch_aspace(prev, next);
    arch_thread_switch(&prev->arch, prev->state == THREAD_DEAD, &next->arch);
    arch_context_switch(&prev->arch, &next->arch);
    sched_finish_switch();
}

/* First code of every new thread (arch_thread_init makes the switch return here). */
__noreturn void thread_trampoline(void);
__noreturn void thread_trampoline(void) {
    ARCH_THREAD_OUTERMOST_FRAME(); /* debuggers' backtraces end here */
    sched_finish_switch();
    thread_t *t = current;
    arch_irq_enable();
    thread_exit(t->entry(t->arg));
}

void sched_thread_init(thread_t *t, const char *name, thread_entry_t entry, void *arg,
                       vaddr_t stack_base, vaddr_t stack_top) {
    memset(t, 0, sizeof(*t));
    copy_name(t, name);
    t->stack_base = stack_base;
    t->stack_top = stack_top;
    t->entry = entry;
    t->arg = arg;
    t->state = THREAD_INITIAL;
    t->wake_deadline = ZX_TIME_INFINITE;
    t->affinity = CPU_MASK_ALL;
    t->last_cpu = THREAD_CPU_NONE;
    t->priority = ZX_PRIORITY_DEFAULT;
    list_init(&t->queue_node);
    list_init(&t->timer_chain);
    arch_thread_init(&t->arch, t->stack_top, thread_trampoline);
}

void thread_start(thread_t *t) {
    spin_lock_saved_state_t s = arch_irq_save();
    DEBUG_ASSERT(t->state == THREAD_INITIAL);
    make_ready(t);
    arch_irq_restore(s);
}

void thread_exit(int retcode) {
    arch_irq_disable();
    thread_t *t = current;
    DEBUG_ASSERT(t != idle_thread && t != &bootstrap_thread && t != reaper);
    /* An object release in progress would be cut short (object/kobject.c). */
    DEBUG_ASSERT(!t->release_queue.draining && t->release_queue.head == NULL);
    t->retcode = retcode;
    t->state = THREAD_DEAD;
    reaper_run_next();
    sched_reschedule();
    panic("thread_exit: a dead thread was resumed");
}

void thread_yield(void) {
    spin_lock_saved_state_t s = arch_irq_save();
    sched_reschedule(); /* current is RUNNING: it goes to the back of the queue */
    arch_irq_restore(s);
}

/* --- placement --- */

uint32_t sched_num_cpus(void) { return __atomic_load_n(&online_count, __ATOMIC_ACQUIRE); }

cpu_mask_t sched_online_cpus(void) { return __atomic_load_n(&online_mask, __ATOMIC_ACQUIRE); }

zx_status_t sched_cpu_online(uint32_t cpu) {
    if (cpu >= SCHED_MAX_CPUS || cpu != sched_num_cpus())
        return ZX_ERR_INVALID_ARGS;
    /* The mask first: a reader that sees the new count finds the CPU in the mask. */
    __atomic_fetch_or(&online_mask, CPU_MASK_BIT(cpu), __ATOMIC_RELEASE);
    __atomic_store_n(&online_count, cpu + 1, __ATOMIC_RELEASE);
    return ZX_OK;
}

zx_status_t thread_set_affinity(thread_t *t, cpu_mask_t mask) {
    if ((mask & sched_online_cpus()) == 0)
        return ZX_ERR_INVALID_ARGS;
    spin_lock_saved_state_t s = arch_irq_save();
    t->affinity = mask;
    /* The caller pinned itself away from this CPU: go where the mask allows (another
     * CPU takes it from the queue; pick_next here skips it). A thread running on
     * another CPU moves at its next switch. */
    if (t == current && !(mask & CPU_MASK_BIT(arch_curr_cpu_num())))
        sched_reschedule();
    arch_irq_restore(s);
    return ZX_OK;
}

void thread_set_priority(thread_t *t, int32_t priority) {
    spin_lock_saved_state_t s = arch_irq_save();
    t->priority = priority;
    arch_irq_restore(s);
}

void thread_get_stats(thread_t *t, thread_stats_t *out) {
    spin_lock_saved_state_t s = arch_irq_save();
    uint64_t cycles = t->runtime_cycles;
    if (t == current) /* the run in progress counts too */
        cycles += arch_cycle_count() - switch_stamp;
    out->affinity = t->affinity;
    out->last_cpu = t->last_cpu;
    arch_irq_restore(s);
    out->runtime_ns = arch_cycles_to_ns(cycles);
}

void thread_preempt_disable(void) { current->preempt_disable++; }

void thread_preempt_enable(void) {
    DEBUG_ASSERT(current->preempt_disable > 0);
    current->preempt_disable--;
}

/* --- blocking, timeouts, kills --- */

static void sleepers_insert(thread_t *t) {
    DEBUG_ASSERT(t->wake_deadline >= 0 && t->timer_state == THREAD_TIMER_NONE);
    uint64_t key = (uint64_t)t->wake_deadline;
    struct avl_node *n = avl_find(&sleepers, key);
    if (n) {
        thread_t *owner = containerof(n, thread_t, timer_node);
        list_add_tail(&owner->timer_chain, &t->timer_chain);
        t->timer_state = THREAD_TIMER_CHAINED;
        return;
    }
    t->timer_node.key = key;
    ASSERT(avl_insert(&sleepers, &t->timer_node) == ZX_OK);
    list_init(&t->timer_chain);
    t->timer_state = THREAD_TIMER_TREE;
}

/* Takes t off the sleepers; the next thread of its chain takes over its tree node. */
static void sleepers_remove(thread_t *t) {
    if (t->timer_state == THREAD_TIMER_CHAINED) {
        list_delete(&t->timer_chain);
    } else if (t->timer_state == THREAD_TIMER_TREE) {
        avl_remove(&sleepers, &t->timer_node);
        struct list_node *first = list_remove_head(&t->timer_chain);
        if (first) {
            thread_t *heir = containerof(first, thread_t, timer_chain);
            list_move_all(&t->timer_chain, &heir->timer_chain);
            heir->timer_node.key = t->timer_node.key;
            ASSERT(avl_insert(&sleepers, &heir->timer_node) == ZX_OK);
            heir->timer_state = THREAD_TIMER_TREE;
        }
    }
    t->timer_state = THREAD_TIMER_NONE;
}

/* Makes a BLOCKED thread ready with status, off any wait queue and the sleeper list. */
static void wake_blocked(thread_t *t, zx_status_t status) {
    DEBUG_ASSERT(t->state == THREAD_BLOCKED);
    if (t->blocked_on) {
        list_delete(&t->queue_node);
        t->blocked_on->count--;
        t->blocked_on = NULL;
    }
    sleepers_remove(t);
    t->wake_status = status;
    make_ready(t);
}

/* Blocks current (on wq if not NULL) until woken or deadline. An interruptible block
 * ends early when the thread is killed. Interrupts off. */
static zx_status_t block_current(wait_queue_t *wq, zx_time_t deadline, bool interruptible) {
    thread_t *t = current;
    if (interruptible &&
        (__atomic_load_n(&t->pending, __ATOMIC_RELAXED) & THREAD_PENDING_KILL))
        return ZX_ERR_INTERNAL_INTR_KILLED;
    if (deadline != ZX_TIME_INFINITE && deadline <= current_time())
        return ZX_ERR_TIMED_OUT;
    t->state = THREAD_BLOCKED;
    t->block_interruptible = interruptible;
    t->wake_status = ZX_OK;
    t->wake_deadline = deadline;
    if (wq) {
        t->blocked_on = wq;
        list_add_tail(&wq->threads, &t->queue_node);
        wq->count++;
    }
    if (deadline != ZX_TIME_INFINITE)
        sleepers_insert(t);
    sched_reschedule();
    if (t->wake_status == ZX_ERR_TIMED_OUT)
        sleepers_expire(); /* pass the tick's expiry on (see sleepers_expire) */
    return t->wake_status;
}

zx_status_t thread_sleep_until(zx_time_t deadline) {
    spin_lock_saved_state_t s = arch_irq_save();
    zx_status_t st = block_current(NULL, deadline, true);
    arch_irq_restore(s);
    if (st == ZX_ERR_TIMED_OUT)
        st = ZX_OK;
    return st;
}

bool thread_kill_pending(void) {
    return current && /* NULL before sched_init: boot code is never killed */
           (__atomic_load_n(&current->pending, __ATOMIC_RELAXED) & THREAD_PENDING_KILL) != 0;
}

void thread_kill(thread_t *t) {
    spin_lock_saved_state_t s = arch_irq_save();
    __atomic_fetch_or(&t->pending, THREAD_PENDING_KILL, __ATOMIC_RELAXED);
    if (t->state == THREAD_BLOCKED && t->block_interruptible)
        wake_blocked(t, ZX_ERR_INTERNAL_INTR_KILLED);
    arch_irq_restore(s);
}

void wait_queue_init(wait_queue_t *wq) {
    list_init(&wq->threads);
    wq->count = 0;
    wq->pending_wakes = 0;
    wq->pending_status = ZX_OK;
}

zx_status_t wait_queue_block(wait_queue_t *wq, spinlock_t *lock, zx_time_t deadline) {
    DEBUG_ASSERT(arch_irqs_disabled());
    spin_unlock(lock);
    zx_status_t st = block_current(wq, deadline, true);
    spin_lock(lock);
    wait_queue_pass_on(wq);
    return st;
}

void wait_queue_block_uninterruptible(wait_queue_t *wq, spinlock_t *lock) {
    DEBUG_ASSERT(arch_irqs_disabled());
    spin_unlock(lock);
    block_current(wq, ZX_TIME_INFINITE, false);
    spin_lock(lock);
    wait_queue_pass_on(wq);
}

int wait_queue_wake_one(wait_queue_t *wq, zx_status_t status) {
    DEBUG_ASSERT(arch_irqs_disabled());
    if (list_is_empty(&wq->threads))
        return 0;
    wake_blocked(containerof(wq->threads.next, thread_t, queue_node), status);
    return 1;
}

/*
 * Waking every waiter at once would keep interrupts off for a time proportional to the
 * number of waiters, which user space chooses. So wake_all wakes the first
 * WAIT_QUEUE_WAKE_BATCH and leaves the rest pending; every woken thread, back in
 * wait_queue_block with the guarding lock, wakes the next batch (wait_queue_pass_on).
 * The pending ones are at the head of the queue (FIFO); if some left meanwhile (timeout,
 * kill), a few later arrivals may be woken too: a spurious wake, which every caller's
 * re-check loop absorbs.
 */
int wait_queue_wake_all(wait_queue_t *wq, zx_status_t status) {
    int n = 0;
    while (n < WAIT_QUEUE_WAKE_BATCH && wait_queue_wake_one(wq, status))
        n++;
    wq->pending_wakes = wq->count;
    wq->pending_status = status;
    return n;
}

/* A woken waiter passes a pending wake_all on to the next batch. Guarding lock held. */
static void wait_queue_pass_on(wait_queue_t *wq) {
    if (wq->pending_wakes == 0)
        return;
    uint32_t n = MIN(wq->pending_wakes, (uint32_t)WAIT_QUEUE_WAKE_BATCH);
    uint32_t woken = 0;
    while (woken < n && wait_queue_wake_one(wq, wq->pending_status))
        woken++;
    wq->pending_wakes = woken < n ? 0 : MIN(wq->pending_wakes - n, wq->count);
}

/*
 * Wakes sleepers whose deadline has passed, at most WAIT_QUEUE_WAKE_BATCH of them: many
 * threads may share a tick (user space chooses how many), and waking them all at once
 * would keep interrupts off for all of them. Every thread woken by its deadline expires
 * the next batch when it runs (block_current), so expiry cascades batch by batch.
 * Interrupts off.
 */
static void sleepers_expire(void) {
    if (sleepers.count == 0)
        return;
    zx_time_t now = current_time();
    struct avl_node *n;
    for (unsigned i = 0; i < WAIT_QUEUE_WAKE_BATCH && (n = avl_first(&sleepers)) != NULL; i++) {
        thread_t *t = containerof(n, thread_t, timer_node);
        if (t->wake_deadline > now)
            break;
        wake_blocked(t, ZX_ERR_TIMED_OUT); /* its chain's next thread takes the node */
    }
}

/* Timer interrupt: expire sleepers, charge the slice, maybe switch. Interrupts off. */
void trap_timer_tick(void) {
    if (!initialized)
        return;
    sleepers_expire();
    thread_t *t = current;
    if (t->ticks_left > 0)
        t->ticks_left--;
    bool want = t == idle_thread ? !list_is_empty(&run_queue)
                                 : t->ticks_left == 0 && !list_is_empty(&run_queue);
    if (want && t->preempt_disable == 0)
        sched_reschedule();
}

thread_t *sched_reap_next(void) {
    DEBUG_ASSERT(current == reaper);
    spin_lock_saved_state_t s = arch_irq_save();
    reaper_busy = false;
    wait_queue_wake_all(&reaped_wq, ZX_OK);
    while (list_is_empty(&reap_list))
        block_current(&reaper_wq, ZX_TIME_INFINITE, false);
    thread_t *d = containerof(list_remove_head(&reap_list), thread_t, queue_node);
    reaper_busy = true;
    arch_irq_restore(s);
    return d;
}

void sched_reap_wait(void) {
    spin_lock_saved_state_t s = arch_irq_save();
    while (dead_thread || !list_is_empty(&reap_list) || reaper_busy) {
        block_current(&reaped_wq, ZX_TIME_INFINITE, false);
        wait_queue_pass_on(&reaped_wq);
    }
    arch_irq_restore(s);
}

void sched_bootstrap(void) {
    ASSERT(!initialized && !current);
    avl_init(&sleepers);
    wait_queue_init(&reaper_wq);
    wait_queue_init(&reaped_wq);
    thread_t *b = &bootstrap_thread;
    memset(b, 0, sizeof(*b));
    copy_name(b, "bootstrap");
    b->state = THREAD_RUNNING;
    b->wake_deadline = ZX_TIME_INFINITE;
    b->affinity = CPU_MASK_ALL;
    b->last_cpu = arch_curr_cpu_num();
    b->priority = ZX_PRIORITY_DEFAULT;
    b->ticks_left = SCHED_SLICE_TICKS;
    list_init(&b->queue_node);
    list_init(&b->timer_chain);
    current = b;
    sched_cpu_online(arch_curr_cpu_num()); /* the boot CPU runs threads from here on */
}

void sched_start(thread_t *idle, thread_t *reaper_thread) {
    ASSERT(!initialized && current == &bootstrap_thread);
    idle_thread = idle;
    idle_thread->state = THREAD_READY; /* never on the run queue; picked when it is empty */
    reaper = reaper_thread;
    thread_start(reaper);
    arch_timer_init();
    switch_stamp = arch_cycle_count(); /* bootstrap's run time starts here */
    printf("sched: threads run on %u CPU%s\n", sched_num_cpus(), sched_num_cpus() == 1 ? "" : "s");
    initialized = true;
    arch_irq_enable();
}
