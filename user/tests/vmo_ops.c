/*
 * VMO syscalls beyond create/read/write/size (docs/syscalls.md, with its decisions):
 * zx_vmo_op_range, ZX_INFO_VMO, ZX_PROP_NAME, rights on reduced duplicates,
 * zx_vmo_replace_as_executable and zx_vmo_set_cache_policy.
 */
#include "vmo_util.h"

static uint8_t buf_a[3 * 4096];
static uint8_t buf_b[3 * 4096];

/* ---- zx_vmo_op_range ------------------------------------------------------------------ */

static zx_status_t op(zx_handle_t h, uint32_t o, uint64_t offset, uint64_t size) {
    return zx_vmo_op_range(h, o, offset, size, NULL, 0);
}

TEST(VmoOp, CommitRaisesCommittedBytes) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(4 * P, 0, &vmo));
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 0u);
    uint64_t before = tu_kmem_free(beryl_resource());
    EXPECT_OK(op(vmo, ZX_VMO_OP_COMMIT, 0, 2 * P));
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 2 * P);
    EXPECT_LE(tu_kmem_free(beryl_resource()) + 2 * P, before);
    /* A byte range commits every page it touches; committed pages stay committed. */
    EXPECT_OK(op(vmo, ZX_VMO_OP_COMMIT, P + 100, 2 * P));
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 4 * P);
    EXPECT_OK(op(vmo, ZX_VMO_OP_COMMIT, 0, 4 * P));
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 4 * P);
    /* Committed pages read as zeros. */
    EXPECT_OK(zx_vmo_read(vmo, buf_a, 0, 3 * P));
    EXPECT_TRUE(all_bytes(buf_a, 3 * P, 0));
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoOp, CommitErrors) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &vmo));
    EXPECT_STATUS(op(vmo, ZX_VMO_OP_COMMIT, 0, 3 * P), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(op(vmo, ZX_VMO_OP_COMMIT, 2 * P, 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(op(vmo, ZX_VMO_OP_COMMIT, P, UINT64_MAX - 10), ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 0u);
    zx_handle_t ro = tu_dup(vmo, VMO_RIGHTS & ~ZX_RIGHT_WRITE);
    EXPECT_STATUS(op(ro, ZX_VMO_OP_COMMIT, 0, P), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(op(ro, ZX_VMO_OP_COMMIT, 0, 3 * P), ZX_ERR_ACCESS_DENIED); /* rights first */
    zx_handle_close(ro);
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 0u);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoOp, DecommitFreesPagesAndReadsZero) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(4 * P, 0, &vmo));
    memset(buf_a, 0x3C, sizeof(buf_a));
    ASSERT_OK(zx_vmo_write(vmo, buf_a, 0, 3 * P));
    ASSERT_OK(zx_vmo_write(vmo, buf_a, 3 * P, P));
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 4 * P);
    uint64_t before = tu_kmem_free(beryl_resource());
    EXPECT_OK(op(vmo, ZX_VMO_OP_DECOMMIT, P, 2 * P));
    EXPECT_GE(tu_kmem_free(beryl_resource()), before + 2 * P);
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 2 * P);
    EXPECT_OK(zx_vmo_read(vmo, buf_b, 0, 3 * P));
    EXPECT_TRUE(all_bytes(buf_b, P, 0x3C));
    EXPECT_TRUE(all_bytes(buf_b + P, 2 * P, 0));
    /* A decommit of nothing committed is fine. */
    EXPECT_OK(op(vmo, ZX_VMO_OP_DECOMMIT, P, 2 * P));
    EXPECT_OK(op(vmo, ZX_VMO_OP_DECOMMIT, 0, 4 * P));
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 0u);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoOp, DecommitSeenThroughMapping) {
    zx_handle_t vmo;
    zx_vaddr_t addr = tu_map_new(2 * P, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, &vmo);
    ASSERT_NE(addr, 0u);
    memset((void *)addr, 0x42, 2 * P);
    EXPECT_OK(op(vmo, ZX_VMO_OP_DECOMMIT, 0, P));
    EXPECT_TRUE(all_bytes((const void *)addr, P, 0));
    EXPECT_TRUE(all_bytes((const void *)(addr + P), P, 0x42));
    /* The mapping commits a fresh page on the next write. */
    ((volatile uint8_t *)addr)[5] = 1;
    uint8_t r = 0;
    EXPECT_OK(zx_vmo_read(vmo, &r, 5, 1));
    EXPECT_EQ(r, 1u);
    zx_vmar_unmap(zx_vmar_root_self(), addr, 2 * P);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoOp, DecommitErrors) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &vmo));
    /* An unaligned offset is refused even with nothing committed... */
    EXPECT_STATUS(op(vmo, ZX_VMO_OP_DECOMMIT, 1, P), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(op(vmo, ZX_VMO_OP_DECOMMIT, P + 8, 8), ZX_ERR_INVALID_ARGS);
    /* ...but the range is checked first. */
    EXPECT_STATUS(op(vmo, ZX_VMO_OP_DECOMMIT, 2 * P + 1, P), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(op(vmo, ZX_VMO_OP_DECOMMIT, 0, 3 * P), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(op(vmo, ZX_VMO_OP_DECOMMIT, P, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
    zx_handle_t ro = tu_dup(vmo, VMO_RIGHTS & ~ZX_RIGHT_WRITE);
    EXPECT_STATUS(op(ro, ZX_VMO_OP_DECOMMIT, 0, P), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(op(ro, ZX_VMO_OP_DECOMMIT, 1, 3 * P), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(ro);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoOp, ZeroIsByteGranular) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(3 * P, 0, &vmo));
    memset(buf_a, 0xEE, sizeof(buf_a));
    ASSERT_OK(zx_vmo_write(vmo, buf_a, 0, 3 * P));
    EXPECT_OK(op(vmo, ZX_VMO_OP_ZERO, 100, 5000));
    EXPECT_OK(zx_vmo_read(vmo, buf_b, 0, 3 * P));
    EXPECT_TRUE(all_bytes(buf_b, 100, 0xEE));
    EXPECT_TRUE(all_bytes(buf_b + 100, 5000, 0));
    EXPECT_TRUE(all_bytes(buf_b + 5100, 3 * P - 5100, 0xEE));
    /* Whole pages, and a zero-length no-op. */
    EXPECT_OK(op(vmo, ZX_VMO_OP_ZERO, 2 * P, P));
    EXPECT_OK(op(vmo, ZX_VMO_OP_ZERO, 7, 0));
    EXPECT_OK(zx_vmo_read(vmo, buf_b, 0, 3 * P));
    EXPECT_TRUE(all_bytes(buf_b, 100, 0xEE));
    EXPECT_TRUE(all_bytes(buf_b + 5100, 2 * P - 5100, 0xEE));
    EXPECT_TRUE(all_bytes(buf_b + 2 * P, P, 0));
    EXPECT_STATUS(op(vmo, ZX_VMO_OP_ZERO, 2 * P, P + 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(op(vmo, ZX_VMO_OP_ZERO, 1, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
    zx_handle_t ro = tu_dup(vmo, VMO_RIGHTS & ~ZX_RIGHT_WRITE);
    EXPECT_STATUS(op(ro, ZX_VMO_OP_ZERO, 0, 10), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(ro);
    EXPECT_OK(zx_vmo_read(vmo, buf_b, 0, 10));
    EXPECT_TRUE(all_bytes(buf_b, 10, 0xEE));
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoOp, LockOpsNeedADiscardableVmo) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    zx_handle_t ro = tu_dup(vmo, ZX_RIGHT_READ);
    zx_handle_t wo = tu_dup(vmo, ZX_RIGHT_WRITE);
    zx_handle_t none = tu_dup(vmo, VMO_RIGHTS & ~ZX_RIGHTS_IO);
    static const uint32_t ops[] = {ZX_VMO_OP_LOCK, ZX_VMO_OP_TRY_LOCK, ZX_VMO_OP_UNLOCK};
    zx_vmo_lock_state_t state;
    for (size_t i = 0; i < 3; i++) {
        /* READ or WRITE is enough for the rights check; then the VMO is not discardable. */
        EXPECT_STATUS(zx_vmo_op_range(vmo, ops[i], 0, P, &state, sizeof(state)),
                      ZX_ERR_NOT_SUPPORTED);
        EXPECT_STATUS(zx_vmo_op_range(ro, ops[i], 0, P, &state, sizeof(state)),
                      ZX_ERR_NOT_SUPPORTED);
        EXPECT_STATUS(zx_vmo_op_range(wo, ops[i], 0, P, &state, sizeof(state)),
                      ZX_ERR_NOT_SUPPORTED);
        EXPECT_STATUS(zx_vmo_op_range(none, ops[i], 0, P, &state, sizeof(state)),
                      ZX_ERR_ACCESS_DENIED);
    }
    zx_handle_close(ro);
    zx_handle_close(wo);
    zx_handle_close(none);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoOp, CacheOps) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &vmo));
    zx_handle_t ro = tu_dup(vmo, ZX_RIGHT_READ);
    zx_handle_t wo = tu_dup(vmo, ZX_RIGHT_WRITE);
    static const uint32_t ops[] = {ZX_VMO_OP_CACHE_SYNC, ZX_VMO_OP_CACHE_CLEAN,
                                   ZX_VMO_OP_CACHE_CLEAN_INVALIDATE};
    for (size_t i = 0; i < 3; i++) {
        EXPECT_OK(op(vmo, ops[i], 0, 2 * P));
        EXPECT_OK(op(ro, ops[i], 13, 77)); /* byte granular */
        EXPECT_STATUS(op(wo, ops[i], 0, P), ZX_ERR_ACCESS_DENIED);
        EXPECT_STATUS(op(vmo, ops[i], 0, 0), ZX_ERR_INVALID_ARGS);
        EXPECT_STATUS(op(vmo, ops[i], P, 2 * P), ZX_ERR_OUT_OF_RANGE);
        EXPECT_STATUS(op(vmo, ops[i], 1, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
    }
    /* CACHE_INVALIDATE needs WRITE, then the debugging-syscalls option Beryl lacks. */
    EXPECT_STATUS(op(ro, ZX_VMO_OP_CACHE_INVALIDATE, 0, P), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(op(wo, ZX_VMO_OP_CACHE_INVALIDATE, 0, P), ZX_ERR_NOT_SUPPORTED);
    zx_handle_close(ro);
    zx_handle_close(wo);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoOp, Hints) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &vmo));
    uint32_t v = 0x600DF00D;
    ASSERT_OK(zx_vmo_write(vmo, &v, P + 8, 4));
    zx_handle_t none = tu_dup(vmo, ZX_RIGHT_NONE);
    ASSERT_NE(none, ZX_HANDLE_INVALID);
    EXPECT_OK(op(none, ZX_VMO_OP_DONT_NEED, 0, 2 * P)); /* hints need no right */
    EXPECT_OK(op(none, ZX_VMO_OP_ALWAYS_NEED, 3, 5));
    EXPECT_STATUS(op(none, ZX_VMO_OP_DONT_NEED, P, 2 * P), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(op(none, ZX_VMO_OP_ALWAYS_NEED, 2 * P + 1, 0), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(op(vmo, ZX_VMO_OP_DONT_NEED, 1, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
    /* PREFETCH needs READ; size 0 and unaligned ranges are fine. */
    EXPECT_STATUS(op(none, ZX_VMO_OP_PREFETCH, 0, P), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(op(vmo, ZX_VMO_OP_PREFETCH, 0, 0));
    EXPECT_OK(op(vmo, ZX_VMO_OP_PREFETCH, 17, P));
    EXPECT_STATUS(op(vmo, ZX_VMO_OP_PREFETCH, P, P + 1), ZX_ERR_OUT_OF_RANGE);
    uint32_t r = 0;
    EXPECT_OK(zx_vmo_read(vmo, &r, P + 8, 4)); /* hints keep the content */
    EXPECT_EQ(r, v);
    zx_handle_close(none);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoOp, UnknownOpAndHandleErrors) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    zx_handle_t none = tu_dup(vmo, ZX_RIGHT_NONE);
    static const uint32_t bad[] = {0u, 5u, 15u, 100u, UINT32_MAX};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_STATUS(op(vmo, bad[i], 0, P), ZX_ERR_INVALID_ARGS);
        EXPECT_STATUS(op(none, bad[i], 0, P), ZX_ERR_INVALID_ARGS); /* before rights */
    }
    EXPECT_STATUS(op(zx_vmar_root_self(), ZX_VMO_OP_COMMIT, 0, P), ZX_ERR_WRONG_TYPE);
    zx_handle_close(none);
    EXPECT_OK(zx_handle_close(vmo));
    EXPECT_STATUS(op(vmo, ZX_VMO_OP_COMMIT, 0, P), ZX_ERR_BAD_HANDLE);
}

/* ---- ZX_INFO_VMO and ZX_PROP_NAME ---------------------------------------------------- */

TEST(VmoInfo, Fields) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(3 * P - 1, 0, &vmo));
    zx_info_vmo_t info;
    size_t actual = 0, avail = 0;
    ASSERT_OK(zx_object_get_info(vmo, ZX_INFO_VMO, &info, sizeof(info), &actual, &avail));
    EXPECT_EQ(actual, 1u);
    EXPECT_EQ(avail, 1u);
    EXPECT_EQ(info.koid, tu_basic(vmo).koid);
    EXPECT_GE(info.koid, 1024u);
    EXPECT_EQ(info.size_bytes, 3 * P);
    EXPECT_EQ(info.parent_koid, 0u);
    EXPECT_EQ(info.num_children, 0u);
    EXPECT_EQ(info.num_mappings, 0u);
    EXPECT_EQ(info.flags, ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE);
    EXPECT_EQ(info.committed_bytes, 0u);
    EXPECT_EQ(info.handle_rights, VMO_RIGHTS);
    EXPECT_EQ(info.cache_policy, ZX_CACHE_POLICY_CACHED);
    EXPECT_EQ(info.name[0], 0);
    EXPECT_OK(zx_handle_close(vmo));
    ASSERT_OK(zx_vmo_create(P, ZX_VMO_RESIZABLE, &vmo));
    info = vmo_info(vmo);
    EXPECT_EQ(info.flags, ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE | ZX_INFO_VMO_RESIZABLE);
    EXPECT_EQ(info.handle_rights, VMO_RESIZE_RIGHTS);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoInfo, HandleRightsAreTheHandles) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    zx_handle_t none = tu_dup(vmo, ZX_RIGHT_NONE);
    zx_handle_t some = tu_dup(vmo, ZX_RIGHT_READ | ZX_RIGHT_MAP);
    zx_info_vmo_t a = vmo_info(none), b = vmo_info(some);
    EXPECT_EQ(a.koid, tu_basic(vmo).koid); /* ZX_INFO_VMO needs no right */
    EXPECT_EQ(a.handle_rights, 0u);
    EXPECT_EQ(b.koid, a.koid);
    EXPECT_EQ(b.handle_rights, ZX_RIGHT_READ | ZX_RIGHT_MAP);
    zx_handle_close(none);
    zx_handle_close(some);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoInfo, NumMappings) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &vmo));
    zx_vaddr_t a1, a2;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, vmo, 0, 2 * P, &a1));
    zx_info_vmo_t info = vmo_info(vmo);
    EXPECT_EQ(info.num_mappings, 1u);
    EXPECT_EQ(info.share_count, 1u);
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, vmo, P, P, &a2));
    EXPECT_EQ(vmo_info(vmo).num_mappings, 2u);
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), a1, 2 * P));
    EXPECT_EQ(vmo_info(vmo).num_mappings, 1u);
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), a2, P));
    info = vmo_info(vmo);
    EXPECT_EQ(info.num_mappings, 0u);
    EXPECT_EQ(info.share_count, 0u);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoInfo, Errors) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    zx_info_vmo_t info;
    size_t actual = 99;
    EXPECT_STATUS(zx_object_get_info(vmo, ZX_INFO_VMO, &info, sizeof(info) - 1, &actual, NULL),
                  ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_STATUS(zx_object_get_info(vmo, ZX_INFO_VMO, NULL, 0, NULL, NULL),
                  ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_STATUS(zx_object_get_info(vmo, ZX_INFO_VMO, KERNEL_PTR, sizeof(info), NULL, NULL),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_object_get_info(zx_vmar_root_self(), ZX_INFO_VMO, &info, sizeof(info),
                                     NULL, NULL),
                  ZX_ERR_WRONG_TYPE);
    EXPECT_OK(zx_handle_close(vmo));
    EXPECT_STATUS(zx_object_get_info(vmo, ZX_INFO_VMO, &info, sizeof(info), NULL, NULL),
                  ZX_ERR_BAD_HANDLE);
}

TEST(VmoName, SetGetTruncate) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    char name[ZX_MAX_NAME_LEN];
    memset(name, 'x', sizeof(name));
    ASSERT_OK(zx_object_get_property(vmo, ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_STR_EQ(name, "");
    ASSERT_OK(zx_object_set_property(vmo, ZX_PROP_NAME, "heap-arena", 10));
    ASSERT_OK(zx_object_get_property(vmo, ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_STR_EQ(name, "heap-arena");
    EXPECT_STR_EQ(vmo_info(vmo).name, "heap-arena");
    /* A 40-character name keeps its first 31 characters. */
    const char *long_name = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
    ASSERT_OK(zx_object_set_property(vmo, ZX_PROP_NAME, long_name, strlen(long_name)));
    ASSERT_OK(zx_object_get_property(vmo, ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_STR_EQ(name, "0123456789abcdefghijklmnopqrstu");
    EXPECT_EQ(strlen(name), (size_t)ZX_MAX_NAME_LEN - 1);
    /* Only value_size bytes are taken. */
    ASSERT_OK(zx_object_set_property(vmo, ZX_PROP_NAME, "abcdef", 3));
    ASSERT_OK(zx_object_get_property(vmo, ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_STR_EQ(name, "abc");
    EXPECT_STATUS(zx_object_get_property(vmo, ZX_PROP_NAME, name, ZX_MAX_NAME_LEN - 1),
                  ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoName, Rights) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    ASSERT_OK(zx_object_set_property(vmo, ZX_PROP_NAME, "keep", 4));
    zx_handle_t get_only = tu_dup(vmo, ZX_RIGHT_GET_PROPERTY);
    zx_handle_t set_only = tu_dup(vmo, ZX_RIGHT_SET_PROPERTY);
    char name[ZX_MAX_NAME_LEN];
    EXPECT_STATUS(zx_object_set_property(get_only, ZX_PROP_NAME, "nope", 4), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_object_get_property(set_only, ZX_PROP_NAME, name, sizeof(name)),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_object_get_property(get_only, ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_STR_EQ(name, "keep");
    /* The name belongs to the object: seen through every handle. */
    EXPECT_OK(zx_object_set_property(set_only, ZX_PROP_NAME, "new", 3));
    EXPECT_OK(zx_object_get_property(get_only, ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_STR_EQ(name, "new");
    zx_handle_close(get_only);
    zx_handle_close(set_only);
    EXPECT_OK(zx_handle_close(vmo));
}

/* ---- Rights on duplicates ------------------------------------------------------------- */

TEST(VmoHandle, ReducedRightsDenied) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, ZX_VMO_RESIZABLE, &vmo));
    zx_handle_t h = tu_dup(vmo, ZX_RIGHTS_BASIC); /* no READ/WRITE/MAP/PROPERTY/RESIZE */
    ASSERT_NE(h, ZX_HANDLE_INVALID);
    EXPECT_EQ(tu_rights(h), (zx_rights_t)ZX_RIGHTS_BASIC);
    uint8_t b = 0;
    char name[ZX_MAX_NAME_LEN];
    zx_handle_t out;
    zx_vaddr_t addr;
    EXPECT_STATUS(zx_vmo_read(h, &b, 0, 1), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmo_write(h, &b, 0, 1), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmo_set_size(h, 2 * P), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(op(h, ZX_VMO_OP_COMMIT, 0, P), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(op(h, ZX_VMO_OP_CACHE_SYNC, 0, P), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmo_create_child(h, ZX_VMO_CHILD_SNAPSHOT, 0, P, &out), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmo_create_child(h, ZX_VMO_CHILD_SLICE, 0, P, &out), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_object_get_property(h, ZX_PROP_NAME, name, sizeof(name)),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_object_set_property(h, ZX_PROP_NAME, "x", 1), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmo_set_cache_policy(h, ZX_CACHE_POLICY_CACHED), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, h, 0, P, &addr),
                  ZX_ERR_ACCESS_DENIED);
    /* Rights-free operations still work. */
    uint64_t size;
    EXPECT_OK(zx_vmo_get_size(h, &size));
    EXPECT_EQ(vmo_info(h).handle_rights, (zx_rights_t)ZX_RIGHTS_BASIC);
    EXPECT_OK(op(h, ZX_VMO_OP_DONT_NEED, 0, P));
    EXPECT_EQ(vmo_size(vmo), P);
    zx_handle_close(h);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoHandle, RightsCannotGrow) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    zx_handle_t ro = tu_dup(vmo, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
    ASSERT_NE(ro, ZX_HANDLE_INVALID);
    zx_handle_t out = ZX_HANDLE_INVALID;
    EXPECT_STATUS(zx_handle_duplicate(ro, ZX_RIGHT_READ | ZX_RIGHT_WRITE, &out),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_handle_duplicate(vmo, ZX_RIGHT_RESIZE, &out), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_handle_duplicate(vmo, ZX_RIGHT_EXECUTE, &out), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(out, ZX_HANDLE_INVALID);
    ASSERT_OK(zx_handle_duplicate(ro, ZX_RIGHT_SAME_RIGHTS, &out));
    EXPECT_EQ(tu_rights(out), ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
    zx_handle_close(out);
    /* replace with more rights fails and still consumes its input. */
    out = ZX_HANDLE_INVALID;
    EXPECT_STATUS(zx_handle_replace(ro, ZX_RIGHT_READ | ZX_RIGHT_MAP, &out), ZX_ERR_INVALID_ARGS);
    EXPECT_FALSE(tu_handle_valid(ro));
    EXPECT_EQ(out, ZX_HANDLE_INVALID);
    EXPECT_OK(zx_handle_close(vmo));
}

/* ---- zx_vmo_replace_as_executable ---------------------------------------------------- */

TEST(VmoExec, AddsExecuteConsumesInput) {
    zx_handle_t vmo, keep, exec = ZX_HANDLE_INVALID;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    keep = tu_dup(vmo, ZX_RIGHT_SAME_RIGHTS);
    uint32_t v = 0xC3C3C3C3;
    ASSERT_OK(zx_vmo_write(vmo, &v, 0, 4));
    ASSERT_OK(zx_vmo_replace_as_executable(vmo, ZX_HANDLE_INVALID, &exec));
    EXPECT_FALSE(tu_handle_valid(vmo));
    EXPECT_EQ(tu_rights(exec), VMO_RIGHTS | ZX_RIGHT_EXECUTE);
    EXPECT_EQ(tu_basic(exec).koid, tu_basic(keep).koid); /* the same object */
    uint32_t r = 0;
    EXPECT_OK(zx_vmo_read(exec, &r, 0, 4));
    EXPECT_EQ(r, v);
    EXPECT_EQ(tu_rights(keep), VMO_RIGHTS); /* other handles are unchanged */
    zx_vaddr_t addr;
    EXPECT_STATUS(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE, 0, keep,
                              0, P, &addr),
                  ZX_ERR_ACCESS_DENIED);
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE, 0, exec, 0, P,
                          &addr));
    EXPECT_EQ(*(volatile uint32_t *)addr, v);
    zx_vmar_unmap(zx_vmar_root_self(), addr, P);
    zx_handle_close(exec);
    zx_handle_close(keep);
}

TEST(VmoExec, KeepsReducedRights) {
    zx_handle_t vmo, exec;
    ASSERT_OK(zx_vmo_create(P, ZX_VMO_RESIZABLE, &vmo));
    zx_handle_t h = tu_dup(vmo, ZX_RIGHT_READ | ZX_RIGHT_MAP | ZX_RIGHT_RESIZE);
    ASSERT_OK(zx_vmo_replace_as_executable(h, ZX_HANDLE_INVALID, &exec));
    EXPECT_EQ(tu_rights(exec), ZX_RIGHT_READ | ZX_RIGHT_MAP | ZX_RIGHT_RESIZE | ZX_RIGHT_EXECUTE);
    zx_handle_close(exec);
    /* With the root resource as vmex (any resource is accepted: decisions.md). */
    h = tu_dup(vmo, ZX_RIGHT_READ);
    ASSERT_OK(zx_vmo_replace_as_executable(h, beryl_resource(), &exec));
    EXPECT_EQ(tu_rights(exec), ZX_RIGHT_READ | ZX_RIGHT_EXECUTE);
    EXPECT_TRUE(tu_handle_valid(beryl_resource())); /* vmex is not consumed */
    zx_handle_close(exec);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoExec, Errors) {
    zx_handle_t vmo, h, out = ZX_HANDLE_INVALID;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    /* A bad vmex: the input is consumed all the same. */
    h = tu_dup(vmo, ZX_RIGHT_SAME_RIGHTS);
    EXPECT_STATUS(zx_vmo_replace_as_executable(h, (zx_handle_t)0x7ffffff3u, &out),
                  ZX_ERR_BAD_HANDLE);
    EXPECT_FALSE(tu_handle_valid(h));
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    h = tu_dup(vmo, ZX_RIGHT_SAME_RIGHTS);
    EXPECT_STATUS(zx_vmo_replace_as_executable(h, c0, &out), ZX_ERR_WRONG_TYPE);
    EXPECT_FALSE(tu_handle_valid(h));
    EXPECT_TRUE(tu_handle_valid(c0));
    /* Not a VMO: consumed too. */
    EXPECT_STATUS(zx_vmo_replace_as_executable(c1, ZX_HANDLE_INVALID, &out), ZX_ERR_WRONG_TYPE);
    EXPECT_FALSE(tu_handle_valid(c1));
    EXPECT_STATUS(zx_vmo_replace_as_executable(ZX_HANDLE_INVALID, ZX_HANDLE_INVALID, &out),
                  ZX_ERR_BAD_HANDLE);
    /* A bad out pointer: INVALID_ARGS, input gone, no executable handle left behind. */
    h = tu_dup(vmo, ZX_RIGHT_SAME_RIGHTS);
    EXPECT_STATUS(zx_vmo_replace_as_executable(h, ZX_HANDLE_INVALID, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_FALSE(tu_handle_valid(h));
    h = tu_dup(vmo, ZX_RIGHT_SAME_RIGHTS);
    EXPECT_STATUS(zx_vmo_replace_as_executable(h, ZX_HANDLE_INVALID, (zx_handle_t *)KERNEL_PTR),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_FALSE(tu_handle_valid(h));
    EXPECT_EQ(out, ZX_HANDLE_INVALID);
    zx_handle_close(c0);
    EXPECT_OK(zx_handle_close(vmo));
}

/* ---- zx_vmo_set_cache_policy --------------------------------------------------------- */

TEST(VmoCache, Rights) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    zx_handle_t h = tu_dup(vmo, VMO_RIGHTS & ~ZX_RIGHT_MAP);
    EXPECT_STATUS(zx_vmo_set_cache_policy(h, ZX_CACHE_POLICY_UNCACHED), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmo_set_cache_policy(h, 0x100), ZX_ERR_ACCESS_DENIED); /* rights first */
    zx_handle_close(h);
    EXPECT_STATUS(zx_vmo_set_cache_policy(zx_vmar_root_self(), 0), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_vmo_set_cache_policy(ZX_HANDLE_INVALID, 0), ZX_ERR_BAD_HANDLE);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoCache, InvalidPolicyBits) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    static const uint32_t bad[] = {4u, 5u, 0x100u, 1u << 31, UINT32_MAX};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT_STATUS(zx_vmo_set_cache_policy(vmo, bad[i]), ZX_ERR_INVALID_ARGS);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoCache, PagedNotSupported) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    /* decisions.md: only physical VMOs change policy in Beryl. */
    for (uint32_t p = ZX_CACHE_POLICY_CACHED; p <= ZX_CACHE_POLICY_WRITE_COMBINING; p++)
        EXPECT_STATUS(zx_vmo_set_cache_policy(vmo, p), ZX_ERR_NOT_SUPPORTED);
    EXPECT_EQ(vmo_info(vmo).cache_policy, ZX_CACHE_POLICY_CACHED);
    uint8_t b = 4;
    EXPECT_OK(zx_vmo_write(vmo, &b, 0, 1)); /* still an ordinary cached VMO */
    EXPECT_OK(zx_handle_close(vmo));
}
