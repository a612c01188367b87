/*
 * Changes to a VMO or a mapping, seen from a second process that maps it too:
 * copy-on-write snapshots stay isolated through mappings on both sides, decommit and
 * commit are seen in both, a shrink kills the other process on its next access past the
 * end, and protect or unmap in one process leaves the other's mapping alone. The parent
 * sees a faulted child exit with ZX_TASK_RETCODE_EXCEPTION_KILL and flags STARTED|EXITED.
 * (The same within one process, across threads: vm_shared_threads.c.)
 *
 * The second process is this program again, started with "--peer": it serves commands
 * (map a VMO it is sent, read, write, protect, unmap, decommit) on a channel, so that
 * every access is made by the peer through its own mapping.
 */
#include <beryl/launch.h>
#include <beryl/startup.h>
#include <zircon/processargs.h>
#include <beryl/syscall_numbers.h>
#include "vm_util.h"

/* ---- a second process: the peer ---- */

enum peer_op { OP_MAP = 1, OP_READ, OP_WRITE, OP_PROTECT, OP_UNMAP, OP_DECOMMIT };

typedef struct peer_cmd {
    uint32_t op;
    uint32_t perms;
    uint64_t addr;
    uint64_t value;
    uint64_t len;
} peer_cmd_t;

typedef struct peer_reply {
    int32_t status;
    uint32_t reserved;
    uint64_t value;
} peer_reply_t;

/* The peer's main loop; returns (exit 0) when the parent closes the channel. */
static int peer_main(void) {
    zx_handle_t ch = beryl_take_startup_handle(PA_HND(PA_USER1, 0));
    zx_handle_t root = zx_vmar_root_self();
    for (;;) {
        zx_signals_t obs;
        if (zx_object_wait_one(ch, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
                               ZX_TIME_INFINITE, &obs) != ZX_OK)
            return 1;
        peer_cmd_t c;
        zx_handle_t h = ZX_HANDLE_INVALID;
        uint32_t nb, nh;
        if (zx_channel_read(ch, 0, &c, &h, sizeof(c), 1, &nb, &nh) != ZX_OK)
            return 0;
        peer_reply_t r = {ZX_OK, 0, 0};
        switch (c.op) {
        case OP_MAP: {
            zx_vaddr_t a = 0;
            r.status = zx_vmar_map(root, c.perms, 0, h, 0, c.len, &a);
            r.value = a;
            break;
        }
        case OP_READ: r.value = rd64(c.addr); break;
        case OP_WRITE: wr64(c.addr, c.value); break;
        case OP_PROTECT: r.status = zx_vmar_protect(root, c.perms, c.addr, c.len); break;
        case OP_UNMAP: r.status = zx_vmar_unmap(root, c.addr, c.len); break;
        case OP_DECOMMIT:
            r.status = zx_vmar_op_range(root, ZX_VMAR_OP_DECOMMIT, c.addr, c.len, NULL, 0);
            break;
        default: r.status = ZX_ERR_NOT_SUPPORTED; break;
        }
        zx_handle_close(h);
        zx_channel_write(ch, 0, &r, sizeof(r), NULL, 0);
    }
}

typedef struct peer {
    zx_handle_t proc;
    zx_handle_t ch;
} peer_t;

static zx_status_t peer_start(peer_t *p) {
    memset(p, 0, sizeof(*p));
    zx_handle_t theirs;
    zx_status_t st = zx_channel_create(0, &p->ch, &theirs);
    if (st != ZX_OK)
        return st;
    const char *argv[] = {beryl_program_name(), "--peer"};
    uint32_t info = PA_HND(PA_USER1, 0);
    beryl_launch_args_t a = {
        .job = zx_job_default(),
        .name = "vm-peer",
        .exe_vmo = beryl_get_startup_handle(PA_HND(PA_VMO_EXECUTABLE, 0)),
        .argc = 2,
        .argv = argv,
        .handles = &theirs,
        .handle_infos = &info,
        .num_handles = 1,
    };
    st = beryl_launch(&a, &p->proc);
    if (st != ZX_OK) {
        zx_handle_close(p->ch);
        memset(p, 0, sizeof(*p));
    }
    return st;
}

/* One command; the peer's status, or ZX_ERR_PEER_CLOSED if it died on the way. */
static zx_status_t peer_call(peer_t *p, uint32_t op, uint32_t perms, uint64_t addr,
                             uint64_t value, uint64_t len, zx_handle_t h, uint64_t *out) {
    peer_cmd_t c = {op, perms, addr, value, len};
    zx_status_t st = zx_channel_write(p->ch, 0, &c, sizeof(c), h ? &h : NULL, h ? 1 : 0);
    if (st != ZX_OK)
        return st;
    zx_signals_t obs = 0;
    st = zx_object_wait_one(p->ch, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
                            zx_deadline_after(10 * TU_SEC), &obs);
    if (st != ZX_OK)
        return st;
    peer_reply_t r;
    uint32_t nb, nh;
    if (zx_channel_read(p->ch, 0, &r, NULL, sizeof(r), 0, &nb, &nh) != ZX_OK)
        return ZX_ERR_PEER_CLOSED;
    if (out)
        *out = r.value;
    return r.status;
}

/* Maps (a duplicate of) vmo in the peer; returns the peer's address or 0. */
static zx_vaddr_t peer_map(peer_t *p, zx_handle_t vmo, zx_vm_option_t perms, size_t len) {
    zx_handle_t dup;
    if (zx_handle_duplicate(vmo, ZX_RIGHT_SAME_RIGHTS, &dup) != ZX_OK)
        return 0;
    uint64_t a = 0;
    return peer_call(p, OP_MAP, perms, 0, 0, len, dup, &a) == ZX_OK ? a : 0;
}

/* The word the peer reads at addr (~0 if it could not). */
static uint64_t peer_rd(peer_t *p, zx_vaddr_t addr) {
    uint64_t v = ~0ull;
    if (peer_call(p, OP_READ, 0, addr, 0, 0, ZX_HANDLE_INVALID, &v) != ZX_OK)
        return ~0ull;
    return v;
}

static zx_status_t peer_wr(peer_t *p, zx_vaddr_t addr, uint64_t v) {
    return peer_call(p, OP_WRITE, 0, addr, v, 0, ZX_HANDLE_INVALID, NULL);
}

/* Waits for the peer to end; its ZX_INFO_PROCESS in *info. */
static zx_status_t peer_wait(peer_t *p, zx_info_process_t *info) {
    zx_status_t st = zx_object_wait_one(p->proc, ZX_PROCESS_TERMINATED,
                                        zx_deadline_after(10 * TU_SEC), NULL);
    if (st != ZX_OK)
        return st;
    return tu_process_info(p->proc, info);
}

/* Ends a peer (closing the channel makes it exit; killed if it does not). */
static void peer_stop(peer_t *p) {
    zx_handle_close(p->ch);
    if (p->proc &&
        zx_object_wait_one(p->proc, ZX_PROCESS_TERMINATED, zx_deadline_after(10 * TU_SEC),
                           NULL) != ZX_OK) {
        zx_task_kill(p->proc);
        zx_object_wait_one(p->proc, ZX_PROCESS_TERMINATED, ZX_TIME_INFINITE, NULL);
    }
    zx_handle_close(p->proc);
    memset(p, 0, sizeof(*p));
}

/* The peer faulted: ended with EXCEPTION_KILL, flags STARTED | EXITED. */
static bool peer_was_killed(peer_t *p) {
    zx_info_process_t info;
    return peer_wait(p, &info) == ZX_OK && info.return_code == KILLED &&
           info.flags == (ZX_INFO_PROCESS_FLAG_STARTED | ZX_INFO_PROCESS_FLAG_EXITED);
}

TEST(VmProcess, PeerFaultIsExceptionKill) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    peer_t p;
    ASSERT_OK(peer_start(&p));
    zx_vaddr_t pa = peer_map(&p, vmo, 0, PAGE);
    EXPECT_NE(pa, 0u);
    EXPECT_STATUS(peer_call(&p, OP_READ, 0, pa, 0, 0, ZX_HANDLE_INVALID, NULL),
                  ZX_ERR_PEER_CLOSED);
    zx_info_process_t info;
    EXPECT_OK(peer_wait(&p, &info));
    EXPECT_EQ(info.return_code, (int64_t)KILLED);
    EXPECT_EQ(info.flags, ZX_INFO_PROCESS_FLAG_STARTED | ZX_INFO_PROCESS_FLAG_EXITED);
    zx_signals_t obs = 0;
    EXPECT_OK(zx_object_wait_one(p.ch, ZX_CHANNEL_PEER_CLOSED, 0, &obs));
    peer_stop(&p);
    /* A clean peer, by contrast, exits 0. */
    ASSERT_OK(peer_start(&p));
    pa = peer_map(&p, vmo, ZX_VM_PERM_READ, PAGE);
    EXPECT_EQ(peer_rd(&p, pa), 0x1000u);
    zx_handle_close(p.ch);
    p.ch = ZX_HANDLE_INVALID;
    EXPECT_OK(peer_wait(&p, &info));
    EXPECT_EQ(info.return_code, 0);
    peer_stop(&p);
    zx_handle_close(vmo);
}

TEST(VmProcess, WritesSeenBothWays) {
    zx_handle_t vmo = patterned_vmo(2, 0);
    zx_vaddr_t a = map(vmo, RW, 2 * PAGE);
    ASSERT_NE(a, 0u);
    peer_t p;
    ASSERT_OK(peer_start(&p));
    zx_vaddr_t pa = peer_map(&p, vmo, RW, 2 * PAGE);
    ASSERT_NE(pa, 0u);
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_EQ(peer_rd(&p, pa), 0x1000u);
    wr64(a, 0x11);
    EXPECT_EQ(peer_rd(&p, pa), 0x11u);
    EXPECT_OK(peer_wr(&p, pa + 8, 0x22));
    EXPECT_EQ(rd64(a + 8), 0x22u);
    peer_stop(&p);
    unmap(a, 2 * PAGE);
    zx_handle_close(vmo);
}

TEST(VmProcess, ZeroPageReplacedInOtherProcess) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(2 * PAGE, 0, &vmo));
    zx_vaddr_t a = map(vmo, ZX_VM_PERM_READ, 2 * PAGE);
    ASSERT_NE(a, 0u);
    peer_t p;
    ASSERT_OK(peer_start(&p));
    zx_vaddr_t pa = peer_map(&p, vmo, RW, 2 * PAGE);
    ASSERT_NE(pa, 0u);
    /* Both read the uncommitted pages first (zero-page translations, if any). */
    EXPECT_EQ(rd64(a), 0u);
    EXPECT_EQ(rd64(a + PAGE), 0u);
    EXPECT_EQ(peer_rd(&p, pa + PAGE), 0u);
    EXPECT_EQ(committed(vmo), 0u);
    EXPECT_OK(peer_wr(&p, pa, 0x33)); /* commits page 0 in the peer's write fault */
    EXPECT_EQ(rd64(a), 0x33u);
    uint64_t v = 0x34;
    EXPECT_OK(zx_vmo_write(vmo, &v, PAGE, sizeof(v))); /* commits page 1 by syscall */
    EXPECT_EQ(peer_rd(&p, pa + PAGE), 0x34u);
    EXPECT_EQ(rd64(a + PAGE), 0x34u);
    peer_stop(&p);
    unmap(a, 2 * PAGE);
    zx_handle_close(vmo);
}

TEST(VmProcess, SnapshotIsolatedAcrossProcesses) {
    /* This process maps the parent, the peer a SNAPSHOT child. */
    zx_handle_t vmo = patterned_vmo(3, 0), child;
    zx_vaddr_t a = map(vmo, RW, 3 * PAGE);
    ASSERT_NE(a, 0u);
    for (int i = 0; i < 3; i++)
        wr64(a + i * PAGE + 8, 0x100 + i); /* writable translations, warm */
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, 3 * PAGE, &child));
    peer_t p;
    ASSERT_OK(peer_start(&p));
    zx_vaddr_t c = peer_map(&p, child, RW, 3 * PAGE);
    ASSERT_NE(c, 0u);
    EXPECT_EQ(peer_rd(&p, c), 0x1000u);
    EXPECT_EQ(peer_rd(&p, c + PAGE + 8), 0x101u);
    /* The parent's write is not seen by the child... */
    wr64(a, 0xa0);
    EXPECT_EQ(peer_rd(&p, c), 0x1000u);
    EXPECT_EQ(vmo_word(child, 0), 0x1000u);
    /* ...nor the child's by the parent. */
    EXPECT_OK(peer_wr(&p, c + PAGE, 0xb1));
    EXPECT_EQ(rd64(a + PAGE), 0x1001u);
    EXPECT_EQ(peer_rd(&p, c + PAGE), 0xb1u);
    EXPECT_EQ(vmo_word(vmo, PAGE), 0x1001u);
    /* Untouched pages match on both sides. */
    EXPECT_EQ(rd64(a + 2 * PAGE + 8), 0x102u);
    EXPECT_EQ(peer_rd(&p, c + 2 * PAGE + 8), 0x102u);
    EXPECT_EQ(peer_rd(&p, c + 2 * PAGE), 0x1002u);
    /* zx_process_read_memory shows the peer's view, through its mapping. */
    uint64_t w = 0;
    size_t actual = 0;
    EXPECT_OK(zx_process_read_memory(p.proc, c, &w, sizeof(w), &actual));
    EXPECT_EQ(w, 0x1000u);
    peer_stop(&p);
    unmap(a, 3 * PAGE);
    zx_handle_close(child);
    zx_handle_close(vmo);
}

TEST(VmProcess, SnapshotTakenUnderPeerWriter) {
    /* The peer maps the parent and has written it; this process maps the snapshot. The
     * peer's cached writable translations must not let later writes reach the child. */
    zx_handle_t vmo = patterned_vmo(2, 0), child;
    peer_t p;
    ASSERT_OK(peer_start(&p));
    zx_vaddr_t pa = peer_map(&p, vmo, RW, 2 * PAGE);
    ASSERT_NE(pa, 0u);
    EXPECT_OK(peer_wr(&p, pa + 8, 0x10));
    EXPECT_EQ(peer_rd(&p, pa + PAGE), 0x1001u);
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * PAGE, &child));
    zx_vaddr_t c = map(child, ZX_VM_PERM_READ, 2 * PAGE);
    ASSERT_NE(c, 0u);
    EXPECT_EQ(rd64(c + 8), 0x10u);
    EXPECT_EQ(rd64(c + PAGE), 0x1001u);
    EXPECT_OK(peer_wr(&p, pa + 8, 0x20));
    EXPECT_OK(peer_wr(&p, pa + PAGE, 0x21));
    EXPECT_EQ(rd64(c + 8), 0x10u);
    EXPECT_EQ(rd64(c + PAGE), 0x1001u);
    EXPECT_EQ(vmo_word(vmo, 8), 0x20u);
    EXPECT_EQ(peer_rd(&p, pa + PAGE), 0x21u);
    peer_stop(&p);
    unmap(c, 2 * PAGE);
    zx_handle_close(child);
    zx_handle_close(vmo);
}

TEST(VmProcess, DecommitSeenInBothProcesses) {
    zx_handle_t vmo = patterned_vmo(2, 0);
    zx_vaddr_t a = map(vmo, RW, 2 * PAGE);
    ASSERT_NE(a, 0u);
    peer_t p;
    ASSERT_OK(peer_start(&p));
    zx_vaddr_t pa = peer_map(&p, vmo, RW, 2 * PAGE);
    ASSERT_NE(pa, 0u);
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_EQ(rd64(a + PAGE), 0x1001u);
    EXPECT_EQ(peer_rd(&p, pa), 0x1000u);
    EXPECT_EQ(peer_rd(&p, pa + PAGE), 0x1001u);
    /* Decommit by VMO handle here... */
    ASSERT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_DECOMMIT, 0, PAGE, NULL, 0));
    EXPECT_EQ(rd64(a), 0u);
    EXPECT_EQ(peer_rd(&p, pa), 0u);
    EXPECT_OK(peer_wr(&p, pa, 0x44)); /* re-committed by the peer, seen here */
    EXPECT_EQ(rd64(a), 0x44u);
    /* ...and by the peer's mapping there. */
    EXPECT_OK(peer_call(&p, OP_DECOMMIT, 0, pa + PAGE, 0, PAGE, ZX_HANDLE_INVALID, NULL));
    EXPECT_EQ(rd64(a + PAGE), 0u);
    EXPECT_EQ(peer_rd(&p, pa + PAGE), 0u);
    EXPECT_EQ(committed(vmo), (uint64_t)PAGE);
    peer_stop(&p);
    unmap(a, 2 * PAGE);
    zx_handle_close(vmo);
}

TEST(VmProcess, ShrinkKillsPeerOnAccess) {
    zx_handle_t vmo = patterned_vmo(2, ZX_VMO_RESIZABLE);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    peer_t p;
    ASSERT_OK(peer_start(&p));
    zx_vaddr_t pa = peer_map(&p, vmo, RW, 2 * PAGE);
    ASSERT_NE(pa, 0u);
    EXPECT_EQ(peer_rd(&p, pa + PAGE), 0x1001u); /* warm */
    EXPECT_OK(peer_wr(&p, pa + PAGE + 8, 5));
    ASSERT_OK(zx_vmo_set_size(vmo, PAGE));
    EXPECT_EQ(peer_rd(&p, pa), 0x1000u); /* below the new end: fine */
    uint64_t w;
    size_t actual;
    EXPECT_NE(zx_process_read_memory(p.proc, pa + PAGE, &w, sizeof(w), &actual), ZX_OK);
    EXPECT_STATUS(peer_call(&p, OP_READ, 0, pa + PAGE + 8, 0, 0, ZX_HANDLE_INVALID, NULL),
                  ZX_ERR_PEER_CLOSED);
    EXPECT_TRUE(peer_was_killed(&p));
    peer_stop(&p);
    zx_handle_close(vmo);
}

TEST(VmProcess, GrowAfterShrinkPeerReadsZero) {
    zx_handle_t vmo = patterned_vmo(2, ZX_VMO_RESIZABLE);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    peer_t p;
    ASSERT_OK(peer_start(&p));
    zx_vaddr_t pa = peer_map(&p, vmo, RW, 2 * PAGE);
    ASSERT_NE(pa, 0u);
    EXPECT_EQ(peer_rd(&p, pa + PAGE), 0x1001u);
    ASSERT_OK(zx_vmo_set_size(vmo, PAGE));
    ASSERT_OK(zx_vmo_set_size(vmo, 2 * PAGE));
    EXPECT_EQ(peer_rd(&p, pa + PAGE), 0u);
    EXPECT_OK(peer_wr(&p, pa + PAGE, 7));
    EXPECT_EQ(vmo_word(vmo, PAGE), 7u);
    peer_stop(&p);
    zx_handle_close(vmo);
}

TEST(VmProcess, ProtectInPeerLeavesOwnMapping) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, PAGE);
    ASSERT_NE(a, 0u);
    peer_t p;
    ASSERT_OK(peer_start(&p));
    zx_vaddr_t pa = peer_map(&p, vmo, RW, PAGE);
    ASSERT_NE(pa, 0u);
    EXPECT_OK(peer_wr(&p, pa, 1)); /* the peer's writable translation is warm */
    wr64(a + 8, 1);
    EXPECT_OK(peer_call(&p, OP_PROTECT, ZX_VM_PERM_READ, pa, 0, PAGE, ZX_HANDLE_INVALID,
                        NULL));
    wr64(a, 0x44); /* this process's mapping still writes */
    EXPECT_EQ(peer_rd(&p, pa), 0x44u);
    EXPECT_STATUS(peer_wr(&p, pa, 2), ZX_ERR_PEER_CLOSED);
    EXPECT_TRUE(peer_was_killed(&p));
    EXPECT_EQ(rd64(a), 0x44u);
    peer_stop(&p);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(VmProcess, ProtectHereLeavesPeerMapping) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, PAGE);
    ASSERT_NE(a, 0u);
    wr64(a, 1);
    peer_t p;
    ASSERT_OK(peer_start(&p));
    zx_vaddr_t pa = peer_map(&p, vmo, RW, PAGE);
    ASSERT_NE(pa, 0u);
    EXPECT_OK(peer_wr(&p, pa, 2));
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), 0, a, PAGE));
    EXPECT_OK(peer_wr(&p, pa, 0x55));
    EXPECT_EQ(peer_rd(&p, pa), 0x55u);
    EXPECT_EQ(vmo_word(vmo, 0), 0x55u);
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a, PAGE));
    EXPECT_EQ(rd64(a), 0x55u);
    peer_stop(&p);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(VmProcess, UnmapInPeerLeavesOwnMapping) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, PAGE);
    ASSERT_NE(a, 0u);
    peer_t p;
    ASSERT_OK(peer_start(&p));
    zx_vaddr_t pa = peer_map(&p, vmo, RW, PAGE);
    ASSERT_NE(pa, 0u);
    EXPECT_EQ(peer_rd(&p, pa), 0x1000u);
    EXPECT_OK(peer_call(&p, OP_UNMAP, 0, pa, 0, PAGE, ZX_HANDLE_INVALID, NULL));
    wr64(a, 0x66);
    EXPECT_EQ(rd64(a), 0x66u);
    EXPECT_STATUS(peer_call(&p, OP_READ, 0, pa, 0, 0, ZX_HANDLE_INVALID, NULL),
                  ZX_ERR_PEER_CLOSED);
    EXPECT_TRUE(peer_was_killed(&p));
    peer_stop(&p);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(VmProcess, WriteMemoryReachesPeerMapping) {
    /* zx_process_write_memory goes through the peer's mapping to its VMO, whatever the
     * mapping's protection, and the peer's translations see the result. */
    zx_handle_t vmo = patterned_vmo(1, 0), empty;
    ASSERT_OK(zx_vmo_create(PAGE, 0, &empty));
    peer_t p;
    ASSERT_OK(peer_start(&p));
    zx_vaddr_t pa = peer_map(&p, vmo, ZX_VM_PERM_READ, PAGE);
    zx_vaddr_t pe = peer_map(&p, empty, ZX_VM_PERM_READ, PAGE);
    ASSERT_NE(pa, 0u);
    ASSERT_NE(pe, 0u);
    EXPECT_EQ(peer_rd(&p, pa + 16), 0u);
    EXPECT_EQ(peer_rd(&p, pe), 0u); /* uncommitted: maybe the zero page */
    uint64_t v = 0x77, actual_v = 0;
    size_t actual = 0;
    EXPECT_OK(zx_process_write_memory(p.proc, pa + 16, &v, sizeof(v), &actual));
    EXPECT_EQ(actual, sizeof(v));
    EXPECT_EQ(vmo_word(vmo, 16), 0x77u);
    EXPECT_EQ(peer_rd(&p, pa + 16), 0x77u);
    v = 0x78;
    EXPECT_OK(zx_process_write_memory(p.proc, pe, &v, sizeof(v), &actual));
    EXPECT_EQ(peer_rd(&p, pe), 0x78u);
    EXPECT_OK(zx_process_read_memory(p.proc, pe, &actual_v, sizeof(actual_v), &actual));
    EXPECT_EQ(actual_v, 0x78u);
    peer_stop(&p);
    zx_handle_close(empty);
    zx_handle_close(vmo);
}

/* ---- a machine-code child (no runtime): one load, then exit(0) ---- */

/* movabs addr,%rax; mov $PROCESS_EXIT,%eax; xor %edi,%edi; syscall; jmp . */
static const uint8_t code_load_exit0[] = {
    0x48, 0xa1, 0, 0, 0, 0, 0, 0, 0, 0,
    0xb8, ZX_SYS_PROCESS_EXIT, 0, 0, 0,
    0x31, 0xff,
    0x0f, 0x05,
    0xeb, 0xfe,
};
#define LOAD_IMM_OFFSET 2

/* Runs a child that loads a word from a mapping with `perms`; its return code (or
 * INT64_MIN if it could not be run or did not end with flags STARTED | EXITED). */
static int64_t run_loader(zx_vm_option_t perms) {
    zx_handle_t proc, vmar, thread = ZX_HANDLE_INVALID, target = patterned_vmo(1, 0);
    zx_handle_t code = ZX_HANDLE_INVALID, xcode = ZX_HANDLE_INVALID;
    int64_t rc = INT64_MIN;
    if (zx_process_create(zx_job_default(), "vm-loader", 9, 0, &proc, &vmar) != ZX_OK) {
        zx_handle_close(target);
        return rc;
    }
    zx_vaddr_t t = 0, entry = 0;
    uint8_t buf[sizeof(code_load_exit0)];
    memcpy(buf, code_load_exit0, sizeof(buf));
    if (zx_vmar_map(vmar, perms, 0, target, 0, PAGE, &t) != ZX_OK)
        goto out;
    memcpy(buf + LOAD_IMM_OFFSET, &t, sizeof(t));
    if (zx_vmo_create(PAGE, 0, &code) != ZX_OK || zx_vmo_write(code, buf, 0, sizeof(buf)) ||
        zx_vmo_replace_as_executable(code, ZX_HANDLE_INVALID, &xcode) != ZX_OK)
        goto out;
    code = ZX_HANDLE_INVALID; /* consumed */
    if (zx_vmar_map(vmar, ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE, 0, xcode, 0, PAGE, &entry) ||
        zx_thread_create(proc, "t", 1, 0, &thread) != ZX_OK ||
        zx_process_start(proc, thread, entry, entry + PAGE, ZX_HANDLE_INVALID, 0) != ZX_OK)
        goto out;
    zx_info_process_t info;
    if (zx_object_wait_one(proc, ZX_PROCESS_TERMINATED, zx_deadline_after(10 * TU_SEC),
                           NULL) == ZX_OK &&
        tu_process_info(proc, &info) == ZX_OK &&
        info.flags == (ZX_INFO_PROCESS_FLAG_STARTED | ZX_INFO_PROCESS_FLAG_EXITED))
        rc = info.return_code;
out:
    tu_task_kill_wait(proc);
    zx_handle_close(thread);
    zx_handle_close(code);
    zx_handle_close(xcode);
    zx_handle_close(target);
    zx_handle_close(vmar);
    zx_handle_close(proc);
    return rc;
}

TEST(VmProcess, MachineCodeChildFaultReturnCode) {
    EXPECT_EQ(run_loader(0), (int64_t)KILLED);
    EXPECT_EQ(run_loader(ZX_VM_PERM_READ), 0);
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--peer") == 0)
        return peer_main();
    return beryl_test_run_all(argc, argv);
}
