/*
 * zx_process_read_memory / zx_process_write_memory over a mapping longer than its VMO
 * (the suite boots with kernel.enable-debugging-syscalls=true): as in Zircon, the copy is
 * trimmed at the VMO's end and returns the partial count; starting in a mapped page
 * wholly past the end is ZX_ERR_OUT_OF_RANGE (an unmapped address stays NO_MEMORY). The
 * VMO's end moves with zx_vmo_set_size under the mapping, both ways.
 */
#include "vmar_util.h"

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
