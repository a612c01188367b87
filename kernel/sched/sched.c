/*
 * The scheduler core (contracts in <kernel/thread.h> and <kernel/wait.h>): run queues,
 * context switch, the timer tick and placement, on every CPU; its other half, wait.c,
 * blocks and wakes threads (sleepers, wait queues, kills), under the same lock
 * (sched_core.h). It never calls the VM: kernel stacks, thread creation and the reaper's
 * work live above it, in thread.c (the interface between the two is sched_priv.h).
 *
 * One lock. sched_lock guards every field below, every thread's scheduler fields and
 * every wait queue's thread list; it is taken with interrupts off and is the innermost
 * lock of the kernel (nothing is taken under it; <kernel/spinlock.h>,
 * spin_lock_untracked). A switch happens only in sched_reschedule, with the lock held:
 * the thread switched to releases it (sched_finish_switch's caller), so no other CPU
 * can pick a thread before its context is saved, or wake one before it is on its wait
 * queue.
 *
 * Placement. Each CPU has a FIFO run queue and an idle thread; a time slice is
 * SCHED_SLICE_TICKS ticks. A thread made ready goes to the CPU it last ran on if its
 * affinity allows and that CPU is idle, else to an idle CPU it may use, else to the
 * allowed CPU with the shortest queue (the last one on a tie); another CPU that is idle
 * gets a reschedule IPI. A CPU whose queue is empty takes work from another CPU's queue
 * (work stealing: the first thread among the first STEAL_SCAN of each queue that may run
 * here), when it would otherwise idle and at the end of a slice; an idle CPU looks at
 * every tick. Each switch records where and how long threads run with one TSC read:
 * next->last_cpu, prev's run time grown by the cycles since this CPU's previous switch.
 *
 * A thread cannot free the stack it is running on, and the switch path runs with
 * interrupts off, where nothing may block or run long. So the next thread to run on the
 * CPU only moves a dead predecessor onto the reap list (sched_finish_switch), and the
 * reaper thread takes it from there (sched_reap_next) to free its stack and call its
 * owner's on_reaped with interrupts on.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/mmu.h>
#include <arch/thread.h>
#include <arch/timer.h>
#include <kernel/assert.h>
#include <kernel/console.h>
#include <kernel/spinlock.h>
#include <kernel/thread.h>
#include <kernel/trap.h>
#include <kernel/wait.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <zircon/syscalls/profile.h>
#include "sched_core.h"
#include "sched_priv.h"

#define SCHED_SLICE_TICKS 10u
/* How far into another CPU's queue a steal looks for a thread allowed here: bounded, as
 * everything under the lock is, whatever user space pins where. */
#define STEAL_SCAN 8u

spinlock_t sched_lock = SPIN_LOCK_INIT_CLASS(SCHED);

/* One per CPU, indexed by CPU number. */
struct sched_cpu {
    struct list_node run_queue; /* READY threads that run here next, FIFO */
    uint32_t queued;
    thread_t *current;
    thread_t *idle;             /* runs when nothing else can; never queued */
    thread_t *dead;             /* exited here, waiting for the next thread to run */
    uint64_t switch_stamp;      /* arch_cycle_count() at this CPU's last switch */
    /* The user aspace whose tables this CPU has loaded (NULL: the kernel's). A kernel
     * thread has none of its own and runs on whatever is loaded (lazy TLB: a user thread
     * that blocks and comes back to an idle CPU finds its tables still there). Changed
     * only on this CPU, with interrupts off. */
    arch_aspace_t *loaded_mmu;
};
static struct sched_cpu cpus[SCHED_MAX_CPUS];

static struct list_node reap_list = LIST_INITIAL_VALUE(reap_list); /* dead, stacks in use */
static wait_queue_t reaper_wq;  /* the reaper sleeps here while reap_list is empty */
static wait_queue_t reaped_wq;  /* sched_reap_wait callers */
static bool reaper_busy;        /* the reaper is freeing a thread it took off reap_list */
static thread_t *reaper;        /* thread.c's reaper thread (sched_start) */
static thread_t bootstrap_thread;
static thread_t secondary_idle[SCHED_MAX_CPUS]; /* the other CPUs' boot contexts */
static bool initialized;
/* CPUs that run threads (sched_cpu_online): a mask and its count, changed under the
 * lock, read without it. */
static cpu_mask_t online_mask;
static uint32_t online_count;


bool sched_initialized(void) { return initialized; }

static void copy_name(thread_t *t, const char *name) {
    size_t n = name ? strnlen(name, sizeof(t->name) - 1) : 0;
    memcpy(t->name, name, n);
    t->name[n] = '\0';
}

static inline cpu_mask_t online(void) { return __atomic_load_n(&online_mask, __ATOMIC_RELAXED); }

static inline bool cpu_is_idle(const struct sched_cpu *c) {
    return c->current == c->idle && c->queued == 0;
}

/* Hands this CPU's dead predecessor to the reaper; runs first thing on the new thread
 * after every switch (lock held). */
static void sched_finish_switch(void) TA_REQ(sched_lock);


static void enqueue(thread_t *t, uint32_t cpu, bool at_head) TA_REQ(sched_lock) {
    struct sched_cpu *c = &cpus[cpu];
    t->state = THREAD_READY;
    t->queue_cpu = cpu;
    if (at_head)
        list_add_head(&c->run_queue, &t->queue_node);
    else
        list_add_tail(&c->run_queue, &t->queue_node);
    __atomic_store_n(&c->queued, c->queued + 1, __ATOMIC_RELAXED);
}

static void dequeue(thread_t *t) TA_REQ(sched_lock) {
    DEBUG_ASSERT(t->state == THREAD_READY && t->queue_cpu < SCHED_MAX_CPUS);
    list_delete(&t->queue_node);
    __atomic_store_n(&cpus[t->queue_cpu].queued, cpus[t->queue_cpu].queued - 1, __ATOMIC_RELAXED);
}

/* Where a thread made ready should run (see the file comment). */
static uint32_t choose_cpu(const thread_t *t) TA_REQ(sched_lock) {
    cpu_mask_t allowed = t->affinity & online();
    DEBUG_ASSERT(allowed != 0);
    uint32_t best = t->last_cpu < SCHED_MAX_CPUS && (allowed & CPU_MASK_BIT(t->last_cpu))
                        ? t->last_cpu
                        : (uint32_t)__builtin_ctzll(allowed);
    if (cpu_is_idle(&cpus[best]))
        return best;
    uint32_t shortest = best;
    for (cpu_mask_t m = allowed; m != 0; m &= m - 1) {
        uint32_t c = (uint32_t)__builtin_ctzll(m);
        if (cpu_is_idle(&cpus[c]))
            return c;
        if (cpus[c].queued < cpus[shortest].queued)
            shortest = c;
    }
    return shortest;
}

/* Makes t READY on the CPU choose_cpu picks; wakes that CPU if it idles elsewhere. */
void sched_make_ready(thread_t *t) {
    uint32_t cpu = choose_cpu(t);
    enqueue(t, cpu, false);
    if (cpu != arch_curr_cpu_num() && cpus[cpu].current == cpus[cpu].idle)
        arch_ipi_reschedule(cpu);
}

/* A thread is dying: let the reaper run next on this CPU (the dying thread's switch
 * hands it over), if it sleeps on its queue and may run here. */
static void reaper_run_next(uint32_t cpu) TA_REQ(sched_lock) {
    thread_t *r = reaper;
    if (r->state != THREAD_BLOCKED || r->blocked_on != &reaper_wq ||
        !(r->affinity & CPU_MASK_BIT(cpu)))
        return;
    list_delete(&r->queue_node);
    wait_queue_count_add(r->blocked_on, -1);
    r->blocked_on = NULL;
    r->wake_status = ZX_OK;
    enqueue(r, cpu, true);
}

/* Loads mmu (NULL: the kernel's tables) on CPU c, which runs this code, unless it is
 * loaded already. Interrupts off. */
static inline void cpu_load_mmu(struct sched_cpu *c, arch_aspace_t *mmu) {
    if (c->loaded_mmu != mmu) {
        arch_mmu_context_switch(c->loaded_mmu, mmu);
        c->loaded_mmu = mmu;
    }
}

/* Loads next's page tables if it has some (the fault handler reads the aspace from the
 * running thread, so nothing else changes). A kernel thread keeps what is loaded. */
static inline void switch_aspace(struct sched_cpu *c, thread_t *next) {
    if (next->mmu != NULL)
        cpu_load_mmu(c, next->mmu);
}

void sched_load_mmu(arch_aspace_t *mmu) {
    DEBUG_ASSERT(arch_irqs_disabled());
    cpu_load_mmu(&cpus[arch_curr_cpu_num()], mmu);
}

/* An arch_ipi_call body: if this CPU still has `arg` loaded for a kernel thread, loads
 * the kernel's tables instead. */
static void evict_mmu_here(void *arg) {
    struct sched_cpu *c = &cpus[arch_curr_cpu_num()];
    arch_aspace_t *mmu = arg;
    if (c->loaded_mmu == mmu) {
        ASSERT_MSG(thread_current()->mmu != mmu, "aspace %p evicted from its own thread", arg);
        cpu_load_mmu(c, NULL);
    }
}

void sched_evict_mmu(arch_aspace_t *mmu) {
    arch_cpu_set_t cpus_with_it = arch_mmu_active_cpus(mmu);
    if (cpus_with_it != 0)
        arch_ipi_call(cpus_with_it, evict_mmu_here, mmu);
}

/* The first thread among the first STEAL_SCAN of other CPUs' queues that may run on
 * cpu, taken off its queue; NULL if none. Looks at the other CPUs from cpu + 1 round. */
static thread_t *steal(uint32_t cpu, bool take) TA_REQ(sched_lock) {
    uint32_t n = __atomic_load_n(&online_count, __ATOMIC_RELAXED);
    cpu_mask_t me = CPU_MASK_BIT(cpu);
    for (uint32_t i = 1; i < n; i++) {
        struct sched_cpu *c = &cpus[(cpu + i) % n];
        if (c->queued == 0)
            continue;
        uint32_t looked = 0;
        thread_t *t;
        list_for_every_entry(&c->run_queue, t, thread_t, queue_node) {
            if (looked++ == STEAL_SCAN)
                break;
            if (t->affinity & me) {
                if (take)
                    dequeue(t);
                return t;
            }
        }
    }
    return NULL;
}

/* The next thread for cpu from its own queue, else stolen; NULL if there is none. */
static thread_t *take_next(uint32_t cpu) TA_REQ(sched_lock) {
    struct sched_cpu *c = &cpus[cpu];
    if (c->queued > 0) {
        thread_t *t = containerof(c->run_queue.next, thread_t, queue_node);
        dequeue(t);
        return t;
    }
    return steal(cpu, true);
}

/*
 * Picks the next thread for this CPU and switches to it. A RUNNING current that may stay
 * here keeps the CPU if nothing else is ready, else goes to the back of the queue (or,
 * if its affinity no longer allows this CPU, to one it allows); the caller has already
 * made a BLOCKED or DEAD current leave. Lock held, interrupts off; returns (on whichever
 * CPU the current thread runs next) with the lock held.
 */
void sched_reschedule(void) {
    DEBUG_ASSERT(arch_irqs_disabled());
    uint32_t cpu = arch_curr_cpu_num();
    struct sched_cpu *c = &cpus[cpu];
    thread_t *prev = c->current;
    thread_t *next = take_next(cpu);
    if (prev == c->idle) {
        prev->state = THREAD_READY; /* never queued */
    } else if (prev->state == THREAD_RUNNING) {
        if (!(prev->affinity & CPU_MASK_BIT(cpu)))
            sched_make_ready(prev);
        else if (next)
            enqueue(prev, cpu, false);
        else
            next = prev;
    }
    if (!next)
        next = c->idle;
    next->state = THREAD_RUNNING;
    next->ticks_left = SCHED_SLICE_TICKS;
    if (next == prev)
        return;
    uint64_t now = arch_cycle_count();
    prev->runtime_cycles += now - c->switch_stamp;
    c->switch_stamp = now;
    next->last_cpu = cpu;
    if (prev->state == THREAD_DEAD) {
        DEBUG_ASSERT(!c->dead);
        c->dead = prev;
    }
    c->current = next;
    arch_set_curr_thread(next);
    switch_aspace(c, next);
    arch_thread_switch(&prev->arch, prev->state == THREAD_DEAD, &next->arch);
    arch_context_switch(&prev->arch, &next->arch);
    sched_finish_switch();
}

static void sched_finish_switch(void) TA_REQ(sched_lock) {
    struct sched_cpu *c = &cpus[arch_curr_cpu_num()];
    thread_t *d = c->dead;
    if (!d)
        return;
    c->dead = NULL;
    list_add_tail(&reap_list, &d->queue_node);
    if (!list_is_empty(&reaper_wq.threads))
        sched_wake_blocked(containerof(reaper_wq.threads.next, thread_t, queue_node), ZX_OK);
}

/* First code of every new thread (arch_thread_init makes the switch return here). */
__noreturn void thread_trampoline(void);
__noreturn void thread_trampoline(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    ARCH_THREAD_OUTERMOST_FRAME(); /* debuggers' backtraces end here */
    sched_finish_switch();         /* the lock was handed over by the switch */
    unlock_sched();
    thread_t *t = thread_current();
    arch_irq_enable();
    thread_exit(t->entry(t->arg));
}

/* Zeroes *t and gives it a new thread's scheduler fields: name (truncated), no deadline,
 * every CPU, never run, default priority, empty links. Every thread_t starts here. */
static void thread_fields_init(thread_t *t, const char *name) {
    memset(t, 0, sizeof(*t));
    copy_name(t, name);
    t->wake_deadline = ZX_TIME_INFINITE;
    t->affinity = CPU_MASK_ALL;
    t->last_cpu = THREAD_CPU_NONE;
    t->queue_cpu = THREAD_CPU_NONE;
    t->priority = ZX_PRIORITY_DEFAULT;
    list_init(&t->queue_node);
    list_init(&t->timer_chain);
}

void sched_thread_init(thread_t *t, const char *name, thread_entry_t entry, void *arg,
                       vaddr_t stack_base, vaddr_t stack_top) {
    thread_fields_init(t, name);
    t->stack_base = stack_base;
    t->stack_top = stack_top;
    t->entry = entry;
    t->arg = arg;
    t->state = THREAD_INITIAL;
    arch_thread_init(&t->arch, t->stack_top, thread_trampoline);
}

void thread_start(thread_t *t) {
    spin_lock_saved_state_t s = arch_irq_save();
    lock_sched();
    DEBUG_ASSERT(t->state == THREAD_INITIAL);
    sched_make_ready(t);
    unlock_sched();
    arch_irq_restore(s);
}

void thread_exit(int retcode) TA_NO_THREAD_SAFETY_ANALYSIS {
    arch_irq_disable();
    thread_t *t = thread_current();
    DEBUG_ASSERT(t != &bootstrap_thread && t != reaper);
    /* An object release in progress would be cut short (object/kobject.c). */
    DEBUG_ASSERT(!t->release_queue.draining && t->release_queue.head == NULL);
    lock_sched();
    DEBUG_ASSERT(t != cpus[arch_curr_cpu_num()].idle);
    t->retcode = retcode;
    t->state = THREAD_DEAD;
    reaper_run_next(arch_curr_cpu_num());
    sched_reschedule();
    panic("thread_exit: a dead thread was resumed");
}

void thread_yield(void) {
    spin_lock_saved_state_t s = arch_irq_save();
    lock_sched();
    sched_reschedule(); /* current is RUNNING: it goes to the back of the queue */
    unlock_sched();
    arch_irq_restore(s);
}

/* --- placement --- */

uint32_t sched_num_cpus(void) { return __atomic_load_n(&online_count, __ATOMIC_ACQUIRE); }

cpu_mask_t sched_online_cpus(void) { return __atomic_load_n(&online_mask, __ATOMIC_ACQUIRE); }

zx_status_t sched_cpu_online(uint32_t cpu) {
    spin_lock_saved_state_t s = arch_irq_save();
    lock_sched();
    zx_status_t st = ZX_ERR_INVALID_ARGS;
    if (cpu < SCHED_MAX_CPUS && cpu == online_count && cpus[cpu].idle != NULL) {
        /* The mask first: a reader that sees the new count finds the CPU in the mask. */
        __atomic_fetch_or(&online_mask, CPU_MASK_BIT(cpu), __ATOMIC_RELEASE);
        __atomic_store_n(&online_count, cpu + 1, __ATOMIC_RELEASE);
        st = ZX_OK;
    }
    unlock_sched();
    arch_irq_restore(s);
    return st;
}

/* Sets up cpus[cpu] around idle, which is already running there; lock held. */
static void cpu_init_locked(uint32_t cpu, thread_t *idle) TA_REQ(sched_lock) {
    struct sched_cpu *c = &cpus[cpu];
    c->idle = idle;
    c->current = idle;
    c->switch_stamp = arch_cycle_count();
    idle->state = THREAD_RUNNING;
    idle->affinity = CPU_MASK_BIT(cpu);
    idle->last_cpu = cpu;
    idle->ticks_left = SCHED_SLICE_TICKS;
    arch_set_curr_thread(idle);
}

__noreturn void sched_secondary_cpu_main(uint32_t cpu, vaddr_t stack_base, vaddr_t stack_top) {
    ASSERT(cpu > 0 && cpu < SCHED_MAX_CPUS && initialized);
    DEBUG_ASSERT(arch_irqs_disabled());
    thread_t *idle = &secondary_idle[cpu];
    char name[sizeof(idle->name)];
    ksnprintf(name, sizeof(name), "idle %u", cpu);
    thread_fields_init(idle, name);
    idle->stack_base = stack_base;
    idle->stack_top = stack_top;
    /* CPUs join in order (the numbering stays dense): wait for the ones before. The
     * boot code starts them one at a time, so this is short. */
    while (sched_num_cpus() != cpu)
        arch_spin_pause();
    lock_sched();
    cpu_init_locked(cpu, idle);
    unlock_sched();
    ASSERT(sched_cpu_online(cpu) == ZX_OK);
    for (;;)
        arch_idle(); /* interrupts on: the tick and IPIs switch to work */
}

zx_status_t thread_set_affinity(thread_t *t, cpu_mask_t mask) {
    if ((mask & sched_online_cpus()) == 0)
        return ZX_ERR_INVALID_ARGS;
    spin_lock_saved_state_t s = arch_irq_save();
    lock_sched();
    t->affinity = mask;
    uint32_t me = arch_curr_cpu_num();
    if (t->state == THREAD_READY && !(mask & CPU_MASK_BIT(t->queue_cpu))) {
        dequeue(t);
        sched_make_ready(t);
    } else if (t->state == THREAD_RUNNING && !(mask & CPU_MASK_BIT(t->last_cpu))) {
        /* Running where it may no longer run: it moves at its CPU's next switch, which
         * this one starts (the caller itself moves before returning). */
        if (t->last_cpu == me)
            sched_reschedule();
        else
            arch_ipi_reschedule(t->last_cpu);
    }
    unlock_sched();
    arch_irq_restore(s);
    return ZX_OK;
}

void thread_set_priority(thread_t *t, int32_t priority) {
    spin_lock_saved_state_t s = arch_irq_save();
    lock_sched();
    t->priority = priority;
    unlock_sched();
    arch_irq_restore(s);
}

void thread_get_stats(thread_t *t, thread_stats_t *out) {
    spin_lock_saved_state_t s = arch_irq_save();
    lock_sched();
    uint64_t cycles = t->runtime_cycles;
    if (t->state == THREAD_RUNNING && t->last_cpu < SCHED_MAX_CPUS) /* the run in progress */
        cycles += arch_cycle_count() - cpus[t->last_cpu].switch_stamp;
    out->affinity = t->affinity;
    out->last_cpu = t->last_cpu;
    unlock_sched();
    arch_irq_restore(s);
    out->runtime_ns = arch_cycles_to_ns(cycles);
}

void thread_preempt_disable(void) { thread_current()->preempt_disable++; }

void thread_preempt_enable(void) {
    thread_t *t = thread_current();
    DEBUG_ASSERT(t->preempt_disable > 0);
    t->preempt_disable--;
}

/* Whether this CPU should switch now: its idle thread runs and there is work for it,
 * or its thread may no longer run here, or (slice_over) the slice ended with work
 * waiting. */
static bool want_switch(uint32_t cpu, bool slice_over) TA_REQ(sched_lock) {
    struct sched_cpu *c = &cpus[cpu];
    thread_t *t = c->current;
    if (t->preempt_disable != 0)
        return false;
    if (t == c->idle)
        return c->queued > 0 || steal(cpu, false) != NULL;
    if (!(t->affinity & CPU_MASK_BIT(cpu)))
        return true;
    return slice_over && (c->queued > 0 || steal(cpu, false) != NULL);
}

/* Whether want_switch might say yes, from a look without the lock at this CPU's own
 * state (only it changes its current thread) and the queue lengths (a stale count only
 * delays the switch to a later tick). */
static bool maybe_want_switch(uint32_t cpu, bool slice_over) {
    const struct sched_cpu *c = &cpus[cpu];
    const thread_t *t = c->current;
    if (t->preempt_disable != 0)
        return false;
    if (t != c->idle && !(t->affinity & CPU_MASK_BIT(cpu)))
        return true;
    if (t != c->idle && !slice_over)
        return false;
    uint32_t n = __atomic_load_n(&online_count, __ATOMIC_RELAXED);
    for (uint32_t i = 0; i < n; i++)
        if (__atomic_load_n(&cpus[i].queued, __ATOMIC_RELAXED) != 0)
            return true;
    return false;
}

/*
 * Timer interrupt: expire sleepers (boot CPU), charge the slice, maybe switch. Every CPU
 * ticks, so the lock is taken only when there may be something to do: a sleeper due, or
 * a switch to make.
 */
void trap_timer_tick(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    if (!initialized)
        return;
    uint32_t cpu = arch_curr_cpu_num();
    struct sched_cpu *c = &cpus[cpu];
    if (c->idle == NULL)
        return; /* a CPU that is not yet in the scheduler */
    thread_t *t = c->current;
    if (t->ticks_left > 0)
        t->ticks_left--;
    bool sleepers_due =
        cpu == 0 && sched_sleepers_due(current_time());
    if (!sleepers_due && !maybe_want_switch(cpu, t->ticks_left == 0))
        return;
    lock_sched();
    if (cpu == 0)
        sched_sleepers_expire();
    if (want_switch(cpu, c->current->ticks_left == 0))
        sched_reschedule();
    unlock_sched();
}

void trap_ipi_reschedule(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    uint32_t cpu = arch_curr_cpu_num();
    if (!initialized || cpus[cpu].idle == NULL)
        return;
    lock_sched();
    if (want_switch(cpu, false))
        sched_reschedule();
    unlock_sched();
}

thread_t *sched_reap_next(void) {
    DEBUG_ASSERT(thread_current() == reaper);
    spin_lock_saved_state_t s = arch_irq_save();
    lock_sched();
    reaper_busy = false;
    sched_wake_all_locked(&reaped_wq, ZX_OK);
    while (list_is_empty(&reap_list))
        sched_block_current(&reaper_wq, ZX_TIME_INFINITE, false, NULL, false);
    thread_t *d = containerof(list_remove_head(&reap_list), thread_t, queue_node);
    reaper_busy = true;
    unlock_sched();
    arch_irq_restore(s);
    return d;
}

/* Some thread has died and is not yet fully reaped. Lock held. */
static bool reaping_pending(void) TA_REQ(sched_lock) {
    if (!list_is_empty(&reap_list) || reaper_busy)
        return true;
    for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++)
        if (cpus[c].dead)
            return true;
    return false;
}

void sched_reap_wait(void) {
    spin_lock_saved_state_t s = arch_irq_save();
    lock_sched();
    while (reaping_pending()) {
        sched_block_current(&reaped_wq, ZX_TIME_INFINITE, false, NULL, false);
        sched_pass_on_locked(&reaped_wq);
    }
    unlock_sched();
    arch_irq_restore(s);
}

void sched_bootstrap(void) {
    ASSERT(!initialized && !thread_current());
    sched_sleepers_init();
    wait_queue_init(&reaper_wq);
    wait_queue_init(&reaped_wq);
    for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++)
        list_init(&cpus[c].run_queue);
    thread_t *b = &bootstrap_thread;
    thread_fields_init(b, "bootstrap");
    b->state = THREAD_RUNNING;
    b->last_cpu = arch_curr_cpu_num();
    b->ticks_left = SCHED_SLICE_TICKS;
    cpus[0].current = b;
    arch_set_curr_thread(b);
}

void sched_start(thread_t *idle, thread_t *reaper_thread) TA_NO_THREAD_SAFETY_ANALYSIS {
    ASSERT(!initialized && thread_current() == &bootstrap_thread);
    lock_sched();
    struct sched_cpu *c = &cpus[0];
    c->idle = idle;
    idle->state = THREAD_READY; /* never on a run queue; picked when nothing else is */
    idle->affinity = CPU_MASK_BIT(0);
    reaper = reaper_thread;
    unlock_sched();
    ASSERT(sched_cpu_online(0) == ZX_OK); /* the boot CPU runs threads from here on */
    thread_start(reaper);
    arch_timer_init();
    c->switch_stamp = arch_cycle_count(); /* bootstrap's run time starts here */
    initialized = true;
    arch_irq_enable();
}
