/*
 * A small zxtest-like framework for user test programs (see docs/user-tests.md).
 *
 *   TEST(suite, name) { ... }     defines and registers a test case
 *   EXPECT_*(...)                 records a failure and continues
 *   ASSERT_*(...)                 records a failure and returns from the test function
 *   EXPECT_DEATH(block, retcode)  runs block in a child process (this same executable,
 *   ASSERT_DEATH(block, retcode)  re-launched) and checks the child's return code
 *
 * The framework's main() (weak; a program may define its own and call
 * beryl_test_run_all) runs every test, prints one line per case ("PASS suite.name" or
 * "FAIL suite.name (file:line: message)") and "prog: N passed, N failed", sends a
 * beryl_test_report_t on the PA_USER0 channel when there is one, and returns the number
 * of failed cases. Argument 1, if given, runs only the cases whose "suite.name" contains it.
 * While a case runs, its thread is named "suite.name" (ZX_PROP_NAME, cut to
 * ZX_MAX_NAME_LEN - 1 characters) and gets its previous name back afterwards; a death-test
 * child process is named BERYL_DEATH_NAME_PREFIX "suite.name", cut the same way, and its
 * thread "suite.name". The kernel's user fault report names both.
 *
 * Comparisons take integer (or pointer) operands; both values are printed on failure.
 * Macro arguments are evaluated exactly once. A death-test block must not contain a comma
 * outside parentheses (wrap it in a function call if needed).
 */
#ifndef BERYL_TEST_H
#define BERYL_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <zircon/syscalls.h>
#include <zircon/types.h>

typedef struct beryl_test_case {
    const char *suite;
    const char *name;
    void (*fn)(void);
    const char *file;
    int line;
} beryl_test_case_t;

/* Exit code of a death-test child whose block returned instead of dying. */
#define BERYL_DEATH_SURVIVED 0x2D
/* Exit code of a death-test child that never reached the death block. */
#define BERYL_DEATH_NOT_REACHED 0x2E
/* What a death-test child's process name starts with, before "suite.name". */
#define BERYL_DEATH_NAME_PREFIX "death:"
/* How long a death-test parent waits for its child. */
#define BERYL_DEATH_TIMEOUT_NS ((zx_time_t)10 * 1000 * 1000 * 1000)

/* Runs the registered cases as described above; returns the number of failed cases. */
int beryl_test_run_all(int argc, char **argv);

/* Records a failure of the current case (thread-safe). */
void beryl_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* True in a death-test child; then beryl_test_death_id() is the block to run. */
bool beryl_test_in_death_child(void);
int beryl_test_death_id(void);
/* Parent side of a death test: launches the child and checks its return code; records a
 * failure and returns false on mismatch. */
bool beryl_test_run_death(int id, int64_t expected, const char *what, const char *file,
                          int line);

#define BERYL_TEST_CAT_(a, b) a##b
#define BERYL_TEST_CAT(a, b) BERYL_TEST_CAT_(a, b)

#define TEST(suite, name)                                                                 \
    static void beryl_test_fn_##suite##_##name(void);                                     \
    static const beryl_test_case_t beryl_test_case_##suite##_##name = {                   \
        #suite, #name, beryl_test_fn_##suite##_##name, __FILE__, __LINE__};               \
    __attribute__((used, section("beryl_tests"))) static const beryl_test_case_t          \
        *const beryl_test_ptr_##suite##_##name = &beryl_test_case_##suite##_##name;       \
    static void beryl_test_fn_##suite##_##name(void)

#define BERYL_CHECK_(cond, on_fail, ...)                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            beryl_test_fail(__FILE__, __LINE__, __VA_ARGS__);                             \
            on_fail;                                                                      \
        }                                                                                 \
    } while (0)

/* Signed and unsigned operands are printed both ways so that neither reading is lost. */
#define BERYL_CMP_(a, b, op, on_fail)                                                     \
    do {                                                                                  \
        __typeof__(a) beryl_a_ = (a);                                                     \
        __typeof__(b) beryl_b_ = (b);                                                     \
        BERYL_CHECK_(beryl_a_ op beryl_b_, on_fail, "expected %s %s %s: %lld (0x%llx) vs %lld (0x%llx)", \
                     #a, #op, #b, (long long)beryl_a_, (unsigned long long)beryl_a_,     \
                     (long long)beryl_b_, (unsigned long long)beryl_b_);                 \
    } while (0)

#define BERYL_STATUS_(s, e, on_fail)                                                      \
    do {                                                                                  \
        zx_status_t beryl_s_ = (s);                                                       \
        zx_status_t beryl_e_ = (e);                                                       \
        BERYL_CHECK_(beryl_s_ == beryl_e_, on_fail, "%s: status %d, expected %d (%s)",    \
                     #s, (int)beryl_s_, (int)beryl_e_, #e);                               \
    } while (0)

#define BERYL_STREQ_(a, b, on_fail)                                                       \
    do {                                                                                  \
        const char *beryl_sa_ = (a);                                                      \
        const char *beryl_sb_ = (b);                                                      \
        BERYL_CHECK_(beryl_test_str_eq_(beryl_sa_, beryl_sb_), on_fail,                   \
                     "expected %s == %s: \"%s\" vs \"%s\"", #a, #b, beryl_sa_, beryl_sb_); \
    } while (0)

bool beryl_test_str_eq_(const char *a, const char *b);

#define BERYL_DEATH_(block, expected, id, on_fail)                                        \
    do {                                                                                  \
        if (beryl_test_in_death_child()) {                                                \
            if (beryl_test_death_id() == (id)) {                                          \
                block;                                                                    \
                zx_process_exit(BERYL_DEATH_SURVIVED);                                    \
            }                                                                             \
        } else if (!beryl_test_run_death((id), (int64_t)(expected), #block, __FILE__,     \
                                         __LINE__)) {                                     \
            on_fail;                                                                      \
        }                                                                                 \
    } while (0)

#define EXPECT_TRUE(x) BERYL_CHECK_((x), (void)0, "expected true: %s", #x)
#define EXPECT_FALSE(x) BERYL_CHECK_(!(x), (void)0, "expected false: %s", #x)
#define EXPECT_NULL(p) BERYL_CHECK_((p) == NULL, (void)0, "expected NULL: %s", #p)
#define EXPECT_NONNULL(p) BERYL_CHECK_((p) != NULL, (void)0, "expected non-NULL: %s", #p)
#define EXPECT_EQ(a, b) BERYL_CMP_(a, b, ==, (void)0)
#define EXPECT_NE(a, b) BERYL_CMP_(a, b, !=, (void)0)
#define EXPECT_LT(a, b) BERYL_CMP_(a, b, <, (void)0)
#define EXPECT_LE(a, b) BERYL_CMP_(a, b, <=, (void)0)
#define EXPECT_GT(a, b) BERYL_CMP_(a, b, >, (void)0)
#define EXPECT_GE(a, b) BERYL_CMP_(a, b, >=, (void)0)
#define EXPECT_OK(s) BERYL_STATUS_(s, ZX_OK, (void)0)
#define EXPECT_STATUS(s, e) BERYL_STATUS_(s, e, (void)0)
#define EXPECT_STR_EQ(a, b) BERYL_STREQ_(a, b, (void)0)
#define EXPECT_DEATH(block, retcode) BERYL_DEATH_(block, retcode, __COUNTER__, (void)0)

#define ASSERT_TRUE(x) BERYL_CHECK_((x), return, "expected true: %s", #x)
#define ASSERT_FALSE(x) BERYL_CHECK_(!(x), return, "expected false: %s", #x)
#define ASSERT_NULL(p) BERYL_CHECK_((p) == NULL, return, "expected NULL: %s", #p)
#define ASSERT_NONNULL(p) BERYL_CHECK_((p) != NULL, return, "expected non-NULL: %s", #p)
#define ASSERT_EQ(a, b) BERYL_CMP_(a, b, ==, return)
#define ASSERT_NE(a, b) BERYL_CMP_(a, b, !=, return)
#define ASSERT_LT(a, b) BERYL_CMP_(a, b, <, return)
#define ASSERT_LE(a, b) BERYL_CMP_(a, b, <=, return)
#define ASSERT_GT(a, b) BERYL_CMP_(a, b, >, return)
#define ASSERT_GE(a, b) BERYL_CMP_(a, b, >=, return)
#define ASSERT_OK(s) BERYL_STATUS_(s, ZX_OK, return)
#define ASSERT_STATUS(s, e) BERYL_STATUS_(s, e, return)
#define ASSERT_STR_EQ(a, b) BERYL_STREQ_(a, b, return)
#define ASSERT_DEATH(block, retcode) BERYL_DEATH_(block, retcode, __COUNTER__, return)

#endif
