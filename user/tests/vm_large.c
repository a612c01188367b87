/*
 * Large pages as user space sees them (docs/architecture.md, "Large pages"): a VMO
 * committed with zx_vmo_op_range(COMMIT) in whole 2 MiB blocks and mapped 2 MiB-aligned
 * with MAP_RANGE is mapped with 2 MiB entries (the ktests vm_large.* check the entries,
 * the boot test qemu.vm_dump_large shows them). Every operation on part of such a block
 * must behave exactly as on 4 KiB pages: what was not changed keeps its contents and
 * access, what was changed changes at once (each case writes through the mapping first,
 * so the large translation is cached in the TLB).
 */
#include "vm_util.h"

#define BLOCK (2u << 20)
#define BLOCKS 2u
#define SIZE (BLOCKS * BLOCK)
#define PAGES (SIZE / PAGE)

static uint64_t word(size_t i) { return 0x1a2e0000u + i; }

/* A committed VMO of SIZE bytes (options: zx_vmo_create's), mapped RW | MAP_RANGE at a
 * 2 MiB-aligned address, with word(i) written through the mapping into page i. */
static zx_vaddr_t large_mapping(uint32_t options, zx_handle_t *vmo) {
    *vmo = ZX_HANDLE_INVALID;
    if (zx_vmo_create(SIZE, options, vmo) != ZX_OK ||
        zx_vmo_op_range(*vmo, ZX_VMO_OP_COMMIT, 0, SIZE, NULL, 0) != ZX_OK)
        return 0;
    zx_vaddr_t a = map(*vmo, RW | ZX_VM_MAP_RANGE | ZX_VM_ALIGN_2MB, SIZE);
    for (size_t i = 0; a && i < PAGES; i++)
        wr64(a + i * PAGE, word(i));
    return a;
}

/* The number of pages in [0, PAGES) other than skip whose first word is not word(i). */
static size_t words_wrong(zx_vaddr_t a, size_t skip) {
    size_t wrong = 0;
    for (size_t i = 0; i < PAGES; i++)
        if (i != skip && rd64(a + i * PAGE) != word(i))
            wrong++;
    return wrong;
}

TEST(LargePages, CommittedBlocksMapAndReadBack) {
    zx_handle_t vmo;
    zx_vaddr_t a = large_mapping(0, &vmo);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(a % BLOCK, 0u);
    EXPECT_EQ(words_wrong(a, SIZE_MAX), 0u);
    EXPECT_EQ(committed(vmo), (uint64_t)SIZE);
    EXPECT_EQ(vmo_word(vmo, 7 * PAGE), word(7)); /* the same pages through the VMO */
    unmap(a, SIZE);
    zx_handle_close(vmo);
}

TEST(LargePages, ProtectOfOnePageSplits) {
    zx_handle_t vmo;
    zx_vaddr_t a = large_mapping(0, &vmo);
    ASSERT_NE(a, 0u);
    ASSERT_EQ(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a + 5 * PAGE, PAGE),
              ZX_OK);
    EXPECT_DEATH(wr64(a + 5 * PAGE, 1), KILLED);
    EXPECT_EQ(rd64(a + 5 * PAGE), word(5));
    wr64(a + 4 * PAGE, word(4)); /* the neighbours stay writable */
    wr64(a + 6 * PAGE, word(6));
    EXPECT_EQ(words_wrong(a, SIZE_MAX), 0u);
    unmap(a, SIZE);
    zx_handle_close(vmo);
}

TEST(LargePages, ProtectOfAllThenBackToWrite) {
    zx_handle_t vmo;
    zx_vaddr_t a = large_mapping(0, &vmo);
    ASSERT_NE(a, 0u);
    ASSERT_EQ(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a, SIZE), ZX_OK);
    EXPECT_DEATH(wr64(a + BLOCK + PAGE, 1), KILLED);
    ASSERT_EQ(zx_vmar_protect(zx_vmar_root_self(), RW, a, SIZE), ZX_OK);
    wr64(a + BLOCK + PAGE, 0x77);
    EXPECT_EQ(vmo_word(vmo, BLOCK + PAGE), 0x77u);
    EXPECT_EQ(words_wrong(a, BLOCK / PAGE + 1), 0u);
    unmap(a, SIZE);
    zx_handle_close(vmo);
}

TEST(LargePages, UnmapOfOnePageSplits) {
    zx_handle_t vmo;
    zx_vaddr_t a = large_mapping(0, &vmo);
    ASSERT_NE(a, 0u);
    ASSERT_EQ(zx_vmar_unmap(zx_vmar_root_self(), a + BLOCK + 9 * PAGE, PAGE), ZX_OK);
    EXPECT_DEATH(rd64(a + BLOCK + 9 * PAGE), KILLED);
    EXPECT_EQ(words_wrong(a, BLOCK / PAGE + 9), 0u);
    EXPECT_EQ(vmo_word(vmo, BLOCK + 9 * PAGE), word(BLOCK / PAGE + 9)); /* still in the VMO */
    unmap(a, SIZE);
    zx_handle_close(vmo);
}

TEST(LargePages, DecommitOfOnePageSplits) {
    zx_handle_t vmo;
    zx_vaddr_t a = large_mapping(0, &vmo);
    ASSERT_NE(a, 0u);
    ASSERT_EQ(zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_DECOMMIT, a + 3 * PAGE, PAGE,
                               NULL, 0),
              ZX_OK);
    EXPECT_EQ(committed(vmo), (uint64_t)SIZE - PAGE);
    EXPECT_EQ(rd64(a + 3 * PAGE), 0u);
    EXPECT_EQ(words_wrong(a, 3), 0u);
    wr64(a + 3 * PAGE, 5); /* commits a page again */
    EXPECT_EQ(committed(vmo), (uint64_t)SIZE);
    EXPECT_EQ(vmo_word(vmo, 3 * PAGE), 5u);
    unmap(a, SIZE);
    zx_handle_close(vmo);
}

TEST(LargePages, ZeroOfPartOfABlock) {
    zx_handle_t vmo;
    zx_vaddr_t a = large_mapping(0, &vmo);
    ASSERT_NE(a, 0u);
    ASSERT_EQ(zx_vmo_op_range(vmo, ZX_VMO_OP_ZERO, 10 * PAGE, PAGE, NULL, 0), ZX_OK);
    EXPECT_EQ(rd64(a + 10 * PAGE), 0u);
    EXPECT_EQ(words_wrong(a, 10), 0u);
    unmap(a, SIZE);
    zx_handle_close(vmo);
}

TEST(LargePages, ShrinkUnderTheMapping) {
    zx_handle_t vmo;
    zx_vaddr_t a = large_mapping(ZX_VMO_RESIZABLE, &vmo);
    ASSERT_NE(a, 0u);
    ASSERT_EQ(zx_vmo_set_size(vmo, BLOCK + BLOCK / 2), ZX_OK);
    EXPECT_DEATH(rd64(a + BLOCK + BLOCK / 2), KILLED);
    EXPECT_EQ(rd64(a + BLOCK + BLOCK / 2 - PAGE), word(PAGES / 2 + PAGES / 4 - 1));
    EXPECT_EQ(rd64(a), word(0));
    unmap(a, SIZE);
    zx_handle_close(vmo);
}

TEST(LargePages, SnapshotThenWritesOnBothSides) {
    zx_handle_t vmo, child = ZX_HANDLE_INVALID;
    zx_vaddr_t a = large_mapping(0, &vmo);
    ASSERT_NE(a, 0u);
    ASSERT_EQ(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, SIZE, &child), ZX_OK);
    zx_vaddr_t c = map(child, RW | ZX_VM_ALIGN_2MB, SIZE);
    ASSERT_NE(c, 0u);
    wr64(a + PAGE, 0xaaaa);          /* the parent's write: the child keeps word(1) */
    wr64(c + 2 * PAGE, 0xbbbb);      /* the child's write: the parent keeps word(2) */
    wr64(c + BLOCK, 0xcccc);
    EXPECT_EQ(rd64(a + PAGE), 0xaaaau);
    EXPECT_EQ(rd64(c + PAGE), word(1));
    EXPECT_EQ(rd64(a + 2 * PAGE), word(2));
    EXPECT_EQ(rd64(c + 2 * PAGE), 0xbbbbu);
    EXPECT_EQ(rd64(a + BLOCK), word(PAGES / 2));
    EXPECT_EQ(rd64(c + BLOCK), 0xccccu);
    size_t wrong = 0;
    for (size_t i = 3; i < PAGES; i++)
        if (i != PAGES / 2 && (rd64(a + i * PAGE) != word(i) || rd64(c + i * PAGE) != word(i)))
            wrong++;
    EXPECT_EQ(wrong, 0u);
    unmap(c, SIZE);
    unmap(a, SIZE);
    zx_handle_close(child);
    zx_handle_close(vmo);
}

TEST(LargePages, UnalignedMappingOfABlockReadsTheSame) {
    zx_handle_t vmo;
    zx_vaddr_t a = large_mapping(0, &vmo);
    ASSERT_NE(a, 0u);
    /* A second mapping one page into the VMO: no block lines up, so 4 KiB entries. */
    zx_vaddr_t b = 0;
    ASSERT_EQ(zx_vmar_map(zx_vmar_root_self(), RW | ZX_VM_MAP_RANGE | ZX_VM_ALIGN_2MB, 0, vmo,
                          PAGE, SIZE - PAGE, &b),
              ZX_OK);
    wr64(b + 2 * PAGE, 0x99); /* VMO page 3, shared with the first mapping */
    EXPECT_EQ(rd64(a + 3 * PAGE), 0x99u);
    EXPECT_EQ(rd64(b + BLOCK), word(PAGES / 2 + 1));
    unmap(b, SIZE - PAGE);
    unmap(a, SIZE);
    zx_handle_close(vmo);
}
