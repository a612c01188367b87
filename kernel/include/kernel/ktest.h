/*
 * In-kernel unit tests.
 *
 * KTEST(suite, name) { ... } registers a test through the .ktests linker section.
 * Tests run at boot when the command line says test=all (every non-manual test),
 * test=SUITE or test=SUITE.NAME. KTEST_MANUAL(...) tests (deliberate crashes) run only
 * when named exactly. Each test prints one line; the run ends with "N passed, N failed"
 * and the machine powers off with the result.
 *
 * The runner checks after every test that the PMM free-page count and the heap's
 * bytes-in-use are back where they started; a difference fails the test as a leak.
 *
 * EXPECT_* record a failure and continue; ASSERT_* record a failure and return from the
 * test function.
 */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/compiler.h>
#include <zircon/types.h>

struct ktest_ctx {
    const char *current;
    int failures;
};

#define KTEST_FLAG_MANUAL (1u << 0)

struct ktest {
    const char *suite;
    const char *name;
    void (*fn)(struct ktest_ctx *ktx);
    uint32_t flags;
};

#define KTEST_DEFINE_(suite, name, flags_)                                           \
    static void ktest_fn_##suite##_##name(struct ktest_ctx *ktx);                    \
    static const struct ktest ktest_rec_##suite##_##name                              \
        __used __section(".ktests") __aligned(8) = {#suite, #name,                     \
                                                     ktest_fn_##suite##_##name, flags_}; \
    static void ktest_fn_##suite##_##name(struct ktest_ctx *ktx)

#define KTEST(suite, name) KTEST_DEFINE_(suite, name, 0)
#define KTEST_MANUAL(suite, name) KTEST_DEFINE_(suite, name, KTEST_FLAG_MANUAL)

void ktest_fail(struct ktest_ctx *ktx, const char *file, int line, const char *fmt, ...)
    __printflike(4, 5);

#define KT_CHECK_(cond, on_fail, fmt, ...)                                           \
    do {                                                                             \
        if (!(cond)) {                                                               \
            ktest_fail(ktx, __FILE__, __LINE__, fmt, ##__VA_ARGS__);                 \
            on_fail;                                                                 \
        }                                                                            \
    } while (0)

#define KT_CMP_(a, b, op, on_fail)                                                   \
    do {                                                                             \
        __typeof__(a) kt_a_ = (a);                                                   \
        __typeof__(b) kt_b_ = (b);                                                   \
        KT_CHECK_(kt_a_ op kt_b_, on_fail, "%s %s %s (0x%llx vs 0x%llx)", #a, #op, #b, \
                  (unsigned long long)kt_a_, (unsigned long long)kt_b_);             \
    } while (0)

#define EXPECT_TRUE(x) KT_CHECK_((x), (void)0, "expected true: %s", #x)
#define EXPECT_FALSE(x) KT_CHECK_(!(x), (void)0, "expected false: %s", #x)
#define EXPECT_EQ(a, b) KT_CMP_(a, b, ==, (void)0)
#define EXPECT_NE(a, b) KT_CMP_(a, b, !=, (void)0)
#define EXPECT_LT(a, b) KT_CMP_(a, b, <, (void)0)
#define EXPECT_LE(a, b) KT_CMP_(a, b, <=, (void)0)
#define EXPECT_GT(a, b) KT_CMP_(a, b, >, (void)0)
#define EXPECT_GE(a, b) KT_CMP_(a, b, >=, (void)0)
#define EXPECT_OK(s) KT_CMP_((zx_status_t)(s), ZX_OK, ==, (void)0)
#define EXPECT_STATUS(s, e) KT_CMP_((zx_status_t)(s), (zx_status_t)(e), ==, (void)0)
#define EXPECT_NULL(p) KT_CHECK_((p) == NULL, (void)0, "expected NULL: %s", #p)
#define EXPECT_NONNULL(p) KT_CHECK_((p) != NULL, (void)0, "expected non-NULL: %s", #p)

#define ASSERT_TRUE(x) KT_CHECK_((x), return, "expected true: %s", #x)
#define ASSERT_FALSE(x) KT_CHECK_(!(x), return, "expected false: %s", #x)
#define ASSERT_EQ(a, b) KT_CMP_(a, b, ==, return)
#define ASSERT_NE(a, b) KT_CMP_(a, b, !=, return)
#define ASSERT_LT(a, b) KT_CMP_(a, b, <, return)
#define ASSERT_LE(a, b) KT_CMP_(a, b, <=, return)
#define ASSERT_GE(a, b) KT_CMP_(a, b, >=, return)
#define ASSERT_OK(s) KT_CMP_((zx_status_t)(s), ZX_OK, ==, return)
#define ASSERT_STATUS(s, e) KT_CMP_((zx_status_t)(s), (zx_status_t)(e), ==, return)
#define ASSERT_NONNULL(p) KT_CHECK_((p) != NULL, return, "expected non-NULL: %s", #p)

/* Runs the tests selected by `selector` ("all", a suite, or suite.name). Returns failures. */
int ktest_run(const char *selector, size_t selector_len);

#endif
