/*
 * Copy-on-write children and slices seen through mappings in one process: what a
 * snapshot child's mapping shows must not change when the parent is written, shrunk,
 * decommitted or when a sibling goes away, and a slice's mapping follows every change
 * of its parent's pages (and the other way round). Each test reads or writes through the
 * mappings first, so that stale translations would show.
 */
#include "vm_util.h"

static zx_handle_t snapshot(zx_handle_t vmo, size_t size) {
    zx_handle_t child = ZX_HANDLE_INVALID;
    if (zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, size, &child) != ZX_OK)
        return ZX_HANDLE_INVALID;
    return child;
}

TEST(FaultCow, ThreeGenerationsStayIsolated) {
    zx_handle_t p = patterned_vmo(1, 0);
    zx_vaddr_t pa = map(p, RW, PAGE);
    ASSERT_NE(pa, 0u);
    wr64(pa + 8, 1);
    zx_handle_t c = snapshot(p, PAGE);
    ASSERT_NE(c, ZX_HANDLE_INVALID);
    zx_vaddr_t ca = map(c, RW, PAGE);
    ASSERT_NE(ca, 0u);
    EXPECT_EQ(rd64(ca + 8), 1u);
    zx_handle_t g = snapshot(c, PAGE);
    ASSERT_NE(g, ZX_HANDLE_INVALID);
    zx_vaddr_t ga = map(g, RW, PAGE);
    ASSERT_NE(ga, 0u);
    EXPECT_EQ(rd64(ga + 8), 1u); /* every level has read the shared page */
    wr64(pa + 8, 2);
    EXPECT_EQ(rd64(ca + 8), 1u);
    EXPECT_EQ(rd64(ga + 8), 1u);
    wr64(ca + 8, 3);
    EXPECT_EQ(rd64(pa + 8), 2u);
    EXPECT_EQ(rd64(ga + 8), 1u);
    wr64(ga + 8, 4);
    EXPECT_EQ(rd64(pa + 8), 2u);
    EXPECT_EQ(rd64(ca + 8), 3u);
    EXPECT_EQ(rd64(ga), 0x1000u);
    EXPECT_EQ(vmo_word(p, 8), 2u);
    EXPECT_EQ(vmo_word(c, 8), 3u);
    EXPECT_EQ(vmo_word(g, 8), 4u);
    unmap(pa, PAGE);
    unmap(ca, PAGE);
    unmap(ga, PAGE);
    zx_handle_close(g);
    zx_handle_close(c);
    zx_handle_close(p);
}

TEST(FaultCow, AtLeastOnWriteChildWritesStayPrivate) {
    zx_handle_t p = patterned_vmo(2, 0), c;
    ASSERT_OK(zx_vmo_create_child(p, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 2 * PAGE, &c));
    zx_vaddr_t pa = map(p, RW, 2 * PAGE), ca = map(c, RW, 2 * PAGE);
    ASSERT_NE(pa, 0u);
    ASSERT_NE(ca, 0u);
    EXPECT_EQ(rd64(pa), 0x1000u);
    EXPECT_EQ(rd64(ca), 0x1000u);
    wr64(ca, 0x51);
    EXPECT_EQ(rd64(ca), 0x51u);
    EXPECT_EQ(rd64(pa), 0x1000u);
    EXPECT_EQ(vmo_word(p, 0), 0x1000u);
    EXPECT_EQ(rd64(ca + PAGE), 0x1001u);
    unmap(pa, 2 * PAGE);
    unmap(ca, 2 * PAGE);
    zx_handle_close(c);
    zx_handle_close(p);
}

TEST(FaultCow, ParentShrinkKeepsChildView) {
    zx_handle_t p = patterned_vmo(2, ZX_VMO_RESIZABLE);
    ASSERT_NE(p, ZX_HANDLE_INVALID);
    zx_vaddr_t pa = map(p, RW, 2 * PAGE);
    ASSERT_NE(pa, 0u);
    wr64(pa + PAGE + 8, 0x61);
    zx_handle_t c = snapshot(p, 2 * PAGE);
    ASSERT_NE(c, ZX_HANDLE_INVALID);
    zx_vaddr_t ca = map(c, ZX_VM_PERM_READ, 2 * PAGE);
    ASSERT_NE(ca, 0u);
    EXPECT_EQ(rd64(ca + PAGE + 8), 0x61u); /* the child shows the shared page */
    ASSERT_OK(zx_vmo_set_size(p, PAGE));
    EXPECT_EQ(rd64(ca + PAGE), 0x1001u);
    EXPECT_EQ(rd64(ca + PAGE + 8), 0x61u);
    EXPECT_DEATH(rd64(pa + PAGE), KILLED);
    ASSERT_OK(zx_vmo_set_size(p, 2 * PAGE));
    EXPECT_EQ(rd64(pa + PAGE + 8), 0u);
    EXPECT_EQ(rd64(ca + PAGE + 8), 0x61u);
    wr64(pa + PAGE + 8, 0x62);
    EXPECT_EQ(rd64(ca + PAGE + 8), 0x61u);
    EXPECT_EQ(vmo_word(c, PAGE + 8), 0x61u);
    unmap(pa, 2 * PAGE);
    unmap(ca, 2 * PAGE);
    zx_handle_close(c);
    zx_handle_close(p);
}

TEST(FaultCow, ParentDecommitKeepsChildView) {
    zx_handle_t p = patterned_vmo(1, 0);
    zx_vaddr_t pa = map(p, RW, PAGE);
    ASSERT_NE(pa, 0u);
    EXPECT_EQ(rd64(pa), 0x1000u);
    zx_handle_t c = snapshot(p, PAGE);
    ASSERT_NE(c, ZX_HANDLE_INVALID);
    zx_vaddr_t ca = map(c, ZX_VM_PERM_READ, PAGE);
    ASSERT_NE(ca, 0u);
    EXPECT_EQ(rd64(ca), 0x1000u);
    /* Zircon may refuse to decommit a parent with snapshot children; if it is done,
     * only the parent's view may change. */
    zx_status_t st = zx_vmo_op_range(p, ZX_VMO_OP_DECOMMIT, 0, PAGE, NULL, 0);
    EXPECT_TRUE(st == ZX_OK || st == ZX_ERR_NOT_SUPPORTED);
    EXPECT_EQ(rd64(ca), 0x1000u);
    EXPECT_EQ(vmo_word(c, 0), 0x1000u);
    EXPECT_EQ(rd64(pa), st == ZX_OK ? 0u : 0x1000u);
    unmap(pa, PAGE);
    unmap(ca, PAGE);
    zx_handle_close(c);
    zx_handle_close(p);
}

TEST(FaultCow, ChildGoneParentMappingStillRight) {
    /* When the child dies its shared pages go back to the parent; the parent's mapping
     * must go on showing (and writing) the parent's own contents. */
    zx_handle_t p = patterned_vmo(2, 0);
    zx_vaddr_t pa = map(p, RW, 2 * PAGE);
    ASSERT_NE(pa, 0u);
    wr64(pa + 8, 0x71);
    wr64(pa + PAGE + 8, 0x72);
    zx_handle_t c = snapshot(p, 2 * PAGE);
    ASSERT_NE(c, ZX_HANDLE_INVALID);
    zx_vaddr_t ca = map(c, RW, 2 * PAGE);
    ASSERT_NE(ca, 0u);
    wr64(ca + 8, 0x81); /* child's own copy of page 0 */
    EXPECT_EQ(rd64(ca + PAGE + 8), 0x72u);
    wr64(pa + PAGE + 8, 0x73); /* parent's own copy of page 1 */
    EXPECT_EQ(rd64(pa + 8), 0x71u);
    unmap(ca, 2 * PAGE);
    zx_handle_close(c);
    EXPECT_EQ(rd64(pa + 8), 0x71u);
    EXPECT_EQ(rd64(pa + PAGE + 8), 0x73u);
    wr64(pa + 8, 0x74);
    wr64(pa + PAGE + 8, 0x75);
    EXPECT_EQ(vmo_word(p, 8), 0x74u);
    EXPECT_EQ(vmo_word(p, PAGE + 8), 0x75u);
    EXPECT_EQ(rd64(pa), 0x1000u);
    unmap(pa, 2 * PAGE);
    zx_handle_close(p);
}

TEST(FaultCow, SiblingWritesStayPrivate) {
    zx_handle_t p = patterned_vmo(1, 0);
    zx_handle_t a = snapshot(p, PAGE), b = snapshot(p, PAGE);
    ASSERT_NE(a, ZX_HANDLE_INVALID);
    ASSERT_NE(b, ZX_HANDLE_INVALID);
    zx_vaddr_t aa = map(a, RW, PAGE), ba = map(b, RW, PAGE);
    ASSERT_NE(aa, 0u);
    ASSERT_NE(ba, 0u);
    EXPECT_EQ(rd64(aa), 0x1000u);
    EXPECT_EQ(rd64(ba), 0x1000u);
    wr64(aa, 0x91);
    EXPECT_EQ(rd64(ba), 0x1000u);
    zx_handle_close(p); /* the parent going away changes neither */
    wr64(ba, 0x92);
    EXPECT_EQ(rd64(aa), 0x91u);
    EXPECT_EQ(rd64(ba), 0x92u);
    unmap(aa, PAGE);
    unmap(ba, PAGE);
    zx_handle_close(a);
    zx_handle_close(b);
}

TEST(FaultSlice, SliceMappingFollowsParent) {
    zx_handle_t p = patterned_vmo(2, 0), s;
    ASSERT_OK(zx_vmo_create_child(p, ZX_VMO_CHILD_SLICE, PAGE, PAGE, &s));
    zx_vaddr_t pa = map(p, RW, 2 * PAGE), sa = map(s, RW, PAGE);
    ASSERT_NE(pa, 0u);
    ASSERT_NE(sa, 0u);
    EXPECT_EQ(rd64(sa), 0x1001u);
    wr64(sa + 8, 0xa1);
    EXPECT_EQ(rd64(pa + PAGE + 8), 0xa1u);
    /* Decommit through the parent: the slice's mapping reads zeros... */
    ASSERT_OK(zx_vmo_op_range(p, ZX_VMO_OP_DECOMMIT, PAGE, PAGE, NULL, 0));
    EXPECT_EQ(rd64(sa + 8), 0u);
    /* ...and a commit through the parent's mapping is seen through the slice. */
    wr64(pa + PAGE, 0xa2);
    EXPECT_EQ(rd64(sa), 0xa2u);
    /* Decommit through the slice: the parent's mapping reads zeros. */
    ASSERT_OK(zx_vmo_op_range(s, ZX_VMO_OP_DECOMMIT, 0, PAGE, NULL, 0));
    EXPECT_EQ(rd64(pa + PAGE), 0u);
    EXPECT_EQ(rd64(pa), 0x1000u);
    wr64(sa, 0xa3);
    EXPECT_EQ(rd64(pa + PAGE), 0xa3u);
    unmap(pa, 2 * PAGE);
    unmap(sa, PAGE);
    zx_handle_close(s);
    zx_handle_close(p);
}

TEST(FaultSlice, PastSliceEndDies) {
    /* A mapping longer than the slice must not reach the parent's next page. */
    zx_handle_t p = patterned_vmo(3, 0), s;
    ASSERT_OK(zx_vmo_create_child(p, ZX_VMO_CHILD_SLICE, PAGE, PAGE, &s));
    zx_vaddr_t sa = map(s, RW, 2 * PAGE);
    ASSERT_NE(sa, 0u);
    EXPECT_EQ(rd64(sa), 0x1001u);
    EXPECT_DEATH(rd64(sa + PAGE), KILLED);
    EXPECT_DEATH(wr64(sa + PAGE, 1), KILLED);
    EXPECT_EQ(vmo_word(p, 2 * PAGE), 0x1002u);
    unmap(sa, 2 * PAGE);
    zx_handle_close(s);
    zx_handle_close(p);
}
