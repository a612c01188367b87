/*
 * zx_vmar_op_range: unknown ops, the right each op needs, the buffer arguments, ranges
 * outside the VMAR (OUT_OF_RANGE) and gaps (BAD_STATE), mappings in child VMARs,
 * COMMIT / DECOMMIT against a mapping's maximum permissions, and what COMMIT, DECOMMIT and
 * MAP_RANGE do; then ZERO, PREFETCH, DONT_NEED and ALWAYS_NEED: what each does to the
 * mapped VMOs and the mapping permissions each needs (ZERO: WRITE in the mapping's
 * maximum permissions; PREFETCH: READ, and never through a parent VMAR).
 */
#include "vmar_util.h"

_Static_assert(ZX_VMO_OP_DECOMMIT == ZX_VMAR_OP_DECOMMIT, "VMAR ops match the VMO ops");

static const uint32_t all_ops[] = {
    ZX_VMAR_OP_COMMIT, ZX_VMAR_OP_DECOMMIT,    ZX_VMAR_OP_MAP_RANGE,  ZX_VMAR_OP_ZERO,
    ZX_VMAR_OP_DONT_NEED, ZX_VMAR_OP_ALWAYS_NEED, ZX_VMAR_OP_PREFETCH,
};
#define NOPS (sizeof(all_ops) / sizeof(all_ops[0]))

static uint64_t committed(zx_handle_t vmo) { return tu_vmo_info(vmo).committed_bytes; }

static zx_status_t op(zx_handle_t vmar, uint32_t o, zx_vaddr_t addr, size_t len) {
    return zx_vmar_op_range(vmar, o, addr, len, NULL, 0);
}

/* ---- argument checks ---- */

TEST(VmarOpRange, UnknownOp) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init_fresh(&f, 2));
    static const uint32_t bad[] = {0, 4, 5, 6, 7, 8, 9, 11, 15, 100, UINT32_MAX};
    zx_handle_t none = tu_dup(f.vmar, ZX_RIGHT_NONE);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_STATUS(op(f.vmar, bad[i], f.base, PG), ZX_ERR_INVALID_ARGS);
        /* Before the rights check. */
        EXPECT_STATUS(op(none, bad[i], f.base, PG), ZX_ERR_INVALID_ARGS);
    }
    zx_handle_close(none);
    EXPECT_EQ(committed(f.vmo), 0u);
    vu_fixture_fini(&f);
}

TEST(VmarOpRange, RightsPerOp) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init_fresh(&f, 2));
    zx_rights_t all = tu_rights(f.vmar);
    zx_handle_t no_w = tu_dup(f.vmar, all & ~ZX_RIGHT_WRITE);
    zx_handle_t no_r = tu_dup(f.vmar, all & ~ZX_RIGHT_READ);
    zx_handle_t none = tu_dup(f.vmar, ZX_RIGHT_NONE);
    ASSERT_NE(none, ZX_HANDLE_INVALID);
    EXPECT_STATUS(op(no_w, ZX_VMAR_OP_COMMIT, f.base, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(op(no_w, ZX_VMAR_OP_DECOMMIT, f.base, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(op(no_w, ZX_VMAR_OP_ZERO, f.base, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(op(no_w, ZX_VMAR_OP_MAP_RANGE, f.base, PG));
    EXPECT_STATUS(op(no_r, ZX_VMAR_OP_MAP_RANGE, f.base, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(op(no_r, ZX_VMAR_OP_PREFETCH, f.base, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(op(no_r, ZX_VMAR_OP_COMMIT, f.base, PG));
    EXPECT_EQ(committed(f.vmo), PG);
    /* The hints need no right at all. */
    EXPECT_OK(op(none, ZX_VMAR_OP_DONT_NEED, f.base, 2 * PG));
    EXPECT_OK(op(none, ZX_VMAR_OP_ALWAYS_NEED, f.base, 2 * PG));
    /* Rights come before the buffer and the range. */
    char buf[8];
    EXPECT_STATUS(zx_vmar_op_range(no_w, ZX_VMAR_OP_COMMIT, f.base, PG, buf, sizeof(buf)),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(op(no_w, ZX_VMAR_OP_COMMIT, f.base + 1, 0), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(no_w);
    zx_handle_close(no_r);
    zx_handle_close(none);
    vu_fixture_fini(&f);
}

TEST(VmarOpRange, BufferMustBeEmpty) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init_fresh(&f, 2));
    char buf[8];
    for (size_t i = 0; i < NOPS; i++) {
        EXPECT_STATUS(zx_vmar_op_range(f.vmar, all_ops[i], f.base, PG, buf, 0),
                      ZX_ERR_INVALID_ARGS);
        EXPECT_STATUS(zx_vmar_op_range(f.vmar, all_ops[i], f.base, PG, NULL, 8),
                      ZX_ERR_INVALID_ARGS);
        EXPECT_STATUS(zx_vmar_op_range(f.vmar, all_ops[i], f.base, PG, buf, sizeof(buf)),
                      ZX_ERR_INVALID_ARGS);
        /* Before the range checks. */
        EXPECT_STATUS(zx_vmar_op_range(f.vmar, all_ops[i], f.base - PG, PG, buf, 0),
                      ZX_ERR_INVALID_ARGS);
    }
    EXPECT_EQ(committed(f.vmo), 0u);
    vu_fixture_fini(&f);
}

TEST(VmarOpRange, UnalignedAddressOrEmptyLength) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init_fresh(&f, 2));
    for (size_t i = 0; i < NOPS; i++) {
        EXPECT_STATUS(op(f.vmar, all_ops[i], f.base + 1, PG), ZX_ERR_INVALID_ARGS);
        EXPECT_STATUS(op(f.vmar, all_ops[i], f.base, 0), ZX_ERR_INVALID_ARGS);
        EXPECT_STATUS(op(f.vmar, all_ops[i], f.base, SIZE_MAX), ZX_ERR_INVALID_ARGS);
        /* Before the range check. */
        EXPECT_STATUS(op(f.vmar, all_ops[i], f.base - PG, 0), ZX_ERR_INVALID_ARGS);
    }
    /* A length of one byte is a page. */
    EXPECT_OK(op(f.vmar, ZX_VMAR_OP_COMMIT, f.base + PG, 1));
    EXPECT_EQ(committed(f.vmo), PG);
    vu_fixture_fini(&f);
}

TEST(VmarOpRange, OutsideTheVmarIsOutOfRange) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init_fresh(&f, 2));
    const uint32_t *ops = all_ops;
    for (size_t i = 0; i < NOPS; i++) {
        EXPECT_STATUS(op(f.vmar, ops[i], f.base - PG, PG), ZX_ERR_OUT_OF_RANGE);
        EXPECT_STATUS(op(f.vmar, ops[i], f.base - PG, 2 * PG), ZX_ERR_OUT_OF_RANGE);
        EXPECT_STATUS(op(f.vmar, ops[i], f.base + PG, 2 * PG), ZX_ERR_OUT_OF_RANGE);
        EXPECT_STATUS(op(f.vmar, ops[i], f.base + 2 * PG, PG), ZX_ERR_OUT_OF_RANGE);
        EXPECT_STATUS(op(f.vmar, ops[i], UINT64_MAX - PG + 1, 2 * PG), ZX_ERR_OUT_OF_RANGE);
    }
    EXPECT_EQ(committed(f.vmo), 0u);
    vu_fixture_fini(&f);
}

TEST(VmarOpRange, GapIsBadState) {
    zx_handle_t vmar, child, vmo = vu_vmo(2 * PG);
    zx_vaddr_t base, cbase, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &vmar, &base));
    const uint32_t *ops = all_ops;
    /* Nothing mapped. */
    for (size_t i = 0; i < NOPS; i++)
        EXPECT_STATUS(op(vmar, ops[i], base, 8 * PG), ZX_ERR_BAD_STATE);
    ASSERT_OK(vu_map_at(vmar, VU_RW, PG, vmo, 2 * PG, &addr));
    ASSERT_OK(zx_vmar_allocate(vmar, VU_CAN_RWS | ZX_VM_SPECIFIC, 4 * PG, 4 * PG, &child,
                               &cbase));
    for (size_t i = 0; i < NOPS; i++) {
        EXPECT_STATUS(op(vmar, ops[i], base, 2 * PG), ZX_ERR_BAD_STATE);     /* gap first */
        EXPECT_STATUS(op(vmar, ops[i], base + PG, 3 * PG), ZX_ERR_BAD_STATE); /* gap last */
        EXPECT_STATUS(op(vmar, ops[i], cbase, 4 * PG), ZX_ERR_BAD_STATE);    /* empty child */
    }
    /* A failed COMMIT committed nothing. */
    EXPECT_EQ(committed(vmo), 0u);
    EXPECT_OK(op(vmar, ZX_VMAR_OP_COMMIT, base + PG, 2 * PG));
    EXPECT_EQ(committed(vmo), 2 * PG);
    vu_drop(child);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

/* ---- child VMARs and maximum permissions ---- */

TEST(VmarOpRange, MappingsInAChildVmar) {
    zx_handle_t vmar, child, vmo = vu_vmo(2 * PG);
    zx_vaddr_t base, cbase, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(zx_vmar_allocate(vmar, VU_CAN_RWS | ZX_VM_SPECIFIC, 2 * PG, 2 * PG, &child,
                               &cbase));
    ASSERT_OK(vu_map_at(child, VU_RW, 0, vmo, 2 * PG, &addr));
    /* COMMIT and DECOMMIT act like raising to write: never through a parent. */
    EXPECT_STATUS(op(vmar, ZX_VMAR_OP_COMMIT, cbase, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(op(vmar, ZX_VMAR_OP_DECOMMIT, cbase, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(op(zx_vmar_root_self(), ZX_VMAR_OP_COMMIT, cbase, PG), ZX_ERR_INVALID_ARGS);
    /* PREFETCH acts like raising to read: the same. */
    EXPECT_STATUS(op(vmar, ZX_VMAR_OP_PREFETCH, cbase, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(committed(vmo), 0u);
    EXPECT_OK(op(vmar, ZX_VMAR_OP_MAP_RANGE, cbase, 2 * PG));
    EXPECT_OK(op(vmar, ZX_VMAR_OP_ZERO, cbase, 2 * PG));
    EXPECT_OK(op(vmar, ZX_VMAR_OP_DONT_NEED, cbase, 2 * PG));
    EXPECT_OK(op(vmar, ZX_VMAR_OP_ALWAYS_NEED, cbase, 2 * PG));
    /* Without OP_CHILDREN nothing at all reaches into the child. */
    zx_handle_t weak = tu_dup(vmar, tu_rights(vmar) & ~ZX_RIGHT_OP_CHILDREN);
    EXPECT_STATUS(op(weak, ZX_VMAR_OP_MAP_RANGE, cbase, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(op(weak, ZX_VMAR_OP_DONT_NEED, cbase, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(op(weak, ZX_VMAR_OP_ALWAYS_NEED, cbase, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(op(weak, ZX_VMAR_OP_ZERO, cbase, PG), ZX_ERR_INVALID_ARGS);
    zx_handle_close(weak);
    /* The child's own handle may commit. */
    EXPECT_OK(op(child, ZX_VMAR_OP_COMMIT, cbase, 2 * PG));
    EXPECT_EQ(committed(vmo), 2 * PG);
    vu_drop(child);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarOpRange, CommitNeedsWriteInTheMaximumPermissions) {
    zx_handle_t vmar, rw = vu_vmo(PG), ro, tmp = vu_vmo(PG);
    zx_vaddr_t base, addr;
    ASSERT_OK(zx_handle_duplicate(tmp, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE, &ro));
    ASSERT_OK(vu_sub(VU_CAN_RWS, 2 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, ro, PG, &addr));
    ASSERT_OK(vu_map_at(vmar, VU_R, PG, rw, PG, &addr));
    EXPECT_STATUS(op(vmar, ZX_VMAR_OP_COMMIT, base, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(op(vmar, ZX_VMAR_OP_DECOMMIT, base, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(op(vmar, ZX_VMAR_OP_COMMIT, base, 2 * PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_EQ(committed(tmp), 0u);
    EXPECT_EQ(committed(rw), 0u);
    EXPECT_OK(op(vmar, ZX_VMAR_OP_MAP_RANGE, base, 2 * PG));
    /* Mapped read-only from a writable handle: the maximum has write, so it commits. */
    EXPECT_OK(op(vmar, ZX_VMAR_OP_COMMIT, base + PG, PG));
    EXPECT_EQ(committed(rw), PG);
    EXPECT_OK(op(vmar, ZX_VMAR_OP_DECOMMIT, base + PG, PG));
    EXPECT_EQ(committed(rw), 0u);
    /* The current protection does not matter either. */
    ASSERT_OK(zx_vmar_protect(vmar, 0, base + PG, PG));
    EXPECT_OK(op(vmar, ZX_VMAR_OP_COMMIT, base + PG, PG));
    EXPECT_EQ(committed(rw), PG);
    vu_drop(vmar);
    zx_handle_close(rw);
    zx_handle_close(ro);
    zx_handle_close(tmp);
}

/* ---- what the ops do ---- */

TEST(VmarOpRange, CommitCommitsPages) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init_fresh(&f, 4));
    EXPECT_EQ(committed(f.vmo), 0u);
    ASSERT_OK(op(f.vmar, ZX_VMAR_OP_COMMIT, f.base + PG, 2 * PG));
    EXPECT_EQ(committed(f.vmo), 2 * PG);
    ASSERT_OK(op(f.vmar, ZX_VMAR_OP_COMMIT, f.base, 4 * PG));
    EXPECT_EQ(committed(f.vmo), 4 * PG);
    /* Committed pages are zero-filled and usable. */
    volatile uint8_t *p = (volatile uint8_t *)f.base;
    EXPECT_EQ(p[3 * PG + 100], 0);
    p[3 * PG + 100] = 0x42;
    uint8_t b = 0;
    EXPECT_OK(zx_vmo_read(f.vmo, &b, 3 * PG + 100, 1));
    EXPECT_EQ(b, 0x42);
    vu_fixture_fini(&f);
}

TEST(VmarOpRange, CommitAcrossTwoMappings) {
    zx_handle_t vmar, a = vu_vmo(2 * PG), b = vu_vmo(2 * PG);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, a, 2 * PG, &addr));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 2 * PG, b, 2 * PG, &addr));
    ASSERT_OK(op(vmar, ZX_VMAR_OP_COMMIT, base + PG, 2 * PG));
    EXPECT_EQ(committed(a), PG);
    EXPECT_EQ(committed(b), PG);
    ASSERT_OK(op(vmar, ZX_VMAR_OP_DECOMMIT, base, 4 * PG));
    EXPECT_EQ(committed(a), 0u);
    EXPECT_EQ(committed(b), 0u);
    vu_drop(vmar);
    zx_handle_close(a);
    zx_handle_close(b);
}

TEST(VmarOpRange, DecommitFreesAndMappingsReadZeros) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init_fresh(&f, 4));
    volatile uint8_t *p = (volatile uint8_t *)f.base;
    for (int i = 0; i < 4; i++)
        p[i * PG + 7] = (uint8_t)(0x30 + i);
    EXPECT_EQ(committed(f.vmo), 4 * PG);
    ASSERT_OK(op(f.vmar, ZX_VMAR_OP_DECOMMIT, f.base + PG, 2 * PG));
    EXPECT_EQ(committed(f.vmo), 2 * PG);
    EXPECT_EQ(p[7], 0x30);
    EXPECT_EQ(p[PG + 7], 0);
    EXPECT_EQ(p[2 * PG + 7], 0);
    EXPECT_EQ(p[3 * PG + 7], 0x33);
    uint8_t b = 0xff;
    EXPECT_OK(zx_vmo_read(f.vmo, &b, PG + 7, 1));
    EXPECT_EQ(b, 0);
    /* The decommitted pages are usable again. */
    p[PG + 7] = 0x55;
    EXPECT_EQ(p[PG + 7], 0x55);
    EXPECT_EQ(committed(f.vmo), 3 * PG);
    vu_fixture_fini(&f);
}

TEST(VmarOpRange, MapRangeShowsCommittedData) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init_fresh(&f, 4));
    uint8_t v = 0x66;
    ASSERT_OK(zx_vmo_write(f.vmo, &v, 2 * PG, 1));
    ASSERT_OK(op(f.vmar, ZX_VMAR_OP_MAP_RANGE, f.base, 4 * PG));
    /* Only committed pages are populated; nothing new is committed. */
    EXPECT_EQ(committed(f.vmo), PG);
    EXPECT_EQ(*(volatile uint8_t *)(f.base + 2 * PG), 0x66);
    EXPECT_EQ(committed(f.vmo), PG);
    vu_fixture_fini(&f);
}

TEST(VmarOpRange, CommitPastTheVmoEndCommitsWhatExists) {
    /* As in Zircon, a non-pinning commit is trimmed to the VMO's size. */
    zx_handle_t vmar, vmo = vu_vmo(PG);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, vmo, 4 * PG, &addr));
    EXPECT_OK(op(vmar, ZX_VMAR_OP_COMMIT, base, 4 * PG));
    EXPECT_EQ(committed(vmo), PG);
    EXPECT_OK(op(vmar, ZX_VMAR_OP_COMMIT, base + 2 * PG, PG));
    EXPECT_OK(op(vmar, ZX_VMAR_OP_DECOMMIT, base, 4 * PG));
    EXPECT_EQ(committed(vmo), 0u);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarOpRange, DestroyedVmar) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init_fresh(&f, 2));
    ASSERT_OK(zx_vmar_destroy(f.vmar));
    for (size_t i = 0; i < NOPS; i++) {
        EXPECT_STATUS(op(f.vmar, all_ops[i], f.base, PG), ZX_ERR_BAD_STATE);
        EXPECT_STATUS(op(f.vmar, all_ops[i], f.base + 2 * PG, PG), ZX_ERR_OUT_OF_RANGE);
    }
    EXPECT_EQ(committed(f.vmo), 0u);
    vu_fixture_fini(&f);
}

/* ---- ZERO, PREFETCH and the hints ---- */

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
