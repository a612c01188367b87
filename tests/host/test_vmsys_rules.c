/* Host tests of the pure VMO/VMAR syscall rules (kernel/vmsys/vmsys_rules.c). */
#include "htest.h"
#include "../../kernel/vmsys/vmsys_rules.h"

HTEST(vmsys_rules, vmo_create) {
    EXPECT_EQ(vmsys_vmo_create_check(0), ZX_OK);
    EXPECT_EQ(vmsys_vmo_create_check(ZX_VMO_RESIZABLE), ZX_OK);
    EXPECT_EQ(vmsys_vmo_create_check(ZX_VMO_UNBOUNDED), ZX_OK);
    EXPECT_EQ(vmsys_vmo_create_check(1u), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmo_create_check(ZX_VMO_TRAP_DIRTY), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmo_create_check(1u << 5), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmo_create_check(ZX_VMO_UNBOUNDED | ZX_VMO_RESIZABLE), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmo_create_check(ZX_VMO_DISCARDABLE), ZX_OK);
    EXPECT_EQ(vmsys_vmo_create_check(ZX_VMO_DISCARDABLE | ZX_VMO_RESIZABLE), ZX_ERR_NOT_SUPPORTED);
    EXPECT_EQ(vmsys_vmo_create_rights(0), 0xD0EFu);
    EXPECT_EQ(vmsys_vmo_create_rights(ZX_VMO_RESIZABLE), 0x40D0EFu);
    EXPECT_EQ(vmsys_vmo_create_rights(ZX_VMO_UNBOUNDED), 0xD0EFu);
}

HTEST(vmsys_rules, child_options) {
    EXPECT_EQ(vmsys_vmo_child_precheck(ZX_VMO_CHILD_NO_WRITE | ZX_VMO_CHILD_RESIZABLE),
              ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmo_child_precheck(ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_NO_WRITE), ZX_OK);
    zx_rights_t r = 0xD0EFu;
    EXPECT_EQ(vmsys_vmo_child_check(ZX_VMO_CHILD_SLICE, r), ZX_OK);
    EXPECT_EQ(vmsys_vmo_child_check(ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_NO_WRITE, r), ZX_OK);
    EXPECT_EQ(vmsys_vmo_child_check(ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_RESIZABLE, r),
              ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmo_child_check(ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_SNAPSHOT, r),
              ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmo_child_check(ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_RESIZABLE, r),
              ZX_ERR_ACCESS_DENIED);
    EXPECT_EQ(vmsys_vmo_child_check(ZX_VMO_CHILD_REFERENCE, r), ZX_ERR_NOT_SUPPORTED);
    EXPECT_EQ(vmsys_vmo_child_check(ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_NO_WRITE, r),
              ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmo_child_check(0, r), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmo_child_check(ZX_VMO_CHILD_RESIZABLE, r), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmo_child_check(ZX_VMO_CHILD_SNAPSHOT, r), ZX_OK);
    EXPECT_EQ(vmsys_vmo_child_check(ZX_VMO_CHILD_SNAPSHOT_MODIFIED | ZX_VMO_CHILD_RESIZABLE, r),
              ZX_OK);
    EXPECT_EQ(vmsys_vmo_child_check(ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
                                    r),
              ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmo_child_check(ZX_VMO_CHILD_SNAPSHOT | (1u << 9), r), ZX_ERR_INVALID_ARGS);
}

/* The child's rights, steps 1-6 of zx_vmo_create_child in docs/syscalls.md. */
HTEST(vmsys_rules, child_rights) {
    zx_rights_t base = 0xD0EFu;
    zx_rights_t x = base | ZX_RIGHT_EXECUTE;
    /* 1-2: RESIZE only when asked for. */
    EXPECT_EQ(vmsys_vmo_child_rights(base | ZX_RIGHT_RESIZE, ZX_VMO_CHILD_SNAPSHOT), base);
    EXPECT_EQ(vmsys_vmo_child_rights(base, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE),
              base | ZX_RIGHT_RESIZE);
    /* 3: property rights always. */
    EXPECT_EQ(vmsys_vmo_child_rights(ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ, ZX_VMO_CHILD_SLICE),
              ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ | ZX_RIGHTS_PROPERTY);
    /* 4: NO_WRITE removes WRITE (and keeps EXECUTE). */
    EXPECT_EQ(vmsys_vmo_child_rights(x, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE),
              x & ~ZX_RIGHT_WRITE);
    EXPECT_EQ(vmsys_vmo_child_rights(x, ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_NO_WRITE),
              x & ~ZX_RIGHT_WRITE);
    /* 5: snapshots add WRITE, drop EXECUTE. */
    EXPECT_EQ(vmsys_vmo_child_rights(x & ~ZX_RIGHT_WRITE, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE),
              base);
    EXPECT_EQ(vmsys_vmo_child_rights(x, ZX_VMO_CHILD_SNAPSHOT_MODIFIED), base);
    /* 6: slices keep EXECUTE and do not gain WRITE. */
    EXPECT_EQ(vmsys_vmo_child_rights(x & ~ZX_RIGHT_WRITE, ZX_VMO_CHILD_SLICE),
              x & ~ZX_RIGHT_WRITE);
}

HTEST(vmsys_rules, vmar_rights) {
    EXPECT_EQ(vmsys_vmar_rights(0), 0x208003u);
    EXPECT_EQ(vmsys_vmar_rights(ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE |
                                ZX_VM_CAN_MAP_SPECIFIC),
              0x20801Fu);
    EXPECT_EQ(vmsys_vmar_rights(ZX_VM_CAN_MAP_WRITE), 0x20800Bu);
    EXPECT_EQ(vmsys_vmar_allocate_check_rights(ZX_VM_CAN_MAP_READ, 0x208007u), ZX_OK);
    EXPECT_EQ(vmsys_vmar_allocate_check_rights(ZX_VM_CAN_MAP_WRITE, 0x208007u),
              ZX_ERR_ACCESS_DENIED);
    EXPECT_EQ(vmsys_vmar_allocate_check_rights(ZX_VM_SPECIFIC | ZX_VM_CAN_MAP_SPECIFIC, 0),
              ZX_OK);
    EXPECT_EQ(vmsys_map_max_perms(0x20801Fu, 0xD0EFu), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE);
    EXPECT_EQ(vmsys_map_max_perms(0x20801Fu, 0xD0EFu | ZX_RIGHT_EXECUTE),
              ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE);
    EXPECT_EQ(vmsys_map_max_perms(0x208007u, 0xD0EFu | ZX_RIGHT_EXECUTE), ZX_VM_PERM_READ);
    EXPECT_EQ(vmsys_vmar_protect_rights(ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED | ZX_VM_PERM_EXECUTE),
              ZX_RIGHT_READ | ZX_RIGHT_EXECUTE);
    EXPECT_EQ(vmsys_vmar_protect_rights(0), 0u);
}

HTEST(vmsys_rules, op_rights) {
    EXPECT_EQ(vmsys_vmo_op_check(ZX_VMO_OP_COMMIT, ZX_RIGHT_READ), ZX_ERR_ACCESS_DENIED);
    EXPECT_EQ(vmsys_vmo_op_check(ZX_VMO_OP_COMMIT, ZX_RIGHT_WRITE), ZX_OK);
    EXPECT_EQ(vmsys_vmo_op_check(ZX_VMO_OP_LOCK, ZX_RIGHT_READ), ZX_OK);
    EXPECT_EQ(vmsys_vmo_op_check(ZX_VMO_OP_UNLOCK, ZX_RIGHT_WRITE), ZX_OK);
    EXPECT_EQ(vmsys_vmo_op_check(ZX_VMO_OP_TRY_LOCK, ZX_RIGHT_MAP), ZX_ERR_ACCESS_DENIED);
    EXPECT_EQ(vmsys_vmo_op_check(ZX_VMO_OP_CACHE_SYNC, ZX_RIGHT_WRITE), ZX_ERR_ACCESS_DENIED);
    EXPECT_EQ(vmsys_vmo_op_check(ZX_VMO_OP_CACHE_INVALIDATE, ZX_RIGHT_READ), ZX_ERR_ACCESS_DENIED);
    EXPECT_EQ(vmsys_vmo_op_check(ZX_VMO_OP_DONT_NEED, 0), ZX_OK);
    EXPECT_EQ(vmsys_vmo_op_check(5u, ZX_RIGHT_READ | ZX_RIGHT_WRITE), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmo_op_check(15u, 0), ZX_ERR_INVALID_ARGS);

    EXPECT_EQ(vmsys_vmar_op_check(4u, ~0u, 0, 0), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmar_op_check(ZX_VMAR_OP_DECOMMIT, ZX_RIGHT_READ, 0, 0), ZX_ERR_ACCESS_DENIED);
    EXPECT_EQ(vmsys_vmar_op_check(ZX_VMAR_OP_MAP_RANGE, ZX_RIGHT_READ, 0, 0), ZX_OK);
    EXPECT_EQ(vmsys_vmar_op_check(ZX_VMAR_OP_PREFETCH, ZX_RIGHT_WRITE, 0, 0), ZX_ERR_ACCESS_DENIED);
    EXPECT_EQ(vmsys_vmar_op_check(ZX_VMAR_OP_DONT_NEED, 0, 0, 0), ZX_OK);
    /* Rights come before the buffer check. */
    EXPECT_EQ(vmsys_vmar_op_check(ZX_VMAR_OP_COMMIT, 0, 0x1000, 0), ZX_ERR_ACCESS_DENIED);
    EXPECT_EQ(vmsys_vmar_op_check(ZX_VMAR_OP_COMMIT, ZX_RIGHT_WRITE, 0x1000, 0),
              ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmsys_vmar_op_check(ZX_VMAR_OP_COMMIT, ZX_RIGHT_WRITE, 0, 8), ZX_ERR_INVALID_ARGS);
}

HTEST(vmsys_rules, range) {
    EXPECT_TRUE(vmsys_range_ok(4096, 4096, 0));
    EXPECT_FALSE(vmsys_range_ok(4096, 4097, 0));
    EXPECT_TRUE(vmsys_range_ok(4096, 0, 4096));
    EXPECT_FALSE(vmsys_range_ok(4096, 1, 4096));
    EXPECT_FALSE(vmsys_range_ok(4096, 8, UINT64_MAX));
    EXPECT_FALSE(vmsys_range_ok(UINT64_MAX, UINT64_MAX - 1, 2));
}
