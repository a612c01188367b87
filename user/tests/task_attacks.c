/*
 * Attacks on process and thread lifetimes through ordinary task syscalls: starts that
 * fail after the start argument has already moved into the new process's table, and
 * races between a start and the end of the process or thread it names. Each must fail
 * with its documented status and leave no trace: the argument handle is consumed (closed
 * if it did not arrive), the process stays startable or ends cleanly, nothing panics,
 * hangs or leaks (userboot's check).
 */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <beryl/syscall_numbers.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>
#include "family_util.h"

#define PROG "task_attacks"
/* Handle tables grow by chunks of this many slots (kernel/object/handle_table.c); a
 * handle value's slot index is (value >> 2) & HANDLE_INDEX_MASK. */
#define TABLE_CHUNK_SLOTS 64u
#define HANDLE_INDEX_MASK ((1u << 18) - 1u)

/* Any address in the user half passes zx_process_start's entry check; the children here
 * never run a single instruction. */
#define NEVER_RUN_ENTRY 0x200000ull

/* An unstarted process with one unstarted thread. */
typedef struct {
    zx_handle_t proc, vmar, thread;
} bare_child_t;

static zx_status_t bare_child_create(bare_child_t *c) {
    memset(c, 0, sizeof(*c));
    zx_status_t st =
        zx_process_create(zx_job_default(), "bare-child", 10, 0, &c->proc, &c->vmar);
    if (st == ZX_OK)
        st = zx_thread_create(c->proc, "t", 1, 0, &c->thread);
    return st;
}

static void bare_child_destroy(bare_child_t *c) {
    if (c->proc != ZX_HANDLE_INVALID)
        tu_task_kill_wait(c->proc);
    zx_handle_close(c->thread);
    zx_handle_close(c->vmar);
    zx_handle_close(c->proc);
    memset(c, 0, sizeof(*c));
}

static bool process_started(zx_handle_t proc) {
    zx_info_process_t info;
    return tu_process_info(proc, &info) == ZX_OK && (info.flags & ZX_INFO_PROCESS_FLAG_STARTED);
}

/*
 * The start argument is a handle to the very process being started, and the thread was
 * killed before the start: the argument is already in the process's table when the
 * thread refuses to start, and taking it back out must not touch the process's own lock
 * twice (it once did: a recursive spinlock, a kernel panic from one syscall).
 */
TEST(TaskAttacks, StartWithDeadThreadAndOwnHandleAsArg) {
    bare_child_t c;
    ASSERT_OK(bare_child_create(&c));
    ASSERT_OK(zx_task_kill(c.thread));
    zx_handle_t self_dup = tu_dup(c.proc, ZX_RIGHT_SAME_RIGHTS);
    ASSERT_TRUE(tu_handle_valid(self_dup));
    EXPECT_STATUS(zx_process_start(c.proc, c.thread, NEVER_RUN_ENTRY, 0, self_dup, 0),
                  ZX_ERR_BAD_STATE);
    EXPECT_FALSE(tu_handle_valid(self_dup)); /* consumed, as on every failure */
    EXPECT_FALSE(process_started(c.proc));
    /* The process handle itself as the argument (it is both looked up and moved). */
    EXPECT_STATUS(zx_process_start(c.proc, c.thread, NEVER_RUN_ENTRY, 0, c.proc, 0),
                  ZX_ERR_BAD_STATE);
    EXPECT_FALSE(tu_handle_valid(c.proc));
    c.proc = ZX_HANDLE_INVALID;
    bare_child_destroy(&c);
}

/* The argument of a failed start is released, not kept in the table of a process that
 * never ran: the peer of a channel end passed that way sees PEER_CLOSED at once. */
TEST(TaskAttacks, FailedStartReleasesItsArgument) {
    bare_child_t c;
    ASSERT_OK(bare_child_create(&c));
    ASSERT_OK(zx_task_kill(c.thread));
    zx_handle_t a, b;
    ASSERT_OK(zx_channel_create(0, &a, &b));
    EXPECT_STATUS(zx_process_start(c.proc, c.thread, NEVER_RUN_ENTRY, 0, a, 0),
                  ZX_ERR_BAD_STATE);
    EXPECT_FALSE(tu_handle_valid(a));
    zx_signals_t obs = 0;
    EXPECT_OK(zx_object_wait_one(b, ZX_CHANNEL_PEER_CLOSED, 0, &obs));
    EXPECT_TRUE(obs & ZX_CHANNEL_PEER_CLOSED);
    EXPECT_FALSE(process_started(c.proc));
    EXPECT_OK(zx_handle_close(b));
    bare_child_destroy(&c);
}

/*
 * The same for a shared family member: its start holds the collector's lock and turns the
 * family's table from a container into a root and back when it fails, with the argument
 * (a handle to the member itself, then the prototype's only handle) in that table in
 * between. The family must come out as it was: the member still startable in principle
 * and the prototype, whose last handle the failed start consumed, ended.
 */
TEST(TaskAttacks, FamilyMemberStartWithDeadThreadAndOwnHandleAsArg) {
    zx_handle_t proto, shared_vmar, member, rvmar, thread;
    ASSERT_OK(zx_process_create(zx_job_default(), "proto", 5, ZX_PROCESS_SHARED, &proto,
                                &shared_vmar));
    ASSERT_OK(zx_process_create_shared(proto, 0, "member", 6, &member, &rvmar));
    ASSERT_OK(zx_thread_create(member, "t", 1, 0, &thread));
    ASSERT_OK(zx_task_kill(thread));
    zx_handle_t self_dup = tu_dup(member, ZX_RIGHT_SAME_RIGHTS);
    EXPECT_STATUS(zx_process_start(member, thread, NEVER_RUN_ENTRY, 0, self_dup, 0),
                  ZX_ERR_BAD_STATE);
    EXPECT_FALSE(tu_handle_valid(self_dup));
    EXPECT_FALSE(process_started(member));
    zx_handle_t proto_watch;
    ASSERT_OK(zx_thread_create(proto, "w", 1, 0, &proto_watch));
    EXPECT_STATUS(zx_process_start(member, thread, NEVER_RUN_ENTRY, 0, proto, 0),
                  ZX_ERR_BAD_STATE);
    EXPECT_FALSE(tu_handle_valid(proto));
    /* The prototype never started and its last handle is gone: it ended, and with it the
     * unstarted thread the test still holds. */
    zx_signals_t obs = 0;
    EXPECT_OK(zx_object_wait_one(proto_watch, ZX_THREAD_TERMINATED, 0, &obs));
    /* The family lives on through the member: another member can still join it. */
    zx_handle_t m2, v2;
    EXPECT_OK(zx_process_create_shared(member, 0, "m2", 2, &m2, &v2));
    zx_handle_close(v2);
    zx_handle_close(m2);
    zx_handle_close(proto_watch);
    zx_handle_close(thread);
    zx_handle_close(rvmar);
    zx_handle_close(shared_vmar);
    EXPECT_OK(zx_handle_close(member));
}

/*
 * A family table with no free slot, then a member started: its start has to grow the
 * table to add the bootstrap channel. The growth allocates (a new chunk, a larger
 * directory past the heap's slab sizes: a scan of the PMM's frames), which must happen
 * with interrupts on; it once ran under the process's spinlock (the kernel now asserts
 * that a table never grows with interrupts off).
 */
TEST(TaskAttacks, MemberStartGrowsAFullFamilyTable) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    ASSERT_OK(fam_start(&f, 0, PROG, "fill-chunk", 0, NULL, 0));
    ASSERT_EQ(fam_wait(&f, 0), 0);
    EXPECT_OK(fam_start(&f, 1, PROG, "exit", 0, NULL, 0));
    EXPECT_EQ(fam_wait(&f, 1), 0);
    family_destroy(&f);
}

/* ---- code that runs in a family member (`--member SCENARIO ARG`) ---- */

static int member_main(const char *scenario) {
    if (strcmp(scenario, "exit") == 0)
        return 0;
    if (strcmp(scenario, "fill-chunk") == 0) {
        /* Fills the family table to its last slot: duplicates until a handle lands in
         * the first slot of a new chunk (the table only grows once no slot is free), then
         * fills that chunk. Every handle stays in the table after the exit. */
        zx_handle_t vmo, d;
        if (zx_vmo_create(0, 0, &vmo) != ZX_OK)
            return 2;
        uint32_t left = 0;
        for (bool grown = false; !grown || left > 0;) {
            if (zx_handle_duplicate(vmo, ZX_RIGHT_SAME_RIGHTS, &d) != ZX_OK)
                return 3;
            uint32_t index = (d >> 2) & HANDLE_INDEX_MASK;
            if (grown) {
                left--;
            } else if (index > 0 && index % TABLE_CHUNK_SLOTS == 0) {
                grown = true;
                left = TABLE_CHUNK_SLOTS - 1;
            }
        }
        return 0;
    }
    return 99;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "--member") == 0)
        return member_main(argv[2]);
    return beryl_test_run_all(argc, argv);
}
