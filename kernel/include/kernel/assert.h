/*
 * Invariant checks.
 *   ASSERT(x)        always compiled in; a false invariant panics.
 *   DEBUG_ASSERT(x)  compiled in only when BERYL_DEBUG is non-zero.
 * In host builds (BERYL_HOST) panic() is provided by the host test harness and aborts,
 * so sanitizers and the test runner see the failure.
 */
#ifndef KERNEL_ASSERT_H
#define KERNEL_ASSERT_H

#include <kernel/compiler.h>

#ifndef BERYL_DEBUG
#define BERYL_DEBUG 1
#endif

__noreturn void panic(const char *fmt, ...) __printflike(1, 2);

#define ASSERT(x)                                                                      \
    do {                                                                               \
        if (unlikely(!(x)))                                                            \
            panic("ASSERT FAILED at %s:%d: %s", __FILE__, __LINE__, #x);             \
    } while (0)

#define ASSERT_MSG(x, fmt, ...)                                                        \
    do {                                                                               \
        if (unlikely(!(x)))                                                            \
            panic("ASSERT FAILED at %s:%d: %s: " fmt, __FILE__, __LINE__, #x,        \
                  ##__VA_ARGS__);                                                      \
    } while (0)

#if BERYL_DEBUG
#define DEBUG_ASSERT(x) ASSERT(x)
#define DEBUG_ASSERT_MSG(x, fmt, ...) ASSERT_MSG(x, fmt, ##__VA_ARGS__)
#else
/* Never evaluated, but still compiled: what only a DEBUG_ASSERT uses stays used. */
#define DEBUG_ASSERT(x) ((void)(0 && (x)))
#define DEBUG_ASSERT_MSG(x, fmt, ...) ((void)(0 && (x)))
#endif

#define STATIC_ASSERT(x) _Static_assert(x, #x)

#endif
