/*
 * Edge cases of page-fault resolution in one process: protection runs split over many
 * pages (and merged back), MAP_RANGE pre-population that must not grant more than the
 * mapping allows, write-enabling a page that shows the shared zero page, over-long
 * mappings whose VMO grows or shrinks to nothing, snapshot children larger than their
 * parent, and mappings made with ZX_VM_FAULT_BEYOND_STREAM_SIZE, which fault past the
 * page holding the VMO's content size. Forbidden accesses are death tests
 * (ZX_TASK_RETCODE_EXCEPTION_KILL).
 */
#include "vm_util.h"

#define STRIPES 12

TEST(FaultEdge, ProtectEveryOtherPage) {
    /* More protection changes than one mapping keeps runs for: the mapping is split,
     * and each piece must still fault (or not) exactly as protected. */
    zx_handle_t vmo = patterned_vmo(STRIPES, 0);
    zx_vaddr_t a = map(vmo, RW, STRIPES * PAGE);
    ASSERT_NE(a, 0u);
    for (int i = 0; i < STRIPES; i++)
        wr64(a + i * PAGE + 8, i); /* every page writable-translated first */
    for (int i = 1; i < STRIPES; i += 2)
        EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a + i * PAGE, PAGE));
    for (int i = 0; i < STRIPES; i += 2)
        wr64(a + i * PAGE + 16, i);
    for (int i = 0; i < STRIPES; i++)
        EXPECT_EQ(rd64(a + i * PAGE + 8), (uint64_t)i);
    EXPECT_DEATH(wr64(a + 1 * PAGE, 0), KILLED);
    EXPECT_DEATH(wr64(a + 7 * PAGE, 0), KILLED);
    EXPECT_DEATH(wr64(a + (STRIPES - 1) * PAGE + 8, 0), KILLED);
    /* All back to read-write (pieces may merge again): every page writes. */
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), RW, a, STRIPES * PAGE));
    for (int i = 0; i < STRIPES; i++)
        wr64(a + i * PAGE + 24, 0x100 + i);
    for (int i = 0; i < STRIPES; i++)
        EXPECT_EQ(vmo_word(vmo, i * PAGE + 24), 0x100u + i);
    unmap(a, STRIPES * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultEdge, UnmapPiecesOfStripedMapping) {
    zx_handle_t vmo = patterned_vmo(STRIPES, 0);
    zx_vaddr_t a = map(vmo, RW, STRIPES * PAGE);
    ASSERT_NE(a, 0u);
    for (int i = 1; i < STRIPES; i += 2)
        EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a + i * PAGE, PAGE));
    for (int i = 0; i < STRIPES; i++)
        EXPECT_EQ(rd64(a + i * PAGE), 0x1000u + i);
    /* Cut out pages 3..5: the rest keeps its protection. */
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), a + 3 * PAGE, 3 * PAGE));
    EXPECT_EQ(rd64(a + 2 * PAGE), 0x1002u);
    EXPECT_EQ(rd64(a + 6 * PAGE), 0x1006u);
    wr64(a + 6 * PAGE + 8, 6);
    EXPECT_DEATH(rd64(a + 4 * PAGE), KILLED);
    EXPECT_DEATH(wr64(a + 7 * PAGE, 0), KILLED);
    EXPECT_DEATH(rd64(a + 3 * PAGE), KILLED);
    unmap(a, STRIPES * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultEdge, MapRangeReadOnlyStaysReadOnly) {
    zx_handle_t vmo = patterned_vmo(2, 0);
    /* Pre-populated from committed pages, but only with the mapping's permissions. */
    zx_vaddr_t a = map(vmo, ZX_VM_PERM_READ | ZX_VM_MAP_RANGE, 3 * PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a + PAGE), 0x1001u);
    EXPECT_DEATH(wr64(a, 1), KILLED);
    EXPECT_DEATH(rd64(a + 2 * PAGE), KILLED); /* past the VMO: nothing populated */
    unmap(a, 3 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultEdge, MapRangeOpSkipsInaccessiblePages) {
    zx_handle_t vmo = patterned_vmo(2, 0);
    zx_vaddr_t a = map(vmo, RW, 2 * PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), 0, a + PAGE, PAGE));
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a, PAGE));
    /* Populating must not make the no-access page readable, nor page 0 writable. */
    zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_MAP_RANGE, a, 2 * PAGE, NULL, 0);
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_DEATH(rd64(a + PAGE), KILLED);
    EXPECT_DEATH(wr64(a, 1), KILLED);
    unmap(a, 2 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultEdge, WriteEnabledZeroPageCommits) {
    /* Reads of an uncommitted page may show the one shared zero page; making the mapping
     * writable must not let a write reach that page (every other VMO would see it). */
    zx_handle_t vmo, other;
    ASSERT_OK(zx_vmo_create(2 * PAGE, 0, &vmo));
    ASSERT_OK(zx_vmo_create(PAGE, 0, &other));
    zx_vaddr_t a = map(vmo, RW, 2 * PAGE), o = map(other, ZX_VM_PERM_READ, PAGE);
    ASSERT_NE(a, 0u);
    ASSERT_NE(o, 0u);
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a, 2 * PAGE));
    EXPECT_EQ(rd64(a), 0u);
    EXPECT_EQ(rd64(a + PAGE), 0u);
    EXPECT_EQ(rd64(o), 0u);
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), RW, a, 2 * PAGE));
    wr64(a, 0xdead);
    EXPECT_EQ(rd64(a), 0xdeadu);
    EXPECT_EQ(rd64(a + PAGE), 0u); /* the other page of the same VMO */
    EXPECT_EQ(rd64(o), 0u);        /* another VMO */
    EXPECT_EQ(vmo_word(other, 0), 0u);
    EXPECT_EQ(vmo_word(vmo, 0), 0xdeadu);
    unmap(a, 2 * PAGE);
    unmap(o, PAGE);
    zx_handle_close(other);
    zx_handle_close(vmo);
}

TEST(FaultEdge, GrowMakesOverlongMappingUsable) {
    zx_handle_t vmo = patterned_vmo(1, ZX_VMO_RESIZABLE);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a = map(vmo, RW, 3 * PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_DEATH(rd64(a + PAGE), KILLED);
    ASSERT_OK(zx_vmo_set_size(vmo, 2 * PAGE));
    EXPECT_EQ(rd64(a + PAGE), 0u);
    wr64(a + PAGE + 8, 0x12);
    EXPECT_EQ(vmo_word(vmo, PAGE + 8), 0x12u);
    EXPECT_DEATH(wr64(a + 2 * PAGE, 1), KILLED); /* still past the end */
    unmap(a, 3 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultEdge, ShrinkToZero) {
    zx_handle_t vmo = patterned_vmo(2, ZX_VMO_RESIZABLE);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a = map(vmo, RW, 2 * PAGE);
    ASSERT_NE(a, 0u);
    wr64(a + 8, 1);
    EXPECT_EQ(rd64(a + PAGE), 0x1001u);
    ASSERT_OK(zx_vmo_set_size(vmo, 0));
    EXPECT_DEATH(rd64(a), KILLED);
    EXPECT_DEATH(wr64(a + PAGE, 1), KILLED);
    ASSERT_OK(zx_vmo_set_size(vmo, PAGE));
    EXPECT_EQ(rd64(a + 8), 0u);
    unmap(a, 2 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultEdge, UnalignedShrinkKeepsPartialPage) {
    zx_handle_t vmo = patterned_vmo(3, ZX_VMO_RESIZABLE);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a = map(vmo, RW, 3 * PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a + 2 * PAGE), 0x1002u);
    /* The size rounds up to two pages: page 1 stays mapped, page 2 goes. */
    ASSERT_OK(zx_vmo_set_size(vmo, PAGE + 16));
    uint64_t size = 0;
    EXPECT_OK(zx_vmo_get_size(vmo, &size));
    EXPECT_EQ(size, 2ull * PAGE);
    EXPECT_EQ(rd64(a + PAGE), 0x1001u);
    wr64(a + 2 * PAGE - 8, 1);
    EXPECT_DEATH(rd64(a + 2 * PAGE), KILLED);
    unmap(a, 3 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultEdge, SnapshotLargerThanParent) {
    /* A child may extend past its parent: those pages read zero and are writable. */
    zx_handle_t p = patterned_vmo(1, 0), c;
    ASSERT_OK(zx_vmo_create_child(p, ZX_VMO_CHILD_SNAPSHOT, 0, 3 * PAGE, &c));
    zx_vaddr_t ca = map(c, RW, 4 * PAGE);
    ASSERT_NE(ca, 0u);
    EXPECT_EQ(rd64(ca), 0x1000u);
    EXPECT_EQ(rd64(ca + PAGE), 0u);
    wr64(ca + 2 * PAGE, 0x33);
    EXPECT_EQ(vmo_word(c, 2 * PAGE), 0x33u);
    EXPECT_DEATH(rd64(ca + 3 * PAGE), KILLED); /* past the child's own end */
    unmap(ca, 4 * PAGE);
    zx_handle_close(c);
    zx_handle_close(p);
}

TEST(FaultEdge, ReadOnlyProtectedSnapshotPageDoesNotCopy) {
    /* A write the mapping forbids must die, not be resolved by a copy-on-write copy. */
    zx_handle_t p = patterned_vmo(1, 0), c;
    ASSERT_OK(zx_vmo_create_child(p, ZX_VMO_CHILD_SNAPSHOT, 0, PAGE, &c));
    zx_vaddr_t ca = map(c, RW, PAGE);
    ASSERT_NE(ca, 0u);
    EXPECT_EQ(rd64(ca), 0x1000u);
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, ca, PAGE));
    EXPECT_DEATH(wr64(ca, 1), KILLED);
    EXPECT_EQ(vmo_word(c, 0), 0x1000u);
    EXPECT_EQ(vmo_word(p, 0), 0x1000u);
    unmap(ca, PAGE);
    zx_handle_close(c);
    zx_handle_close(p);
}

/* ---- ZX_VM_FAULT_BEYOND_STREAM_SIZE ---- */

#define STREAM_MAP (RW | ZX_VM_ALLOW_FAULTS | ZX_VM_FAULT_BEYOND_STREAM_SIZE)

static zx_status_t set_content_size(zx_handle_t vmo, uint64_t size) {
    return zx_object_set_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, &size, sizeof(size));
}

TEST(FaultEdge, BeyondStreamSizeFaults) {
    zx_handle_t vmo = patterned_vmo(4, 0);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    ASSERT_OK(set_content_size(vmo, PAGE + 100));
    zx_vaddr_t a = map(vmo, STREAM_MAP, 4 * PAGE);
    ASSERT_NE(a, 0u);
    /* The page holding the content size's last byte is usable to its end. */
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_EQ(rd64(a + PAGE), 0x1001u);
    wr64(a + 2 * PAGE - 8, 0x77);
    EXPECT_DEATH(rd64(a + 2 * PAGE), KILLED);
    EXPECT_DEATH(wr64(a + 3 * PAGE + 8, 1), KILLED);
    EXPECT_EQ(vmo_word(vmo, 3 * PAGE + 8), 0u); /* the refused write changed nothing */
    /* An ordinary mapping of the same VMO is not limited. */
    zx_vaddr_t o = map(vmo, RW, 4 * PAGE);
    ASSERT_NE(o, 0u);
    EXPECT_EQ(rd64(o + 2 * PAGE), 0x1002u);
    /* The content size grows: the pages become usable. */
    ASSERT_OK(set_content_size(vmo, 4 * PAGE));
    EXPECT_EQ(rd64(a + 3 * PAGE), 0x1003u);
    unmap(o, 4 * PAGE);
    unmap(a, 4 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultEdge, ShrinkingStreamSizeUnmaps) {
    zx_handle_t vmo = patterned_vmo(4, ZX_VMO_RESIZABLE);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a = map(vmo, STREAM_MAP | ZX_VM_MAP_RANGE, 4 * PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a + 3 * PAGE), 0x1003u); /* mapped now */
    ASSERT_OK(set_content_size(vmo, PAGE));
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_DEATH(rd64(a + 3 * PAGE), KILLED); /* its translation is gone */
    EXPECT_DEATH(rd64(a + PAGE), KILLED);
    /* zx_vmo_set_size sets the content size too. */
    ASSERT_OK(zx_vmo_set_size(vmo, 3 * PAGE));
    EXPECT_EQ(rd64(a + 2 * PAGE), 0x1002u);
    ASSERT_OK(zx_vmo_set_size(vmo, 0));
    EXPECT_DEATH(rd64(a), KILLED);
    unmap(a, 4 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultEdge, BeyondStreamSizeMapRangeAndOpRange) {
    zx_handle_t vmo = patterned_vmo(4, 0);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    ASSERT_OK(set_content_size(vmo, 2 * PAGE));
    /* MAP_RANGE populates only up to the end: the rest still faults. */
    zx_vaddr_t a = map(vmo, STREAM_MAP | ZX_VM_MAP_RANGE, 4 * PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_DEATH(rd64(a + 2 * PAGE), KILLED);
    /* zx_vmar_op_range over the part past the end: OUT_OF_RANGE, for every op. */
    EXPECT_STATUS(zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_MAP_RANGE, a, 4 * PAGE,
                                   NULL, 0),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_DECOMMIT, a + PAGE,
                                   2 * PAGE, NULL, 0),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(vmo_word(vmo, PAGE), 0x1001u); /* nothing decommitted */
    EXPECT_STATUS(zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_DONT_NEED, a + 3 * PAGE,
                                   PAGE, NULL, 0),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_OK(zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_MAP_RANGE, a, 2 * PAGE, NULL,
                               0));
    EXPECT_DEATH(rd64(a + 2 * PAGE), KILLED);
    EXPECT_EQ(rd64(a + PAGE), 0x1001u);
    unmap(a, 4 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultEdge, BeyondStreamSizeNeedsAllowFaults) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a;
    EXPECT_STATUS(zx_vmar_map(zx_vmar_root_self(), RW | ZX_VM_FAULT_BEYOND_STREAM_SIZE, 0, vmo,
                              0, PAGE, &a),
                  ZX_ERR_INVALID_ARGS);
    zx_handle_close(vmo);
}
