/*
 * Mappings seeing changes made to their VMOs by other means (docs/syscalls.md): two
 * mappings of one VMO, zx_vmo_set_size shrinking and growing under a mapping (the
 * mapping is not trimmed), DECOMMIT through zx_vmo_op_range and through a slice, and a
 * copy-on-write snapshot taken while the parent is mapped writable. Then
 * zx_process_read_memory / write_memory over a mapping longer than its VMO (the suite
 * boots with kernel.enable-debugging-syscalls=true): as in Zircon, the copy is trimmed
 * at the VMO's end and returns the partial count; starting in a mapped page wholly past
 * the end is ZX_ERR_OUT_OF_RANGE (an unmapped address stays NO_MEMORY); the end moves
 * with zx_vmo_set_size under the mapping, both ways.
 */
#include "vmar_util.h"

TEST(VmarVmo, TwoMappingsOfOneVmoShareItsPages) {
    zx_handle_t vmo = vu_vmo(2 * PG);
    zx_vaddr_t a, b;
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW, 0, vmo, 0, 2 * PG, &a));
    ASSERT_OK(zx_vmar_map(vu_root(), VU_R, 0, vmo, PG, PG, &b));
    EXPECT_NE(a, b);
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 2u);
    volatile uint8_t *pa = (volatile uint8_t *)a, *pb = (volatile uint8_t *)b;
    EXPECT_EQ(pb[10], 0);
    pa[PG + 10] = 0x5c;
    EXPECT_EQ(pb[10], 0x5c);
    uint8_t v = 0x6d;
    ASSERT_OK(zx_vmo_write(vmo, &v, PG + 11, 1));
    EXPECT_EQ(pa[PG + 11], 0x6d);
    EXPECT_EQ(pb[11], 0x6d);
    EXPECT_OK(zx_vmar_unmap(vu_root(), a, 2 * PG));
    EXPECT_EQ(pb[10], 0x5c);
    EXPECT_OK(zx_vmar_unmap(vu_root(), b, PG));
    zx_handle_close(vmo);
}

TEST(VmarVmo, ShrinkUnderAMappingThenGrow) {
    zx_handle_t vmar, vmo;
    zx_vaddr_t base, addr;
    ASSERT_OK(zx_vmo_create(4 * PG, ZX_VMO_RESIZABLE, &vmo));
    ASSERT_OK(vu_sub(VU_CAN_RWS, 4 * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, vmo, 4 * PG, &addr));
    volatile uint8_t *p = (volatile uint8_t *)base;
    for (int i = 0; i < 4; i++)
        p[i * PG] = (uint8_t)(0x10 + i);
    ASSERT_OK(zx_vmo_set_size(vmo, PG));
    /* The mapping keeps its size; the pages past the VMO's end can no longer be touched,
     * even though they were mapped a moment ago. */
    EXPECT_EQ(p[0], 0x10);
    for (int i = 1; i < 4; i++) {
        EXPECT_FALSE(vu_can_read(base + i * PG));
        EXPECT_FALSE(vu_can_write(base + i * PG));
    }
    EXPECT_STATUS(vu_map_at(vmar, VU_R, 3 * PG, vmo, PG, &addr), ZX_ERR_ALREADY_EXISTS);
    EXPECT_EQ(tu_vmo_info(vmo).committed_bytes, PG);
    /* Growing again shows fresh zero pages, not the old content. */
    ASSERT_OK(zx_vmo_set_size(vmo, 4 * PG));
    for (int i = 1; i < 4; i++) {
        EXPECT_TRUE(vu_can_read(base + i * PG));
        EXPECT_EQ(p[i * PG], 0);
    }
    p[3 * PG] = 0x77;
    EXPECT_EQ(p[3 * PG], 0x77);
    vu_drop(vmar);
    zx_handle_close(vmo);
}

TEST(VmarVmo, VmoDecommitReachesTheMapping) {
    zx_handle_t vmo = vu_vmo(2 * PG);
    zx_vaddr_t addr;
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW, 0, vmo, 0, 2 * PG, &addr));
    volatile uint8_t *p = (volatile uint8_t *)addr;
    p[0] = 0x21;
    p[PG] = 0x22;
    ASSERT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_DECOMMIT, 0, PG, NULL, 0));
    EXPECT_EQ(p[0], 0);
    EXPECT_EQ(p[PG], 0x22);
    EXPECT_EQ(tu_vmo_info(vmo).committed_bytes, PG);
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, 2 * PG));
    zx_handle_close(vmo);
}

TEST(VmarVmo, SliceMappingsFollowTheParent) {
    zx_handle_t parent = vu_vmo(4 * PG), slice;
    zx_vaddr_t ps, sl;
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SLICE, 2 * PG, 2 * PG, &slice));
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW, 0, parent, 0, 4 * PG, &ps));
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW, 0, slice, 0, 2 * PG, &sl));
    volatile uint8_t *pp = (volatile uint8_t *)ps, *sp = (volatile uint8_t *)sl;
    sp[5] = 0x31;
    EXPECT_EQ(pp[2 * PG + 5], 0x31);
    pp[3 * PG + 6] = 0x32;
    EXPECT_EQ(sp[PG + 6], 0x32);
    /* A decommit of the parent is seen through the slice's mapping, and the reverse. */
    ASSERT_OK(zx_vmo_op_range(parent, ZX_VMO_OP_DECOMMIT, 2 * PG, PG, NULL, 0));
    EXPECT_EQ(sp[5], 0);
    ASSERT_OK(zx_vmar_op_range(vu_root(), ZX_VMAR_OP_DECOMMIT, sl + PG, PG, NULL, 0));
    EXPECT_EQ(pp[3 * PG + 6], 0);
    EXPECT_OK(zx_vmar_unmap(vu_root(), sl, 2 * PG));
    EXPECT_OK(zx_vmar_unmap(vu_root(), ps, 4 * PG));
    zx_handle_close(slice);
    zx_handle_close(parent);
}

TEST(VmarVmo, SnapshotOfAWritableMappedVmo) {
    zx_handle_t parent = vu_vmo(2 * PG), child;
    zx_vaddr_t addr, caddr;
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW, 0, parent, 0, 2 * PG, &addr));
    volatile uint8_t *p = (volatile uint8_t *)addr;
    p[0] = 0x41; /* the page is now mapped writable */
    p[PG] = 0x42;
    ASSERT_OK(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * PG, &child));
    /* Writing through the parent's old mapping must not reach the snapshot. */
    p[0] = 0x51;
    uint8_t b = 0;
    ASSERT_OK(zx_vmo_read(child, &b, 0, 1));
    EXPECT_EQ(b, 0x41);
    /* And the snapshot's own mapping sees its content, then its own writes only. */
    ASSERT_OK(zx_vmar_map(vu_root(), VU_RW, 0, child, 0, 2 * PG, &caddr));
    volatile uint8_t *c = (volatile uint8_t *)caddr;
    EXPECT_EQ(c[0], 0x41);
    EXPECT_EQ(c[PG], 0x42);
    c[PG] = 0x62;
    EXPECT_EQ(p[PG], 0x42);
    EXPECT_EQ(p[0], 0x51);
    EXPECT_OK(zx_vmar_unmap(vu_root(), caddr, 2 * PG));
    EXPECT_OK(zx_vmar_unmap(vu_root(), addr, 2 * PG));
    zx_handle_close(child);
    zx_handle_close(parent);
}

/* ---- debugger reads and writes trimmed at the VMO end ---- */

#define NPAGES 4

typedef struct {
    zx_handle_t vmar, vmo;
    zx_vaddr_t base; /* NPAGES mapped over a VMO of `pages` pages */
} trim_fixture_t;

/* A resizable VMO of `pages` pages (page i starts with 0xa0 + i) mapped RW over NPAGES. */
static zx_status_t trim_init(trim_fixture_t *f, size_t pages) {
    memset(f, 0, sizeof(*f));
    zx_status_t st = zx_vmo_create(pages * PG, ZX_VMO_RESIZABLE, &f->vmo);
    for (size_t i = 0; st == ZX_OK && i < pages; i++) {
        uint8_t b = (uint8_t)(0xa0 + i);
        st = zx_vmo_write(f->vmo, &b, i * PG, 1);
    }
    if (st == ZX_OK)
        st = vu_sub(VU_CAN_RWS, NPAGES * PG, &f->vmar, &f->base);
    zx_vaddr_t addr;
    if (st == ZX_OK)
        st = vu_map_at(f->vmar, VU_RW, 0, f->vmo, NPAGES * PG, &addr);
    return st;
}

static void trim_fini(trim_fixture_t *f) {
    vu_drop(f->vmar);
    zx_handle_close(f->vmo);
}

static uint8_t buf[NPAGES * 4096];

static zx_status_t rd(zx_vaddr_t a, size_t len, size_t *actual) {
    *actual = 0xdead;
    return zx_process_read_memory(zx_process_self(), a, buf, len, actual);
}

static zx_status_t wr(zx_vaddr_t a, size_t len, size_t *actual) {
    *actual = 0xdead;
    return zx_process_write_memory(zx_process_self(), a, buf, len, actual);
}

TEST(DebugMemoryTrim, ReadStopsAtTheVmoEnd) {
    trim_fixture_t f;
    ASSERT_OK(trim_init(&f, 2));
    size_t actual;
    ASSERT_OK(rd(f.base, NPAGES * PG, &actual));
    EXPECT_EQ(actual, 2 * PG);
    EXPECT_EQ(buf[0], 0xa0);
    EXPECT_EQ(buf[PG], 0xa1);
    ASSERT_OK(rd(f.base + PG + 10, 3 * PG, &actual));
    EXPECT_EQ(actual, PG - 10);
    /* Wholly past the end: OUT_OF_RANGE, nothing written to actual. */
    EXPECT_STATUS(rd(f.base + 2 * PG, PG, &actual), ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(actual, 0xdeadu);
    EXPECT_STATUS(rd(f.base + 4 * PG - 1, 1, &actual), ZX_ERR_OUT_OF_RANGE);
    /* Inside the VMO: whole, as before. */
    ASSERT_OK(rd(f.base, 2 * PG, &actual));
    EXPECT_EQ(actual, 2 * PG);
    trim_fini(&f);
}

TEST(DebugMemoryTrim, WriteStopsAtTheVmoEnd) {
    trim_fixture_t f;
    ASSERT_OK(trim_init(&f, 1));
    memset(buf, 0x5c, sizeof(buf));
    size_t actual;
    ASSERT_OK(wr(f.base + PG - 4, 8, &actual));
    EXPECT_EQ(actual, 4u);
    uint8_t b = 0;
    ASSERT_OK(zx_vmo_read(f.vmo, &b, PG - 1, 1));
    EXPECT_EQ(b, 0x5c);
    EXPECT_STATUS(wr(f.base + PG, 8, &actual), ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(actual, 0xdeadu);
    uint64_t size = 0;
    ASSERT_OK(zx_vmo_get_size(f.vmo, &size));
    EXPECT_EQ(size, PG); /* a write never grows the VMO */
    trim_fini(&f);
}

TEST(DebugMemoryTrim, FollowsTheVmoSizeAsItShrinksAndGrows) {
    trim_fixture_t f;
    ASSERT_OK(trim_init(&f, NPAGES));
    size_t actual;
    ASSERT_OK(rd(f.base, NPAGES * PG, &actual));
    EXPECT_EQ(actual, NPAGES * PG);
    ASSERT_OK(zx_vmo_set_size(f.vmo, PG));
    ASSERT_OK(rd(f.base, NPAGES * PG, &actual));
    EXPECT_EQ(actual, PG);
    EXPECT_STATUS(rd(f.base + 3 * PG, PG, &actual), ZX_ERR_OUT_OF_RANGE);
    memset(buf, 0x77, sizeof(buf));
    EXPECT_STATUS(wr(f.base + PG, 1, &actual), ZX_ERR_OUT_OF_RANGE);
    ASSERT_OK(zx_vmo_set_size(f.vmo, 3 * PG));
    ASSERT_OK(rd(f.base, NPAGES * PG, &actual));
    EXPECT_EQ(actual, 3 * PG);
    EXPECT_EQ(buf[0], 0xa0);
    EXPECT_EQ(buf[PG], 0); /* grown back: zeros, not the old pages */
    EXPECT_EQ(buf[2 * PG], 0);
    EXPECT_STATUS(rd(f.base + 3 * PG, PG, &actual), ZX_ERR_OUT_OF_RANGE);
    trim_fini(&f);
}

TEST(DebugMemoryTrim, UnmappedIsStillNoMemory) {
    trim_fixture_t f;
    ASSERT_OK(trim_init(&f, 1));
    ASSERT_OK(zx_vmar_unmap(f.vmar, f.base + 2 * PG, 2 * PG));
    size_t actual;
    EXPECT_STATUS(rd(f.base + 2 * PG, PG, &actual), ZX_ERR_NO_MEMORY);
    EXPECT_STATUS(rd(f.base + PG, PG, &actual), ZX_ERR_OUT_OF_RANGE);
    trim_fini(&f);
}

TEST(DebugMemoryTrim, ASecondMappingAfterTheEndIsNotReached) {
    /* The bytes past the first VMO's end are a hole in the copy: it stops there. */
    trim_fixture_t f;
    ASSERT_OK(trim_init(&f, 1));
    ASSERT_OK(zx_vmar_unmap(f.vmar, f.base + 2 * PG, 2 * PG));
    zx_handle_t other = vu_vmo_pattern(2, 0xc0);
    zx_vaddr_t addr;
    ASSERT_OK(vu_map_at(f.vmar, VU_RW, 2 * PG, other, 2 * PG, &addr));
    size_t actual;
    ASSERT_OK(rd(f.base, NPAGES * PG, &actual));
    EXPECT_EQ(actual, PG);
    ASSERT_OK(rd(f.base + 2 * PG, 2 * PG, &actual));
    EXPECT_EQ(actual, 2 * PG);
    EXPECT_EQ(buf[0], 0xc0);
    zx_handle_close(other);
    trim_fini(&f);
}
