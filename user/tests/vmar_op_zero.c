/*
 * zx_vmar_op_range ZERO, PREFETCH, DONT_NEED and ALWAYS_NEED: what each does to the
 * mapped VMOs and the mapping permissions each needs (ZERO: WRITE in the mapping's
 * maximum permissions; PREFETCH: READ, and never through a parent VMAR). The argument,
 * range, gap and right checks shared with the other ops are in vmar_op.c.
 */
#include "vmar_util.h"

static uint64_t committed(zx_handle_t vmo) { return tu_vmo_info(vmo).committed_bytes; }

static zx_status_t op(zx_handle_t vmar, uint32_t o, zx_vaddr_t addr, size_t len) {
    return zx_vmar_op_range(vmar, o, addr, len, NULL, 0);
}

/* The byte at offset off of vmo (0xee if the read fails). */
static uint8_t vmo_byte(zx_handle_t vmo, uint64_t off) {
    uint8_t b = 0xee;
    zx_vmo_read(vmo, &b, off, 1);
    return b;
}

TEST(VmarOpZero, ZeroesTheMappedRange) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 4, 0x10));
    volatile uint8_t *p = (volatile uint8_t *)f.base;
    p[PG + 100] = 0x51;
    p[2 * PG + PG - 1] = 0x52;
    ASSERT_OK(op(f.vmar, ZX_VMAR_OP_ZERO, f.base + PG, 2 * PG));
    EXPECT_EQ(p[0], 0x10);
    EXPECT_EQ(p[PG], 0);
    EXPECT_EQ(p[PG + 100], 0);
    EXPECT_EQ(p[2 * PG], 0);
    EXPECT_EQ(p[3 * PG - 1], 0);
    EXPECT_EQ(p[3 * PG], 0x13);
    EXPECT_EQ(vmo_byte(f.vmo, PG + 100), 0);
    EXPECT_EQ(vmo_byte(f.vmo, 3 * PG), 0x13);
    /* Zeroed pages stay usable. */
    p[2 * PG + 5] = 0x61;
    EXPECT_EQ(vmo_byte(f.vmo, 2 * PG + 5), 0x61);
    /* A length that is not a page multiple is rounded up, like every op. */
    ASSERT_OK(op(f.vmar, ZX_VMAR_OP_ZERO, f.base, 1));
    EXPECT_EQ(p[0], 0);
    EXPECT_EQ(p[PG - 1], 0);
    vu_fixture_fini(&f);
}

TEST(VmarOpZero, AcrossTwoMappingsOfTwoVmos) {
    zx_handle_t vmar, a = vu_vmo_pattern(2, 0x20), b = vu_vmo_pattern(2, 0x30);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, a, 2 * PG, &addr));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 2 * PG, b, 2 * PG, &addr));
    ASSERT_OK(op(vmar, ZX_VMAR_OP_ZERO, base + PG, 2 * PG));
    EXPECT_EQ(vmo_byte(a, 0), 0x20);
    EXPECT_EQ(vmo_byte(a, PG), 0);
    EXPECT_EQ(vmo_byte(b, 0), 0);
    EXPECT_EQ(vmo_byte(b, PG), 0x31);
    vu_drop(vmar);
    zx_handle_close(a);
    zx_handle_close(b);
}

TEST(VmarOpZero, AGapZeroesNothing) {
    /* BAD_STATE for the gap; Beryl checks the whole range before changing anything. */
    zx_handle_t vmar, vmo = vu_vmo_pattern(2, 0x40);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, vmo, 2 * PG, &addr));
    EXPECT_STATUS(op(vmar, ZX_VMAR_OP_ZERO, base, 3 * PG), ZX_ERR_BAD_STATE);
    EXPECT_EQ(vmo_byte(vmo, 0), 0x40);
    EXPECT_EQ(vmo_byte(vmo, PG), 0x41);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarOpZero, NeedsWriteInTheMaximumPermissions) {
    zx_handle_t vmar, rw = vu_vmo_pattern(1, 0x50), tmp = vu_vmo_pattern(1, 0x60), ro;
    zx_vaddr_t base, addr;
    ASSERT_OK(zx_handle_duplicate(tmp, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE, &ro));
    ASSERT_OK(vu_sub(VU_CAN_RWS, 2 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, ro, PG, &addr));
    ASSERT_OK(vu_map_at(vmar, VU_R, PG, rw, PG, &addr));
    EXPECT_STATUS(op(vmar, ZX_VMAR_OP_ZERO, base, PG), ZX_ERR_ACCESS_DENIED);
    /* One such mapping in the range refuses the whole op. */
    EXPECT_STATUS(op(vmar, ZX_VMAR_OP_ZERO, base, 2 * PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_EQ(vmo_byte(tmp, 0), 0x60);
    EXPECT_EQ(vmo_byte(rw, 0), 0x50);
    /* Mapped read-only (even inaccessible) from a writable handle: it zeroes. */
    ASSERT_OK(zx_vmar_protect(vmar, 0, base + PG, PG));
    EXPECT_OK(op(vmar, ZX_VMAR_OP_ZERO, base + PG, PG));
    EXPECT_EQ(vmo_byte(rw, 0), 0);
    vu_drop(vmar);
    zx_handle_close(rw);
    zx_handle_close(ro);
    zx_handle_close(tmp);
}

TEST(VmarOpZero, SnapshotChildLeavesTheParent) {
    zx_handle_t parent = vu_vmo_pattern(2, 0x70), child, vmar;
    zx_vaddr_t base, addr;
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * PG, &child));
    ASSERT_OK(vu_sub(VU_CAN_RWS, 2 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, child, 2 * PG, &addr));
    ASSERT_OK(op(vmar, ZX_VMAR_OP_ZERO, base, PG));
    EXPECT_EQ(*(volatile uint8_t *)base, 0);
    EXPECT_EQ(vmo_byte(child, 0), 0);
    EXPECT_EQ(vmo_byte(child, PG), 0x71);
    EXPECT_EQ(vmo_byte(parent, 0), 0x70);
    vu_drop(vmar);
    zx_handle_close(child);
    zx_handle_close(parent);
}

TEST(VmarOpZero, PastTheVmoEndZeroesWhatExists) {
    /* The mapping is longer than its VMO: the part past the end holds nothing to zero. */
    zx_handle_t vmar, vmo = vu_vmo_pattern(1, 0x80);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, vmo, 4 * PG, &addr));
    EXPECT_OK(op(vmar, ZX_VMAR_OP_ZERO, base, 4 * PG));
    EXPECT_EQ(vmo_byte(vmo, 0), 0);
    EXPECT_OK(op(vmar, ZX_VMAR_OP_ZERO, base + 2 * PG, PG));
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarOpPrefetch, KeepsDataAndCommitsNothing) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init_fresh(&f, 4));
    uint8_t v = 0x90;
    ASSERT_OK(zx_vmo_write(f.vmo, &v, 2 * PG + 9, 1));
    ASSERT_OK(op(f.vmar, ZX_VMAR_OP_PREFETCH, f.base, 4 * PG));
    EXPECT_EQ(committed(f.vmo), PG);
    EXPECT_EQ(*(volatile uint8_t *)(f.base + 2 * PG + 9), 0x90);
    EXPECT_EQ(*(volatile uint8_t *)(f.base + 9), 0);
    ASSERT_OK(op(f.vmar, ZX_VMAR_OP_ALWAYS_NEED, f.base, 4 * PG));
    ASSERT_OK(op(f.vmar, ZX_VMAR_OP_DONT_NEED, f.base, 4 * PG));
    EXPECT_EQ(committed(f.vmo), PG);
    EXPECT_EQ(*(volatile uint8_t *)(f.base + 2 * PG + 9), 0x90);
    vu_fixture_fini(&f);
}

TEST(VmarOpPrefetch, NeedsReadInTheMaximumPermissions) {
    /* A mapping without any permission of a VMO handle without READ cannot be read, ever. */
    zx_handle_t vmar, tmp = vu_vmo(PG), nr;
    zx_vaddr_t base, addr;
    ASSERT_OK(zx_handle_duplicate(tmp, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_READ, &nr));
    ASSERT_OK(vu_sub(VU_CAN_RWS, 2 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, 0, 0, nr, PG, &addr));
    ASSERT_OK(vu_map_at(vmar, 0, PG, tmp, PG, &addr));
    EXPECT_STATUS(op(vmar, ZX_VMAR_OP_PREFETCH, base, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(op(vmar, ZX_VMAR_OP_PREFETCH, base, 2 * PG), ZX_ERR_ACCESS_DENIED);
    /* The other mapping's maximum allows reading: its current protection does not matter. */
    EXPECT_OK(op(vmar, ZX_VMAR_OP_PREFETCH, base + PG, PG));
    /* The hints need nothing of the mapping. */
    EXPECT_OK(op(vmar, ZX_VMAR_OP_DONT_NEED, base, 2 * PG));
    EXPECT_OK(op(vmar, ZX_VMAR_OP_ALWAYS_NEED, base, 2 * PG));
    vu_drop(vmar);
    zx_handle_close(nr);
    zx_handle_close(tmp);
}
