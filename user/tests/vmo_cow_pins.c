/*
 * Copies in flight against copy-on-write (docs/architecture.md, "Pins"): zx_vmo_read
 * copies each page with the family lock dropped, and while it does, another thread
 * writes the snapshot, writes the parent (the parent then owns the only page nobody else
 * sees) and closes the parent. The page a read is copying from must keep its content and
 * must not go back to the PMM: a reader of snapshot C only ever sees bytes C held.
 *
 * The race needs the reader preempted in the middle of a page copy. The main thread
 * sleeps in 1 ms steps until the reader has started, so it wakes at the end of the
 * reader's time slice, at an arbitrary point of its loop (mostly inside the kernel's copy
 * of one page); it then mutates the family within its own slice. ROUNDS rounds take
 * under a second; a kernel that moved the pinned page into the parent failed in 32 or 33
 * of 40 rounds.
 */
#include <stdio.h>
#include "vmo_util.h"

#define PAGES 8u
#define ROUNDS 24u
#define WORDS_PER_PAGE (P / sizeof(uint64_t))

/* The three contents of page i in round r: the parent's before the snapshot (old), the
 * snapshot's own writes (mine) and the parent's later writes (theirs). Disjoint ranges. */
static uint8_t old_byte(uint32_t r, uint32_t i) { return (uint8_t)(0x01 + (r * 7 + i) % 0x3F); }
static uint8_t mine_byte(uint32_t r, uint32_t i) { return (uint8_t)(0x41 + (r * 7 + i) % 0x3F); }
static uint8_t theirs_byte(uint32_t r, uint32_t i) {
    return (uint8_t)(0x81 + (r * 7 + i) % 0x3F);
}

static uint64_t word_of(uint8_t b) { return 0x0101010101010101ull * b; }

/* Shared with the reader thread; the main thread publishes a round by writing `round`
 * last, the reader answers through `started` and `acked`. */
static struct {
    volatile zx_handle_t snap;
    volatile uint32_t round;
    volatile uint32_t started;
    volatile uint32_t done;
    volatile uint32_t acked;
    volatile bool quit;
    volatile uint64_t reads;
    volatile uint64_t bad_words;   /* words with a byte neither old nor mine */
    volatile uint64_t read_errors; /* zx_vmo_read failures */
    volatile uint32_t bad_round;   /* the last round that saw a bad word */
    volatile uint32_t bad_rounds;  /* rounds that saw one */
    volatile uint64_t bad_value;
} g;

static uint64_t rbuf[PAGES * WORDS_PER_PAGE];
static uint8_t wbuf[PAGES * P];

/* Sleeps 1 ms at a time until *v == want (false after 10 s). */
static bool wait_for(volatile uint32_t *v, uint32_t want) {
    zx_time_t deadline = zx_deadline_after(10 * TU_SEC);
    while (*v != want) {
        if (zx_clock_get_monotonic() > deadline)
            return false;
        zx_nanosleep(zx_deadline_after(TU_MS));
    }
    return true;
}

/* True if every byte of w is ob or mb. A copy that overlaps a write of the same page on
 * another CPU may see part of a word old and part new (neither copy is atomic per word),
 * which is fine: what must never appear is a byte C never held. */
static bool bytes_old_or_mine(uint64_t w, uint8_t ob, uint8_t mb) {
    for (int k = 0; k < 8; k++, w >>= 8)
        if ((uint8_t)w != ob && (uint8_t)w != mb)
            return false;
    return true;
}

/* Every byte of every page must be page i's old or mine content of round r. */
static void check_read(uint32_t r) {
    for (uint32_t i = 0; i < PAGES; i++) {
        uint64_t a = word_of(old_byte(r, i)), b = word_of(mine_byte(r, i));
        const uint64_t *w = &rbuf[i * WORDS_PER_PAGE];
        for (uint32_t k = 0; k < WORDS_PER_PAGE; k++) {
            if (w[k] != a && w[k] != b &&
                !bytes_old_or_mine(w[k], old_byte(r, i), mine_byte(r, i))) {
                g.bad_words = g.bad_words + 1;
                if (g.bad_round != r)
                    g.bad_rounds = g.bad_rounds + 1;
                g.bad_round = r;
                g.bad_value = w[k];
            }
        }
    }
}

static void reader_fn(uintptr_t unused1, uintptr_t unused2) {
    (void)unused1;
    (void)unused2;
    uint32_t last = 0;
    while (!g.quit) {
        uint32_t r = g.round;
        if (r == last) {
            zx_nanosleep(zx_deadline_after(TU_MS));
            continue;
        }
        zx_handle_t snap = g.snap;
        g.started = r;
        while (g.done != r) {
            if (zx_vmo_read(snap, rbuf, 0, sizeof(rbuf)) != ZX_OK)
                g.read_errors = g.read_errors + 1;
            else
                check_read(r);
            g.reads = g.reads + 1;
        }
        last = r;
        g.acked = r;
    }
    zx_thread_exit();
}

/* A PAGES-page VMO whose page i is filled with f(r, i). */
static zx_status_t fill_pages(zx_handle_t vmo, uint32_t r, uint8_t (*f)(uint32_t, uint32_t)) {
    for (uint32_t i = 0; i < PAGES; i++)
        memset(wbuf + i * P, f(r, i), P);
    return zx_vmo_write(vmo, wbuf, 0, sizeof(wbuf));
}

/*
 * One round: P (old content), C = snapshot(P); once the reader copies from C, C writes
 * every page (C takes private copies: P still sees the old pages), then P writes every
 * page (nobody else sees the old pages now, so they are P's alone), then P is closed
 * (its pages are freed). Returns false if a step failed.
 */
static bool one_round(uint32_t r) {
    zx_handle_t p, c;
    if (zx_vmo_create(PAGES * P, 0, &p) != ZX_OK)
        return false;
    bool ok = fill_pages(p, r, old_byte) == ZX_OK &&
              zx_vmo_create_child(p, ZX_VMO_CHILD_SNAPSHOT, 0, PAGES * P, &c) == ZX_OK;
    if (!ok) {
        zx_handle_close(p);
        return false;
    }
    g.snap = c;
    g.done = 0;
    g.round = r;
    ok = wait_for(&g.started, r);
    ok = ok && fill_pages(c, r, mine_byte) == ZX_OK;
    ok = ok && fill_pages(p, r, theirs_byte) == ZX_OK;
    zx_handle_close(p);
    g.done = r;
    ok = wait_for(&g.acked, r) && ok;
    zx_handle_close(c);
    return ok;
}

TEST(CowPins, ReaderOfSnapshotNeverSeesLaterWritesOrFreedPages) {
    static tu_thread_t t;
    memset((void *)&g, 0, sizeof(g));
    memset(rbuf, 0, sizeof(rbuf)); /* commit the buffers before the reader starts */
    memset(wbuf, 0, sizeof(wbuf));
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, reader_fn, 0, 0));
    uint32_t r = 1;
    for (; r <= ROUNDS; r++)
        if (!one_round(r))
            break;
    g.quit = true;
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    tu_thread_destroy(&t);
    EXPECT_EQ(r, ROUNDS + 1);
    EXPECT_EQ(g.read_errors, 0u);
    EXPECT_GT(g.reads, (uint64_t)ROUNDS);
    if (g.bad_words)
        printf("%u of %u rounds read bad data, e.g. %#lx in round %u\n", g.bad_rounds, ROUNDS,
               (unsigned long)g.bad_value, g.bad_round);
    EXPECT_EQ(g.bad_words, 0u);
}
