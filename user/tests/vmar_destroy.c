/*
 * zx_vmar_destroy: the OP_CHILDREN right, the root VMAR, BAD_STATE for every later
 * operation on the handle (after the argument checks that come first, docs/syscalls.md),
 * recursive destruction of sub-VMARs, the mappings inside, and reuse of the range.
 */
#include "vmar_util.h"

#define ROOT_BASE 0x200000ull

/* ---- zx_vmar_destroy ---- */

TEST(VmarDestroy, NeedsOpChildren) {
    zx_handle_t a;
    zx_vaddr_t abase;
    ASSERT_OK(vu_sub(VU_CAN_RW, 4 * PG, &a, &abase));
    zx_handle_t weak = tu_dup(a, tu_rights(a) & ~ZX_RIGHT_OP_CHILDREN);
    zx_handle_t only = tu_dup(a, ZX_RIGHT_OP_CHILDREN);
    ASSERT_NE(weak, ZX_HANDLE_INVALID);
    ASSERT_NE(only, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_vmar_destroy(weak), ZX_ERR_ACCESS_DENIED);
    /* Still alive: a child can be allocated. */
    zx_handle_t c;
    zx_vaddr_t cbase;
    ASSERT_OK(zx_vmar_allocate(a, 0, 0, PG, &c, &cbase));
    zx_handle_close(c);
    EXPECT_OK(zx_vmar_destroy(only));
    EXPECT_STATUS(zx_vmar_allocate(a, 0, 0, PG, &c, &cbase), ZX_ERR_BAD_STATE);
    zx_handle_close(weak);
    zx_handle_close(only);
    zx_handle_close(a);
}

TEST(VmarDestroy, RootNotSupported) {
    EXPECT_STATUS(zx_vmar_destroy(zx_vmar_root_self()), ZX_ERR_NOT_SUPPORTED);
    /* The root is unharmed. */
    zx_handle_t h;
    zx_vaddr_t addr;
    ASSERT_OK(vu_sub(0, PG, &h, &addr));
    vu_drop(h);
}

TEST(VmarDestroy, TwiceIsBadState) {
    zx_handle_t a;
    zx_vaddr_t abase;
    ASSERT_OK(vu_sub(VU_CAN_RW, 4 * PG, &a, &abase));
    EXPECT_OK(zx_vmar_destroy(a));
    EXPECT_STATUS(zx_vmar_destroy(a), ZX_ERR_BAD_STATE);
    /* The handle itself stays valid. */
    EXPECT_TRUE(tu_handle_valid(a));
    EXPECT_EQ(tu_basic(a).type, (uint32_t)ZX_OBJ_TYPE_VMAR);
    EXPECT_OK(zx_handle_close(a));
}

TEST(VmarDestroy, EveryLaterOpIsBadState) {
    zx_handle_t a, c, vmo = vu_vmo(4 * PG);
    zx_vaddr_t abase, cbase, map;
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &a, &abase));
    ASSERT_OK(vu_map_at(a, VU_RW, 0, vmo, 2 * PG, &map));
    ASSERT_OK(zx_vmar_destroy(a));
    EXPECT_STATUS(zx_vmar_allocate(a, 0, 0, PG, &c, &cbase), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_map(a, VU_RW, 0, vmo, 0, PG, &map), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_map(a, VU_RW | ZX_VM_SPECIFIC, 2 * PG, vmo, 0, PG, &map),
                  ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_unmap(a, abase, PG), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_protect(a, VU_R, abase, PG), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_op_range(a, ZX_VMAR_OP_COMMIT, abase, PG, NULL, 0), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_op_range(a, ZX_VMAR_OP_MAP_RANGE, abase, PG, NULL, 0),
                  ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_destroy(a), ZX_ERR_BAD_STATE);
    /* Earlier argument checks still win over BAD_STATE (docs/syscalls.md's order). */
    EXPECT_STATUS(zx_vmar_allocate(a, 0, 0, PG + 1, &c, &cbase), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_allocate(a, ZX_VM_SPECIFIC_OVERWRITE, 0, PG, &c, &cbase),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_allocate(a, 0, 0, 0, &c, &cbase), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_allocate(a, 0, PG, PG, &c, &cbase), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_unmap(a, abase + 1, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_unmap(a, abase + 64 * PG, PG), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_protect(a, VU_R, abase, 0), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_protect(a, VU_R, abase + 64 * PG, PG), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_map(a, VU_RW, 0, vmo, 1, PG, &map), ZX_ERR_INVALID_ARGS);
    /* op_range checks the range before the state. */
    EXPECT_STATUS(zx_vmar_op_range(a, ZX_VMAR_OP_COMMIT, abase + 64 * PG, PG, NULL, 0),
                  ZX_ERR_OUT_OF_RANGE);
    zx_handle_close(a);
    zx_handle_close(vmo);
}

TEST(VmarDestroy, DestroysSubRegionsRecursively) {
    zx_handle_t a, b, c, vmo = vu_vmo_pattern(2, 0x40);
    zx_vaddr_t abase, bbase, cbase, map, map2;
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    ASSERT_OK(vu_sub(VU_CAN_RWS, 64 * PG, &a, &abase));
    ASSERT_OK(zx_vmar_allocate(a, VU_CAN_RWS, 0, 16 * PG, &b, &bbase));
    ASSERT_OK(zx_vmar_allocate(b, VU_CAN_RWS, 0, 4 * PG, &c, &cbase));
    ASSERT_OK(zx_vmar_map(c, VU_RW, 0, vmo, 0, 2 * PG, &map));
    ASSERT_OK(zx_vmar_map(b, VU_R, 0, vmo, PG, PG, &map2));
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 2u);
    ASSERT_OK(zx_vmar_destroy(a));
    zx_handle_t x;
    zx_vaddr_t xaddr;
    EXPECT_STATUS(zx_vmar_allocate(b, 0, 0, PG, &x, &xaddr), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_allocate(c, 0, 0, PG, &x, &xaddr), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_destroy(b), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_destroy(c), ZX_ERR_BAD_STATE);
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 0u);
    EXPECT_FALSE(vu_mapped(map));
    EXPECT_FALSE(vu_mapped(map + PG));
    EXPECT_FALSE(vu_mapped(map2));
    zx_handle_close(c);
    zx_handle_close(b);
    zx_handle_close(a);
    zx_handle_close(vmo);
}

TEST(VmarDestroy, RangeIsReusable) {
    zx_handle_t a, b;
    zx_vaddr_t abase, bbase;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 16 * PG, &a, &abase));
    ASSERT_OK(zx_vmar_allocate(a, 0, 0, 8 * PG, &b, &bbase));
    ASSERT_OK(zx_vmar_destroy(a));
    zx_handle_close(a);
    zx_handle_close(b);
    /* The same range can be taken again from the root, as a region or as a mapping. */
    ASSERT_OK(zx_vmar_allocate(zx_vmar_root_self(), ZX_VM_SPECIFIC, abase - ROOT_BASE, 16 * PG,
                               &a, &bbase));
    EXPECT_EQ(bbase, abase);
    vu_drop(a);
    zx_handle_t vmo = vu_vmo(16 * PG);
    zx_vaddr_t map;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), VU_R | ZX_VM_SPECIFIC, abase - ROOT_BASE, vmo, 0,
                          16 * PG, &map));
    EXPECT_EQ(map, abase);
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), map, 16 * PG));
    zx_handle_close(vmo);
}

TEST(VmarDestroy, MappingsInsideAreGone) {
    zx_handle_t a, vmo = vu_vmo_pattern(4, 0x10);
    zx_vaddr_t abase, map;
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &a, &abase));
    ASSERT_OK(vu_map_at(a, VU_RW, 2 * PG, vmo, 4 * PG, &map));
    EXPECT_EQ(*(volatile uint8_t *)(map + PG), 0x11);
    EXPECT_TRUE(vu_holds(map + 3 * PG, 0x13));
    ASSERT_OK(zx_vmar_destroy(a));
    for (int i = 0; i < 4; i++) {
        uint8_t b;
        EXPECT_STATUS(vu_peek(map + i * PG, &b), ZX_ERR_NO_MEMORY);
        EXPECT_FALSE(vu_can_read(map + i * PG));
    }
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 0u);
    /* The VMO itself keeps its content. */
    uint8_t b = 0;
    EXPECT_OK(zx_vmo_read(vmo, &b, 2 * PG, 1));
    EXPECT_EQ(b, 0x12);
    zx_handle_close(a);
    zx_handle_close(vmo);
}
