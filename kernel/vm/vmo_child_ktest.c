/*
 * In-kernel tests of VMO children (run with test=vmo_child or test=all): slices and
 * copy-on-write snapshots, their error codes, freeing in every order, and the unmap_range
 * calls mappings get.
 *
 * As in vmo_ktest.c, NO_MEMORY (fault injection) ends a test early as a skip via
 * TRY/"goto out", and the cleanup after `out:` always runs: the runner checks that free
 * pages and heap bytes are unchanged after every test, which is the leak check here.
 */
#include <kernel/ktest.h>
#include <kernel/types.h>
#include <lib/string.h>
#include <phys/pmm.h>
#include <vm/vmo.h>

#include "vmo_ktest_util.h"
#include "vmo_priv.h"

#define P ((uint64_t)PAGE_SIZE)
#define BYTE_A 0x11
#define BYTE_B 0x22
#define BYTE_C 0x33
#define BYTE_D 0x44

static uint8_t page_buf[PAGE_SIZE];

/* Fills the page at `off` with `byte`. */
static zx_status_t fill(vmo_t *vmo, uint64_t off, uint8_t byte) {
    memset(page_buf, byte, sizeof(page_buf));
    return vmo_write(vmo, off, PAGE_SIZE, copy_in, page_buf);
}

/* True if every byte of the page at `off` reads as `byte`. */
static bool page_is(vmo_t *vmo, uint64_t off, uint8_t byte) {
    memset(page_buf, ~byte, sizeof(page_buf));
    if (vmo_read(vmo, off, PAGE_SIZE, copy_out, page_buf) != ZX_OK)
        return false;
    for (size_t i = 0; i < sizeof(page_buf); i++) {
        if (page_buf[i] != byte)
            return false;
    }
    return true;
}

static void unref_if(vmo_t *vmo) {
    if (vmo)
        vmo_unref(vmo);
}


/* ---- Snapshots ------------------------------------------------------------------------ */

/* Parent: pages 0..3 = A. Returns NO_MEMORY (parent NULL) or OK. */
static zx_status_t make_filled(uint64_t pages, uint32_t options, vmo_t **out) {
    *out = NULL;
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(pages * P, options, &vmo);
    if (st != ZX_OK)
        return st;
    for (uint64_t i = 0; i < pages && st == ZX_OK; i++)
        st = fill(vmo, i * P, BYTE_A);
    if (st != ZX_OK) {
        vmo_unref(vmo);
        return st;
    }
    *out = vmo;
    return ZX_OK;
}

static void isolation_body(struct ktest_ctx *ktx, bool parent_dies_first) {
    vmo_t *parent = NULL, *child = NULL;
    TRY(make_filled(4, 0, &parent));
    TRY(vmo_create_child(parent, VMO_CHILD_SNAPSHOT, 0, 4 * P, &child));
    EXPECT_EQ(vmo_committed_pages(child), 0u);
    EXPECT_TRUE(page_is(child, 0, BYTE_A));

    TRY(fill(parent, 0, BYTE_B)); /* the parent's write is not seen by the child */
    EXPECT_TRUE(page_is(parent, 0, BYTE_B));
    EXPECT_TRUE(page_is(child, 0, BYTE_A));
    TRY(fill(child, P, BYTE_C)); /* nor the child's by the parent */
    EXPECT_TRUE(page_is(child, P, BYTE_C));
    EXPECT_TRUE(page_is(parent, P, BYTE_A));
    EXPECT_TRUE(page_is(parent, 2 * P, BYTE_A));
    EXPECT_TRUE(page_is(child, 3 * P, BYTE_A));
    EXPECT_EQ(vmo_committed_pages(parent), 1u);
    EXPECT_EQ(vmo_committed_pages(child), 1u);
    EXPECT_STATUS(vmo_decommit(child, 0, P), ZX_ERR_NOT_SUPPORTED);

    if (parent_dies_first) {
        vmo_unref(parent);
        parent = NULL;
        /* The child took the pages it still sees. */
        EXPECT_TRUE(page_is(child, 0, BYTE_A));
        EXPECT_TRUE(page_is(child, P, BYTE_C));
        EXPECT_TRUE(page_is(child, 3 * P, BYTE_A));
        EXPECT_EQ(vmo_committed_pages(child), 4u);
        EXPECT_OK(vmo_decommit(child, 0, P)); /* a root again */
    } else {
        vmo_unref(child);
        child = NULL;
        EXPECT_TRUE(page_is(parent, 0, BYTE_B));
        EXPECT_TRUE(page_is(parent, P, BYTE_A));
        EXPECT_EQ(vmo_committed_pages(parent), 4u);
    }
out:
    unref_if(child);
    unref_if(parent);
}

KTEST(vmo_child, snapshot_isolation_child_dies_first) { isolation_body(ktx, false); }
KTEST(vmo_child, snapshot_isolation_parent_dies_first) { isolation_body(ktx, true); }

/* Snapshot of a snapshot, at an offset; destroyed middle first, then the others. */
KTEST(vmo_child, snapshot_chain) {
    vmo_t *p = NULL, *c1 = NULL, *c2 = NULL;
    TRY(make_filled(4, 0, &p));
    TRY(vmo_create_child(p, VMO_CHILD_SNAPSHOT, 0, 4 * P, &c1));
    TRY(fill(c1, 2 * P, BYTE_B));
    TRY(vmo_create_child(c1, VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, P, 3 * P, &c2));
    EXPECT_TRUE(page_is(c2, 0, BYTE_A));
    EXPECT_TRUE(page_is(c2, P, BYTE_B));
    TRY(fill(c1, 2 * P, BYTE_C)); /* after c2's creation: c2 keeps B */
    TRY(fill(p, 3 * P, BYTE_D));  /* p's write reaches nobody */
    EXPECT_TRUE(page_is(c2, P, BYTE_B));
    EXPECT_TRUE(page_is(c2, 2 * P, BYTE_A));
    EXPECT_TRUE(page_is(c1, 2 * P, BYTE_C));
    EXPECT_TRUE(page_is(c1, 3 * P, BYTE_A));
    TRY(fill(c2, 0, BYTE_D));
    EXPECT_TRUE(page_is(c1, P, BYTE_A));

    vmo_unref(c1);
    c1 = NULL;
    EXPECT_TRUE(page_is(c2, 0, BYTE_D));
    EXPECT_TRUE(page_is(c2, P, BYTE_B));
    EXPECT_TRUE(page_is(c2, 2 * P, BYTE_A));
    EXPECT_TRUE(page_is(p, 3 * P, BYTE_D));
    EXPECT_TRUE(page_is(p, 2 * P, BYTE_A));
    vmo_unref(p);
    p = NULL;
    EXPECT_TRUE(page_is(c2, 2 * P, BYTE_A));
    EXPECT_TRUE(page_is(c2, P, BYTE_B));
out:
    unref_if(c2);
    unref_if(c1);
    unref_if(p);
}

/* Origin tags (vm/vmo.h): snapshots and slices inherit the parent's tag, their offset 0
 * standing at the parent's origin offset plus their own offset; untagged VMOs stay so. */
#define ORIGIN_TAG 7u
KTEST(vmo_child, origin_tag_follows_children) {
    vmo_t *p = NULL, *c1 = NULL, *c2 = NULL, *s = NULL, *plain = NULL, *pc = NULL;
    uint64_t off = 99;
    TRY(make_filled(4, 0, &p));
    TRY(make_filled(1, 0, &plain));
    EXPECT_EQ(vmo_origin(p, &off), 0u);
    EXPECT_EQ(off, 99u); /* untouched without a tag */
    vmo_set_origin(p, ORIGIN_TAG);
    EXPECT_EQ(vmo_origin(p, &off), ORIGIN_TAG);
    EXPECT_EQ(off, 0u);
    TRY(vmo_create_child(p, VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, P, 3 * P, &c1));
    TRY(vmo_create_child(c1, VMO_CHILD_SNAPSHOT, P, 2 * P, &c2));
    TRY(vmo_create_child(c1, VMO_CHILD_SLICE, 2 * P, P, &s));
    TRY(vmo_create_child(plain, VMO_CHILD_SNAPSHOT, 0, P, &pc));
    EXPECT_EQ(vmo_origin(c1, &off), ORIGIN_TAG);
    EXPECT_EQ(off, P);
    EXPECT_EQ(vmo_origin(c2, &off), ORIGIN_TAG);
    EXPECT_EQ(off, 2 * P);
    EXPECT_EQ(vmo_origin(s, &off), ORIGIN_TAG);
    EXPECT_EQ(off, 3 * P);
    EXPECT_EQ(vmo_origin(pc, &off), 0u);
    /* A write into a child (its own page now) keeps the tag. */
    TRY(fill(c2, 0, BYTE_B));
    EXPECT_EQ(vmo_origin(c2, &off), ORIGIN_TAG);
out:
    unref_if(pc);
    unref_if(s);
    unref_if(c2);
    unref_if(c1);
    unref_if(plain);
    unref_if(p);
}

/*
 * The original takes its page tree back whole when its only snapshot dies: same nodes,
 * no allocation. (Rebuilding it page by page used to allocate new nodes while the hidden
 * node's were still alive; for a VMO of more than 64 pages, such as a boot module
 * program with a writable segment, that left one more heap page in use after every
 * first launch, reported by userboot as "LEAK ... 1 pages".)
 */
KTEST(vmo_child, snapshot_death_returns_tree_whole) {
    enum { PAGES = 130 };
    vmo_t *p = NULL, *c = NULL;
    TRY(make_filled(PAGES, 0, &p));
    struct page_tree_node *root = p->pages.root;
    TRY(vmo_create_child(p, VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 19 * P, P, &c));
    TRY(fill(c, 0, BYTE_B));
    vmo_unref(c);
    c = NULL;
    EXPECT_TRUE(p->parent == NULL);
    EXPECT_TRUE(p->pages.root == root);
    EXPECT_EQ(p->pages.count, (size_t)PAGES);
    EXPECT_TRUE(page_is(p, 19 * P, BYTE_A));
    EXPECT_TRUE(page_is(p, (PAGES - 1) * P, BYTE_A));
out:
    unref_if(c);
    unref_if(p);
}

/* Many snapshots of one VMO, dropped in creation order: no chain or page is left. */
KTEST(vmo_child, snapshot_repeated) {
    enum { ROUNDS = 8 };
    vmo_t *p = NULL, *c[ROUNDS] = {0};
    TRY(make_filled(2, 0, &p));
    for (int i = 0; i < ROUNDS; i++) {
        TRY(vmo_create_child(p, VMO_CHILD_SNAPSHOT, 0, 2 * P, &c[i]));
        TRY(fill(p, 0, (uint8_t)(BYTE_B + i)));
    }
    for (int i = 0; i < ROUNDS; i++) {
        EXPECT_TRUE(page_is(c[i], 0, i == 0 ? BYTE_A : (uint8_t)(BYTE_B + i - 1)));
        EXPECT_TRUE(page_is(c[i], P, BYTE_A));
    }
out:
    for (int i = 0; i < ROUNDS; i++)
        unref_if(c[i]);
    unref_if(p);
}

/*
 * The ELF-loader pattern: a long-lived, never-written VMO gets a copy-on-write child at an
 * offset that is written and dies. The VMO takes its own page tree back (the same nodes),
 * so repeating this does not move its nodes around the heap (userboot's per-program leak
 * check saw that as a page gained by one program and lost by the next).
 */
KTEST(vmo_child, snapshot_original_takes_its_tree_back) {
    vmo_t *p = NULL, *c = NULL;
    TRY(make_filled(4, 0, &p));
    const struct page_tree_node *root = p->pages.root;
    for (int round = 0; round < 3; round++) {
        TRY(vmo_create_child(p, VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, P, 2 * P, &c));
        TRY(fill(c, 0, BYTE_B));
        EXPECT_TRUE(page_is(c, P, BYTE_A));
        vmo_unref(c);
        c = NULL;
        EXPECT_TRUE(p->parent == NULL);
        EXPECT_TRUE(p->pages.root == root);
        EXPECT_EQ(p->pages.count, (size_t)4);
        for (uint64_t i = 0; i < 4; i++)
            EXPECT_TRUE(page_is(p, i * P, BYTE_A));
    }
out:
    unref_if(c);
    unref_if(p);
}

/* A child larger than what the parent has from offset reads zeros there. */
KTEST(vmo_child, snapshot_beyond_parent_reads_zero) {
    vmo_t *p = NULL, *c = NULL;
    TRY(make_filled(2, VMO_OPT_RESIZABLE, &p));
    TRY(vmo_create_child(p, VMO_CHILD_SNAPSHOT | VMO_CHILD_RESIZABLE, P, 4 * P, &c));
    EXPECT_EQ(vmo_size(c), 4 * P);
    EXPECT_TRUE(vmo_is_resizable(c));
    EXPECT_TRUE(page_is(c, 0, BYTE_A));
    EXPECT_TRUE(page_is(c, P, 0));
    EXPECT_TRUE(page_is(c, 3 * P, 0));

    /* Shrinking and growing the parent hides its old content for good. */
    TRY(vmo_set_size(p, P));
    TRY(vmo_set_size(p, 2 * P));
    EXPECT_TRUE(page_is(p, P, 0));
    EXPECT_TRUE(page_is(p, 0, BYTE_A));
    EXPECT_TRUE(page_is(c, 0, BYTE_A));
    TRY(vmo_set_size(c, 0));
    TRY(vmo_set_size(c, P));
    EXPECT_TRUE(page_is(c, 0, 0));
out:
    unref_if(c);
    unref_if(p);
}

/* zero and commit on a child: private pages, never the parent's. */
KTEST(vmo_child, snapshot_zero_and_commit) {
    vmo_t *p = NULL, *c = NULL;
    TRY(make_filled(4, 0, &p));
    TRY(vmo_create_child(p, VMO_CHILD_SNAPSHOT, 0, 4 * P, &c));
    TRY(vmo_zero(c, 0, P + P / 2)); /* page 0 whole, page 1 half */
    EXPECT_TRUE(page_is(c, 0, 0));
    memset(page_buf, 0xee, sizeof(page_buf));
    EXPECT_OK(vmo_read(c, P, PAGE_SIZE, copy_out, page_buf));
    EXPECT_EQ(page_buf[0], 0u);
    EXPECT_EQ(page_buf[PAGE_SIZE / 2 - 1], 0u);
    EXPECT_EQ(page_buf[PAGE_SIZE / 2], BYTE_A);
    EXPECT_TRUE(page_is(p, 0, BYTE_A));
    EXPECT_TRUE(page_is(p, P, BYTE_A));

    TRY(vmo_commit(c, 2 * P, 2 * P));
    EXPECT_EQ(vmo_committed_pages(c), 4u);
    EXPECT_TRUE(page_is(c, 2 * P, BYTE_A));
    TRY(vmo_commit(p, 0, 4 * P));
    EXPECT_EQ(vmo_committed_pages(p), 4u);
    EXPECT_TRUE(page_is(p, 3 * P, BYTE_A));
out:
    unref_if(c);
    unref_if(p);
}

/* ---- Slices --------------------------------------------------------------------------- */

KTEST(vmo_child, slice_shares_pages_both_ways) {
    vmo_t *p = NULL, *s = NULL, *ss = NULL;
    TRY(vmo_create_paged(4 * P, 0, &p));
    TRY(vmo_create_child(p, VMO_CHILD_SLICE, P, 2 * P, &s));
    EXPECT_EQ(vmo_size(s), 2 * P);
    TRY(fill(s, 0, BYTE_A));
    EXPECT_TRUE(page_is(p, P, BYTE_A));
    TRY(fill(p, 2 * P, BYTE_B));
    EXPECT_TRUE(page_is(s, P, BYTE_B));
    EXPECT_EQ(vmo_committed_pages(s), 0u);
    EXPECT_EQ(vmo_committed_pages(p), 2u);
    EXPECT_STATUS(vmo_read(s, P, PAGE_SIZE + 1, copy_out, page_buf), ZX_ERR_OUT_OF_RANGE);

    TRY(vmo_create_child(s, VMO_CHILD_SLICE | VMO_CHILD_NO_WRITE, P, P, &ss));
    EXPECT_TRUE(vmo_child_no_write(ss));
    EXPECT_FALSE(vmo_child_no_write(s));
    EXPECT_TRUE(page_is(ss, 0, BYTE_B));
    paddr_t pa_p, pa_s;
    bool w_p, w_s;
    TRY(vmo_get_page(p, 2 * P, false, &pa_p, &w_p));
    TRY(vmo_get_page(ss, 0, false, &pa_s, &w_s));
    EXPECT_EQ(pa_p, pa_s);
    EXPECT_STATUS(vmo_get_page(ss, P, false, &pa_s, &w_s), ZX_ERR_OUT_OF_RANGE);

    /* The parent dies first: the slices keep it alive. */
    vmo_unref(p);
    p = NULL;
    EXPECT_TRUE(page_is(s, 0, BYTE_A));
    TRY(vmo_decommit(ss, 0, P));
    EXPECT_TRUE(page_is(s, P, 0));
out:
    unref_if(ss);
    unref_if(s);
    unref_if(p);
}

/* A slice's mappings hear about changes made through the parent, in slice offsets. */
KTEST(vmo_child, slice_mappings_get_unmaps) {
    vmo_t *p = NULL, *s = NULL;
    struct rec_link r;
    bool added = false;
    TRY(vmo_create_paged(4 * P, 0, &p));
    TRY(vmo_create_child(p, VMO_CHILD_SLICE, P, 2 * P, &s));
    rec_init(&r, 0, 2 * P);
    vmo_add_mapping(s, &r.link);
    added = true;
    EXPECT_EQ(vmo_mapping_count(s), 1u);
    EXPECT_EQ(vmo_mapping_count(p), 0u);
    paddr_t zpa;
    bool zw;
    TRY(vmo_get_page(s, 0, false, &zpa, &zw)); /* a read fault maps the zero page */
    TRY(fill(p, 2 * P, BYTE_A)); /* commits: the zero page may be mapped there */
    EXPECT_TRUE(rec_got_one(&r, P, P));
    EXPECT_OK(vmo_decommit(p, 0, 2 * P));
    EXPECT_TRUE(rec_got_one(&r, 0, P));
    EXPECT_OK(vmo_zero(s, P, P));
    EXPECT_TRUE(rec_got_one(&r, P, P));
out:
    if (added)
        vmo_remove_mapping(s, &r.link);
    unref_if(s);
    unref_if(p);
}

/* ---- Errors --------------------------------------------------------------------------- */

KTEST(vmo_child, error_codes) {
    vmo_t *p = NULL, *rp = NULL, *ct = NULL, *c = NULL, *s = NULL;
    TRY(vmo_create_paged(4 * P, 0, &p));
    TRY(vmo_create_paged(4 * P, VMO_OPT_RESIZABLE, &rp));
    EXPECT_STATUS(vmo_create_child(p, 0, 0, P, &c), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_child(p, VMO_CHILD_SNAPSHOT | VMO_CHILD_SLICE, 0, P, &c),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_child(p, VMO_CHILD_SNAPSHOT | VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
                                   0, P, &c),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_child(p, VMO_CHILD_SNAPSHOT | (1u << 1), 0, P, &c),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_child(p, VMO_CHILD_SLICE, 1, P, &c), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_child(p, VMO_CHILD_SLICE | VMO_CHILD_RESIZABLE, 0, P, &c),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_child(p, VMO_CHILD_SLICE, 3 * P, 2 * P, &c), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_child(p, VMO_CHILD_SLICE, 5 * P, 0, &c), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_child(p, VMO_CHILD_SLICE, UINT64_MAX - P + 1, 2 * P, &c),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_child(p, VMO_CHILD_SNAPSHOT | VMO_CHILD_RESIZABLE |
                                          VMO_CHILD_NO_WRITE, 0, P, &c),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_child(rp, VMO_CHILD_SLICE, 0, P, &c), ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(vmo_create_child(p, VMO_CHILD_SNAPSHOT, 1, P, &c), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_child(p, VMO_CHILD_SNAPSHOT, P, UINT64_MAX - P, &c),
                  ZX_ERR_OUT_OF_RANGE);
    /* The child's end in the family's root must not overflow (Zircon's rule). */
    EXPECT_STATUS(vmo_create_child(p, VMO_CHILD_SNAPSHOT, UINT64_MAX - P + 1, P, &c),
                  ZX_ERR_INVALID_ARGS);

    TRY(vmo_create_child(p, VMO_CHILD_SLICE, 0, 4 * P, &s));
    EXPECT_STATUS(vmo_create_child(s, VMO_CHILD_SNAPSHOT, 0, P, &c), ZX_ERR_NOT_SUPPORTED);
    EXPECT_FALSE(vmo_is_resizable(s));
    EXPECT_STATUS(vmo_set_size(s, P), ZX_ERR_UNAVAILABLE);

    TRY(vmo_create_contiguous(2 * P, 0, &ct));
    EXPECT_STATUS(vmo_create_child(ct, VMO_CHILD_SNAPSHOT, 0, P, &c), ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(vmo_create_child(ct, VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, P, &c),
                  ZX_ERR_NOT_SUPPORTED);
    TRY(vmo_create_child(ct, VMO_CHILD_SLICE, P, P, &c));
    EXPECT_EQ(vmo_type(c), VMO_TYPE_CONTIGUOUS);
    EXPECT_EQ(vmo_committed_pages(c), 0u);
    TRY(fill(c, 0, BYTE_A));
    EXPECT_TRUE(page_is(ct, P, BYTE_A));
    EXPECT_STATUS(vmo_decommit(c, 0, P), ZX_ERR_NOT_SUPPORTED);
out:
    unref_if(c);
    unref_if(s);
    unref_if(ct);
    unref_if(rp);
    unref_if(p);
}

/* ---- Mappings and copy-on-write -------------------------------------------------------- */

KTEST(vmo_child, snapshot_unmaps_parent_then_leaf_on_copy) {
    vmo_t *p = NULL, *c = NULL;
    struct rec_link rp, rc;
    bool p_added = false, c_added = false;
    TRY(make_filled(4, 0, &p));
    rec_init(&rp, 0, 4 * P);
    vmo_add_mapping(p, &rp.link);
    p_added = true;

    TRY(vmo_create_child(p, VMO_CHILD_SNAPSHOT, 0, 4 * P, &c));
    EXPECT_TRUE(rec_got_one(&rp, 0, 4 * P)); /* the parent lost write access */
    rec_init(&rc, 0, 4 * P);
    vmo_add_mapping(c, &rc.link);
    c_added = true;

    /* Reads of shared pages: the ancestor's page, read-only, for both. */
    paddr_t pa_c, pa_p;
    bool w_c, w_p;
    TRY(vmo_get_page(c, P, false, &pa_c, &w_c));
    TRY(vmo_get_page(p, P, false, &pa_p, &w_p));
    EXPECT_FALSE(w_c);
    EXPECT_FALSE(w_p);
    EXPECT_EQ(pa_c, pa_p);

    /* A write fault in the child copies, and the child's mappings drop that offset. */
    paddr_t pa_w;
    bool w_w;
    TRY(vmo_get_page(c, P, true, &pa_w, &w_w));
    EXPECT_TRUE(w_w);
    EXPECT_NE(pa_w, pa_p);
    EXPECT_TRUE(rec_got_one(&rc, P, P));
    EXPECT_EQ(rp.ncalls, 0u);
    EXPECT_TRUE(page_is(c, P, BYTE_A));
    TRY(vmo_get_page(c, P, false, &pa_c, &w_c)); /* now its own page */
    EXPECT_EQ(pa_c, pa_w);
    EXPECT_TRUE(w_c);

    /* And the same on the parent's side. */
    TRY(vmo_get_page(p, 0, true, &pa_w, &w_w));
    EXPECT_TRUE(w_w);
    EXPECT_TRUE(rec_got_one(&rp, 0, P));
    EXPECT_EQ(rc.ncalls, 0u);
out:
    if (c_added)
        vmo_remove_mapping(c, &rc.link);
    if (p_added)
        vmo_remove_mapping(p, &rp.link);
    unref_if(c);
    unref_if(p);
}

/* A slice of a physical VMO: forwards get_page, follows (and pins) the cache policy. */
#define PHYS_TEST_BASE 0xfd000000ull /* never touched: PHYSICAL VMOs own nothing */
KTEST(vmo_child, slice_of_physical) {
    vmo_t *p = NULL, *s = NULL;
    struct rec_link r;
    bool added = false;
    TRY(vmo_create_physical(PHYS_TEST_BASE, 4 * P, &p));
    TRY(vmo_create_child(p, VMO_CHILD_SLICE, P, P, &s));
    EXPECT_EQ(vmo_type(s), VMO_TYPE_PHYSICAL);
    paddr_t pa;
    bool w;
    EXPECT_OK(vmo_get_page(s, 0, false, &pa, &w));
    EXPECT_EQ(pa, PHYS_TEST_BASE + P);
    EXPECT_STATUS(vmo_set_cache_policy(s, VMO_CACHE_UNCACHED), ZX_ERR_NOT_SUPPORTED);
    rec_init(&r, 0, P);
    vmo_add_mapping(s, &r.link);
    added = true;
    EXPECT_STATUS(vmo_set_cache_policy(p, VMO_CACHE_UNCACHED), ZX_ERR_BAD_STATE);
    vmo_remove_mapping(s, &r.link);
    added = false;
    EXPECT_OK(vmo_set_cache_policy(p, VMO_CACHE_UNCACHED));
    EXPECT_EQ(vmo_cache_policy(s), VMO_CACHE_UNCACHED);
out:
    if (added)
        vmo_remove_mapping(s, &r.link);
    unref_if(s);
    unref_if(p);
}

/* A write needing a page only the writer can still see moves it instead of copying. */
KTEST(vmo_child, snapshot_write_takes_unshared_page) {
    vmo_t *p = NULL, *c = NULL;
    TRY(make_filled(4, 0, &p));
    TRY(vmo_create_child(p, VMO_CHILD_SNAPSHOT, 2 * P, 2 * P, &c));
    paddr_t shared0, shared2, pa;
    bool w;
    TRY(vmo_get_page(p, 0, false, &shared0, &w));
    TRY(vmo_get_page(p, 2 * P, false, &shared2, &w));
    EXPECT_FALSE(w);

    TRY(vmo_get_page(p, 0, true, &pa, &w)); /* outside the child's window: taken */
    EXPECT_TRUE(w);
    EXPECT_EQ(pa, shared0);
    TRY(vmo_get_page(p, 2 * P, true, &pa, &w)); /* the child sees it: copied */
    EXPECT_NE(pa, shared2);
    TRY(vmo_get_page(c, 0, true, &pa, &w)); /* the parent has its copy now: taken */
    EXPECT_EQ(pa, shared2);
    EXPECT_TRUE(page_is(c, 0, BYTE_A));
    EXPECT_TRUE(page_is(p, 0, BYTE_A));
    EXPECT_TRUE(page_is(p, 2 * P, BYTE_A));
    TRY(fill(c, 0, BYTE_B));
    EXPECT_TRUE(page_is(p, 2 * P, BYTE_A));
out:
    unref_if(c);
    unref_if(p);
}

/*
 * P's pages live two levels up (P snapshot -> C1, then P snapshot -> C2). Writing the
 * same page in all three leaves exactly one page per distinct content: the last writer
 * takes the ancestor page, whichever leaf it is. Round one (page 1) also warms the page
 * trees so that round two (page 0) allocates nothing but page copies; page 2 stays
 * shared so the ancestor's tree keeps its node.
 */
#define CHAIN_PAGES 3
#define CHAIN_COPIES 2 /* three writers of one shared page: two copies and one move */
KTEST(vmo_child, snapshot_chain_frees_unreachable_ancestor_page) {
    vmo_t *p = NULL, *c1 = NULL, *c2 = NULL;
    TRY(make_filled(CHAIN_PAGES, 0, &p));
    TRY(vmo_create_child(p, VMO_CHILD_SNAPSHOT, 0, CHAIN_PAGES * P, &c1));
    TRY(vmo_create_child(p, VMO_CHILD_SNAPSHOT, 0, CHAIN_PAGES * P, &c2));
    TRY(fill(c2, P, BYTE_B));
    TRY(fill(c1, P, BYTE_C));
    TRY(fill(p, P, BYTE_D));
    size_t free_before = pmm_count_free_pages();
    TRY(fill(p, 0, BYTE_B));
    TRY(fill(c1, 0, BYTE_C));
    TRY(fill(c2, 0, BYTE_D));
    EXPECT_EQ(free_before - pmm_count_free_pages(), (size_t)CHAIN_COPIES);
    EXPECT_TRUE(page_is(p, 0, BYTE_B));
    EXPECT_TRUE(page_is(c1, 0, BYTE_C));
    EXPECT_TRUE(page_is(c2, 0, BYTE_D));
    EXPECT_TRUE(page_is(c2, P, BYTE_B));
    EXPECT_TRUE(page_is(c1, P, BYTE_C));
    EXPECT_TRUE(page_is(p, P, BYTE_D));
    EXPECT_TRUE(page_is(c1, 2 * P, BYTE_A));
    EXPECT_TRUE(page_is(c2, 2 * P, BYTE_A));
out:
    unref_if(c2);
    unref_if(c1);
    unref_if(p);
}

/*
 * Offsets at the top of the 64-bit space (VMO_SIZE_MAX and children ending right below
 * 2^64): lookups through the windows, a zero of a huge range (the next-present walk
 * adds the offsets of every ancestor), a shrink that drops unseen ancestor pages, and
 * the merges that add a hidden node's offset to its remaining child's.
 */
KTEST(vmo_child, offsets_at_the_top_of_the_space) {
    vmo_t *p = NULL, *c = NULL, *g = NULL, *z = NULL;
    const uint64_t top = VMO_SIZE_MAX - 2 * P; /* the last two pages of p */
    TRY(vmo_create_paged(VMO_SIZE_MAX, 0, &p));
    TRY(fill(p, top, BYTE_A));
    TRY(fill(p, top + P, BYTE_B));
    TRY(vmo_create_child(p, VMO_CHILD_SNAPSHOT | VMO_CHILD_RESIZABLE, top, 2 * P, &c));
    EXPECT_TRUE(page_is(c, 0, BYTE_A));
    EXPECT_TRUE(page_is(c, P, BYTE_B));
    TRY(vmo_create_child(c, VMO_CHILD_SNAPSHOT, P, 4 * P, &g)); /* past c's end: zeros */
    EXPECT_TRUE(page_is(g, 0, BYTE_B));
    EXPECT_TRUE(page_is(g, P, 0));
    /* A sibling at the very last page below 2^64, seeing nothing of p. */
    TRY(vmo_create_child(p, VMO_CHILD_SNAPSHOT, UINT64_MAX - P + 1 - P, P, &z));
    EXPECT_TRUE(page_is(z, 0, 0));
    TRY(vmo_set_size(c, 0x20000)); /* its end: 2^64 - 2 pages */
    EXPECT_STATUS(vmo_set_size(c, 0x20000 + 2 * P), ZX_ERR_INVALID_ARGS);
    TRY(vmo_zero(c, 0, 0x20000)); /* a copy-on-write zero may need pages */
    EXPECT_TRUE(page_is(c, P, 0));
    EXPECT_TRUE(page_is(g, 0, BYTE_B)); /* g keeps what it saw */
    TRY(vmo_set_size(c, 0));
    unref_if(c); /* merges down to g */
    c = NULL;
    EXPECT_TRUE(page_is(g, 0, BYTE_B));
    unref_if(p);
    p = NULL;
    EXPECT_TRUE(page_is(g, 0, BYTE_B));
    EXPECT_TRUE(page_is(z, 0, 0));
out:
    unref_if(z);
    unref_if(g);
    unref_if(c);
    unref_if(p);
}
