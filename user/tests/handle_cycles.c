/*
 * Reference cycles through channel queues are collected (the kernel's handle-cycle
 * collector): an endpoint whose handles all sit in queues that no handle outside can
 * reach is closed as if its last handle had been closed, before the syscall that made it
 * unreachable returns. Its peer sees ZX_CHANNEL_PEER_CLOSED, writes to it fail, and the
 * kernel heap gets every byte back. Cycles that some handle outside still reaches are
 * left alone and read back intact.
 *
 * A channel endpoint has exactly one handle (no DUPLICATE right), so every cycle of
 * endpoints is garbage the moment it closes; reachable cycles need duplicable objects
 * (family members: family_cycles.c; kernel-level graphs with several handles per
 * endpoint: tests/host/test_gc.c).
 */
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool peer_closed(zx_handle_t h) {
    zx_signals_t s = 0;
    zx_object_wait_one(h, ZX_CHANNEL_PEER_CLOSED, 0, &s);
    return (s & ZX_CHANNEL_PEER_CLOSED) != 0;
}

/* Sends *h (consumed) through w with a 4-byte tag. */
static zx_status_t send(zx_handle_t w, zx_handle_t *h, uint32_t tag) {
    zx_handle_t moved = *h;
    *h = ZX_HANDLE_INVALID;
    return zx_channel_write(w, 0, &tag, sizeof(tag), &moved, 1);
}

/* Reads one message of one handle from r: its tag, the handle in *out. */
static zx_status_t recv(zx_handle_t r, uint32_t *tag, zx_handle_t *out) {
    uint32_t nb = 0, nh = 0;
    return zx_channel_read(r, 0, tag, out, sizeof(*tag), 1, &nb, &nh);
}

/* Writers w[0..n) and readers e[0..n); e[i]'s queue gets e[i+1] (tag i+1) for i < n-1,
 * so only e[0] stays in the caller's table. */
static zx_status_t build_chain(int n, zx_handle_t *w, zx_handle_t *e) {
    for (int i = 0; i < n; i++) {
        zx_status_t st = zx_channel_create(0, &w[i], &e[i]);
        if (st != ZX_OK)
            return st;
    }
    for (int i = 1; i < n; i++) {
        zx_status_t st = send(w[i - 1], &e[i], (uint32_t)i);
        if (st != ZX_OK)
            return st;
    }
    return ZX_OK;
}

static void close_all(zx_handle_t *h, int n) {
    for (int i = 0; i < n; i++) {
        if (h[i] != ZX_HANDLE_INVALID)
            zx_handle_close(h[i]);
        h[i] = ZX_HANDLE_INVALID;
    }
}

TEST(HandleCycles, TwoEndpointsInEachOthersQueues) {
    zx_handle_t a0, a1, b0, b1;
    ASSERT_OK(zx_channel_create(0, &a0, &a1));
    ASSERT_OK(zx_channel_create(0, &b0, &b1));
    ASSERT_OK(send(b0, &a1, 1));
    EXPECT_FALSE(peer_closed(a0)); /* a1 can still be read out of b1 */
    ASSERT_OK(send(a0, &b1, 2));
    /* Nobody can read a1 or b1 any more: both were closed before the write returned. */
    EXPECT_TRUE(peer_closed(a0));
    EXPECT_TRUE(peer_closed(b0));
    uint32_t x = 0;
    EXPECT_STATUS(zx_channel_write(a0, 0, &x, sizeof(x), NULL, 0), ZX_ERR_PEER_CLOSED);
    EXPECT_OK(zx_handle_close(a0));
    EXPECT_OK(zx_handle_close(b0));
}

/* An endpoint written through its own peer (legal) is unreachable at once. */
TEST(HandleCycles, EndpointInItsOwnQueue) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    ASSERT_OK(zx_channel_write(c0, 0, "m", 1, NULL, 0));
    ASSERT_OK(send(c0, &c1, 0));
    EXPECT_TRUE(peer_closed(c0));
    EXPECT_OK(zx_handle_close(c0));
}

/* Cycles of every length from 2 to 1000 endpoints: each is closed by the write that
 * completes it, and the kernel heap is back to where it was. */
TEST(HandleCycles, CyclesOfManyLengths) {
    enum { MAX = 1000 };
    static zx_handle_t w[MAX], e[MAX];
    static const int lengths[] = {2, 3, 4, 7, 16, 100, MAX};
    zx_handle_t res = beryl_resource();
    for (int pass = 0; pass < 2; pass++) { /* pass 0 grows the handle table once */
        uint64_t heap_before = tu_kmem_heap_used(res);
        for (size_t k = 0; k < COUNT_OF(lengths); k++) {
            int n = lengths[k];
            ASSERT_OK(build_chain(n, w, e));
            for (int i = 0; i < n; i++)
                ASSERT_FALSE(peer_closed(w[i]));
            ASSERT_OK(send(w[n - 1], &e[0], 0)); /* e[n-1]'s queue gets e[0]: a cycle */
            for (int i = 0; i < n; i++)
                ASSERT_TRUE(peer_closed(w[i]));
            close_all(w, n);
        }
        if (pass == 1)
            EXPECT_LE(tu_kmem_heap_used(res), heap_before);
    }
}

/* A channel endpoint has one handle (channels carry no DUPLICATE right), so a cycle of
 * endpoints can never be reachable from outside; what a held endpoint reaches is a
 * chain. A chain of 64 stays whole while its head is held and reads back in order. */
TEST(HandleCycles, HeldChainIsKeptAndReadsBack) {
    enum { N = 64 };
    static zx_handle_t w[N], e[N];
    ASSERT_OK(build_chain(N, w, e));
    for (int i = 0; i < N; i++)
        EXPECT_FALSE(peer_closed(w[i]));
    for (int i = 1; i < N; i++) {
        uint32_t tag = 0xffff;
        ASSERT_OK(recv(e[i - 1], &tag, &e[i]));
        EXPECT_EQ(tag, (uint32_t)i);
        EXPECT_EQ(tu_basic(e[i]).koid, tu_basic(w[i]).related_koid);
    }
    for (int i = 0; i < N; i++)
        EXPECT_FALSE(peer_closed(w[i]));
    /* Closed again, but through the other end: e[N-1] into e[0]'s queue, then the head
     * e[0] into e[N-1]'s: garbage at the second write. */
    ASSERT_OK(send(w[0], &e[N - 1], 0));
    EXPECT_FALSE(peer_closed(w[N - 1]));
    ASSERT_OK(send(w[N - 1], &e[0], 0));
    EXPECT_TRUE(peer_closed(w[0]));
    EXPECT_TRUE(peer_closed(w[N - 1]));
    close_all(e, N);
    close_all(w, N);
}

/* A garbage cycle with a chain of endpoints hanging off it, and handles to objects the
 * test also holds: cycle and chain are closed, the rest keeps working. */
TEST(HandleCycles, GarbageTailGoesHeldObjectsStay) {
    zx_handle_t cw[2], ce[2], tw[3], te[3], vmo;
    ASSERT_OK(build_chain(2, cw, ce));
    ASSERT_OK(build_chain(3, tw, te));
    ASSERT_OK(send(cw[0], &te[0], 7)); /* ce0 holds the chain te0 -> te1 -> te2 */
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    ASSERT_OK(zx_vmo_write(vmo, "v", 0, 1));
    zx_handle_t vdup = tu_dup(vmo, ZX_RIGHT_SAME_RIGHTS);
    ASSERT_OK(send(cw[1], &vdup, 9));  /* ce1 holds a second handle to the VMO */
    ASSERT_OK(send(cw[1], &ce[0], 0)); /* the cycle ce0 <-> ce1 closes */
    EXPECT_TRUE(peer_closed(cw[0]));
    EXPECT_TRUE(peer_closed(cw[1]));
    for (int i = 0; i < 3; i++)
        EXPECT_TRUE(peer_closed(tw[i]));
    char b = 0;
    EXPECT_OK(zx_vmo_read(vmo, &b, 0, 1));
    EXPECT_EQ(b, 'v');
    EXPECT_EQ(tu_basic(vmo).type, ZX_OBJ_TYPE_VMO);
    zx_handle_t all[] = {cw[0], cw[1], tw[0], tw[1], tw[2], vmo};
    EXPECT_OK(zx_handle_close_many(all, COUNT_OF(all)));
}

/* A read whose copy-out faults puts its message (carrying an endpoint) back: nothing is
 * lost or collected, and the next read gets it. */
TEST(HandleCycles, FailedReadKeepsTheChain) {
    zx_handle_t w[3], e[3];
    ASSERT_OK(build_chain(3, w, e)); /* e0 -> e1 -> e2 */
    uint32_t tag = 0, nb, nh;
    EXPECT_STATUS(zx_channel_read(e[0], 0, &tag, (zx_handle_t *)0x1000, sizeof(tag), 1, &nb,
                                  &nh),
                  ZX_ERR_INVALID_ARGS);
    for (int i = 0; i < 3; i++)
        EXPECT_FALSE(peer_closed(w[i]));
    ASSERT_OK(recv(e[0], &tag, &e[1]));
    EXPECT_EQ(tag, 1u);
    ASSERT_OK(recv(e[1], &tag, &e[2]));
    EXPECT_EQ(tag, 2u);
    close_all(e, 3);
    close_all(w, 3);
}

/* Handles of other kinds ride along and are freed with the cycle. */
TEST(HandleCycles, OtherObjectsInAGarbageQueueAreFreed) {
    zx_handle_t a0, a1, b0, b1, vmo, p0, p1;
    ASSERT_OK(zx_channel_create(0, &a0, &a1));
    ASSERT_OK(zx_channel_create(0, &b0, &b1));
    ASSERT_OK(zx_channel_create(0, &p0, &p1));
    ASSERT_OK(zx_vmo_create(64 * TU_PAGE, 0, &vmo));
    uint8_t byte = 1;
    for (int i = 0; i < 64; i++)
        ASSERT_OK(zx_vmo_write(vmo, &byte, (uint64_t)i * TU_PAGE, 1));
    zx_handle_t carry[] = {vmo, p1, a1};
    ASSERT_OK(zx_channel_write(b0, 0, "c", 1, carry, 3));
    ASSERT_OK(send(a0, &b1, 0));
    EXPECT_TRUE(peer_closed(a0));
    EXPECT_TRUE(peer_closed(p0)); /* p1 went with the cycle */
    zx_handle_t all[] = {a0, b0, p0};
    EXPECT_OK(zx_handle_close_many(all, 3));
}

/* Many small cycles, one after the other, give every heap byte back. */
TEST(HandleCycles, ManyCyclesNoHeapGrowth) {
    zx_handle_t res = beryl_resource();
    uint64_t before = 0;
    for (int i = 0; i <= 300; i++) {
        if (i == 1)
            before = tu_kmem_heap_used(res);
        zx_handle_t w[3], e[3];
        ASSERT_OK(build_chain(3, w, e));
        ASSERT_OK(zx_channel_write(w[2], 0, "payload", 7, NULL, 0));
        ASSERT_OK(send(w[2], &e[0], 0));
        ASSERT_TRUE(peer_closed(w[1]));
        close_all(w, 3);
    }
    EXPECT_LE(tu_kmem_heap_used(res), before);
}

/* ---- random graphs against a model ---- */

enum { RN = 32, ROPS = 300, RROUNDS = 3 };

/* handles to endpoint i held by the test (held[i]), in queue j (inq[i][j]); closed i */
typedef struct model {
    bool alive[RN];
    int held[RN];
    int inq[RN][RN];
} model_t;

/* Closes (in the model) every endpoint no held handle reaches. */
static void model_collect(model_t *md) {
    bool reach[RN] = {0};
    int stack[RN], sp = 0;
    for (int i = 0; i < RN; i++) {
        if (md->alive[i] && md->held[i] > 0) {
            reach[i] = true;
            stack[sp++] = i;
        }
    }
    while (sp > 0) {
        int j = stack[--sp];
        for (int i = 0; i < RN; i++) {
            if (md->inq[i][j] > 0 && !reach[i]) {
                reach[i] = true;
                stack[sp++] = i;
            }
        }
    }
    for (int i = 0; i < RN; i++) {
        if (md->alive[i] && !reach[i]) {
            md->alive[i] = false;
            for (int j = 0; j < RN; j++)
                md->inq[j][i] = 0;
        }
    }
}

static uint64_t rng;
static uint32_t rnd(uint32_t n) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 33) % n;
}

/* Random sends, closes and reads; after every step an endpoint's peer sees
 * PEER_CLOSED exactly when the model says the endpoint is unreachable. */
TEST(HandleCycles, RandomGraphsMatchModel) {
    static const uint64_t seeds[RROUNDS] = {0x5eed0001, 0x5eed0002, 0x5eed0003};
    for (int round = 0; round < RROUNDS; round++) {
        rng = seeds[round];
        printf("HandleCycles.RandomGraphsMatchModel: round %d seed 0x%lx\n", round,
               (unsigned long)seeds[round]);
        static zx_handle_t w[RN], h[RN][3];
        static model_t md;
        memset(&md, 0, sizeof(md));
        memset(h, 0, sizeof(h));
        for (int i = 0; i < RN; i++) {
            ASSERT_OK(zx_channel_create(0, &w[i], &h[i][0]));
            md.alive[i] = true;
            md.held[i] = 1;
        }
        for (int op = 0; op < ROPS; op++) {
            int i = (int)rnd(RN), k = (int)rnd(3);
            uint32_t kind = rnd(10);
            if (h[i][k] == ZX_HANDLE_INVALID)
                continue;
            if (kind < 5) {
                int j = (int)rnd(RN);
                zx_status_t st = send(w[j], &h[i][k], (uint32_t)i);
                md.held[i]--;
                if (md.alive[j]) {
                    ASSERT_OK(st);
                    md.inq[i][j]++;
                } else {
                    ASSERT_STATUS(st, ZX_ERR_PEER_CLOSED);
                }
            } else if (kind < 6) {
                ASSERT_OK(zx_handle_close(h[i][k]));
                h[i][k] = ZX_HANDLE_INVALID;
                md.held[i]--;
            } else {
                uint32_t tag = 0xffff;
                zx_handle_t got = ZX_HANDLE_INVALID;
                zx_status_t st = recv(h[i][k], &tag, &got);
                if (st == ZX_OK) {
                    ASSERT_TRUE(tag < RN && md.inq[tag][i] > 0);
                    md.inq[tag][i]--;
                    int s = 0;
                    while (s < 3 && h[tag][s] != ZX_HANDLE_INVALID)
                        s++;
                    if (s < 3) {
                        h[tag][s] = got;
                        md.held[tag]++;
                    } else {
                        ASSERT_OK(zx_handle_close(got));
                    }
                } else {
                    ASSERT_STATUS(st, ZX_ERR_SHOULD_WAIT);
                    for (int t = 0; t < RN; t++)
                        ASSERT_EQ(md.inq[t][i], 0);
                }
            }
            model_collect(&md);
            for (int x = 0; x < RN; x++) {
                if (peer_closed(w[x]) == md.alive[x]) {
                    printf("round %d seed 0x%lx op %d: endpoint %d is %s\n", round,
                           (unsigned long)seeds[round], op, x,
                           md.alive[x] ? "closed but reachable" : "open but unreachable");
                    ASSERT_TRUE(false);
                }
            }
        }
        for (int i = 0; i < RN; i++)
            close_all(h[i], 3);
        for (int i = 0; i < RN; i++)
            EXPECT_TRUE(peer_closed(w[i]));
        close_all(w, RN);
    }
}

