/*
 * zx_vmar_protect: rights, argument checks in the order docs/syscalls.md gives, gaps and empty
 * sub-VMARs, maximum permissions fixed at map time, CAN_MAP ceilings through nested
 * VMARs, OP_CHILDREN and "only reduce through a parent", splitting by protect (and
 * unmapping or re-merging the pieces), all-or-nothing failures. Effective permissions
 * are probed with vu_can_read / vu_can_write (vmar_util.h); two death tests check that
 * user-mode accesses really fault.
 */
#include "vmar_util.h"

/* Page i is writable iff bit i of `writable` is set; every page stays readable and
 * keeps seed + i. */
static bool writable_pages(const vu_fixture_t *f, size_t npages, uint8_t seed,
                           uint32_t writable) {
    for (size_t i = 0; i < npages; i++) {
        zx_vaddr_t a = f->base + i * PG;
        if (!vu_can_read(a) || *(volatile uint8_t *)a != (uint8_t)(seed + i))
            return false;
        if (vu_can_write(a) != ((writable >> i) & 1))
            return false;
    }
    return true;
}

/* ---- rights and argument checks ---- */

TEST(VmarProtect, NeedsHandleRights) {
    zx_handle_t vmo = vu_exec_vmo(PG);
    zx_vaddr_t addr;
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RX | ZX_VM_PERM_WRITE, 0, vmo, 0, PG, &addr));
    static const struct {
        zx_rights_t missing;
        zx_vm_option_t perms;
    } cases[] = {
        {ZX_RIGHT_READ, VU_R},
        {ZX_RIGHT_WRITE, VU_RW},
        {ZX_RIGHT_EXECUTE, VU_RX},
        /* Step 1 comes before the combination check (2) and the rest. */
        {ZX_RIGHT_WRITE, ZX_VM_PERM_WRITE},
        {ZX_RIGHT_READ, VU_R | ZX_VM_SPECIFIC},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        zx_handle_t weak = tu_dup(vu_root(), 0x20801F & ~cases[i].missing);
        ASSERT_NE(weak, ZX_HANDLE_INVALID);
        EXPECT_STATUS(zx_vmar_protect(weak, cases[i].perms, addr, PG), ZX_ERR_ACCESS_DENIED);
        EXPECT_STATUS(zx_vmar_protect(weak, cases[i].perms, addr + 1, 0), ZX_ERR_ACCESS_DENIED);
        zx_handle_close(weak);
    }
    EXPECT_TRUE(vu_can_write(addr));
    /* No permission bits need no rights at all. */
    zx_handle_t none = tu_dup(vu_root(), ZX_RIGHT_NONE);
    EXPECT_OK(zx_vmar_protect(none, 0, addr, PG));
    EXPECT_FALSE(vu_can_read(addr));
    zx_handle_close(none);
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, PG));
    zx_handle_close(vmo);
}

TEST(VmarProtect, WriteOrExecuteWithoutRead) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 2, 0x10));
    EXPECT_STATUS(zx_vmar_protect(f.vmar, ZX_VM_PERM_WRITE, f.base, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_protect(vu_root(), ZX_VM_PERM_EXECUTE, f.base, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_protect(vu_root(), ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE, f.base, PG),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_TRUE(writable_pages(&f, 2, 0x10, 0x3));
    vu_fixture_fini(&f);
}

TEST(VmarProtect, UnalignedAddress) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 2, 0x10));
    EXPECT_STATUS(zx_vmar_protect(f.vmar, VU_R, f.base + 1, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_protect(f.vmar, VU_R, f.base + PG - 8, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_TRUE(writable_pages(&f, 2, 0x10, 0x3));
    vu_fixture_fini(&f);
}

TEST(VmarProtect, NonPermBitsRejected) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 2, 0x10));
    static const zx_vm_option_t bad[] = {
        ZX_VM_COMPACT,      ZX_VM_SPECIFIC,           ZX_VM_SPECIFIC_OVERWRITE,
        ZX_VM_CAN_MAP_READ, ZX_VM_CAN_MAP_SPECIFIC,   ZX_VM_MAP_RANGE,
        ZX_VM_ALLOW_FAULTS, ZX_VM_OFFSET_IS_UPPER_LIMIT, ZX_VM_ALIGN_4KB,
        1u << 16,           1u << 23,                 1u << 31,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT_STATUS(zx_vmar_protect(f.vmar, VU_R | bad[i], f.base, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_TRUE(writable_pages(&f, 2, 0x10, 0x3));
    vu_fixture_fini(&f);
}

TEST(VmarProtect, LengthRoundsToZero) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 2, 0x10));
    EXPECT_STATUS(zx_vmar_protect(f.vmar, VU_R, f.base, 0), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_protect(f.vmar, VU_R, f.base, SIZE_MAX), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_protect(f.vmar, VU_R, f.base, SIZE_MAX - PG + 2), ZX_ERR_INVALID_ARGS);
    EXPECT_TRUE(writable_pages(&f, 2, 0x10, 0x3));
    vu_fixture_fini(&f);
}

TEST(VmarProtect, RangeOutsideTheVmar) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 2, 0x10));
    EXPECT_STATUS(zx_vmar_protect(f.vmar, VU_R, f.base - PG, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_protect(f.vmar, VU_R, f.base + PG, 2 * PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_protect(f.vmar, VU_R, f.base + 2 * PG, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_protect(f.vmar, VU_R, UINT64_MAX - PG + 1, 2 * PG),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_TRUE(writable_pages(&f, 2, 0x10, 0x3));
    vu_fixture_fini(&f);
}

TEST(VmarProtect, LengthIsRoundedUp) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 4, 0x20));
    ASSERT_OK(zx_vmar_protect(f.vmar, VU_R, f.base + PG, PG + 1));
    EXPECT_TRUE(writable_pages(&f, 4, 0x20, 0x9));
    vu_fixture_fini(&f);
}

/* ---- gaps ---- */

TEST(VmarProtect, GapIsNotFoundAndChangesNothing) {
    zx_handle_t vmar, vmo = vu_vmo_pattern(2, 0x30);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, PG, vmo, 2 * PG, &addr));
    EXPECT_STATUS(zx_vmar_protect(vmar, VU_R, base + PG, 3 * PG), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(zx_vmar_protect(vmar, VU_R, base, 2 * PG), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(zx_vmar_protect(vmar, VU_R, base + 4 * PG, 4 * PG), ZX_ERR_NOT_FOUND);
    EXPECT_TRUE(vu_can_write(base + PG));
    EXPECT_TRUE(vu_can_write(base + 2 * PG));
    /* Two mappings with a hole between them. */
    ASSERT_OK(vu_map_at(vmar, VU_RW, 4 * PG, vmo, PG, &addr));
    EXPECT_STATUS(zx_vmar_protect(vmar, VU_R, base + PG, 4 * PG), ZX_ERR_NOT_FOUND);
    EXPECT_TRUE(vu_can_write(base + PG));
    EXPECT_TRUE(vu_can_write(base + 4 * PG));
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarProtect, EmptySubVmarIsNotFound) {
    zx_handle_t vmar, child, vmo = vu_vmo_pattern(4, 0x38);
    zx_vaddr_t base, cbase, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 8 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, vmo, 4 * PG, &addr));
    ASSERT_OK(zx_vmar_allocate(vmar, VU_CAN_RWS | ZX_VM_SPECIFIC, 4 * PG, 4 * PG, &child,
                               &cbase));
    EXPECT_STATUS(zx_vmar_protect(vmar, VU_R, base + 4 * PG, 4 * PG), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(zx_vmar_protect(vmar, VU_R, base, 8 * PG), ZX_ERR_NOT_FOUND);
    EXPECT_TRUE(vu_can_write(base));
    /* A partly filled child still has a gap. */
    ASSERT_OK(vu_map_at(child, VU_RW, 0, vmo, 2 * PG, &addr));
    EXPECT_STATUS(zx_vmar_protect(vmar, VU_R, base, 8 * PG), ZX_ERR_NOT_FOUND);
    EXPECT_TRUE(vu_can_write(base));
    EXPECT_TRUE(vu_can_write(cbase));
    /* Filled, the whole range can be reduced from the parent. */
    ASSERT_OK(vu_map_at(child, VU_RW, 2 * PG, vmo, 2 * PG, &addr));
    EXPECT_OK(zx_vmar_protect(vmar, VU_R, base, 8 * PG));
    EXPECT_FALSE(vu_can_write(base));
    EXPECT_FALSE(vu_can_write(cbase + 3 * PG));
    EXPECT_TRUE(vu_can_read(cbase + 3 * PG));
    vu_drop(child);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

/* ---- maximum permissions ---- */

TEST(VmarProtect, MaxPermsFixedAtMapTimeFromTheVmo) {
    zx_handle_t rw = vu_vmo(PG), ro, tmp = vu_vmo(PG);
    zx_vaddr_t a, b;
    ASSERT_OK(zx_handle_duplicate(tmp, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE, &ro));
    zx_handle_close(tmp);
    ASSERT_OK(zx_vmar_map(vu_root(), VU_R, 0, rw, 0, PG, &a));
    ASSERT_OK(zx_vmar_map(vu_root(), VU_R, 0, ro, 0, PG, &b));
    /* Closing the VMO handles changes nothing about what may be raised later. */
    ASSERT_OK(zx_handle_close(rw));
    ASSERT_OK(zx_handle_close(ro));
    EXPECT_FALSE(vu_can_write(a));
    EXPECT_OK(zx_vmar_protect(vu_root(), VU_RW, a, PG));
    EXPECT_TRUE(vu_can_write(a));
    EXPECT_STATUS(zx_vmar_protect(vu_root(), VU_RW, b, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_FALSE(vu_can_write(b));
    /* A plain VMO has no EXECUTE, so neither mapping can become executable. */
    EXPECT_STATUS(zx_vmar_protect(vu_root(), VU_RX, a, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_protect(vu_root(), VU_RX, b, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_vmar_unmap(vu_root(), a, PG));
    EXPECT_OK(zx_vmar_unmap(vu_root(), b, PG));
    /* A mapping made with no permissions from a MAP-only handle can never be opened. */
    zx_handle_t vmo = vu_vmo(PG), map_only = tu_dup(vmo, ZX_RIGHT_MAP);
    ASSERT_OK(zx_vmar_map(vu_root(), 0, 0, map_only, 0, PG, &a));
    EXPECT_STATUS(zx_vmar_protect(vu_root(), VU_R, a, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_vmar_protect(vu_root(), 0, a, PG));
    EXPECT_OK(zx_vmar_unmap(vu_root(), a, PG));
    zx_handle_close(map_only);
    zx_handle_close(vmo);
}

TEST(VmarProtect, MaxPermsFixedAtMapTimeFromTheVmarHandle) {
    zx_handle_t vmar, vmo = vu_exec_vmo(2 * PG);
    zx_vaddr_t base, a, b;
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    ASSERT_OK(vu_sub(VU_CAN_RWX | ZX_VM_CAN_MAP_SPECIFIC, 2 * PG, &vmar, &base));
    zx_handle_t no_x = tu_dup(vmar, tu_rights(vmar) & ~ZX_RIGHT_EXECUTE);
    ASSERT_NE(no_x, ZX_HANDLE_INVALID);
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, vmo, PG, &a));
    ASSERT_OK(vu_map_at(no_x, VU_R, PG, vmo, PG, &b));
    /* Same VMO, same VMAR; only the handle used to map differs. */
    EXPECT_OK(zx_vmar_protect(vmar, VU_RX, a, PG));
    EXPECT_STATUS(zx_vmar_protect(vmar, VU_RX, b, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_protect(vmar, VU_RX, a, 2 * PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_vmar_protect(vmar, VU_RW, b, PG));
    zx_handle_close(no_x);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarProtect, CeilingsThroughNestedVmars) {
    zx_handle_t a, b, c, vmo = vu_exec_vmo(PG);
    zx_vaddr_t abase, bbase, cbase, addr;
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    ASSERT_OK(vu_sub(VU_CAN_RWS, 16 * PG, &a, &abase));
    ASSERT_OK(zx_vmar_allocate(a, VU_CAN_R | ZX_VM_CAN_MAP_SPECIFIC, 0, 4 * PG, &b, &bbase));
    /* Each level can only narrow what its parent allows. */
    EXPECT_STATUS(zx_vmar_allocate(a, ZX_VM_CAN_MAP_EXECUTE, 0, PG, &c, &cbase),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_allocate(b, ZX_VM_CAN_MAP_WRITE, 0, PG, &c, &cbase),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_map(a, VU_RX, 0, vmo, 0, PG, &addr), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_map(b, VU_RW, 0, vmo, 0, PG, &addr), ZX_ERR_ACCESS_DENIED);
    ASSERT_OK(vu_map_at(b, VU_R, 0, vmo, PG, &addr));
    /* Neither b's handle nor a's (which has WRITE) can make the mapping writable. */
    EXPECT_STATUS(zx_vmar_protect(b, VU_RW, addr, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_protect(a, VU_RW, addr, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_protect(vu_root(), VU_RX, addr, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_FALSE(vu_can_write(addr));
    EXPECT_TRUE(vu_can_read(addr));
    /* Reducing works from every level. */
    EXPECT_OK(zx_vmar_protect(vu_root(), 0, addr, PG));
    EXPECT_FALSE(vu_can_read(addr));
    EXPECT_OK(zx_vmar_protect(b, VU_R, addr, PG));
    EXPECT_TRUE(vu_can_read(addr));
    vu_drop(b);
    vu_drop(a);
    zx_handle_close(vmo);
}

/* ---- child VMARs ---- */

TEST(VmarProtect, ChildMappingNeedsOpChildren) {
    zx_handle_t vmar, child, vmo = vu_vmo_pattern(2, 0x40);
    zx_vaddr_t base, cbase, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(zx_vmar_allocate(vmar, VU_CAN_RWS | ZX_VM_SPECIFIC, 2 * PG, 2 * PG, &child,
                               &cbase));
    ASSERT_OK(vu_map_at(child, VU_RW, 0, vmo, 2 * PG, &addr));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, vmo, 2 * PG, &addr));
    zx_handle_t weak = tu_dup(vmar, tu_rights(vmar) & ~ZX_RIGHT_OP_CHILDREN);
    ASSERT_NE(weak, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_vmar_protect(weak, VU_R, cbase, PG), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmar_protect(weak, VU_R, base, 4 * PG), ZX_ERR_INVALID_ARGS);
    /* The maximum-permission check (9) comes before the OP_CHILDREN check (10). */
    EXPECT_STATUS(zx_vmar_protect(vu_root(), VU_RX, cbase, PG), ZX_ERR_ACCESS_DENIED);
    zx_handle_t weak_root = tu_dup(vu_root(), 0x20801F & ~ZX_RIGHT_OP_CHILDREN);
    EXPECT_STATUS(zx_vmar_protect(weak_root, VU_RX, cbase, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_protect(weak_root, VU_R, cbase, PG), ZX_ERR_INVALID_ARGS);
    zx_handle_close(weak_root);
    /* Nothing changed, even for the parent's own mapping in the failed range. */
    EXPECT_TRUE(vu_can_write(base));
    EXPECT_TRUE(vu_can_write(cbase));
    /* The parent's own mappings need no OP_CHILDREN. */
    EXPECT_OK(zx_vmar_protect(weak, VU_R, base, 2 * PG));
    EXPECT_FALSE(vu_can_write(base));
    EXPECT_TRUE(vu_can_write(cbase));
    zx_handle_close(weak);
    vu_drop(child);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarProtect, ThroughAParentOnlyReduce) {
    zx_handle_t vmar, child, vmo = vu_vmo_pattern(2, 0x48);
    zx_vaddr_t base, cbase, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(zx_vmar_allocate(vmar, VU_CAN_RWS, 0, 2 * PG, &child, &cbase));
    ASSERT_OK(zx_vmar_map(child, VU_RW, 0, vmo, 0, 2 * PG, &addr));
    ASSERT_OK(zx_vmar_protect(child, VU_R, addr, 2 * PG));
    /* Within the maximum, but raising through the parent is refused... */
    EXPECT_STATUS(zx_vmar_protect(vmar, VU_RW, addr, PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_protect(vu_root(), VU_RW, addr, 2 * PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_FALSE(vu_can_write(addr));
    /* ...while the child's own handle may raise it. */
    EXPECT_OK(zx_vmar_protect(child, VU_RW, addr, PG));
    EXPECT_TRUE(vu_can_write(addr));
    EXPECT_FALSE(vu_can_write(addr + PG));
    /* Keeping the current permissions is not a raise. */
    EXPECT_OK(zx_vmar_protect(vmar, VU_R, addr + PG, PG));
    /* A range where one page would be raised fails as a whole. */
    EXPECT_STATUS(zx_vmar_protect(vmar, VU_RW, addr, 2 * PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_TRUE(vu_can_write(addr));
    EXPECT_OK(zx_vmar_protect(vmar, VU_R, addr, 2 * PG));
    EXPECT_FALSE(vu_can_write(addr));
    EXPECT_TRUE(vu_can_read(addr));
    EXPECT_OK(zx_vmar_protect(vu_root(), 0, addr, 2 * PG));
    EXPECT_FALSE(vu_can_read(addr + PG));
    vu_drop(child);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

/* ---- splitting ---- */

TEST(VmarProtect, SplitLeftRightMiddle) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 4, 0x50));
    ASSERT_OK(zx_vmar_protect(f.vmar, VU_R, f.base, PG)); /* left */
    EXPECT_TRUE(writable_pages(&f, 4, 0x50, 0xe));
    ASSERT_OK(zx_vmar_protect(f.vmar, VU_R, f.base + 3 * PG, PG)); /* right */
    EXPECT_TRUE(writable_pages(&f, 4, 0x50, 0x6));
    ASSERT_OK(zx_vmar_protect(f.vmar, VU_RW, f.base, 4 * PG));
    EXPECT_TRUE(writable_pages(&f, 4, 0x50, 0xf));
    ASSERT_OK(zx_vmar_protect(f.vmar, VU_R, f.base + PG, 2 * PG)); /* middle */
    EXPECT_TRUE(writable_pages(&f, 4, 0x50, 0x9));
    /* Re-protecting the whole range merges it back: one unmap removes it all. */
    ASSERT_OK(zx_vmar_protect(f.vmar, VU_RW, f.base, 4 * PG));
    EXPECT_TRUE(writable_pages(&f, 4, 0x50, 0xf));
    EXPECT_OK(zx_vmar_unmap(f.vmar, f.base, 4 * PG));
    EXPECT_EQ(tu_vmo_info(f.vmo).num_mappings, 0u);
    vu_fixture_fini(&f);
}

TEST(VmarProtect, SplitPiecesCanBeUnmapped) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 4, 0x58));
    ASSERT_OK(zx_vmar_protect(f.vmar, VU_R, f.base + PG, 2 * PG));
    EXPECT_OK(zx_vmar_unmap(f.vmar, f.base + PG, 2 * PG));
    EXPECT_FALSE(vu_mapped(f.base + PG));
    EXPECT_FALSE(vu_mapped(f.base + 2 * PG));
    EXPECT_TRUE(vu_holds(f.base, 0x58));
    EXPECT_TRUE(vu_can_write(f.base));
    EXPECT_TRUE(vu_holds(f.base + 3 * PG, 0x5b));
    EXPECT_TRUE(vu_can_write(f.base + 3 * PG));
    EXPECT_EQ(tu_vmo_info(f.vmo).num_mappings, 2u);
    /* Now the range has a hole: protecting across it is NOT_FOUND. */
    EXPECT_STATUS(zx_vmar_protect(f.vmar, VU_R, f.base, 4 * PG), ZX_ERR_NOT_FOUND);
    EXPECT_TRUE(vu_can_write(f.base));
    vu_fixture_fini(&f);
}

TEST(VmarProtect, ManySplitsInOneMapping) {
    enum { N = 20 };
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, N, 0x60));
    for (int i = 0; i < N; i += 2)
        ASSERT_OK(zx_vmar_protect(f.vmar, VU_R, f.base + i * PG, PG));
    EXPECT_TRUE(writable_pages(&f, N, 0x60, 0xaaaaa));
    /* Every other odd page to none: three different permissions interleaved. */
    for (int i = 1; i < N; i += 4)
        ASSERT_OK(zx_vmar_protect(f.vmar, 0, f.base + i * PG, PG));
    for (int i = 0; i < N; i++) {
        zx_vaddr_t a = f.base + i * PG;
        EXPECT_EQ(vu_can_read(a), i % 4 != 1);
        EXPECT_EQ(vu_can_write(a), i % 4 == 3);
    }
    ASSERT_OK(zx_vmar_protect(f.vmar, VU_RW, f.base, N * PG));
    EXPECT_TRUE(writable_pages(&f, N, 0x60, 0xfffff));
    EXPECT_OK(zx_vmar_unmap(f.vmar, f.base, N * PG));
    EXPECT_EQ(tu_vmo_info(f.vmo).num_mappings, 0u);
    vu_fixture_fini(&f);
}

TEST(VmarProtect, AcrossSeveralMappings) {
    zx_handle_t vmar, a = vu_vmo_pattern(2, 0x70), b = vu_vmo_pattern(2, 0x80);
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, a, 2 * PG, &addr));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 2 * PG, b, 2 * PG, &addr));
    ASSERT_OK(zx_vmar_protect(vmar, VU_R, base + PG, 2 * PG));
    EXPECT_TRUE(vu_can_write(base));
    EXPECT_FALSE(vu_can_write(base + PG));
    EXPECT_FALSE(vu_can_write(base + 2 * PG));
    EXPECT_TRUE(vu_can_write(base + 3 * PG));
    EXPECT_EQ(*(volatile uint8_t *)(base + 2 * PG), 0x80);
    vu_drop(vmar);
    zx_handle_close(a);
    zx_handle_close(b);
}

/* ---- all or nothing ---- */

TEST(VmarProtect, LaterFailureLeavesEarlierMappingsAlone) {
    zx_handle_t vmar, rw = vu_vmo_pattern(2, 0x90), tmp = vu_vmo(PG), ro;
    zx_vaddr_t base, addr;
    ASSERT_OK(zx_handle_duplicate(tmp, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE, &ro));
    zx_handle_close(tmp);
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_R, 0, rw, 2 * PG, &addr));
    ASSERT_OK(vu_map_at(vmar, VU_R, 2 * PG, ro, PG, &addr));
    /* The first mapping could be raised, the second cannot: nothing is raised. */
    EXPECT_STATUS(zx_vmar_protect(vmar, VU_RW, base, 3 * PG), ZX_ERR_ACCESS_DENIED);
    EXPECT_FALSE(vu_can_write(base));
    EXPECT_FALSE(vu_can_write(base + PG));
    /* A gap after the mappings: nothing is reduced either. */
    ASSERT_OK(zx_vmar_protect(vmar, VU_RW, base, 2 * PG));
    EXPECT_STATUS(zx_vmar_protect(vmar, 0, base, 4 * PG), ZX_ERR_NOT_FOUND);
    EXPECT_TRUE(vu_can_write(base));
    EXPECT_TRUE(vu_can_read(base + 2 * PG));
    vu_drop(vmar);
    zx_handle_close(rw);
    zx_handle_close(ro);
}

TEST(VmarProtect, NoneAndBackAgain) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 2, 0xa0));
    ASSERT_OK(zx_vmar_protect(f.vmar, 0, f.base, 2 * PG));
    EXPECT_FALSE(vu_can_read(f.base));
    EXPECT_FALSE(vu_can_read(f.base + PG));
    /* Still mapped: the VMO is behind the range and the range is taken. */
    EXPECT_TRUE(vu_holds(f.base + PG, 0xa1));
    zx_vaddr_t addr;
    EXPECT_STATUS(vu_map_at(f.vmar, VU_R, 0, f.vmo, PG, &addr), ZX_ERR_ALREADY_EXISTS);
    ASSERT_OK(zx_vmar_protect(f.vmar, ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED, f.base, 2 * PG));
    EXPECT_TRUE(writable_pages(&f, 2, 0xa0, 0x0));
    ASSERT_OK(zx_vmar_protect(f.vmar, VU_RW, f.base, 2 * PG));
    EXPECT_TRUE(writable_pages(&f, 2, 0xa0, 0x3));
    vu_fixture_fini(&f);
}

/* ---- user-mode faults (kept few: each one launches a child process) ---- */

static void poke(zx_vaddr_t addr) { *(volatile uint8_t *)addr = 1; }
static uint8_t peek(zx_vaddr_t addr) { return *(volatile uint8_t *)addr; }

TEST(VmarProtect, WriteAfterProtectToReadOnlyFaults) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 3, 0xb0));
    ASSERT_OK(zx_vmar_protect(f.vmar, VU_R, f.base + PG, PG));
    poke(f.base);          /* the neighbours stay writable */
    poke(f.base + 2 * PG);
    EXPECT_EQ(peek(f.base + PG), 0xb1);
    EXPECT_DEATH(poke(f.base + PG), ZX_TASK_RETCODE_EXCEPTION_KILL);
    vu_fixture_fini(&f);
}

/* One x86 instruction, `ret`, to run from a mapping. */
static const uint8_t ret_insn = 0xc3;
static void call(zx_vaddr_t addr) { ((void (*)(void))addr)(); }

TEST(VmarProtect, ExecuteFollowsTheProtection) {
    zx_handle_t vmo = vu_exec_vmo(PG);
    zx_vaddr_t addr;
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    ASSERT_OK(zx_vmo_write(vmo, &ret_insn, 0, 1));
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RX, 0, vmo, 0, PG, &addr));
    call(addr);
    ASSERT_OK(zx_vmar_protect(vu_root(), VU_R, addr, PG));
    EXPECT_TRUE(vu_can_read(addr));
    EXPECT_DEATH(call(addr), ZX_TASK_RETCODE_EXCEPTION_KILL);
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, PG));
    zx_handle_close(vmo);
}

TEST(VmarProtect, ReadAfterProtectToNoneFaults) {
    vu_fixture_t f;
    ASSERT_OK(vu_fixture_init(&f, 1, 0xc0));
    ASSERT_OK(zx_vmar_protect(f.vmar, 0, f.base, PG));
    EXPECT_DEATH(peek(f.base), ZX_TASK_RETCODE_EXCEPTION_KILL);
    vu_fixture_fini(&f);
}
