/*
 * zx_vmo_create_child (docs/syscalls.md: the child's rights and the checks; its decisions
 * for SNAPSHOT_MODIFIED, REFERENCE and ZX_VMO_ZERO_CHILDREN): option and range checks, rights
 * derivation, snapshot isolation, slices, grandchildren, the ZERO_CHILDREN signal and the
 * child fields of ZX_INFO_VMO.
 */
#include "vmo_util.h"

static uint8_t buf_a[3 * 4096];
static uint8_t buf_b[3 * 4096];

/* A VMO of `pages` pages whose page i is filled with byte (fill + i). */
static zx_status_t make_filled(size_t pages, uint8_t fill, uint32_t options, zx_handle_t *out) {
    zx_status_t st = zx_vmo_create(pages * P, options, out);
    for (size_t i = 0; st == ZX_OK && i < pages; i++) {
        memset(buf_a, fill + (int)i, P);
        st = zx_vmo_write(*out, buf_a, i * P, P);
    }
    return st;
}

/* True if [offset, offset + len) of vmo holds only byte c (len <= sizeof(buf_b)). */
static bool vmo_bytes(zx_handle_t vmo, uint64_t offset, size_t len, uint8_t c) {
    memset(buf_b, c ^ 0xFF, len);
    if (zx_vmo_read(vmo, buf_b, offset, len) != ZX_OK)
        return false;
    return all_bytes(buf_b, len, c);
}

/* ZX_VMO_ZERO_CHILDREN right now (a past deadline: no waiting). */
static bool zero_children(zx_handle_t vmo) {
    return zx_object_wait_one(vmo, ZX_VMO_ZERO_CHILDREN, 0, NULL) == ZX_OK;
}

/* ZX_VMO_ZERO_CHILDREN within a short time (tolerates a deferred child teardown). */
static bool zero_children_soon(zx_handle_t vmo) {
    return zx_object_wait_one(vmo, ZX_VMO_ZERO_CHILDREN, zx_deadline_after(200 * TU_MS), NULL) ==
           ZX_OK;
}

/* ---- Snapshots -------------------------------------------------------------------------- */

TEST(VmoSnapshot, IsolatedBothWays) {
    zx_handle_t parent, child;
    ASSERT_OK(make_filled(2, 0x10, 0, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * P, &child));
    EXPECT_TRUE(vmo_bytes(child, 0, P, 0x10));
    EXPECT_TRUE(vmo_bytes(child, P, P, 0x11));
    /* A parent write after the snapshot is not seen by the child... */
    uint8_t b = 0x99;
    EXPECT_OK(zx_vmo_write(parent, &b, 5, 1));
    EXPECT_EQ(byte_at(child, 5), 0x10u);
    /* ...and a child write is not seen by the parent. */
    b = 0x77;
    EXPECT_OK(zx_vmo_write(child, &b, P + 9, 1));
    EXPECT_EQ(byte_at(parent, P + 9), 0x11u);
    EXPECT_EQ(byte_at(child, P + 9), 0x77u);
    EXPECT_EQ(byte_at(parent, 5), 0x99u);
    /* Closing the parent leaves the child's view intact. */
    EXPECT_OK(zx_handle_close(parent));
    EXPECT_TRUE(vmo_bytes(child, 6, P - 6, 0x10));
    EXPECT_EQ(byte_at(child, 5), 0x10u);
    EXPECT_EQ(byte_at(child, P + 9), 0x77u);
    EXPECT_OK(zx_handle_close(child));
}

TEST(VmoSnapshot, AtLeastOnWrite) {
    zx_handle_t parent, child;
    ASSERT_OK(make_filled(2, 0x20, 0, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 2 * P,
                                  &child));
    EXPECT_TRUE(vmo_bytes(child, 0, P, 0x20));
    EXPECT_TRUE(vmo_bytes(child, P, P, 0x21));
    /* Only the child-to-parent direction is specified. */
    memset(buf_a, 0x5E, P);
    EXPECT_OK(zx_vmo_write(child, buf_a, 0, P));
    EXPECT_TRUE(vmo_bytes(parent, 0, P, 0x20));
    EXPECT_TRUE(vmo_bytes(child, 0, P, 0x5E));
    EXPECT_NE(vmo_info(child).flags & ZX_INFO_VMO_IS_COW_CLONE, 0u);
    EXPECT_OK(zx_handle_close(child));
    EXPECT_OK(zx_handle_close(parent));
}

TEST(VmoSnapshot, ModifiedActsAsSnapshot) {
    zx_handle_t parent, child;
    ASSERT_OK(make_filled(1, 0x30, 0, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT_MODIFIED, 0, P, &child));
    EXPECT_EQ(tu_rights(child), VMO_RIGHTS);
    EXPECT_NE(vmo_info(child).flags & ZX_INFO_VMO_IS_COW_CLONE, 0u);
    uint8_t b = 1;
    EXPECT_OK(zx_vmo_write(parent, &b, 0, 1));
    EXPECT_EQ(byte_at(child, 0), 0x30u);
    b = 2;
    EXPECT_OK(zx_vmo_write(child, &b, 1, 1));
    EXPECT_EQ(byte_at(parent, 1), 0x30u);
    EXPECT_OK(zx_handle_close(child));
    EXPECT_OK(zx_handle_close(parent));
}

TEST(VmoSnapshot, BeyondParentReadsZero) {
    zx_handle_t parent, big, far;
    ASSERT_OK(make_filled(1, 0x40, 0, &parent));
    /* A child larger than its parent: the part past the parent reads zeros. */
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, 3 * P, &big));
    EXPECT_EQ(vmo_info(big).size_bytes, 3 * P);
    EXPECT_TRUE(vmo_bytes(big, 0, P, 0x40));
    EXPECT_TRUE(vmo_bytes(big, P, 2 * P, 0));
    uint8_t b = 0x41;
    EXPECT_OK(zx_vmo_write(big, &b, 2 * P, 1));
    EXPECT_EQ(byte_at(big, 2 * P), 0x41u);
    /* A child that starts past the parent's end sees only zeros. */
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 4 * P, 2 * P, &far));
    EXPECT_TRUE(vmo_bytes(far, 0, 2 * P, 0));
    EXPECT_OK(zx_handle_close(far));
    EXPECT_OK(zx_handle_close(big));
    EXPECT_OK(zx_handle_close(parent));
}

TEST(VmoSnapshot, OffsetSizeAndContentSize) {
    zx_handle_t parent, child;
    ASSERT_OK(make_filled(3, 0x50, 0, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, P, P + 10, &child));
    EXPECT_EQ(vmo_size(child), 2 * P);
    EXPECT_EQ(content_size(child), P + 10);
    EXPECT_TRUE(vmo_bytes(child, 0, P, 0x51));
    EXPECT_TRUE(vmo_bytes(child, P, P, 0x52));
    EXPECT_STATUS(zx_vmo_read(child, buf_b, 2 * P, 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_OK(zx_handle_close(child));
    /* A zero-sized snapshot is fine too. */
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, 0, &child));
    EXPECT_EQ(vmo_size(child), 0u);
    EXPECT_OK(zx_handle_close(child));
    EXPECT_OK(zx_handle_close(parent));
}

TEST(VmoSnapshot, ResizableChild) {
    zx_handle_t parent, child;
    ASSERT_OK(make_filled(2, 0x60, 0, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE, 0, 2 * P,
                                  &child));
    EXPECT_NE(vmo_info(child).flags & ZX_INFO_VMO_RESIZABLE, 0u);
    EXPECT_STATUS(zx_vmo_set_size(parent, P), ZX_ERR_UNAVAILABLE);
    /* Shrinking and growing back must not bring back the parent's content. */
    ASSERT_OK(zx_vmo_set_size(child, P));
    ASSERT_OK(zx_vmo_set_size(child, 3 * P));
    EXPECT_TRUE(vmo_bytes(child, 0, P, 0x60));
    EXPECT_TRUE(vmo_bytes(child, P, 2 * P, 0));
    EXPECT_TRUE(vmo_bytes(parent, P, P, 0x61));
    /* A plain snapshot is not resizable. */
    zx_handle_t fixed;
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, P, &fixed));
    EXPECT_EQ(vmo_info(fixed).flags & ZX_INFO_VMO_RESIZABLE, 0u);
    EXPECT_STATUS(zx_vmo_set_size(fixed, 2 * P), ZX_ERR_UNAVAILABLE);
    zx_handle_close(fixed);
    EXPECT_OK(zx_handle_close(child));
    EXPECT_OK(zx_handle_close(parent));
}

TEST(VmoSnapshot, CommitAndZeroStayPrivate) {
    zx_handle_t parent, child;
    ASSERT_OK(make_filled(2, 0x70, 0, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * P, &child));
    /* The child sees both of the parent's pages, none of them its own alone. */
    EXPECT_EQ(vmo_info(child).committed_bytes, 2 * P);
    EXPECT_EQ(vmo_info(child).committed_private_bytes, 0u);
    /* Commit gives the child private copies of what it sees. */
    EXPECT_OK(zx_vmo_op_range(child, ZX_VMO_OP_COMMIT, 0, P, NULL, 0));
    EXPECT_EQ(vmo_info(child).committed_bytes, 2 * P);
    EXPECT_EQ(vmo_info(child).committed_private_bytes, P);
    EXPECT_TRUE(vmo_bytes(child, 0, P, 0x70));
    /* ZERO in the child leaves the parent alone. */
    EXPECT_OK(zx_vmo_op_range(child, ZX_VMO_OP_ZERO, 10, P, NULL, 0));
    EXPECT_TRUE(vmo_bytes(child, 10, P, 0));
    EXPECT_TRUE(vmo_bytes(child, 0, 10, 0x70));
    EXPECT_TRUE(vmo_bytes(child, P + 10, P - 10, 0x71));
    EXPECT_TRUE(vmo_bytes(parent, 0, P, 0x70));
    EXPECT_TRUE(vmo_bytes(parent, P, P, 0x71));
    EXPECT_OK(zx_handle_close(child));
    EXPECT_OK(zx_handle_close(parent));
}

TEST(VmoSnapshot, DecommitRefusedInCowRelatives) {
    zx_handle_t parent, child;
    ASSERT_OK(make_filled(2, 0x80, 0, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * P, &child));
    /* Not on a copy-on-write child, nor on a parent with one (docs/syscalls.md,
     * zx_vmo_op_range). */
    EXPECT_STATUS(zx_vmo_op_range(child, ZX_VMO_OP_DECOMMIT, 0, P, NULL, 0),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_vmo_op_range(parent, ZX_VMO_OP_DECOMMIT, 0, P, NULL, 0),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_TRUE(vmo_bytes(parent, 0, P, 0x80));
    EXPECT_TRUE(vmo_bytes(child, 0, P, 0x80));
    /* Once the child is gone the parent is an ordinary VMO again. */
    EXPECT_OK(zx_handle_close(child));
    EXPECT_TRUE(zero_children_soon(parent));
    EXPECT_OK(zx_vmo_op_range(parent, ZX_VMO_OP_DECOMMIT, 0, P, NULL, 0));
    EXPECT_TRUE(vmo_bytes(parent, 0, P, 0));
    EXPECT_TRUE(vmo_bytes(parent, P, P, 0x81));
    EXPECT_EQ(vmo_info(parent).committed_bytes, P);
    EXPECT_OK(zx_handle_close(parent));
}

TEST(VmoSnapshot, ParentZeroAndShrinkLeaveChild) {
    zx_handle_t parent, child;
    ASSERT_OK(make_filled(3, 0x88, ZX_VMO_RESIZABLE, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, 3 * P, &child));
    EXPECT_OK(zx_vmo_op_range(parent, ZX_VMO_OP_ZERO, 0, P, NULL, 0));
    EXPECT_TRUE(vmo_bytes(parent, 0, P, 0));
    EXPECT_TRUE(vmo_bytes(child, 0, P, 0x88));
    /* Shrinking the parent does not take pages from the child... */
    ASSERT_OK(zx_vmo_set_size(parent, P));
    EXPECT_TRUE(vmo_bytes(child, P, P, 0x89));
    EXPECT_TRUE(vmo_bytes(child, 2 * P, P, 0x8A));
    /* ...and growing it back shows zeros, not the old pages. */
    ASSERT_OK(zx_vmo_set_size(parent, 3 * P));
    EXPECT_TRUE(vmo_bytes(parent, P, 2 * P, 0));
    EXPECT_OK(zx_handle_close(child));
    EXPECT_OK(zx_handle_close(parent));
}

TEST(VmoSnapshot, CopyBetweenRelativesThroughMappings) {
    zx_handle_t parent, child;
    ASSERT_OK(make_filled(2, 0x85, 0, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * P, &child));
    zx_vaddr_t addr;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, child, 0,
                          2 * P, &addr));
    /* Parent page 1 into the child's page 0 through its mapping: the copy's page faults
     * break copy-on-write in the same hierarchy the read is using. */
    EXPECT_OK(zx_vmo_read(parent, (void *)addr, P, P));
    EXPECT_TRUE(all_bytes((const void *)addr, P, 0x86));
    /* The child's page 1, read through the mapping, written over the parent's page 0. */
    EXPECT_OK(zx_vmo_write(parent, (const void *)(addr + P), 0, P));
    EXPECT_TRUE(vmo_bytes(parent, 0, 2 * P, 0x86));
    EXPECT_TRUE(vmo_bytes(child, 0, 2 * P, 0x86));
    /* Still two private copies. */
    ((volatile uint8_t *)addr)[0] = 0x01;
    EXPECT_EQ(byte_at(parent, 0), 0x86u);
    zx_vmar_unmap(zx_vmar_root_self(), addr, 2 * P);
    EXPECT_OK(zx_handle_close(child));
    EXPECT_OK(zx_handle_close(parent));
}

/* ---- Options and ranges --------------------------------------------------------------- */

TEST(VmoChild, BadOptions) {
    zx_handle_t vmo, out = ZX_HANDLE_INVALID;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &vmo));
    static const uint32_t bad[] = {
        0u,                                                             /* no kind */
        ZX_VMO_CHILD_RESIZABLE,                                         /* no kind */
        ZX_VMO_CHILD_NO_WRITE,                                          /* no kind */
        ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, /* two kinds */
        ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
        ZX_VMO_CHILD_SNAPSHOT | (1u << 1), /* undefined bits */
        ZX_VMO_CHILD_SNAPSHOT | (1u << 8),
        ZX_VMO_CHILD_SNAPSHOT | (1u << 31),
        ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_RESIZABLE, /* a slice takes only NO_WRITE */
        ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_SNAPSHOT,
        ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_REFERENCE,
        ZX_VMO_CHILD_SLICE | (1u << 8),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT_STATUS(zx_vmo_create_child(vmo, bad[i], 0, P, &out), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(out, ZX_HANDLE_INVALID);
    EXPECT_TRUE(zero_children(vmo));
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoChild, NoWriteResizableBeforeLookup) {
    zx_handle_t out = ZX_HANDLE_INVALID;
    const uint32_t o = ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE | ZX_VMO_CHILD_RESIZABLE;
    EXPECT_STATUS(zx_vmo_create_child(ZX_HANDLE_INVALID, o, 0, P, &out), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmo_create_child(zx_vmar_root_self(), o, 0, P, &out), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmo_create_child(ZX_HANDLE_INVALID, ZX_VMO_CHILD_SNAPSHOT, 0, P, &out),
                  ZX_ERR_BAD_HANDLE);
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, ZX_VMO_RESIZABLE, &vmo));
    EXPECT_STATUS(zx_vmo_create_child(vmo, o, 0, P, &out), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(out, ZX_HANDLE_INVALID);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoChild, HandleErrors) {
    zx_handle_t vmo, out = ZX_HANDLE_INVALID;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    EXPECT_STATUS(zx_vmo_create_child(zx_vmar_root_self(), ZX_VMO_CHILD_SNAPSHOT, 0, P, &out),
                  ZX_ERR_WRONG_TYPE);
    /* DUPLICATE and READ are both required. */
    zx_handle_t h = tu_dup(vmo, VMO_RIGHTS & ~ZX_RIGHT_DUPLICATE);
    EXPECT_STATUS(zx_vmo_create_child(h, ZX_VMO_CHILD_SNAPSHOT, 0, P, &out), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmo_create_child(h, ZX_VMO_CHILD_SLICE, 0, P, &out), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(h);
    h = tu_dup(vmo, VMO_RIGHTS & ~ZX_RIGHT_READ);
    EXPECT_STATUS(zx_vmo_create_child(h, ZX_VMO_CHILD_SNAPSHOT, 0, P, &out), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmo_create_child(h, ZX_VMO_CHILD_SLICE, 0, P, &out), ZX_ERR_ACCESS_DENIED);
    /* Rights come before the options. */
    EXPECT_STATUS(zx_vmo_create_child(h, 0, 0, P, &out), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(h);
    EXPECT_EQ(out, ZX_HANDLE_INVALID);
    EXPECT_TRUE(zero_children(vmo));
    EXPECT_OK(zx_handle_close(vmo));
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, P, &out), ZX_ERR_BAD_HANDLE);
}

TEST(VmoChild, UnalignedOffsetAndOverflow) {
    zx_handle_t vmo, out = ZX_HANDLE_INVALID;
    ASSERT_OK(zx_vmo_create(4 * P, 0, &vmo));
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 1, P, &out), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, P / 2, P, &out),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 8, P, &out), ZX_ERR_INVALID_ARGS);
    /* An overflowing size or offset + size: Beryl answers OUT_OF_RANGE (docs/syscalls.md);
     * INVALID_ARGS, which Zircon's documentation also allows, passes too. */
    zx_status_t st = zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, UINT64_MAX, &out);
    EXPECT_TRUE(st == ZX_ERR_OUT_OF_RANGE || st == ZX_ERR_INVALID_ARGS);
    st = zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, UINT64_MAX - P + 1, 2 * P, &out);
    EXPECT_TRUE(st == ZX_ERR_OUT_OF_RANGE || st == ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(out, ZX_HANDLE_INVALID);
    EXPECT_TRUE(zero_children(vmo));
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoChild, BadOutPointerLeavesNoChild) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    void *const bad[] = {NULL, KERNEL_PTR, NONCANON_PTR};
    for (size_t i = 0; i < 3; i++) {
        EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, P, (zx_handle_t *)bad[i]),
                      ZX_ERR_INVALID_ARGS);
        EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 0, P, (zx_handle_t *)bad[i]),
                      ZX_ERR_INVALID_ARGS);
    }
    /* The child made before the copy-out failed is gone again. */
    EXPECT_TRUE(zero_children_soon(vmo));
    EXPECT_EQ(vmo_info(vmo).num_children, 0u);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoChild, Reference) {
    zx_handle_t vmo, rvmo, out = ZX_HANDLE_INVALID;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    ASSERT_OK(zx_vmo_create(P, ZX_VMO_RESIZABLE, &rvmo));
    /* Option checks, then RESIZE for a resizable reference, then decisions.md: no
     * references in Beryl yet. */
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_SNAPSHOT, 0, 0,
                                      &out),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_NO_WRITE, 0, 0,
                                      &out),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_RESIZABLE, 0, 0,
                                      &out),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_REFERENCE, 0, 0, &out),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_vmo_create_child(rvmo, ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_RESIZABLE, 0, 0,
                                      &out),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_EQ(out, ZX_HANDLE_INVALID);
    EXPECT_TRUE(zero_children(vmo));
    EXPECT_OK(zx_handle_close(vmo));
    EXPECT_OK(zx_handle_close(rvmo));
}

/* ---- Rights --------------------------------------------------------------------------- */

/* The rights of a child of `parent` made with `options` (0 if creation failed). */
static zx_rights_t child_rights(zx_handle_t parent, uint32_t options) {
    zx_handle_t child;
    if (zx_vmo_create_child(parent, options, 0, P, &child) != ZX_OK)
        return 0;
    zx_rights_t r = tu_rights(child);
    zx_handle_close(child);
    return r;
}

TEST(VmoChildRights, FromDefaultParent) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    EXPECT_EQ(child_rights(vmo, ZX_VMO_CHILD_SNAPSHOT), VMO_RIGHTS);
    EXPECT_EQ(child_rights(vmo, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE), VMO_RIGHTS);
    EXPECT_EQ(child_rights(vmo, ZX_VMO_CHILD_SLICE), VMO_RIGHTS);
    EXPECT_EQ(child_rights(vmo, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE), VMO_RESIZE_RIGHTS);
    EXPECT_EQ(child_rights(vmo, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE),
              VMO_RIGHTS & ~ZX_RIGHT_WRITE);
    EXPECT_EQ(child_rights(vmo, ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_NO_WRITE),
              VMO_RIGHTS & ~ZX_RIGHT_WRITE);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoChildRights, FromReducedParent) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    /* Only DUPLICATE | READ | MAP: children gain the property rights; snapshots gain WRITE. */
    const zx_rights_t base = ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ | ZX_RIGHT_MAP;
    zx_handle_t h = tu_dup(vmo, base);
    ASSERT_NE(h, ZX_HANDLE_INVALID);
    EXPECT_EQ(child_rights(h, ZX_VMO_CHILD_SNAPSHOT), base | ZX_RIGHTS_PROPERTY | ZX_RIGHT_WRITE);
    EXPECT_EQ(child_rights(h, ZX_VMO_CHILD_SNAPSHOT_MODIFIED),
              base | ZX_RIGHTS_PROPERTY | ZX_RIGHT_WRITE);
    EXPECT_EQ(child_rights(h, ZX_VMO_CHILD_SLICE), base | ZX_RIGHTS_PROPERTY);
    EXPECT_EQ(child_rights(h, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE),
              base | ZX_RIGHTS_PROPERTY);
    EXPECT_EQ(child_rights(h, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE),
              base | ZX_RIGHTS_PROPERTY | ZX_RIGHT_WRITE | ZX_RIGHT_RESIZE);
    /* A slice of a read-only handle cannot write the parent's pages. */
    zx_handle_t slice;
    ASSERT_OK(zx_vmo_create_child(h, ZX_VMO_CHILD_SLICE, 0, P, &slice));
    uint8_t b = 1;
    EXPECT_STATUS(zx_vmo_write(slice, &b, 0, 1), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(slice);
    zx_handle_close(h);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoChildRights, FromExecutableParent) {
    zx_handle_t vmo, exec;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    ASSERT_OK(zx_vmo_replace_as_executable(vmo, ZX_HANDLE_INVALID, &exec));
    const zx_rights_t x = VMO_RIGHTS | ZX_RIGHT_EXECUTE;
    EXPECT_EQ(child_rights(exec, ZX_VMO_CHILD_SNAPSHOT), VMO_RIGHTS); /* EXECUTE dropped */
    EXPECT_EQ(child_rights(exec, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE), VMO_RIGHTS);
    EXPECT_EQ(child_rights(exec, ZX_VMO_CHILD_SLICE), x); /* slices keep it */
    EXPECT_EQ(child_rights(exec, ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_NO_WRITE), x & ~ZX_RIGHT_WRITE);
    /* NO_WRITE only removes WRITE, so a read-only snapshot stays executable. */
    EXPECT_EQ(child_rights(exec, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE),
              x & ~ZX_RIGHT_WRITE);
    EXPECT_OK(zx_handle_close(exec));
}

TEST(VmoChildRights, FromResizableParent) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, ZX_VMO_RESIZABLE, &vmo));
    EXPECT_EQ(child_rights(vmo, ZX_VMO_CHILD_SNAPSHOT), VMO_RIGHTS); /* RESIZE not inherited */
    EXPECT_EQ(child_rights(vmo, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE), VMO_RESIZE_RIGHTS);
    EXPECT_EQ(child_rights(vmo, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE | ZX_VMO_CHILD_NO_WRITE),
              VMO_RIGHTS & ~ZX_RIGHT_WRITE);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoChildRights, NoWriteChildCannotWrite) {
    zx_handle_t parent, child;
    ASSERT_OK(make_filled(1, 0x90, 0, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE, 0, P,
                                  &child));
    uint8_t b = 1;
    EXPECT_STATUS(zx_vmo_write(child, &b, 0, 1), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmo_op_range(child, ZX_VMO_OP_COMMIT, 0, P, NULL, 0), ZX_ERR_ACCESS_DENIED);
    EXPECT_TRUE(vmo_bytes(child, 0, P, 0x90));
    zx_vaddr_t addr;
    EXPECT_STATUS(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, child, 0,
                              P, &addr),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_handle_close(child));
    EXPECT_OK(zx_handle_close(parent));
}

/* ---- Slices --------------------------------------------------------------------------- */

TEST(VmoSlice, WritesVisibleBothWays) {
    zx_handle_t parent, slice;
    ASSERT_OK(make_filled(4, 0xA0, 0, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SLICE, P, 2 * P, &slice));
    EXPECT_EQ(vmo_size(slice), 2 * P);
    EXPECT_TRUE(vmo_bytes(slice, 0, P, 0xA1));
    EXPECT_TRUE(vmo_bytes(slice, P, P, 0xA2));
    uint8_t b = 0x11;
    EXPECT_OK(zx_vmo_write(slice, &b, 3, 1));
    EXPECT_EQ(byte_at(parent, P + 3), 0x11u);
    b = 0x22;
    EXPECT_OK(zx_vmo_write(parent, &b, 2 * P + 4, 1));
    EXPECT_EQ(byte_at(slice, P + 4), 0x22u);
    /* The slice ends where it was told to. */
    EXPECT_STATUS(zx_vmo_read(slice, &b, 2 * P, 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(vmo_info(slice).flags & ZX_INFO_VMO_IS_COW_CLONE, 0u);
    EXPECT_STATUS(zx_vmo_set_size(slice, P), ZX_ERR_UNAVAILABLE);
    /* Closing the parent handle leaves the slice's window working. */
    EXPECT_OK(zx_handle_close(parent));
    EXPECT_EQ(byte_at(slice, 3), 0x11u);
    EXPECT_OK(zx_handle_close(slice));
}

TEST(VmoSlice, MappingSeesParentWrites) {
    zx_handle_t parent, slice;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &parent));
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SLICE, P, P, &slice));
    zx_vaddr_t addr;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, slice, 0, P,
                          &addr));
    volatile uint8_t *m = (volatile uint8_t *)addr;
    uint8_t b = 0x5C;
    EXPECT_OK(zx_vmo_write(parent, &b, P + 1, 1));
    EXPECT_EQ(m[1], 0x5Cu);
    m[2] = 0x6D;
    EXPECT_EQ(byte_at(parent, P + 2), 0x6Du);
    EXPECT_EQ(vmo_info(slice).num_mappings, 1u);
    zx_vmar_unmap(zx_vmar_root_self(), addr, P);
    EXPECT_OK(zx_handle_close(slice));
    EXPECT_OK(zx_handle_close(parent));
}

TEST(VmoSlice, Bounds) {
    zx_handle_t vmo, out = ZX_HANDLE_INVALID;
    ASSERT_OK(zx_vmo_create(4 * P, 0, &vmo));
    /* Outside the parent: INVALID_ARGS. */
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 0, 4 * P + 1, &out),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 3 * P, 2 * P, &out),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 5 * P, 0, &out),
                  ZX_ERR_INVALID_ARGS);
    /* offset + size overflows: OUT_OF_RANGE. */
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, UINT64_MAX - P + 1, 2 * P, &out),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, P, UINT64_MAX, &out),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(out, ZX_HANDLE_INVALID);
    /* Exactly the parent, and a tail ending at its end, are fine. */
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 0, 4 * P, &out));
    zx_handle_close(out);
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 3 * P, P, &out));
    zx_handle_close(out);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoSlice, ZeroSized) {
    zx_handle_t vmo, slice;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &vmo));
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, P, 0, &slice));
    EXPECT_EQ(vmo_size(slice), 0u);
    uint8_t b = 0;
    EXPECT_STATUS(zx_vmo_read(slice, &b, 0, 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_write(slice, &b, 0, 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_OK(zx_vmo_read(slice, &b, 0, 0));
    EXPECT_OK(zx_handle_close(slice));
    /* At the parent's very end, too. */
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 2 * P, 0, &slice));
    EXPECT_OK(zx_handle_close(slice));
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoSlice, ResizableParentNotSupported) {
    zx_handle_t vmo, out = ZX_HANDLE_INVALID;
    ASSERT_OK(zx_vmo_create(2 * P, ZX_VMO_RESIZABLE, &vmo));
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 0, P, &out), ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_NO_WRITE, 0, P, &out),
                  ZX_ERR_NOT_SUPPORTED);
    /* A resizable snapshot child is a resizable parent too. */
    zx_handle_t child;
    zx_handle_t fixed;
    ASSERT_OK(zx_vmo_create(P, 0, &fixed));
    ASSERT_OK(zx_vmo_create_child(fixed, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE, 0, P,
                                  &child));
    EXPECT_STATUS(zx_vmo_create_child(child, ZX_VMO_CHILD_SLICE, 0, P, &out), ZX_ERR_NOT_SUPPORTED);
    EXPECT_EQ(out, ZX_HANDLE_INVALID);
    zx_handle_close(child);
    zx_handle_close(fixed);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoSlice, SizeRoundedContentSizeExact) {
    zx_handle_t vmo, slice;
    ASSERT_OK(make_filled(2, 0xB0, 0, &vmo));
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, P, 100, &slice));
    EXPECT_EQ(vmo_size(slice), P);
    EXPECT_EQ(content_size(slice), 100u);
    EXPECT_TRUE(vmo_bytes(slice, 0, P, 0xB1)); /* the whole rounded page is the window */
    EXPECT_OK(zx_handle_close(slice));
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoSlice, CommitLandsInParent) {
    zx_handle_t vmo, slice;
    ASSERT_OK(zx_vmo_create(4 * P, 0, &vmo));
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 2 * P, 2 * P, &slice));
    EXPECT_OK(zx_vmo_op_range(slice, ZX_VMO_OP_COMMIT, 0, 2 * P, NULL, 0));
    /* A slice reports its parent's pages in its window, as the parent would. */
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 2 * P);
    EXPECT_EQ(vmo_info(slice).committed_bytes, 2 * P);
    EXPECT_EQ(vmo_info(slice).committed_private_bytes, 2 * P);
    /* Those were the parent's pages 2 and 3. */
    EXPECT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_DECOMMIT, 2 * P, 2 * P, NULL, 0));
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 0u);
    EXPECT_OK(zx_handle_close(slice));
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoSlice, DecommitSeenByBoth) {
    zx_handle_t vmo, slice;
    ASSERT_OK(make_filled(3, 0xC0, 0, &vmo));
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, P, 2 * P, &slice));
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 3 * P);
    /* Decommit through the slice frees the parent's page... */
    EXPECT_OK(zx_vmo_op_range(slice, ZX_VMO_OP_DECOMMIT, 0, P, NULL, 0));
    EXPECT_TRUE(vmo_bytes(vmo, P, P, 0));
    EXPECT_TRUE(vmo_bytes(slice, 0, P, 0));
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 2 * P);
    /* ...and a decommit in the parent shows in the slice. */
    EXPECT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_DECOMMIT, 2 * P, P, NULL, 0));
    EXPECT_TRUE(vmo_bytes(slice, P, P, 0));
    EXPECT_TRUE(vmo_bytes(vmo, 0, P, 0xC0));
    /* Range checks are the slice's own. */
    EXPECT_STATUS(zx_vmo_op_range(slice, ZX_VMO_OP_DECOMMIT, 2 * P, P, NULL, 0),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_op_range(slice, ZX_VMO_OP_COMMIT, P, 2 * P, NULL, 0),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_OK(zx_handle_close(slice));
    EXPECT_OK(zx_handle_close(vmo));
}

/* ---- Grandchildren, ZX_VMO_ZERO_CHILDREN and ZX_INFO_VMO --------------------------------- */

TEST(VmoChildTree, Grandchildren) {
    zx_handle_t p, c, g, s, ss;
    ASSERT_OK(make_filled(3, 0xD0, 0, &p));
    ASSERT_OK(zx_vmo_create_child(p, ZX_VMO_CHILD_SNAPSHOT, 0, 3 * P, &c));
    uint8_t b = 0x01;
    ASSERT_OK(zx_vmo_write(c, &b, 0, 1));
    ASSERT_OK(zx_vmo_create_child(c, ZX_VMO_CHILD_SNAPSHOT, P, 2 * P, &g));
    b = 0x02;
    ASSERT_OK(zx_vmo_write(c, &b, P, 1)); /* after the grandchild: not seen by it */
    ASSERT_OK(zx_vmo_write(p, &b, 2 * P, 1));
    EXPECT_EQ(byte_at(g, 0), 0xD1u);
    EXPECT_EQ(byte_at(g, P), 0xD2u);
    b = 0x03;
    ASSERT_OK(zx_vmo_write(g, &b, 1, 1));
    EXPECT_EQ(byte_at(c, P + 1), 0xD1u);
    EXPECT_EQ(byte_at(p, P + 1), 0xD1u);
    EXPECT_EQ(byte_at(c, 0), 0x01u);
    EXPECT_EQ(byte_at(p, 0), 0xD0u);
    /* A snapshot of a snapshot whose pages were never copied still sees the original. */
    zx_handle_close(c);
    EXPECT_EQ(byte_at(g, P + 1), 0xD2u);
    /* A slice of a slice lands at the summed offset. */
    ASSERT_OK(zx_vmo_create_child(p, ZX_VMO_CHILD_SLICE, P, 2 * P, &s));
    ASSERT_OK(zx_vmo_create_child(s, ZX_VMO_CHILD_SLICE, P, P, &ss));
    b = 0x04;
    ASSERT_OK(zx_vmo_write(ss, &b, 7, 1));
    EXPECT_EQ(byte_at(p, 2 * P + 7), 0x04u);
    EXPECT_EQ(byte_at(s, P + 7), 0x04u);
    EXPECT_EQ(vmo_info(ss).parent_koid, tu_basic(s).koid);
    zx_handle_close(ss);
    zx_handle_close(s);
    zx_handle_close(g);
    EXPECT_OK(zx_handle_close(p));
}

TEST(VmoChildTree, ZeroChildrenSignal) {
    zx_handle_t vmo, child, slice;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    EXPECT_TRUE(zero_children(vmo));
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, P, &child));
    zx_signals_t obs = 0xFFFFFFFF;
    EXPECT_STATUS(zx_object_wait_one(vmo, ZX_VMO_ZERO_CHILDREN, 0, &obs), ZX_ERR_TIMED_OUT);
    EXPECT_EQ(obs & ZX_VMO_ZERO_CHILDREN, 0u);
    EXPECT_STATUS(zx_object_wait_one(vmo, ZX_VMO_ZERO_CHILDREN, zx_deadline_after(TU_MS), NULL),
                  ZX_ERR_TIMED_OUT);
    EXPECT_TRUE(zero_children(child)); /* the child has none of its own */
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 0, P, &slice));
    EXPECT_OK(zx_handle_close(child));
    EXPECT_FALSE(zero_children(vmo)); /* the slice still counts */
    EXPECT_OK(zx_handle_close(slice));
    EXPECT_TRUE(zero_children_soon(vmo));
    /* A duplicate of the child handle keeps the child alive. */
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, P, &child));
    zx_handle_t dup = tu_dup(child, ZX_RIGHT_SAME_RIGHTS);
    EXPECT_OK(zx_handle_close(child));
    EXPECT_FALSE(zero_children(vmo));
    EXPECT_OK(zx_handle_close(dup));
    EXPECT_TRUE(zero_children_soon(vmo));
    EXPECT_OK(zx_handle_close(vmo));
}

/* Worker of WaitWakesWhenLastChildCloses: closes the child after a short sleep. */
static void close_later(uintptr_t child, uintptr_t unused) {
    zx_nanosleep(zx_deadline_after(20 * TU_MS));
    zx_handle_close((zx_handle_t)child);
    zx_thread_exit();
}

TEST(VmoChildTree, WaitWakesWhenLastChildCloses) {
    zx_handle_t vmo, child;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 0, P, &child));
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, close_later, child, 0));
    /* Blocks until the other thread's close sets the signal. */
    zx_signals_t obs = 0;
    EXPECT_OK(zx_object_wait_one(vmo, ZX_VMO_ZERO_CHILDREN, zx_deadline_after(5 * TU_SEC), &obs));
    EXPECT_NE(obs & ZX_VMO_ZERO_CHILDREN, 0u);
    EXPECT_FALSE(tu_handle_valid(child));
    EXPECT_OK(tu_thread_join(&t, 5 * TU_SEC));
    tu_thread_destroy(&t);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoChildTree, ZeroChildrenWithGrandchild) {
    zx_handle_t p, c, g;
    ASSERT_OK(zx_vmo_create(P, 0, &p));
    ASSERT_OK(zx_vmo_create_child(p, ZX_VMO_CHILD_SNAPSHOT, 0, P, &c));
    ASSERT_OK(zx_vmo_create_child(c, ZX_VMO_CHILD_SNAPSHOT, 0, P, &g));
    EXPECT_FALSE(zero_children(c));
    /* decisions.md: the grandchild keeps the child, and so p's signal, cleared. */
    EXPECT_OK(zx_handle_close(c));
    EXPECT_FALSE(zero_children(p));
    EXPECT_EQ(vmo_info(p).num_children, 1u);
    EXPECT_OK(zx_handle_close(g));
    EXPECT_TRUE(zero_children_soon(p));
    EXPECT_EQ(vmo_info(p).num_children, 0u);
    EXPECT_OK(zx_handle_close(p));
}

TEST(VmoChildTree, InfoFields) {
    zx_handle_t p, snap, slice, low;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &p));
    ASSERT_OK(zx_vmo_create_child(p, ZX_VMO_CHILD_SNAPSHOT, 0, 3 * P, &snap));
    ASSERT_OK(zx_vmo_create_child(p, ZX_VMO_CHILD_SLICE, P, P, &slice));
    zx_koid_t pk = tu_basic(p).koid;
    zx_info_vmo_t pi = vmo_info(p), si = vmo_info(snap), li = vmo_info(slice);
    EXPECT_EQ(pi.parent_koid, 0u);
    EXPECT_EQ(pi.num_children, 2u);
    EXPECT_EQ(pi.flags & ZX_INFO_VMO_IS_COW_CLONE, 0u);
    EXPECT_EQ(si.parent_koid, pk);
    EXPECT_EQ(si.num_children, 0u);
    EXPECT_EQ(si.size_bytes, 3 * P);
    EXPECT_EQ(si.flags, ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE | ZX_INFO_VMO_IS_COW_CLONE);
    EXPECT_NE(si.koid, pk);
    EXPECT_EQ(li.parent_koid, pk);
    EXPECT_EQ(li.size_bytes, P);
    EXPECT_EQ(li.flags, ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE);
    EXPECT_EQ(li.handle_rights, VMO_RIGHTS);
    /* handle_rights reports the child handle's own rights. */
    ASSERT_OK(zx_vmo_create_child(p, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE, 0, P, &low));
    EXPECT_EQ(vmo_info(low).handle_rights, VMO_RIGHTS & ~ZX_RIGHT_WRITE);
    EXPECT_EQ(vmo_info(p).num_children, 3u);
    zx_handle_close(low);
    zx_handle_close(snap);
    EXPECT_EQ(vmo_info(p).num_children, 1u);
    zx_handle_close(slice);
    EXPECT_EQ(vmo_info(p).num_children, 0u);
    EXPECT_OK(zx_handle_close(p));
}

TEST(VmoChildTree, PagesFreedWithLastRelative) {
    /* Commit this program's own buffers first so that they do not count below. */
    memset(buf_a, 0, sizeof(buf_a));
    memset(buf_b, 0, sizeof(buf_b));
    uint64_t before = tu_kmem_free(beryl_resource());
    zx_handle_t p, c;
    ASSERT_OK(make_filled(3, 0xE0, 0, &p));
    ASSERT_OK(zx_vmo_create_child(p, ZX_VMO_CHILD_SNAPSHOT, 0, 3 * P, &c));
    memset(buf_a, 0xE9, sizeof(buf_a));
    ASSERT_OK(zx_vmo_write(c, buf_a, 0, 3 * P)); /* three private copies */
    ASSERT_OK(zx_vmo_write(p, buf_a, 0, P));
    EXPECT_LE(tu_kmem_free(beryl_resource()) + 6 * P, before);
    EXPECT_OK(zx_handle_close(p));
    EXPECT_TRUE(vmo_bytes(c, 0, 3 * P, 0xE9));
    EXPECT_OK(zx_handle_close(c));
    /* Everything is returned (slack for kernel bookkeeping pages such as page tables). */
    EXPECT_GE(tu_kmem_free(beryl_resource()) + 2 * P, before);
}
