/*
 * Changes to a mapping or its VMO are seen at once by the other threads of the process:
 * a worker thread touches one word in a loop (so its translation is warm) while the main
 * thread protects, unmaps, shrinks or decommits under it. protect / unmap / shrink must
 * kill the process at the worker's next access (death tests); after a decommit the
 * worker reads zeros, and after a commit by syscall it reads the new page.
 */
#include "vm_util.h"

/* Death-child exit codes (anything but KILLED is a failure of a "dies" case). */
#define NO_PROGRESS 0x52  /* the worker never got going */
#define STALE_ACCESS 0x53 /* the worker went on touching the page after the change */

/* A worker that reads (or writes) one word in a loop; `count` goes up after each access. */
typedef struct looper {
    zx_vaddr_t addr;
    bool write;
    volatile bool stop;
    volatile uint64_t last;
    volatile uint64_t count;
} looper_t;

static void looper_fn(uintptr_t arg, uintptr_t unused) {
    (void)unused;
    looper_t *l = (looper_t *)arg;
    while (!l->stop) {
        uint64_t v;
        if (l->write) {
            v = l->count;
            wr64(l->addr, v);
        } else {
            v = rd64(l->addr);
        }
        l->last = v;
        l->count = l->count + 1;
    }
    zx_thread_exit();
}

/* Sleeps in 1 ms steps until l->count >= n or the deadline passes. */
static bool wait_count(looper_t *l, uint64_t n, zx_duration_t timeout) {
    zx_time_t deadline = zx_deadline_after(timeout);
    while (l->count < n) {
        if (zx_clock_get_monotonic() > deadline)
            return false;
        zx_nanosleep(zx_deadline_after(TU_MS));
    }
    return true;
}

enum change { CH_PROTECT_NONE, CH_UNMAP, CH_PROTECT_READ, CH_SHRINK };

/*
 * Death-child body: a worker touches addr in a loop; once its translation is warm, this
 * thread makes `change` and gives the worker time to run on. The worker's next access
 * must kill the process; if it does not (or the worker keeps accessing), this returns
 * or exits with a code that is not KILLED.
 */
static void change_under_worker(zx_vaddr_t addr, bool write, enum change change,
                                zx_vaddr_t base, size_t len, zx_handle_t vmo) {
    static looper_t l;
    static tu_thread_t t;
    l.addr = addr;
    l.write = write;
    if (tu_thread_create(&t) != ZX_OK || tu_thread_start(&t, looper_fn, (uintptr_t)&l, 0))
        zx_process_exit(NO_PROGRESS);
    if (!wait_count(&l, 100, 5 * TU_SEC))
        zx_process_exit(NO_PROGRESS);
    zx_status_t st = ZX_ERR_INTERNAL;
    switch (change) {
    case CH_PROTECT_NONE: st = zx_vmar_protect(zx_vmar_root_self(), 0, base, len); break;
    case CH_PROTECT_READ:
        st = zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, base, len);
        break;
    case CH_UNMAP: st = zx_vmar_unmap(zx_vmar_root_self(), base, len); break;
    case CH_SHRINK: st = zx_vmo_set_size(vmo, PAGE); break;
    }
    if (st != ZX_OK)
        zx_process_exit(0x50);
    uint64_t c0 = l.count;
    /* One access may have been made before the change and counted after it. */
    wait_count(&l, c0 + 2, 2 * TU_SEC);
    if (l.count > c0 + 1)
        zx_process_exit(STALE_ACCESS);
}

TEST(VmThread, ReaderDiesOnProtectToNone) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_DEATH(change_under_worker(a, false, CH_PROTECT_NONE, a, PAGE, vmo), KILLED);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(VmThread, ReaderDiesOnUnmap) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_DEATH(change_under_worker(a + 8, false, CH_UNMAP, a, PAGE, vmo), KILLED);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(VmThread, WriterDiesOnProtectToReadOnly) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_DEATH(change_under_worker(a, true, CH_PROTECT_READ, a, PAGE, vmo), KILLED);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

/* The control: the same protect under a reader is harmless. */
TEST(VmThread, ReaderSurvivesProtectToReadOnly) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_DEATH(change_under_worker(a, false, CH_PROTECT_READ, a, PAGE, vmo),
                 STALE_ACCESS);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(VmThread, ReaderDiesOnShrink) {
    zx_handle_t vmo = patterned_vmo(2, ZX_VMO_RESIZABLE);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a = map(vmo, RW, 2 * PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_DEATH(change_under_worker(a + PAGE, false, CH_SHRINK, a, 2 * PAGE, vmo), KILLED);
    unmap(a, 2 * PAGE);
    zx_handle_close(vmo);
}

TEST(VmThread, ReaderSeesDecommitThenCommit) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, PAGE);
    ASSERT_NE(a, 0u);
    wr64(a, 0xaa);
    looper_t l;
    memset(&l, 0, sizeof(l));
    l.addr = a;
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, looper_fn, (uintptr_t)&l, 0));
    EXPECT_TRUE(wait_count(&l, 100, 5 * TU_SEC));
    EXPECT_EQ(l.last, 0xaau);
    EXPECT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_DECOMMIT, 0, PAGE, NULL, 0));
    uint64_t c0 = l.count;
    EXPECT_TRUE(wait_count(&l, c0 + 2, 5 * TU_SEC));
    EXPECT_EQ(l.last, 0u); /* not the freed page's old contents */
    /* The worker now reads an uncommitted page; a commit by a syscall must reach it. */
    uint64_t v = 0xbb;
    EXPECT_OK(zx_vmo_write(vmo, &v, 0, sizeof(v)));
    c0 = l.count;
    EXPECT_TRUE(wait_count(&l, c0 + 2, 5 * TU_SEC));
    EXPECT_EQ(l.last, 0xbbu);
    l.stop = true;
    EXPECT_OK(tu_thread_join(&t, 5 * TU_SEC));
    tu_thread_destroy(&t);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

/* The worker blocks forever in a wait; the main thread's fault must end the process. */
static void blocker_fn(uintptr_t ch, uintptr_t unused) {
    (void)unused;
    zx_object_wait_one((zx_handle_t)ch, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE, NULL);
    zx_thread_exit();
}

static void fault_beside_blocked_worker(zx_vaddr_t a) {
    static tu_thread_t t;
    zx_handle_t c0, c1;
    if (zx_channel_create(0, &c0, &c1) != ZX_OK || tu_thread_create(&t) != ZX_OK ||
        tu_thread_start(&t, blocker_fn, c0, 0) != ZX_OK)
        zx_process_exit(NO_PROGRESS);
    zx_nanosleep(zx_deadline_after(5 * TU_MS)); /* let the worker block */
    rd64(a);
}

/* The main thread blocks forever; the worker's fault must end the process. */
static void fault_while_main_blocked(zx_vaddr_t a) {
    static looper_t l;
    static tu_thread_t t;
    zx_handle_t c0, c1;
    l.addr = a;
    if (zx_channel_create(0, &c0, &c1) != ZX_OK || tu_thread_create(&t) != ZX_OK ||
        tu_thread_start(&t, looper_fn, (uintptr_t)&l, 0) != ZX_OK ||
        !wait_count(&l, 100, 5 * TU_SEC))
        zx_process_exit(NO_PROGRESS);
    if (zx_vmar_protect(zx_vmar_root_self(), 0, a, PAGE) != ZX_OK)
        zx_process_exit(0x50);
    zx_object_wait_one(c0, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE, NULL);
}

TEST(VmThread, FaultEndsProcessWithBlockedThreads) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, 0, PAGE), b = map(vmo, ZX_VM_PERM_READ, PAGE);
    ASSERT_NE(a, 0u);
    ASSERT_NE(b, 0u);
    EXPECT_DEATH(fault_beside_blocked_worker(a), KILLED);
    EXPECT_DEATH(fault_while_main_blocked(b), KILLED);
    unmap(a, PAGE);
    unmap(b, PAGE);
    zx_handle_close(vmo);
}
