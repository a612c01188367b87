/*
 * Lock classes: every kind of lock in the kernel, for the lock-order validator
 * (<kernel/lockdep.h>, debug builds). All locks of one class obey one place in the lock
 * order, so the validator reasons about classes, not lock instances: a per-object lock
 * (a process's, a channel endpoint's) belongs to the class of its object kind.
 *
 * The list is in the documented nesting order, outermost first (docs/architecture.md,
 * "Locks"): a lock may be taken only while holding locks of classes listed above it.
 * The validator learns the order from the acquisitions it sees and reports the first
 * one that closes a cycle; it also reports a new nesting that goes against this list,
 * so a new lock nesting cannot appear without the list (and the document) saying so.
 *
 * A class id is 16 bits, stored in every spinlock_t and mutex_t (a static initializer
 * or an init call sets it); 0 is "unclassified", which the validator refuses when on.
 */
#ifndef KERNEL_LOCK_CLASS_H
#define KERNEL_LOCK_CLASS_H

/* X(ID, "name", kind) for each class, outermost first. */
#define LOCK_CLASS_LIST(X)                                                             \
    X(NONE, "unclassified", "-")                                                       \
    X(KTEST_D, "ktest.d", "spinlock")                                                  \
    X(KTEST_A, "ktest.a", "mutex")                                                     \
    X(KTEST_B, "ktest.b", "mutex")                                                     \
    X(KTEST_C, "ktest.c", "mutex")                                                  \
    X(KTEST_MUTEX, "ktest.mutex", "mutex")                                             \
    X(GC, "gc", "mutex")                                                               \
    X(PROC_REGISTRY, "proc.registry", "mutex")                                         \
    X(VM_ASPACE_UNIFIED, "vm.aspace.unified", "rw_mutex")                              \
    X(VM_ASPACE, "vm.aspace", "rw_mutex")                                              \
    X(VMO, "vm.vmo", "mutex")                                                          \
    X(VMO_DISCARD, "vm.vmo.discard", "mutex")                                          \
    X(HANDLE_TABLE, "handle_table", "mutex")                                           \
    X(DEBUG_CONSOLE_GATE, "debug_console.gate", "spinlock")                            \
    X(TIMER, "object.timers", "spinlock")                                              \
    X(PROCESS, "object.process", "spinlock")                                           \
    X(THREAD, "object.thread", "spinlock")                                             \
    X(CHANNEL, "object.channel", "spinlock")                                           \
    X(OBJECT, "object", "spinlock")                                                    \
    X(PORT, "object.port", "spinlock")                                                 \
    X(WAIT_MANY, "object.wait_many", "spinlock")                                       \
    X(KTEST_SPIN, "ktest.spin", "spinlock")                                            \
    X(MUTEX_WAIT, "mutex.wait", "spinlock")                                            \
    X(MMIO, "mmu.mmio", "spinlock")                                                    \
    X(MMU_SHARED, "mmu.shared", "spinlock")                                            \
    X(MMU_RESTRICTED, "mmu.restricted", "spinlock")                                    \
    X(MMU_UNIFIED, "mmu.unified", "spinlock")                                          \
    X(MMU, "mmu.aspace", "spinlock")                                                   \
    X(HEAP, "heap", "spinlock")                                                        \
    X(PMM, "pmm", "spinlock")                                                          \
    X(CONSOLE, "console", "spinlock")                                                  \
    X(SCHED, "sched", "spinlock, untracked")

#define LOCK_CLASS_ENUM_(id, name, kind) LOCK_CLASS_##id,
enum lock_class_id { LOCK_CLASS_LIST(LOCK_CLASS_ENUM_) LOCK_CLASS_COUNT };
#undef LOCK_CLASS_ENUM_

typedef unsigned short lock_class_t;

#endif
