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
        zx_nanosleep(tu_deadline_after(2 * TU_MS)); /* the child runs meanwhile */
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
        zx_nanosleep(tu_deadline_after(2 * TU_MS));
        seen |= selectors();
    }
    __atomic_store_n(&worker_stop, true, __ATOMIC_RELAXED);
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    tu_thread_destroy(&t);
    EXPECT_EQ(seen, 0u);
}

TEST(Segments, OwnSelectorsAreNullAfterASwitch) {
    load_selectors(USER_DATA_SELECTOR);
    EXPECT_EQ(selectors(), USER_DATA_SELECTOR); /* loading them works */
    zx_nanosleep(tu_deadline_after(TU_MS));     /* blocks: another thread runs */
    EXPECT_EQ(selectors(), 0u);
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
