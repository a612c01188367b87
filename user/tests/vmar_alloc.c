/*
 * zx_vmar_allocate (rights, option checks in the order docs/syscalls.md gives, placement, upper
 * limits, every alignment for allocate and map, bad out-pointers) and ZX_INFO_VMAR.
 * zx_vmar_destroy is in vmar_destroy.c.
 */
#include "vmar_util.h"

#define ROOT_BASE 0x200000ull
#define ROOT_LEN 0x7FFFFFDFF000ull

/* A child of the root VMAR whose base is aligned to 1 << log2 (for placement tests). */
static zx_status_t aligned_sub(unsigned log2, zx_vm_option_t opts, size_t size, zx_handle_t *h,
                               zx_vaddr_t *addr) {
    return vu_sub(opts | ((zx_vm_option_t)log2 << ZX_VM_ALIGN_BASE), size, h, addr);
}

/* ---- rights ---- */

TEST(VmarInfo, RootVmar) {
    zx_handle_t root = zx_vmar_root_self();
    EXPECT_EQ(tu_rights(root), (zx_rights_t)0x20801F);
    EXPECT_EQ(tu_basic(root).type, (uint32_t)ZX_OBJ_TYPE_VMAR);
    zx_info_vmar_t info = tu_vmar_info(root);
    EXPECT_EQ((uint64_t)info.base, ROOT_BASE);
    EXPECT_EQ((uint64_t)info.len, ROOT_LEN);
}

TEST(VmarAllocate, ChildRightsFollowCanMap) {
    static const struct {
        zx_vm_option_t opts;
        zx_rights_t rights;
    } cases[] = {
        {0, 0x208003},
        {ZX_VM_CAN_MAP_SPECIFIC, 0x208003},
        {ZX_VM_CAN_MAP_READ, 0x208007},
        {ZX_VM_CAN_MAP_WRITE, 0x20800B},
        {ZX_VM_CAN_MAP_EXECUTE, 0x208013},
        {VU_CAN_RW, 0x20800F},
        {VU_CAN_RWX | ZX_VM_CAN_MAP_SPECIFIC, 0x20801F},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        zx_handle_t h;
        zx_vaddr_t addr;
        ASSERT_OK(vu_sub(cases[i].opts, PG, &h, &addr));
        EXPECT_EQ(tu_rights(h), cases[i].rights);
        vu_drop(h);
    }
}

TEST(VmarAllocate, CanMapNeedsHandleRights) {
    zx_handle_t root = zx_vmar_root_self();
    static const struct {
        zx_rights_t missing;
        zx_vm_option_t asked;
    } cases[] = {
        {ZX_RIGHT_READ, ZX_VM_CAN_MAP_READ},
        {ZX_RIGHT_WRITE, ZX_VM_CAN_MAP_WRITE},
        {ZX_RIGHT_EXECUTE, ZX_VM_CAN_MAP_EXECUTE},
    };
    for (size_t i = 0; i < 3; i++) {
        zx_handle_t dup = tu_dup(root, 0x20801F & ~cases[i].missing);
        ASSERT_NE(dup, ZX_HANDLE_INVALID);
        zx_handle_t h;
        zx_vaddr_t addr;
        EXPECT_STATUS(zx_vmar_allocate(dup, cases[i].asked, 0, PG, &h, &addr),
                      ZX_ERR_ACCESS_DENIED);
        /* Step 1 comes before every option check: bad bits, size 0, PERM bits. */
        EXPECT_STATUS(zx_vmar_allocate(dup, cases[i].asked | (1u << 16), 0, PG, &h, &addr),
                      ZX_ERR_ACCESS_DENIED);
        EXPECT_STATUS(zx_vmar_allocate(dup, cases[i].asked | ZX_VM_PERM_READ, 0, 0, &h, &addr),
                      ZX_ERR_ACCESS_DENIED);
        /* The other CAN_MAP bits still work through this handle. */
        ASSERT_OK(zx_vmar_allocate(dup, VU_CAN_RWX & ~cases[i].asked, 0, PG, &h, &addr));
        vu_drop(h);
        zx_handle_close(dup);
    }
}

TEST(VmarAllocate, ChildCannotExceedParentCanMap) {
    zx_handle_t parent, h;
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_R, 16 * PG, &parent, &base));
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_CAN_MAP_WRITE, 0, PG, &h, &addr),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_CAN_MAP_EXECUTE, 0, PG, &h, &addr),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_allocate(parent, VU_CAN_RW, 0, PG, &h, &addr), ZX_ERR_ACCESS_DENIED);
    ASSERT_OK(zx_vmar_allocate(parent, VU_CAN_R, 0, PG, &h, &addr));
    EXPECT_EQ(tu_rights(h), (zx_rights_t)0x208007);
    vu_drop(h);
    vu_drop(parent);
}

/* ---- option checks ---- */

TEST(VmarAllocate, UndefinedBitsRejected) {
    zx_handle_t h;
    zx_vaddr_t addr;
    for (unsigned bit = 16; bit < 24; bit++)
        EXPECT_STATUS(vu_sub(VU_CAN_RW | (1u << bit), PG, &h, &addr), ZX_ERR_INVALID_ARGS);
}

TEST(VmarAllocate, BadAlignmentExponent) {
    zx_handle_t h;
    zx_vaddr_t addr;
    for (unsigned e = 1; e < 256; e++)
        if (e < 10 || e > 32)
            EXPECT_STATUS(aligned_sub(e, VU_CAN_RW, PG, &h, &addr), ZX_ERR_INVALID_ARGS);
    /* Exponent 0 is "no request". */
    ASSERT_OK(aligned_sub(0, VU_CAN_RW, PG, &h, &addr));
    vu_drop(h);
}

TEST(VmarAllocate, MapOnlyFlagsRejected) {
    zx_handle_t h;
    zx_vaddr_t addr;
    static const zx_vm_option_t bad[] = {
        ZX_VM_MAP_RANGE,
        ZX_VM_REQUIRE_NON_RESIZABLE,
        ZX_VM_ALLOW_FAULTS,
        ZX_VM_SPECIFIC_OVERWRITE,
        ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED,
        ZX_VM_FAULT_BEYOND_STREAM_SIZE,
        ZX_VM_PERM_READ,
        ZX_VM_PERM_WRITE,
        ZX_VM_PERM_EXECUTE,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT_STATUS(vu_sub(VU_CAN_RW | bad[i], PG, &h, &addr), ZX_ERR_INVALID_ARGS);
}

TEST(VmarAllocate, SpecificOverwriteRejectedEvenWhereFree) {
    zx_handle_t parent, h;
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &parent, &base));
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC_OVERWRITE, PG, PG, &h, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC | ZX_VM_SPECIFIC_OVERWRITE, PG, PG, &h,
                                   &addr),
                  ZX_ERR_INVALID_ARGS);
    ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, PG, PG, &h, &addr));
    EXPECT_EQ(addr, base + PG);
    vu_drop(h);
    vu_drop(parent);
}

TEST(VmarAllocate, SizeMustBePageAlignedAndNonZero) {
    zx_handle_t h;
    zx_vaddr_t addr;
    static const size_t bad[] = {0, 1, PG - 1, PG + 1, 3 * PG + 17, SIZE_MAX};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT_STATUS(vu_sub(VU_CAN_RW, bad[i], &h, &addr), ZX_ERR_INVALID_ARGS);
}

TEST(VmarAllocate, SpecificWithUpperLimitRejected) {
    zx_handle_t parent, h;
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &parent, &base));
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC | ZX_VM_OFFSET_IS_UPPER_LIMIT, 4 * PG,
                                   PG, &h, &addr),
                  ZX_ERR_INVALID_ARGS);
    vu_drop(parent);
}

TEST(VmarAllocate, OffsetMisuse) {
    zx_handle_t parent, h;
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &parent, &base));
    /* An offset is meaningful only with SPECIFIC or UPPER_LIMIT. */
    EXPECT_STATUS(zx_vmar_allocate(parent, 0, PG, PG, &h, &addr), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, PG + 8, PG, &h, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_OFFSET_IS_UPPER_LIMIT, 4 * PG + 8, PG, &h,
                                   &addr),
                  ZX_ERR_INVALID_ARGS);
    vu_drop(parent);
}

TEST(VmarAllocate, SpecificNeedsParentCanMapSpecific) {
    zx_handle_t parent, h;
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RW, 8 * PG, &parent, &base));
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, PG, PG, &h, &addr),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_OFFSET_IS_UPPER_LIMIT, 4 * PG, PG, &h, &addr),
                  ZX_ERR_ACCESS_DENIED);
    /* Checked before the bounds: an offset past the end is still ACCESS_DENIED. */
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, 64 * PG, PG, &h, &addr),
                  ZX_ERR_ACCESS_DENIED);
    ASSERT_OK(zx_vmar_allocate(parent, 0, 0, PG, &h, &addr));
    vu_drop(h);
    vu_drop(parent);
}

TEST(VmarAllocate, CanMapSpecificIsNotInherited) {
    /* Only CAN_MAP_R/W/X are bounded by the parent; CAN_MAP_SPECIFIC is the child's own. */
    zx_handle_t parent, child, h;
    zx_vaddr_t base, cbase, addr;
    ASSERT_OK(vu_sub(VU_CAN_RW, 16 * PG, &parent, &base));
    ASSERT_OK(zx_vmar_allocate(parent, VU_CAN_RWS, 0, 8 * PG, &child, &cbase));
    ASSERT_OK(zx_vmar_allocate(child, ZX_VM_SPECIFIC, 2 * PG, PG, &h, &addr));
    EXPECT_EQ(addr, cbase + 2 * PG);
    vu_drop(h);
    vu_drop(child);
    vu_drop(parent);
}

TEST(VmarAllocate, OffsetChecksBeforeCanMapSpecific) {
    /* SPECIFIC with OFFSET_IS_UPPER_LIMIT and the offset checks (INVALID_ARGS) come before
     * the parent's CAN_MAP_SPECIFIC (ACCESS_DENIED); docs/syscalls.md has the order. */
    zx_handle_t parent, h;
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RW, 8 * PG, &parent, &base));
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC | ZX_VM_OFFSET_IS_UPPER_LIMIT, PG, PG,
                                   &h, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, PG + 1, PG, &h, &addr),
                  ZX_ERR_INVALID_ARGS);
    vu_drop(parent);
}

TEST(VmarAllocate, TooLargeIsInvalidArgs) {
    zx_handle_t parent, h;
    zx_vaddr_t base, addr;
    EXPECT_STATUS(vu_sub(0, ROOT_LEN + PG, &h, &addr), ZX_ERR_INVALID_ARGS);
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &parent, &base));
    EXPECT_STATUS(zx_vmar_allocate(parent, 0, 0, 9 * PG, &h, &addr), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, 8 * PG, PG, &h, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, 6 * PG, 3 * PG, &h, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, 4 * PG, SIZE_MAX - PG + 1, &h, &addr),
                  ZX_ERR_INVALID_ARGS);
    /* Upper limit: the limit may be the parent's size, not more; size must fit below it. */
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_OFFSET_IS_UPPER_LIMIT, 9 * PG, PG, &h, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_OFFSET_IS_UPPER_LIMIT, 2 * PG, 3 * PG, &h,
                                   &addr),
                  ZX_ERR_INVALID_ARGS);
    ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_OFFSET_IS_UPPER_LIMIT, 8 * PG, 8 * PG, &h, &addr));
    EXPECT_EQ(addr, base);
    vu_drop(h);
    vu_drop(parent);
}

/* ---- placement ---- */

TEST(VmarAllocate, SpecificOverlapAlreadyExists) {
    zx_handle_t parent, a, h, vmo = vu_vmo(PG);
    zx_vaddr_t base, addr, map;
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    ASSERT_OK(vu_sub(VU_CAN_RWS, 16 * PG, &parent, &base));
    ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, 4 * PG, 4 * PG, &a, &addr));
    ASSERT_OK(vu_map_at(parent, VU_R, 12 * PG, vmo, PG, &map));
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, 4 * PG, 4 * PG, &h, &addr),
                  ZX_ERR_ALREADY_EXISTS);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, 2 * PG, 3 * PG, &h, &addr),
                  ZX_ERR_ALREADY_EXISTS);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, 7 * PG, 2 * PG, &h, &addr),
                  ZX_ERR_ALREADY_EXISTS);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, 11 * PG, 4 * PG, &h, &addr),
                  ZX_ERR_ALREADY_EXISTS);
    /* The pages right next to both are free. */
    ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, 8 * PG, 4 * PG, &h, &addr));
    EXPECT_EQ(addr, base + 8 * PG);
    vu_drop(h);
    vu_drop(a);
    vu_drop(parent);
    zx_handle_close(vmo);
}

TEST(VmarAllocate, NoFreeHoleIsNoResources) {
    zx_handle_t parent, h[4], x;
    zx_vaddr_t base, addr[4], a;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &parent, &base));
    for (int i = 0; i < 4; i++)
        ASSERT_OK(zx_vmar_allocate(parent, 0, 0, PG, &h[i], &addr[i]));
    EXPECT_STATUS(zx_vmar_allocate(parent, 0, 0, PG, &x, &a), ZX_ERR_NO_RESOURCES);
    /* A full mapping-only VMAR says the same to zx_vmar_map. */
    zx_handle_t vmo = vu_vmo(PG);
    EXPECT_STATUS(zx_vmar_map(parent, VU_R, 0, vmo, 0, PG, &a), ZX_ERR_NO_RESOURCES);
    /* The hole a destroyed child leaves is the only place left. */
    ASSERT_OK(zx_vmar_destroy(h[2]));
    ASSERT_OK(zx_vmar_allocate(parent, 0, 0, PG, &x, &a));
    EXPECT_EQ(a, addr[2]);
    vu_drop(x);
    for (int i = 0; i < 4; i++)
        vu_drop(h[i]);
    vu_drop(parent);
    zx_handle_close(vmo);
}

TEST(VmarAllocate, RootSizedRequestIsNoResources) {
    /* It fits the root by size, so it is not INVALID_ARGS; the program's own mappings
     * leave no hole that large. */
    zx_handle_t h;
    zx_vaddr_t addr;
    EXPECT_STATUS(vu_sub(0, ROOT_LEN, &h, &addr), ZX_ERR_NO_RESOURCES);
}

TEST(VmarAllocate, FragmentedParentNoResources) {
    zx_handle_t parent, mid, x;
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 3 * PG, &parent, &base));
    ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, PG, PG, &mid, &addr));
    EXPECT_STATUS(zx_vmar_allocate(parent, 0, 0, 2 * PG, &x, &addr), ZX_ERR_NO_RESOURCES);
    ASSERT_OK(zx_vmar_allocate(parent, 0, 0, PG, &x, &addr));
    EXPECT_TRUE(addr == base || addr == base + 2 * PG);
    vu_drop(x);
    vu_drop(mid);
    vu_drop(parent);
}

TEST(VmarAllocate, SpecificMisalignedForRequestedAlignment) {
    zx_handle_t parent, h, vmo = vu_vmo(PG);
    zx_vaddr_t base, addr;
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    ASSERT_OK(aligned_sub(16, VU_CAN_RWS, 4 * 65536, &parent, &base));
    ASSERT_EQ(base % 65536, 0u);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC | ZX_VM_ALIGN_64KB, PG, PG, &h, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_map(parent, VU_R | ZX_VM_SPECIFIC | ZX_VM_ALIGN_64KB, 3 * PG, vmo, 0,
                              PG, &addr),
                  ZX_ERR_INVALID_ARGS);
    ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_SPECIFIC | ZX_VM_ALIGN_64KB, 65536, PG, &h, &addr));
    EXPECT_EQ(addr, base + 65536);
    /* Misalignment (INVALID_ARGS) is checked before overlap (ALREADY_EXISTS). */
    zx_handle_t x;
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC | ZX_VM_ALIGN_8KB, 65536 - PG, 2 * PG,
                                   &x, &addr),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC | ZX_VM_ALIGN_64KB, 65536, PG, &x,
                                   &addr),
                  ZX_ERR_ALREADY_EXISTS);
    /* Alignments below a page never reject a page-aligned SPECIFIC offset. */
    zx_handle_t h2;
    ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_SPECIFIC | ZX_VM_ALIGN_1KB, 3 * PG, PG, &h2, &addr));
    EXPECT_EQ(addr, base + 3 * PG);
    vu_drop(h2);
    vu_drop(h);
    vu_drop(parent);
    zx_handle_close(vmo);
}

TEST(VmarAllocate, UpperLimitPlacement) {
    zx_handle_t parent, h[3];
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 64 * PG, &parent, &base));
    for (int i = 0; i < 3; i++) {
        ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_OFFSET_IS_UPPER_LIMIT, 16 * PG, 2 * PG, &h[i],
                                   &addr));
        EXPECT_GE(addr, base);
        EXPECT_LE(addr + 2 * PG, base + 16 * PG);
        EXPECT_EQ(addr % PG, 0u);
        EXPECT_EQ(tu_vmar_info(h[i]).len, 2 * PG);
    }
    for (int i = 0; i < 3; i++)
        vu_drop(h[i]);
    vu_drop(parent);
}

TEST(VmarAllocate, UpperLimitExactFit) {
    zx_handle_t parent, h, x;
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 16 * PG, &parent, &base));
    ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_OFFSET_IS_UPPER_LIMIT, 2 * PG, 2 * PG, &h, &addr));
    EXPECT_EQ(addr, base);
    /* The space above the limit is free, but nothing fits below it any more. */
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_OFFSET_IS_UPPER_LIMIT, 3 * PG, 2 * PG, &x, &addr),
                  ZX_ERR_NO_RESOURCES);
    ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_OFFSET_IS_UPPER_LIMIT, 3 * PG, PG, &x, &addr));
    EXPECT_EQ(addr, base + 2 * PG);
    vu_drop(x);
    vu_drop(h);
    vu_drop(parent);
}

TEST(VmarAllocate, UpperLimitWithAlignment) {
    zx_handle_t parent, h, x;
    zx_vaddr_t base, addr;
    ASSERT_OK(aligned_sub(16, VU_CAN_RWS, 4 * 65536, &parent, &base));
    /* Below 64 KiB only offset 0 is 64 KiB-aligned. */
    ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_OFFSET_IS_UPPER_LIMIT | ZX_VM_ALIGN_64KB, 65536, PG,
                               &h, &addr));
    EXPECT_EQ(addr, base);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_OFFSET_IS_UPPER_LIMIT | ZX_VM_ALIGN_64KB, 65536,
                                   PG, &x, &addr),
                  ZX_ERR_NO_RESOURCES);
    /* One more page of room below the limit makes offset 64 KiB the only candidate. */
    ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_OFFSET_IS_UPPER_LIMIT | ZX_VM_ALIGN_64KB,
                               65536 + PG, PG, &x, &addr));
    EXPECT_EQ(addr, base + 65536);
    vu_drop(x);
    vu_drop(h);
    vu_drop(parent);
}

TEST(VmarAllocate, NestedRegionsLieInsideTheirParent) {
    zx_handle_t a, b, c;
    zx_vaddr_t abase, bbase, cbase;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 64 * PG, &a, &abase));
    ASSERT_OK(zx_vmar_allocate(a, VU_CAN_RWS, 0, 16 * PG, &b, &bbase));
    ASSERT_OK(zx_vmar_allocate(b, VU_CAN_R, 0, 4 * PG, &c, &cbase));
    EXPECT_GE(bbase, abase);
    EXPECT_LE(bbase + 16 * PG, abase + 64 * PG);
    EXPECT_GE(cbase, bbase);
    EXPECT_LE(cbase + 4 * PG, bbase + 16 * PG);
    /* SPECIFIC offsets are relative to the parent, the result is absolute. c landed
     * anywhere in b: the page at offset 0 is free unless c starts there, and then the
     * page right after c is (b is 16 pages, c 4). */
    size_t doff = cbase == bbase ? 4 * PG : 0;
    zx_handle_t d;
    zx_vaddr_t dbase;
    ASSERT_OK(zx_vmar_allocate(b, ZX_VM_SPECIFIC, doff, PG, &d, &dbase));
    EXPECT_EQ(dbase, bbase + doff);
    vu_drop(d);
    vu_drop(c);
    vu_drop(b);
    vu_drop(a);
}

TEST(VmarAllocate, CompactAccepted) {
    zx_handle_t parent, h[4];
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS | ZX_VM_COMPACT, 64 * PG, &parent, &base));
    for (int i = 0; i < 4; i++) {
        ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_COMPACT, 0, PG, &h[i], &addr));
        EXPECT_GE(addr, base);
        EXPECT_LT(addr, base + 64 * PG);
    }
    for (int i = 0; i < 4; i++)
        vu_drop(h[i]);
    vu_drop(parent);
}

TEST(VmarAllocate, ClosingTheHandleKeepsTheRange) {
    zx_handle_t parent, h;
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &parent, &base));
    ASSERT_OK(zx_vmar_allocate(parent, 0, 0, 4 * PG, &h, &addr));
    ASSERT_OK(zx_handle_close(h));
    EXPECT_STATUS(zx_vmar_allocate(parent, 0, 0, PG, &h, &addr), ZX_ERR_NO_RESOURCES);
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, 0, PG, &h, &addr),
                  ZX_ERR_ALREADY_EXISTS);
    /* Destroying the parent takes the orphaned child with it. */
    vu_drop(parent);
}

TEST(VmarAllocate, BadHandles) {
    zx_handle_t h, vmo = vu_vmo(PG);
    zx_vaddr_t addr;
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_vmar_allocate(ZX_HANDLE_INVALID, 0, 0, PG, &h, &addr), ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_vmar_allocate((zx_handle_t)0x7ffffff3u, 0, 0, PG, &h, &addr),
                  ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_vmar_allocate(vmo, 0, 0, PG, &h, &addr), ZX_ERR_WRONG_TYPE);
    zx_handle_close(vmo);
}

/* A failed out-pointer leaves no region behind (decisions.md): the whole parent is
 * free again afterwards. */
TEST(VmarAllocate, BadOutPointersLeaveNothingBehind) {
    zx_handle_t parent, h;
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &parent, &base));
    void *bad[] = {NULL, VU_UNMAPPED_PTR, VU_KERNEL_PTR};
    for (size_t i = 0; i < 3; i++) {
        EXPECT_STATUS(zx_vmar_allocate(parent, 0, 0, 4 * PG, (zx_handle_t *)bad[i], &addr),
                      ZX_ERR_INVALID_ARGS);
        EXPECT_STATUS(zx_vmar_allocate(parent, 0, 0, 4 * PG, &h, (zx_vaddr_t *)bad[i]),
                      ZX_ERR_INVALID_ARGS);
    }
    ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_SPECIFIC, 0, 4 * PG, &h, &addr));
    EXPECT_EQ(addr, base);
    vu_drop(h);
    vu_drop(parent);
}

/* ---- alignment ---- */

TEST(VmarAlign, AllocateEveryAlignment) {
    for (unsigned e = 10; e <= 32; e++) {
        zx_handle_t h;
        zx_vaddr_t addr;
        ASSERT_OK(aligned_sub(e, VU_CAN_RW, PG, &h, &addr));
        uint64_t align = e < 12 ? PG : 1ull << e;
        EXPECT_EQ(addr % align, 0u);
        EXPECT_GE(addr, ROOT_BASE);
        EXPECT_LE(addr + PG, ROOT_BASE + ROOT_LEN);
        vu_drop(h);
    }
}

TEST(VmarAlign, MapEveryAlignment) {
    zx_handle_t vmo = vu_vmo(PG);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    for (unsigned e = 10; e <= 32; e++) {
        zx_vaddr_t addr;
        ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), VU_R | ((zx_vm_option_t)e << ZX_VM_ALIGN_BASE),
                              0, vmo, 0, PG, &addr));
        uint64_t align = e < 12 ? PG : 1ull << e;
        EXPECT_EQ(addr % align, 0u);
        EXPECT_GE(addr, ROOT_BASE);
        EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), addr, PG));
    }
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 0u);
    zx_handle_close(vmo);
}

TEST(VmarAlign, AlignmentWithinSmallParent) {
    /* A 64 KiB-aligned 256 KiB parent holds exactly four 64 KiB-aligned pages. */
    zx_handle_t parent, h[5];
    zx_vaddr_t base, addr;
    ASSERT_OK(aligned_sub(16, VU_CAN_RWS, 4 * 65536, &parent, &base));
    for (int i = 0; i < 4; i++) {
        ASSERT_OK(zx_vmar_allocate(parent, ZX_VM_ALIGN_64KB, 0, PG, &h[i], &addr));
        EXPECT_EQ(addr % 65536, 0u);
    }
    EXPECT_STATUS(zx_vmar_allocate(parent, ZX_VM_ALIGN_64KB, 0, PG, &h[4], &addr),
                  ZX_ERR_NO_RESOURCES);
    /* Unaligned room is still there. */
    ASSERT_OK(zx_vmar_allocate(parent, 0, 0, PG, &h[4], &addr));
    EXPECT_NE(addr % 65536, 0u);
    for (int i = 0; i < 5; i++)
        vu_drop(h[i]);
    vu_drop(parent);
}

/* ---- ZX_INFO_VMAR ---- */

TEST(VmarInfo, SubRegionBaseAndLen) {
    zx_handle_t a, b;
    zx_vaddr_t abase, bbase;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 32 * PG, &a, &abase));
    ASSERT_OK(zx_vmar_allocate(a, ZX_VM_SPECIFIC, 8 * PG, 4 * PG, &b, &bbase));
    zx_info_vmar_t info;
    size_t actual = 0, avail = 0;
    ASSERT_OK(zx_object_get_info(a, ZX_INFO_VMAR, &info, sizeof(info), &actual, &avail));
    EXPECT_EQ(info.base, abase);
    EXPECT_EQ(info.len, 32 * PG);
    EXPECT_EQ(actual, 1u);
    EXPECT_EQ(avail, 1u);
    info = tu_vmar_info(b);
    EXPECT_EQ(info.base, abase + 8 * PG);
    EXPECT_EQ(info.len, 4 * PG);
    vu_drop(b);
    vu_drop(a);
}

TEST(VmarInfo, NeedsInspect) {
    zx_handle_t a;
    zx_vaddr_t abase;
    ASSERT_OK(vu_sub(VU_CAN_RW, 4 * PG, &a, &abase));
    zx_info_vmar_t info;
    zx_handle_t no_inspect = tu_dup(a, tu_rights(a) & ~ZX_RIGHT_INSPECT);
    zx_handle_t only_inspect = tu_dup(a, ZX_RIGHT_INSPECT);
    ASSERT_NE(no_inspect, ZX_HANDLE_INVALID);
    ASSERT_NE(only_inspect, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_object_get_info(no_inspect, ZX_INFO_VMAR, &info, sizeof(info), NULL, NULL),
                  ZX_ERR_ACCESS_DENIED);
    ASSERT_OK(zx_object_get_info(only_inspect, ZX_INFO_VMAR, &info, sizeof(info), NULL, NULL));
    EXPECT_EQ(info.base, abase);
    EXPECT_STATUS(zx_object_get_info(a, ZX_INFO_VMAR, &info, sizeof(info) - 1, NULL, NULL),
                  ZX_ERR_BUFFER_TOO_SMALL);
    zx_handle_t vmo = vu_vmo(PG);
    EXPECT_STATUS(zx_object_get_info(vmo, ZX_INFO_VMAR, &info, sizeof(info), NULL, NULL),
                  ZX_ERR_WRONG_TYPE);
    zx_handle_close(vmo);
    zx_handle_close(no_inspect);
    zx_handle_close(only_inspect);
    vu_drop(a);
}
