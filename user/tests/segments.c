/*
 * The data segment selectors DS, ES, FS and GS are registers user code can load (with the
 * user data selector, or null). The kernel never uses them, so without care one thread's
 * values would be what the next thread finds, in any process: a channel between
 * processes, and a stale FS / GS base (loading FS or GS replaces the base register). The
 * kernel sets them back to null whenever it switches to a user thread, so a thread reads
 * null selectors after any switch, never another thread's.
 */
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdlib.h>

#define USER_DATA_SELECTOR 0x1bu /* GDT entry 3 (user data), RPL 3 */
#define ROUNDS 12

static inline void load_selectors(uint16_t sel) {
    __asm__ volatile("mov %0, %%ds; mov %0, %%es; mov %0, %%fs; mov %0, %%gs" ::"r"(
                         (uint32_t)sel)
                     : "memory");
}

/* The four selectors OR-ed together (0: all null). */
static inline uint16_t selectors(void) {
    uint16_t ds, es, fs, gs;
    __asm__ volatile("mov %%ds, %0; mov %%es, %1; mov %%fs, %2; mov %%gs, %3"
                     : "=r"(ds), "=r"(es), "=r"(fs), "=r"(gs));
    return ds | es | fs | gs;
}

/* Child mode: keeps the selectors loaded while it spins, until it is killed. */
static int dirty_forever(void) {
    for (;;)
        load_selectors(USER_DATA_SELECTOR);
}

TEST(Segments, AnotherProcessesSelectorsNeverShowThrough) {
    const char *argv[] = {"segments", "--dirty"};
    zx_handle_t child;
    ASSERT_OK(tu_launch_self("dirty-selectors", 2, argv, ZX_HANDLE_INVALID, &child));
    uint16_t seen = 0;
    for (int i = 0; i < ROUNDS; i++) {
        zx_nanosleep(zx_deadline_after(2 * TU_MS)); /* the child runs meanwhile */
        seen |= selectors();
    }
    EXPECT_EQ(seen, 0u);
    tu_task_kill_wait(child);
    zx_handle_close(child);
}

static volatile bool worker_stop;

static void dirty_worker(uintptr_t unused1, uintptr_t unused2) {
    (void)unused1;
    (void)unused2;
    while (!__atomic_load_n(&worker_stop, __ATOMIC_RELAXED))
        load_selectors(USER_DATA_SELECTOR);
    load_selectors(0);
    zx_thread_exit();
}

TEST(Segments, AnotherThreadsSelectorsNeverShowThrough) {
    worker_stop = false;
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, dirty_worker, 0, 0));
    uint16_t seen = 0;
    for (int i = 0; i < ROUNDS; i++) {
        zx_nanosleep(zx_deadline_after(2 * TU_MS));
        seen |= selectors();
    }
    __atomic_store_n(&worker_stop, true, __ATOMIC_RELAXED);
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    tu_thread_destroy(&t);
    EXPECT_EQ(seen, 0u);
}

/* Waits until the thread (arg1) is blocked in a wait, then writes to the channel (arg2)
 * it waits on: so the thread surely switched away (a sleep whose deadline has passed by
 * the time it reaches the kernel would not block). */
static void wake_when_blocked(uintptr_t thread, uintptr_t channel) {
    zx_info_thread_t ti;
    do {
        zx_nanosleep(zx_deadline_after(TU_MS));
        memset(&ti, 0, sizeof(ti));
        zx_object_get_info((zx_handle_t)thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL);
    } while (ti.state != ZX_THREAD_STATE_BLOCKED_WAIT_ONE);
    zx_channel_write((zx_handle_t)channel, 0, "x", 1, NULL, 0);
    zx_thread_exit();
}

TEST(Segments, OwnSelectorsAreNullAfterASwitch) {
    zx_handle_t mine, theirs;
    ASSERT_OK(zx_channel_create(0, &mine, &theirs));
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    load_selectors(USER_DATA_SELECTOR);
    EXPECT_EQ(selectors(), USER_DATA_SELECTOR); /* loading them works */
    /* The test runs in the process's first thread, which zx_thread_self() names. */
    ASSERT_OK(tu_thread_start(&t, wake_when_blocked, zx_thread_self(), theirs));
    /* Blocks until the other thread sees it blocked: it switches away and back. */
    EXPECT_OK(zx_object_wait_one(mine, ZX_CHANNEL_READABLE, zx_deadline_after(10 * TU_SEC),
                                 NULL));
    EXPECT_EQ(selectors(), 0u);
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    tu_thread_destroy(&t);
    zx_handle_close(mine);
    zx_handle_close(theirs);
    /* Code keeps working with null selectors (64-bit mode ignores DS and ES). */
    volatile int x = 41;
    x++;
    EXPECT_EQ(x, 42);
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--dirty") == 0)
        return dirty_forever();
    return beryl_test_run_all(argc, argv);
}
