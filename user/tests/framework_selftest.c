/* Exercises the test framework itself; every check here is meant to pass. */
#include <beryl/test.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/process.h>

TEST(Framework, Comparisons) {
    int a = 3;
    EXPECT_TRUE(a == 3);
    EXPECT_FALSE(a == 4);
    EXPECT_EQ(a, 3);
    EXPECT_NE(a, 4);
    EXPECT_LT(a, 4);
    EXPECT_LE(a, 3);
    EXPECT_GT(a, 2);
    EXPECT_GE(a, 3);
    EXPECT_EQ((uint64_t)1 << 40, 0x10000000000ull);
    ASSERT_EQ(a, 3);
}

TEST(Framework, StatusAndStrings) {
    EXPECT_OK(ZX_OK);
    EXPECT_STATUS(ZX_ERR_BAD_HANDLE, ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_handle_close(ZX_HANDLE_INVALID), ZX_OK);
    char buf[32];
    snprintf(buf, sizeof(buf), "%s-%05d-%x", "ab", 42, 255u);
    EXPECT_STR_EQ(buf, "ab-00042-ff");
    ASSERT_OK(ZX_OK);
}

TEST(Framework, StartupHandles) {
    EXPECT_NE(zx_process_self(), ZX_HANDLE_INVALID);
    EXPECT_NE(zx_vmar_root_self(), ZX_HANDLE_INVALID);
    EXPECT_NE(zx_thread_self(), ZX_HANDLE_INVALID);
    EXPECT_NE(zx_job_default(), ZX_HANDLE_INVALID);
}

TEST(Framework, Malloc) {
    char *p = malloc(100);
    ASSERT_NONNULL(p);
    memset(p, 0x5a, 100);
    char *q = calloc(1000, 16);
    ASSERT_NONNULL(q);
    EXPECT_EQ(q[15999], 0);
    p = realloc(p, 10000);
    ASSERT_NONNULL(p);
    EXPECT_EQ(p[99], 0x5a);
    free(p);
    free(q);
}

static void write_to_null(void) {
    *(volatile int *)0 = 1;
}

TEST(Framework, DeathTests) {
    EXPECT_DEATH(write_to_null(), ZX_TASK_RETCODE_EXCEPTION_KILL);
    EXPECT_DEATH(exit(7), 7);
    ASSERT_DEATH(abort(), BERYL_ABORT_RETCODE);
}
