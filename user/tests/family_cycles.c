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
    if (strcmp(scenario, "drop-self") == 0) {
        /* Leaves no handle to itself in the family table. */
        return zx_handle_close(beryl_take_startup_handle(PA_HND(PA_PROC_SELF, 0))) == ZX_OK
                   ? 0
                   : 5;
    }
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
                                            zx_deadline_after(20 * TU_SEC), NULL);
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

/*
 * The setup of the leak: f gets a prototype and two unstarted members, and member
 * 0 is started with `scenario arg` and given member 1's only handle and one end of a new
 * channel (both sit in the family table from then on). *o0 is the channel's other end:
 * it sees PEER_CLOSED when the table is freed. If t1 is not NULL, *t1 is an unstarted
 * thread made in member 1 before its handle is given away (watch_member). Returns the
 * status of the first step that fails; what was made is in *f, *o0 and *t1 (invalid
 * otherwise) for the caller to clean up.
 */
static zx_status_t start_member0_holding_member1(family_t *f, const char *scenario,
                                                 uint64_t arg, zx_handle_t *o0,
                                                 zx_handle_t *t1) {
    zx_handle_t o1;
    *o0 = ZX_HANDLE_INVALID;
    if (t1 != NULL)
        *t1 = ZX_HANDLE_INVALID;
    zx_status_t st = family_create(f, 2);
    if (st == ZX_OK)
        st = zx_channel_create(0, o0, &o1);
    if (st != ZX_OK)
        return st;
    if (t1 != NULL && (st = zx_thread_create(f->proc[1], "watch", 5, 0, t1)) != ZX_OK) {
        zx_handle_close(o1);
        return st;
    }
    zx_handle_t give[] = {f->proc[1], o1};
    f->proc[1] = ZX_HANDLE_INVALID;
    return start(f, 0, scenario, arg, give, 2);
}

/* The leak: member 1's only handle goes into the family table through the
 * start of member 0, which exits. The family stays while a handle to any member is kept
 * (the prototype, or dead member 0, could still start or prototype a member that uses
 * the table) and goes with the last one. */
TEST(FamilyCycles, StarterDiesMemberOnlyInFamilyTable) {
    family_t f;
    zx_handle_t o0, t1;
    ASSERT_OK(start_member0_holding_member1(&f, "exit", 0, &o0, &t1));
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

/* The same, but the exited member left no handle to itself in the table: closing the
 * test's handle to it is the close of its last handle, which lets the family go. */
TEST(FamilyCycles, DeadMembersLastHandleClosed) {
    family_t f;
    zx_handle_t o0;
    ASSERT_OK(start_member0_holding_member1(&f, "drop-self", 0, &o0, NULL));
    EXPECT_EQ(fam_wait(&f, 0), 0);
    fam_close(&f.proto);
    EXPECT_FALSE(peer_closed(o0)); /* dead member 0 can still prototype a new member */
    fam_close(&f.proc[0]);
    EXPECT_TRUE(peer_closed(o0));
    zx_handle_close(o0);
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
        zx_nanosleep(zx_deadline_after(10 * TU_MS));
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
    EXPECT_OK(zx_object_wait_one(o0, ZX_CHANNEL_PEER_CLOSED, zx_deadline_after(20 * TU_SEC),
                                 NULL));
    EXPECT_OK(zx_object_wait_one(t1, ZX_THREAD_TERMINATED, zx_deadline_after(20 * TU_SEC),
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
    zx_handle_t o0;
    ASSERT_OK(start_member0_holding_member1(&f, "fill", 20000, &o0, NULL));
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
    zx_handle_t o0;
    ASSERT_OK(start_member0_holding_member1(&f, "exit", 0, &o0, NULL));
    EXPECT_EQ(fam_wait(&f, 0), 0);
    fam_close(&f.proc[0]);
    const char *argv[] = {PROG, "--hold"};
    zx_handle_t proto = f.proto;
    f.proto = ZX_HANDLE_INVALID;
    zx_handle_t child;
    ASSERT_OK(tu_launch_self("holder", 2, argv, proto, &child));
    int64_t rc = -1;
    EXPECT_OK(beryl_wait_exit(child, zx_deadline_after(20 * TU_SEC), &rc));
    EXPECT_EQ(rc, 0);
    EXPECT_TRUE(peer_closed(o0));
    zx_handle_close(child);
    zx_handle_close(o0);
    family_destroy(&f);
}

/* ---- random graphs of families and channels against a model ---- */

/*
 * Objects: RC endpoints (their peers w[] are kept as observers) and RF families of a
 * prototype and two members (an unstarted thread in each is its observer). Handles to
 * them are held by the test, queued in an endpoint, or in a family's table (put there by
 * starting a member, which exits at once: its own process handle lands there too).
 * After every step the model closes what no held handle reaches, and each observer
 * must agree: an endpoint's peer sees PEER_CLOSED, a process's thread TERMINATED.
 */
enum { RC = 6, RF = 3, RM = 3, RP = RF * RM, RO = RC + RP, RR = 160, ROPS = 90 };
enum { LOC_NONE, LOC_HELD, LOC_QUEUE, LOC_TABLE };

typedef struct rec {
    int obj;          /* < RC: endpoint; else process (obj - RC) / RM's member */
    int loc, where;   /* LOC_*, and the endpoint or family it is in */
    uint32_t seq;     /* queue order */
    zx_handle_t value; /* while held */
} rec_t;

typedef struct world {
    rec_t r[RR];
    bool ep_alive[RC];
    bool dead[RP];     /* process finished (killed or exited) */
    bool table[RF];    /* family table still there */
    uint32_t seq;
    zx_handle_t w[RC], t[RP];
    family_t f[RF];
} world_t;

static uint64_t wrng;
static uint32_t wrnd(uint32_t n) {
    wrng = wrng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(wrng >> 33) % n;
}

static int rec_new(world_t *w, int obj, int loc, int where, zx_handle_t v) {
    for (int i = 0; i < RR; i++) {
        if (w->r[i].loc == LOC_NONE) {
            w->r[i] = (rec_t){obj, loc, where, w->seq++, v};
            return i;
        }
    }
    return -1;
}

/* Closes, in the model, whatever no held handle reaches (and empties what it held). */
static void world_collect(world_t *w) {
    for (bool changed = true; changed;) {
        changed = false;
        bool reach[RO] = {0}, freach[RF] = {0};
        int stack[RO + RF], sp = 0;
        for (int i = 0; i < RR; i++) {
            if (w->r[i].loc == LOC_HELD && !reach[w->r[i].obj]) {
                reach[w->r[i].obj] = true;
                stack[sp++] = w->r[i].obj;
            }
        }
        while (sp > 0) {
            int o = stack[--sp];
            int loc = LOC_QUEUE, where = o;
            if (o >= RC) { /* a member reaches its family, whose table holds handles */
                int f = (o - RC) / RM;
                if (freach[f] || !w->table[f])
                    continue;
                freach[f] = true;
                loc = LOC_TABLE;
                where = f;
            }
            for (int i = 0; i < RR; i++) {
                if (w->r[i].loc == loc && w->r[i].where == where && !reach[w->r[i].obj]) {
                    reach[w->r[i].obj] = true;
                    stack[sp++] = w->r[i].obj;
                }
            }
        }
        for (int e = 0; e < RC; e++) {
            if (w->ep_alive[e] && !reach[e]) {
                w->ep_alive[e] = false;
                for (int i = 0; i < RR; i++)
                    if (w->r[i].loc == LOC_QUEUE && w->r[i].where == e)
                        w->r[i].loc = LOC_NONE;
                changed = true;
            }
        }
        for (int p = 0; p < RP; p++) {
            if (!w->dead[p] && !reach[RC + p]) {
                w->dead[p] = true; /* unstarted and unreachable: killed */
                changed = true;
            }
        }
        for (int f = 0; f < RF; f++) {
            bool any = false;
            for (int m = 0; m < RM; m++)
                any = any || !w->dead[f * RM + m];
            if (w->table[f] && !any) { /* the last member left: the table goes */
                w->table[f] = false;
                for (int i = 0; i < RR; i++)
                    if (w->r[i].loc == LOC_TABLE && w->r[i].where == f)
                        w->r[i].loc = LOC_NONE;
                changed = true;
            }
        }
    }
}

/* A random held record (-1 if none), optionally only of processes. */
static int pick_held(world_t *w, bool procs_only) {
    int held[RR], n = 0;
    for (int i = 0; i < RR; i++)
        if (w->r[i].loc == LOC_HELD && (!procs_only || w->r[i].obj >= RC))
            held[n++] = i;
    return n > 0 ? held[wrnd((uint32_t)n)] : -1;
}

static zx_handle_t *proc_slot(world_t *w, int p) {
    family_t *f = &w->f[p / RM];
    return p % RM == 0 ? &f->proto : &f->proc[p % RM - 1];
}

/* One random step; false (after recording a failure) if the kernel disagreed. */
static bool world_step(world_t *w, int op) {
    uint32_t kind = wrnd(20);
    int i = pick_held(w, kind >= 8 && kind < 11);
    if (i < 0)
        return true;
    rec_t *r = &w->r[i];
    if (kind < 6) { /* send into endpoint j's queue */
        int j = (int)wrnd(RC);
        uint32_t tag = (uint32_t)r->obj;
        zx_status_t st = zx_channel_write(w->w[j], 0, &tag, sizeof(tag), &r->value, 1);
        if (w->ep_alive[j]) {
            EXPECT_OK(st);
            r->loc = LOC_QUEUE;
            r->where = j;
            r->seq = w->seq++;
        } else {
            EXPECT_STATUS(st, ZX_ERR_PEER_CLOSED);
            r->loc = LOC_NONE;
        }
    } else if (kind < 8) {
        EXPECT_OK(zx_handle_close(r->value));
        r->loc = LOC_NONE;
    } else if (kind < 10) { /* duplicate a process handle */
        zx_handle_t d = tu_dup(r->value, ZX_RIGHT_SAME_RIGHTS);
        EXPECT_NE(d, ZX_HANDLE_INVALID);
        if (rec_new(w, r->obj, LOC_HELD, 0, d) < 0)
            zx_handle_close(d);
    } else if (kind < 11) { /* start this member (not a prototype) with two held handles */
        int p = r->obj - RC, fi = p / RM;
        if (p % RM == 0 || w->dead[p] || !w->table[fi])
            return true;
        family_t *f = &w->f[fi];
        int m = p % RM - 1;
        zx_handle_t saved = f->proc[m];
        f->proc[m] = r->value; /* borrowed by the launch */
        zx_handle_t give[2];
        uint32_t n = 0;
        for (int k = 0; k < 2; k++) {
            int g = pick_held(w, false);
            if (g < 0 || g == i || (n == 1 && w->r[g].value == give[0]))
                continue;
            give[n++] = w->r[g].value;
            w->r[g].loc = LOC_TABLE;
            w->r[g].where = fi;
        }
        zx_status_t st = fam_start(f, m, PROG, "exit", 0, give, n);
        EXPECT_OK(st);
        EXPECT_EQ(fam_wait(f, m), 0);
        f->proc[m] = saved;
        w->dead[p] = true;
        rec_new(w, r->obj, LOC_TABLE, fi, ZX_HANDLE_INVALID); /* its PA_PROC_SELF */
    } else { /* read from a held endpoint */
        if (r->obj >= RC)
            return true;
        int head = -1;
        for (int k = 0; k < RR; k++)
            if (w->r[k].loc == LOC_QUEUE && w->r[k].where == r->obj &&
                (head < 0 || w->r[k].seq < w->r[head].seq))
                head = k;
        uint32_t tag = 0xffff, nb, nh;
        zx_handle_t got = ZX_HANDLE_INVALID;
        zx_status_t st = zx_channel_read(r->value, 0, &tag, &got, sizeof(tag), 1, &nb, &nh);
        if (head < 0) {
            EXPECT_STATUS(st, ZX_ERR_SHOULD_WAIT);
        } else {
            EXPECT_OK(st);
            EXPECT_EQ(tag, (uint32_t)w->r[head].obj);
            w->r[head].loc = LOC_HELD;
            w->r[head].value = got;
        }
    }
    world_collect(w);
    for (int e = 0; e < RC; e++) {
        zx_signals_t s = 0;
        zx_object_wait_one(w->w[e], ZX_CHANNEL_PEER_CLOSED, 0, &s);
        if (((s & ZX_CHANNEL_PEER_CLOSED) != 0) == w->ep_alive[e]) {
            printf("op %d: endpoint %d is %s\n", op, e,
                   w->ep_alive[e] ? "closed but reachable" : "open but unreachable");
            return false;
        }
    }
    for (int p = 0; p < RP; p++) {
        zx_signals_t s = 0;
        zx_object_wait_one(w->t[p], ZX_THREAD_TERMINATED, 0, &s);
        if (((s & ZX_THREAD_TERMINATED) != 0) != w->dead[p]) {
            printf("op %d: process %d is %s\n", op, p,
                   w->dead[p] ? "dead in the model, alive in the kernel" : "killed but reachable");
            return false;
        }
    }
    return true;
}

TEST(FamilyCycles, RandomGraphsMatchModel) {
    static const uint64_t seeds[] = {0xfa0001, 0xfa0002};
    for (size_t round = 0; round < sizeof(seeds) / sizeof(seeds[0]); round++) {
        wrng = seeds[round];
        printf("FamilyCycles.RandomGraphsMatchModel: round %zu seed 0x%lx\n", round,
               (unsigned long)seeds[round]);
        static world_t w;
        memset(&w, 0, sizeof(w));
        for (int e = 0; e < RC; e++) {
            zx_handle_t end;
            ASSERT_OK(zx_channel_create(0, &w.w[e], &end));
            w.ep_alive[e] = true;
            rec_new(&w, e, LOC_HELD, 0, end);
        }
        for (int f = 0; f < RF; f++) {
            ASSERT_OK(family_create(&w.f[f], RM - 1));
            w.table[f] = true;
            for (int m = 0; m < RM; m++) {
                int p = f * RM + m;
                zx_handle_t *h = proc_slot(&w, p);
                ASSERT_OK(zx_thread_create(*h, "watch", 5, 0, &w.t[p]));
                rec_new(&w, RC + p, LOC_HELD, 0, *h);
                /* the record owns the handle; the family keeps a duplicate to launch
                 * with (a process handle kept only for that would keep it reachable, so
                 * launches borrow the record's handle instead) */
                *h = ZX_HANDLE_INVALID;
            }
        }
        bool ok = true;
        for (int op = 0; op < ROPS && ok; op++)
            ok = world_step(&w, op);
        EXPECT_TRUE(ok);
        for (int i = 0; i < RR; i++) {
            if (w.r[i].loc == LOC_HELD)
                zx_handle_close(w.r[i].value);
            w.r[i].loc = LOC_NONE;
        }
        world_collect(&w);
        for (int e = 0; e < RC; e++)
            EXPECT_TRUE(peer_closed(w.w[e]));
        for (int p = 0; p < RP; p++)
            EXPECT_OK(zx_object_wait_one(w.t[p], ZX_THREAD_TERMINATED, 0, NULL));
        for (int e = 0; e < RC; e++)
            zx_handle_close(w.w[e]);
        for (int p = 0; p < RP; p++)
            zx_handle_close(w.t[p]);
        for (int f = 0; f < RF; f++)
            family_destroy(&w.f[f]);
        if (!ok)
            return;
    }
}
