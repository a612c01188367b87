/*
 * VMO syscalls on one VMO, part 1 (docs/syscalls.md; Beryl's choices from
 * syscall-abi/decisions.md): zx_vmo_create, zx_vmo_read / zx_vmo_write,
 * zx_vmo_get_size / zx_vmo_set_size and ZX_PROP_VMO_CONTENT_SIZE. The other VMO calls are
 * in vmo_ops.c, children in vmo_child.c.
 */
#include "vmo_util.h"

static uint8_t buf_a[3 * 4096];
static uint8_t buf_b[3 * 4096];

/* ---- zx_vmo_create --------------------------------------------------------------------- */

TEST(VmoCreate, ZeroSize) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(0, 0, &vmo));
    EXPECT_EQ(vmo_size(vmo), 0u);
    EXPECT_EQ(content_size(vmo), 0u);
    uint8_t b = 0;
    EXPECT_OK(zx_vmo_read(vmo, &b, 0, 0));
    EXPECT_STATUS(zx_vmo_read(vmo, &b, 0, 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_write(vmo, &b, 0, 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoCreate, SizesRoundUpContentSizeExact) {
    static const uint64_t sizes[] = {1, P - 1, P, P + 1, 3 * P - 7};
    static const uint64_t rounded[] = {P, P, P, 2 * P, 3 * P};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        zx_handle_t vmo;
        ASSERT_OK(zx_vmo_create(sizes[i], 0, &vmo));
        EXPECT_EQ(vmo_size(vmo), rounded[i]);
        EXPECT_EQ(vmo_info(vmo).size_bytes, rounded[i]);
        EXPECT_EQ(content_size(vmo), sizes[i]);
        /* The rounded size is usable: the last byte of the last page. */
        uint8_t b = 1;
        EXPECT_OK(zx_vmo_write(vmo, &b, rounded[i] - 1, 1));
        EXPECT_STATUS(zx_vmo_write(vmo, &b, rounded[i], 1), ZX_ERR_OUT_OF_RANGE);
        EXPECT_OK(zx_handle_close(vmo));
    }
}

TEST(VmoCreate, HugeIsLazy) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(1ull << 52, 0, &vmo));
    EXPECT_EQ(vmo_size(vmo), 1ull << 52);
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 0u);
    uint32_t v = 0x12345678, r = 0;
    EXPECT_OK(zx_vmo_write(vmo, &v, (1ull << 52) - 4, 4));
    EXPECT_OK(zx_vmo_read(vmo, &r, (1ull << 52) - 4, 4));
    EXPECT_EQ(r, v);
    EXPECT_EQ(vmo_info(vmo).committed_bytes, P);
    EXPECT_OK(zx_handle_close(vmo));
    /* Beryl's limit (decisions.md) is itself a valid size. */
    ASSERT_OK(zx_vmo_create(BERYL_VMO_SIZE_MAX, 0, &vmo));
    EXPECT_EQ(vmo_size(vmo), BERYL_VMO_SIZE_MAX);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoCreate, TooLargeOutOfRange) {
    zx_handle_t vmo = ZX_HANDLE_INVALID;
    EXPECT_STATUS(zx_vmo_create(UINT64_MAX, 0, &vmo), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_create(UINT64_MAX, ZX_VMO_RESIZABLE, &vmo), ZX_ERR_OUT_OF_RANGE);
    /* Rounds up to exactly 2^64: the rounding overflows. */
    EXPECT_STATUS(zx_vmo_create(UINT64_MAX - P + 2, 0, &vmo), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_create(BERYL_VMO_SIZE_MAX + 1, 0, &vmo), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_create(UINT64_MAX, ZX_VMO_UNBOUNDED, &vmo), ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(vmo, ZX_HANDLE_INVALID);
}

TEST(VmoCreate, BadOptions) {
    zx_handle_t vmo = ZX_HANDLE_INVALID;
    static const uint32_t bad[] = {1u, 1u << 5, 1u << 8, 1u << 31, ZX_VMO_TRAP_DIRTY,
                                   ZX_VMO_UNBOUNDED | ZX_VMO_RESIZABLE};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_STATUS(zx_vmo_create(P, bad[i], &vmo), ZX_ERR_INVALID_ARGS);
        /* Options are checked before the size. */
        EXPECT_STATUS(zx_vmo_create(UINT64_MAX, bad[i], &vmo), ZX_ERR_INVALID_ARGS);
    }
    /* A discardable VMO keeps its size (vmo_discardable.c has the rest). */
    EXPECT_STATUS(zx_vmo_create(P, ZX_VMO_DISCARDABLE | ZX_VMO_RESIZABLE, &vmo),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_EQ(vmo, ZX_HANDLE_INVALID);
}

TEST(VmoCreate, DefaultRights) {
    zx_handle_t vmo, rvmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    ASSERT_OK(zx_vmo_create(P, ZX_VMO_RESIZABLE, &rvmo));
    zx_info_handle_basic_t b = tu_basic(vmo);
    EXPECT_EQ(b.type, (uint32_t)ZX_OBJ_TYPE_VMO);
    EXPECT_EQ(b.rights, VMO_RIGHTS);
    EXPECT_EQ(b.rights, (zx_rights_t)ZX_DEFAULT_VMO_RIGHTS);
    EXPECT_EQ(tu_rights(rvmo), VMO_RESIZE_RIGHTS);
    EXPECT_EQ(vmo_info(vmo).flags & ZX_INFO_VMO_RESIZABLE, 0u);
    EXPECT_NE(vmo_info(rvmo).flags & ZX_INFO_VMO_RESIZABLE, 0u);
    EXPECT_NE(b.koid, tu_basic(rvmo).koid);
    EXPECT_OK(zx_handle_close(vmo));
    EXPECT_OK(zx_handle_close(rvmo));
}

TEST(VmoCreate, Unbounded) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(5000, ZX_VMO_UNBOUNDED, &vmo));
    EXPECT_EQ(vmo_size(vmo), BERYL_VMO_SIZE_MAX);
    EXPECT_EQ(content_size(vmo), 5000u);
    EXPECT_EQ(tu_rights(vmo), VMO_RIGHTS); /* no RESIZE */
    EXPECT_STATUS(zx_vmo_set_size(vmo, P), ZX_ERR_UNAVAILABLE);
    uint8_t b = 7, r = 0;
    EXPECT_OK(zx_vmo_write(vmo, &b, 1ull << 40, 1));
    EXPECT_OK(zx_vmo_read(vmo, &r, 1ull << 40, 1));
    EXPECT_EQ(r, 7u);
    EXPECT_OK(zx_handle_close(vmo));
}

/* A page that was mapped and is unmapped again: a user address with nothing behind it
 * (0 if the map or the unmap failed). */
static zx_vaddr_t gone_page(void) {
    zx_vaddr_t a = tu_map_new(P, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, NULL);
    if (a && zx_vmar_unmap(zx_vmar_root_self(), a, P) != ZX_OK)
        return 0;
    return a;
}

TEST(VmoCreate, BadOutPointerLeavesNothing) {
    zx_handle_t ro_vmo;
    zx_vaddr_t ro = tu_map_new(P, ZX_VM_PERM_READ, &ro_vmo);
    ASSERT_NE(ro, 0u);
    zx_vaddr_t gone = gone_page();
    ASSERT_NE(gone, 0u);
    void *const bad[] = {NULL, KERNEL_PTR, NONCANON_PTR, (void *)gone, (void *)ro,
                         (void *)(ro + P - 2)};
    /* Warm up the handle table so that a slot reused below costs no new heap. */
    for (int i = 0; i < 16; i++) {
        zx_handle_t h;
        ASSERT_OK(zx_vmo_create(P, 0, &h));
        zx_handle_close(h);
    }
    uint64_t before = heap_used();
    for (int round = 0; round < 4; round++)
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            EXPECT_STATUS(zx_vmo_create(P, 0, (zx_handle_t *)bad[i]), ZX_ERR_INVALID_ARGS);
    /* 24 leaked VMOs would hold several KiB of kernel heap. */
    EXPECT_LT(heap_used(), before + 512);
    EXPECT_TRUE(all_bytes((const void *)ro, P, 0)); /* the read-only page was not written */
    zx_vmar_unmap(zx_vmar_root_self(), ro, P);
    zx_handle_close(ro_vmo);
}

TEST(VmoCreate, ZeroFilled) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(sizeof(buf_a), 0, &vmo));
    memset(buf_a, 0x5A, sizeof(buf_a));
    EXPECT_OK(zx_vmo_read(vmo, buf_a, 0, sizeof(buf_a)));
    EXPECT_TRUE(all_bytes(buf_a, sizeof(buf_a), 0));
    zx_vaddr_t addr;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, vmo, 0, sizeof(buf_a), &addr));
    EXPECT_TRUE(all_bytes((const void *)addr, sizeof(buf_a), 0));
    zx_vmar_unmap(zx_vmar_root_self(), addr, sizeof(buf_a));
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoCreate, ZeroChildrenAsserted) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    zx_signals_t obs = 0;
    EXPECT_OK(zx_object_wait_one(vmo, ZX_VMO_ZERO_CHILDREN, 0, &obs));
    EXPECT_EQ(obs & ZX_VMO_ZERO_CHILDREN, ZX_VMO_ZERO_CHILDREN);
    EXPECT_OK(zx_object_wait_one(vmo, ZX_VMO_ZERO_CHILDREN, ZX_TIME_INFINITE_PAST, NULL));
    EXPECT_OK(zx_handle_close(vmo));
}

/* ---- zx_vmo_read / zx_vmo_write ---------------------------------------------------- */

TEST(VmoRw, RoundTripAcrossPages) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(4 * P, 0, &vmo));
    for (size_t i = 0; i < sizeof(buf_a); i++)
        buf_a[i] = (uint8_t)(i * 7 + 3);
    size_t len = sizeof(buf_a) - 100;
    EXPECT_OK(zx_vmo_write(vmo, buf_a, 50, len));
    memset(buf_b, 0, sizeof(buf_b));
    EXPECT_OK(zx_vmo_read(vmo, buf_b, 50, len));
    EXPECT_EQ(memcmp(buf_a, buf_b, len), 0);
    /* A sub-range straddling the first page boundary, read at an odd offset. */
    EXPECT_OK(zx_vmo_read(vmo, buf_b, P - 13, 27));
    EXPECT_EQ(memcmp(buf_b, buf_a + (P - 13 - 50), 27), 0);
    /* Bytes outside what was written stay zero. */
    uint8_t edge[50];
    EXPECT_OK(zx_vmo_read(vmo, edge, 0, sizeof(edge)));
    EXPECT_TRUE(all_bytes(edge, sizeof(edge), 0));
    EXPECT_OK(zx_vmo_read(vmo, edge, 50 + len, sizeof(edge)));
    EXPECT_TRUE(all_bytes(edge, sizeof(edge), 0));
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoRw, UnalignedOffsets) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &vmo));
    uint8_t two[2] = {0x11, 0x22};
    EXPECT_OK(zx_vmo_write(vmo, two, P - 1, 2)); /* one byte on each page */
    uint8_t one = 0x33;
    EXPECT_OK(zx_vmo_write(vmo, &one, 3, 1));
    uint8_t r[8];
    EXPECT_OK(zx_vmo_read(vmo, r, P - 4, 8));
    static const uint8_t want[8] = {0, 0, 0, 0x11, 0x22, 0, 0, 0};
    EXPECT_EQ(memcmp(r, want, 8), 0);
    EXPECT_OK(zx_vmo_read(vmo, r, 1, 4));
    EXPECT_EQ(r[2], 0x33u);
    EXPECT_EQ(r[1] | r[0] | r[3], 0u);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoRw, MappingSharesContent) {
    zx_handle_t vmo;
    zx_vaddr_t addr = tu_map_new(2 * P, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, &vmo);
    ASSERT_NE(addr, 0u);
    volatile uint8_t *m = (volatile uint8_t *)addr;
    uint32_t v = 0xCAFEF00D;
    EXPECT_OK(zx_vmo_write(vmo, &v, P - 2, 4));
    EXPECT_EQ(m[P - 2], 0x0Du);
    EXPECT_EQ(m[P + 1], 0xCAu);
    m[100] = 0x77;
    uint8_t r = 0;
    EXPECT_OK(zx_vmo_read(vmo, &r, 100, 1));
    EXPECT_EQ(r, 0x77u);
    zx_vmar_unmap(zx_vmar_root_self(), addr, 2 * P);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoRw, Rights) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    zx_handle_t ro = tu_dup(vmo, ZX_RIGHT_READ);
    zx_handle_t wo = tu_dup(vmo, ZX_RIGHT_WRITE);
    ASSERT_NE(ro, ZX_HANDLE_INVALID);
    ASSERT_NE(wo, ZX_HANDLE_INVALID);
    uint8_t b = 9;
    EXPECT_OK(zx_vmo_write(wo, &b, 0, 1));
    EXPECT_STATUS(zx_vmo_read(wo, &b, 0, 1), ZX_ERR_ACCESS_DENIED);
    b = 0;
    EXPECT_OK(zx_vmo_read(ro, &b, 0, 1));
    EXPECT_EQ(b, 9u);
    EXPECT_STATUS(zx_vmo_write(ro, &b, 0, 1), ZX_ERR_ACCESS_DENIED);
    /* Rights come before the range and the buffer. */
    EXPECT_STATUS(zx_vmo_write(ro, NULL, 2 * P, 1), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmo_read(wo, NULL, 2 * P, 1), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(ro);
    zx_handle_close(wo);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoRw, WrongTypeBeforeRights) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    uint8_t b = 0;
    EXPECT_STATUS(zx_vmo_read(c0, &b, 0, 1), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_vmo_write(c0, &b, 0, 1), ZX_ERR_WRONG_TYPE);
    /* A VMAR handle with no rights at all: still WRONG_TYPE, not ACCESS_DENIED. */
    zx_handle_t vmar = tu_dup(zx_vmar_root_self(), ZX_RIGHT_NONE);
    ASSERT_NE(vmar, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_vmo_read(vmar, &b, 0, 1), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_vmo_write(vmar, &b, 0, 1), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_vmo_read(zx_process_self(), &b, 0, 1), ZX_ERR_WRONG_TYPE);
    zx_handle_close(vmar);
    zx_handle_close(c0);
    zx_handle_close(c1);
}

TEST(VmoRw, BadHandle) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    ASSERT_OK(zx_handle_close(vmo));
    uint8_t b = 0;
    EXPECT_STATUS(zx_vmo_read(vmo, &b, 0, 1), ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_vmo_write(vmo, &b, 0, 1), ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_vmo_read(ZX_HANDLE_INVALID, &b, 0, 1), ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_vmo_write(ZX_HANDLE_INVALID, &b, 0, 1), ZX_ERR_BAD_HANDLE);
}

/* zx_vmo_write with zx_vmo_read's signature, so one table of cases serves both. */
static zx_status_t write_rw(zx_handle_t h, void *buf, uint64_t offset, size_t len) {
    return zx_vmo_write(h, buf, offset, len);
}

TEST(VmoRw, Range) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &vmo));
    uint8_t *b = buf_a;
    for (int w = 0; w < 2; w++) {
        zx_status_t (*op)(zx_handle_t, void *, uint64_t, size_t) = w ? write_rw : zx_vmo_read;
        EXPECT_OK(op(vmo, b, 0, 2 * P));
        EXPECT_OK(op(vmo, b, 2 * P - 1, 1));
        EXPECT_STATUS(op(vmo, b, 2 * P, 1), ZX_ERR_OUT_OF_RANGE);
        EXPECT_STATUS(op(vmo, b, 2 * P - 100, 101), ZX_ERR_OUT_OF_RANGE);
        EXPECT_STATUS(op(vmo, b, 0, 2 * P + 1), ZX_ERR_OUT_OF_RANGE);
        /* offset + len wraps around. */
        EXPECT_STATUS(op(vmo, b, 16, UINT64_MAX - 8), ZX_ERR_OUT_OF_RANGE);
        EXPECT_STATUS(op(vmo, b, UINT64_MAX, 2), ZX_ERR_OUT_OF_RANGE);
        /* Zero length: fine at the end, not past it. */
        EXPECT_OK(op(vmo, b, 2 * P, 0));
        EXPECT_STATUS(op(vmo, b, 2 * P + 1, 0), ZX_ERR_OUT_OF_RANGE);
        EXPECT_STATUS(op(vmo, b, UINT64_MAX, 0), ZX_ERR_OUT_OF_RANGE);
        /* The range is checked before the buffer. */
        EXPECT_STATUS(op(vmo, NULL, 2 * P, 1), ZX_ERR_OUT_OF_RANGE);
        EXPECT_STATUS(op(vmo, KERNEL_PTR, P, 2 * P), ZX_ERR_OUT_OF_RANGE);
        /* A zero-length access does not touch the buffer. */
        EXPECT_OK(op(vmo, NULL, 0, 0));
    }
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoRw, BadBufferNotFound) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &vmo));
    uint32_t v = 0xAABBCCDD;
    ASSERT_OK(zx_vmo_write(vmo, &v, 0, 4));
    zx_handle_t ro_vmo;
    zx_vaddr_t ro = tu_map_new(P, ZX_VM_PERM_READ, &ro_vmo);
    ASSERT_NE(ro, 0u);
    zx_vaddr_t gone = gone_page();
    ASSERT_NE(gone, 0u);
    void *const bad[] = {NULL, KERNEL_PTR, NONCANON_PTR, (void *)gone, (void *)0x1000};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_STATUS(zx_vmo_read(vmo, bad[i], 0, 4), ZX_ERR_NOT_FOUND);
        EXPECT_STATUS(zx_vmo_write(vmo, bad[i], 0, 4), ZX_ERR_NOT_FOUND);
    }
    /* A read needs a writable buffer; a write may come from read-only memory. */
    EXPECT_STATUS(zx_vmo_read(vmo, (void *)ro, 0, 4), ZX_ERR_NOT_FOUND);
    EXPECT_TRUE(all_bytes((const void *)ro, P, 0));
    EXPECT_OK(zx_vmo_write(vmo, (const void *)ro, 0, 4));
    EXPECT_OK(zx_vmo_read(vmo, &v, 0, 4));
    EXPECT_EQ(v, 0u);
    zx_vmar_unmap(zx_vmar_root_self(), ro, P);
    zx_handle_close(ro_vmo);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoRw, BufferStraddlingMappingEnd) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    zx_vaddr_t addr = tu_map_new(2 * P, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, NULL);
    ASSERT_NE(addr, 0u);
    ASSERT_OK(zx_vmar_unmap(zx_vmar_root_self(), addr + P, P));
    void *edge = (void *)(addr + P - 16);
    EXPECT_OK(zx_vmo_read(vmo, edge, 0, 16));
    EXPECT_OK(zx_vmo_write(vmo, edge, 0, 16));
    EXPECT_STATUS(zx_vmo_read(vmo, edge, 0, 32), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(zx_vmo_write(vmo, edge, 0, 32), ZX_ERR_NOT_FOUND);
    /* A buffer that wraps the address space. */
    EXPECT_STATUS(zx_vmo_read(vmo, (void *)(UINTPTR_MAX - 7), 0, 16), ZX_ERR_NOT_FOUND);
    zx_vmar_unmap(zx_vmar_root_self(), addr, P);
    EXPECT_OK(zx_handle_close(vmo));
}

/* ---- zx_vmo_get_size / zx_vmo_set_size ------------------------------------------------ */

TEST(VmoSize, GetSizeErrors) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(3 * P, 0, &vmo));
    zx_handle_t none = tu_dup(vmo, ZX_RIGHT_NONE);
    ASSERT_NE(none, ZX_HANDLE_INVALID);
    uint64_t size = 0;
    EXPECT_OK(zx_vmo_get_size(none, &size)); /* no right needed */
    EXPECT_EQ(size, 3 * P);
    EXPECT_STATUS(zx_vmo_get_size(vmo, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_vmo_get_size(vmo, (uint64_t *)KERNEL_PTR), ZX_ERR_INVALID_ARGS);
    zx_handle_t ro_vmo;
    zx_vaddr_t ro = tu_map_new(P, ZX_VM_PERM_READ, &ro_vmo);
    ASSERT_NE(ro, 0u);
    EXPECT_STATUS(zx_vmo_get_size(vmo, (uint64_t *)ro), ZX_ERR_INVALID_ARGS);
    zx_vmar_unmap(zx_vmar_root_self(), ro, P);
    zx_handle_close(ro_vmo);
    EXPECT_STATUS(zx_vmo_get_size(zx_vmar_root_self(), &size), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_vmo_get_size(ZX_HANDLE_INVALID, &size), ZX_ERR_BAD_HANDLE);
    zx_handle_close(none);
    EXPECT_OK(zx_handle_close(vmo));
    EXPECT_STATUS(zx_vmo_get_size(vmo, &size), ZX_ERR_BAD_HANDLE);
}

TEST(VmoSize, NotResizableUnavailable) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &vmo));
    EXPECT_STATUS(zx_vmo_set_size(vmo, 4 * P), ZX_ERR_UNAVAILABLE);
    EXPECT_STATUS(zx_vmo_set_size(vmo, P), ZX_ERR_UNAVAILABLE);
    EXPECT_STATUS(zx_vmo_set_size(vmo, 2 * P), ZX_ERR_UNAVAILABLE);
    EXPECT_STATUS(zx_vmo_set_size(vmo, UINT64_MAX), ZX_ERR_UNAVAILABLE);
    EXPECT_EQ(vmo_size(vmo), 2 * P);
    EXPECT_STATUS(zx_vmo_set_size(zx_vmar_root_self(), P), ZX_ERR_WRONG_TYPE);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoSize, SetSizeRights) {
    zx_handle_t vmo, rvmo;
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    ASSERT_OK(zx_vmo_create(P, ZX_VMO_RESIZABLE, &rvmo));
    /* WRITE is checked first, even before "not resizable". */
    zx_handle_t h = tu_dup(vmo, VMO_RIGHTS & ~ZX_RIGHT_WRITE);
    EXPECT_STATUS(zx_vmo_set_size(h, 2 * P), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(h);
    h = tu_dup(rvmo, VMO_RESIZE_RIGHTS & ~ZX_RIGHT_WRITE);
    EXPECT_STATUS(zx_vmo_set_size(h, 2 * P), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(h);
    /* A resizable VMO through a handle without RESIZE. */
    h = tu_dup(rvmo, VMO_RIGHTS);
    ASSERT_NE(h, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_vmo_set_size(h, 2 * P), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_vmo_set_size(h, UINT64_MAX), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(h);
    EXPECT_EQ(vmo_size(rvmo), P);
    h = tu_dup(rvmo, ZX_RIGHT_WRITE | ZX_RIGHT_RESIZE);
    EXPECT_OK(zx_vmo_set_size(h, 2 * P));
    EXPECT_EQ(vmo_size(rvmo), 2 * P);
    zx_handle_close(h);
    zx_handle_close(vmo);
    zx_handle_close(rvmo);
}

TEST(VmoSize, TooLarge) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, ZX_VMO_RESIZABLE, &vmo));
    EXPECT_STATUS(zx_vmo_set_size(vmo, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_set_size(vmo, UINT64_MAX - P + 2), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_set_size(vmo, BERYL_VMO_SIZE_MAX + 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(vmo_size(vmo), P);
    EXPECT_EQ(content_size(vmo), P);
    EXPECT_OK(zx_vmo_set_size(vmo, 1ull << 50));
    EXPECT_EQ(vmo_size(vmo), 1ull << 50);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoSize, ShrinkThenGrowReadsZeros) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(3 * P, ZX_VMO_RESIZABLE, &vmo));
    memset(buf_a, 0xAA, sizeof(buf_a));
    ASSERT_OK(zx_vmo_write(vmo, buf_a, 0, 3 * P));
    ASSERT_OK(zx_vmo_set_size(vmo, P));
    EXPECT_EQ(vmo_size(vmo), P);
    EXPECT_STATUS(zx_vmo_read(vmo, buf_b, P, 1), ZX_ERR_OUT_OF_RANGE);
    ASSERT_OK(zx_vmo_set_size(vmo, 3 * P));
    EXPECT_OK(zx_vmo_read(vmo, buf_b, 0, 3 * P));
    EXPECT_TRUE(all_bytes(buf_b, P, 0xAA));
    EXPECT_TRUE(all_bytes(buf_b + P, 2 * P, 0));
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoSize, ExactSizeZeroesTailAndSetsContentSize) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(2 * P, ZX_VMO_RESIZABLE, &vmo));
    memset(buf_a, 0xFF, 2 * P);
    ASSERT_OK(zx_vmo_write(vmo, buf_a, 0, 2 * P));
    ASSERT_OK(zx_vmo_set_size(vmo, 5000));
    EXPECT_EQ(vmo_size(vmo), 2 * P);
    EXPECT_EQ(content_size(vmo), 5000u);
    EXPECT_OK(zx_vmo_read(vmo, buf_b, 0, 2 * P));
    EXPECT_TRUE(all_bytes(buf_b, 5000, 0xFF));
    EXPECT_TRUE(all_bytes(buf_b + 5000, 2 * P - 5000, 0));
    ASSERT_OK(zx_vmo_set_size(vmo, 3 * P + 1));
    EXPECT_EQ(vmo_size(vmo), 4 * P);
    EXPECT_EQ(content_size(vmo), 3 * P + 1);
    ASSERT_OK(zx_vmo_set_size(vmo, 0));
    EXPECT_EQ(vmo_size(vmo), 0u);
    EXPECT_EQ(content_size(vmo), 0u);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoSize, ShrinkFreesPages) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(4 * P, ZX_VMO_RESIZABLE, &vmo));
    ASSERT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, 0, 4 * P, NULL, 0));
    EXPECT_EQ(vmo_info(vmo).committed_bytes, 4 * P);
    uint64_t before = tu_kmem_free(beryl_resource());
    ASSERT_OK(zx_vmo_set_size(vmo, P));
    EXPECT_EQ(vmo_info(vmo).committed_bytes, P);
    EXPECT_GE(tu_kmem_free(beryl_resource()), before + 3 * P);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoSize, ContentSizeProperty) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(2 * P, 0, &vmo));
    uint64_t v = 100;
    EXPECT_OK(zx_object_set_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, &v, sizeof(v)));
    EXPECT_EQ(content_size(vmo), 100u);
    EXPECT_EQ(vmo_size(vmo), 2 * P); /* only the content size changes */
    v = 2 * P;
    EXPECT_OK(zx_object_set_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, &v, sizeof(v)));
    EXPECT_EQ(content_size(vmo), 2 * P);
    v = 2 * P + 1;
    EXPECT_STATUS(zx_object_set_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, &v, sizeof(v)),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(content_size(vmo), 2 * P);
    uint32_t small = 0;
    EXPECT_STATUS(zx_object_get_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, &small, sizeof(small)),
                  ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_STATUS(zx_object_set_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, &small, sizeof(small)),
                  ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_STATUS(zx_object_get_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, NULL, sizeof(v)),
                  ZX_ERR_INVALID_ARGS);
    zx_handle_t h = tu_dup(vmo, VMO_RIGHTS & ~ZX_RIGHTS_PROPERTY);
    EXPECT_STATUS(zx_object_get_property(h, ZX_PROP_VMO_CONTENT_SIZE, &v, sizeof(v)),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_object_set_property(h, ZX_PROP_VMO_CONTENT_SIZE, &v, sizeof(v)),
                  ZX_ERR_ACCESS_DENIED);
    zx_handle_close(h);
    /* The property belongs to VMOs only. */
    EXPECT_STATUS(zx_object_get_property(zx_process_self(), ZX_PROP_VMO_CONTENT_SIZE, &v,
                                         sizeof(v)),
                  ZX_ERR_WRONG_TYPE);
    EXPECT_OK(zx_handle_close(vmo));
}


TEST(VmoSize, MappingsOutliveShrinkAndGrow) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(P, ZX_VMO_RESIZABLE, &vmo));
    /* A mapping longer than the VMO is allowed; growing makes its tail usable. */
    zx_vaddr_t addr;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0,
                          2 * P, &addr));
    volatile uint8_t *m = (volatile uint8_t *)addr;
    ASSERT_OK(zx_vmo_set_size(vmo, 2 * P));
    m[P + 1] = 0x4B;
    EXPECT_EQ(byte_at(vmo, P + 1), 0x4Bu);
    /* Shrinking does not trim the mapping: the page past the end now faults. */
    ASSERT_OK(zx_vmo_set_size(vmo, P));
    m[0] = 1;
    EXPECT_DEATH(m[P + 1] = 2, ZX_TASK_RETCODE_EXCEPTION_KILL);
    /* A syscall that copies through that page reports the bad buffer. */
    zx_handle_t other;
    ASSERT_OK(zx_vmo_create(P, 0, &other));
    EXPECT_STATUS(zx_vmo_read(other, (void *)(addr + P), 0, 16), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(zx_vmo_write(other, (const void *)(addr + P - 8), 0, 16), ZX_ERR_NOT_FOUND);
    /* Growing again brings back a zero page, not the old content. */
    ASSERT_OK(zx_vmo_set_size(vmo, 2 * P));
    EXPECT_EQ(m[P + 1], 0u);
    zx_vmar_unmap(zx_vmar_root_self(), addr, 2 * P);
    zx_handle_close(other);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoRw, BufferInsideTheSameVmo) {
    zx_handle_t vmo;
    zx_vaddr_t addr = tu_map_new(3 * P, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, &vmo);
    ASSERT_NE(addr, 0u);
    memset((void *)addr, 0x61, P);
    /* Page 0 into the (uncommitted) page 1 mapping: the copy faults into the same VMO. */
    EXPECT_OK(zx_vmo_read(vmo, (void *)(addr + P), 0, P));
    EXPECT_TRUE(all_bytes((const void *)(addr + P), P, 0x61));
    /* Page 1, through its mapping, into page 2; and a page onto itself. */
    EXPECT_OK(zx_vmo_write(vmo, (const void *)(addr + P), 2 * P, P));
    EXPECT_OK(zx_vmo_write(vmo, (const void *)addr, 0, P));
    EXPECT_OK(zx_vmo_read(vmo, buf_a, 0, 3 * P));
    EXPECT_TRUE(all_bytes(buf_a, 3 * P, 0x61));
    zx_vmar_unmap(zx_vmar_root_self(), addr, 3 * P);
    EXPECT_OK(zx_handle_close(vmo));
}

/* Worker of ConcurrentResizeAndCopy: resizes the VMO until told to stop. */
static volatile int resize_stop;
static volatile int resize_rounds;
static volatile zx_status_t resize_bad;

static void resize_worker(uintptr_t vmo, uintptr_t unused) {
    for (int i = 0; !resize_stop; i++) {
        zx_status_t st = zx_vmo_set_size((zx_handle_t)vmo, (i & 1) ? 4 * P : P + 123);
        if (st != ZX_OK)
            resize_bad = st;
        resize_rounds = i + 1;
    }
    zx_thread_exit();
}

TEST(VmoRw, ConcurrentResizeAndCopy) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(4 * P, ZX_VMO_RESIZABLE, &vmo));
    resize_stop = 0;
    resize_rounds = 0;
    resize_bad = ZX_OK;
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, resize_worker, vmo, 0));
    memset(buf_a, 0x2F, sizeof(buf_a));
    /* Every copy either fits the size it saw or is OUT_OF_RANGE; nothing else. */
    int other = 0;
    for (int i = 0; i < 300; i++) {
        zx_status_t st = (i & 1) ? zx_vmo_write(vmo, buf_a, P / 2, 3 * P)
                                 : zx_vmo_read(vmo, buf_b, P / 2, 3 * P);
        if (st != ZX_OK && st != ZX_ERR_OUT_OF_RANGE)
            other++;
        if (i % 50 == 0)
            zx_nanosleep(zx_deadline_after(TU_MS)); /* let the worker run */
    }
    resize_stop = 1;
    EXPECT_OK(tu_thread_join(&t, 5 * TU_SEC));
    tu_thread_destroy(&t);
    EXPECT_EQ(other, 0);
    EXPECT_EQ(resize_bad, ZX_OK);
    EXPECT_GT(resize_rounds, 0);
    /* The VMO is consistent afterwards: whatever its size, it reads and writes. */
    uint64_t size = vmo_size(vmo);
    EXPECT_TRUE(size == 2 * P || size == 4 * P);
    EXPECT_OK(zx_vmo_read(vmo, buf_b, 0, size < sizeof(buf_b) ? size : sizeof(buf_b)));
    EXPECT_OK(zx_handle_close(vmo));
}
