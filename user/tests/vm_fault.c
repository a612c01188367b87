/*
 * Page faults as user space sees them, in one process: every access a mapping does not
 * allow (read, write or execute; past the VMO's end; after unmap, destroy, protect or
 * shrink; through a handle without WRITE; at addresses nothing maps) kills the process
 * with ZX_TASK_RETCODE_EXCEPTION_KILL (death tests), while the permitted accesses next
 * to them keep working, also after protect, grow, decommit and zero change the mapping
 * under a warm TLB (each test reads or writes first, so a translation is cached, and then
 * checks that the change is seen at once).
 */
#include "vm_util.h"

#define RX (ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE)
/* A death child's own exit code for "the access worked but saw the wrong value". */
#define WRONG_VALUE 0x51

#define ROOT_BASE 0x200000ull
#define USER_TOP 0x7ffffffff000ull

static uint8_t rd8(zx_vaddr_t a) { return *(volatile uint8_t *)launder(a); }
static void call_at(zx_vaddr_t a) { ((void (*)(void))launder(a))(); }

/* Death-child helper: the read must work and see v. */
static void expect_word(zx_vaddr_t a, uint64_t v) {
    if (rd64(a) != v)
        zx_process_exit(WRONG_VALUE);
}

static zx_handle_t new_vmo(size_t size, uint32_t options) {
    zx_handle_t vmo = ZX_HANDLE_INVALID;
    if (zx_vmo_create(size, options, &vmo) != ZX_OK)
        return ZX_HANDLE_INVALID;
    return vmo;
}

/* An executable VMO whose page is all `ret` instructions. */
static zx_handle_t ret_vmo(void) {
    static uint8_t rets[PAGE];
    memset(rets, 0xc3, sizeof(rets));
    zx_handle_t vmo = new_vmo(PAGE, 0), xvmo = ZX_HANDLE_INVALID;
    if (vmo == ZX_HANDLE_INVALID || zx_vmo_write(vmo, rets, 0, PAGE) != ZX_OK ||
        zx_vmo_replace_as_executable(vmo, ZX_HANDLE_INVALID, &xvmo) != ZX_OK)
        return ZX_HANDLE_INVALID;
    return xvmo;
}

/* ---- permissions of the mapping ---- */

TEST(FaultPerm, ReadOfNoAccessMapping) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a = map(vmo, 0, PAGE); /* no permissions at all is a valid mapping */
    ASSERT_NE(a, 0u);
    EXPECT_DEATH(rd8(a), KILLED);
    EXPECT_DEATH(rd64(a + PAGE - 8), KILLED);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(FaultPerm, WriteOfNoAccessMapping) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, 0, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_DEATH(wr64(a, 7), KILLED);
    EXPECT_EQ(vmo_word(vmo, 0), 0x1000u);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(FaultPerm, ExecuteOfNoAccessMapping) {
    zx_handle_t vmo = ret_vmo();
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a = map(vmo, 0, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_DEATH(call_at(a), KILLED);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(FaultPerm, WriteOfReadOnlyMapping) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, ZX_VM_PERM_READ, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_DEATH(wr64(a, 7), KILLED);
    /* A write to a page never read before (no translation yet) dies just the same. */
    EXPECT_DEATH(wr64(a + 64, 7), KILLED);
    EXPECT_EQ(vmo_word(vmo, 0), 0x1000u);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

/* The control case: the permitted access, in a death child, does not die. */
TEST(FaultPerm, ReadOfReadOnlyMappingSurvives) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, ZX_VM_PERM_READ, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_DEATH(expect_word(a, 0x1000), BERYL_DEATH_SURVIVED);
    EXPECT_EQ(rd64(a), 0x1000u);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(FaultPerm, ExecuteOfReadWriteMappingIsNx) {
    /* The VMO has EXECUTE; only the mapping's permissions forbid the fetch. */
    zx_handle_t vmo = ret_vmo();
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a = map(vmo, RW, PAGE);
    ASSERT_NE(a, 0u);
    wr64(a + 8, 0xc3c3c3c3c3c3c3c3ull); /* committed and writable-mapped first */
    EXPECT_DEATH(call_at(a), KILLED);
    EXPECT_DEATH(call_at(a + 8), KILLED);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(FaultPerm, ExecuteOfReadOnlyMapping) {
    zx_handle_t vmo = ret_vmo();
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a = map(vmo, ZX_VM_PERM_READ, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd8(a), 0xc3u);
    EXPECT_DEATH(call_at(a), KILLED);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(FaultPerm, ExecuteOfReadExecuteMappingWorks) {
    zx_handle_t vmo = ret_vmo();
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a = map(vmo, RX, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_DEATH(call_at(a + 100), BERYL_DEATH_SURVIVED);
    call_at(a); /* and in this process too */
    EXPECT_DEATH(wr64(a, 0), KILLED);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(FaultPerm, ExecuteOnStackDies) {
    volatile uint8_t code[16];
    for (int i = 0; i < 16; i++)
        code[i] = 0xc3;
    EXPECT_DEATH(call_at((zx_vaddr_t)code), KILLED);
}

TEST(FaultPerm, WriteToOwnCodeDies) {
    zx_vaddr_t text = (zx_vaddr_t)&call_at;
    uint8_t b = rd8(text); /* readable (R+X) */
    /* Writes back the byte that is there, so a kernel that allowed it changes nothing. */
    EXPECT_DEATH(*(volatile uint8_t *)launder(text) = b, KILLED);
}

/* ---- ranges: past the VMO's end, unmapped and never-mapped addresses ---- */

TEST(FaultRange, PastVmoEndInOverlongMapping) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, 3 * PAGE); /* longer than the VMO: allowed */
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a), 0x1000u);
    wr64(a + PAGE - 8, 5);
    EXPECT_EQ(vmo_word(vmo, PAGE - 8), 5u);
    EXPECT_DEATH(rd8(a + PAGE), KILLED);
    EXPECT_DEATH(wr64(a + 2 * PAGE, 1), KILLED);
    EXPECT_DEATH(rd64(a + PAGE - 4), KILLED); /* straddles the end */
    unmap(a, 3 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultRange, PastVmoEndWithAllowFaults) {
    /* ALLOW_FAULTS only permits mapping VMOs that may fault; with no exception handler
     * an access past the end still kills. */
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW | ZX_VM_ALLOW_FAULTS, 2 * PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_DEATH(rd8(a + PAGE), KILLED);
    unmap(a, 2 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultRange, AccessAfterUnmap) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, PAGE);
    ASSERT_NE(a, 0u);
    wr64(a, 9);
    EXPECT_EQ(rd64(a), 9u); /* translation cached */
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), a, PAGE));
    EXPECT_DEATH(rd64(a), KILLED);
    EXPECT_DEATH(wr64(a, 1), KILLED);
    EXPECT_EQ(vmo_word(vmo, 0), 9u);
    zx_handle_close(vmo);
}

TEST(FaultRange, AccessAfterPartialUnmap) {
    zx_handle_t vmo = patterned_vmo(3, 0);
    zx_vaddr_t a = map(vmo, RW, 3 * PAGE);
    ASSERT_NE(a, 0u);
    for (int i = 0; i < 3; i++)
        EXPECT_EQ(rd64(a + i * PAGE), 0x1000u + i);
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), a + PAGE, PAGE));
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_EQ(rd64(a + 2 * PAGE), 0x1002u);
    EXPECT_DEATH(rd64(a + PAGE), KILLED);
    unmap(a, 3 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultRange, AccessAfterSubVmarDestroy) {
    zx_handle_t sub;
    zx_vaddr_t base;
    ASSERT_OK(zx_vmar_allocate(zx_vmar_root_self(),
                               ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE, 0, 4 * PAGE, &sub,
                               &base));
    zx_handle_t vmo = patterned_vmo(2, 0);
    zx_vaddr_t a = 0;
    EXPECT_OK(zx_vmar_map(sub, RW, 0, vmo, 0, 2 * PAGE, &a));
    EXPECT_EQ(rd64(a + PAGE), 0x1001u);
    EXPECT_OK(zx_vmar_destroy(sub));
    EXPECT_DEATH(rd64(a + PAGE), KILLED);
    EXPECT_DEATH(wr64(a, 1), KILLED);
    zx_handle_close(sub);
    zx_handle_close(vmo);
}

TEST(FaultRange, NullPage) {
    EXPECT_DEATH(rd8(0), KILLED);
    EXPECT_DEATH(wr64(0, 1), KILLED);
    EXPECT_DEATH(call_at(0), KILLED);
    EXPECT_DEATH(rd64(0xff8), KILLED);
}

TEST(FaultRange, BelowRootVmarBase) {
    zx_info_vmar_t vi;
    ASSERT_OK(zx_object_get_info(zx_vmar_root_self(), ZX_INFO_VMAR, &vi, sizeof(vi), NULL,
                                 NULL));
    EXPECT_EQ(vi.base, ROOT_BASE);
    EXPECT_DEATH(rd64(ROOT_BASE - 8), KILLED);
    EXPECT_DEATH(wr64(ROOT_BASE - PAGE, 1), KILLED);
    EXPECT_DEATH(rd8(0x1000), KILLED);
}

TEST(FaultRange, GuardPageAfterMapping) {
    /* A sub-VMAR of two pages with a mapping in the first: the second is a hole. */
    zx_handle_t sub;
    zx_vaddr_t base;
    ASSERT_OK(zx_vmar_allocate(zx_vmar_root_self(),
                               ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC,
                               0, 2 * PAGE, &sub, &base));
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = 0;
    EXPECT_OK(zx_vmar_map(sub, RW | ZX_VM_SPECIFIC, 0, vmo, 0, PAGE, &a));
    EXPECT_EQ(a, base);
    wr64(a + PAGE - 8, 3);
    EXPECT_EQ(rd64(a + PAGE - 8), 3u);
    EXPECT_DEATH(rd8(a + PAGE), KILLED);
    EXPECT_DEATH(wr64(a + PAGE - 4, 1), KILLED); /* half in the mapping, half in the hole */
    EXPECT_DEATH(rd64(a + 2 * PAGE - 8), KILLED);
    EXPECT_OK(zx_vmar_destroy(sub));
    zx_handle_close(sub);
    zx_handle_close(vmo);
}

TEST(FaultRange, TopOfUserRange) {
    zx_info_vmar_t vi;
    ASSERT_OK(zx_object_get_info(zx_vmar_root_self(), ZX_INFO_VMAR, &vi, sizeof(vi), NULL,
                                 NULL));
    ASSERT_EQ(vi.base + vi.len, USER_TOP);
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = 0;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), RW | ZX_VM_SPECIFIC, vi.len - PAGE, vmo, 0, PAGE,
                          &a));
    EXPECT_EQ(a, USER_TOP - PAGE);
    wr64(USER_TOP - 8, 0xabcd);
    EXPECT_EQ(rd64(USER_TOP - 8), 0xabcdu);
    /* The last page below 2^47 is outside every user VMAR. */
    EXPECT_DEATH(rd8(USER_TOP), KILLED);
    EXPECT_DEATH(wr64(USER_TOP + PAGE - 8, 1), KILLED);
    EXPECT_DEATH(rd64(USER_TOP - 4), KILLED);
    unmap(a, PAGE);
    EXPECT_DEATH(rd64(USER_TOP - 8), KILLED);
    zx_handle_close(vmo);
}

TEST(FaultRange, NonCanonicalAndKernelAddresses) {
    EXPECT_DEATH(rd64(0x800000000000ull), KILLED);     /* #GP, not #PF */
    EXPECT_DEATH(wr64(0xffff800000000000ull, 1), KILLED);
    EXPECT_DEATH(rd64(0xffffffff80000000ull), KILLED); /* kernel image: supervisor page */
    EXPECT_DEATH(call_at(0xffffffff80000000ull), KILLED);
}

/* ---- protect ---- */

TEST(FaultProtect, WriteAfterProtectReadWriteToRead) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, PAGE);
    ASSERT_NE(a, 0u);
    wr64(a, 11); /* a writable translation is cached now */
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a, PAGE));
    EXPECT_EQ(rd64(a), 11u);
    EXPECT_DEATH(wr64(a, 12), KILLED);
    EXPECT_EQ(vmo_word(vmo, 0), 11u);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(FaultProtect, ReadAfterProtectToNone) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, ZX_VM_PERM_READ, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), 0, a, PAGE));
    EXPECT_DEATH(rd64(a), KILLED);
    /* And back: reading works again. */
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a, PAGE));
    EXPECT_EQ(rd64(a), 0x1000u);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(FaultProtect, ExecuteAfterExecuteRemoved) {
    zx_handle_t vmo = ret_vmo();
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a = map(vmo, RX, PAGE);
    ASSERT_NE(a, 0u);
    call_at(a); /* the fetch translation is cached */
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a, PAGE));
    EXPECT_EQ(rd8(a), 0xc3u);
    EXPECT_DEATH(call_at(a), KILLED);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

TEST(FaultProtect, ReadToReadWriteAllowsWrites) {
    zx_handle_t vmo = patterned_vmo(2, 0);
    zx_vaddr_t a = map(vmo, RW, 2 * PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a, 2 * PAGE));
    EXPECT_EQ(rd64(a), 0x1000u); /* read-only translation cached */
    EXPECT_DEATH(wr64(a, 1), KILLED);
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), RW, a, 2 * PAGE));
    wr64(a, 21);
    wr64(a + PAGE, 22);
    EXPECT_EQ(rd64(a), 21u);
    EXPECT_EQ(vmo_word(vmo, 0), 21u);
    EXPECT_EQ(vmo_word(vmo, PAGE), 22u);
    unmap(a, 2 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultProtect, MiddlePageOfMapping) {
    zx_handle_t vmo = patterned_vmo(3, 0);
    zx_vaddr_t a = map(vmo, RW, 3 * PAGE);
    ASSERT_NE(a, 0u);
    for (int i = 0; i < 3; i++)
        wr64(a + i * PAGE + 8, i);
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a + PAGE, PAGE));
    wr64(a + 16, 1);
    wr64(a + 2 * PAGE + 16, 1);
    EXPECT_EQ(rd64(a + PAGE + 8), 1u);
    EXPECT_DEATH(wr64(a + PAGE + 8, 2), KILLED);
    EXPECT_DEATH(wr64(a + 2 * PAGE - 4, 2), KILLED); /* straddles pages 1 and 2 */
    unmap(a, 3 * PAGE);
    zx_handle_close(vmo);
}

/* ---- handles without WRITE ---- */

TEST(FaultRights, NoWriteChildMappedReadOnly) {
    zx_handle_t vmo = patterned_vmo(1, 0), child;
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE |
                                           ZX_VMO_CHILD_NO_WRITE,
                                  0, PAGE, &child));
    EXPECT_EQ(tu_rights(child) & ZX_RIGHT_WRITE, 0u);
    zx_vaddr_t a = 0;
    EXPECT_STATUS(zx_vmar_map(zx_vmar_root_self(), RW, 0, child, 0, PAGE, &a),
                  ZX_ERR_ACCESS_DENIED);
    a = map(child, ZX_VM_PERM_READ, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_DEATH(wr64(a, 1), KILLED);
    /* The mapping's maximum is read-only too. */
    EXPECT_STATUS(zx_vmar_protect(zx_vmar_root_self(), RW, a, PAGE), ZX_ERR_ACCESS_DENIED);
    EXPECT_DEATH(wr64(a + 8, 1), KILLED);
    unmap(a, PAGE);
    zx_handle_close(child);
    zx_handle_close(vmo);
}

TEST(FaultRights, NoWriteSliceMappedReadOnly) {
    zx_handle_t vmo = patterned_vmo(2, 0), slice;
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_NO_WRITE, PAGE, PAGE,
                                  &slice));
    zx_vaddr_t a = map(slice, ZX_VM_PERM_READ, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a), 0x1001u);
    EXPECT_DEATH(wr64(a, 1), KILLED);
    unmap(a, PAGE);
    zx_handle_close(slice);
    zx_handle_close(vmo);
}

TEST(FaultRights, DuplicateWithoutWriteMappedReadOnly) {
    zx_handle_t vmo = patterned_vmo(1, 0), ro;
    ASSERT_OK(zx_handle_duplicate(vmo, tu_rights(vmo) & ~ZX_RIGHT_WRITE, &ro));
    zx_vaddr_t a = 0;
    EXPECT_STATUS(zx_vmar_map(zx_vmar_root_self(), RW, 0, ro, 0, PAGE, &a),
                  ZX_ERR_ACCESS_DENIED);
    a = map(ro, ZX_VM_PERM_READ, PAGE);
    ASSERT_NE(a, 0u);
    /* Closing the handles changes nothing: the mapping keeps its maximum. */
    zx_handle_close(ro);
    EXPECT_STATUS(zx_vmar_protect(zx_vmar_root_self(), RW, a, PAGE), ZX_ERR_ACCESS_DENIED);
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_DEATH(wr64(a, 1), KILLED);
    /* A writer's change is seen through the read-only mapping. */
    uint64_t v = 0x77;
    EXPECT_OK(zx_vmo_write(vmo, &v, 0, sizeof(v)));
    EXPECT_EQ(rd64(a), 0x77u);
    unmap(a, PAGE);
    zx_handle_close(vmo);
}

/* ---- resize ---- */

TEST(FaultResize, ShrinkUnderLiveMapping) {
    zx_handle_t vmo = patterned_vmo(3, ZX_VMO_RESIZABLE);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a = map(vmo, RW, 3 * PAGE);
    ASSERT_NE(a, 0u);
    for (int i = 0; i < 3; i++)
        wr64(a + i * PAGE + 8, 0x50 + i); /* every page translated, writable */
    ASSERT_OK(zx_vmo_set_size(vmo, PAGE));
    EXPECT_EQ(rd64(a + 8), 0x50u);
    EXPECT_DEATH(rd64(a + PAGE + 8), KILLED);
    EXPECT_DEATH(wr64(a + 2 * PAGE, 1), KILLED);
    EXPECT_DEATH(expect_word(a + 8, 0x50), BERYL_DEATH_SURVIVED);
    unmap(a, 3 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultResize, GrowAfterShrinkReadsZero) {
    zx_handle_t vmo = patterned_vmo(2, ZX_VMO_RESIZABLE);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t a = map(vmo, RW, 2 * PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a + PAGE), 0x1001u);
    wr64(a + PAGE + 8, 0x99);
    ASSERT_OK(zx_vmo_set_size(vmo, PAGE));
    EXPECT_EQ(committed(vmo), (uint64_t)PAGE);
    ASSERT_OK(zx_vmo_set_size(vmo, 2 * PAGE));
    /* The mapping is usable again and the dropped page reads as zeros. */
    EXPECT_EQ(rd64(a + PAGE), 0u);
    EXPECT_EQ(rd64(a + PAGE + 8), 0u);
    EXPECT_EQ(rd64(a), 0x1000u);
    wr64(a + PAGE, 0x42);
    EXPECT_EQ(vmo_word(vmo, PAGE), 0x42u);
    EXPECT_DEATH(expect_word(a + PAGE + 8, 0), BERYL_DEATH_SURVIVED);
    unmap(a, 2 * PAGE);
    zx_handle_close(vmo);
}

/* ---- decommit and zero under a live mapping ---- */

TEST(FaultDecommit, VmoDecommitReadsZeroThenRecommits) {
    zx_handle_t vmo = patterned_vmo(2, 0);
    zx_vaddr_t a = map(vmo, RW, 2 * PAGE);
    ASSERT_NE(a, 0u);
    wr64(a + 16, 0x1234);
    EXPECT_EQ(rd64(a), 0x1000u); /* cached */
    EXPECT_EQ(rd64(a + PAGE), 0x1001u);
    EXPECT_EQ(committed(vmo), 2ull * PAGE);
    ASSERT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_DECOMMIT, 0, PAGE, NULL, 0));
    EXPECT_EQ(committed(vmo), (uint64_t)PAGE);
    EXPECT_EQ(rd64(a), 0u);
    EXPECT_EQ(rd64(a + 16), 0u);
    EXPECT_EQ(rd64(a + PAGE), 0x1001u); /* the other page is untouched */
    EXPECT_EQ(committed(vmo), (uint64_t)PAGE); /* reading did not commit */
    wr64(a + 24, 0x5678);
    EXPECT_EQ(committed(vmo), 2ull * PAGE);
    EXPECT_EQ(vmo_word(vmo, 24), 0x5678u);
    EXPECT_EQ(rd64(a + 24), 0x5678u);
    unmap(a, 2 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultDecommit, VmarDecommitReadsZero) {
    zx_handle_t vmo = patterned_vmo(2, 0);
    zx_vaddr_t a = map(vmo, RW, 2 * PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a + PAGE), 0x1001u);
    ASSERT_OK(zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_DECOMMIT, a, 2 * PAGE, NULL, 0));
    EXPECT_EQ(committed(vmo), 0u);
    EXPECT_EQ(rd64(a), 0u);
    EXPECT_EQ(rd64(a + PAGE), 0u);
    EXPECT_EQ(vmo_word(vmo, PAGE), 0u);
    wr64(a + PAGE, 3);
    EXPECT_EQ(vmo_word(vmo, PAGE), 3u);
    unmap(a, 2 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultDecommit, SeenThroughEveryMapping) {
    zx_handle_t vmo = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, PAGE), b = map(vmo, ZX_VM_PERM_READ, PAGE);
    ASSERT_NE(a, 0u);
    ASSERT_NE(b, 0u);
    wr64(a, 0x31);
    EXPECT_EQ(rd64(b), 0x31u);
    ASSERT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_DECOMMIT, 0, PAGE, NULL, 0));
    EXPECT_EQ(rd64(b), 0u);
    EXPECT_EQ(rd64(a), 0u);
    wr64(a, 0x32); /* re-commits; the read-only mapping must see the new page */
    EXPECT_EQ(rd64(b), 0x32u);
    unmap(a, PAGE);
    unmap(b, PAGE);
    zx_handle_close(vmo);
}

TEST(FaultDecommit, ZeroOpUnderLiveMapping) {
    zx_handle_t vmo = patterned_vmo(2, 0);
    zx_vaddr_t a = map(vmo, RW, 2 * PAGE);
    ASSERT_NE(a, 0u);
    wr64(a + 8, 1);
    wr64(a + PAGE + 8, 2);
    ASSERT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_ZERO, 0, PAGE, NULL, 0));
    EXPECT_EQ(rd64(a), 0u);
    EXPECT_EQ(rd64(a + 8), 0u);
    EXPECT_EQ(rd64(a + PAGE + 8), 2u);
    wr64(a + 8, 4);
    EXPECT_EQ(vmo_word(vmo, 8), 4u);
    unmap(a, 2 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultDecommit, ZeroPageReplacedByCommitElsewhere) {
    /* A read of an uncommitted page may map a shared zero page read-only; a commit of
     * that page by any path must replace that translation. */
    zx_handle_t vmo = new_vmo(3 * PAGE, 0);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    zx_vaddr_t r = map(vmo, ZX_VM_PERM_READ, 3 * PAGE), w = map(vmo, RW, 3 * PAGE);
    ASSERT_NE(r, 0u);
    ASSERT_NE(w, 0u);
    for (int i = 0; i < 3; i++)
        EXPECT_EQ(rd64(r + i * PAGE), 0u);
    EXPECT_EQ(committed(vmo), 0u);
    wr64(w, 0x61); /* write fault through the other mapping */
    uint64_t v = 0x62;
    EXPECT_OK(zx_vmo_write(vmo, &v, PAGE, sizeof(v))); /* syscall write */
    EXPECT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, 2 * PAGE, PAGE, NULL, 0));
    EXPECT_EQ(rd64(r), 0x61u);
    EXPECT_EQ(rd64(r + PAGE), 0x62u);
    wr64(w + 2 * PAGE, 0x63); /* the committed page, not a stale zero page */
    EXPECT_EQ(rd64(r + 2 * PAGE), 0x63u);
    EXPECT_EQ(vmo_word(vmo, 2 * PAGE), 0x63u);
    unmap(r, 3 * PAGE);
    unmap(w, 3 * PAGE);
    zx_handle_close(vmo);
}

TEST(FaultDecommit, SnapshotParentWriteAfterChildCreated) {
    /* Taking a snapshot must take away the parent mapping's cached writable
     * translation, or the next write through it would land in the shared page. */
    zx_handle_t vmo = patterned_vmo(1, 0), child;
    zx_vaddr_t a = map(vmo, RW, PAGE);
    ASSERT_NE(a, 0u);
    wr64(a + 8, 0x71);
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, PAGE, &child));
    zx_vaddr_t c = map(child, RW, PAGE);
    ASSERT_NE(c, 0u);
    EXPECT_EQ(rd64(c + 8), 0x71u);
    wr64(a + 8, 0x72);
    EXPECT_EQ(rd64(c + 8), 0x71u);
    EXPECT_EQ(vmo_word(child, 8), 0x71u);
    wr64(c, 0x73);
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_EQ(rd64(a + 8), 0x72u);
    unmap(a, PAGE);
    unmap(c, PAGE);
    zx_handle_close(child);
    zx_handle_close(vmo);
}

/* ---- the kernel's own accesses to user memory obey the same mapping rules ---- */

TEST(FaultKernelCopy, SyscallWriteIntoReadOnlyMappingFails) {
    zx_handle_t ro = patterned_vmo(1, 0), src = patterned_vmo(2, 0);
    zx_vaddr_t a = map(ro, ZX_VM_PERM_READ, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a), 0x1000u); /* present, read-only translation */
    /* zx_vmo_read stores into the caller's buffer: here it must not be able to. */
    EXPECT_STATUS(zx_vmo_read(src, (void *)a, PAGE, 8), ZX_ERR_NOT_FOUND);
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_EQ(vmo_word(ro, 0), 0x1000u);
    unmap(a, PAGE);
    zx_handle_close(src);
    zx_handle_close(ro);
}

TEST(FaultKernelCopy, SyscallAccessOfNoAccessMappingFails) {
    zx_handle_t vmo = patterned_vmo(1, 0), other = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(rd64(a), 0x1000u);
    EXPECT_OK(zx_vmar_protect(zx_vmar_root_self(), 0, a, PAGE));
    EXPECT_STATUS(zx_vmo_write(other, (const void *)a, 0, 8), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(zx_vmo_read(other, (void *)a, 0, 8), ZX_ERR_NOT_FOUND);
    EXPECT_EQ(vmo_word(other, 0), 0x1000u);
    EXPECT_EQ(vmo_word(vmo, 0), 0x1000u);
    unmap(a, PAGE);
    zx_handle_close(other);
    zx_handle_close(vmo);
}

TEST(FaultKernelCopy, SyscallWriteIntoSnapshotPageCopies) {
    /* A child's page still shared with the parent is mapped read-only until written; a
     * store by the kernel must take the child's copy too, not write the shared page. */
    zx_handle_t vmo = patterned_vmo(1, 0), src = patterned_vmo(1, 0), child;
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, PAGE, &child));
    zx_vaddr_t c = map(child, RW, PAGE);
    ASSERT_NE(c, 0u);
    EXPECT_EQ(rd64(c), 0x1000u);
    uint64_t v = 0x4242;
    EXPECT_OK(zx_vmo_write(src, &v, 0, sizeof(v)));
    EXPECT_OK(zx_vmo_read(src, (void *)c, 0, sizeof(v)));
    EXPECT_EQ(rd64(c), 0x4242u);
    EXPECT_EQ(vmo_word(child, 0), 0x4242u);
    EXPECT_EQ(vmo_word(vmo, 0), 0x1000u);
    unmap(c, PAGE);
    zx_handle_close(child);
    zx_handle_close(src);
    zx_handle_close(vmo);
}

TEST(FaultKernelCopy, SyscallBufferPastVmoEndFails) {
    zx_handle_t vmo = patterned_vmo(1, 0), src = patterned_vmo(1, 0);
    zx_vaddr_t a = map(vmo, RW, 2 * PAGE);
    ASSERT_NE(a, 0u);
    EXPECT_STATUS(zx_vmo_read(src, (void *)(a + PAGE), 0, 8), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(zx_vmo_write(src, (const void *)(a + PAGE), 0, 8), ZX_ERR_NOT_FOUND);
    EXPECT_OK(zx_vmo_read(src, (void *)(a + PAGE - 8), 0, 8)); /* just inside: fine */
    EXPECT_EQ(rd64(a + PAGE - 8), 0x1000u);
    unmap(a, 2 * PAGE);
    zx_handle_close(src);
    zx_handle_close(vmo);
}
