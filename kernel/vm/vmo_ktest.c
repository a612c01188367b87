/*
 * In-kernel VMO tests (run with test=vmo or test=all).
 *
 * The PMM may be failing allocations on purpose (pmm.fail_every=N, pmm.fail_random=...),
 * so any step that allocates may return ZX_ERR_NO_MEMORY: that ends the test early as a
 * skip ("goto out"), never as a failure, but the cleanup after `out:` always runs, since
 * the runner checks that free pages and heap bytes are unchanged after every test.
 * Buffers are static (the tests run one at a time on the boot CPU) so that the stack
 * stays small and no test data comes from the heap.
 */
#include <kernel/ktest.h>
#include <kernel/types.h>
#include <lib/string.h>
#include <phys/physmap.h>
#include <phys/pmm.h>
#include <vm/vmo.h>
#include <phys/vm_page.h>

#include "vmo_ktest_util.h"

#define P ((uint64_t)PAGE_SIZE)
#define BUF_PAGES 5
#define BUF_BYTES (BUF_PAGES * PAGE_SIZE)
#define FILL_BYTE 0xa5
#define POISON_BYTE 0xff
#define CONTIG_ALIGN_LOG2 16                   /* 64 KiB */
#define PHYS_TEST_BASE 0xfd000000ull           /* never touched: PHYSICAL VMOs own nothing */
#define BIG_SPARSE_INDEX 4000                  /* far enough to need a second tree level */
#define ERR_FROM_CALLBACK ZX_ERR_IO            /* an error only a callback returns */

static uint8_t src_buf[BUF_BYTES];
static uint8_t dst_buf[BUF_BYTES];

static uint8_t pattern_byte(size_t i) { return (uint8_t)(i * 13 + 7); }

static void fill_pattern(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = pattern_byte(i);
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t byte) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] != byte)
            return false;
    }
    return true;
}

/* ---- Copy callbacks (ctx = the caller's buffer) ------------------------------------ */

static size_t counted_calls;
static zx_status_t copy_count(void *ctx, size_t done, void *kptr, size_t n) {
    counted_calls++;
    return ZX_OK;
}

/* Copies in the first chunk, then fails. */
static zx_status_t copy_in_then_fail(void *ctx, size_t done, void *kptr, size_t n) {
    if (done > 0)
        return ERR_FROM_CALLBACK;
    return copy_in(ctx, done, kptr, n);
}

static zx_status_t vmo_write_buf(vmo_t *vmo, uint64_t off, const void *buf, size_t n) {
    return vmo_write(vmo, off, n, copy_in, (void *)buf);
}

static zx_status_t vmo_read_buf(vmo_t *vmo, uint64_t off, void *buf, size_t n) {
    return vmo_read(vmo, off, n, copy_out, buf);
}


/* ---- Creation ---------------------------------------------------------------------- */

KTEST(vmo, create_paged_sizes) {
    vmo_t *vmo = NULL;
    EXPECT_STATUS(vmo_create_paged(VMO_SIZE_MAX + 1, 0, &vmo), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_create_paged(UINT64_MAX, 0, &vmo), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_create_paged(P, 1u << 5, &vmo), ZX_ERR_INVALID_ARGS);
    EXPECT_NULL(vmo);

    static const uint64_t sizes[] = {0, 1, P - 1, P, P + 1, 3 * P, VMO_SIZE_MAX - 1,
                                     VMO_SIZE_MAX};
    for (size_t i = 0; i < countof(sizes); i++) {
        zx_status_t st = vmo_create_paged(sizes[i], VMO_OPT_RESIZABLE, &vmo);
        if (st == ZX_ERR_NO_MEMORY)
            continue;
        EXPECT_OK(st);
        if (st != ZX_OK)
            continue;
        EXPECT_EQ(vmo_size(vmo), ROUNDUP(sizes[i], P));
        EXPECT_EQ(vmo_type(vmo), VMO_TYPE_PAGED);
        EXPECT_TRUE(vmo_is_resizable(vmo));
        EXPECT_EQ(vmo_committed_pages(vmo), 0u);
        EXPECT_EQ(vmo_cache_policy(vmo), VMO_CACHE_CACHED);
        EXPECT_EQ(vmo_mapping_count(vmo), 0u);
        vmo_unref(vmo);
    }
}

KTEST(vmo, create_contiguous_and_physical_errors) {
    vmo_t *vmo = NULL;
    EXPECT_STATUS(vmo_create_contiguous(0, 0, &vmo), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_contiguous(VMO_SIZE_MAX + 1, 0, &vmo), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_create_contiguous(P, 41, &vmo), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_physical(PHYS_TEST_BASE + 1, P, &vmo), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_physical(PHYS_TEST_BASE, 0, &vmo), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_create_physical(PHYS_TEST_BASE, VMO_SIZE_MAX + 1, &vmo),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_create_physical(UINT64_MAX - P + 1, 2 * P, &vmo), ZX_ERR_OUT_OF_RANGE);
    EXPECT_NULL(vmo);
    /* The very last page of the physical address space is fine. */
    zx_status_t st = vmo_create_physical(UINT64_MAX - P + 1, P, &vmo);
    if (st != ZX_ERR_NO_MEMORY) {
        EXPECT_OK(st);
        if (st == ZX_OK)
            vmo_unref(vmo);
    }
}

/* ---- commit / decommit / zero ------------------------------------------------------ */

KTEST(vmo, commit_decommit_counts) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(8 * P, 0, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);

    TRY(vmo_commit(vmo, 0, 3 * P));
    EXPECT_EQ(vmo_committed_pages(vmo), 3u);
    TRY(vmo_commit(vmo, P, 2 * P)); /* already committed: nothing new */
    EXPECT_EQ(vmo_committed_pages(vmo), 3u);
    TRY(vmo_commit(vmo, 4 * P + 100, P)); /* unaligned: covers pages 4 and 5 */
    EXPECT_EQ(vmo_committed_pages(vmo), 5u);
    TRY(vmo_commit(vmo, 7 * P, 0)); /* zero length covers nothing */
    EXPECT_EQ(vmo_committed_pages(vmo), 5u);

    size_t free_before = pmm_count_free_pages();
    EXPECT_OK(vmo_decommit(vmo, P, 2 * P));
    EXPECT_EQ(vmo_committed_pages(vmo), 3u);
    EXPECT_EQ(pmm_count_free_pages(), free_before + 2);
    EXPECT_OK(vmo_decommit(vmo, P, 2 * P)); /* nothing left there */
    EXPECT_OK(vmo_decommit(vmo, 8 * P, 0));
    EXPECT_EQ(vmo_committed_pages(vmo), 3u);

    /* Range checks: zero length at the size is fine, one past it is not. */
    EXPECT_OK(vmo_commit(vmo, 8 * P, 0));
    EXPECT_STATUS(vmo_commit(vmo, 8 * P + 1, 0), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_commit(vmo, 7 * P, 2 * P), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_commit(vmo, P, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_decommit(vmo, UINT64_MAX, 2), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_decommit(vmo, 8 * P + 1, 0), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_zero(vmo, 0, 8 * P + 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(vmo_committed_pages(vmo), 3u);

    TRY(vmo_commit(vmo, 0, 8 * P));
    EXPECT_EQ(vmo_committed_pages(vmo), 8u);
    EXPECT_OK(vmo_decommit(vmo, 0, 8 * P));
    EXPECT_EQ(vmo_committed_pages(vmo), 0u);
out:
    vmo_unref(vmo);
}

/* zero: whole pages decommitted, partial pages cleared in place, the rest untouched. */
KTEST(vmo, zero_partial_and_whole_pages) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(4 * P, 0, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);

    fill_pattern(src_buf, 4 * P);
    TRY(vmo_write_buf(vmo, 0, src_buf, 4 * P));
    EXPECT_EQ(vmo_committed_pages(vmo), 4u);

    const uint64_t lo = 100, hi = 2 * P + 200; /* page 0 tail, page 1, page 2 head */
    EXPECT_OK(vmo_zero(vmo, lo, hi - lo));
    EXPECT_EQ(vmo_committed_pages(vmo), 3u); /* page 1 went away */
    memset(dst_buf, POISON_BYTE, 4 * P);
    TRY(vmo_read_buf(vmo, 0, dst_buf, 4 * P));
    EXPECT_EQ(memcmp(dst_buf, src_buf, lo), 0);
    EXPECT_TRUE(all_bytes(dst_buf + lo, hi - lo, 0));
    EXPECT_EQ(memcmp(dst_buf + hi, src_buf + hi, 4 * P - hi), 0);

    /* Inside a single page: nothing is decommitted. */
    EXPECT_OK(vmo_zero(vmo, 3 * P + 10, 20));
    EXPECT_EQ(vmo_committed_pages(vmo), 3u);
    TRY(vmo_read_buf(vmo, 3 * P, dst_buf, P));
    EXPECT_EQ(memcmp(dst_buf, src_buf + 3 * P, 10), 0);
    EXPECT_TRUE(all_bytes(dst_buf + 10, 20, 0));
    EXPECT_EQ(memcmp(dst_buf + 30, src_buf + 3 * P + 30, P - 30), 0);

    /* Over uncommitted pages it allocates nothing. */
    EXPECT_OK(vmo_zero(vmo, P, P));
    EXPECT_OK(vmo_zero(vmo, 0, 0));
    EXPECT_OK(vmo_zero(vmo, 4 * P, 0));
    EXPECT_EQ(vmo_committed_pages(vmo), 3u);
    EXPECT_OK(vmo_zero(vmo, 0, 4 * P));
    EXPECT_EQ(vmo_committed_pages(vmo), 0u);
out:
    vmo_unref(vmo);
}

/* ---- read / write ------------------------------------------------------------------ */

KTEST(vmo, read_write_round_trip_unaligned) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(BUF_PAGES * P, 0, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);

    /* [4000, 4000 + 2P + 123) = [4000, 12315): pages 0..3, both ends partial */
    const uint64_t off = 4000;
    const size_t len = 2 * PAGE_SIZE + 123;
    fill_pattern(src_buf, len);
    TRY(vmo_write_buf(vmo, off, src_buf, len));
    EXPECT_EQ(vmo_committed_pages(vmo), 4u);
    memset(dst_buf, POISON_BYTE, len);
    TRY(vmo_read_buf(vmo, off, dst_buf, len));
    EXPECT_EQ(memcmp(dst_buf, src_buf, len), 0);

    /* Bytes around the written range read as zeros. */
    TRY(vmo_read_buf(vmo, 0, dst_buf, BUF_BYTES));
    EXPECT_TRUE(all_bytes(dst_buf, off, 0));
    EXPECT_EQ(memcmp(dst_buf + off, src_buf, len), 0);
    EXPECT_TRUE(all_bytes(dst_buf + off + len, BUF_BYTES - off - len, 0));

    /* Single bytes at odd places. */
    for (uint64_t o = 1; o < BUF_BYTES; o += 1237) {
        uint8_t b = (uint8_t)o, got = 0;
        TRY(vmo_write_buf(vmo, o, &b, 1));
        TRY(vmo_read_buf(vmo, o, &got, 1));
        EXPECT_EQ(got, b);
    }
out:
    vmo_unref(vmo);
}

KTEST(vmo, read_of_uncommitted_is_zero_and_commits_nothing) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(3 * P, 0, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    size_t free_before = pmm_count_free_pages();
    memset(dst_buf, POISON_BYTE, 3 * P);
    EXPECT_OK(vmo_read_buf(vmo, 0, dst_buf, 3 * P));
    EXPECT_TRUE(all_bytes(dst_buf, 3 * P, 0));
    EXPECT_OK(vmo_read_buf(vmo, 17, dst_buf, P));
    EXPECT_EQ(vmo_committed_pages(vmo), 0u);
    EXPECT_EQ(pmm_count_free_pages(), free_before);
    vmo_unref(vmo);
}

KTEST(vmo, read_write_range_errors) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(2 * P, 0, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    counted_calls = 0;
    EXPECT_OK(vmo_read(vmo, 2 * P, 0, copy_count, NULL));
    EXPECT_OK(vmo_write(vmo, 2 * P, 0, copy_count, NULL));
    EXPECT_STATUS(vmo_read(vmo, 2 * P + 1, 0, copy_count, NULL), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_write(vmo, 2 * P + 1, 0, copy_count, NULL), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_read(vmo, P, P + 1, copy_count, NULL), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_write(vmo, P, P + 1, copy_count, NULL), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_read(vmo, 1, SIZE_MAX, copy_count, NULL), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_write(vmo, UINT64_MAX, 2, copy_count, NULL), ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(counted_calls, 0u); /* checked before any copy */
    EXPECT_EQ(vmo_committed_pages(vmo), 0u);

    /* One call per page-bounded chunk. */
    EXPECT_OK(vmo_read(vmo, 100, P, copy_count, NULL));
    EXPECT_EQ(counted_calls, 2u);
    vmo_unref(vmo);
}

/* A callback error aborts the copy and is returned; what was written stays. */
KTEST(vmo, copy_error_aborts) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(3 * P, 0, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    fill_pattern(src_buf, 3 * P);
    st = vmo_write(vmo, 0, 3 * P, copy_in_then_fail, src_buf);
    if (st == ZX_ERR_NO_MEMORY)
        goto out;
    EXPECT_STATUS(st, ERR_FROM_CALLBACK);
    EXPECT_EQ(vmo_committed_pages(vmo), 2u); /* the second page was committed, then failed */
    TRY(vmo_read_buf(vmo, 0, dst_buf, P));
    EXPECT_EQ(memcmp(dst_buf, src_buf, P), 0);
out:
    vmo_unref(vmo);
}

/* ---- set_size ---------------------------------------------------------------------- */

KTEST(vmo, set_size_grow_shrink) {
    vmo_t *fixed = NULL, *vmo = NULL;
    zx_status_t st = vmo_create_paged(P, 0, &fixed);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    EXPECT_FALSE(vmo_is_resizable(fixed));
    EXPECT_STATUS(vmo_set_size(fixed, 2 * P), ZX_ERR_UNAVAILABLE);
    EXPECT_STATUS(vmo_set_size(fixed, 0), ZX_ERR_UNAVAILABLE);
    EXPECT_EQ(vmo_size(fixed), P);

    TRY(vmo_create_paged(4 * P, VMO_OPT_RESIZABLE, &vmo));
    EXPECT_STATUS(vmo_set_size(vmo, VMO_SIZE_MAX + 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_set_size(vmo, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(vmo_size(vmo), 4 * P);

    fill_pattern(src_buf, 4 * P);
    TRY(vmo_write_buf(vmo, 0, src_buf, 4 * P));
    EXPECT_OK(vmo_set_size(vmo, 10 * P + 1)); /* grow: nothing committed */
    EXPECT_EQ(vmo_size(vmo), 11 * P);
    EXPECT_EQ(vmo_committed_pages(vmo), 4u);

    /* Shrink to 100 bytes: three pages freed, the tail of page 0 cleared. */
    size_t free_before = pmm_count_free_pages();
    EXPECT_OK(vmo_set_size(vmo, 100));
    EXPECT_EQ(vmo_size(vmo), P);
    EXPECT_EQ(vmo_committed_pages(vmo), 1u);
    EXPECT_EQ(pmm_count_free_pages(), free_before + 3);
    TRY(vmo_read_buf(vmo, 0, dst_buf, P));
    EXPECT_EQ(memcmp(dst_buf, src_buf, 100), 0);
    EXPECT_TRUE(all_bytes(dst_buf + 100, P - 100, 0));
    EXPECT_STATUS(vmo_read_buf(vmo, P, dst_buf, 1), ZX_ERR_OUT_OF_RANGE);

    /* Grow again: the old contents do not come back. */
    EXPECT_OK(vmo_set_size(vmo, 4 * P));
    TRY(vmo_read_buf(vmo, P, dst_buf, 3 * P));
    EXPECT_TRUE(all_bytes(dst_buf, 3 * P, 0));
    EXPECT_OK(vmo_set_size(vmo, 0));
    EXPECT_EQ(vmo_committed_pages(vmo), 0u);
out:
    if (vmo)
        vmo_unref(vmo);
    vmo_unref(fixed);
}

/* ---- Mapping links ----------------------------------------------------------------- */

KTEST(vmo, mapping_links_get_clipped_unmaps) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(16 * P, VMO_OPT_RESIZABLE, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    struct rec_link a, b;
    rec_init(&a, 2 * P, 4 * P);  /* [2P, 6P) */
    rec_init(&b, 10 * P, 6 * P); /* [10P, 16P) */
    vmo_ref(vmo); /* each mapping holds a reference */
    vmo_add_mapping(vmo, &a.link);
    vmo_ref(vmo);
    vmo_add_mapping(vmo, &b.link);
    EXPECT_EQ(vmo_mapping_count(vmo), 2u);

    /* Calls happen whether or not pages are committed. */
    EXPECT_OK(vmo_decommit(vmo, 4 * P, 8 * P)); /* [4P, 12P) */
    EXPECT_TRUE(rec_got_one(&a, 4 * P, 2 * P));
    EXPECT_TRUE(rec_got_one(&b, 10 * P, 2 * P));

    EXPECT_OK(vmo_decommit(vmo, 100, 10)); /* page 0 only: neither link */
    EXPECT_EQ(a.ncalls + b.ncalls, 0u);

    EXPECT_OK(vmo_zero(vmo, P + 100, 2 * P)); /* whole page [2P, 3P) only */
    EXPECT_TRUE(rec_got_one(&a, 2 * P, P));
    EXPECT_EQ(b.ncalls, 0u);
    EXPECT_OK(vmo_zero(vmo, 2 * P + 1, P - 2)); /* inside one page: no unmap */
    EXPECT_EQ(a.ncalls + b.ncalls, 0u);

    EXPECT_OK(vmo_set_size(vmo, 12 * P)); /* drops [12P, 16P) */
    EXPECT_EQ(a.ncalls, 0u);
    EXPECT_TRUE(rec_got_one(&b, 12 * P, 4 * P));
    EXPECT_OK(vmo_set_size(vmo, 20 * P)); /* growing unmaps nothing */
    EXPECT_EQ(a.ncalls + b.ncalls, 0u);

    vmo_remove_mapping(vmo, &b.link);
    vmo_unref(vmo);
    EXPECT_EQ(vmo_mapping_count(vmo), 1u);
    EXPECT_OK(vmo_decommit(vmo, 0, 20 * P));
    EXPECT_TRUE(rec_got_one(&a, 2 * P, 4 * P));
    EXPECT_EQ(b.ncalls, 0u);
    vmo_remove_mapping(vmo, &a.link);
    vmo_unref(vmo);
    EXPECT_EQ(vmo_mapping_count(vmo), 0u);
    vmo_unref(vmo);
}

/*
 * A mapping may show the zero page (read-only) where nothing is committed, so committing
 * a page there must unmap it: by commit (once per hole), write and get_page(for_write).
 * Until the VMO has handed out the zero page no mapping can hold it, and commits tell no
 * one (the common write-first fault skips an MMU call).
 */
KTEST(vmo, committing_unmaps_zero_page_translations) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(8 * P, 0, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    struct rec_link a;
    rec_init(&a, 2 * P, 4 * P); /* [2P, 6P) */
    vmo_ref(vmo);
    vmo_add_mapping(vmo, &a.link);
    paddr_t pa;
    bool writable;
    uint8_t b = FILL_BYTE;

    TRY(vmo_commit(vmo, 0, 8 * P)); /* zero page never handed out: nobody to tell */
    EXPECT_EQ(a.ncalls, 0u);
    EXPECT_OK(vmo_decommit(vmo, 0, 8 * P));
    EXPECT_TRUE(rec_got_one(&a, 2 * P, 4 * P));
    EXPECT_OK(vmo_get_page(vmo, 7 * P, false, &pa, &writable)); /* a read fault */
    EXPECT_EQ(pa, vmo_zero_page_paddr());
    EXPECT_EQ(a.ncalls, 0u);

    TRY(vmo_commit(vmo, 0, 8 * P)); /* one hole, clipped to the link */
    EXPECT_TRUE(rec_got_one(&a, 2 * P, 4 * P));
    TRY(vmo_commit(vmo, 0, 8 * P)); /* nothing new */
    EXPECT_EQ(a.ncalls, 0u);

    EXPECT_OK(vmo_decommit(vmo, 3 * P, P));
    EXPECT_TRUE(rec_got_one(&a, 3 * P, P));
    TRY(vmo_commit(vmo, 0, 8 * P));
    EXPECT_TRUE(rec_got_one(&a, 3 * P, P));

    TRY(vmo_write_buf(vmo, 5 * P, &b, 1)); /* already committed */
    EXPECT_EQ(a.ncalls, 0u);
    EXPECT_OK(vmo_decommit(vmo, 5 * P, P));
    EXPECT_TRUE(rec_got_one(&a, 5 * P, P));
    TRY(vmo_write_buf(vmo, 5 * P + 1, &b, 1));
    EXPECT_TRUE(rec_got_one(&a, 5 * P, P));

    EXPECT_OK(vmo_decommit(vmo, 4 * P, P));
    EXPECT_TRUE(rec_got_one(&a, 4 * P, P));
    EXPECT_OK(vmo_get_page(vmo, 4 * P, false, &pa, &writable)); /* zero page: no change */
    EXPECT_EQ(a.ncalls, 0u);
    TRY(vmo_get_page(vmo, 4 * P, true, &pa, &writable));
    EXPECT_TRUE(rec_got_one(&a, 4 * P, P));
    TRY(vmo_get_page(vmo, 4 * P, true, &pa, &writable));
    EXPECT_EQ(a.ncalls, 0u);
out:
    vmo_remove_mapping(vmo, &a.link);
    vmo_unref(vmo);
    vmo_unref(vmo);
}

/* ---- get_page and for_each_committed ----------------------------------------------- */

KTEST(vmo, get_page_zero_page_then_commit) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(2 * P, 0, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    paddr_t pa = 0, pa2 = 0;
    bool writable = true;

    EXPECT_STATUS(vmo_get_page(vmo, 1, false, &pa, &writable), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmo_get_page(vmo, 2 * P, false, &pa, &writable), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmo_get_page(vmo, 2 * P, true, &pa, &writable), ZX_ERR_OUT_OF_RANGE);

    EXPECT_OK(vmo_get_page(vmo, P, false, &pa, &writable));
    EXPECT_EQ(pa, vmo_zero_page_paddr());
    EXPECT_FALSE(writable);
    EXPECT_EQ(vmo_committed_pages(vmo), 0u);
    EXPECT_TRUE(all_bytes(paddr_to_physmap(pa), P, 0));

    TRY(vmo_get_page(vmo, P, true, &pa, &writable));
    EXPECT_NE(pa, vmo_zero_page_paddr());
    EXPECT_TRUE(writable);
    EXPECT_EQ(vmo_committed_pages(vmo), 1u);
    vm_page_t *page = paddr_to_vm_page(pa);
    EXPECT_EQ(page->state, VM_PAGE_STATE_OBJECT);
    EXPECT_TRUE(page->object.object == vmo);
    EXPECT_EQ(page->object.page_offset, P);

    /* Now a read lookup finds the same page, writable; a write shows through it. */
    EXPECT_OK(vmo_get_page(vmo, P, false, &pa2, &writable));
    EXPECT_EQ(pa2, pa);
    EXPECT_TRUE(writable);
    uint8_t b = FILL_BYTE;
    TRY(vmo_write_buf(vmo, P + 5, &b, 1));
    EXPECT_EQ(((uint8_t *)paddr_to_physmap(pa))[5], FILL_BYTE);
out:
    vmo_unref(vmo);
}

struct page_list {
    size_t count;
    uint64_t off[MAX_REC_CALLS];
    paddr_t pa[MAX_REC_CALLS];
    size_t stop_after; /* return ERR_FROM_CALLBACK on this call (0 = never) */
};

static zx_status_t record_page(void *ctx, uint64_t offset, paddr_t pa) {
    struct page_list *l = ctx;
    if (l->count < MAX_REC_CALLS) {
        l->off[l->count] = offset;
        l->pa[l->count] = pa;
    }
    l->count++;
    return l->count == l->stop_after ? ERR_FROM_CALLBACK : ZX_OK;
}

KTEST(vmo, for_each_committed_skips_holes) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged((BIG_SPARSE_INDEX + 1) * P, 0, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    static const uint64_t idx[] = {1, 5, 70, BIG_SPARSE_INDEX};
    for (size_t i = 0; i < countof(idx); i++)
        TRY(vmo_commit(vmo, idx[i] * P, 1));

    struct page_list l = {0};
    EXPECT_OK(vmo_for_each_committed(vmo, 0, vmo_size(vmo), record_page, &l));
    ASSERT_EQ(l.count, countof(idx));
    for (size_t i = 0; i < countof(idx); i++) {
        EXPECT_EQ(l.off[i], idx[i] * P);
        paddr_t pa;
        bool w;
        EXPECT_OK(vmo_get_page(vmo, idx[i] * P, false, &pa, &w));
        EXPECT_EQ(l.pa[i], pa);
    }

    /* Partial pages at both ends are covered: [5P + 1, 70P + 1) holds 5 and 70. */
    memset(&l, 0, sizeof(l));
    EXPECT_OK(vmo_for_each_committed(vmo, 5 * P + 1, 65 * P, record_page, &l));
    EXPECT_EQ(l.count, 2u);
    EXPECT_EQ(l.off[0], 5 * P);
    EXPECT_EQ(l.off[1], 70 * P);

    memset(&l, 0, sizeof(l));
    l.stop_after = 2;
    EXPECT_STATUS(vmo_for_each_committed(vmo, 0, vmo_size(vmo), record_page, &l),
                  ERR_FROM_CALLBACK);
    EXPECT_EQ(l.count, 2u);

    memset(&l, 0, sizeof(l));
    EXPECT_OK(vmo_for_each_committed(vmo, 6 * P, 0, record_page, &l));
    EXPECT_STATUS(vmo_for_each_committed(vmo, 0, vmo_size(vmo) + 1, record_page, &l),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(l.count, 0u);
out:
    vmo_unref(vmo);
}

/* A VMO of the largest size: sparse, so only what is touched costs memory. */
KTEST(vmo, huge_sparse_vmo) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(VMO_SIZE_MAX, 0, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    uint8_t b = FILL_BYTE, got = 0;
    TRY(vmo_write_buf(vmo, VMO_SIZE_MAX - 1, &b, 1));
    TRY(vmo_read_buf(vmo, VMO_SIZE_MAX - 1, &got, 1));
    EXPECT_EQ(got, FILL_BYTE);
    EXPECT_EQ(vmo_committed_pages(vmo), 1u);
    EXPECT_STATUS(vmo_read_buf(vmo, VMO_SIZE_MAX, &got, 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_OK(vmo_decommit(vmo, 0, VMO_SIZE_MAX));
    EXPECT_EQ(vmo_committed_pages(vmo), 0u);
out:
    vmo_unref(vmo);
}

/* ---- Contiguous and physical VMOs -------------------------------------------------- */

struct contig_check {
    paddr_t expect;
    size_t count;
};

static zx_status_t check_consecutive(void *ctx, uint64_t offset, paddr_t pa) {
    struct contig_check *c = ctx;
    c->count++;
    return pa == c->expect + offset ? ZX_OK : ERR_FROM_CALLBACK;
}

KTEST(vmo, contiguous_is_contiguous) {
    enum { NPAGES = 5 };
    vmo_t *vmo;
    zx_status_t st = vmo_create_contiguous(NPAGES * P - 10, CONTIG_ALIGN_LOG2, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    EXPECT_EQ(vmo_type(vmo), VMO_TYPE_CONTIGUOUS);
    EXPECT_EQ(vmo_size(vmo), NPAGES * P);
    EXPECT_EQ(vmo_committed_pages(vmo), (size_t)NPAGES);
    EXPECT_FALSE(vmo_is_resizable(vmo));

    paddr_t base = 0, pa;
    bool writable = false;
    EXPECT_OK(vmo_get_page(vmo, 0, false, &base, &writable));
    EXPECT_TRUE(writable);
    EXPECT_TRUE(IS_ALIGNED(base, 1ull << CONTIG_ALIGN_LOG2));
    for (uint64_t i = 0; i < NPAGES; i++) {
        EXPECT_OK(vmo_get_page(vmo, i * P, i % 2 == 0, &pa, &writable));
        EXPECT_EQ(pa, base + i * P);
        vm_page_t *page = paddr_to_vm_page(pa);
        EXPECT_EQ(page->state, VM_PAGE_STATE_OBJECT);
        EXPECT_TRUE(page->object.object == vmo);
        EXPECT_TRUE(all_bytes(paddr_to_physmap(pa), P, 0)); /* created zeroed */
    }
    struct contig_check c = {.expect = base};
    EXPECT_OK(vmo_for_each_committed(vmo, 0, NPAGES * P, check_consecutive, &c));
    EXPECT_EQ(c.count, (size_t)NPAGES);

    EXPECT_STATUS(vmo_decommit(vmo, 0, P), ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(vmo_set_size(vmo, P), ZX_ERR_UNAVAILABLE);
    EXPECT_STATUS(vmo_set_cache_policy(vmo, VMO_CACHE_UNCACHED), ZX_ERR_NOT_SUPPORTED);
    EXPECT_OK(vmo_commit(vmo, 0, NPAGES * P));
    EXPECT_STATUS(vmo_commit(vmo, 0, NPAGES * P + 1), ZX_ERR_OUT_OF_RANGE);

    /* Read/write go straight to the run; zero clears bytes without decommitting. */
    fill_pattern(src_buf, NPAGES * P);
    EXPECT_OK(vmo_write_buf(vmo, 0, src_buf, NPAGES * P));
    EXPECT_EQ(memcmp(paddr_to_physmap(base), src_buf, NPAGES * P), 0);
    EXPECT_OK(vmo_zero(vmo, P + 1, 2 * P));
    EXPECT_OK(vmo_read_buf(vmo, 0, dst_buf, NPAGES * P));
    EXPECT_EQ(memcmp(dst_buf, src_buf, P + 1), 0);
    EXPECT_TRUE(all_bytes(dst_buf + P + 1, 2 * P, 0));
    EXPECT_EQ(memcmp(dst_buf + 3 * P + 1, src_buf + 3 * P + 1, 2 * P - 1), 0);
    EXPECT_EQ(vmo_committed_pages(vmo), (size_t)NPAGES);
    vmo_unref(vmo);
}

KTEST(vmo, physical_vmo_and_cache_policy) {
    vmo_t *vmo, *paged = NULL;
    zx_status_t st = vmo_create_physical(PHYS_TEST_BASE, 3 * P - 1, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    EXPECT_EQ(vmo_type(vmo), VMO_TYPE_PHYSICAL);
    EXPECT_EQ(vmo_size(vmo), 3 * P);
    EXPECT_EQ(vmo_committed_pages(vmo), 0u);
    EXPECT_EQ(vmo_cache_policy(vmo), VMO_CACHE_CACHED);

    paddr_t pa;
    bool writable = false;
    EXPECT_OK(vmo_get_page(vmo, 2 * P, false, &pa, &writable));
    EXPECT_EQ(pa, PHYS_TEST_BASE + 2 * P);
    EXPECT_TRUE(writable);
    struct contig_check c = {.expect = PHYS_TEST_BASE};
    EXPECT_OK(vmo_for_each_committed(vmo, P, 2 * P, check_consecutive, &c));
    EXPECT_EQ(c.count, 2u);

    counted_calls = 0;
    EXPECT_STATUS(vmo_read(vmo, 0, 1, copy_count, NULL), ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(vmo_write(vmo, 0, 1, copy_count, NULL), ZX_ERR_NOT_SUPPORTED);
    EXPECT_EQ(counted_calls, 0u);
    EXPECT_STATUS(vmo_decommit(vmo, 0, P), ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(vmo_zero(vmo, 0, P), ZX_ERR_NOT_SUPPORTED);
    EXPECT_OK(vmo_commit(vmo, 0, P));
    EXPECT_STATUS(vmo_set_size(vmo, P), ZX_ERR_UNAVAILABLE);

    EXPECT_STATUS(vmo_set_cache_policy(vmo, VMO_CACHE_WRITE_COMBINING + 1),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_OK(vmo_set_cache_policy(vmo, VMO_CACHE_UNCACHED_DEVICE));
    EXPECT_EQ(vmo_cache_policy(vmo), VMO_CACHE_UNCACHED_DEVICE);

    struct rec_link m;
    rec_init(&m, 0, 3 * P);
    vmo_ref(vmo);
    vmo_add_mapping(vmo, &m.link);
    EXPECT_STATUS(vmo_set_cache_policy(vmo, VMO_CACHE_UNCACHED), ZX_ERR_BAD_STATE);
    EXPECT_EQ(vmo_cache_policy(vmo), VMO_CACHE_UNCACHED_DEVICE);
    vmo_remove_mapping(vmo, &m.link);
    vmo_unref(vmo);
    EXPECT_EQ(m.ncalls, 0u);
    EXPECT_OK(vmo_set_cache_policy(vmo, VMO_CACHE_WRITE_COMBINING));
    EXPECT_EQ(vmo_cache_policy(vmo), VMO_CACHE_WRITE_COMBINING);

    TRY(vmo_create_paged(P, 0, &paged));
    EXPECT_STATUS(vmo_set_cache_policy(paged, VMO_CACHE_UNCACHED), ZX_ERR_NOT_SUPPORTED);
out:
    if (paged)
        vmo_unref(paged);
    vmo_unref(vmo);
}

/* ---- Pages pinned by a copy in flight ---------------------------------------------- */

/*
 * Copy callbacks run without the VMO lock and may call back into the same VMO. A page
 * decommitted under a copy must stay intact (and allocated) until every copy using it is
 * done; the runner's leak check then proves it was freed, and the PMM would panic on a
 * second free. The callbacks have no test context, so they record statuses in statics.
 */
static vmo_t *pin_vmo;
static zx_status_t pin_inner_status;
static size_t pin_freed_early; /* callbacks that saw their page already freed */
static uint8_t inner_buf[PAGE_SIZE];

/* Counts the copy's page as freed early unless it is still a VMO page. */
static void check_still_owned(void *kptr) {
    vm_page_t *page = paddr_to_vm_page(physmap_to_paddr(kptr));
    if (page->state != VM_PAGE_STATE_OBJECT)
        pin_freed_early++;
}

static zx_status_t decommit_then_copy_out(void *ctx, size_t done, void *kptr, size_t n) {
    pin_inner_status = vmo_decommit(pin_vmo, 0, vmo_size(pin_vmo));
    check_still_owned(kptr);
    return copy_out(ctx, done, kptr, n);
}

/* A read inside a read: the same page pinned twice, decommitted by the inner copy. */
static zx_status_t nested_read_then_copy_out(void *ctx, size_t done, void *kptr, size_t n) {
    zx_status_t st = vmo_read(pin_vmo, 0, PAGE_SIZE, decommit_then_copy_out, inner_buf);
    if (st != ZX_OK)
        return st;
    check_still_owned(kptr);
    return copy_out(ctx, done, kptr, n);
}

static zx_status_t shrink_then_copy_in(void *ctx, size_t done, void *kptr, size_t n) {
    if (done == 0)
        pin_inner_status = vmo_set_size(pin_vmo, PAGE_SIZE);
    return copy_in(ctx, done, kptr, n);
}

KTEST(vmo, decommit_during_copy) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(2 * P, 0, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    pin_vmo = vmo;
    fill_pattern(src_buf, P);
    TRY(vmo_write_buf(vmo, 0, src_buf, P));

    memset(dst_buf, POISON_BYTE, P);
    pin_inner_status = ZX_ERR_INTERNAL;
    pin_freed_early = 0;
    EXPECT_OK(vmo_read(vmo, 0, P, decommit_then_copy_out, dst_buf));
    EXPECT_EQ(pin_freed_early, 0u);
    EXPECT_OK(pin_inner_status);
    EXPECT_EQ(memcmp(dst_buf, src_buf, P), 0); /* the pinned page was still intact */
    EXPECT_EQ(vmo_committed_pages(vmo), 0u);
    TRY(vmo_read_buf(vmo, 0, dst_buf, P));
    EXPECT_TRUE(all_bytes(dst_buf, P, 0));

    /* Twice pinned: the inner copy drops its pin first, the outer one frees the page. */
    TRY(vmo_write_buf(vmo, 0, src_buf, P));
    memset(dst_buf, POISON_BYTE, P);
    memset(inner_buf, POISON_BYTE, P);
    pin_inner_status = ZX_ERR_INTERNAL;
    st = vmo_read(vmo, 0, P, nested_read_then_copy_out, dst_buf);
    if (st == ZX_ERR_NO_MEMORY)
        goto out;
    EXPECT_OK(st);
    EXPECT_OK(pin_inner_status);
    EXPECT_EQ(pin_freed_early, 0u);
    EXPECT_EQ(memcmp(inner_buf, src_buf, P), 0);
    EXPECT_EQ(memcmp(dst_buf, src_buf, P), 0);
    EXPECT_EQ(vmo_committed_pages(vmo), 0u);
out:
    pin_vmo = NULL;
    vmo_unref(vmo);
}

/* A shrink between two chunks of a write ends it with OUT_OF_RANGE, past the new end. */
KTEST(vmo, shrink_during_write) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(3 * P, VMO_OPT_RESIZABLE, &vmo);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    pin_vmo = vmo;
    fill_pattern(src_buf, 3 * P);
    pin_inner_status = ZX_ERR_INTERNAL;
    st = vmo_write(vmo, 0, 3 * P, shrink_then_copy_in, src_buf);
    if (st == ZX_ERR_NO_MEMORY)
        goto out;
    EXPECT_STATUS(st, ZX_ERR_OUT_OF_RANGE);
    EXPECT_OK(pin_inner_status);
    EXPECT_EQ(vmo_size(vmo), P);
    EXPECT_EQ(vmo_committed_pages(vmo), 1u);
    TRY(vmo_read_buf(vmo, 0, dst_buf, P));
    EXPECT_EQ(memcmp(dst_buf, src_buf, P), 0);
out:
    pin_vmo = NULL;
    vmo_unref(vmo);
}
