/*
 * The lock-order validator (kernel/sched/lockdep.c), built into kernel-lockdep.elf: the
 * kernel compiled with BERYL_LOCKDEP=1 next to kernel.elf in debug builds, booted from
 * the ISO tree isoroot-lockdep (docs/architecture.md, "Locks").
 *
 * Every spinlock and mutex carries a lock class (<kernel/lock_class.h>). With the
 * validator on (from boot unless `kernel.lockdep=false` is on the command line; tests
 * switch it with lockdep_set_enabled), each acquisition is checked against the order
 * seen so far:
 *  - each thread (and, before the scheduler runs, each CPU) keeps a short stack of the
 *    locks it holds, with the code address that took each;
 *  - taking a lock of class B while holding one of class A records the edge A -> B in a
 *    global graph of classes, with both addresses;
 *  - if B already reaches A in that graph (directly or through other classes), the two
 *    orders can deadlock: the validator prints both acquisitions and the recorded path
 *    and panics. Taking a second lock of a class already held is reported the same way
 *    (no class in this kernel nests with itself), and so is a new edge A -> B where
 *    <kernel/lock_class.h> lists A after B: the list is the documented order.
 * A trylock cannot wait, so it records no edge; the lock it takes is still pushed, and
 * locks taken under it are checked.
 *
 * Cost: outside kernel-lockdep.elf (kernel.elf, release builds, host builds) none of
 * this exists: the hooks are empty macros and only the 16-bit class field in each lock
 * remains (it fills padding). In kernel-lockdep.elf each lock and unlock tests one global
 * flag and, when on, calls the validator with interrupts off.
 *
 * Not reachable from user space except through the locks themselves; it prints only in
 * the validator's kernel.
 */
#ifndef KERNEL_LOCKDEP_H
#define KERNEL_LOCKDEP_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/assert.h>
#include <kernel/compiler.h>
#include <kernel/lock_class.h>

/* Locks one thread may hold at once, as the validator tracks them. Deeper nesting is
 * reported (no kernel path comes near it). */
#define LOCKDEP_MAX_HELD 16
/* Classes the graph can hold: one 64-bit mask of successors per class. */
#define LOCKDEP_MAX_CLASSES 64
/* CPUs with their own stack for code that runs before a current thread exists. */
#define LOCKDEP_MAX_CPUS 64
/* The command-line switch (a boolean, cmdline_get_bool). */
#define LOCKDEP_OPTION "kernel.lockdep"

#if BERYL_DEBUG && defined(BERYL_LOCKDEP) && BERYL_LOCKDEP && !defined(BERYL_HOST)
#define LOCKDEP_BUILD 1
#else
#define LOCKDEP_BUILD 0
#endif

/* One held lock. */
struct lockdep_entry {
    const void *lock;
    uintptr_t pc;        /* where it was taken */
    lock_class_t cls;
};

/* The locks a thread (or a CPU without one) holds, in acquisition order. Touched only
 * by its owner, with interrupts off. */
struct lockdep_held {
    uint32_t depth;
    struct lockdep_entry entries[LOCKDEP_MAX_HELD];
};

/* What the last captured report named (lockdep_capture_begin). */
struct lockdep_report {
    lock_class_t held;   /* the class held ... */
    lock_class_t taken;  /* ... when this one was taken */
};

#if LOCKDEP_BUILD

/* True while the validator runs. Read by every lock and unlock in debug builds. */
extern bool lockdep_on;

/* Reads kernel.lockdep from the command line (cmdline_init first) and turns the
 * validator on unless it is false. */
void lockdep_init(void);

/* Turns the validator on or off (tests). Locks held when it is turned on are unknown to
 * it: their release is ignored. */
void lockdep_set_enabled(bool on);

/*
 * The hooks the lock implementations call, with interrupts in any state: before taking
 * a lock (after a trylock succeeded: `trylock` true), and after releasing it. `pc` is the
 * acquisition site (lockdep_acquire uses its own return address: call it only from an
 * always-inline lock function, so that address lies in the code taking the lock). On an
 * order violation they print it and panic, or in capture mode count it and go on.
 */
void lockdep_acquire(lock_class_t cls, const void *lock, bool trylock);
void lockdep_acquire_at(lock_class_t cls, const void *lock, uintptr_t pc);
void lockdep_release(const void *lock);

/*
 * Capture mode, for the validator's own tests: between begin and end a violation is
 * printed and counted instead of panicking, and the edge it would add is dropped. end
 * returns the count and fills *last with the last one (if any). Not nestable; the
 * caller keeps other threads off the test classes.
 */
void lockdep_capture_begin(void);
uint32_t lockdep_capture_end(struct lockdep_report *last);

/* With the validator on: prints every edge of the class graph, "A -> B" with the two
 * code addresses of its first sighting (at the end of a boot's tests). */
void lockdep_print_order(void);

/* True if the graph has the edge from -> to (tests). */
bool lockdep_has_edge(lock_class_t from, lock_class_t to);

#define LOCKDEP_ACQUIRE(cls, lock)                                                     \
    do {                                                                               \
        if (unlikely(lockdep_on))                                                      \
            lockdep_acquire((cls), (lock), false);                                     \
    } while (0)
#define LOCKDEP_ACQUIRED_TRY(cls, lock)                                                \
    do {                                                                               \
        if (unlikely(lockdep_on))                                                      \
            lockdep_acquire((cls), (lock), true);                                      \
    } while (0)
#define LOCKDEP_RELEASE(lock)                                                          \
    do {                                                                               \
        if (unlikely(lockdep_on))                                                      \
            lockdep_release(lock);                                                     \
    } while (0)

#else

static inline void lockdep_init(void) {}
static inline void lockdep_print_order(void) {}
#define LOCKDEP_ACQUIRE(cls, lock) ((void)0)
#define LOCKDEP_ACQUIRED_TRY(cls, lock) ((void)0)
#define LOCKDEP_RELEASE(lock) ((void)0)

#endif

#endif
