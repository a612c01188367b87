/*
 * Shared process families in handle cycles are collected. While no member of a family
 * runs, its handle table can only be used by starting a member or creating one from a
 * member; so when the only handles to its members sit in its own table, or in channel
 * queues reachable only from it, or in the table of another such family, nothing can
 * ever use them: the kernel kills the unstarted members and frees the table and the
 * shared region (about 800 KiB each), before the syscall that made them unreachable
 * returns (or as the last running member exits). A family that some handle outside still
 * reaches is left alone and can be started again.
 *
 * Observers: a channel endpoint put into the family table (its peer, kept by the test,
 * sees PEER_CLOSED when the table is freed) and a thread created, never started, in the
 * member whose handle is given away (its handle, kept by the test, does not keep the
 * family alive and sees ZX_THREAD_TERMINATED when the member is killed).
 *
 * Code that runs in a member is this program launched with `--member SCENARIO ARG`
 * (family_util.h, member_main below).
 */
#include <beryl/test.h>
#include <stdlib.h>
#include "family_util.h"

#define PROG "family_cycles"
#define MAGIC_NONE 0

/* ---- the member side ---- */

static int member_main(const char *scenario, uint64_t arg) {
    if (strcmp(scenario, "exit") == 0)
        return 0; /* everything it was given stays in the family's table */
    if (strcmp(scenario, "fill") == 0) {
        /* Leaves `arg` more handles (empty VMOs) in the family table. */
        for (uint64_t i = 0; i < arg; i++) {
            zx_handle_t v;
            if (zx_vmo_create(0, 0, &v) != ZX_OK)
                return 4;
        }
        return 0;
    }
    if (strcmp(scenario, "wait") == 0) {
        /* Until the channel given as PA_USER0 + arg is readable or its peer closes. */
        zx_handle_t h = beryl_get_startup_handle(PA_HND(PA_USER0, (uint32_t)arg));
        zx_status_t st = zx_object_wait_one(h, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
                                            tu_deadline_after(20 * TU_SEC), NULL);
        return st == ZX_OK ? 0 : 2;
    }
    volatile uint64_t *slot = (volatile uint64_t *)(uintptr_t)arg;
    if (strcmp(scenario, "publish") == 0) {
        /* Leaves the value of its PA_USER0 handle in the shared region. */
        *slot = beryl_get_startup_handle(PA_HND(PA_USER0, 0));
        return 0;
    }
    if (strcmp(scenario, "signal") == 0) {
        /* Writes through the handle value another member published. */
        zx_handle_t h = (zx_handle_t)*slot;
        return zx_channel_write(h, 0, "s", 1, NULL, 0) == ZX_OK ? 0 : 3;
    }
    printf("member: unknown scenario %s\n", scenario);
    return 99;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "--member") == 0)
        return member_main(argv[2], strtoul(argv[3], NULL, 16));
    if (argc >= 2 && strcmp(argv[1], "--hold") == 0) {
        /* An ordinary child that keeps the handle it was given until it exits. */
        return beryl_take_startup_handle(PA_HND(PA_USER0, 0)) != ZX_HANDLE_INVALID ? 0 : 1;
    }
    return beryl_test_run_all(argc, argv);
}

/* ---- the test side ---- */

static bool peer_closed(zx_handle_t h) {
    zx_signals_t s = 0;
    zx_object_wait_one(h, ZX_CHANNEL_PEER_CLOSED, 0, &s);
    return (s & ZX_CHANNEL_PEER_CLOSED) != 0;
}

static bool terminated(zx_handle_t task) {
    zx_signals_t s = 0;
    zx_object_wait_one(task, ZX_TASK_TERMINATED, 0, &s);
    return (s & ZX_TASK_TERMINATED) != 0;
}

/* An unstarted thread in member i of f: its handle observes the member's death. */
static zx_handle_t watch_member(family_t *f, int i) {
    zx_handle_t t = ZX_HANDLE_INVALID;
    zx_thread_create(f->proc[i], "watch", 5, 0, &t);
    return t;
}

/* Starts member i with `scenario`, giving it the handles extra[0..n) (consumed; a handle
 * in f->proc[] that is given away must be set to ZX_HANDLE_INVALID by the caller). */
static zx_status_t start(family_t *f, int i, const char *scenario, uint64_t arg,
                         zx_handle_t *extra, uint32_t n) {
    return fam_start(f, i, PROG, scenario, arg, extra, n);
}

/* The leak: member 1's only handle goes into the family table through the
 * start of member 0, which exits. The family stays while a handle to any member is kept
 * (the prototype, or dead member 0, could still start or prototype a member that uses
 * the table) and goes with the last one. */
TEST(FamilyCycles, StarterDiesMemberOnlyInFamilyTable) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    zx_handle_t o0, o1;
    ASSERT_OK(zx_channel_create(0, &o0, &o1));
    zx_handle_t t1 = watch_member(&f, 1);
    ASSERT_NE(t1, ZX_HANDLE_INVALID);
    zx_handle_t give[] = {f.proc[1], o1};
    f.proc[1] = ZX_HANDLE_INVALID;
    ASSERT_OK(start(&f, 0, "exit", 0, give, 2));
    EXPECT_EQ(fam_wait(&f, 0), 0);
    EXPECT_FALSE(peer_closed(o0));
    /* The prototype goes (never started: it dies); dead member 0 still reaches it. */
    fam_close(&f.proto);
    EXPECT_FALSE(peer_closed(o0));
    EXPECT_FALSE(terminated(t1));
    zx_handle_t p2, v2;
    EXPECT_OK(zx_process_create_shared(f.proc[0], 0, "late", 4, &p2, &v2));
    zx_handle_close(v2);
    zx_handle_close(p2); /* unstarted, no handle left: dies at once */
    EXPECT_FALSE(peer_closed(o0));
    /* The last member handle outside: member 1 is killed, the table freed. */
    fam_close(&f.proc[0]);
    EXPECT_TRUE(peer_closed(o0));
    EXPECT_TRUE(terminated(t1));
    zx_handle_close(o0);
    zx_handle_close(t1);
    family_destroy(&f);
}

/* Twenty rounds of that leave the kernel's free memory where it was. */
TEST(FamilyCycles, RepeatedRoundsGiveMemoryBack) {
    zx_handle_t res = beryl_resource();
    uint64_t before = 0;
    for (int round = 0; round <= 20; round++) {
        if (round == 1)
            before = tu_kmem_free(res); /* round 0 warms caches up */
        family_t f;
        ASSERT_OK(family_create(&f, 2));
        zx_handle_t give = f.proc[1];
        f.proc[1] = ZX_HANDLE_INVALID;
        ASSERT_NE(fam_map_shared_page(&f, NULL), 0u); /* something in the shared region */
        ASSERT_OK(start(&f, 0, "exit", 0, &give, 1));
        ASSERT_EQ(fam_wait(&f, 0), 0);
        fam_close(&f.proc[0]);
        fam_close(&f.proto);
        family_destroy(&f);
    }
    /* A leak would be about 800 KiB per round; allow for thread stacks the reaper has
     * not freed yet (retried) and nothing else. */
    uint64_t after = 0;
    for (int i = 0; i < 50; i++) {
        after = tu_kmem_free(res);
        if (after + 64 * 1024 >= before)
            break;
        zx_nanosleep(tu_deadline_after(10 * TU_MS));
    }
    EXPECT_GE(after + 64 * 1024, before);
}

/* The table holds an endpoint whose queue holds the only handle to member 1. */
TEST(FamilyCycles, MemberInQueueOfEndpointInTable) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    zx_handle_t x0, x1;
    ASSERT_OK(zx_channel_create(0, &x0, &x1));
    zx_handle_t t1 = watch_member(&f, 1);
    ASSERT_OK(zx_channel_write(x0, 0, "m", 1, &f.proc[1], 1));
    f.proc[1] = ZX_HANDLE_INVALID;
    EXPECT_FALSE(terminated(t1)); /* x1 is still ours: member 1 is reachable */
    ASSERT_OK(start(&f, 0, "exit", 0, &x1, 1));
    EXPECT_EQ(fam_wait(&f, 0), 0);
    fam_close(&f.proc[0]);
    EXPECT_FALSE(peer_closed(x0));
    fam_close(&f.proto);
    EXPECT_TRUE(peer_closed(x0)); /* x1 closed with the table */
    EXPECT_TRUE(terminated(t1));
    zx_handle_close(x0);
    zx_handle_close(t1);
    family_destroy(&f);
}

/* A queue holds the only handle to member 1; the table holds that queue's endpoint and
 * its peer. */
TEST(FamilyCycles, BothEndsInTableQueueHoldsMember) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    zx_handle_t y0, y1, o0, o1;
    ASSERT_OK(zx_channel_create(0, &y0, &y1));
    ASSERT_OK(zx_channel_create(0, &o0, &o1));
    zx_handle_t t1 = watch_member(&f, 1);
    ASSERT_OK(zx_channel_write(y0, 0, "m", 1, &f.proc[1], 1));
    f.proc[1] = ZX_HANDLE_INVALID;
    zx_handle_t give[] = {y0, y1, o1};
    ASSERT_OK(start(&f, 0, "exit", 0, give, 3));
    EXPECT_EQ(fam_wait(&f, 0), 0);
    fam_close(&f.proto);
    EXPECT_FALSE(peer_closed(o0));
    fam_close(&f.proc[0]);
    EXPECT_TRUE(peer_closed(o0));
    EXPECT_TRUE(terminated(t1));
    zx_handle_close(o0);
    zx_handle_close(t1);
    family_destroy(&f);
}

/* Two families, each holding the only handle to an unstarted member of the other. */
TEST(FamilyCycles, NestedFamilies) {
    family_t f, g;
    ASSERT_OK(family_create(&f, 2));
    ASSERT_OK(family_create(&g, 2));
    zx_handle_t o0, o1, p0, p1;
    ASSERT_OK(zx_channel_create(0, &o0, &o1));
    ASSERT_OK(zx_channel_create(0, &p0, &p1));
    zx_handle_t tf = watch_member(&f, 1), tg = watch_member(&g, 1);
    zx_handle_t to_f[] = {g.proc[1], o1}, to_g[] = {f.proc[1], p1};
    f.proc[1] = g.proc[1] = ZX_HANDLE_INVALID;
    ASSERT_OK(start(&f, 0, "exit", 0, to_f, 2));
    ASSERT_OK(start(&g, 0, "exit", 0, to_g, 2));
    EXPECT_EQ(fam_wait(&f, 0), 0);
    EXPECT_EQ(fam_wait(&g, 0), 0);
    fam_close(&f.proc[0]);
    fam_close(&g.proc[0]);
    fam_close(&f.proto);
    /* g's prototype reaches g's table, which holds f's member 1: f is reachable too. */
    EXPECT_FALSE(peer_closed(o0));
    EXPECT_FALSE(peer_closed(p0));
    EXPECT_FALSE(terminated(tf));
    fam_close(&g.proto);
    EXPECT_TRUE(peer_closed(o0));
    EXPECT_TRUE(peer_closed(p0));
    EXPECT_TRUE(terminated(tf));
    EXPECT_TRUE(terminated(tg));
    zx_handle_t all[] = {o0, p0, tf, tg};
    EXPECT_OK(zx_handle_close_many(all, 4));
    family_destroy(&f);
    family_destroy(&g);
}

/* Every outside handle is gone while member 0 still runs (its table is a root); its
 * exit makes the family unreachable, and the family goes as it ends. */
TEST(FamilyCycles, ClosedByTheLastRunningMemberExiting) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    zx_handle_t o0, o1, w0, w1;
    ASSERT_OK(zx_channel_create(0, &o0, &o1));
    ASSERT_OK(zx_channel_create(0, &w0, &w1));
    zx_handle_t t1 = watch_member(&f, 1);
    zx_handle_t give[] = {w1, f.proc[1], o1};
    f.proc[1] = ZX_HANDLE_INVALID;
    ASSERT_OK(start(&f, 0, "wait", 0, give, 3)); /* waits on w1 (PA_USER0 + 0) */
    fam_close(&f.proc[0]);
    fam_close(&f.proto);
    for (int i = 0; i < FAM_MAX_MEMBERS; i++)
        fam_close(&f.rvmar[i]);
    fam_close(&f.shared_vmar);
    EXPECT_FALSE(peer_closed(o0));
    EXPECT_FALSE(terminated(t1));
    ASSERT_OK(zx_channel_write(w0, 0, "go", 2, NULL, 0));
    EXPECT_OK(zx_object_wait_one(o0, ZX_CHANNEL_PEER_CLOSED, tu_deadline_after(20 * TU_SEC),
                                 NULL));
    EXPECT_OK(zx_object_wait_one(t1, ZX_THREAD_TERMINATED, tu_deadline_after(20 * TU_SEC),
                                 NULL));
    zx_handle_t all[] = {o0, w0, t1};
    EXPECT_OK(zx_handle_close_many(all, 3));
}

/* A family nobody runs but the prototype's handle still reaches keeps its table: a new
 * member started later uses a handle that the first member left there. */
TEST(FamilyCycles, ReachableFamilyKeepsItsTable) {
    family_t f;
    ASSERT_OK(family_create(&f, 1));
    zx_vaddr_t slot = fam_map_shared_page(&f, NULL);
    ASSERT_NE(slot, 0u);
    zx_handle_t o0, o1;
    ASSERT_OK(zx_channel_create(0, &o0, &o1));
    ASSERT_OK(start(&f, 0, "publish", slot, &o1, 1));
    EXPECT_EQ(fam_wait(&f, 0), 0);
    fam_close(&f.proc[0]);
    EXPECT_FALSE(peer_closed(o0));
    ASSERT_OK(zx_process_create_shared(f.proto, 0, "again", 5, &f.proc[1], &f.rvmar[1]));
    ASSERT_OK(start(&f, 1, "signal", slot, NULL, 0));
    EXPECT_EQ(fam_wait(&f, 1), 0);
    char b = 0;
    uint32_t nb, nh;
    EXPECT_OK(zx_channel_read(o0, 0, &b, NULL, 1, 0, &nb, &nh));
    EXPECT_EQ(b, 's');
    family_destroy(&f); /* closes the last member handles: the table goes */
    EXPECT_TRUE(peer_closed(o0));
    zx_handle_close(o0);
}

/* A member handle in a queue that only the family's own table reaches, where the
 * family's prototype is never started: closing the prototype and its VMAR leaves nothing. */
TEST(FamilyCycles, UnstartedFamilyThroughAChannel) {
    family_t f;
    ASSERT_OK(family_create(&f, 1));
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    zx_handle_t t0 = watch_member(&f, 0);
    /* c1's queue holds member 0; c1 itself is in c1's own queue: unreachable at once,
     * and member 0 with it (its family is still reachable through the prototype). */
    ASSERT_OK(zx_channel_write(c0, 0, "m", 1, &f.proc[0], 1));
    f.proc[0] = ZX_HANDLE_INVALID;
    EXPECT_FALSE(terminated(t0));
    ASSERT_OK(zx_channel_write(c0, 0, "c", 1, &c1, 1));
    EXPECT_TRUE(peer_closed(c0));
    EXPECT_TRUE(terminated(t0));
    zx_handle_t all[] = {c0, t0};
    EXPECT_OK(zx_handle_close_many(all, 2));
    family_destroy(&f);
}

/* A family table of 20,000 handles is counted when its last running member exits and
 * freed with the family; the scans go a chunk of slots at a time (test/latency and
 * qemu.user_tests_irqoff bound the interrupts-off stretches this makes). */
TEST(FamilyCycles, LargeTableCollected) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    zx_handle_t o0, o1;
    ASSERT_OK(zx_channel_create(0, &o0, &o1));
    zx_handle_t give[] = {f.proc[1], o1};
    f.proc[1] = ZX_HANDLE_INVALID;
    ASSERT_OK(start(&f, 0, "fill", 20000, give, 2));
    EXPECT_EQ(fam_wait(&f, 0), 0);
    fam_close(&f.proc[0]);
    EXPECT_FALSE(peer_closed(o0));
    fam_close(&f.proto);
    EXPECT_TRUE(peer_closed(o0));
    zx_handle_close(o0);
    family_destroy(&f);
}

/* The last outside handle to a member (the prototype) is in an ordinary child process's
 * table: the child's exit closes it and the family goes before the child reports
 * ZX_TASK_TERMINATED. */
TEST(FamilyCycles, ClosedByAnotherProcessExiting) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    zx_handle_t o0, o1;
    ASSERT_OK(zx_channel_create(0, &o0, &o1));
    zx_handle_t give[] = {f.proc[1], o1};
    f.proc[1] = ZX_HANDLE_INVALID;
    ASSERT_OK(start(&f, 0, "exit", 0, give, 2));
    EXPECT_EQ(fam_wait(&f, 0), 0);
    fam_close(&f.proc[0]);
    const char *argv[] = {PROG, "--hold"};
    uint32_t info = PA_HND(PA_USER0, 0);
    zx_handle_t proto = f.proto;
    f.proto = ZX_HANDLE_INVALID;
    beryl_launch_args_t a = {
        .job = zx_job_default(),
        .name = "holder",
        .exe_vmo = beryl_get_startup_handle(PA_HND(PA_VMO_EXECUTABLE, 0)),
        .argc = 2,
        .argv = argv,
        .handles = &proto,
        .handle_infos = &info,
        .num_handles = 1,
    };
    zx_handle_t child;
    ASSERT_OK(beryl_launch(&a, &child));
    int64_t rc = -1;
    EXPECT_OK(beryl_wait_exit(child, tu_deadline_after(20 * TU_SEC), &rc));
    EXPECT_EQ(rc, 0);
    EXPECT_TRUE(peer_closed(o0));
    zx_handle_close(child);
    zx_handle_close(o0);
    family_destroy(&f);
}
