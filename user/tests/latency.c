/*
 * Bounded latency: operations whose cost user space chooses (sizes, counts) must not run
 * with interrupts off for long (docs/architecture.md, "Bounded latency").
 *
 * Each case drives one such operation at a size much larger than any other test uses and
 * checks that it works; after it, the kernel's longest interrupts-off stretch so far
 * (BERYL_INFO_IRQOFF) is printed with the case's name. The bound itself is asserted by
 * the kernel at the end of the boot (`irqoff.limit_ns=N`, in the ctest that runs the suite
 * under -icount, where the figure is an exact instruction count); this program supplies
 * the load and shows which operation set the figure.
 */
#include <beryl/kernel_info.h>
#include <beryl/launch.h>
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <zircon/processargs.h>

#define BIG_BYTES ((size_t)32 << 20) /* paged VMO operations */
#define MANY_HANDLES 40000u          /* handle-table growth */
#define BACKLOG_MESSAGES 2000u       /* queued channel messages, each carrying a handle */
#define WAITERS 1000u                /* threads woken at once */
#define MANY_MAPPINGS 2000u          /* mappings in one VMAR */

static void report(const char *what) {
    beryl_info_irqoff_t io;
    memset(&io, 0, sizeof(io));
    if (zx_object_get_info(beryl_resource(), BERYL_INFO_IRQOFF, &io, sizeof(io), NULL, NULL) ==
        ZX_OK)
        printf("latency: after %s: longest interrupts-off stretch so far %lu ns\n", what,
               (unsigned long)io.max_ns);
}

TEST(Latency, InfoTopicNeedsTheRootResource) {
    beryl_info_irqoff_t io;
    EXPECT_OK(zx_object_get_info(beryl_resource(), BERYL_INFO_IRQOFF, &io, sizeof(io), NULL,
                                 NULL));
    EXPECT_GT(io.max_ticks, 0u);
    EXPECT_NE(io.start_pc, 0u);
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    EXPECT_STATUS(zx_object_get_info(vmo, BERYL_INFO_IRQOFF, &io, sizeof(io), NULL, NULL),
                  ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_object_get_info(beryl_resource(), BERYL_INFO_IRQOFF, &io, 8, NULL, NULL),
                  ZX_ERR_BUFFER_TOO_SMALL);
    zx_handle_close(vmo);
}

TEST(Latency, CommitAndDecommitABigVmo) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(BIG_BYTES, 0, &vmo));
    EXPECT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, 0, BIG_BYTES, NULL, 0));
    EXPECT_EQ(tu_vmo_info(vmo).committed_bytes, BIG_BYTES);
    EXPECT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_DECOMMIT, 0, BIG_BYTES, NULL, 0));
    EXPECT_EQ(tu_vmo_info(vmo).committed_bytes, 0u);
    EXPECT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, 0, BIG_BYTES, NULL, 0));
    zx_handle_close(vmo); /* the last handle frees every page */
    report("commit/decommit/free 32 MiB");
}

TEST(Latency, MapRangeProtectUnmapABigMapping) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(BIG_BYTES, 0, &vmo));
    ASSERT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, 0, BIG_BYTES, NULL, 0));
    zx_vaddr_t addr = 0;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(),
                          ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_MAP_RANGE, 0, vmo, 0,
                          BIG_BYTES, &addr));
    volatile uint8_t *p = (volatile uint8_t *)addr;
    p[BIG_BYTES - 1] = 7;
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, addr, BIG_BYTES));
    EXPECT_EQ(p[BIG_BYTES - 1], 7u);
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), addr, BIG_BYTES));
    zx_handle_close(vmo);
    report("map_range/protect/unmap 32 MiB");
}

TEST(Latency, HandleTableGrowsAndIsWalked) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    zx_handle_t *h = malloc(MANY_HANDLES * sizeof(zx_handle_t));
    ASSERT_NONNULL(h);
    uint32_t made = 0;
    while (made < MANY_HANDLES && zx_handle_duplicate(vmo, ZX_RIGHT_SAME_RIGHTS, &h[made]) == ZX_OK)
        made++;
    EXPECT_EQ(made, MANY_HANDLES);
    /* ZX_INFO_PROCESS_VMOS walks every handle of the process. */
    size_t actual = 0, avail = 0;
    EXPECT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, NULL, 0, &actual,
                                 &avail));
    EXPECT_GT(avail, (size_t)made);
    EXPECT_OK(zx_handle_close_many(h, made));
    free(h);
    zx_handle_close(vmo);
    report("40,000 handles created, walked, closed");
}

TEST(Latency, LongChannelBacklogIsFreed) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    uint32_t sent = 0;
    for (; sent < BACKLOG_MESSAGES; sent++) {
        zx_handle_t e0, e1;
        if (zx_channel_create(0, &e0, &e1) != ZX_OK)
            break;
        zx_handle_close(e1);
        if (zx_channel_write(c0, 0, &sent, sizeof(sent), &e0, 1) != ZX_OK)
            break;
    }
    EXPECT_EQ(sent, BACKLOG_MESSAGES);
    zx_handle_close(c1); /* the queue (and every endpoint in it) goes */
    zx_handle_close(c0);
    report("2,000-message backlog freed");
}

struct waiter_ctx {
    zx_handle_t channel;
    volatile uint32_t woken;
};

static void waiter(uintptr_t arg, uintptr_t unused) {
    (void)unused;
    struct waiter_ctx *c = (struct waiter_ctx *)arg;
    if (zx_object_wait_one(c->channel, ZX_CHANNEL_READABLE, zx_deadline_after(30 * TU_SEC),
                           NULL) == ZX_OK)
        __atomic_fetch_add(&c->woken, 1, __ATOMIC_RELAXED);
    zx_thread_exit();
}

static tu_thread_t threads[WAITERS];

TEST(Latency, ManyWaitersWokenAtOnce) {
    struct waiter_ctx c = {0};
    zx_handle_t other;
    ASSERT_OK(zx_channel_create(0, &c.channel, &other));
    tu_thread_t *t = threads;
    uint32_t started = 0;
    for (; started < WAITERS; started++) {
        if (tu_thread_create(&t[started]) != ZX_OK)
            break;
        if (tu_thread_start(&t[started], waiter, (uintptr_t)&c, 0) != ZX_OK) {
            tu_thread_destroy(&t[started]);
            break;
        }
    }
    EXPECT_EQ(started, WAITERS);
    zx_nanosleep(zx_deadline_after(200 * TU_MS)); /* let them block */
    EXPECT_OK(zx_channel_write(other, 0, "x", 1, NULL, 0));
    for (uint32_t i = 0; i < started; i++) {
        EXPECT_OK(tu_thread_join(&t[i], 30 * TU_SEC));
        tu_thread_destroy(&t[i]);
    }
    EXPECT_EQ(c.woken, started);
    zx_handle_close(other);
    zx_handle_close(c.channel);
    report("1,000 waiters woken");
}

static void sleeper(uintptr_t deadline, uintptr_t unused) {
    (void)unused;
    zx_nanosleep((zx_time_t)deadline);
    zx_thread_exit();
}

TEST(Latency, ManySleepersWithDistinctDeadlines) {
    /* Each new deadline is later than every earlier one: the worst case for a sorted
     * list of sleepers. */
    zx_time_t base = zx_deadline_after(300 * TU_MS);
    uint32_t started = 0;
    for (; started < WAITERS; started++) {
        if (tu_thread_create(&threads[started]) != ZX_OK)
            break;
        if (tu_thread_start(&threads[started], sleeper,
                            (uintptr_t)(base + (zx_time_t)started * 1000), 0) != ZX_OK) {
            tu_thread_destroy(&threads[started]);
            break;
        }
    }
    EXPECT_EQ(started, WAITERS);
    for (uint32_t i = 0; i < started; i++) {
        EXPECT_OK(tu_thread_join(&threads[i], 30 * TU_SEC));
        tu_thread_destroy(&threads[i]);
    }
    EXPECT_GE(zx_clock_get_monotonic(), base);
    report("1,000 sleepers with distinct deadlines");
}

TEST(Latency, ManyMappingsPlacedAndDestroyed) {
    zx_handle_t vmar;
    zx_vaddr_t base;
    const size_t span = (size_t)MANY_MAPPINGS * 4 * TU_PAGE;
    ASSERT_OK(zx_vmar_allocate(zx_vmar_root_self(),
                               ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC,
                               0, span, &vmar, &base));
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    uint32_t mapped = 0;
    for (; mapped < MANY_MAPPINGS; mapped++) {
        zx_vaddr_t a;
        /* Randomised placement walks the holes of the VMAR. */
        if (zx_vmar_map(vmar, ZX_VM_PERM_READ, 0, vmo, 0, TU_PAGE, &a) != ZX_OK)
            break;
    }
    EXPECT_EQ(mapped, MANY_MAPPINGS);
    EXPECT_OK(zx_vmar_destroy(vmar));
    zx_handle_close(vmar);
    zx_handle_close(vmo);
    report("2,000 mappings placed and destroyed");
}

/* --- a process with many blocked threads, killed --- */

static void blocked_forever(uintptr_t handle, uintptr_t unused) {
    (void)unused;
    zx_object_wait_one((zx_handle_t)handle, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE, NULL);
    zx_thread_exit();
}

/* Child: starts `count` threads that block for good, reports how many it started on
 * its PA_USER1 channel, then blocks too. */
static int run_blocked_threads(uint32_t count) {
    zx_handle_t report_ch = beryl_take_startup_handle(PA_HND(PA_USER1, 0));
    zx_handle_t quiet, other;
    if (zx_channel_create(0, &quiet, &other) != ZX_OK)
        return 1;
    uint32_t started = 0;
    for (; started < count; started++) {
        if (tu_thread_create(&threads[started]) != ZX_OK ||
            tu_thread_start(&threads[started], blocked_forever, quiet, 0) != ZX_OK)
            break;
    }
    zx_channel_write(report_ch, 0, &started, sizeof(started), NULL, 0);
    zx_object_wait_one(quiet, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE, NULL);
    return 0;
}

TEST(Latency, ProcessWithManyBlockedThreadsKilled) {
    zx_handle_t exe = beryl_get_startup_handle(PA_HND(PA_VMO_EXECUTABLE, 0));
    ASSERT_NE(exe, ZX_HANDLE_INVALID);
    zx_handle_t mine, theirs;
    ASSERT_OK(zx_channel_create(0, &mine, &theirs));
    const char *argv[] = {"latency", "--blocked-threads"};
    uint32_t info = PA_HND(PA_USER1, 0);
    beryl_launch_args_t a = {.job = zx_job_default(), .name = "many-threads", .exe_vmo = exe,
                             .argc = 2, .argv = argv, .handles = &theirs,
                             .handle_infos = &info, .num_handles = 1};
    zx_handle_t child;
    ASSERT_OK(beryl_launch(&a, &child));
    uint32_t started = 0;
    EXPECT_OK(zx_object_wait_one(mine, ZX_CHANNEL_READABLE, zx_deadline_after(60 * TU_SEC),
                                 NULL));
    EXPECT_OK(zx_channel_read(mine, 0, &started, NULL, sizeof(started), 0, NULL, NULL));
    EXPECT_EQ(started, WAITERS);
    zx_nanosleep(zx_deadline_after(200 * TU_MS)); /* let them block */
    EXPECT_OK(zx_task_kill(child));
    int64_t rc = 0;
    EXPECT_OK(beryl_wait_exit(child, zx_deadline_after(60 * TU_SEC), &rc));
    EXPECT_EQ(rc, ZX_TASK_RETCODE_SYSCALL_KILL);
    zx_handle_close(child);
    zx_handle_close(mine);
    report("a process with 1,000 blocked threads killed");
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--blocked-threads") == 0)
        return run_blocked_threads(WAITERS);
    return beryl_test_run_all(argc, argv);
}
