/*
 * Spinlocks: fair ticket locks, written for SMP.
 *
 * A lock hands out tickets (`next`) and serves them in order (`owner`): taking it draws
 * a ticket with one atomic add and waits, executing arch_spin_pause, until `owner`
 * reaches it; releasing it advances `owner`. So CPUs get the lock in the order they
 * asked for it and none starves. The pause matters beyond power: under QEMU's -icount
 * with several CPUs a vCPU runs until it pauses or halts, so a wait without it would
 * never let the holder run.
 *
 * Except on virtual CPUs (arch_cpus_virtual: QEMU, any hypervisor). There a CPU is a
 * host thread, which the host stops whenever it runs something else, for as long as a
 * host time slice (milliseconds). A ticket lock hands the lock to the next ticket, and if
 * that waiter's CPU is stopped, the lock stays unused, every CPU behind it spins, and
 * the spinning takes the host time the stopped CPU needs: with more virtual CPUs than
 * host CPUs free, a contended lock passes a few times per host time slice, and the
 * kernel slows to a crawl (the syscall fuzzer on 4 CPUs: under QEMU on a loaded 2-core
 * host, tens of milliseconds per contended acquisition, more than 20 times slower than on
 * one CPU). So on virtual CPUs a waiter waits for the lock to be free and takes it with
 * one compare-exchange (the way spin_trylock does): whichever CPU runs gets it, and only
 * a stopped holder delays the others. The order among waiters is then not kept.
 *
 * Everywhere, a free lock (nobody holds or waits) is taken with that compare-exchange;
 * only a contended acquisition draws a ticket or waits (spin_lock_wait_, out of line).
 *
 * Memory order: the wait's acquire load of `owner` pairs with the release store that
 * advanced it, so everything the previous holder wrote inside the lock is visible to the
 * next one. Drawing a ticket needs no ordering of its own (all draws are one atomic
 * sequence on `next`). Only the holder writes `owner` and `holder`.
 *
 * Lock rules:
 *  - spin_lock_irqsave() disables interrupts on this CPU before taking the lock and
 *    spin_unlock_irqrestore() puts the saved interrupt state back (<arch/irq.h>, counted
 *    by the interrupts-off accounting, <kernel/irqoff.h>), so a lock taken with
 *    irqsave may also be taken from an interrupt handler.
 *  - Plain spin_lock()/spin_unlock() require interrupts to be disabled already.
 *  - A spinlock is never held across anything that may block or sleep.
 *  - The lock records the holder CPU (+1) so DEBUG_ASSERTs can catch recursion and
 *    unlocks by a non-holder.
 *  - Each lock has a lock class (<kernel/lock_class.h>) for the lock-order validator
 *    (<kernel/lockdep.h>, debug builds): SPIN_LOCK_INIT_CLASS / spin_lock_init_class.
 *    The order of the classes is in docs/architecture.md ("Locks").
 *  - spinlock_t is a capability of clang's thread-safety analysis (<kernel/compiler.h>):
 *    the lock and unlock functions say what they take and release; their bodies are
 *    not analysed, since they implement what the analysis tracks.
 *
 * The lock functions are always inlined: the validator takes the code address of the
 * acquisition from its hook's return address, which must lie in the caller.
 */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/irq.h>
#include <kernel/assert.h>
#include <kernel/compiler.h>
#include <kernel/lock_class.h>
#include <kernel/lockdep.h>

/*
 * owner and next share one 32-bit word (owner the low half on x86-64's little-endian
 * layout) so spin_trylock can test "free" and draw a ticket in one compare-exchange;
 * the lock and unlock paths use the 16-bit halves. A 16-bit ticket wraps harmlessly:
 * fewer than 65,536 CPUs ever wait at once.
 */
typedef struct TA_CAP("spinlock") spinlock {
    union {
        struct {
            uint16_t owner;  /* the ticket being served */
            uint16_t next;   /* the next ticket to hand out */
        };
        uint32_t tickets;
    };
    uint16_t holder;         /* holder CPU number + 1; 0 when free */
    lock_class_t lock_class; /* enum lock_class_id */
} spinlock_t;

#define SPIN_TICKET_NEXT_ONE ((uint32_t)1 << 16) /* one ticket drawn, in `tickets` */


typedef arch_irq_state_t spin_lock_saved_state_t;

/* A free lock of no class (the validator refuses to see one taken), and one of class
 * LOCK_CLASS_<cls>. */
#define SPIN_LOCK_INITIAL_VALUE { { { 0, 0 } }, 0, LOCK_CLASS_NONE }
#define SPIN_LOCK_INIT_CLASS(cls) { { { 0, 0 } }, 0, LOCK_CLASS_##cls }

static inline void spin_lock_init_class(spinlock_t *lock, lock_class_t cls) {
    lock->tickets = 0;
    lock->holder = 0;
    lock->lock_class = cls;
}

static inline void spin_lock_init(spinlock_t *lock) { spin_lock_init_class(lock, LOCK_CLASS_NONE); }

static inline uint16_t spin_lock_me_(void) { return (uint16_t)(arch_curr_cpu_num() + 1); }

/* True if the calling CPU holds the lock (for assertions). */
static inline bool spin_lock_held(const spinlock_t *lock) {
    return __atomic_load_n(&lock->holder, __ATOMIC_RELAXED) == spin_lock_me_();
}

/* Takes the lock if it is free (nobody holds or waits): draws the one ticket there is
 * with a compare-exchange, which fails if another CPU drew one in between. */
static __always_inline bool spin_lock_take_free_(spinlock_t *lock) {
    uint32_t old = __atomic_load_n(&lock->tickets, __ATOMIC_RELAXED);
    return (uint16_t)old == (uint16_t)(old >> 16) &&
           __atomic_compare_exchange_n(&lock->tickets, &old, old + SPIN_TICKET_NEXT_ONE, false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* The lock was not free: draws a ticket and waits for it, or on virtual CPUs waits for
 * the lock to be free and takes it, in no particular order among waiters (see above).
 * Out of line: only contended acquisitions get here. */
static inline __noinline void spin_lock_wait_(spinlock_t *lock) {
    if (arch_cpus_virtual()) {
        do
            arch_spin_pause();
        while (!spin_lock_take_free_(lock));
        return;
    }
    uint16_t ticket = __atomic_fetch_add(&lock->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE) != ticket)
        arch_spin_pause();
}

/* Takes the lock: at once if it is free, else as spin_lock_wait_ says; records the
 * holder. No validator hook. */
static __always_inline void spin_lock_tickets_(spinlock_t *lock) {
    uint16_t me = spin_lock_me_();
    DEBUG_ASSERT_MSG(__atomic_load_n(&lock->holder, __ATOMIC_RELAXED) != me,
                     "recursive spinlock %p", (void *)lock);
    if (!spin_lock_take_free_(lock))
        spin_lock_wait_(lock);
    __atomic_store_n(&lock->holder, me, __ATOMIC_RELAXED);
}

/* Clears the holder and serves the next ticket. No validator hook. */
static __always_inline void spin_unlock_tickets_(spinlock_t *lock) {
    DEBUG_ASSERT_MSG(spin_lock_held(lock), "unlock of spinlock %p not held", (void *)lock);
    __atomic_store_n(&lock->holder, 0, __ATOMIC_RELAXED);
    uint16_t served = __atomic_load_n(&lock->owner, __ATOMIC_RELAXED);
    __atomic_store_n(&lock->owner, (uint16_t)(served + 1), __ATOMIC_RELEASE);
}

/* spin_lock without its check that interrupts are off, for spin_lock_irqsave, which has
 * just turned them off. */
static __always_inline void spin_lock_irqs_off_(spinlock_t *lock) TA_ACQ(lock)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    LOCKDEP_ACQUIRE(lock->lock_class, lock);
    spin_lock_tickets_(lock);
}

static __always_inline void spin_lock(spinlock_t *lock) TA_ACQ(lock)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    DEBUG_ASSERT(arch_irqs_disabled());
    spin_lock_irqs_off_(lock);
}

/* Takes the lock only if it is free right now (nobody holds or waits); true if taken.
 * Interrupts must be off, as for spin_lock. */
static __always_inline bool spin_trylock(spinlock_t *lock) TA_TRY_ACQ(true, lock)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    uint16_t me = spin_lock_me_();
    DEBUG_ASSERT(arch_irqs_disabled());
    uint32_t old = __atomic_load_n(&lock->tickets, __ATOMIC_RELAXED);
    if ((uint16_t)old != (uint16_t)(old >> 16))
        return false;
    if (!__atomic_compare_exchange_n(&lock->tickets, &old, old + SPIN_TICKET_NEXT_ONE, false,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return false;
    __atomic_store_n(&lock->holder, me, __ATOMIC_RELAXED);
    LOCKDEP_ACQUIRED_TRY(lock->lock_class, lock);
    return true;
}

static __always_inline void spin_unlock(spinlock_t *lock) TA_REL(lock)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    LOCKDEP_RELEASE(lock);
    spin_unlock_tickets_(lock);
}

/*
 * The scheduler's lock (kernel/sched/sched.c) is taken by one thread and released by the
 * next one the CPU switches to, which the validator's per-thread record of held locks
 * cannot follow. It is the innermost lock of all (nothing is taken under it), so it
 * cannot close a cycle, and it is taken with these, which the validator does not see.
 * Interrupts must be off.
 */
static __always_inline void spin_lock_untracked(spinlock_t *lock) TA_ACQ(lock)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    DEBUG_ASSERT(arch_irqs_disabled());
    spin_lock_tickets_(lock);
}

static __always_inline void spin_unlock_untracked(spinlock_t *lock) TA_REL(lock)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    spin_unlock_tickets_(lock);
}

static __always_inline void spin_lock_irqsave(spinlock_t *lock, spin_lock_saved_state_t *state)
    TA_ACQ(lock) TA_NO_THREAD_SAFETY_ANALYSIS {
    *state = arch_irq_save();
    spin_lock_irqs_off_(lock);
}

static __always_inline void spin_unlock_irqrestore(spinlock_t *lock,
                                                   spin_lock_saved_state_t state)
    TA_REL(lock) TA_NO_THREAD_SAFETY_ANALYSIS {
    spin_unlock(lock);
    arch_irq_restore(state);
}

#endif
