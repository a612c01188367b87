/*
 * zx_vmar_map: handle and permission checks, option checks in docs/syscalls.md's order,
 * length rounding and overflow, placement (SPECIFIC, upper limit, full VMARs),
 * SPECIFIC_OVERWRITE, MAP_RANGE, mappings past a VMO's end, the VMO reference a mapping
 * holds, and bad out-pointers (decisions.md).
 */
#include "vmar_util.h"

/* A VMO handle with its default rights minus `minus`. */
static zx_handle_t vmo_without(size_t size, zx_rights_t minus) {
    zx_handle_t vmo = vu_vmo(size);
    zx_handle_t dup = tu_dup(vmo, ZX_DEFAULT_VMO_RIGHTS & ~minus);
    zx_handle_close(vmo);
    return dup;
}

/* ---- handles and permissions ---- */

TEST(VmarMap, BadHandles) {
    zx_handle_t vmo = vu_vmo(PG);
    zx_vaddr_t addr;
    EXPECT_STATUS(zx_vmar_map(ZX_HANDLE_INVALID, VU_R, 0, vmo, 0, PG, &addr), ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, ZX_HANDLE_INVALID, 0, PG, &addr),
                  ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_vmar_map(vmo, VU_R, 0, vmo, 0, PG, &addr), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, vu_root(), 0, PG, &addr), ZX_ERR_WRONG_TYPE);
    zx_handle_close(vmo);
}

TEST(VmarMap, VmoWithoutMapRight) {
    zx_handle_t vmo = vmo_without(PG, ZX_RIGHT_MAP);
    zx_vaddr_t addr;
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, vmo, 0, PG, &addr), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_map(vu_root(), 0, 0, vmo, 0, PG, &addr), ZX_ERR_ACCESS_DENIED);
    /* Checked before the permission combination and every option. */
    EXPECT_STATUS(zx_vmar_map(vu_root(), ZX_VM_PERM_WRITE, 0, vmo, 0, PG, &addr),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R | ZX_VM_CAN_MAP_READ, 0, vmo, 1, 0, &addr),
                  ZX_ERR_ACCESS_DENIED);
    zx_handle_close(vmo);
}

TEST(VmarMap, WriteOrExecuteWithoutRead) {
    zx_handle_t vmo = vu_exec_vmo(PG);
    zx_vaddr_t addr;
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_vmar_map(vu_root(), ZX_VM_PERM_WRITE, 0, vmo, 0, PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_map(vu_root(), ZX_VM_PERM_EXECUTE, 0, vmo, 0, PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(
        zx_vmar_map(vu_root(), ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE, 0, vmo, 0, PG, &addr),
        ZX_ERR_INVALID_ARGS);
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RX | ZX_VM_PERM_WRITE, 0, vmo, 0, PG, &addr));
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, PG));
    zx_handle_close(vmo);
}

TEST(VmarMap, NoPermissionMappingAllowed) {
    zx_handle_t vmar, vmo = vu_vmo_pattern(1, 0x5a);
    zx_vaddr_t base, addr, other;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, 0, PG, vmo, PG, &addr));
    EXPECT_EQ(addr, base + PG);
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 1u);
    /* Mapped (the range is taken, the VMO is behind it) but not accessible. */
    EXPECT_STATUS(vu_map_at(vmar, VU_R, PG, vmo, PG, &other), ZX_ERR_ALREADY_EXISTS);
    EXPECT_TRUE(vu_holds(addr, 0x5a));
    EXPECT_FALSE(vu_can_read(addr));
    EXPECT_FALSE(vu_can_write(addr));
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarMap, NoPermissionMappingNeedsOnlyMapRight) {
    zx_handle_t vmo = vu_vmo(PG), map_only = tu_dup(vmo, ZX_RIGHT_MAP);
    zx_vaddr_t addr;
    ASSERT_NE(map_only, ZX_HANDLE_INVALID);
    ASSERT_OK(zx_vmar_map(vu_root(), 0, 0, map_only, 0, PG, &addr));
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 1u);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, map_only, 0, PG, &addr), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, PG));
    zx_handle_close(map_only);
    zx_handle_close(vmo);
}

TEST(VmarMap, CanMapBitsRejected) {
    zx_handle_t vmo = vu_vmo(PG);
    zx_vaddr_t addr;
    static const zx_vm_option_t bad[] = {ZX_VM_CAN_MAP_READ, ZX_VM_CAN_MAP_WRITE,
                                         ZX_VM_CAN_MAP_EXECUTE, ZX_VM_CAN_MAP_SPECIFIC};
    for (size_t i = 0; i < 4; i++)
        EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R | bad[i], 0, vmo, 0, PG, &addr),
                      ZX_ERR_INVALID_ARGS);
    zx_handle_close(vmo);
}

TEST(VmarMap, MapRangeWithSpecificOverwriteRejected) {
    zx_handle_t vmar, vmo = vu_vmo(PG);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R | ZX_VM_MAP_RANGE | ZX_VM_SPECIFIC_OVERWRITE, 0, vmo, 0,
                              PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 0u);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarMap, PermsBeyondVmoRights) {
    zx_handle_t ro = vmo_without(PG, ZX_RIGHT_WRITE), rw = vu_vmo(PG);
    zx_vaddr_t addr;
    ASSERT_NE(ro, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_RW, 0, ro, 0, PG, &addr), ZX_ERR_ACCESS_DENIED);
    /* A plain VMO has no EXECUTE right. */
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_RX, 0, rw, 0, PG, &addr), ZX_ERR_ACCESS_DENIED);
    zx_handle_t wo = vmo_without(PG, ZX_RIGHT_READ);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, wo, 0, PG, &addr), ZX_ERR_ACCESS_DENIED);
    /* docs/syscalls.md's order: CAN_MAP bits before permissions before unknown option
     * bits, the VMO offset and the length. */
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_RW | ZX_VM_CAN_MAP_READ, 0, ro, 0, PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_RW | (1u << 16), 0, ro, 0, PG, &addr),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_RW, 0, ro, 1, 0, &addr), ZX_ERR_ACCESS_DENIED);
    ASSERT_OK(zx_vmar_map(vu_root(), VU_R, 0, ro, 0, PG, &addr));
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, PG));
    zx_handle_close(ro);
    zx_handle_close(rw);
    zx_handle_close(wo);
}

TEST(VmarMap, PermsBeyondVmarRights) {
    zx_handle_t vmo = vu_exec_vmo(PG), ronly, vmar;
    zx_vaddr_t base, addr;
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    ASSERT_OK(vu_sub(VU_CAN_R, 4 * PG, &ronly, &base));
    EXPECT_STATUS(zx_vmar_map(ronly, VU_RW, 0, vmo, 0, PG, &addr), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_map(ronly, VU_RX, 0, vmo, 0, PG, &addr), ZX_ERR_ACCESS_DENIED);
    ASSERT_OK(zx_vmar_map(ronly, VU_R, 0, vmo, 0, PG, &addr));
    static const struct {
        zx_rights_t missing;
        zx_vm_option_t perms;
    } cases[] = {
        {ZX_RIGHT_READ, VU_R},
        {ZX_RIGHT_WRITE, VU_RW},
        {ZX_RIGHT_EXECUTE, VU_RX},
    };
    for (size_t i = 0; i < 3; i++) {
        vmar = tu_dup(vu_root(), 0x20801F & ~cases[i].missing);
        ASSERT_NE(vmar, ZX_HANDLE_INVALID);
        EXPECT_STATUS(zx_vmar_map(vmar, cases[i].perms, 0, vmo, 0, PG, &addr),
                      ZX_ERR_ACCESS_DENIED);
        zx_handle_close(vmar);
    }
    /* With every right the executable VMO maps R|W|X through the root. */
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RX | ZX_VM_PERM_WRITE, 0, vmo, 0, PG, &addr));
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, PG));
    vu_drop(ronly);
    zx_handle_close(vmo);
}

TEST(VmarMap, ReadIfXomUnsupportedActsAsRead) {
    zx_handle_t vmo = vu_vmo_pattern(1, 0x77);
    zx_vaddr_t addr;
    ASSERT_OK(zx_vmar_map(vu_root(), ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED, 0, vmo, 0, PG, &addr));
    EXPECT_EQ(*(volatile uint8_t *)addr, 0x77);
    EXPECT_FALSE(vu_can_write(addr));
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, PG));
    /* With WRITE it counts as the READ that WRITE needs. */
    ASSERT_OK(zx_vmar_map(vu_root(), ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED | ZX_VM_PERM_WRITE, 0, vmo,
                          0, PG, &addr));
    EXPECT_TRUE(vu_can_write(addr));
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, PG));
    zx_handle_close(vmo);
}

/* ---- option checks ---- */

TEST(VmarMap, UndefinedBitsAndBadAlignment) {
    zx_handle_t vmo = vu_vmo(PG);
    zx_vaddr_t addr;
    for (unsigned bit = 16; bit < 24; bit++)
        EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R | (1u << bit), 0, vmo, 0, PG, &addr),
                      ZX_ERR_INVALID_ARGS);
    static const unsigned bad[] = {1, 4, 9, 33, 40, 255};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R | ((zx_vm_option_t)bad[i] << ZX_VM_ALIGN_BASE), 0,
                                  vmo, 0, PG, &addr),
                      ZX_ERR_INVALID_ARGS);
    /* Allocation-only flags are not map options. */
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R | ZX_VM_COMPACT, 0, vmo, 0, PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    /* FAULT_BEYOND_STREAM_SIZE needs ALLOW_FAULTS. */
    EXPECT_STATUS(
        zx_vmar_map(vu_root(), VU_R | ZX_VM_FAULT_BEYOND_STREAM_SIZE, 0, vmo, 0, PG, &addr),
        ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 0u);
    /* ALLOW_FAULTS is a map option (with or without FAULT_BEYOND_STREAM_SIZE). */
    ASSERT_OK(zx_vmar_map(vu_root(), VU_R | ZX_VM_ALLOW_FAULTS, 0, vmo, 0, PG, &addr));
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, PG));
    zx_handle_close(vmo);
}

TEST(VmarMap, RequireNonResizable) {
    zx_handle_t rs, fixed = vu_vmo(PG);
    zx_vaddr_t addr;
    ASSERT_OK(zx_vmo_create(PG, ZX_VMO_RESIZABLE, &rs));
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R | ZX_VM_REQUIRE_NON_RESIZABLE, 0, rs, 0, PG, &addr),
                  ZX_ERR_NOT_SUPPORTED);
    /* After the option bits (9), before COMPACT (12) and the VMO offset (13). */
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R | ZX_VM_REQUIRE_NON_RESIZABLE | (1u << 20), 0, rs, 0,
                              PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    /* FAULT_BEYOND_STREAM_SIZE without ALLOW_FAULTS (8) comes first too. */
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R | ZX_VM_REQUIRE_NON_RESIZABLE |
                                          ZX_VM_FAULT_BEYOND_STREAM_SIZE,
                              0, rs, 0, PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R | ZX_VM_REQUIRE_NON_RESIZABLE | ZX_VM_COMPACT, 0, rs,
                              0, PG, &addr),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R | ZX_VM_REQUIRE_NON_RESIZABLE, 0, rs, 1, PG, &addr),
                  ZX_ERR_NOT_SUPPORTED);
    /* Without the option a resizable VMO maps fine, and a fixed one maps with it. */
    ASSERT_OK(zx_vmar_map(vu_root(), VU_R, 0, rs, 0, PG, &addr));
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, PG));
    ASSERT_OK(zx_vmar_map(vu_root(), VU_R | ZX_VM_REQUIRE_NON_RESIZABLE, 0, fixed, 0, PG, &addr));
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, PG));
    zx_handle_close(rs);
    zx_handle_close(fixed);
}

TEST(VmarMap, UnalignedVmoOffset) {
    zx_handle_t vmo = vu_vmo(4 * PG);
    zx_vaddr_t addr;
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, vmo, 1, PG, &addr), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, vmo, PG + 2048, PG, &addr), ZX_ERR_INVALID_ARGS);
    /* Before the length overflow check. */
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, vmo, 1, SIZE_MAX, &addr), ZX_ERR_INVALID_ARGS);
    zx_handle_close(vmo);
}

TEST(VmarMap, ZeroLength) {
    zx_handle_t vmo = vu_vmo(PG);
    zx_vaddr_t addr;
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, vmo, 0, 0, &addr), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 0u);
    zx_handle_close(vmo);
}

TEST(VmarMap, LengthRoundingOverflow) {
    zx_handle_t vmo = vu_vmo(PG), vmar;
    zx_vaddr_t base, addr;
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, vmo, 0, SIZE_MAX, &addr), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, vmo, 0, SIZE_MAX - PG + 2, &addr),
                  ZX_ERR_OUT_OF_RANGE);
    /* The largest length that rounds without wrapping is merely too big for the VMAR. */
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, vmo, 0, SIZE_MAX - PG + 1, &addr),
                  ZX_ERR_INVALID_ARGS);
    /* The overflow check comes before the VMAR's state and placement. */
    ASSERT_OK(vu_sub(VU_CAN_RW, 4 * PG, &vmar, &base));
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R | ZX_VM_SPECIFIC, 0, vmo, 0, SIZE_MAX, &addr),
                  ZX_ERR_OUT_OF_RANGE);
    ASSERT_OK(zx_vmar_destroy(vmar));
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R, 0, vmo, 0, SIZE_MAX, &addr), ZX_ERR_OUT_OF_RANGE);
    zx_handle_close(vmar);
    zx_handle_close(vmo);
}

TEST(VmarMap, VmoOffsetPlusLengthOverflow) {
    zx_handle_t vmo = vu_vmo(PG);
    zx_vaddr_t addr;
    uint64_t top = UINT64_MAX - PG + 1; /* the last page-aligned offset */
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, vmo, top, 2 * PG, &addr), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, vmo, top - PG, 2 * PG, &addr),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_R, 0, vmo, top - PG, PG + 1, &addr),
                  ZX_ERR_OUT_OF_RANGE);
    /* Ending exactly at 2^64 - 4096 does not overflow; past the VMO's end is allowed. */
    ASSERT_OK(zx_vmar_map(vu_root(), VU_R, 0, vmo, top - PG, PG, &addr));
    EXPECT_FALSE(vu_mapped(addr)); /* nothing of the VMO is there */
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, PG));
    zx_handle_close(vmo);
}

/* ---- placement ---- */

TEST(VmarMap, ReturnedAddressIsAbsoluteAlignedAndInside) {
    zx_handle_t vmar, vmo = vu_vmo(PG);
    zx_vaddr_t base, addr[8];
    ASSERT_OK(vu_sub(VU_CAN_RW, 32 * PG, &vmar, &base));
    for (int i = 0; i < 8; i++) {
        ASSERT_OK(zx_vmar_map(vmar, VU_R, 0, vmo, 0, PG, &addr[i]));
        EXPECT_NE(addr[i], 0u);
        EXPECT_EQ(addr[i] % PG, 0u);
        EXPECT_GE(addr[i], base);
        EXPECT_LE(addr[i] + PG, base + 32 * PG);
        for (int j = 0; j < i; j++)
            EXPECT_NE(addr[i], addr[j]);
    }
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 8u);
    vu_drop(vmar);
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 0u);
    zx_handle_close(vmo);
}

TEST(VmarMap, SpecificOffsetsAndBounds) {
    zx_handle_t vmar, plain, vmo = vu_vmo(4 * PG);
    zx_vaddr_t base, pbase, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_R, 5 * PG, vmo, PG, &addr));
    EXPECT_EQ(addr, base + 5 * PG);
    EXPECT_STATUS(vu_map_at(vmar, VU_R, 8 * PG, vmo, PG, &addr), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vu_map_at(vmar, VU_R, 6 * PG, vmo, 3 * PG, &addr), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vu_map_at(vmar, VU_R, PG + 1, vmo, PG, &addr), ZX_ERR_INVALID_ARGS);
    /* An offset without SPECIFIC is an error, not a hint. */
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R, PG, vmo, 0, PG, &addr), ZX_ERR_INVALID_ARGS);
    /* Too big for the VMAR: INVALID_ARGS, not NO_RESOURCES. */
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R, 0, vmo, 0, 9 * PG, &addr), ZX_ERR_INVALID_ARGS);
    ASSERT_OK(vu_sub(VU_CAN_RW, 8 * PG, &plain, &pbase));
    EXPECT_STATUS(vu_map_at(plain, VU_R, 0, vmo, PG, &addr), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_map(plain, VU_R | ZX_VM_SPECIFIC_OVERWRITE, 0, vmo, 0, PG, &addr),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_map(plain, VU_R | ZX_VM_OFFSET_IS_UPPER_LIMIT, 4 * PG, vmo, 0, PG,
                              &addr),
                  ZX_ERR_ACCESS_DENIED);
    vu_drop(plain);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarMap, UpperLimit) {
    zx_handle_t vmar, vmo = vu_vmo(PG);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 64 * PG, &vmar, &base));
    for (int i = 0; i < 4; i++) {
        ASSERT_OK(zx_vmar_map(vmar, VU_R | ZX_VM_OFFSET_IS_UPPER_LIMIT, 8 * PG, vmo, 0, PG, &addr));
        EXPECT_GE(addr, base);
        EXPECT_LE(addr + PG, base + 8 * PG);
    }
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R | ZX_VM_OFFSET_IS_UPPER_LIMIT | ZX_VM_SPECIFIC, 8 * PG,
                              vmo, 0, PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R | ZX_VM_OFFSET_IS_UPPER_LIMIT, 65 * PG, vmo, 0, PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R | ZX_VM_OFFSET_IS_UPPER_LIMIT, PG, vmo, 0, 2 * PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarMap, LastPageOfTheAddressSpace) {
    const size_t root_len = 0x7FFFFFDFF000ull;
    zx_handle_t vmo = vu_vmo_pattern(2, 0x3c);
    zx_vaddr_t addr;
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_RW | ZX_VM_SPECIFIC, root_len, vmo, 0, PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_map(vu_root(), VU_RW | ZX_VM_SPECIFIC, root_len - PG, vmo, 0, 2 * PG,
                              &addr),
                  ZX_ERR_INVALID_ARGS);
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW | ZX_VM_SPECIFIC, root_len - PG, vmo, PG, PG, &addr));
    EXPECT_EQ(addr, 0x7FFFFFFFE000ull);
    volatile uint8_t *p = (volatile uint8_t *)addr;
    EXPECT_EQ(p[0], 0x3d);
    p[PG - 1] = 0x5e;
    EXPECT_EQ(p[PG - 1], 0x5e);
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, PG));
    EXPECT_FALSE(vu_mapped(addr));
    zx_handle_close(vmo);
}

TEST(VmarMap, SpecificOverExistingMapping) {
    zx_handle_t vmar, vmo = vu_vmo(8 * PG);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_R, 2 * PG, vmo, 2 * PG, &addr));
    EXPECT_STATUS(vu_map_at(vmar, VU_R, 2 * PG, vmo, 2 * PG, &addr), ZX_ERR_ALREADY_EXISTS);
    EXPECT_STATUS(vu_map_at(vmar, VU_R, PG, vmo, 2 * PG, &addr), ZX_ERR_ALREADY_EXISTS);
    EXPECT_STATUS(vu_map_at(vmar, VU_R, 3 * PG, vmo, 2 * PG, &addr), ZX_ERR_ALREADY_EXISTS);
    EXPECT_STATUS(vu_map_at(vmar, VU_R, 0, vmo, 8 * PG, &addr), ZX_ERR_ALREADY_EXISTS);
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 1u);
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, vmo, 2 * PG, &addr));
    ASSERT_OK(vu_map_at(vmar, VU_R, 4 * PG, vmo, 4 * PG, &addr));
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R, 0, vmo, 0, PG, &addr), ZX_ERR_NO_RESOURCES);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarMap, NoResourcesWhenFull) {
    zx_handle_t vmar, vmo = vu_vmo(4 * PG);
    zx_vaddr_t base, a, b;
    ASSERT_OK(vu_sub(VU_CAN_RW, 3 * PG, &vmar, &base));
    ASSERT_OK(zx_vmar_map(vmar, VU_R, 0, vmo, 0, 2 * PG, &a));
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R, 0, vmo, 0, 2 * PG, &b), ZX_ERR_NO_RESOURCES);
    ASSERT_OK(zx_vmar_map(vmar, VU_R, 0, vmo, 0, PG, &b));
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R, 0, vmo, 0, PG, &b), ZX_ERR_NO_RESOURCES);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

/* ---- SPECIFIC_OVERWRITE ---- */

TEST(VmarMap, SpecificOverwriteReplacesAtomically) {
    zx_handle_t vmar, a = vu_vmo_pattern(4, 0x10), b = vu_vmo_pattern(2, 0x20);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, a, 4 * PG, &addr));
    ASSERT_OK(zx_vmar_map(vmar, VU_R | ZX_VM_SPECIFIC_OVERWRITE, PG, b, 0, 2 * PG, &addr));
    EXPECT_EQ(addr, base + PG);
    volatile uint8_t *p = (volatile uint8_t *)base;
    EXPECT_EQ(p[0], 0x10);
    EXPECT_EQ(p[PG], 0x20);
    EXPECT_EQ(p[2 * PG], 0x21);
    EXPECT_EQ(p[3 * PG], 0x13);
    /* The new pages have the new mapping's permissions; the old pieces keep theirs. */
    EXPECT_FALSE(vu_can_write(base + PG));
    EXPECT_TRUE(vu_can_write(base));
    EXPECT_TRUE(vu_can_write(base + 3 * PG));
    EXPECT_EQ(tu_vmo_info(a).num_mappings, 2u);
    EXPECT_EQ(tu_vmo_info(b).num_mappings, 1u);
    vu_drop(vmar);
    zx_handle_close(a);
    zx_handle_close(b);
}

TEST(VmarMap, SpecificOverwriteSpanningMappingsAndGaps) {
    zx_handle_t vmar, a = vu_vmo_pattern(1, 0x30), b = vu_vmo_pattern(8, 0x40);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_R, PG, a, PG, &addr));
    ASSERT_OK(vu_map_at(vmar, VU_R, 4 * PG, a, PG, &addr));
    ASSERT_OK(vu_map_at(vmar, VU_R, 7 * PG, a, PG, &addr));
    EXPECT_EQ(tu_vmo_info(a).num_mappings, 3u);
    /* Into an empty range it simply maps; over mappings and gaps it replaces them. */
    ASSERT_OK(zx_vmar_map(vmar, VU_R | ZX_VM_SPECIFIC_OVERWRITE, 0, b, 0, 6 * PG, &addr));
    EXPECT_EQ(addr, base);
    EXPECT_EQ(tu_vmo_info(a).num_mappings, 1u);
    for (int i = 0; i < 6; i++)
        EXPECT_TRUE(vu_holds(base + i * PG, (uint8_t)(0x40 + i)));
    EXPECT_FALSE(vu_mapped(base + 6 * PG));
    EXPECT_TRUE(vu_holds(base + 7 * PG, 0x30));
    vu_drop(vmar);
    zx_handle_close(a);
    zx_handle_close(b);
}

TEST(VmarMap, SpecificOverwriteCannotCoverSubVmar) {
    zx_handle_t vmar, child, a = vu_vmo_pattern(2, 0x50), b = vu_vmo(8 * PG);
    zx_vaddr_t base, cbase, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, a, 2 * PG, &addr));
    ASSERT_OK(zx_vmar_allocate(vmar, VU_CAN_RWS | ZX_VM_SPECIFIC, 4 * PG, 2 * PG, &child, &cbase));
    ASSERT_OK(vu_map_at(child, VU_R, 0, a, PG, &addr));
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R | ZX_VM_SPECIFIC_OVERWRITE, 0, b, 0, 5 * PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    /* Not even a whole sub-VMAR: overwriting only replaces mappings. */
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R | ZX_VM_SPECIFIC_OVERWRITE, 0, b, 0, 8 * PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    /* Nothing changed. */
    EXPECT_TRUE(vu_holds(base, 0x50));
    EXPECT_TRUE(vu_holds(base + PG, 0x51));
    EXPECT_TRUE(vu_holds(cbase, 0x50));
    EXPECT_EQ(tu_vmo_info(a).num_mappings, 2u);
    EXPECT_EQ(tu_vmo_info(b).num_mappings, 0u);
    EXPECT_EQ(tu_vmar_info(child).len, 2 * PG);
    /* Inside the sub-VMAR itself it is allowed. */
    ASSERT_OK(zx_vmar_map(child, VU_R | ZX_VM_SPECIFIC_OVERWRITE, 0, b, 0, 2 * PG, &addr));
    EXPECT_EQ(tu_vmo_info(b).num_mappings, 1u);
    vu_drop(child);
    vu_drop(vmar);
    zx_handle_close(a);
    zx_handle_close(b);
}

/* ---- what a mapping holds ---- */

TEST(VmarMap, PastTheEndOfAPagedVmo) {
    zx_handle_t vmar, vmo = vu_vmo_pattern(1, 0x61);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, vmo, 4 * PG, &addr));
    EXPECT_EQ(*(volatile uint8_t *)addr, 0x61);
    /* Pages beyond the VMO's size are in the mapping but cannot be touched. */
    EXPECT_FALSE(vu_can_read(addr + PG));
    EXPECT_FALSE(vu_can_read(addr + 3 * PG));
    EXPECT_STATUS(vu_map_at(vmar, VU_R, 3 * PG, vmo, PG, &addr), ZX_ERR_ALREADY_EXISTS);
    /* Growing a resizable VMO makes them usable (mappings are not trimmed when a VMO
     * shrinks: docs/syscalls.md, zx_vmo_set_size). */
    zx_handle_t rs;
    ASSERT_OK(zx_vmo_create(PG, ZX_VMO_RESIZABLE, &rs));
    ASSERT_OK(zx_vmar_map(vmar, VU_RW | ZX_VM_SPECIFIC_OVERWRITE, 0, rs, 0, 4 * PG, &addr));
    EXPECT_FALSE(vu_can_read(base + 2 * PG));
    ASSERT_OK(zx_vmo_set_size(rs, 4 * PG));
    EXPECT_TRUE(vu_can_write(base + 2 * PG));
    vu_drop(vmar);
    zx_handle_close(rs);
    zx_handle_close(vmo);
}

TEST(VmarMap, MappingKeepsTheVmoAlive) {
    zx_handle_t vmo = vu_vmo_pattern(2, 0x70);
    zx_vaddr_t addr;
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW, 0, vmo, 0, 2 * PG, &addr));
    ASSERT_OK(zx_handle_close(vmo));
    volatile uint8_t *p = (volatile uint8_t *)addr;
    EXPECT_EQ(p[0], 0x70);
    EXPECT_EQ(p[PG], 0x71);
    p[PG + 5] = 0x99;
    EXPECT_EQ(p[PG + 5], 0x99);
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, 2 * PG));
    EXPECT_FALSE(vu_mapped(addr));
}

TEST(VmarMap, LengthOneByteShortOfFourPagesMapsFour) {
    zx_handle_t vmar, vmo = vu_vmo_pattern(8, 0x80);
    zx_vaddr_t base, addr, other;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, vmo, 4 * PG - 1, &addr));
    EXPECT_TRUE(vu_holds(addr + 3 * PG, 0x83));
    EXPECT_EQ(*(volatile uint8_t *)(addr + 4 * PG - 1), 0); /* the last byte of page 3 */
    EXPECT_FALSE(vu_mapped(addr + 4 * PG));
    EXPECT_STATUS(vu_map_at(vmar, VU_R, 3 * PG, vmo, PG, &other), ZX_ERR_ALREADY_EXISTS);
    ASSERT_OK(vu_map_at(vmar, VU_R, 4 * PG, vmo, PG, &other));
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarMap, MapRangePopulatesCommittedPagesOnly) {
    zx_handle_t vmo = vu_vmo(4 * PG);
    zx_vaddr_t addr;
    uint8_t v0 = 0xa0, v2 = 0xa2;
    ASSERT_OK(zx_vmo_write(vmo, &v0, 0, 1));
    ASSERT_OK(zx_vmo_write(vmo, &v2, 2 * PG, 1));
    EXPECT_EQ(tu_vmo_info(vmo).committed_bytes, 2 * PG);
    ASSERT_OK(zx_vmar_map(vu_root(), VU_R | ZX_VM_MAP_RANGE, 0, vmo, 0, 4 * PG, &addr));
    /* Nothing was committed by the map itself. */
    EXPECT_EQ(tu_vmo_info(vmo).committed_bytes, 2 * PG);
    volatile uint8_t *p = (volatile uint8_t *)addr;
    EXPECT_EQ(p[0], 0xa0);
    EXPECT_EQ(p[2 * PG], 0xa2);
    EXPECT_EQ(p[PG], 0);
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, 4 * PG));
    /* A writable MAP_RANGE mapping sees and changes the same pages. */
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW | ZX_VM_MAP_RANGE, 0, vmo, 0, 4 * PG, &addr));
    p = (volatile uint8_t *)addr;
    EXPECT_EQ(p[2 * PG], 0xa2);
    p[2 * PG] = 0xb2;
    uint8_t b = 0;
    EXPECT_OK(zx_vmo_read(vmo, &b, 2 * PG, 1));
    EXPECT_EQ(b, 0xb2);
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, 4 * PG));
    zx_handle_close(vmo);
}

/* ---- bad out-pointers (decisions.md: nothing left behind) ---- */

TEST(VmarMap, BadOutPointerLeavesNoMapping) {
    zx_handle_t vmar, vmo = vu_vmo(4 * PG);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    void *bad[] = {NULL, VU_UNMAPPED_PTR, VU_KERNEL_PTR};
    for (size_t i = 0; i < 3; i++)
        EXPECT_STATUS(zx_vmar_map(vmar, VU_RW, 0, vmo, 0, 4 * PG, (zx_vaddr_t *)bad[i]),
                      ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 0u);
    EXPECT_FALSE(vu_mapped(base));
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, vmo, 4 * PG, &addr));
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarMap, BadOutPointerAfterOverwriteLeavesTheRangeEmpty) {
    zx_handle_t vmar, a = vu_vmo_pattern(2, 0x11), b = vu_vmo(2 * PG);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 2 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, a, 2 * PG, &addr));
    EXPECT_STATUS(zx_vmar_map(vmar, VU_R | ZX_VM_SPECIFIC_OVERWRITE, 0, b, 0, 2 * PG, NULL),
                  ZX_ERR_INVALID_ARGS);
    /* What the overwrite replaced stays gone, as in Zircon; the new mapping is undone. */
    EXPECT_EQ(tu_vmo_info(a).num_mappings, 0u);
    EXPECT_EQ(tu_vmo_info(b).num_mappings, 0u);
    EXPECT_FALSE(vu_mapped(base));
    EXPECT_FALSE(vu_mapped(base + PG));
    vu_drop(vmar);
    zx_handle_close(a);
    zx_handle_close(b);
}
