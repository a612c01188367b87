/*
 * In-kernel tests of large pages in user mappings (test=vm_large; docs/architecture.md,
 * "Large pages"): a commit backs whole aligned 2 MiB blocks of a paged VMO with one
 * contiguous run, MAP_RANGE and faults map such blocks (and contiguous VMOs) with one
 * large entry, and every operation that changes part of a block splits it (or drops it
 * whole, when there is no memory for the split) without changing what any page reads.
 *
 * Data is checked through real user accesses (the aspace is loaded, the #PF hook
 * resolves faults), entry sizes with arch_mmu_query. Injected PMM failures
 * (pmm.fail_every=N) end a test as skipped, as in vmar_ktest.c.
 */
#include <lib/string.h>

#include "vmar_ktest_util.h"
#include "vmo_priv.h"

#define BLOCK ((size_t)VM_LARGE_PAGE_SIZE)
#define VMO_BLOCKS 2u
#define VMO_PAGES (VMO_BLOCKS * VM_LARGE_PAGES)
#define MAP_ALIGNED (ZX_VM_ALIGN_2MB)

/* The size of the entry mapping va: 4 KiB, 2 MiB, 1 GiB, or 0 if none. */
static size_t entry_size(struct env *e, vaddr_t va) {
    size_t size = 0;
    if (arch_mmu_query(vm_aspace_arch(e->as), va, NULL, NULL, &size) != ZX_OK)
        return 0;
    return size;
}

static paddr_t entry_pa(struct env *e, vaddr_t va) {
    paddr_t pa = 0;
    arch_mmu_query(vm_aspace_arch(e->as), va, &pa, NULL, NULL);
    return pa;
}

/* vmo_read / vmo_write callbacks for one word at ctx. */
static zx_status_t copy_word_out(void *ctx, size_t done, void *kptr, size_t n) {
    memcpy((uint8_t *)ctx + done, kptr, n);
    return ZX_OK;
}

static zx_status_t copy_word_in(void *ctx, size_t done, void *kptr, size_t n) {
    memcpy(kptr, (const uint8_t *)ctx + done, n);
    return ZX_OK;
}

/* The value page i of a mapping holds in its first word in these tests. */
static uint64_t word(size_t i) { return 0x1a2e0000u + i; }

/*
 * The common start: a paged VMO of VMO_BLOCKS blocks, committed (blocks from contiguous
 * runs), mapped RW with MAP_RANGE at a 2 MiB-aligned address, the aspace loaded, and
 * word(i) written into every page i. Returns false (test skipped) if memory ran out or a
 * failure was injected, since then the commit may have fallen back to single pages.
 */
static bool large_setup(struct ktest_ctx *ktx, struct env *e, vaddr_t *a, bool *loaded) {
    uint64_t injected = pmm_fault_injected_count();
    if (env_init(e, VMO_PAGES, 0) != ZX_OK || vmo_commit(e->vmo, 0, VMO_PAGES * P) != ZX_OK ||
        vmar_map(e->root, 0, e->vmo, 0, VMO_PAGES * P, RW | ZX_VM_MAP_RANGE | MAP_ALIGNED, RW,
                 a) != ZX_OK)
        return false;
    if (pmm_fault_injected_count() != injected)
        return false;
    for (size_t b = 0; b < VMO_BLOCKS; b++)
        if (entry_size(e, *a + b * BLOCK) != BLOCK) {
            ktest_fail(ktx, __FILE__, __LINE__, "block %zu is not mapped large", b);
            return false;
        }
    load_aspace(e->as);
    *loaded = true;
    for (size_t i = 0; i < VMO_PAGES; i++)
        if (user_write(*a + i * P, word(i)) != ZX_OK) {
            ktest_fail(ktx, __FILE__, __LINE__, "write to page %zu failed", i);
            return false;
        }
    return true;
}

static void large_teardown(struct env *e, bool loaded) {
    if (loaded)
        load_aspace(NULL);
    env_fini(e);
}

/* Every page in [first, last) still reads word(i) at its first word through base. */
static bool words_intact(struct ktest_ctx *ktx, vaddr_t base, size_t first, size_t last,
                         size_t skip) {
    for (size_t i = first; i < last; i++) {
        uint64_t v = 0;
        if (i == skip)
            continue;
        if (user_read(base + i * P, &v) != ZX_OK || v != word(i)) {
            ktest_fail(ktx, __FILE__, __LINE__, "page %zu reads %#lx, expected %#lx", i,
                       (unsigned long)v, (unsigned long)word(i));
            return false;
        }
    }
    return true;
}

KTEST(vm_large, commit_and_map_range_use_large_entries) {
    struct env e;
    vaddr_t a = 0;
    bool loaded = false;
    if (!large_setup(ktx, &e, &a, &loaded))
        goto out;
    for (size_t b = 0; b < VMO_BLOCKS; b++) {
        EXPECT_EQ(entry_size(&e, a + b * BLOCK), BLOCK);
        EXPECT_EQ(entry_size(&e, a + b * BLOCK + BLOCK - P), BLOCK);
        EXPECT_TRUE(IS_ALIGNED(entry_pa(&e, a + b * BLOCK), BLOCK));
    }
    EXPECT_EQ(entry_pa(&e, a + 5 * P), entry_pa(&e, a) + 5 * P);
    EXPECT_EQ(vmo_committed_pages(e.vmo), (size_t)VMO_PAGES);
out:
    large_teardown(&e, loaded);
}

KTEST(vm_large, fault_maps_a_committed_block_whole) {
    struct env e;
    vaddr_t a = 0;
    uint32_t fl = 0;
    uint64_t injected = pmm_fault_injected_count();
    T_OK(env_init(&e, VMO_PAGES, 0));
    T_OK(vmo_commit(e.vmo, 0, VMO_PAGES * P));
    if (pmm_fault_injected_count() != injected)
        goto out;
    T_OK(vmar_map(e.root, 0, e.vmo, 0, VMO_PAGES * P, RW | MAP_ALIGNED, RW, &a));
    EXPECT_EQ(entry_size(&e, a), 0u);
    T_OK(vm_aspace_page_fault(e.as, a + BLOCK + 7 * P, VM_PF_NOT_PRESENT)); /* a read */
    EXPECT_EQ(entry_size(&e, a + BLOCK), BLOCK);
    EXPECT_EQ(entry_size(&e, a), 0u); /* the other block stays untouched */
    T_TRUE(mapped(&e, a + BLOCK, NULL, &fl));
    EXPECT_TRUE(fl & ARCH_MMU_FLAG_PERM_WRITE); /* the VMO's own pages */

    /* The same with large pages off: one page. */
    enum vm_large_policy was = vmo_large_policy();
    vmo_set_large_policy(VM_LARGE_OFF);
    zx_status_t st = vm_aspace_page_fault(e.as, a + 3 * P, VM_PF_WRITE);
    vmo_set_large_policy(was);
    T_OK(st);
    EXPECT_EQ(entry_size(&e, a + 3 * P), P);
    EXPECT_EQ(entry_size(&e, a + 4 * P), 0u);
out:
    env_fini(&e);
}

KTEST(vm_large, commit_with_large_pages_off_takes_single_pages) {
    struct env e;
    vaddr_t a = 0;
    enum vm_large_policy was = vmo_large_policy();
    vmo_set_large_policy(VM_LARGE_OFF);
    zx_status_t st = env_init(&e, VMO_PAGES, 0);
    if (st == ZX_OK)
        st = vmo_commit(e.vmo, 0, VMO_PAGES * P);
    vmo_set_large_policy(was);
    T_OK(st);
    T_OK(vmar_map(e.root, 0, e.vmo, 0, VMO_PAGES * P, RW | ZX_VM_MAP_RANGE | MAP_ALIGNED, RW,
                  &a));
    EXPECT_EQ(entry_size(&e, a), P);
    EXPECT_STATUS(vm_aspace_page_fault(e.as, a, VM_PF_NOT_PRESENT), ZX_OK);
    EXPECT_EQ(entry_size(&e, a), P);
out:
    env_fini(&e);
}

KTEST(vm_large, contiguous_vmo_maps_large_where_aligned) {
    struct env e;
    vmo_t *c = NULL;
    vaddr_t a = 0, b = 0, f = 0;
    T_OK(env_init(&e, 1, 0));
    T_OK(vmo_create_contiguous(VMO_PAGES * P, VM_LARGE_PAGE_SHIFT, &c));
    T_OK(vmar_map(e.root, 0, c, 0, VMO_PAGES * P, RW | ZX_VM_MAP_RANGE | MAP_ALIGNED, RW, &a));
    EXPECT_EQ(entry_size(&e, a), BLOCK);
    EXPECT_EQ(entry_size(&e, a + BLOCK), BLOCK);
    /* VMO offset one page in: virtual and physical alignment differ, so 4 KiB entries. */
    T_OK(vmar_map(e.root, 0, c, P, BLOCK, RW | ZX_VM_MAP_RANGE | MAP_ALIGNED, RW, &b));
    EXPECT_EQ(entry_size(&e, b), P);
    EXPECT_EQ(entry_pa(&e, b + BLOCK - P), entry_pa(&e, a) + BLOCK);
    /* A fault maps the whole block. */
    T_OK(vmar_map(e.root, 0, c, BLOCK, BLOCK, RW | MAP_ALIGNED, RW, &f));
    T_OK(vm_aspace_page_fault(e.as, f + 9 * P, VM_PF_WRITE));
    EXPECT_EQ(entry_size(&e, f), BLOCK);
    EXPECT_EQ(entry_pa(&e, f), entry_pa(&e, a + BLOCK));
out:
    env_fini(&e);
    if (c)
        vmo_unref(c);
}

KTEST(vm_large, partial_protect_splits) {
    struct env e;
    vaddr_t a = 0;
    bool loaded = false;
    if (!large_setup(ktx, &e, &a, &loaded))
        goto out;
    paddr_t base = entry_pa(&e, a);
    T_OK(vmar_protect(e.root, ZX_VM_PERM_READ, a + P, P, false));
    uint32_t fl = 0;
    T_TRUE(mapped(&e, a + P, NULL, &fl));
    EXPECT_FALSE(fl & ARCH_MMU_FLAG_PERM_WRITE);
    EXPECT_EQ(entry_size(&e, a + P), P);
    EXPECT_EQ(entry_size(&e, a), P);
    EXPECT_EQ(entry_pa(&e, a + 2 * P), base + 2 * P);
    EXPECT_EQ(entry_size(&e, a + BLOCK), BLOCK); /* the other block is left whole */
    EXPECT_STATUS(user_write(a + P, 1), ZX_ERR_NOT_FOUND);
    T_TRUE(words_intact(ktx, a, 0, VMO_PAGES, SIZE_MAX));
    T_ACCESS_OK(user_write(a + 2 * P, word(2))); /* its neighbours stay writable */
out:
    large_teardown(&e, loaded);
}

KTEST(vm_large, partial_protect_without_memory_drops_the_block) {
    struct env e;
    vaddr_t a = 0;
    bool loaded = false;
    if (!large_setup(ktx, &e, &a, &loaded))
        goto out;
    pmm_fault_inject_every(1); /* the split cannot get a table */
    zx_status_t st = vmar_protect(e.root, ZX_VM_PERM_READ, a + P, P, false);
    pmm_fault_inject_every(0);
    EXPECT_OK(st);
    EXPECT_EQ(entry_size(&e, a), 0u); /* dropped whole: faults rebuild it */
    EXPECT_EQ(entry_size(&e, a + BLOCK), BLOCK);
    EXPECT_STATUS(user_write(a + P, 1), ZX_ERR_NOT_FOUND);
    T_TRUE(words_intact(ktx, a, 0, VMO_PAGES, SIZE_MAX));
    EXPECT_EQ(entry_size(&e, a + P), P); /* rebuilt page by page around the protect */
out:
    large_teardown(&e, loaded);
}

KTEST(vm_large, protect_back_to_write_remaps_the_block_large) {
    struct env e;
    vaddr_t a = 0;
    bool loaded = false;
    uint32_t fl = 0;
    if (!large_setup(ktx, &e, &a, &loaded))
        goto out;
    T_OK(vmar_protect(e.root, ZX_VM_PERM_READ, a, VMO_PAGES * P, false));
    EXPECT_EQ(entry_size(&e, a), BLOCK); /* whole blocks: no split */
    T_OK(vmar_protect(e.root, RW, a, VMO_PAGES * P, false));
    T_ACCESS_OK(user_write(a + 5 * P, word(5)));
    EXPECT_EQ(entry_size(&e, a), BLOCK);
    T_TRUE(mapped(&e, a + 9 * P, NULL, &fl));
    EXPECT_TRUE(fl & ARCH_MMU_FLAG_PERM_WRITE);
    T_TRUE(words_intact(ktx, a, 0, VMO_PAGES, SIZE_MAX));
out:
    large_teardown(&e, loaded);
}

KTEST(vm_large, partial_unmap_splits) {
    struct env e;
    vaddr_t a = 0;
    bool loaded = false;
    uint64_t v;
    if (!large_setup(ktx, &e, &a, &loaded))
        goto out;
    paddr_t base = entry_pa(&e, a);
    uint64_t injected = pmm_fault_injected_count();
    T_OK(vmar_unmap(e.root, a + 3 * P, P, false));
    EXPECT_EQ(entry_size(&e, a + 3 * P), 0u);
    /* An injected failure (pmm.fail_random) leaves the split no table: then the block's
     * translations are dropped instead, and only the data is checked. */
    if (pmm_fault_injected_count() == injected) {
        EXPECT_EQ(entry_size(&e, a + 4 * P), P);
        EXPECT_EQ(entry_pa(&e, a + 4 * P), base + 4 * P);
    }
    EXPECT_STATUS(user_read(a + 3 * P, &v), ZX_ERR_NOT_FOUND);
    T_TRUE(words_intact(ktx, a, 0, VMO_PAGES, 3));
out:
    large_teardown(&e, loaded);
}

KTEST(vm_large, decommit_of_part_splits) {
    struct env e;
    vaddr_t a = 0;
    bool loaded = false;
    uint64_t v = 1;
    if (!large_setup(ktx, &e, &a, &loaded))
        goto out;
    uint64_t injected = pmm_fault_injected_count();
    T_OK(vmar_op_range(e.root, VMAR_OP_DECOMMIT, a + BLOCK + 6 * P, P, false));
    EXPECT_EQ(vmo_committed_pages(e.vmo), (size_t)VMO_PAGES - 1);
    EXPECT_EQ(entry_size(&e, a + BLOCK + 6 * P), 0u);
    if (pmm_fault_injected_count() == injected) { /* else the split may have dropped them */
        EXPECT_EQ(entry_size(&e, a + BLOCK + 7 * P), P);
        EXPECT_EQ(entry_size(&e, a), BLOCK);
    }
    T_ACCESS_OK(user_read(a + BLOCK + 6 * P, &v));
    EXPECT_EQ(v, 0u); /* decommitted: zeros */
    T_TRUE(words_intact(ktx, a, 0, VMO_PAGES, VM_LARGE_PAGES + 6));
out:
    large_teardown(&e, loaded);
}

KTEST(vm_large, snapshot_then_writes_on_both_sides) {
    struct env e;
    vmo_t *child = NULL;
    vaddr_t a = 0, c = 0;
    bool loaded = false;
    uint64_t v = 0;
    if (!large_setup(ktx, &e, &a, &loaded))
        goto out;
    T_OK(vmo_create_child(e.vmo, VMO_CHILD_SNAPSHOT, 0, VMO_PAGES * P, &child));
    EXPECT_EQ(entry_size(&e, a), 0u); /* the parent's translations went with the snapshot */
    T_OK(vmar_map(e.root, 0, child, 0, VMO_PAGES * P, RW | MAP_ALIGNED, RW, &c));
    T_ACCESS_OK(user_write(a + P, 0xaaaa));
    T_ACCESS_OK(user_write(c + 2 * P, 0xbbbb));
    T_ACCESS_OK(user_write(c + BLOCK, 0xcccc));
    T_ACCESS_OK(user_read(a + P, &v));
    EXPECT_EQ(v, 0xaaaau);
    T_ACCESS_OK(user_read(c + P, &v));
    EXPECT_EQ(v, word(1));
    T_ACCESS_OK(user_read(a + 2 * P, &v));
    EXPECT_EQ(v, word(2));
    T_ACCESS_OK(user_read(c + 2 * P, &v));
    EXPECT_EQ(v, 0xbbbbu);
    T_ACCESS_OK(user_read(a + BLOCK, &v));
    EXPECT_EQ(v, word(VM_LARGE_PAGES));
    for (size_t i = 3; i < VMO_PAGES; i += 61) {
        T_ACCESS_OK(user_read(a + i * P, &v));
        EXPECT_EQ(v, word(i));
        T_ACCESS_OK(user_read(c + i * P, &v));
        EXPECT_EQ(v, i == VM_LARGE_PAGES ? 0xccccu : word(i));
    }
out:
    large_teardown(&e, loaded);
    if (child)
        vmo_unref(child);
}

KTEST(vm_large, fault_policy_commits_a_block_on_the_first_write) {
    struct env e;
    vmo_t *small = NULL;
    vaddr_t a = 0, s = 0;
    enum vm_large_policy was = vmo_large_policy();
    vmo_set_large_policy(VM_LARGE_FAULT);
    uint64_t injected = pmm_fault_injected_count();
    zx_status_t st = env_init(&e, VMO_PAGES, 0);
    if (st == ZX_OK)
        st = vmar_map(e.root, 0, e.vmo, 0, VMO_PAGES * P, RW | MAP_ALIGNED, RW, &a);
    if (st == ZX_OK) /* a read: the zero page, nothing committed */
        st = vm_aspace_page_fault(e.as, a + BLOCK + P, VM_PF_NOT_PRESENT);
    zx_status_t wst = st == ZX_OK ? vm_aspace_page_fault(e.as, a + 9 * P, VM_PF_WRITE) : st;
    /* A VMO below VM_LARGE_FAULT_MIN_VMO commits one page. */
    zx_status_t sst = vmo_create_paged(VM_LARGE_FAULT_MIN_VMO / 2, 0, &small);
    if (sst == ZX_OK)
        sst = vmar_map(e.root, 0, small, 0, VM_LARGE_FAULT_MIN_VMO / 2, RW | MAP_ALIGNED, RW, &s);
    if (sst == ZX_OK)
        sst = vm_aspace_page_fault(e.as, s, VM_PF_WRITE);
    vmo_set_large_policy(was);
    T_OK(st);
    T_OK(wst);
    T_OK(sst);
    if (pmm_fault_injected_count() != injected)
        goto out; /* the block may have fallen back to one page */
    EXPECT_EQ(entry_size(&e, a), BLOCK);
    EXPECT_EQ(vmo_committed_pages(e.vmo), (size_t)VM_LARGE_PAGES);
    EXPECT_EQ(entry_size(&e, a + BLOCK + P), P);
    EXPECT_EQ(entry_pa(&e, a + BLOCK + P), vmo_zero_page_paddr());
    EXPECT_EQ(entry_size(&e, s), P);
    EXPECT_EQ(vmo_committed_pages(small), 1u);
    /* The second block's first write replaces the zero page with a whole block. */
    vmo_set_large_policy(VM_LARGE_FAULT);
    st = vm_aspace_page_fault(e.as, a + BLOCK + 2 * P, VM_PF_WRITE);
    vmo_set_large_policy(was);
    T_OK(st);
    EXPECT_EQ(entry_size(&e, a + BLOCK + P), BLOCK);
    EXPECT_NE(entry_pa(&e, a + BLOCK + P), vmo_zero_page_paddr());
    EXPECT_EQ(vmo_committed_pages(e.vmo), (size_t)VMO_PAGES);
out:
    env_fini(&e);
    if (small)
        vmo_unref(small);
}

/* A write and a snapshot of the committing VMO while its commit has the lock let go to
 * allocate a block (vmo_test_set_block_hook): the snapshot moves the written page up to
 * the new hidden parent, leaving the VMO's own tree empty, and the block must then not
 * be inserted over it (it would read as zeros where the VMO holds data). */
static vmo_t *race_child;
static zx_status_t race_status;

static void snapshot_in_window(vmo_t *vmo) {
    vmo_test_set_block_hook(NULL); /* once */
    uint64_t v = word(5);
    race_status = vmo_write(vmo, 5 * P, sizeof(v), copy_word_in, &v);
    if (race_status == ZX_OK)
        race_status = vmo_create_child(vmo, VMO_CHILD_SNAPSHOT, 0, VMO_PAGES * P, &race_child);
}

KTEST(vm_large, commit_racing_a_snapshot_keeps_the_data) {
    vmo_t *vmo = NULL;
    uint64_t v = 0;
    race_child = NULL;
    race_status = ZX_ERR_INTERNAL;
    T_OK(vmo_create_paged(VMO_PAGES * P, 0, &vmo));
    vmo_test_set_block_hook(snapshot_in_window);
    zx_status_t st = vmo_commit(vmo, 0, BLOCK);
    vmo_test_set_block_hook(NULL);
    T_OK(race_status);
    T_OK(st);
    T_OK(vmo_read(vmo, 5 * P, sizeof(v), copy_word_out, &v));
    EXPECT_EQ(v, word(5));
    T_OK(vmo_read(race_child, 5 * P, sizeof(v), copy_word_out, &v));
    EXPECT_EQ(v, word(5));
    T_OK(vmo_read(vmo, 6 * P, sizeof(v), copy_word_out, &v));
    EXPECT_EQ(v, 0u);
out:
    vmo_test_set_block_hook(NULL);
    if (race_child)
        vmo_unref(race_child);
    if (vmo)
        vmo_unref(vmo);
}

KTEST(vm_large, slices_map_large_only_where_aligned) {
    struct env e;
    vmo_t *aligned = NULL, *shifted = NULL;
    vaddr_t a = 0, s = 0, t = 0;
    bool loaded = false;
    if (!large_setup(ktx, &e, &a, &loaded))
        goto out;
    paddr_t block1 = entry_pa(&e, a + BLOCK);
    T_OK(vmo_create_child(e.vmo, VMO_CHILD_SLICE, BLOCK, BLOCK, &aligned));
    T_OK(vmo_create_child(e.vmo, VMO_CHILD_SLICE, P, BLOCK, &shifted));
    T_OK(vmar_map(e.root, 0, aligned, 0, BLOCK, RW | MAP_ALIGNED, RW, &s));
    T_OK(vmar_map(e.root, 0, shifted, 0, BLOCK, RW | MAP_ALIGNED, RW, &t));
    T_OK(vm_aspace_page_fault(e.as, s + 3 * P, VM_PF_WRITE));
    EXPECT_EQ(entry_size(&e, s), BLOCK);
    EXPECT_EQ(entry_pa(&e, s), block1);
    T_OK(vm_aspace_page_fault(e.as, t + 3 * P, VM_PF_WRITE));
    EXPECT_EQ(entry_size(&e, t + 3 * P), P);
    EXPECT_EQ(entry_pa(&e, t + 3 * P), entry_pa(&e, a) + 4 * P);
    uint64_t v = 0;
    T_ACCESS_OK(user_read(s + 7 * P, &v));
    EXPECT_EQ(v, word(VM_LARGE_PAGES + 7));
    T_ACCESS_OK(user_read(t + 7 * P, &v));
    EXPECT_EQ(v, word(8));
out:
    large_teardown(&e, loaded);
    if (aligned)
        vmo_unref(aligned);
    if (shifted)
        vmo_unref(shifted);
}

/* Unmap and decommit of part of a block when the engine has no memory to split it: the
 * whole block's translations go (ARCH_UNMAP_ENLARGE_YES) and faults rebuild the rest
 * page by page. The unmap trims the mapping's first page, so it needs no spare struct. */
KTEST(vm_large, unmap_and_decommit_without_memory_drop_the_block) {
    struct env e;
    vaddr_t a = 0;
    bool loaded = false;
    uint64_t v = 1;
    if (!large_setup(ktx, &e, &a, &loaded))
        goto out;
    pmm_fault_inject_every(1);
    zx_status_t ust = vmar_unmap(e.root, a, P, false);
    zx_status_t dst = vmar_op_range(e.root, VMAR_OP_DECOMMIT, a + BLOCK + 6 * P, P, false);
    pmm_fault_inject_every(0);
    T_OK(ust);
    T_OK(dst);
    EXPECT_EQ(entry_size(&e, a + P), 0u);
    EXPECT_EQ(entry_size(&e, a + BLOCK), 0u);
    EXPECT_STATUS(user_read(a, &v), ZX_ERR_NOT_FOUND);
    T_ACCESS_OK(user_read(a + BLOCK + 6 * P, &v));
    EXPECT_EQ(v, 0u);
    T_TRUE(words_intact(ktx, a, 1, VMO_PAGES, VM_LARGE_PAGES + 6));
    EXPECT_EQ(entry_size(&e, a + P), P);
out:
    large_teardown(&e, loaded);
}
