/* Exercises the test framework itself; every check here is meant to pass. */
#include <beryl/test.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/syscalls/object.h>

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

/* The name of the calling thread (empty if it cannot be read). */
static void own_thread_name(char name[ZX_MAX_NAME_LEN]) {
    if (zx_object_get_property(zx_thread_self(), ZX_PROP_NAME, name, ZX_MAX_NAME_LEN) != ZX_OK)
        name[0] = 0;
}

TEST(Framework, ThreadNamedAfterCase) {
    char name[ZX_MAX_NAME_LEN];
    own_thread_name(name);
    EXPECT_STR_EQ(name, "Framework.ThreadNamedAfterCase");
}

/* "Framework.LongCaseNameIsCutToThirtyOneCharacters" is 48 characters. */
TEST(Framework, LongCaseNameIsCutToThirtyOneCharacters) {
    char name[ZX_MAX_NAME_LEN];
    own_thread_name(name);
    EXPECT_STR_EQ(name, "Framework.LongCaseNameIsCutToTh");
}

/* Death-child exit codes of Framework.DeathChildNamed, each distinct from the framework's. */
#define NAMES_OK 0x41
#define NAMES_WRONG_PROCESS 0x42
#define NAMES_WRONG_THREAD 0x43

/* In the death child: exits with NAMES_OK when the process is named "death:" plus the case
 * and the thread after the case, else with the code of the first wrong name. */
static void exit_with_name_check(void) {
    char name[ZX_MAX_NAME_LEN];
    if (zx_object_get_property(zx_process_self(), ZX_PROP_NAME, name, sizeof(name)) != ZX_OK ||
        strcmp(name, BERYL_DEATH_NAME_PREFIX "Framework.DeathChildNamed") != 0)
        exit(NAMES_WRONG_PROCESS);
    own_thread_name(name);
    if (strcmp(name, "Framework.DeathChildNamed") != 0)
        exit(NAMES_WRONG_THREAD);
    exit(NAMES_OK);
}

TEST(Framework, DeathChildNamed) {
    EXPECT_DEATH(exit_with_name_check(), NAMES_OK);
}

/* The framework's main, plus a check that the thread has its launch name back once every
 * case ran (the cases above saw theirs); a wrong name makes the exit code non-zero. */
int main(int argc, char **argv) {
    int failed = beryl_test_run_all(argc, argv);
    if (beryl_test_in_death_child())
        return failed;
    char name[ZX_MAX_NAME_LEN];
    own_thread_name(name);
    if (strcmp(name, "main") != 0) {
        printf("framework_selftest: thread named \"%s\" after the cases, expected \"main\"\n",
               name);
        return failed + 1;
    }
    return failed;
}
