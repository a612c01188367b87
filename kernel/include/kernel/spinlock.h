/*
 * Spinlocks, written for SMP although only the boot CPU runs today.
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
 *  - spinlock_t is a capability of clang's thread-safety analysis (<kernel/compiler.h>):
 *    the lock and unlock functions say what they take and release; their bodies are
 *    not analysed, since they implement what the analysis tracks.
 */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/irq.h>
#include <kernel/assert.h>
#include <kernel/compiler.h>

typedef struct TA_CAP("spinlock") spinlock {
    volatile uint32_t value; /* 0 = free, otherwise holder cpu number + 1 */
} spinlock_t;

typedef arch_irq_state_t spin_lock_saved_state_t;

#define SPIN_LOCK_INITIAL_VALUE { 0 }

static inline void spin_lock_init(spinlock_t *lock) { lock->value = 0; }

static inline bool spin_lock_held(const spinlock_t *lock) {
    return lock->value == arch_curr_cpu_num() + 1;
}

static inline void spin_lock(spinlock_t *lock) TA_ACQ(lock) TA_NO_THREAD_SAFETY_ANALYSIS {
    uint32_t me = arch_curr_cpu_num() + 1;
    DEBUG_ASSERT(arch_irqs_disabled());
    DEBUG_ASSERT_MSG(lock->value != me, "recursive spinlock %p", (void *)lock);
    for (;;) {
        uint32_t expected = 0;
        if (__atomic_compare_exchange_n(&lock->value, &expected, me, false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
        while (__atomic_load_n(&lock->value, __ATOMIC_RELAXED) != 0)
            arch_spin_pause();
    }
}

static inline void spin_unlock(spinlock_t *lock) TA_REL(lock) TA_NO_THREAD_SAFETY_ANALYSIS {
    DEBUG_ASSERT_MSG(spin_lock_held(lock), "unlock of spinlock %p not held", (void *)lock);
    __atomic_store_n(&lock->value, 0, __ATOMIC_RELEASE);
}

static inline void spin_lock_irqsave(spinlock_t *lock, spin_lock_saved_state_t *state)
    TA_ACQ(lock) TA_NO_THREAD_SAFETY_ANALYSIS {
    *state = arch_irq_save();
    spin_lock(lock);
}

static inline void spin_unlock_irqrestore(spinlock_t *lock, spin_lock_saved_state_t state)
    TA_REL(lock) TA_NO_THREAD_SAFETY_ANALYSIS {
    spin_unlock(lock);
    arch_irq_restore(state);
}

#endif
