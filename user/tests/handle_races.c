/*
 * Threads of one process racing on its handle table and its channels (the table's lock
 * is a blocking mutex; docs/architecture.md, "Locks"):
 *  - one thread closes handles while another sends the same handles over a channel: each
 *    handle goes exactly one way (the write carries it, or the close closes it), nothing
 *    leaks and nothing is released twice (every transferred endpoint's peer sees
 *    PEER_CLOSED once the message is gone);
 *  - two threads write messages of the largest size (and some with a handle) while the
 *    main thread reads them: every message arrives whole, in each writer's order;
 *  - ZX_INFO_PROCESS_VMOS, read in a loop while another thread creates, duplicates and
 *    closes VMOs (growing the table), always lists each VMO that stayed open throughout
 *    exactly once;
 *  - a thread growing the table to thousands of handles while another looks handles up
 *    and duplicates them: every call succeeds.
 * Each case runs a fixed number of rounds; the threads meet only through the kernel, so
 * what is checked holds for any interleaving (one CPU or several, any ASLR seed).
 */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/syscalls/object.h>

#define JOIN_TIMEOUT (60 * TU_SEC)

/* Lets the other threads run first: a sleep whose deadline is long past only yields. */
static void yield_cpu(void) { zx_nanosleep(1); }

/* ---- Closing handles while another thread transfers them ---- */

#define XFER_HANDLES 16u /* per write: endpoints sent in one message */
#define XFER_ROUNDS 150u

static zx_handle_t g_xfer_ends[XFER_HANDLES]; /* the endpoints being sent (or closed) */
static zx_handle_t g_xfer_channel;            /* written by the writer */
static volatile uint32_t g_xfer_round;        /* the main thread's round, for the writer */
static volatile uint32_t g_xfer_done;         /* rounds the writer has finished */
static volatile zx_status_t g_xfer_status[XFER_ROUNDS];

static void xfer_writer(uintptr_t a, uintptr_t b) {
    (void)a;
    (void)b;
    for (uint32_t r = 0; r < XFER_ROUNDS; r++) {
        while (__atomic_load_n(&g_xfer_round, __ATOMIC_ACQUIRE) <= r)
            yield_cpu();
        zx_handle_t vals[XFER_HANDLES];
        memcpy(vals, g_xfer_ends, sizeof(vals));
        g_xfer_status[r] = zx_channel_write(g_xfer_channel, 0, &r, sizeof(r), vals,
                                            XFER_HANDLES);
        __atomic_store_n(&g_xfer_done, r + 1, __ATOMIC_RELEASE);
    }
    zx_thread_exit();
}

TEST(HandleRaces, CloseWhileAnotherThreadTransfers) {
    zx_handle_t rd;
    ASSERT_OK(zx_channel_create(0, &g_xfer_channel, &rd));
    g_xfer_round = g_xfer_done = 0;
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, xfer_writer, 0, 0));
    uint32_t writes_ok = 0, writes_failed = 0;
    for (uint32_t r = 0; r < XFER_ROUNDS; r++) {
        zx_handle_t keep[XFER_HANDLES];
        zx_koid_t koid[XFER_HANDLES];
        for (uint32_t i = 0; i < XFER_HANDLES; i++) {
            ASSERT_OK(zx_channel_create(0, &g_xfer_ends[i], &keep[i]));
            koid[i] = tu_basic(g_xfer_ends[i]).koid;
        }
        __atomic_store_n(&g_xfer_round, r + 1, __ATOMIC_RELEASE);
        /* Close a varying subset (none in some rounds), from a varying start, while the
         * writer sends them all: a close either wins (the write then fails, consuming
         * the rest) or finds the handle gone. Every third round closes only after the
         * write is done, so the write's side of the race is seen on one CPU too. */
        uint32_t closes_ok = 0;
        uint32_t first = r % XFER_HANDLES, count = r % 5 == 0 ? 0 : 1 + r % 4;
        bool after_write = r % 3 == 1;
        while (after_write && __atomic_load_n(&g_xfer_done, __ATOMIC_ACQUIRE) <= r)
            yield_cpu();
        for (uint32_t k = 0; k < count; k++) {
            zx_status_t st = zx_handle_close(g_xfer_ends[(first + k * 5) % XFER_HANDLES]);
            EXPECT_TRUE(st == ZX_OK || st == ZX_ERR_BAD_HANDLE);
            closes_ok += st == ZX_OK;
        }
        while (__atomic_load_n(&g_xfer_done, __ATOMIC_ACQUIRE) <= r)
            yield_cpu();
        zx_status_t wst = g_xfer_status[r];
        if (count == 0 || after_write)
            EXPECT_OK(wst); /* nobody closed anything first */
        if (wst == ZX_OK) {
            writes_ok++;
            EXPECT_EQ(closes_ok, 0u); /* the write took every handle */
            uint32_t got_round = 0, nb = 0, nh = 0;
            zx_handle_t got[XFER_HANDLES];
            ASSERT_OK(zx_channel_read(rd, 0, &got_round, got, sizeof(got_round), XFER_HANDLES,
                                      &nb, &nh));
            EXPECT_EQ(got_round, r);
            ASSERT_EQ(nh, XFER_HANDLES);
            for (uint32_t i = 0; i < XFER_HANDLES; i++)
                EXPECT_EQ(tu_basic(got[i]).koid, koid[i]);
            EXPECT_OK(zx_handle_close_many(got, XFER_HANDLES));
        } else {
            writes_failed++;
            EXPECT_STATUS(wst, ZX_ERR_BAD_HANDLE);
            EXPECT_GT(closes_ok, 0u); /* only a close can have made a value bad */
            uint32_t nb = 0, nh = 0;
            EXPECT_STATUS(zx_channel_read(rd, 0, NULL, NULL, 0, 0, &nb, &nh),
                          ZX_ERR_SHOULD_WAIT);
        }
        /* Whatever happened, no endpoint of this round is left in the table or in
         * flight: each kept peer sees PEER_CLOSED. */
        for (uint32_t i = 0; i < XFER_HANDLES; i++) {
            EXPECT_FALSE(tu_handle_valid(g_xfer_ends[i]));
            zx_signals_t seen = 0;
            EXPECT_OK(zx_object_wait_one(keep[i], ZX_CHANNEL_PEER_CLOSED,
                                         zx_deadline_after(TU_SEC), &seen));
        }
        EXPECT_OK(zx_handle_close_many(keep, XFER_HANDLES));
    }
    EXPECT_OK(tu_thread_join(&t, JOIN_TIMEOUT));
    tu_thread_destroy(&t);
    EXPECT_EQ(writes_ok + writes_failed, XFER_ROUNDS);
    EXPECT_GT(writes_ok, 0u); /* the rounds that close nothing always succeed */
    printf("handle_races: %u writes carried their handles, %u lost a handle to a close\n",
           writes_ok, writes_failed);
    zx_handle_close(g_xfer_channel);
    zx_handle_close(rd);
}

/* ---- Largest messages written by two threads while another reads ---- */

#define BIG_WRITERS 2u
#define BIG_MESSAGES 40u /* per writer */
#define BIG_WORDS (ZX_CHANNEL_MAX_MSG_BYTES / sizeof(uint64_t))

static zx_handle_t g_big_channel;
static volatile zx_status_t g_big_status[BIG_WRITERS];

static uint64_t big_word(uint32_t writer, uint32_t seq, size_t i) {
    return ((uint64_t)writer << 56) | ((uint64_t)seq << 32) | (uint64_t)i;
}

static void big_writer(uintptr_t writer, uintptr_t unused) {
    (void)unused;
    uint64_t *msg = malloc(ZX_CHANNEL_MAX_MSG_BYTES);
    zx_status_t st = msg ? ZX_OK : ZX_ERR_NO_MEMORY;
    for (uint32_t seq = 0; st == ZX_OK && seq < BIG_MESSAGES; seq++) {
        for (size_t i = 0; i < BIG_WORDS; i++)
            msg[i] = big_word((uint32_t)writer, seq, i);
        /* Every third message carries a fresh VMO whose size names it. */
        zx_handle_t vmo = ZX_HANDLE_INVALID;
        if (seq % 3 == 0)
            st = zx_vmo_create((uint64_t)(seq + 1) * TU_PAGE, 0, &vmo);
        if (st == ZX_OK)
            st = zx_channel_write(g_big_channel, 0, msg, ZX_CHANNEL_MAX_MSG_BYTES, &vmo,
                                  vmo != ZX_HANDLE_INVALID ? 1 : 0);
    }
    free(msg);
    g_big_status[writer] = st;
    zx_thread_exit();
}

TEST(HandleRaces, LargestMessagesWrittenWhileAnotherThreadReads) {
    zx_handle_t rd;
    ASSERT_OK(zx_channel_create(0, &g_big_channel, &rd));
    uint64_t *buf = malloc(ZX_CHANNEL_MAX_MSG_BYTES);
    ASSERT_NONNULL(buf);
    tu_thread_t t[BIG_WRITERS];
    for (uint32_t w = 0; w < BIG_WRITERS; w++) {
        g_big_status[w] = ZX_ERR_INTERNAL;
        ASSERT_OK(tu_thread_create(&t[w]));
        ASSERT_OK(tu_thread_start(&t[w], big_writer, w, 0));
    }
    uint32_t next[BIG_WRITERS] = {0};
    uint32_t bad_words = 0;
    for (uint32_t got = 0; got < BIG_WRITERS * BIG_MESSAGES; got++) {
        ASSERT_OK(zx_object_wait_one(rd, ZX_CHANNEL_READABLE, zx_deadline_after(JOIN_TIMEOUT),
                                     NULL));
        uint32_t nb = 0, nh = 0;
        /* A too-small read first: it reports the size and leaves the message queued. */
        EXPECT_STATUS(zx_channel_read(rd, 0, buf, NULL, 8, 0, &nb, &nh),
                      ZX_ERR_BUFFER_TOO_SMALL);
        EXPECT_EQ(nb, ZX_CHANNEL_MAX_MSG_BYTES);
        zx_handle_t h = ZX_HANDLE_INVALID;
        ASSERT_OK(zx_channel_read(rd, 0, buf, &h, ZX_CHANNEL_MAX_MSG_BYTES, 1, &nb, &nh));
        ASSERT_EQ(nb, ZX_CHANNEL_MAX_MSG_BYTES);
        uint32_t writer = (uint32_t)(buf[0] >> 56), seq = (uint32_t)(buf[0] >> 32) & 0xffffffu;
        ASSERT_LT(writer, BIG_WRITERS);
        EXPECT_EQ(seq, next[writer]); /* each writer's messages in order */
        next[writer] = seq + 1;
        for (size_t i = 0; i < BIG_WORDS; i++)
            bad_words += buf[i] != big_word(writer, seq, i);
        EXPECT_EQ(nh, seq % 3 == 0 ? 1u : 0u);
        if (nh == 1) {
            uint64_t size = 0;
            EXPECT_OK(zx_vmo_get_size(h, &size));
            EXPECT_EQ(size, (uint64_t)(seq + 1) * TU_PAGE);
            zx_handle_close(h);
        }
    }
    EXPECT_EQ(bad_words, 0u);
    for (uint32_t w = 0; w < BIG_WRITERS; w++) {
        EXPECT_OK(tu_thread_join(&t[w], JOIN_TIMEOUT));
        tu_thread_destroy(&t[w]);
        EXPECT_OK(g_big_status[w]);
        EXPECT_EQ(next[w], BIG_MESSAGES);
    }
    free(buf);
    zx_handle_close(g_big_channel);
    zx_handle_close(rd);
}

/* ---- ZX_INFO_PROCESS_VMOS while another thread creates and closes VMOs ---- */

#define STABLE_VMOS 150u  /* open throughout: more than two table chunks */
#define CHURN_VMOS 24u    /* created, duplicated and closed at a time by the churner */
#define CHURN_DUPS 40u
#define VMOS_QUERIES 120u
#define VMOS_RECORDS 1024u /* room for everything the process can hold meanwhile */

static volatile bool g_churn_stop;
static volatile uint32_t g_churn_rounds;
static volatile zx_status_t g_churn_status;

static void churner(uintptr_t a, uintptr_t b) {
    (void)a;
    (void)b;
    zx_status_t st = ZX_OK;
    while (!__atomic_load_n(&g_churn_stop, __ATOMIC_ACQUIRE) && st == ZX_OK) {
        zx_handle_t h[CHURN_VMOS + CHURN_DUPS];
        uint32_t n = 0;
        while (n < CHURN_VMOS && st == ZX_OK) {
            st = zx_vmo_create(TU_PAGE, 0, &h[n]);
            n += st == ZX_OK;
        }
        for (uint32_t d = 0; st == ZX_OK && d < CHURN_DUPS; d++) {
            st = zx_handle_duplicate(h[d % CHURN_VMOS], ZX_RIGHT_SAME_RIGHTS, &h[n]);
            n += st == ZX_OK;
        }
        /* Close in an order that frees slots all over the table. */
        for (uint32_t i = 0; i < n; i += 2)
            zx_handle_close(h[i]);
        for (uint32_t i = 1; i < n; i += 2)
            zx_handle_close(h[i]);
        __atomic_add_fetch(&g_churn_rounds, 1, __ATOMIC_RELEASE);
    }
    g_churn_status = st;
    zx_thread_exit();
}

static void koid_sort(zx_koid_t *k, size_t n) {
    for (size_t i = 1; i < n; i++) {
        zx_koid_t v = k[i];
        size_t j = i;
        for (; j > 0 && k[j - 1] > v; j--)
            k[j] = k[j - 1];
        k[j] = v;
    }
}

/* The index of koid in the sorted k[0..n), or n if absent. */
static size_t koid_find(const zx_koid_t *k, size_t n, zx_koid_t koid) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k[mid] < koid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && k[lo] == koid ? lo : n;
}

TEST(HandleRaces, ProcessVmosWhileAnotherThreadCreatesAndCloses) {
    zx_handle_t stable[STABLE_VMOS];
    zx_koid_t stable_koid[STABLE_VMOS];
    for (uint32_t i = 0; i < STABLE_VMOS; i++) {
        ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &stable[i]));
        stable_koid[i] = tu_basic(stable[i]).koid;
    }
    koid_sort(stable_koid, STABLE_VMOS);
    zx_info_vmo_t *rec = malloc(VMOS_RECORDS * sizeof(*rec));
    ASSERT_NONNULL(rec);
    g_churn_stop = false;
    g_churn_rounds = 0;
    g_churn_status = ZX_ERR_INTERNAL;
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, churner, 0, 0));
    uint32_t missing = 0, repeated = 0;
    for (uint32_t q = 0; q < VMOS_QUERIES; q++) {
        size_t actual = 0, avail = 0;
        ASSERT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, rec,
                                     VMOS_RECORDS * sizeof(*rec), &actual, &avail));
        ASSERT_LE(actual, avail);
        ASSERT_LT(avail, (size_t)VMOS_RECORDS);
        EXPECT_EQ(actual, avail);
        /* Each stable VMO once among the records of handles (those come first). */
        uint32_t seen[STABLE_VMOS];
        memset(seen, 0, sizeof(seen));
        for (size_t i = 0; i < actual; i++) {
            EXPECT_NE(rec[i].koid, 0u);
            size_t k = koid_find(stable_koid, STABLE_VMOS, rec[i].koid);
            if (k < STABLE_VMOS && (rec[i].flags & ZX_INFO_VMO_VIA_HANDLE))
                seen[k]++;
        }
        for (uint32_t i = 0; i < STABLE_VMOS; i++) {
            missing += seen[i] == 0;
            repeated += seen[i] > 1;
        }
        /* A buffer of a few records: filled, and avail still counts them all. */
        size_t small_actual = 0, small_avail = 0;
        EXPECT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, rec,
                                     3 * sizeof(*rec), &small_actual, &small_avail));
        EXPECT_EQ(small_actual, 3u);
        EXPECT_GE(small_avail, (size_t)STABLE_VMOS);
        if (q % 8 == 0)
            yield_cpu();
    }
    __atomic_store_n(&g_churn_stop, true, __ATOMIC_RELEASE);
    EXPECT_OK(tu_thread_join(&t, JOIN_TIMEOUT));
    tu_thread_destroy(&t);
    EXPECT_OK(g_churn_status);
    EXPECT_GT(g_churn_rounds, 0u);
    EXPECT_EQ(missing, 0u);
    EXPECT_EQ(repeated, 0u);
    free(rec);
    EXPECT_OK(zx_handle_close_many(stable, STABLE_VMOS));
}

/* ---- Growing the table while another thread looks handles up ---- */

#define GROW_HANDLES 5000u
#define LOOKUPS 3000u

static zx_handle_t g_grow_source;
static zx_handle_t *g_grown;
static volatile uint32_t g_grown_n;
static volatile zx_status_t g_grow_status;

static void grower(uintptr_t a, uintptr_t b) {
    (void)a;
    (void)b;
    zx_status_t st = ZX_OK;
    uint32_t n = 0;
    for (; n < GROW_HANDLES && st == ZX_OK; n++)
        st = zx_handle_duplicate(g_grow_source, ZX_RIGHT_SAME_RIGHTS, &g_grown[n]);
    g_grown_n = st == ZX_OK ? n : n - 1;
    g_grow_status = st;
    zx_thread_exit();
}

TEST(HandleRaces, TableGrowsWhileAnotherThreadLooksUp) {
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &g_grow_source));
    zx_koid_t koid = tu_basic(g_grow_source).koid;
    g_grown = malloc(GROW_HANDLES * sizeof(zx_handle_t));
    ASSERT_NONNULL(g_grown);
    g_grow_status = ZX_ERR_INTERNAL;
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, grower, 0, 0));
    uint32_t failures = 0;
    for (uint32_t i = 0; i < LOOKUPS; i++) {
        zx_info_handle_basic_t info;
        failures += zx_object_get_info(g_grow_source, ZX_INFO_HANDLE_BASIC, &info,
                                       sizeof(info), NULL, NULL) != ZX_OK ||
                    info.koid != koid;
        zx_handle_t d;
        if (zx_handle_duplicate(g_grow_source, ZX_RIGHT_SAME_RIGHTS, &d) == ZX_OK)
            failures += zx_handle_close(d) != ZX_OK;
        else
            failures++;
    }
    EXPECT_EQ(failures, 0u);
    EXPECT_OK(tu_thread_join(&t, JOIN_TIMEOUT));
    tu_thread_destroy(&t);
    EXPECT_OK(g_grow_status);
    ASSERT_EQ(g_grown_n, GROW_HANDLES);
    for (uint32_t i = 0; i < GROW_HANDLES; i++)
        failures += tu_basic(g_grown[i]).koid != koid;
    EXPECT_EQ(failures, 0u);
    EXPECT_OK(zx_handle_close_many(g_grown, GROW_HANDLES));
    free(g_grown);
    zx_handle_close(g_grow_source);
}
