/*
 * Mappings seeing changes made to their VMOs by other means (docs/syscalls.md): two
 * mappings of one VMO, zx_vmo_set_size shrinking and growing under a mapping (the
 * mapping is not trimmed), DECOMMIT through zx_vmo_op_range and through a slice, and a
 * copy-on-write snapshot taken while the parent is mapped writable.
 */
#include "vmar_util.h"

TEST(VmarVmo, TwoMappingsOfOneVmoShareItsPages) {
    zx_handle_t vmo = vu_vmo(2 * PG);
    zx_vaddr_t a, b;
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW, 0, vmo, 0, 2 * PG, &a));
    ASSERT_OK(zx_vmar_map(vu_root(), VU_R, 0, vmo, PG, PG, &b));
    EXPECT_NE(a, b);
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 2u);
    volatile uint8_t *pa = (volatile uint8_t *)a, *pb = (volatile uint8_t *)b;
    EXPECT_EQ(pb[10], 0);
    pa[PG + 10] = 0x5c;
    EXPECT_EQ(pb[10], 0x5c);
    uint8_t v = 0x6d;
    ASSERT_OK(zx_vmo_write(vmo, &v, PG + 11, 1));
    EXPECT_EQ(pa[PG + 11], 0x6d);
    EXPECT_EQ(pb[11], 0x6d);
    EXPECT_OK(zx_vmar_unmap(vu_root(), a, 2 * PG));
    EXPECT_EQ(pb[10], 0x5c);
    EXPECT_OK(zx_vmar_unmap(vu_root(), b, PG));
    zx_handle_close(vmo);
}

TEST(VmarVmo, ShrinkUnderAMappingThenGrow) {
    zx_handle_t vmar, vmo;
    zx_vaddr_t base, addr;
    ASSERT_OK(zx_vmo_create(4 * PG, ZX_VMO_RESIZABLE, &vmo));
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, vmo, 4 * PG, &addr));
    volatile uint8_t *p = (volatile uint8_t *)base;
    for (int i = 0; i < 4; i++)
        p[i * PG] = (uint8_t)(0x10 + i);
    ASSERT_OK(zx_vmo_set_size(vmo, PG));
    /* The mapping keeps its size; the pages past the VMO's end can no longer be touched,
     * even though they were mapped a moment ago. */
    EXPECT_EQ(p[0], 0x10);
    for (int i = 1; i < 4; i++) {
        EXPECT_FALSE(vu_can_read(base + i * PG));
        EXPECT_FALSE(vu_can_write(base + i * PG));
    }
    EXPECT_STATUS(vu_map_at(vmar, VU_R, 3 * PG, vmo, PG, &addr), ZX_ERR_ALREADY_EXISTS);
    EXPECT_EQ(tu_vmo_info(vmo).committed_bytes, PG);
    /* Growing again shows fresh zero pages, not the old content. */
    ASSERT_OK(zx_vmo_set_size(vmo, 4 * PG));
    for (int i = 1; i < 4; i++) {
        EXPECT_TRUE(vu_can_read(base + i * PG));
        EXPECT_EQ(p[i * PG], 0);
    }
    p[3 * PG] = 0x77;
    EXPECT_EQ(p[3 * PG], 0x77);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarVmo, VmoDecommitReachesTheMapping) {
    zx_handle_t vmo = vu_vmo(2 * PG);
    zx_vaddr_t addr;
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW, 0, vmo, 0, 2 * PG, &addr));
    volatile uint8_t *p = (volatile uint8_t *)addr;
    p[0] = 0x21;
    p[PG] = 0x22;
    ASSERT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_DECOMMIT, 0, PG, NULL, 0));
    EXPECT_EQ(p[0], 0);
    EXPECT_EQ(p[PG], 0x22);
    EXPECT_EQ(tu_vmo_info(vmo).committed_bytes, PG);
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, 2 * PG));
    zx_handle_close(vmo);
}

TEST(VmarVmo, SliceMappingsFollowTheParent) {
    zx_handle_t parent = vu_vmo(4 * PG), slice;
    zx_vaddr_t ps, sl;
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SLICE, 2 * PG, 2 * PG, &slice));
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW, 0, parent, 0, 4 * PG, &ps));
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW, 0, slice, 0, 2 * PG, &sl));
    volatile uint8_t *pp = (volatile uint8_t *)ps, *sp = (volatile uint8_t *)sl;
    sp[5] = 0x31;
    EXPECT_EQ(pp[2 * PG + 5], 0x31);
    pp[3 * PG + 6] = 0x32;
    EXPECT_EQ(sp[PG + 6], 0x32);
    /* A decommit of the parent is seen through the slice's mapping, and the reverse. */
    ASSERT_OK(zx_vmo_op_range(parent, ZX_VMO_OP_DECOMMIT, 2 * PG, PG, NULL, 0));
    EXPECT_EQ(sp[5], 0);
    ASSERT_OK(zx_vmar_op_range(vu_root(), ZX_VMAR_OP_DECOMMIT, sl + PG, PG, NULL, 0));
    EXPECT_EQ(pp[3 * PG + 6], 0);
    EXPECT_OK(zx_vmar_unmap(vu_root(), sl, 2 * PG));
    EXPECT_OK(zx_vmar_unmap(vu_root(), ps, 4 * PG));
    zx_handle_close(slice);
    zx_handle_close(parent);
}

TEST(VmarVmo, SnapshotOfAWritableMappedVmo) {
    zx_handle_t parent = vu_vmo(2 * PG), child;
    zx_vaddr_t addr, caddr;
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW, 0, parent, 0, 2 * PG, &addr));
    volatile uint8_t *p = (volatile uint8_t *)addr;
    p[0] = 0x41; /* the page is now mapped writable */
    p[PG] = 0x42;
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * PG, &child));
    /* Writing through the parent's old mapping must not reach the snapshot. */
    p[0] = 0x51;
    uint8_t b = 0;
    ASSERT_OK(zx_vmo_read(child, &b, 0, 1));
    EXPECT_EQ(b, 0x41);
    /* And the snapshot's own mapping sees its content, then its own writes only. */
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW, 0, child, 0, 2 * PG, &caddr));
    volatile uint8_t *c = (volatile uint8_t *)caddr;
    EXPECT_EQ(c[0], 0x41);
    EXPECT_EQ(c[PG], 0x42);
    c[PG] = 0x62;
    EXPECT_EQ(p[PG], 0x42);
    EXPECT_EQ(p[0], 0x51);
    EXPECT_OK(zx_vmar_unmap(vu_root(), caddr, 2 * PG));
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, 2 * PG));
    zx_handle_close(child);
    zx_handle_close(parent);
}
