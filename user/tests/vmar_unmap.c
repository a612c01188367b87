/*
 * zx_vmar_unmap: argument checks in docs/syscalls.md's order, ranges outside the VMAR,
 * holes, splitting a mapping from the left, the right and the middle (the remaining
 * pages keep their data, the removed ones read as unmapped), sub-VMARs wholly or partly
 * covered, and the OP_CHILDREN right.
 *
 * "Unmapped" is checked with zx_process_read_memory, which Zircon's kernel and tests
 * answer with ZX_ERR_NO_MEMORY for an address with no mapping (Beryl follows the kernel
 * rather than the NOT_FOUND its documentation suggests; decisions.md).
 */
#include "vmar_util.h"

/* Pages whose bit is set in `mapped` must be mapped and hold seed + i; the others must
 * be unmapped. */
static bool pages_are(const vu_fixture_t *f, size_t npages, uint8_t seed, uint32_t mapped) {
    for (size_t i = 0; i < npages; i++) {
        zx_vaddr_t a = f->base + i * PG;
        if (mapped & (1u << i)) {
            if (!vu_holds(a, (uint8_t)(seed + i)) || !vu_can_write(a))
                return false;
        } else {
            uint8_t b;
            if (vu_peek(a, &b) != ZX_ERR_NO_MEMORY || vu_can_read(a))
                return false;
        }
    }
    return true;
}

TEST(VmarUnmap, UnalignedAddress) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 2, 0x10));
    EXPECT_STATUS(zx_vmar_unmap(f.vmar, f.base + 1, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_unmap(f.vmar, f.base + PG / 2, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_TRUE(pages_are(&f, 2, 0x10, 0x3));
    vu_fixture_fini(&f);
}

TEST(VmarUnmap, LengthRoundingToZero) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 2, 0x10));
    EXPECT_STATUS(zx_vmar_unmap(f.vmar, f.base, 0), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_unmap(f.vmar, f.base, SIZE_MAX), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_unmap(f.vmar, f.base, SIZE_MAX - PG + 2), ZX_ERR_INVALID_ARGS);
    EXPECT_TRUE(pages_are(&f, 2, 0x10, 0x3));
    /* The length check comes before the state check. */
    ASSERT_OK(zx_vmar_destroy(f.vmar));
    EXPECT_STATUS(zx_vmar_unmap(f.vmar, f.base, 0), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_unmap(f.vmar, f.base, PG), ZX_ERR_BAD_STATE);
    vu_fixture_fini(&f);
}

TEST(VmarUnmap, RangeOutsideTheVmar) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 4, 0x10));
    EXPECT_STATUS(zx_vmar_unmap(f.vmar, f.base - PG, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_unmap(f.vmar, f.base - PG, 2 * PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_unmap(f.vmar, f.base + 4 * PG, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_unmap(f.vmar, f.base + 3 * PG, 2 * PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_unmap(f.vmar, f.base, SIZE_MAX - 2 * PG + 1), ZX_ERR_INVALID_ARGS);
    /* A huge address plus length that wraps around is outside as well. */
    EXPECT_STATUS(zx_vmar_unmap(f.vmar, UINT64_MAX - PG + 1, 2 * PG), ZX_ERR_INVALID_ARGS);
    /* Nothing was touched. */
    EXPECT_TRUE(pages_are(&f, 4, 0x10, 0xf));
    vu_fixture_fini(&f);
}

TEST(VmarUnmap, HolesAreFine) {
    zx_handle_t vmar, vmo = vu_vmo_pattern(1, 0x20);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &vmar, &base));
    /* Nothing mapped at all. */
    EXPECT_OK(zx_vmar_unmap(vmar, base, 8 * PG));
    ASSERT_OK(vu_map_at(vmar, VU_R, 3 * PG, vmo, PG, &addr));
    ASSERT_OK(vu_map_at(vmar, VU_R, 6 * PG, vmo, PG, &addr));
    EXPECT_OK(zx_vmar_unmap(vmar, base + PG, 4 * PG));
    EXPECT_FALSE(vu_mapped(base + 3 * PG));
    EXPECT_TRUE(vu_holds(base + 6 * PG, 0x20));
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 1u);
    EXPECT_OK(zx_vmar_unmap(vmar, base, 8 * PG));
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 0u);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarUnmap, SplitFromTheLeft) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 4, 0x30));
    EXPECT_OK(zx_vmar_unmap(f.vmar, f.base, PG));
    EXPECT_TRUE(pages_are(&f, 4, 0x30, 0xe));
    EXPECT_EQ(tu_vmo_info(f.vmo).num_mappings, 1u);
    EXPECT_OK(zx_vmar_unmap(f.vmar, f.base + PG, 2 * PG));
    EXPECT_TRUE(pages_are(&f, 4, 0x30, 0x8));
    vu_fixture_fini(&f);
}

TEST(VmarUnmap, SplitFromTheRight) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 4, 0x40));
    EXPECT_OK(zx_vmar_unmap(f.vmar, f.base + 3 * PG, PG));
    EXPECT_TRUE(pages_are(&f, 4, 0x40, 0x7));
    EXPECT_OK(zx_vmar_unmap(f.vmar, f.base + PG, 2 * PG));
    EXPECT_TRUE(pages_are(&f, 4, 0x40, 0x1));
    EXPECT_EQ(tu_vmo_info(f.vmo).num_mappings, 1u);
    vu_fixture_fini(&f);
}

TEST(VmarUnmap, SplitInTheMiddle) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 6, 0x50));
    EXPECT_OK(zx_vmar_unmap(f.vmar, f.base + 2 * PG, 2 * PG));
    EXPECT_TRUE(pages_are(&f, 6, 0x50, 0x33));
    EXPECT_EQ(tu_vmo_info(f.vmo).num_mappings, 2u);
    /* Both pieces are real mappings: each can be unmapped (and split) on its own. */
    EXPECT_OK(zx_vmar_unmap(f.vmar, f.base + 5 * PG, PG));
    EXPECT_TRUE(pages_are(&f, 6, 0x50, 0x13));
    EXPECT_OK(zx_vmar_unmap(f.vmar, f.base, 2 * PG));
    EXPECT_TRUE(pages_are(&f, 6, 0x50, 0x10));
    EXPECT_EQ(tu_vmo_info(f.vmo).num_mappings, 1u);
    /* The hole can be mapped again. */
    zx_vaddr_t addr;
    ASSERT_OK(vu_map_at(f.vmar, VU_RW, 2 * PG, f.vmo, 2 * PG, &addr));
    EXPECT_TRUE(vu_holds(addr, 0x50));
    vu_fixture_fini(&f);
}

TEST(VmarUnmap, LengthIsRoundedUp) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 4, 0x60));
    EXPECT_OK(zx_vmar_unmap(f.vmar, f.base + PG, 1));
    EXPECT_TRUE(pages_are(&f, 4, 0x60, 0xd));
    EXPECT_OK(zx_vmar_unmap(f.vmar, f.base + 2 * PG, PG + 1));
    EXPECT_TRUE(pages_are(&f, 4, 0x60, 0x1));
    vu_fixture_fini(&f);
}

TEST(VmarUnmap, AcrossSeveralMappings) {
    zx_handle_t vmar, a = vu_vmo_pattern(3, 0x70), b = vu_vmo_pattern(3, 0x80);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 6 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, a, 3 * PG, &addr));
    ASSERT_OK(vu_map_at(vmar, VU_R, 3 * PG, b, 3 * PG, &addr));
    EXPECT_OK(zx_vmar_unmap(vmar, base + 2 * PG, 2 * PG));
    EXPECT_TRUE(vu_holds(base, 0x70));
    EXPECT_TRUE(vu_holds(base + PG, 0x71));
    EXPECT_FALSE(vu_mapped(base + 2 * PG));
    EXPECT_FALSE(vu_mapped(base + 3 * PG));
    EXPECT_TRUE(vu_holds(base + 4 * PG, 0x81));
    EXPECT_TRUE(vu_holds(base + 5 * PG, 0x82));
    vu_drop(vmar);
    zx_handle_close(a);
    zx_handle_close(b);
}

TEST(VmarUnmap, SubVmarWhollyInsideIsDestroyed) {
    zx_handle_t vmar, child, grand, vmo = vu_vmo_pattern(2, 0x90);
    zx_vaddr_t base, cbase, gbase, addr, gaddr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 16 * PG, &vmar, &base));
    ASSERT_OK(zx_vmar_allocate(vmar, VU_CAN_RWS | ZX_VM_SPECIFIC, 4 * PG, 8 * PG, &child, &cbase));
    ASSERT_OK(zx_vmar_allocate(child, VU_CAN_RWS | ZX_VM_SPECIFIC, 4 * PG, 2 * PG, &grand, &gbase));
    ASSERT_OK(vu_map_at(child, VU_R, 0, vmo, PG, &addr));
    ASSERT_OK(vu_map_at(grand, VU_R, 0, vmo, 2 * PG, &gaddr));
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, vmo, PG, &addr));
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 3u);
    EXPECT_OK(zx_vmar_unmap(vmar, base + 2 * PG, 12 * PG));
    zx_handle_t x;
    zx_vaddr_t xa;
    EXPECT_STATUS(zx_vmar_allocate(child, 0, 0, PG, &x, &xa), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_allocate(grand, 0, 0, PG, &x, &xa), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_destroy(child), ZX_ERR_BAD_STATE);
    EXPECT_FALSE(vu_mapped(cbase));
    EXPECT_FALSE(vu_mapped(gaddr));
    EXPECT_TRUE(vu_holds(base, 0x90));
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 1u);
    /* Its range is free in the parent again. */
    ASSERT_OK(zx_vmar_allocate(vmar, ZX_VM_SPECIFIC, 4 * PG, 8 * PG, &x, &xa));
    vu_drop(x);
    zx_handle_close(grand);
    zx_handle_close(child);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarUnmap, TrimDestroyAndTrimInOneCall) {
    zx_handle_t vmar, child, vmo = vu_vmo_pattern(8, 0x98);
    zx_vaddr_t base, cbase, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 16 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, vmo, 4 * PG, &addr));
    ASSERT_OK(zx_vmar_allocate(vmar, VU_CAN_RWS | ZX_VM_SPECIFIC, 5 * PG, 2 * PG, &child,
                               &cbase));
    ASSERT_OK(vu_map_at(child, VU_R, 0, vmo, 2 * PG, &addr));
    ASSERT_OK(zx_vmar_map(vmar, VU_RW | ZX_VM_SPECIFIC, 8 * PG, vmo, 4 * PG, 4 * PG, &addr));
    EXPECT_OK(zx_vmar_unmap(vmar, base + 2 * PG, 8 * PG));
    EXPECT_TRUE(vu_holds(base, 0x98));
    EXPECT_TRUE(vu_holds(base + PG, 0x99));
    for (int i = 2; i < 10; i++)
        EXPECT_FALSE(vu_mapped(base + i * PG));
    EXPECT_TRUE(vu_holds(base + 10 * PG, 0x9e));
    EXPECT_TRUE(vu_holds(base + 11 * PG, 0x9f));
    EXPECT_STATUS(zx_vmar_destroy(child), ZX_ERR_BAD_STATE);
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 2u);
    zx_handle_close(child);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarUnmap, SplitKeepsEachPiecesProtection) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 6, 0xa8));
    ASSERT_OK(zx_vmar_protect(f.vmar, VU_R, f.base + PG, PG));
    ASSERT_OK(zx_vmar_protect(f.vmar, 0, f.base + 4 * PG, PG));
    EXPECT_OK(zx_vmar_unmap(f.vmar, f.base + 2 * PG, 2 * PG));
    EXPECT_TRUE(vu_can_write(f.base));
    EXPECT_TRUE(vu_can_read(f.base + PG));
    EXPECT_FALSE(vu_can_write(f.base + PG));
    EXPECT_FALSE(vu_mapped(f.base + 2 * PG));
    EXPECT_FALSE(vu_mapped(f.base + 3 * PG));
    EXPECT_TRUE(vu_holds(f.base + 4 * PG, 0xac));
    EXPECT_FALSE(vu_can_read(f.base + 4 * PG));
    EXPECT_TRUE(vu_can_write(f.base + 5 * PG));
    EXPECT_TRUE(vu_holds(f.base + 5 * PG, 0xad));
    vu_fixture_fini(&f);
}

TEST(VmarUnmap, PartlyCoveredSubVmarChangesNothing) {
    zx_handle_t vmar, child, vmo = vu_vmo_pattern(4, 0xa0);
    zx_vaddr_t base, cbase, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, vmo, 2 * PG, &addr));
    ASSERT_OK(zx_vmar_allocate(vmar, VU_CAN_RWS | ZX_VM_SPECIFIC, 4 * PG, 4 * PG, &child, &cbase));
    ASSERT_OK(vu_map_at(child, VU_R, 0, vmo, 4 * PG, &addr));
    /* Covers the parent's mapping and the first half of the child. */
    EXPECT_STATUS(zx_vmar_unmap(vmar, base, 6 * PG), ZX_ERR_INVALID_ARGS);
    /* Covers only the child's mapping, but the child only partly. */
    EXPECT_STATUS(zx_vmar_unmap(vmar, base + 4 * PG, 2 * PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_unmap(vmar, base + 6 * PG, 2 * PG), ZX_ERR_INVALID_ARGS);
    EXPECT_TRUE(vu_holds(base, 0xa0));
    EXPECT_TRUE(vu_holds(base + PG, 0xa1));
    for (int i = 0; i < 4; i++)
        EXPECT_TRUE(vu_holds(cbase + i * PG, (uint8_t)(0xa0 + i)));
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 2u);
    /* Through the child's own handle the same pages can go. */
    EXPECT_OK(zx_vmar_unmap(child, cbase, 2 * PG));
    EXPECT_FALSE(vu_mapped(cbase));
    EXPECT_TRUE(vu_holds(cbase + 2 * PG, 0xa2));
    vu_drop(child);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarUnmap, CoveringASubVmarNeedsOpChildren) {
    zx_handle_t vmar, child, vmo = vu_vmo_pattern(2, 0xb0);
    zx_vaddr_t base, cbase, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, vmo, 2 * PG, &addr));
    ASSERT_OK(zx_vmar_allocate(vmar, VU_CAN_RWS | ZX_VM_SPECIFIC, 4 * PG, 2 * PG, &child, &cbase));
    zx_handle_t weak = tu_dup(vmar, tu_rights(vmar) & ~ZX_RIGHT_OP_CHILDREN);
    ASSERT_NE(weak, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_vmar_unmap(weak, base, 8 * PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_unmap(weak, base + 4 * PG, 2 * PG), ZX_ERR_INVALID_ARGS);
    EXPECT_TRUE(vu_holds(base, 0xb0));
    zx_handle_t x;
    zx_vaddr_t xa;
    ASSERT_OK(zx_vmar_allocate(child, 0, 0, PG, &x, &xa));
    zx_handle_close(x);
    /* Mappings alone need no OP_CHILDREN. */
    EXPECT_OK(zx_vmar_unmap(weak, base, 4 * PG));
    EXPECT_FALSE(vu_mapped(base));
    /* With it, the same call destroys the child. */
    EXPECT_OK(zx_vmar_unmap(vmar, base, 8 * PG));
    EXPECT_STATUS(zx_vmar_allocate(child, 0, 0, PG, &x, &xa), ZX_ERR_BAD_STATE);
    zx_handle_close(weak);
    zx_handle_close(child);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarUnmap, NeedsNoRights) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 2, 0xc0));
    zx_handle_t none = tu_dup(f.vmar, ZX_RIGHT_NONE);
    ASSERT_NE(none, ZX_HANDLE_INVALID);
    EXPECT_OK(zx_vmar_unmap(none, f.base, PG));
    EXPECT_TRUE(pages_are(&f, 2, 0xc0, 0x2));
    zx_handle_close(none);
    vu_fixture_fini(&f);
}

TEST(VmarUnmap, ChildHandleIsBoundedByTheChild) {
    zx_handle_t vmar, child, vmo = vu_vmo_pattern(1, 0xd0);
    zx_vaddr_t base, cbase, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, vmo, PG, &addr));
    ASSERT_OK(zx_vmar_allocate(vmar, VU_CAN_RWS | ZX_VM_SPECIFIC, 4 * PG, 2 * PG, &child, &cbase));
    /* The parent's page is outside the child. */
    EXPECT_STATUS(zx_vmar_unmap(child, base, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_unmap(child, cbase, 3 * PG), ZX_ERR_INVALID_ARGS);
    EXPECT_TRUE(vu_holds(base, 0xd0));
    EXPECT_OK(zx_vmar_unmap(child, cbase, 2 * PG));
    vu_drop(child);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarUnmap, RootUnmapOfOwnMapping) {
    zx_handle_t vmo = vu_vmo_pattern(3, 0xe0);
    zx_vaddr_t addr;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), VU_RW, 0, vmo, 0, 3 * PG, &addr));
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), addr + PG, PG));
    EXPECT_TRUE(vu_holds(addr, 0xe0));
    EXPECT_FALSE(vu_mapped(addr + PG));
    EXPECT_TRUE(vu_holds(addr + 2 * PG, 0xe2));
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), addr, 3 * PG));
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 0u);
    zx_handle_close(vmo);
}
