/*
 * Kernel threads and the scheduler (preemptive round robin on every CPU, with per-CPU
 * run queues and work stealing; see "CPU placement" below).
 *
 * Every thread, kernel or user, is a thread_t with its own guarded kernel stack (from the
 * kernel VMAR). User threads are kernel threads whose entry function drops to ring 3
 * (kernel/proc); the scheduler knows them only through the page tables they run on
 * (`mmu`) and their arch state.
 *
 * Two files implement this header: kernel/sched/sched.c, the scheduler core (run queue,
 * switch, blocking, kills, the tick), which never calls the VM, and kernel/sched/thread.c
 * above the VM, which owns kernel stacks (thread_init, thread_destroy_unstarted, the
 * reaper) and brings the scheduler up (sched_init).
 *
 * Lock rules: scheduler state, run queues and every wait queue's threads are guarded by
 * the scheduler's lock (kernel/sched/sched.c), the innermost lock, taken with interrupts
 * off. A caller that blocks holds exactly one spinlock, taken with irqsave, which
 * wait_queue_block releases while the thread sleeps (see wait.h).
 *
 * Lifetime: thread_init fills a caller-owned thread_t. After the thread exits and the
 * CPU has switched away from it, the reaper thread frees its kernel stack and then calls
 * t->on_reaped(t), if set, with interrupts on; the owner may free the thread_t there (it
 * is never touched again by the scheduler). A thread that never started is torn down
 * with thread_destroy_unstarted.
 */
#ifndef KERNEL_THREAD_H
#define KERNEL_THREAD_H

#include <kernel/smp.h>
#include <stdbool.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/mmu.h>
#include <arch/thread.h>
#include <arch/timer.h>
#include <kernel/assert.h>
#include <kernel/compiler.h>
#include <kernel/lockdep.h>
#include <kernel/types.h>
#include <lib/avl.h>
#include <lib/list.h>
#include <object/kobject_release.h>
#include <vm/vm_aspace.h>
#include <vm/vm_kernel.h>

typedef struct thread thread_t;
typedef struct vm_aspace vm_aspace_t;
typedef int (*thread_entry_t)(void *arg);

enum thread_state {
    THREAD_INITIAL,  /* thread_init done, not started */
    THREAD_READY,    /* on a CPU's run queue (or an idle thread not running) */
    THREAD_RUNNING,  /* on a CPU (last_cpu) */
    THREAD_BLOCKED,  /* on a wait queue or sleeping */
    THREAD_DEAD,     /* exited, waiting to be reaped */
};

/*
 * CPU placement. CPUs are numbered 0 .. n-1 densely; a thread's affinity is one word,
 * so the scheduler places threads on at most SCHED_MAX_CPUS of them. A CPU counts as
 * online here once it runs threads (the boot CPU from sched_start; an application
 * processor when its bring-up calls sched_cpu_online), not when it merely runs.
 */
typedef uint64_t cpu_mask_t;
#define SCHED_MAX_CPUS 64u
/* Every CPU the kernel starts (<kernel/smp.h>) fits a mask. */
_Static_assert(SMP_MAX_CPUS <= SCHED_MAX_CPUS, "an affinity mask covers every CPU");
#define CPU_MASK_ALL (~(cpu_mask_t)0)
#define CPU_MASK_BIT(cpu) ((cpu_mask_t)1 << (cpu))
/* thread.last_cpu of a thread that has never run. */
#define THREAD_CPU_NONE UINT32_MAX

/* thread.pending: what a thread must act on before it next runs user code (one byte, so
 * the return-to-user path tests everything with one load). */
#define THREAD_PENDING_KILL (1u << 0) /* thread_kill was called */
#define THREAD_PENDING_KICK (1u << 1) /* zx_restricted_kick (kernel/proc/restricted.c) */

/* thread.timer_state */
#define THREAD_TIMER_NONE 0u    /* not sleeping with a deadline */
#define THREAD_TIMER_TREE 1u    /* owns the tree node of its deadline */
#define THREAD_TIMER_CHAINED 2u /* chained behind the owner of its deadline */

/* Why a blocked thread woke (returned by wait_queue_block / thread_sleep_until). */
#define THREAD_WAKE_PENDING 1 /* internal: not yet decided */

struct thread {
    /* --- owned by the scheduler --- */
    char name[32];
    enum thread_state state;
    vaddr_t stack_base;          /* usable kernel stack [stack_base, stack_top) */
    vaddr_t stack_top;
    struct vm_kernel_stack kstack; /* the allocation behind it (kernel/sched/thread.c) */
    thread_entry_t entry;
    void *arg;
    int retcode;                 /* thread_exit's argument */
    struct list_node queue_node; /* run queue or wait queue membership */
    uint32_t queue_cpu;          /* whose run queue, while READY */
    struct wait_queue *blocked_on; /* NULL unless blocked on a wait queue */
    zx_time_t wake_deadline;     /* ZX_TIME_INFINITE when none */
    /* Sleeper membership (a deadline set while blocked): the node in the scheduler's
     * tree of distinct deadlines, or a link in the chain of threads sharing the deadline
     * of the thread that owns the tree node. */
    struct avl_node timer_node;
    struct list_node timer_chain;
    uint8_t timer_state;         /* THREAD_TIMER_* */
    zx_status_t wake_status;     /* result handed to the blocked thread */
    uint8_t pending;             /* THREAD_PENDING_* bits; changed atomically */
    bool block_interruptible;    /* while BLOCKED: thread_kill wakes it */
    uint32_t preempt_disable;    /* >0: timer interrupts do not reschedule */
    uint64_t ticks_left;         /* time slice */
    /* Placement (scheduler lock): the CPUs it may run on (every CPU for a new thread:
     * affinity is not inherited), the CPU it last ran on (THREAD_CPU_NONE until its
     * first switch in), and the cycles (arch_cycle_count) it ran up to its last switch
     * away. priority is what a profile set (ZX_PRIORITY_DEFAULT for a new thread); the
     * round-robin scheduler records it and does not use it yet. */
    cpu_mask_t affinity;
    uint32_t last_cpu;
    int32_t priority;
    uint64_t runtime_cycles;
    struct list_node all_node;   /* every live thread (for dumps) */
    /* Object teardowns this thread still owes (object/kobject.c); the thread itself and
     * interrupt code running on its behalf touch it, with interrupts off. */
    struct kobject_release_queue release_queue;
#if LOCKDEP_BUILD
    /* The locks this thread holds, for the lock-order validator (<kernel/lockdep.h>);
     * the thread itself and interrupt code running on its behalf touch it, with
     * interrupts off. */
    struct lockdep_held lockdep;
#endif

    struct arch_thread arch;     /* saved context, user registers (<arch/thread.h>) */

    /* --- owned by whoever created the thread --- */
    /* The user aspace loaded while this thread runs (NULL: none), which the page-fault
     * handler resolves faults in, and its page tables, which the switch loads. Set
     * together, only by thread_set_aspace, so the two always agree. */
    vm_aspace_t *aspace;
    arch_aspace_t *mmu;
    void *user_ctx;              /* the user-thread object (kernel/proc), or NULL */
    void (*on_reaped)(thread_t *t); /* called after the stack is freed; may free t */
};

/* Brings up the scheduler on the boot thread (which becomes a normal thread named
 * "bootstrap"), the idle and reaper threads, and the LAPIC timer. Interrupts are enabled
 * on return. */
void sched_init(void);
bool sched_initialized(void);

/*
 * Fills *t: copies name (truncated), allocates a guarded kernel stack, prepares the
 * first switch into entry(arg). The thread stays THREAD_INITIAL until thread_start.
 * Returns ZX_OK or ZX_ERR_NO_MEMORY (nothing is left allocated). Fields in the
 * "creator" section are zeroed; set them before thread_start.
 */
zx_status_t thread_init(thread_t *t, const char *name, thread_entry_t entry, void *arg);

/* Makes an INITIAL thread runnable. */
void thread_start(thread_t *t);

/* Frees the stack of a thread that was initialised but never started. Does not call
 * on_reaped. */
void thread_destroy_unstarted(thread_t *t);

/* Ends the calling thread with retcode (returning from entry does the same). */
__noreturn void thread_exit(int retcode);

/* The calling thread (NULL before the scheduler starts). Inline: one per-CPU load, on
 * every syscall, fault and lock acquisition. nodebug: no inlined-call record in the debug
 * information, so a debugger's breakpoint on a function that starts with this call stays
 * in that function's scope (its parameters usable in a breakpoint condition). Host
 * builds (unit tests) provide their own. */
#ifdef BERYL_HOST
thread_t *thread_current(void);
#else
static inline __attribute__((nodebug)) thread_t *thread_current(void) {
    return arch_curr_thread();
}
#endif

/* Gives up the CPU to the next ready thread (round robin); returns at once if none. */
void thread_yield(void);

/*
 * Blocks the caller until deadline (absolute, current_time() clock; ZX_TIME_INFINITE
 * allowed). Returns ZX_OK when the deadline passed, ZX_ERR_INTERNAL_INTR_KILLED if the
 * thread was killed while sleeping (or already had a kill pending).
 */
zx_status_t thread_sleep_until(zx_time_t deadline);

/*
 * Asks t to die: sets THREAD_PENDING_KILL, and if t is blocked (wait queue or sleep) wakes it
 * with ZX_ERR_INTERNAL_INTR_KILLED (not when it waits for a mutex: see <kernel/mutex.h>). The thread itself acts on it (kernel/proc checks
 * `pending` on every return to user mode). Killing an INITIAL or DEAD thread only
 * sets the flag.
 */
void thread_kill(thread_t *t);

/*
 * t has something pending for its return to user mode (a kick, <kernel/thread.h>'s
 * THREAD_PENDING_*, set by the caller first): if t is running on another CPU, that CPU
 * is interrupted so t acts on it now instead of at its next kernel entry. thread_kill
 * does this itself.
 */
void thread_poke(thread_t *t);

/*
 * A CPU other than the boot CPU joins the scheduler (its bring-up code calls this once,
 * with interrupts off, its local timer running): its boot context becomes its idle
 * thread, running on [stack_base, stack_top), once every lower-numbered CPU has joined;
 * then it takes threads like any CPU. Never returns.
 */
__noreturn void sched_secondary_cpu_main(uint32_t cpu, vaddr_t stack_base, vaddr_t stack_top);

/*
 * True if thread_kill was called on the calling thread: a long kernel operation checks
 * this at its preemption points and gives up early (the thread dies on its way back to
 * user mode, so nobody sees the partial result's status).
 */
bool thread_kill_pending(void);

/*
 * Blocks until every thread that has exited so far has been reaped (its stack freed, its
 * on_reaped called). For leak checks that must see a finished thread's memory back.
 */
void sched_reap_wait(void);

/*
 * Loads mmu (NULL: the kernel's tables) on this CPU for the calling thread, which is
 * taking it as its own (thread_set_aspace). Interrupts off.
 */
void sched_load_mmu(arch_aspace_t *mmu);

/*
 * Makes sure no CPU still has mmu loaded for a kernel thread (lazy TLB, sched.c): each
 * one that has loads the kernel's tables instead. For the owner of an aspace about to be
 * destroyed, which no thread runs any more (arch_mmu_destroy refuses a loaded aspace).
 * Interrupts on or off; sends IPIs only to the CPUs in mmu's active mask.
 */
void sched_evict_mmu(arch_aspace_t *mmu);

/*
 * Makes as (NULL: none) the user aspace of t: sets t->aspace and t->mmu. t is either the
 * calling thread, whose page tables are then loaded at once (interrupts off, so that a
 * switch never sees the fields and the loaded tables disagree), or a thread that is not
 * running (it loads them when it next runs). The caller keeps as alive while t has it.
 * Inline: restricted mode calls it on every mode switch.
 */
static inline void thread_set_aspace(thread_t *t, vm_aspace_t *as) {
    arch_aspace_t *mmu = as ? vm_aspace_arch(as) : NULL;
    if (t == thread_current())
        sched_load_mmu(mmu);
    t->aspace = as;
    t->mmu = mmu;
}

/*
 * The number of CPUs that run threads (numbered 0 .. n-1): 1 until application
 * processors join with sched_cpu_online. This, not the number of CPUs the machine has,
 * is what zx_system_get_num_cpus reports. sched_online_cpus() is the same set as a mask.
 */
uint32_t sched_num_cpus(void);
cpu_mask_t sched_online_cpus(void);

/*
 * Called by a CPU's bring-up once that CPU takes threads from the scheduler (never
 * before: a thread pinned to a CPU that never schedules would never run). cpu must be
 * sched_num_cpus(), so the numbering stays dense, and below SCHED_MAX_CPUS; returns
 * ZX_ERR_INVALID_ARGS otherwise (nothing changes).
 */
zx_status_t sched_cpu_online(uint32_t cpu);

/*
 * Restricts t to the CPUs in mask (only bits of online CPUs count). Refuses, with
 * ZX_ERR_INVALID_ARGS and nothing changed, a mask that holds no online CPU, so every
 * thread can always run somewhere. t may be in any state; a dead thread takes the mask
 * and never uses it. Placement: the scheduler runs t only on CPUs of its mask (with one
 * CPU online every accepted mask holds CPU 0, so t keeps running where it runs).
 */
zx_status_t thread_set_affinity(thread_t *t, cpu_mask_t mask);

/* Records priority (ZX_PRIORITY_LOWEST .. HIGHEST, checked by the caller) for t. */
void thread_set_priority(thread_t *t, int32_t priority);

/* What ZX_INFO_THREAD and ZX_INFO_THREAD_STATS report about t. */
typedef struct thread_stats {
    cpu_mask_t affinity;
    uint64_t runtime_ns;  /* run time so far, including the current run if t is running */
    uint32_t last_cpu;    /* THREAD_CPU_NONE if it has never run */
} thread_stats_t;
void thread_get_stats(thread_t *t, thread_stats_t *out);

/* Preemption control for short critical sections that may not be interrupted by a
 * reschedule but can take interrupts. Nests. */
void thread_preempt_disable(void);
void thread_preempt_enable(void);

/* The timer tick (trap_timer_tick, <kernel/trap.h>) wakes expired sleepers and, at the
 * end of a time slice, reschedules if preemption is enabled. A switch loads the next
 * thread's page tables (`mmu`, if different) and its arch state (arch_thread_switch,
 * <arch/thread.h>). current_time() is declared in <arch/timer.h>. */

#endif
