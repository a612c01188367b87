/* Compiler helpers shared by every kernel file (and the host builds of kernel code). */
#ifndef KERNEL_COMPILER_H
#define KERNEL_COMPILER_H

#ifndef __packed
#define __packed __attribute__((packed))
#endif
#ifndef __aligned
#define __aligned(x) __attribute__((aligned(x)))
#endif
#ifndef __noreturn
#define __noreturn __attribute__((noreturn))
#endif
#ifndef __unused
#define __unused __attribute__((unused))
#endif
#ifndef __used
#define __used __attribute__((used))
#endif
#ifndef __section
#define __section(s) __attribute__((section(s)))
#endif
#ifndef __printflike
#define __printflike(f, a) __attribute__((format(printf, f, a)))
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define countof(a) (sizeof(a) / sizeof((a)[0]))
#define containerof(ptr, type, member) \
    ((type *)((char *)(ptr) - __builtin_offsetof(type, member)))

#define ROUNDUP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ROUNDDOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/*
 * Clang thread-safety analysis (-Wthread-safety, -Wthread-safety-beta; errors under
 * -Werror); no-ops elsewhere. The lock rules these express are in docs/architecture.md
 * ("Locks").
 *
 *  TA_CAP(name)        a lock type (spinlock_t, mutex_t)
 *  TA_ACQ / TA_REL     the function takes / releases the lock (lock and unlock helpers)
 *  TA_TRY_ACQ(ok, l)   takes l when it returns ok
 *  TA_ASSERT(l)        after the call the caller holds l (taken now or further up)
 *  TA_REQ(l)           the caller must hold l
 *  TA_EXCL(l)          the caller must not hold l (the function takes it)
 *  TA_GUARDED(l)       reading or writing this variable needs l
 *  TA_NO_THREAD_SAFETY_ANALYSIS  the function is not checked; every use says why
 *
 * In C, clang resolves a lock named in TA_GUARDED only at file scope: a field can be
 * guarded by a global lock, not by a lock in the same object (clang 14 rejects the
 * member name; later versions accept it but check it against the wrong object). So a
 * field guarded by its object's own lock says so in a comment, and the functions that
 * touch it with the lock held carry TA_REQ(obj->lock), which clang does check.
 */
#if defined(__clang__)
#define TA_CAP(x) __attribute__((capability(x)))
#define TA_ACQ(...) __attribute__((acquire_capability(__VA_ARGS__)))
#define TA_REL(...) __attribute__((release_capability(__VA_ARGS__)))
#define TA_TRY_ACQ(...) __attribute__((try_acquire_capability(__VA_ARGS__)))
#define TA_ASSERT(...) __attribute__((assert_capability(__VA_ARGS__)))
#define TA_REQ(...) __attribute__((requires_capability(__VA_ARGS__)))
#define TA_EXCL(...) __attribute__((locks_excluded(__VA_ARGS__)))
/* After a call to a function with this attribute the analysis takes the capability as
 * held (for relations it cannot follow, e.g. two objects known to share one lock). */
#define TA_ASSERT(...) __attribute__((assert_capability(__VA_ARGS__)))
#define TA_GUARDED(x) __attribute__((guarded_by(x)))
#define TA_NO_THREAD_SAFETY_ANALYSIS __attribute__((no_thread_safety_analysis))
/* Shared (reader) holds of a capability (rw_mutex_t): taken, released, required,
 * asserted. An exclusive hold satisfies TA_REQ_SHARED. */
#define TA_ACQ_SHARED(...) __attribute__((acquire_shared_capability(__VA_ARGS__)))
#define TA_REL_SHARED(...) __attribute__((release_shared_capability(__VA_ARGS__)))
#define TA_REQ_SHARED(...) __attribute__((requires_shared_capability(__VA_ARGS__)))
#define TA_ASSERT_SHARED(...) __attribute__((assert_shared_capability(__VA_ARGS__)))
#else
#define TA_CAP(x)
#define TA_ACQ(...)
#define TA_REL(...)
#define TA_TRY_ACQ(...)
#define TA_ASSERT(...)
#define TA_REQ(...)
#define TA_EXCL(...)
#define TA_ASSERT(...)
#define TA_GUARDED(x)
#define TA_NO_THREAD_SAFETY_ANALYSIS
#define TA_ACQ_SHARED(...)
#define TA_REL_SHARED(...)
#define TA_REQ_SHARED(...)
#define TA_ASSERT_SHARED(...)
#endif

#endif
