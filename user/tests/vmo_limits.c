/*
 * Zircon's VMO size limits: the largest size zx_vmo_create and zx_vmo_set_size accept
 * (2^64 - 128 KiB; larger, or overflowing when rounded up to a page, is OUT_OF_RANGE),
 * children whose offset + size overflows (slices: INVALID_ARGS), Zircon's rule that a
 * snapshot's offset into the root of its family plus its size must not overflow
 * (INVALID_ARGS at creation and at set_size: Zircon's NoAccumulatedOverflow case), and
 * data kept right at the top of the largest VMO through snapshots, slices, mappings and
 * the merges of hidden nodes that closing snapshots causes.
 */
#include "vmo_util.h"

#define MAX BERYL_VMO_SIZE_MAX

static uint8_t top_byte(zx_handle_t vmo, uint64_t off) {
    uint8_t b = 0xee;
    zx_vmo_read(vmo, &b, off, 1);
    return b;
}

TEST(VmoLimits, CreateUpToTheLargestSize) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(MAX, 0, &vmo));
    EXPECT_EQ(vmo_size(vmo), MAX);
    zx_handle_close(vmo);
    ASSERT_OK(zx_vmo_create(MAX - P + 1, 0, &vmo)); /* rounds up to the largest */
    EXPECT_EQ(vmo_size(vmo), MAX);
    zx_handle_close(vmo);
    EXPECT_STATUS(zx_vmo_create(MAX + 1, 0, &vmo), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_create(UINT64_MAX - P + 1, 0, &vmo), ZX_ERR_OUT_OF_RANGE);
    /* Overflows when rounded up to a page. */
    EXPECT_STATUS(zx_vmo_create(UINT64_MAX, 0, &vmo), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_create(UINT64_MAX - 10, ZX_VMO_RESIZABLE, &vmo), ZX_ERR_OUT_OF_RANGE);
}

TEST(VmoLimits, SetSizeUpToTheLargestSize) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, ZX_VMO_RESIZABLE, &vmo));
    ASSERT_OK(zx_vmo_set_size(vmo, MAX));
    EXPECT_EQ(vmo_size(vmo), MAX);
    EXPECT_STATUS(zx_vmo_set_size(vmo, MAX + 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_set_size(vmo, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(vmo_size(vmo), MAX);
    uint8_t b = 0x3c;
    ASSERT_OK(zx_vmo_write(vmo, &b, MAX - 1, 1));
    EXPECT_EQ(top_byte(vmo, MAX - 1), 0x3c);
    EXPECT_STATUS(zx_vmo_write(vmo, &b, MAX, 1), ZX_ERR_OUT_OF_RANGE);
    ASSERT_OK(zx_vmo_set_size(vmo, P));
    EXPECT_EQ(vmo_size(vmo), P);
    zx_handle_close(vmo);
}

/* Zircon's own case, step by step. */
TEST(VmoLimits, NoAccumulatedOverflow) {
    zx_handle_t vmo, child1, child2 = ZX_HANDLE_INVALID;
    ASSERT_OK(zx_vmo_create(0, 0, &vmo));
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0xffffffffffff8000ull, 0, &child1));
    EXPECT_STATUS(zx_vmo_create_child(child1, ZX_VMO_CHILD_SNAPSHOT, 0x8000, 0, &child2),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(child2, ZX_HANDLE_INVALID);
    ASSERT_OK(zx_vmo_create_child(child1, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE, 0x4000,
                                  0, &child2));
    EXPECT_STATUS(zx_vmo_set_size(child2, 0x8000), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmo_size(child2), 0u);
    /* Up to the last page before 2^64 it may grow. */
    ASSERT_OK(zx_vmo_set_size(child2, 0x3000));
    uint8_t b = 0x42;
    ASSERT_OK(zx_vmo_write(child2, &b, 0x2fff, 1));
    EXPECT_EQ(top_byte(child2, 0x2fff), 0x42);
    EXPECT_STATUS(zx_vmo_set_size(child2, 0x4000), ZX_ERR_INVALID_ARGS);
    /* Closing child1 merges its hidden node into child2, whose offsets then add up. */
    zx_handle_close(child1);
    EXPECT_EQ(top_byte(child2, 0x2fff), 0x42);
    EXPECT_STATUS(zx_vmo_set_size(child2, 0x4000), ZX_ERR_INVALID_ARGS);
    ASSERT_OK(zx_vmo_set_size(child2, P));
    EXPECT_EQ(top_byte(child2, 0x2fff), 0xee); /* gone with the shrink */
    zx_handle_close(child2);
    zx_handle_close(vmo);
}

TEST(VmoLimits, ChildOffsetPlusSizeOverflowing) {
    zx_handle_t vmo, c = ZX_HANDLE_INVALID;
    ASSERT_OK(zx_vmo_create(4 * P, 0, &vmo));
    /* Snapshot: the end in the root overflows -> INVALID_ARGS; a size larger than the
     * largest VMO -> OUT_OF_RANGE. */
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, UINT64_MAX - P + 1, P, &c),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0x20000, MAX, &c),
                  ZX_ERR_INVALID_ARGS); /* ends exactly at 2^64 */
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, MAX + 1, &c),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(c, ZX_HANDLE_INVALID);
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0x20000 - P, MAX, &c));
    EXPECT_EQ(vmo_size(c), MAX);
    zx_handle_close(c);
    /* The last page below 2^64 is still a valid snapshot offset. */
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, UINT64_MAX - 2 * P + 1, P, &c));
    EXPECT_EQ(top_byte(c, 0), 0);
    zx_handle_close(c);
    /* Slice: out of the parent, overflowing or not -> INVALID_ARGS. */
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, UINT64_MAX - P + 1, 2 * P, &c),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 2 * P, MAX, &c),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 0, UINT64_MAX, &c),
                  ZX_ERR_OUT_OF_RANGE);
    zx_handle_close(vmo);
}

TEST(VmoLimits, DataAtTheTopThroughChildren) {
    zx_handle_t vmo, snap, grand, slice;
    ASSERT_OK(zx_vmo_create(MAX, 0, &vmo));
    uint8_t b = 0x71;
    ASSERT_OK(zx_vmo_write(vmo, &b, MAX - 1, 1));
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, MAX - P, P, &snap));
    EXPECT_EQ(top_byte(snap, P - 1), 0x71);
    b = 0x72;
    ASSERT_OK(zx_vmo_write(snap, &b, 0, 1)); /* a private copy at the top of the root */
    EXPECT_EQ(top_byte(vmo, MAX - P), 0);
    /* A grandchild reaching past the snapshot's end (reads zeros there). */
    ASSERT_OK(zx_vmo_create_child(snap, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * P, &grand));
    EXPECT_EQ(top_byte(grand, 0), 0x72);
    EXPECT_EQ(top_byte(grand, P - 1), 0x71);
    EXPECT_EQ(top_byte(grand, P), 0);
    /* Closing the middle VMOs merges the hidden nodes down to the grandchild. */
    zx_handle_close(snap);
    EXPECT_EQ(top_byte(grand, 0), 0x72);
    EXPECT_EQ(top_byte(grand, P - 1), 0x71);
    zx_handle_close(vmo);
    EXPECT_EQ(top_byte(grand, 0), 0x72);
    EXPECT_EQ(top_byte(grand, P - 1), 0x71);
    zx_handle_close(grand);
    /* A slice of the last page, mapped. */
    ASSERT_OK(zx_vmo_create(MAX, 0, &vmo));
    b = 0x73;
    ASSERT_OK(zx_vmo_write(vmo, &b, MAX - 2, 1));
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, MAX - P, P, &slice));
    EXPECT_EQ(top_byte(slice, P - 2), 0x73);
    zx_vaddr_t addr;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo,
                          MAX - P, P, &addr));
    EXPECT_EQ(*(volatile uint8_t *)(addr + P - 2), 0x73);
    *(volatile uint8_t *)(addr + P - 1) = 0x74;
    EXPECT_EQ(top_byte(slice, P - 1), 0x74);
    /* A mapping whose VMO range would pass 2^64 is refused. */
    zx_vaddr_t bad;
    EXPECT_STATUS(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, vmo, UINT64_MAX - P + 1,
                              2 * P, &bad),
                  ZX_ERR_OUT_OF_RANGE);
    zx_vmar_unmap(zx_vmar_root_self(), addr, P);
    zx_handle_close(slice);
    zx_handle_close(vmo);
}

TEST(VmoLimits, UnboundedIsTheLargestSize) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, ZX_VMO_UNBOUNDED, &vmo));
    EXPECT_EQ(vmo_size(vmo), MAX);
    uint8_t b = 9;
    EXPECT_OK(zx_vmo_write(vmo, &b, MAX - 1, 1));
    EXPECT_EQ(top_byte(vmo, MAX - 1), 9);
    zx_handle_close(vmo);
    EXPECT_STATUS(zx_vmo_create(MAX + 1, ZX_VMO_UNBOUNDED, &vmo), ZX_ERR_OUT_OF_RANGE);
}
