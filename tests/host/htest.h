/*
 * Minimal host test framework for kernel code compiled for Linux (under ASan + UBSan).
 *
 *   HTEST(suite, name) { ... }      registers a test (constructor attribute).
 *   EXPECT_* record a failure and continue; ASSERT_* record a failure and return.
 *   HTEST_EXPECT_PANIC(stmt)        runs stmt and checks that it calls panic().
 *
 * main() (htest.c) runs every test, or those whose "suite.name" contains argv[1], prints
 * one line per test and closes with "N passed, N failed"; exit status 1 on any failure.
 * The environment variable HTEST_SEED, when set, is returned by htest_seed() so random
 * tests can be replayed; otherwise a fixed default seed is used.
 */
#ifndef HTEST_H
#define HTEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct htest {
    const char *suite;
    const char *name;
    void (*fn)(void);
    struct htest *next;
};

void htest_register(struct htest *t);
void htest_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint64_t htest_seed(void);

extern jmp_buf *htest_panic_jmp;     /* set while HTEST_EXPECT_PANIC runs */
extern char htest_last_panic[512];   /* message of the last panic caught */

#define HTEST(suite, name)                                                          \
    static void htest_fn_##suite##_##name(void);                                    \
    static struct htest htest_rec_##suite##_##name = {#suite, #name,                \
                                                      htest_fn_##suite##_##name, 0}; \
    __attribute__((constructor)) static void htest_reg_##suite##_##name(void) {     \
        htest_register(&htest_rec_##suite##_##name);                                \
    }                                                                               \
    static void htest_fn_##suite##_##name(void)

#define HT_CHECK_(cond, on_fail, ...)                                               \
    do {                                                                            \
        if (!(cond)) {                                                              \
            htest_fail(__FILE__, __LINE__, __VA_ARGS__);                            \
            on_fail;                                                                \
        }                                                                           \
    } while (0)

#define HT_CMP_(a, b, op, on_fail)                                                  \
    do {                                                                            \
        __typeof__(a) ht_a_ = (a);                                                  \
        __typeof__(b) ht_b_ = (b);                                                  \
        HT_CHECK_(ht_a_ op ht_b_, on_fail, "%s %s %s (0x%llx vs 0x%llx)", #a, #op, #b, \
                  (unsigned long long)ht_a_, (unsigned long long)ht_b_);            \
    } while (0)

#define EXPECT_TRUE(x) HT_CHECK_((x), (void)0, "expected true: %s", #x)
#define EXPECT_FALSE(x) HT_CHECK_(!(x), (void)0, "expected false: %s", #x)
#define EXPECT_EQ(a, b) HT_CMP_(a, b, ==, (void)0)
#define EXPECT_NE(a, b) HT_CMP_(a, b, !=, (void)0)
#define EXPECT_LT(a, b) HT_CMP_(a, b, <, (void)0)
#define EXPECT_LE(a, b) HT_CMP_(a, b, <=, (void)0)
#define EXPECT_GT(a, b) HT_CMP_(a, b, >, (void)0)
#define EXPECT_GE(a, b) HT_CMP_(a, b, >=, (void)0)
#define EXPECT_OK(s) HT_CMP_((int)(s), 0, ==, (void)0)
#define EXPECT_STATUS(s, e) HT_CMP_((int)(s), (int)(e), ==, (void)0)
#define EXPECT_STREQ(a, b)                                                          \
    HT_CHECK_(strcmp((a), (b)) == 0, (void)0, "%s == %s (\"%s\" vs \"%s\")", #a, #b, (a), (b))
#define EXPECT_NULL(p) HT_CHECK_((p) == NULL, (void)0, "expected NULL: %s", #p)
#define EXPECT_NONNULL(p) HT_CHECK_((p) != NULL, (void)0, "expected non-NULL: %s", #p)

#define ASSERT_TRUE(x) HT_CHECK_((x), return, "expected true: %s", #x)
#define ASSERT_FALSE(x) HT_CHECK_(!(x), return, "expected false: %s", #x)
#define ASSERT_EQ(a, b) HT_CMP_(a, b, ==, return)
#define ASSERT_NE(a, b) HT_CMP_(a, b, !=, return)
#define ASSERT_LE(a, b) HT_CMP_(a, b, <=, return)
#define ASSERT_GE(a, b) HT_CMP_(a, b, >=, return)
#define ASSERT_OK(s) HT_CMP_((int)(s), 0, ==, return)
#define ASSERT_STATUS(s, e) HT_CMP_((int)(s), (int)(e), ==, return)
#define ASSERT_STREQ(a, b)                                                          \
    HT_CHECK_(strcmp((a), (b)) == 0, return, "%s == %s (\"%s\" vs \"%s\")", #a, #b, (a), (b))
#define ASSERT_NONNULL(p) HT_CHECK_((p) != NULL, return, "expected non-NULL: %s", #p)

#define HTEST_EXPECT_PANIC(stmt)                                                    \
    do {                                                                            \
        jmp_buf ht_jb_;                                                             \
        htest_last_panic[0] = 0;                                                    \
        if (setjmp(ht_jb_) == 0) {                                                  \
            htest_panic_jmp = &ht_jb_;                                              \
            stmt;                                                                   \
            htest_panic_jmp = NULL;                                                 \
            htest_fail(__FILE__, __LINE__, "expected panic from: %s", #stmt);       \
        } else {                                                                    \
            htest_panic_jmp = NULL;                                                 \
        }                                                                           \
    } while (0)

#endif
