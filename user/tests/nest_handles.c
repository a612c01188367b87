/*
 * Handles nested inside objects as deep as user space likes, then released: channel
 * endpoints travelling in messages of other channels (2,000 levels, ten times what
 * overflowed a recursive teardown; closed from either end of the head, or by process
 * exit), and shared-process families whose handle table holds the only handle to the
 * next family's prototype, directly or inside a channel message. Each release used to
 * run the next one's teardown on the same kernel stack and overflowed it (a #DF panic);
 * the kobject layer now queues nested teardowns and runs them in a loop
 * (docs/architecture.md). Every case ends with no panic and no leak (userboot's
 * free-page check).
 *
 * The process-exit case runs in a child: this program started with `--child SCENARIO`.
 */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>
#include <beryl/syscall_numbers.h>

#define DEPTH 2000
/* Each family costs its shared aspace's pinned page tables (~0.5 MiB): 96 families fit a
 * 128 MiB machine and are deeper than a recursive teardown survived (it overflowed the
 * 16 KiB kernel stack between 64 and 96 levels). */
#define FAMILIES 96
#define RESTRICTED_BASE 0x200000ull

/* ---- channel chains ------------------------------------------------------------------ */

/*
 * Level 0 is a channel (*x, *y) we hold; level k + 1's channel carries both endpoints of
 * level k in one message, sitting in its *y's queue. Returns the outermost pair; on
 * failure everything built is closed.
 */
static zx_status_t channel_chain_pairs(int depth, zx_handle_t *x, zx_handle_t *y) {
    zx_status_t st = zx_channel_create(0, x, y);
    for (int i = 1; i < depth && st == ZX_OK; i++) {
        zx_handle_t nx, ny;
        st = zx_channel_create(0, &nx, &ny);
        if (st != ZX_OK) {
            zx_handle_close(*x);
            zx_handle_close(*y);
            break;
        }
        zx_handle_t pair[2] = {*x, *y};
        st = zx_channel_write(nx, 0, NULL, 0, pair, 2); /* consumes the pair either way */
        *x = nx;
        *y = ny;
        if (st != ZX_OK) {
            zx_handle_close(nx);
            zx_handle_close(ny);
        }
    }
    return st;
}

/*
 * One endpoint per level, its peer closed: level k + 1's endpoint holds level k's in its
 * queue. Returns the outermost endpoint (ZX_HANDLE_INVALID on failure).
 */
static zx_handle_t channel_chain_single(int depth) {
    zx_handle_t held = ZX_HANDLE_INVALID;
    for (int i = 0; i < depth; i++) {
        zx_handle_t a, b;
        if (zx_channel_create(0, &a, &b) != ZX_OK) {
            zx_handle_close(held);
            return ZX_HANDLE_INVALID;
        }
        zx_status_t st = held != ZX_HANDLE_INVALID ? zx_channel_write(a, 0, "s", 1, &held, 1)
                                                   : ZX_OK;
        zx_handle_close(a);
        held = b;
        if (st != ZX_OK) {
            zx_handle_close(held);
            return ZX_HANDLE_INVALID;
        }
    }
    return held;
}

/* ---- the child ----------------------------------------------------------------------- */

static int child_main(const char *scenario) {
    if (strcmp(scenario, "channels") == 0) {
        zx_handle_t x, y;
        if (channel_chain_pairs(DEPTH, &x, &y) != ZX_OK)
            return 1;
        if (channel_chain_single(DEPTH) == ZX_HANDLE_INVALID)
            return 2;
        return 0; /* the process's handle table holds the heads of both chains */
    }
    return 99;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2]);
    return beryl_test_run_all(argc, argv);
}

TEST(NestedChannels, HeadClosedReceiverFirst) {
    zx_handle_t x, y;
    ASSERT_OK(channel_chain_pairs(DEPTH, &x, &y));
    /* y's queue holds the rest: closing it releases every level below. */
    EXPECT_OK(zx_handle_close(y));
    zx_signals_t seen = 0;
    EXPECT_OK(zx_object_wait_one(x, ZX_CHANNEL_PEER_CLOSED, 0, &seen));
    EXPECT_OK(zx_handle_close(x));
}

TEST(NestedChannels, HeadClosedSenderFirst) {
    zx_handle_t x, y;
    ASSERT_OK(channel_chain_pairs(DEPTH, &x, &y));
    EXPECT_OK(zx_handle_close(x));
    /* Still readable after its peer left: the first level comes out intact. */
    uint8_t byte;
    zx_handle_t pair[2];
    uint32_t nb = 0, nh = 0;
    EXPECT_OK(zx_channel_read(y, 0, &byte, pair, 1, 2, &nb, &nh));
    EXPECT_EQ(nh, 2u);
    EXPECT_OK(zx_handle_close(y));
    /* The level read out, with the levels below it, goes last. */
    for (uint32_t i = 0; i < nh; i++)
        EXPECT_OK(zx_handle_close(pair[i]));
}

TEST(NestedChannels, UnwrapsLevelByLevel) {
    zx_handle_t x, y;
    ASSERT_OK(channel_chain_pairs(DEPTH, &x, &y));
    int levels = 1;
    for (;;) {
        zx_handle_t pair[2];
        uint32_t nb = 0, nh = 0;
        zx_status_t st = zx_channel_read(y, 0, NULL, pair, 0, 2, &nb, &nh);
        zx_handle_close(x);
        zx_handle_close(y);
        if (st != ZX_OK || nh != 2)
            break;
        x = pair[0];
        y = pair[1];
        levels++;
    }
    EXPECT_EQ(levels, DEPTH);
}

TEST(NestedChannels, SingleEndpointChainClosed) {
    zx_handle_t head = channel_chain_single(DEPTH);
    ASSERT_NE(head, ZX_HANDLE_INVALID);
    EXPECT_OK(zx_handle_close(head));
}

TEST(NestedChannels, ProcessExitReleasesEveryChain) {
    const char *argv[] = {"nest_handles", "--child", "channels"};
    EXPECT_EQ(tu_run_self("nest-child", 3, argv, 60 * TU_SEC), 0);
}

/* ---- shared-process families --------------------------------------------------------- */

/* mov $ZX_SYS_PROCESS_EXIT, %eax; xor %edi, %edi; syscall; jmp . */
static const uint8_t exit_code[] = {0xb8, ZX_SYS_PROCESS_EXIT, 0, 0, 0, 0x31, 0xff,
                                    0x0f, 0x05, 0xeb, 0xfe};

/*
 * Puts `h` (consumed) into the handle table of the shared family of `proto`: a new member
 * starts with h as its argument and exits at once, which leaves h in the family's table
 * (the prototype, never started, keeps the family alive).
 */
static zx_status_t hand_to_family(zx_handle_t proto, zx_handle_t code, zx_handle_t h) {
    zx_handle_t member, rvmar, thread;
    zx_status_t st = zx_process_create_shared(proto, 0, "nest-member", 11, &member, &rvmar);
    if (st != ZX_OK) {
        zx_handle_close(h);
        return st;
    }
    zx_vaddr_t entry = 0;
    st = zx_vmar_map(rvmar, ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE, 0, code, 0, TU_PAGE, &entry);
    if (st == ZX_OK)
        st = zx_thread_create(member, "t", 1, 0, &thread);
    if (st == ZX_OK) {
        st = zx_process_start(member, thread, entry, 0, h, 0);
        h = ZX_HANDLE_INVALID;
        zx_handle_close(thread);
    }
    if (st == ZX_OK)
        st = zx_object_wait_one(member, ZX_TASK_TERMINATED, zx_deadline_after(10 * TU_SEC),
                                NULL);
    zx_handle_close(h);
    zx_task_kill(member);
    zx_handle_close(member);
    zx_handle_close(rvmar);
    return st;
}

/*
 * FAMILIES shared families, built from the far end: family k's table holds the only
 * handle to family k + 1's prototype (through_channel: the only handle to a channel
 * endpoint whose queue holds it). Returns family 0's prototype; closing it ends family 0,
 * whose table's teardown ends family 1, and so on.
 */
static zx_handle_t family_chain(bool through_channel) {
    zx_handle_t code = tu_code_vmo(exit_code, sizeof(exit_code));
    if (code == ZX_HANDLE_INVALID)
        return ZX_HANDLE_INVALID;
    zx_handle_t next = ZX_HANDLE_INVALID;
    for (int i = 0; i < FAMILIES; i++) {
        zx_handle_t proto, shared_vmar;
        zx_status_t st = zx_process_create(zx_job_default(), "nest-proto", 10,
                                           ZX_PROCESS_SHARED, &proto, &shared_vmar);
        if (st == ZX_OK && next != ZX_HANDLE_INVALID) {
            zx_handle_t give = next;
            if (through_channel) {
                zx_handle_t cx, cy;
                st = zx_channel_create(0, &cx, &cy);
                if (st == ZX_OK) {
                    st = zx_channel_write(cy, 0, "p", 1, &next, 1);
                    zx_handle_close(cy);
                    give = cx;
                } else {
                    zx_handle_close(next);
                }
            }
            next = ZX_HANDLE_INVALID;
            if (st == ZX_OK)
                st = hand_to_family(proto, code, give);
            else if (give != next)
                zx_handle_close(give);
        }
        zx_handle_close(next);
        next = ZX_HANDLE_INVALID;
        if (st == ZX_OK) {
            zx_handle_close(shared_vmar);
            next = proto;
        } else {
            zx_handle_close(code);
            return ZX_HANDLE_INVALID;
        }
    }
    zx_handle_close(code);
    return next;
}

/* The free kernel memory after `head` is closed comes back to what it was before the
 * chain was built (the frees happen inside the close; a little slack for heap slabs). */
static void close_and_check_memory(zx_handle_t head, uint64_t before) {
    EXPECT_OK(zx_handle_close(head));
    uint64_t after = tu_kmem_free(beryl_resource());
    /* Each family held ~0.5 MiB: a chain left behind would show as many MiB. */
    EXPECT_GE(after + (256u << 10), before);
}

TEST(NestedFamilies, HandleTableHoldsTheNextFamily) {
    uint64_t before = tu_kmem_free(beryl_resource());
    zx_handle_t head = family_chain(false);
    ASSERT_NE(head, ZX_HANDLE_INVALID);
    EXPECT_LT(tu_kmem_free(beryl_resource()) + (FAMILIES / 2) * (512u << 10), before);
    close_and_check_memory(head, before);
}

TEST(NestedFamilies, HandleTableHoldsAChannelHoldingTheNextFamily) {
    uint64_t before = tu_kmem_free(beryl_resource());
    zx_handle_t head = family_chain(true);
    ASSERT_NE(head, ZX_HANDLE_INVALID);
    close_and_check_memory(head, before);
}
