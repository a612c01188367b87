/*
 * Host tests of the VMO rules that hostile callers lean on (kernel/vm/vmo_priv.h,
 * "Pins" and "Costs"), deterministic: each copy callback changes the family in the
 * middle of a copy, the way another thread would while the copy runs without the lock.
 *
 *   - Pins: the page a read copies from keeps its content and is not freed whatever
 *     happens to the family meanwhile (writes that take or copy it, the death of its
 *     owner, decommit, zero, shrink); a page a write is copying into stays with the
 *     writer when the VMO is snapshotted meanwhile. The PMM itself refuses to free a
 *     pinned page, so a path that forgets a pin panics here.
 *   - Huge sparse ranges: zero, decommit, commit and shrink over 2^62 bytes of VMOs and
 *     snapshots holding a handful of pages return (a per-index loop would not).
 *   - Kills: a long operation stops at its next lock break once the thread is killed.
 *   - The copy-on-write depth cap.
 */
#include "htest.h"

#include <phys/heap.h>
#include <phys/physmap.h>
#include <phys/pmm.h>
#include <vm/vmo.h>

#include "mmu_host_env.h"
#include "vmo_host.h"

#define HUGE (1ull << 62)

static uint8_t buf[4 * PAGE_SIZE];

/* Writes byte c over [off, off + len) of vmo. */
static zx_status_t fill(vmo_t *vmo, uint64_t off, uint64_t len, uint8_t c) {
    memset(buf, c, len);
    struct copy_ctx ctx = {buf, 0};
    return vmo_write(vmo, off, len, copy_in, &ctx);
}

/* True if [off, off + len) of vmo reads as byte c. */
static bool holds(vmo_t *vmo, uint64_t off, uint64_t len, uint8_t c) {
    memset(buf, c ^ 0xFF, len);
    struct copy_ctx ctx = {buf, 0};
    if (vmo_read(vmo, off, len, copy_out, &ctx) != ZX_OK)
        return false;
    for (uint64_t i = 0; i < len; i++)
        if (buf[i] != c)
            return false;
    return true;
}

static bool all(const void *p, size_t n, uint8_t c) {
    for (size_t i = 0; i < n; i++)
        if (((const uint8_t *)p)[i] != c)
            return false;
    return true;
}

/* ---- Pins ---------------------------------------------------------------------------- */

enum meddle {
    MEDDLE_TAKE_AND_DESTROY, /* the repro: C writes, P writes (takes), P dies */
    MEDDLE_DECOMMIT,         /* the reader's own VMO: decommit, zero, shrink */
    MEDDLE_ZERO,
    MEDDLE_SHRINK,
    MEDDLE_NESTED_DECOMMIT,  /* a second read of the same page inside the first */
};

struct meddler {
    enum meddle how;
    vmo_t *p, *c; /* parent and snapshot (NULL once gone) */
    uint8_t old;        /* the content the copy must keep seeing */
    bool checked;
    bool intact;        /* the page under the copy still held `old` after meddling */
    size_t free_after;  /* PMM free pages right after the meddling */
    uint8_t out[PAGE_SIZE];
};

/* Inner read for MEDDLE_NESTED_DECOMMIT: decommits under both pins. */
static zx_status_t nested_cb(void *ctx, size_t done, void *kptr, size_t n) {
    struct meddler *m = ctx;
    EXPECT_OK(vmo_decommit(m->p, 0, P));
    EXPECT_TRUE(all(kptr, n, m->old));
    return ZX_OK;
}

static zx_status_t meddle_cb(void *ctx, size_t done, void *kptr, size_t n) {
    struct meddler *m = ctx;
    switch (m->how) {
    case MEDDLE_TAKE_AND_DESTROY:
        EXPECT_OK(fill(m->c, 0, P, 0xB2));    /* C's private copy: P still sees the page */
        EXPECT_OK(fill(m->p, 0, P, 0xC3));    /* only P sees it now: taken, or copied */
        vmo_unref(m->p);                      /* P dies: its pages are freed */
        m->p = NULL;
        break;
    case MEDDLE_DECOMMIT: EXPECT_OK(vmo_decommit(m->p, 0, P)); break;
    case MEDDLE_ZERO: EXPECT_OK(vmo_zero(m->p, 0, 2 * P)); break;
    case MEDDLE_SHRINK: EXPECT_OK(vmo_set_size(m->p, 0)); break;
    case MEDDLE_NESTED_DECOMMIT: EXPECT_OK(vmo_read(m->p, 0, P, nested_cb, m)); break;
    }
    m->free_after = pmm_count_free_pages();
    m->intact = all(kptr, n, m->old);
    m->checked = true;
    memcpy(m->out + done, kptr, n);
    return ZX_OK;
}

/* The repro of issue 12 item 8, without the timing: everything happens mid-copy. */
HTEST(vmo_pins, snapshot_reader_keeps_page_through_take_and_parent_death) {
    env_start();
    struct meddler m = {.how = MEDDLE_TAKE_AND_DESTROY, .old = 0xA1};
    ASSERT_OK(vmo_create_paged(2 * P, 0, &m.p));
    ASSERT_OK(fill(m.p, 0, 2 * P, 0xA1));
    ASSERT_OK(vmo_create_child(m.p, VMO_CHILD_SNAPSHOT, 0, 2 * P, &m.c));
    EXPECT_OK(vmo_read(m.c, 0, P, meddle_cb, &m));
    EXPECT_TRUE(m.checked);
    EXPECT_TRUE(m.intact);
    EXPECT_TRUE(all(m.out, P, 0xA1));
    /* The old page was still held during the copy and is freed now that it is over. */
    EXPECT_EQ(pmm_count_free_pages(), m.free_after + 1);
    EXPECT_TRUE(holds(m.c, 0, P, 0xB2));
    EXPECT_TRUE(holds(m.c, P, P, 0xA1));
    vmo_unref(m.c);
    ENV_END();
}

/* The reader's own VMO drops the page: it is orphaned, then freed by the unpin. */
static void own_vmo_drops_page(enum meddle how) {
    env_start();
    struct meddler m = {.how = how, .old = 0x5A};
    ASSERT_OK(vmo_create_paged(2 * P, VMO_OPT_RESIZABLE, &m.p));
    ASSERT_OK(fill(m.p, 0, 2 * P, 0x5A));
    EXPECT_OK(vmo_read(m.p, 0, P, meddle_cb, &m));
    EXPECT_TRUE(m.checked);
    EXPECT_TRUE(m.intact);
    EXPECT_TRUE(all(m.out, P, 0x5A));
    EXPECT_EQ(pmm_count_free_pages(), m.free_after + 1);
    EXPECT_EQ(vmo_committed_pages(m.p),
              how == MEDDLE_DECOMMIT || how == MEDDLE_NESTED_DECOMMIT ? 1u : 0u);
    vmo_unref(m.p);
    ENV_END();
}

HTEST(vmo_pins, decommit_orphans_page_under_copy) { own_vmo_drops_page(MEDDLE_DECOMMIT); }
HTEST(vmo_pins, zero_orphans_page_under_copy) { own_vmo_drops_page(MEDDLE_ZERO); }
HTEST(vmo_pins, shrink_orphans_page_under_copy) { own_vmo_drops_page(MEDDLE_SHRINK); }
HTEST(vmo_pins, two_pins_last_unpin_frees) { own_vmo_drops_page(MEDDLE_NESTED_DECOMMIT); }

/* A page the snapshot's sibling would take while a read of the snapshot's parent side
 * pins it from a hidden node two levels up. */
struct deep_take {
    vmo_t *p, *c1, *c2;
    bool intact;
};

static zx_status_t deep_take_cb(void *ctx, size_t done, void *kptr, size_t n) {
    struct deep_take *d = ctx;
    EXPECT_OK(fill(d->p, 0, P, 0x11));  /* P takes a copy (C1, C2 still see it) */
    EXPECT_OK(fill(d->c2, 0, P, 0x22)); /* C2 too (C1 still sees it) */
    vmo_unref(d->p);                    /* merges: the page now only C1 sees... */
    d->p = NULL;
    d->intact = all(kptr, n, 0x77);
    return ZX_OK;
}

/* C1 (the reader) sees the page through two hidden nodes; the others stop seeing it and
 * die around the copy. The page may then move into C1, never into another writer. */
HTEST(vmo_pins, reader_of_deep_snapshot_keeps_page_through_merges) {
    env_start();
    struct deep_take d = {0};
    ASSERT_OK(vmo_create_paged(P, 0, &d.p));
    ASSERT_OK(fill(d.p, 0, P, 0x77));
    ASSERT_OK(vmo_create_child(d.p, VMO_CHILD_SNAPSHOT, 0, P, &d.c1));
    ASSERT_OK(vmo_create_child(d.p, VMO_CHILD_SNAPSHOT, 0, P, &d.c2));
    uint8_t out[PAGE_SIZE];
    EXPECT_OK(vmo_read(d.c1, 0, P, copy_out, &(struct copy_ctx){out, 0}));
    EXPECT_OK(vmo_read(d.c1, 0, P, deep_take_cb, &d));
    EXPECT_TRUE(d.intact);
    EXPECT_OK(fill(d.c1, 0, P, 0x33)); /* C1 now owns (took) the page */
    EXPECT_TRUE(holds(d.c1, 0, P, 0x33));
    EXPECT_TRUE(holds(d.c2, 0, P, 0x22));
    vmo_unref(d.c2);
    vmo_unref(d.c1);
    ENV_END();
}

/* A write in flight when its VMO is snapshotted: the writer keeps its page (it goes on
 * writing there) and the snapshot gets the page as it was at that moment. */
struct snap_mid_write {
    vmo_t *p, *c;
};

static zx_status_t snap_mid_write_cb(void *ctx, size_t done, void *kptr, size_t n) {
    struct snap_mid_write *s = ctx;
    memset(kptr, 0xEE, n / 2);
    EXPECT_OK(vmo_create_child(s->p, VMO_CHILD_SNAPSHOT, 0, 2 * P, &s->c));
    memset((uint8_t *)kptr + n / 2, 0xEE, n - n / 2); /* must not reach the snapshot */
    return ZX_OK;
}

HTEST(vmo_pins, snapshot_mid_write_leaves_page_with_writer) {
    env_start();
    struct snap_mid_write s = {0};
    ASSERT_OK(vmo_create_paged(2 * P, 0, &s.p));
    ASSERT_OK(fill(s.p, 0, 2 * P, 0x44));
    EXPECT_OK(vmo_write(s.p, 0, P, snap_mid_write_cb, &s));
    ASSERT_NONNULL(s.c);
    EXPECT_TRUE(holds(s.p, 0, P, 0xEE));
    EXPECT_TRUE(holds(s.c, 0, P / 2, 0xEE)); /* what the write had done by then */
    EXPECT_TRUE(holds(s.c, P / 2, P / 2, 0x44));
    EXPECT_TRUE(holds(s.c, P, P, 0x44));
    EXPECT_EQ(vmo_committed_pages(s.p), 1u); /* the page being written stayed P's */
    /* P's later writes to the page stay P's: the snapshot's copy is not that page. */
    EXPECT_OK(fill(s.p, 0, P, 0x99));
    EXPECT_TRUE(holds(s.c, P / 2, P / 2, 0x44));
    vmo_unref(s.c);
    vmo_unref(s.p);
    ENV_END();
}

/* ---- Huge sparse ranges: work follows what exists, not the range ---------------------- */

/* 2^62 bytes with pages at three far-apart indices; zero, decommit and shrink return. */
HTEST(vmo_huge, plain_vmo_ops_follow_committed_pages) {
    env_start();
    vmo_t *v;
    ASSERT_OK(vmo_create_paged(HUGE, VMO_OPT_RESIZABLE, &v));
    ASSERT_OK(fill(v, 0, P, 1));
    ASSERT_OK(fill(v, HUGE / 2, P, 2));
    ASSERT_OK(fill(v, HUGE - P, P, 3));
    EXPECT_OK(vmo_zero(v, P / 2, HUGE - P)); /* partial first and last pages */
    EXPECT_TRUE(holds(v, 0, P / 2, 1));
    EXPECT_TRUE(holds(v, P / 2, P / 2, 0));
    EXPECT_TRUE(holds(v, HUGE / 2, P, 0));
    EXPECT_TRUE(holds(v, HUGE - P, P / 2, 0));
    EXPECT_TRUE(holds(v, HUGE - P / 2, P / 2, 3));
    EXPECT_EQ(vmo_committed_pages(v), 2u);
    EXPECT_OK(vmo_decommit(v, 0, HUGE));
    EXPECT_EQ(vmo_committed_pages(v), 0u);
    ASSERT_OK(fill(v, HUGE - P, P, 4));
    EXPECT_OK(vmo_set_size(v, P));
    EXPECT_EQ(vmo_committed_pages(v), 0u);
    EXPECT_OK(vmo_set_size(v, HUGE));
    EXPECT_TRUE(holds(v, HUGE - P, P, 0));
    vmo_unref(v);
    ENV_END();
}

/* A 2^62-byte snapshot (and a chain of them) of a two-page VMO. */
HTEST(vmo_huge, snapshot_ops_follow_ancestor_pages) {
    env_start();
    vmo_t *p, *c, *g;
    ASSERT_OK(vmo_create_paged(2 * P, 0, &p));
    ASSERT_OK(fill(p, 0, 2 * P, 7));
    ASSERT_OK(vmo_create_child(p, VMO_CHILD_SNAPSHOT | VMO_CHILD_RESIZABLE, 0, HUGE, &c));
    ASSERT_OK(vmo_create_child(c, VMO_CHILD_SNAPSHOT | VMO_CHILD_RESIZABLE, 0, HUGE, &g));
    ASSERT_OK(fill(c, HUGE - P, P, 8));
    EXPECT_OK(vmo_zero(g, 0, HUGE));
    EXPECT_TRUE(holds(g, 0, 2 * P, 0));
    EXPECT_TRUE(holds(c, 0, 2 * P, 7));
    EXPECT_TRUE(holds(c, HUGE - P, P, 8));
    EXPECT_TRUE(holds(p, 0, 2 * P, 7));
    EXPECT_OK(vmo_zero(c, P, HUGE - P));
    EXPECT_TRUE(holds(c, 0, P, 7));
    EXPECT_TRUE(holds(c, P, P, 0));
    EXPECT_TRUE(holds(c, HUGE - P, P, 0));
    EXPECT_STATUS(vmo_decommit(c, 0, HUGE), ZX_ERR_NOT_SUPPORTED);
    /* Shrink: gives up ancestor pages only c could see; g still sees its own view. */
    EXPECT_OK(vmo_set_size(c, 0));
    EXPECT_OK(vmo_set_size(c, HUGE));
    EXPECT_TRUE(holds(c, 0, 2 * P, 0));
    EXPECT_TRUE(holds(g, 0, 2 * P, 0));
    EXPECT_TRUE(holds(p, 0, 2 * P, 7));
    /* Commit of the whole range needs more memory than there is: NO_MEMORY, and the
     * pages committed so far stay until the VMO goes. */
    EXPECT_STATUS(vmo_commit(g, 0, HUGE), ZX_ERR_NO_MEMORY);
    EXPECT_GT(vmo_committed_pages(g), 2u);
    vmo_unref(g);
    EXPECT_OK(vmo_commit(c, HUGE - 4 * P, 4 * P));
    EXPECT_EQ(vmo_committed_pages(c), 4u);
    vmo_unref(c);
    vmo_unref(p);
    ENV_END();
}

/* ---- Kills ------------------------------------------------------------------------------ */

/* A killed thread's commit, zero and decommit stop at the next lock break. */
HTEST(vmo_huge, killed_thread_stops_long_operations) {
    env_start();
    vmo_t *p, *c, *v;
    ASSERT_OK(vmo_create_paged(P, 0, &p));
    ASSERT_OK(vmo_create_child(p, VMO_CHILD_SNAPSHOT, 0, HUGE, &c));
    ASSERT_OK(vmo_create_paged(HUGE, 0, &v));
    size_t free0 = pmm_count_free_pages();
    host_killed = true;
    EXPECT_STATUS(vmo_commit(c, 0, HUGE), ZX_ERR_INTERNAL_INTR_KILLED);
    size_t committed = vmo_committed_pages(c);
    EXPECT_GT(committed, 0u);
    EXPECT_LT(committed, free0 / 4); /* stopped long before memory ran out */
    EXPECT_STATUS(vmo_commit(v, 0, HUGE), ZX_ERR_INTERNAL_INTR_KILLED);
    committed = vmo_committed_pages(v);
    EXPECT_GT(committed, 0u);
    EXPECT_LT(committed, free0 / 4);
    EXPECT_STATUS(vmo_decommit(v, 0, HUGE), ZX_ERR_INTERNAL_INTR_KILLED);
    EXPECT_LT(vmo_committed_pages(v), committed);
    host_killed = false;
    EXPECT_OK(vmo_zero(v, 0, HUGE));
    EXPECT_EQ(vmo_committed_pages(v), 0u);
    vmo_unref(v);
    vmo_unref(c);
    vmo_unref(p);
    ENV_END();
}

/* ---- Depth cap ---------------------------------------------------------------------------- */

/* Snapshots of snapshots: VMO_COW_DEPTH_MAX of them (the last reads through that many
 * hidden nodes), then OUT_OF_RANGE; the content still reads through all of them. Freed
 * deepest first. */
HTEST(vmo_depth, chain_stops_at_the_cap) {
    env_start();
    static vmo_t *v[VMO_COW_DEPTH_MAX + 2];
    ASSERT_OK(vmo_create_paged(P, 0, &v[0]));
    ASSERT_OK(fill(v[0], 0, P, 0x6B));
    uint32_t n = 1;
    while (n <= VMO_COW_DEPTH_MAX + 1 &&
           vmo_create_child(v[n - 1], VMO_CHILD_SNAPSHOT, 0, P, &v[n]) == ZX_OK)
        n++;
    EXPECT_EQ(n, VMO_COW_DEPTH_MAX + 1);
    vmo_t *extra = NULL;
    EXPECT_STATUS(vmo_create_child(v[n - 1], VMO_CHILD_SNAPSHOT, 0, P, &extra),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_NULL(extra);
    EXPECT_TRUE(holds(v[n - 1], 0, P, 0x6B));
    EXPECT_OK(fill(v[n - 1], 0, P, 0x6C));
    EXPECT_TRUE(holds(v[n - 2], 0, P, 0x6B));
    /* A slice does not deepen anything. */
    EXPECT_OK(vmo_create_child(v[n - 1], VMO_CHILD_SLICE, 0, P, &extra));
    vmo_unref(extra);
    while (n > 0)
        vmo_unref(v[--n]);
    ENV_END();
}

/* One VMO snapshotted again and again, every snapshot alive: the original sinks one
 * level each time, so it hits the cap after VMO_COW_DEPTH_MAX snapshots too; a snapshot
 * dying lifts it again. */
HTEST(vmo_depth, siblings_stop_at_the_cap) {
    env_start();
    static vmo_t *c[VMO_COW_DEPTH_MAX + 1];
    vmo_t *p;
    ASSERT_OK(vmo_create_paged(P, 0, &p));
    ASSERT_OK(fill(p, 0, P, 0x3C));
    uint32_t n = 0;
    while (n <= VMO_COW_DEPTH_MAX &&
           vmo_create_child(p, VMO_CHILD_SNAPSHOT, 0, P, &c[n]) == ZX_OK)
        n++;
    EXPECT_EQ(n, VMO_COW_DEPTH_MAX);
    EXPECT_OK(fill(p, 0, P, 0x3D));
    EXPECT_TRUE(holds(c[0], 0, P, 0x3C));
    EXPECT_TRUE(holds(c[n - 1], 0, P, 0x3C));
    vmo_unref(c[n / 2]);
    c[n / 2] = NULL;
    vmo_t *again;
    EXPECT_OK(vmo_create_child(p, VMO_CHILD_SNAPSHOT, 0, P, &again));
    EXPECT_TRUE(holds(again, 0, P, 0x3D));
    vmo_unref(again);
    for (uint32_t i = 0; i < n; i++)
        if (c[i])
            vmo_unref(c[i]);
    vmo_unref(p);
    ENV_END();
}
