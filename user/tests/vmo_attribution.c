/*
 * Memory attribution in ZX_INFO_VMO (docs/architecture.md, "Memory attribution"):
 * committed_bytes counts every page a VMO can read (pages shared with copy-on-write
 * relatives count in full for each), committed_private_bytes the pages no other VMO
 * reads, committed_scaled_bytes (+ the fractional field, 2^63 = one byte) each page
 * divided by the number of VMOs reading it, so that the scaled figures of all VMOs add up
 * to the memory in use. Nothing is compressed, so populated_* equal committed_*.
 */
#include "vmo_util.h"

#define FRACTION_ONE (1ull << 63)

static uint8_t page_buf[4096];

/* A VMO of `pages` pages, every page written (so committed). */
static zx_status_t make_committed(size_t pages, zx_handle_t *out) {
    zx_status_t st = zx_vmo_create(pages * P, 0, out);
    for (size_t i = 0; st == ZX_OK && i < pages; i++) {
        memset(page_buf, 0x30 + (int)i, P);
        st = zx_vmo_write(*out, page_buf, i * P, P);
    }
    return st;
}

static zx_status_t write_byte(zx_handle_t vmo, uint64_t offset, uint8_t b) {
    return zx_vmo_write(vmo, &b, offset, 1);
}

/* The info's four committed figures, and the populated ones equal to them. */
#define EXPECT_ATTR(info, total, priv, scaled, frac)                             \
    do {                                                                         \
        zx_info_vmo_t i_ = (info);                                               \
        EXPECT_EQ(i_.committed_bytes, (uint64_t)(total));                        \
        EXPECT_EQ(i_.committed_private_bytes, (uint64_t)(priv));                 \
        EXPECT_EQ(i_.committed_scaled_bytes, (uint64_t)(scaled));                \
        EXPECT_EQ(i_.committed_fractional_scaled_bytes, (uint64_t)(frac));       \
        EXPECT_EQ(i_.populated_bytes, i_.committed_bytes);                       \
        EXPECT_EQ(i_.populated_private_bytes, i_.committed_private_bytes);       \
        EXPECT_EQ(i_.populated_scaled_bytes, i_.committed_scaled_bytes);         \
        EXPECT_EQ(i_.populated_fractional_scaled_bytes,                          \
                  i_.committed_fractional_scaled_bytes);                         \
    } while (0)

static bool zero_children_soon(zx_handle_t vmo) {
    return zx_object_wait_one(vmo, ZX_VMO_ZERO_CHILDREN, zx_deadline_after(2 * TU_SEC), NULL) ==
           ZX_OK;
}

TEST(VmoAttribution, PlainVmoIsAllPrivate) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(8 * P, 0, &vmo));
    EXPECT_ATTR(vmo_info(vmo), 0, 0, 0, 0);
    EXPECT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, P, 3 * P, NULL, 0));
    EXPECT_ATTR(vmo_info(vmo), 3 * P, 3 * P, 3 * P, 0);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoAttribution, SnapshotSharesEveryPageBetweenBoth) {
    zx_handle_t parent, child;
    ASSERT_OK(make_committed(4, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * P, &child));
    /* Both read all four pages; neither alone; each pays half. */
    EXPECT_ATTR(vmo_info(parent), 4 * P, 0, 2 * P, 0);
    EXPECT_ATTR(vmo_info(child), 4 * P, 0, 2 * P, 0);
    /* The child's write gives it page 0, and leaves the old page 0 to the parent alone. */
    ASSERT_OK(write_byte(child, 0, 0xEE));
    EXPECT_ATTR(vmo_info(child), 4 * P, P, P + 3 * P / 2, 0);
    EXPECT_ATTR(vmo_info(parent), 4 * P, P, P + 3 * P / 2, 0);
    /* The parent's write of page 1 does the same the other way. Six pages are in use
     * (four shared, two copies), and the scaled figures add up to them. */
    ASSERT_OK(write_byte(parent, P, 0xDD));
    EXPECT_ATTR(vmo_info(parent), 4 * P, 2 * P, 3 * P, 0);
    EXPECT_ATTR(vmo_info(child), 4 * P, 2 * P, 3 * P, 0);
    /* Closing the child gives every page back to the parent alone. */
    EXPECT_OK(zx_handle_close(child));
    EXPECT_TRUE(zero_children_soon(parent));
    EXPECT_ATTR(vmo_info(parent), 4 * P, 4 * P, 4 * P, 0);
    EXPECT_OK(zx_handle_close(parent));
}

TEST(VmoAttribution, ThreeSharersSplitPagesIntoFractions) {
    zx_handle_t parent, c1, c2;
    ASSERT_OK(make_committed(4, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * P, &c1));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * P, &c2));
    /* Each page is read by three VMOs: 4 * 4096 / 3 = 5461 + 1/3 bytes each. */
    uint64_t third = FRACTION_ONE / 3; /* floor, as a per-page share is rounded down */
    zx_handle_t all[3] = {parent, c1, c2};
    uint64_t scaled_sum = 0, frac_sum = 0;
    for (int k = 0; k < 3; k++) {
        zx_info_vmo_t info = vmo_info(all[k]);
        EXPECT_EQ(info.committed_bytes, 4 * P);
        EXPECT_EQ(info.committed_private_bytes, 0u);
        EXPECT_EQ(info.committed_scaled_bytes, 4 * P / 3);
        /* four shares of 1/3 byte: one whole byte carried, 1/3 left (rounded down) */
        EXPECT_EQ(info.committed_fractional_scaled_bytes, 4 * third - FRACTION_ONE);
        scaled_sum += info.committed_scaled_bytes;
        frac_sum += info.committed_fractional_scaled_bytes;
    }
    /* Together: the four pages, less what rounding each share down lost. */
    EXPECT_EQ(scaled_sum, 4 * P - 1);
    EXPECT_TRUE(frac_sum < FRACTION_ONE && frac_sum > FRACTION_ONE - 16);
    EXPECT_OK(zx_handle_close(c1));
    EXPECT_OK(zx_handle_close(c2));
    EXPECT_OK(zx_handle_close(parent));
}

TEST(VmoAttribution, WindowedSnapshotSharesOnlyItsWindow) {
    zx_handle_t parent, child;
    ASSERT_OK(make_committed(4, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, P, P, &child));
    EXPECT_ATTR(vmo_info(child), P, 0, P / 2, 0);
    EXPECT_ATTR(vmo_info(parent), 4 * P, 3 * P, 3 * P + P / 2, 0);
    /* A snapshot's range past its parent's end reads zeros and commits nothing. */
    zx_handle_t wide;
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 3 * P, 4 * P, &wide));
    EXPECT_EQ(vmo_info(wide).committed_bytes, P); /* only the parent's page 3 */
    EXPECT_OK(zx_handle_close(wide));
    EXPECT_OK(zx_handle_close(child));
    EXPECT_OK(zx_handle_close(parent));
}

TEST(VmoAttribution, ChainSharesWithEveryGeneration) {
    enum { GENERATIONS = 48 };
    zx_handle_t gen[GENERATIONS + 1];
    ASSERT_OK(make_committed(2, &gen[0]));
    for (int k = 1; k <= GENERATIONS; k++)
        ASSERT_OK(zx_vmo_create_child(gen[k - 1], ZX_VMO_CHILD_SNAPSHOT, 0, 2 * P, &gen[k]));
    /* Every generation reads the same two pages: 49 sharers of each. */
    const uint64_t n = GENERATIONS + 1;
    for (int k = 0; k <= GENERATIONS; k += GENERATIONS / 4) {
        zx_info_vmo_t info = vmo_info(gen[k]);
        EXPECT_EQ(info.committed_bytes, 2 * P);
        EXPECT_EQ(info.committed_private_bytes, 0u);
        EXPECT_EQ(info.committed_scaled_bytes, 2 * (P / n) + (2 * (P % n)) / n);
    }
    /* The deepest writes page 1: that copy is its own, the old page 1 has one sharer
     * fewer. */
    ASSERT_OK(write_byte(gen[GENERATIONS], P, 1));
    zx_info_vmo_t deep = vmo_info(gen[GENERATIONS]);
    EXPECT_EQ(deep.committed_private_bytes, P);
    EXPECT_EQ(deep.committed_scaled_bytes, P + P / n);
    EXPECT_EQ(vmo_info(gen[0]).committed_scaled_bytes, P / n + P / (n - 1));
    for (int k = GENERATIONS; k >= 0; k--)
        EXPECT_OK(zx_handle_close(gen[k]));
}

TEST(VmoAttribution, SliceReportsItsParentsWindow) {
    zx_handle_t vmo, slice;
    ASSERT_OK(make_committed(4, &vmo));
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, P, 2 * P, &slice));
    EXPECT_ATTR(vmo_info(slice), 2 * P, 2 * P, 2 * P, 0);
    EXPECT_ATTR(vmo_info(vmo), 4 * P, 4 * P, 4 * P, 0); /* a slice shares nothing away */
    /* A slice of a snapshotted VMO shows the sharing in its window. */
    zx_handle_t child;
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * P, &child));
    EXPECT_ATTR(vmo_info(slice), 2 * P, P, P + P / 2, 0); /* page 1 shared, page 2 not */
    EXPECT_OK(zx_handle_close(child));
    EXPECT_OK(zx_handle_close(slice));
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoAttribution, ShrinkDropsWhatTheVmoNoLongerSees) {
    zx_handle_t parent, child;
    ASSERT_OK(make_committed(4, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE, 0,
                                  4 * P, &child));
    EXPECT_OK(zx_vmo_set_size(child, P));
    EXPECT_ATTR(vmo_info(child), P, 0, P / 2, 0);
    EXPECT_ATTR(vmo_info(parent), 4 * P, 3 * P, 3 * P + P / 2, 0);
    /* Growing again shows zeros, not the parent's pages. */
    EXPECT_OK(zx_vmo_set_size(child, 4 * P));
    EXPECT_ATTR(vmo_info(child), P, 0, P / 2, 0);
    EXPECT_OK(zx_handle_close(child));
    EXPECT_OK(zx_handle_close(parent));
}

TEST(VmoAttribution, ManySharersStayBoundedAndShared) {
    /* A page read by more VMOs than one count visits (VMO_COW_VISIT_MAX nodes,
     * docs/architecture.md): the query still ends, the page still counts in full in
     * committed_bytes, never as private, and its share is between the true one and a
     * half. */
    enum { SNAPSHOTS = 1000 };
    static zx_handle_t snaps[SNAPSHOTS];
    zx_handle_t vmo;
    ASSERT_OK(make_committed(1, &vmo));
    int made = 0;
    for (; made < SNAPSHOTS; made++)
        if (zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, P, &snaps[made]) != ZX_OK)
            break;
    EXPECT_EQ(made, SNAPSHOTS);
    zx_info_vmo_t info = vmo_info(vmo);
    EXPECT_EQ(info.committed_bytes, P);
    EXPECT_EQ(info.committed_private_bytes, 0u);
    EXPECT_TRUE(info.committed_scaled_bytes >= P / (SNAPSHOTS + 1));
    EXPECT_TRUE(info.committed_scaled_bytes <= P / 2);
    info = vmo_info(snaps[made / 2]);
    EXPECT_EQ(info.committed_bytes, P);
    EXPECT_EQ(info.committed_private_bytes, 0u);
    for (int k = 0; k < made; k++)
        EXPECT_OK(zx_handle_close(snaps[k]));
    EXPECT_TRUE(zero_children_soon(vmo));
    EXPECT_ATTR(vmo_info(vmo), P, P, P, 0);
    EXPECT_OK(zx_handle_close(vmo));
}
