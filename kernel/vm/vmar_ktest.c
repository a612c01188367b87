/*
 * In-kernel tests of the VMAR layer (test=vmar): an independent user aspace with the
 * Zircon user range, paged VMOs mapped into it, faults resolved by calling
 * vm_aspace_page_fault directly (and, in `access`, by real accesses through the #PF
 * hook), and the statuses docs/syscalls.md gives for the zx_vmar_* syscalls.
 *
 * The PMM may fail allocations on purpose (pmm.fail_every=N): any ZX_ERR_NO_MEMORY ends
 * the test early without a failure, after cleaning up (the runner checks for leaks).
 */
#include "vmar_ktest_util.h"

KTEST(vmar, root_and_faults) {
    struct env e;
    vaddr_t a = 0;
    paddr_t pa = 0;
    uint32_t fl = 0;
    T_OK(env_init(&e, 4, 0));
    EXPECT_EQ(vmar_base(e.root), (vaddr_t)USER_BASE);
    EXPECT_EQ(vmar_size(e.root), (size_t)USER_SIZE);
    T_OK(vmar_map(e.root, 0, e.vmo, 0, 8 * P, RW, RWX, &a)); /* past the VMO's end */
    T_TRUE(a >= USER_BASE && a % P == 0 && a + 8 * P <= USER_BASE + USER_SIZE);
    EXPECT_FALSE(mapped(&e, a, NULL, NULL));
    /* read: the zero page, read-only */
    T_OK(vm_aspace_page_fault(e.as, a + 5, VM_PF_NOT_PRESENT));
    T_TRUE(mapped(&e, a, &pa, &fl));
    EXPECT_EQ(pa, vmo_zero_page_paddr());
    EXPECT_FALSE(fl & ARCH_MMU_FLAG_PERM_WRITE);
    EXPECT_TRUE(fl & ARCH_MMU_FLAG_PERM_USER);
    EXPECT_EQ(vmo_committed_pages(e.vmo), 0u);
    /* write: commits and upgrades */
    T_OK(vm_aspace_page_fault(e.as, a + 8, VM_PF_WRITE));
    T_TRUE(mapped(&e, a, &pa, &fl));
    EXPECT_NE(pa, vmo_zero_page_paddr());
    EXPECT_TRUE(fl & ARCH_MMU_FLAG_PERM_WRITE);
    EXPECT_EQ(vmo_committed_pages(e.vmo), 1u);
    EXPECT_STATUS(vm_aspace_page_fault(e.as, a + 4 * P, VM_PF_NOT_PRESENT), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vm_aspace_page_fault(e.as, a + P, VM_PF_EXECUTE), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(vm_aspace_page_fault(e.as, a + 8 * P, 0), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(vm_aspace_page_fault(e.as, a - P, VM_PF_WRITE), ZX_ERR_NOT_FOUND);
    /* read-only mapping: write denied */
    vaddr_t ro = 0;
    T_OK(vmar_map(e.root, 0, e.vmo, 0, P, ZX_VM_PERM_READ, RWX, &ro));
    EXPECT_STATUS(vm_aspace_page_fault(e.as, ro, VM_PF_WRITE), ZX_ERR_ACCESS_DENIED);
    T_OK(vm_aspace_page_fault(e.as, ro, 0));
    T_TRUE(mapped(&e, ro, &pa, &fl));
    EXPECT_FALSE(fl & ARCH_MMU_FLAG_PERM_WRITE);
    EXPECT_EQ(vmar_debug_count_mappings(e.root), 2u);
    EXPECT_EQ(vmo_mapping_count(e.vmo), 2u);
out:
    env_fini(&e);
}

KTEST(vmar, allocate_errors) {
    struct env e;
    vmar_t *c = NULL, *c2 = NULL;
    vaddr_t a = 0, a2 = 0;
    T_OK(env_init(&e, 1, 0));
    const zx_vm_option_t can_rw = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE;
    EXPECT_STATUS(vmar_allocate(e.root, 0, 16 * P, ZX_VM_PERM_READ, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, 0, 16 * P, ZX_VM_MAP_RANGE, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, 0, 16 * P, 1u << 20, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, 0, 16 * P, 9u << ZX_VM_ALIGN_BASE, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, 0, 16 * P, 33u << ZX_VM_ALIGN_BASE, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, 0, 16 * P + 1, 0, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, 0, 0, 0, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, 0, 16 * P, ZX_VM_SPECIFIC_OVERWRITE, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, P, 16 * P, 0, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, P, 16 * P, ZX_VM_SPECIFIC | ZX_VM_OFFSET_IS_UPPER_LIMIT, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, 1, 16 * P, ZX_VM_SPECIFIC, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, USER_SIZE - P, 16 * P, ZX_VM_SPECIFIC, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, 0, USER_SIZE + P, 0, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, 8 * P, 16 * P, ZX_VM_OFFSET_IS_UPPER_LIMIT, &c, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_allocate(e.root, P, 16 * P, ZX_VM_SPECIFIC | ZX_VM_ALIGN_1MB, &c, &a), ZX_ERR_INVALID_ARGS);

    /* A child with READ|WRITE only, no CAN_MAP_SPECIFIC, compact placement. */
    T_OK(vmar_allocate(e.root, 0x100000, 64 * P, ZX_VM_SPECIFIC | can_rw | ZX_VM_COMPACT, &c, &a));
    EXPECT_EQ(a, (vaddr_t)(USER_BASE + 0x100000));
    EXPECT_STATUS(vmar_allocate(e.root, 0x100000 + 8 * P, P, ZX_VM_SPECIFIC, &c2, &a2), ZX_ERR_ALREADY_EXISTS);
    EXPECT_STATUS(vmar_allocate(c, 0, 4 * P, ZX_VM_CAN_MAP_EXECUTE, &c2, &a2), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(vmar_allocate(c, 0, 4 * P, ZX_VM_SPECIFIC, &c2, &a2), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(vmar_allocate(c, 64 * P, 4 * P, ZX_VM_OFFSET_IS_UPPER_LIMIT, &c2, &a2), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(vmar_map(c, 0, e.vmo, 0, P, RWX, RWX, &a2), ZX_ERR_ACCESS_DENIED);
    /* compact: children fill from the bottom; a full VMAR has no resources */
    for (int i = 0; i < 4; i++) {
        T_OK(vmar_map(c, 0, e.vmo, 0, 16 * P, RW, RWX, &a2));
        EXPECT_EQ(a2, a + (vaddr_t)i * 16 * P);
    }
    EXPECT_STATUS(vmar_map(c, 0, e.vmo, 0, P, RW, RWX, &a2), ZX_ERR_NO_RESOURCES);
    EXPECT_STATUS(vmar_allocate(c, 0, P, 0, &c2, &a2), ZX_ERR_NO_RESOURCES);
    /* upper limit and alignment in the root */
    T_OK(vmar_allocate(e.root, 0x40000000, 4 * P, ZX_VM_OFFSET_IS_UPPER_LIMIT | ZX_VM_ALIGN_1MB, &c2, &a2));
    EXPECT_TRUE(a2 % 0x100000 == 0 && a2 + 4 * P <= USER_BASE + 0x40000000);
    EXPECT_OK(vmar_destroy(c2));
    EXPECT_STATUS(vmar_allocate(c2, 0, P, 0, &c, &a), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(vmar_destroy(e.root), ZX_ERR_NOT_SUPPORTED);
out:
    if (c2)
        vmar_unref(c2);
    if (c)
        vmar_unref(c);
    env_fini(&e);
}

KTEST(vmar, map_errors) {
    struct env e;
    vmo_t *rs = NULL;
    vaddr_t a = 0, b = 0;
    T_OK(env_init(&e, 4, 0));
    EXPECT_STATUS(vmar_map(e.root, 0, e.vmo, 0, P, ZX_VM_PERM_WRITE, RWX, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_map(e.root, 0, e.vmo, 0, P, ZX_VM_PERM_READ | ZX_VM_MAP_RANGE | ZX_VM_SPECIFIC_OVERWRITE, RWX, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_map(e.root, 0, e.vmo, 0, P, ZX_VM_PERM_READ | ZX_VM_CAN_MAP_READ, RWX, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_map(e.root, 0, e.vmo, 0, P, RW, ZX_VM_PERM_READ, &a), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(vmar_map(e.root, 0, e.vmo, 0, P, ZX_VM_PERM_READ | ZX_VM_COMPACT, RWX, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_map(e.root, 0, e.vmo, 1, P, ZX_VM_PERM_READ, RWX, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_map(e.root, 0, e.vmo, 0, 0, ZX_VM_PERM_READ, RWX, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_map(e.root, 0, e.vmo, 0, SIZE_MAX, ZX_VM_PERM_READ, RWX, &a), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmar_map(e.root, 0, e.vmo, UINT64_MAX - P + 1, P, ZX_VM_PERM_READ, RWX, &a), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(vmar_map(e.root, 0, e.vmo, 0, P, ZX_VM_PERM_READ | (2u << ZX_VM_ALIGN_BASE), RWX, &a), ZX_ERR_INVALID_ARGS);
    T_OK(vmo_create_paged(P, VMO_OPT_RESIZABLE, &rs));
    EXPECT_STATUS(vmar_map(e.root, 0, rs, 0, P, ZX_VM_PERM_READ | ZX_VM_REQUIRE_NON_RESIZABLE, RWX, &a), ZX_ERR_NOT_SUPPORTED);
    /* a mapping with no permissions is allowed; any access is denied */
    T_OK(vmar_map(e.root, 0, e.vmo, 0, 3 * P - 1, 0, RWX, &a));
    EXPECT_STATUS(vm_aspace_page_fault(e.as, a + 2 * P, 0), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(vm_aspace_page_fault(e.as, a + 3 * P, 0), ZX_ERR_NOT_FOUND); /* rounded to 3 pages */
    /* SPECIFIC over it: ALREADY_EXISTS; SPECIFIC_OVERWRITE replaces (a middle page) */
    EXPECT_STATUS(vmar_map(e.root, a - USER_BASE, e.vmo, 0, P, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, RWX, &b), ZX_ERR_ALREADY_EXISTS);
    T_OK(vmar_map(e.root, a + P - USER_BASE, e.vmo, 3 * P, P, RW | ZX_VM_SPECIFIC_OVERWRITE, RWX, &b));
    EXPECT_EQ(b, a + P);
    EXPECT_EQ(vmar_debug_count_mappings(e.root), 3u);
    T_OK(vm_aspace_page_fault(e.as, b, VM_PF_WRITE));
    EXPECT_STATUS(vmar_map(e.root, USER_SIZE - P, e.vmo, 0, 2 * P, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, RWX, &b), ZX_ERR_INVALID_ARGS);
out:
    if (rs)
        vmo_unref(rs);
    env_fini(&e);
}

KTEST(vmar, unmap_split) {
    struct env e;
    vmar_t *c = NULL;
    vaddr_t a = 0, ca = 0, b = 0;
    T_OK(env_init(&e, 8, 0));
    T_OK(vmar_map(e.root, 0, e.vmo, 0, 8 * P, RW, RWX, &a));
    for (int i = 0; i < 8; i++)
        T_OK(vm_aspace_page_fault(e.as, a + (vaddr_t)i * P, VM_PF_WRITE));
    EXPECT_STATUS(vmar_unmap(e.root, a + 1, P, false), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_unmap(e.root, a, 0, false), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_unmap(e.root, a, SIZE_MAX, false), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_unmap(e.root, USER_BASE - P, 2 * P, false), ZX_ERR_INVALID_ARGS);
    T_OK(vmar_unmap(e.root, a + 3 * P, 2 * P, false)); /* middle */
    EXPECT_EQ(vmar_debug_count_mappings(e.root), 2u);
    EXPECT_TRUE(vmar_debug_tree_ok(e.root)); /* the left part shrank in place */
    EXPECT_TRUE(mapped(&e, a + 2 * P, NULL, NULL));
    EXPECT_FALSE(mapped(&e, a + 3 * P, NULL, NULL));
    EXPECT_FALSE(mapped(&e, a + 4 * P, NULL, NULL));
    EXPECT_TRUE(mapped(&e, a + 5 * P, NULL, NULL));
    EXPECT_STATUS(vm_aspace_page_fault(e.as, a + 4 * P, 0), ZX_ERR_NOT_FOUND);
    T_OK(vmar_unmap(e.root, a, P, false));              /* left */
    T_OK(vmar_unmap(e.root, a + 7 * P, P, false));      /* right */
    T_OK(vmar_unmap(e.root, a + 20 * P, 4 * P, false)); /* nothing there */
    EXPECT_EQ(vmar_debug_count_mappings(e.root), 2u);
    EXPECT_TRUE(vmar_debug_tree_ok(e.root));
    EXPECT_EQ(vmo_mapping_count(e.vmo), 2u);
    /* the right piece still maps the right VMO page: the offset moved with the split */
    T_OK(vm_aspace_page_fault(e.as, a + 6 * P, VM_PF_WRITE));
    EXPECT_EQ(vmo_committed_pages(e.vmo), 8u);
    T_OK(vmar_unmap(e.root, a, 8 * P, false)); /* across holes */
    EXPECT_EQ(vmar_debug_count_mappings(e.root), 0u);
    EXPECT_EQ(vmo_mapping_count(e.vmo), 0u);
    /* sub-VMARs */
    T_OK(vmar_allocate(e.root, 0, 16 * P, ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE, &c, &ca));
    T_OK(vmar_map(c, 0, e.vmo, 0, 4 * P, RW, RWX, &b));
    EXPECT_STATUS(vmar_unmap(e.root, ca, 8 * P, true), ZX_ERR_INVALID_ARGS);   /* partial */
    EXPECT_STATUS(vmar_unmap(e.root, ca, 16 * P, false), ZX_ERR_INVALID_ARGS); /* no OP_CHILDREN */
    EXPECT_TRUE(vmar_debug_tree_ok(e.root));
    T_OK(vmar_unmap(c, b, 4 * P, false));
    T_OK(vmar_unmap(e.root, ca, 16 * P, true));
    EXPECT_TRUE(vmar_debug_tree_ok(e.root));
    EXPECT_TRUE(vmar_is_dead(c));
    EXPECT_STATUS(vmar_map(c, 0, e.vmo, 0, P, RW, RWX, &b), ZX_ERR_BAD_STATE);
out:
    if (c)
        vmar_unref(c);
    env_fini(&e);
}

KTEST(vmar, protect_runs) {
    struct env e;
    vmar_t *c = NULL;
    vaddr_t a = 0, b = 0, ca = 0;
    uint32_t fl = 0;
    T_OK(env_init(&e, 32, 0));
    T_OK(vmar_map(e.root, 0, e.vmo, 0, 32 * P, RW, RW, &a));
    for (int i = 0; i < 32; i++)
        T_OK(vm_aspace_page_fault(e.as, a + (vaddr_t)i * P, VM_PF_WRITE));
    EXPECT_STATUS(vmar_protect(e.root, ZX_VM_PERM_WRITE, a, P, false), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_protect(e.root, ZX_VM_PERM_READ, a + 1, P, false), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_protect(e.root, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, a, P, false), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_protect(e.root, ZX_VM_PERM_READ, a, 0, false), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_protect(e.root, RWX, a, P, false), ZX_ERR_ACCESS_DENIED); /* max RW */
    EXPECT_STATUS(vmar_protect(e.root, ZX_VM_PERM_READ, a + 31 * P, 2 * P, false), ZX_ERR_NOT_FOUND);
    /* middle: three runs in one mapping, the hardware follows */
    T_OK(vmar_protect(e.root, ZX_VM_PERM_READ, a + 4 * P, 2 * P, false));
    EXPECT_EQ(vmar_debug_count_mappings(e.root), 1u);
    EXPECT_EQ(vmar_debug_prot_runs(e.root, a), 3u);
    T_TRUE(mapped(&e, a + 4 * P, NULL, &fl));
    EXPECT_FALSE(fl & ARCH_MMU_FLAG_PERM_WRITE);
    EXPECT_STATUS(vm_aspace_page_fault(e.as, a + 5 * P, VM_PF_WRITE), ZX_ERR_ACCESS_DENIED);
    /* no permissions: translations gone */
    T_OK(vmar_protect(e.root, 0, a + 10 * P, P, false));
    EXPECT_FALSE(mapped(&e, a + 10 * P, NULL, NULL));
    EXPECT_EQ(vmar_debug_prot_runs(e.root, a), 5u);
    /* restore: runs re-merge */
    T_OK(vmar_protect(e.root, RW, a, 32 * P, false));
    EXPECT_EQ(vmar_debug_prot_runs(e.root, a), 1u);
    T_OK(vm_aspace_page_fault(e.as, a + 5 * P, VM_PF_WRITE));
    /* alternating pages: more runs than one mapping keeps -> split, then merge back */
    for (int i = 1; i < 32; i += 2)
        T_OK(vmar_protect(e.root, ZX_VM_PERM_READ, a + (vaddr_t)i * P, P, false));
    EXPECT_GT(vmar_debug_count_mappings(e.root), 1u);
    EXPECT_TRUE(vmar_debug_tree_ok(e.root)); /* split: pieces trimmed in place */
    T_OK(vm_aspace_page_fault(e.as, a + 2 * P, VM_PF_WRITE));
    EXPECT_STATUS(vm_aspace_page_fault(e.as, a + 3 * P, VM_PF_WRITE), ZX_ERR_ACCESS_DENIED);
    T_OK(vmar_protect(e.root, RW, a, 32 * P, false));
    EXPECT_EQ(vmar_debug_count_mappings(e.root), 1u);
    EXPECT_TRUE(vmar_debug_tree_ok(e.root)); /* merged: the survivor grew in place */
    EXPECT_EQ(vmar_debug_prot_runs(e.root, a), 1u);
    EXPECT_EQ(vmo_mapping_count(e.vmo), 1u);
    /* a child VMAR: OP_CHILDREN needed, and through the parent only reduce */
    T_OK(vmar_allocate(e.root, 0, 8 * P, ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE, &c, &ca));
    T_OK(vmar_map(c, 0, e.vmo, 0, 8 * P, ZX_VM_PERM_READ, RW, &b));
    EXPECT_STATUS(vmar_protect(e.root, ZX_VM_PERM_READ, ca, 8 * P, false), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_protect(e.root, RW, ca, 8 * P, true), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(vmar_protect(e.root, ZX_VM_PERM_READ, ca, 8 * P, true));
    EXPECT_OK(vmar_protect(c, RW, b, 8 * P, false));
    T_OK(vmar_unmap(c, b, P, false));
    EXPECT_STATUS(vmar_protect(e.root, ZX_VM_PERM_READ, ca, 8 * P, true), ZX_ERR_NOT_FOUND);
out:
    if (c)
        vmar_unref(c);
    env_fini(&e);
}

/* A protect that keeps the protection, or only adds WRITE, leaves the entries as they
 * are: a page a write fault made writable stays writable (no second fault per page). */
KTEST(vmar, protect_that_changes_nothing_keeps_entries) {
    struct env e;
    vaddr_t a = 0;
    uint32_t fl = 0;
    T_OK(env_init(&e, 4, 0));
    T_OK(vmar_map(e.root, 0, e.vmo, 0, 4 * P, RW, RW, &a));
    T_OK(vm_aspace_page_fault(e.as, a, VM_PF_WRITE));
    T_OK(vm_aspace_page_fault(e.as, a + P, VM_PF_WRITE));
    T_OK(vmar_protect(e.root, RW, a, 4 * P, false));
    T_TRUE(mapped(&e, a, NULL, &fl));
    EXPECT_TRUE(fl & ARCH_MMU_FLAG_PERM_WRITE);
    /* read-only and back: the entries lose WRITE and get it again only by a fault */
    T_OK(vmar_protect(e.root, ZX_VM_PERM_READ, a, 2 * P, false));
    T_TRUE(mapped(&e, a, NULL, &fl));
    EXPECT_FALSE(fl & ARCH_MMU_FLAG_PERM_WRITE);
    T_OK(vmar_protect(e.root, RW, a, 4 * P, false));
    T_TRUE(mapped(&e, a + P, NULL, &fl));
    EXPECT_FALSE(fl & ARCH_MMU_FLAG_PERM_WRITE);
    T_OK(vm_aspace_page_fault(e.as, a + P, VM_PF_WRITE));
    T_TRUE(mapped(&e, a + P, NULL, &fl));
    EXPECT_TRUE(fl & ARCH_MMU_FLAG_PERM_WRITE);
    /* keeping RW over a mix of runs still rewrites nothing that is right */
    T_OK(vmar_protect(e.root, RW, a, 4 * P, false));
    T_TRUE(mapped(&e, a + P, NULL, &fl));
    EXPECT_TRUE(fl & ARCH_MMU_FLAG_PERM_WRITE);
out:
    env_fini(&e);
}

/*
 * protect across mappings in a VMAR and its sub-VMARs: the walk from one mapping to the
 * next goes into sub-VMARs and out again, a gap anywhere (an empty sub-VMAR, a sub-VMAR
 * whose first mapping starts late) is NOT_FOUND and leaves no trace, and mappings that
 * become mergeable merge.
 */
KTEST(vmar, protect_walk) {
    struct env e;
    vmar_t *c = NULL, *s = NULL, *g = NULL;
    vaddr_t ca = 0, sa = 0, ga = 0, x = 0;
    T_OK(env_init(&e, 32, 0));
    const zx_vm_option_t can = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC;
    const zx_vm_option_t here = RW | ZX_VM_SPECIFIC;
    T_OK(vmar_allocate(e.root, 0, 32 * P, can, &c, &ca));
    /* c: A [0, 4) | s [4, 12): B [4, 8), D [8, 12) | E [12, 16) | g [16, 20) empty | F [20, 24) */
    T_OK(vmar_map(c, 0, e.vmo, 0, 4 * P, here, RW, &x));
    T_OK(vmar_allocate(c, 4 * P, 8 * P, can | ZX_VM_SPECIFIC, &s, &sa));
    T_OK(vmar_map(s, 0, e.vmo, 4 * P, 4 * P, here, RW, &x));
    T_OK(vmar_map(s, 4 * P, e.vmo, 8 * P, 4 * P, here, RW, &x));
    T_OK(vmar_map(c, 12 * P, e.vmo, 12 * P, 4 * P, here, RW, &x));
    T_OK(vmar_allocate(c, 16 * P, 4 * P, can | ZX_VM_SPECIFIC, &g, &ga));
    T_OK(vmar_map(c, 20 * P, e.vmo, 20 * P, 4 * P, here, RW, &x));
    EXPECT_EQ(vmar_debug_count_mappings(c), 5u);
    /* through s without OP_CHILDREN: refused, nothing changed */
    EXPECT_STATUS(vmar_protect(c, ZX_VM_PERM_READ, ca + 2 * P, 12 * P, false), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(vmar_debug_prot_runs(c, ca), 1u);
    T_OK(vm_aspace_page_fault(e.as, ca + 2 * P, VM_PF_WRITE));
    /* from the middle of A, through B and D in s, to the middle of E */
    T_OK(vmar_protect(c, ZX_VM_PERM_READ, ca + 2 * P, 12 * P, true));
    T_OK(vm_aspace_page_fault(e.as, ca + P, VM_PF_WRITE));
    EXPECT_STATUS(vm_aspace_page_fault(e.as, ca + 2 * P, VM_PF_WRITE), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(vm_aspace_page_fault(e.as, ca + 5 * P, VM_PF_WRITE), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(vm_aspace_page_fault(e.as, ca + 11 * P, VM_PF_WRITE), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(vm_aspace_page_fault(e.as, ca + 13 * P, VM_PF_WRITE), ZX_ERR_ACCESS_DENIED);
    T_OK(vm_aspace_page_fault(e.as, ca + 14 * P, VM_PF_WRITE));
    EXPECT_EQ(vmar_debug_prot_runs(c, ca), 2u);
    EXPECT_EQ(vmar_debug_prot_runs(c, ca + 12 * P), 2u);
    EXPECT_EQ(vmar_debug_count_mappings(c), 4u); /* B and D merged */
    EXPECT_EQ(vmar_debug_prot_runs(s, sa), 1u);
    /* an empty sub-VMAR in the range is a gap: E keeps its runs, F stays writable */
    EXPECT_STATUS(vmar_protect(c, RW, ca + 12 * P, 12 * P, true), ZX_ERR_NOT_FOUND);
    EXPECT_EQ(vmar_debug_prot_runs(c, ca + 12 * P), 2u);
    EXPECT_STATUS(vm_aspace_page_fault(e.as, ca + 13 * P, VM_PF_WRITE), ZX_ERR_ACCESS_DENIED);
    T_OK(vm_aspace_page_fault(e.as, ca + 20 * P, VM_PF_WRITE));
    /* a sub-VMAR whose first mapping starts past the walk's position is a gap too */
    T_OK(vmar_unmap(s, sa, P, false));
    EXPECT_STATUS(vmar_protect(c, RW, ca, 8 * P, true), ZX_ERR_NOT_FOUND);
    EXPECT_EQ(vmar_debug_prot_runs(c, ca), 2u);
    /* A whole again: its runs merge back */
    T_OK(vmar_protect(c, RW, ca, 4 * P, false));
    EXPECT_EQ(vmar_debug_prot_runs(c, ca), 1u);
    EXPECT_EQ(vmar_debug_count_mappings(c), 4u);
out:
    if (g)
        vmar_unref(g);
    if (s)
        vmar_unref(s);
    if (c)
        vmar_unref(c);
    env_fini(&e);
}

KTEST(vmar, destroy_nested) {
    struct env e;
    vmar_t *c = NULL, *g = NULL, *x = NULL;
    vaddr_t ca = 0, ga = 0, a = 0;
    T_OK(env_init(&e, 4, 0));
    const zx_vm_option_t can = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC;
    T_OK(vmar_allocate(e.root, 0, 64 * P, can, &c, &ca));
    T_OK(vmar_allocate(c, 16 * P, 16 * P, can | ZX_VM_SPECIFIC, &g, &ga));
    EXPECT_EQ(ga, ca + 16 * P);
    T_OK(vmar_map(g, 0, e.vmo, 0, 4 * P, RW, RW, &a));
    T_OK(vm_aspace_page_fault(e.as, a, VM_PF_WRITE));
    T_OK(vmar_map(c, 0, e.vmo, 0, 4 * P, RW, RW, &a));
    T_OK(vm_aspace_page_fault(e.as, a, 0));
    EXPECT_EQ(vmar_debug_count_mappings(e.root), 2u);
    T_OK(vmar_destroy(c));
    EXPECT_EQ(vmar_debug_count_mappings(e.root), 0u);
    EXPECT_EQ(vmo_mapping_count(e.vmo), 0u);
    EXPECT_FALSE(mapped(&e, a, NULL, NULL));
    EXPECT_FALSE(mapped(&e, ga, NULL, NULL));
    EXPECT_STATUS(vmar_destroy(c), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(vmar_destroy(g), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(vmar_allocate(g, 0, P, 0, &x, &a), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(vmar_map(g, 0, e.vmo, 0, P, RW, RW, &a), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(vmar_unmap(g, ga, P, true), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(vmar_protect(g, RW, ga, P, true), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(vm_aspace_page_fault(e.as, ga, 0), ZX_ERR_NOT_FOUND);
    /* the range is free again */
    T_OK(vmar_allocate(e.root, ca - USER_BASE, 64 * P, ZX_VM_SPECIFIC, &x, &a));
out:
    if (x)
        vmar_unref(x);
    if (g)
        vmar_unref(g);
    if (c)
        vmar_unref(c);
    env_fini(&e);
}

KTEST(vmar, decommit_and_shrink) {
    struct env e;
    vmo_t *rs = NULL;
    vaddr_t a = 0, r = 0;
    T_OK(env_init(&e, 4, 0));
    T_OK(vmar_map(e.root, 0, e.vmo, 0, 4 * P, RW, RW, &a));
    for (int i = 0; i < 4; i++)
        T_OK(vm_aspace_page_fault(e.as, a + (vaddr_t)i * P, VM_PF_WRITE));
    T_OK(vmo_decommit(e.vmo, P, 2 * P));
    EXPECT_TRUE(mapped(&e, a, NULL, NULL));
    EXPECT_FALSE(mapped(&e, a + P, NULL, NULL));
    EXPECT_FALSE(mapped(&e, a + 2 * P, NULL, NULL));
    EXPECT_TRUE(mapped(&e, a + 3 * P, NULL, NULL));
    EXPECT_EQ(vmo_committed_pages(e.vmo), 2u);
    /* through the VMAR */
    EXPECT_STATUS(vmar_op_range(e.root, 7, a, P, false), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vmar_op_range(e.root, VMAR_OP_DECOMMIT, a, 8 * P, false), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(vmar_op_range(e.root, VMAR_OP_DECOMMIT, USER_BASE - P, P, false), ZX_ERR_OUT_OF_RANGE);
    T_OK(vmar_op_range(e.root, VMAR_OP_DECOMMIT, a, 4 * P, false));
    EXPECT_FALSE(mapped(&e, a, NULL, NULL));
    EXPECT_FALSE(mapped(&e, a + 3 * P, NULL, NULL));
    EXPECT_EQ(vmo_committed_pages(e.vmo), 0u);
    T_OK(vmar_op_range(e.root, VMAR_OP_COMMIT, a, 4 * P, false));
    EXPECT_EQ(vmo_committed_pages(e.vmo), 4u);
    /* shrink under a live mapping */
    T_OK(vmo_create_paged(4 * P, VMO_OPT_RESIZABLE, &rs));
    T_OK(vmar_map(e.root, 0, rs, 0, 4 * P, RW, RW, &r));
    for (int i = 0; i < 4; i++)
        T_OK(vm_aspace_page_fault(e.as, r + (vaddr_t)i * P, VM_PF_WRITE));
    T_OK(vmo_set_size(rs, 2 * P));
    EXPECT_TRUE(mapped(&e, r + P, NULL, NULL));
    EXPECT_FALSE(mapped(&e, r + 2 * P, NULL, NULL));
    EXPECT_FALSE(mapped(&e, r + 3 * P, NULL, NULL));
    EXPECT_STATUS(vm_aspace_page_fault(e.as, r + 3 * P, VM_PF_WRITE), ZX_ERR_OUT_OF_RANGE);
out:
    env_fini(&e);
    if (rs)
        vmo_unref(rs);
}

KTEST(vmar, map_range) {
    struct env e;
    vaddr_t a = 0;
    paddr_t pa = 0;
    uint32_t fl = 0;
    const size_t pages = 40; /* more than one batch */
    T_OK(env_init(&e, pages, 0));
    T_OK(vmo_commit(e.vmo, 0, 20 * P));
    T_OK(vmo_commit(e.vmo, 22 * P, 18 * P));
    T_OK(vmar_map(e.root, 0, e.vmo, 0, (pages + 4) * P, RW | ZX_VM_MAP_RANGE, RW, &a));
    for (size_t i = 0; i < pages + 4; i++)
        EXPECT_EQ(mapped(&e, a + i * P, &pa, &fl), i < pages && i != 20 && i != 21);
    EXPECT_TRUE(fl & ARCH_MMU_FLAG_PERM_WRITE);
    T_OK(vmo_commit(e.vmo, 20 * P, P));
    T_OK(vmar_op_range(e.root, VMAR_OP_MAP_RANGE, a, 24 * P, false));
    EXPECT_TRUE(mapped(&e, a + 20 * P, NULL, NULL));
    EXPECT_FALSE(mapped(&e, a + 21 * P, NULL, NULL));
out:
    env_fini(&e);
}

/* PREFETCH and ALWAYS_NEED populate the committed pages like MAP_RANGE; DONT_NEED only
 * validates; ZERO zeroes the mapped VMO (whole pages decommitted, so unmapped). */
KTEST(vmar, prefetch_hints_and_zero) {
    struct env e;
    vaddr_t a = 0;
    T_OK(env_init(&e, 4, 0));
    T_OK(vmo_commit(e.vmo, 0, 4 * P));
    T_OK(vmar_map(e.root, 0, e.vmo, 0, 4 * P, RW, RW, &a));
    T_OK(vmar_op_range(e.root, VMAR_OP_DONT_NEED, a, 4 * P, false));
    EXPECT_FALSE(mapped(&e, a, NULL, NULL));
    T_OK(vmar_op_range(e.root, VMAR_OP_PREFETCH, a, 2 * P, false));
    EXPECT_TRUE(mapped(&e, a + P, NULL, NULL));
    EXPECT_FALSE(mapped(&e, a + 2 * P, NULL, NULL));
    T_OK(vmar_op_range(e.root, VMAR_OP_ALWAYS_NEED, a + 2 * P, 2 * P, false));
    EXPECT_TRUE(mapped(&e, a + 3 * P, NULL, NULL));
    EXPECT_STATUS(vmar_op_range(e.root, VMAR_OP_PREFETCH, a, 5 * P, false), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(vmar_op_range(e.root, VMAR_OP_ZERO, a, 5 * P, false), ZX_ERR_BAD_STATE);
    EXPECT_EQ(vmo_committed_pages(e.vmo), 4u); /* a failed ZERO changed nothing */
    T_OK(vmar_op_range(e.root, VMAR_OP_ZERO, a + P, 2 * P, false));
    EXPECT_TRUE(mapped(&e, a, NULL, NULL));
    EXPECT_FALSE(mapped(&e, a + P, NULL, NULL));
    EXPECT_FALSE(mapped(&e, a + 2 * P, NULL, NULL));
    EXPECT_EQ(vmo_committed_pages(e.vmo), 2u);
out:
    env_fini(&e);
}

KTEST(vmar, access) {
    struct env e;
    vaddr_t a = 0;
    uint64_t v = 0;
    bool loaded = false;
    T_OK(env_init(&e, 4, 0));
    T_OK(vmar_map(e.root, 0, e.vmo, 0, 4 * P, RW, RW, &a));
    load_aspace(e.as);
    loaded = true;
    T_ACCESS_OK(user_read(a + 8, &v)); /* zero page */
    EXPECT_EQ(v, 0u);
    T_ACCESS_OK(user_write(a + 8, 0x1234)); /* commits */
    T_ACCESS_OK(user_read(a + 8, &v));
    EXPECT_EQ(v, 0x1234u);
    EXPECT_EQ(vmo_committed_pages(e.vmo), 1u);
    T_OK(vmar_protect(e.root, ZX_VM_PERM_READ, a, P, false));
    EXPECT_STATUS(user_write(a + 8, 1), ZX_ERR_NOT_FOUND); /* read-only: not resolved */
    T_OK(vmar_protect(e.root, RW, a, P, false));
    T_ACCESS_OK(user_write(a + 8, 0x5678)); /* re-enabled by a fault */
    T_ACCESS_OK(user_read(a + 8, &v));
    EXPECT_EQ(v, 0x5678u);
    /* Decommit of a mapped, written page: the next access reads zeros, not stale data. */
    T_OK(vmar_op_range(e.root, VMAR_OP_DECOMMIT, a, P, false));
    EXPECT_EQ(vmo_committed_pages(e.vmo), 0u);
    T_ACCESS_OK(user_read(a + 8, &v));
    EXPECT_EQ(v, 0u);
    if (arch_user_access_guarded()) /* AC clear: an SMAP violation, never resolved */
        EXPECT_STATUS(arch_probe_read64(a + P, &v), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(user_read(a + 4 * P, &v), ZX_ERR_NOT_FOUND);    /* unmapped */
out:
    if (loaded)
        load_aspace(NULL);
    env_fini(&e);
}

/*
 * Copy-on-write seen through real mappings: a snapshot child and its parent mapped side by
 * side; writes through either mapping after the snapshot stay invisible to the other.
 */
KTEST(vmar, cow_isolation_through_mappings) {
    struct env e;
    vmo_t *child = NULL;
    vaddr_t a = 0, c = 0;
    uint64_t v = 0;
    bool loaded = false;
    T_OK(env_init(&e, 4, 0));
    T_OK(vmar_map(e.root, 0, e.vmo, 0, 4 * P, RW, RW, &a));
    load_aspace(e.as);
    loaded = true;
    T_ACCESS_OK(user_write(a, 0x1111));
    T_OK(vmo_create_child(e.vmo, VMO_CHILD_SNAPSHOT, 0, 4 * P, &child));
    T_OK(vmar_map(e.root, 0, child, 0, 4 * P, RW, RW, &c));
    T_ACCESS_OK(user_read(c, &v));
    EXPECT_EQ(v, 0x1111u); /* the child sees the parent's content at the snapshot */
    T_ACCESS_OK(user_write(a, 0x2222));
    T_ACCESS_OK(user_read(c, &v));
    EXPECT_EQ(v, 0x1111u); /* a parent write after the snapshot is not seen */
    T_ACCESS_OK(user_write(c, 0x3333));
    T_ACCESS_OK(user_read(a, &v));
    EXPECT_EQ(v, 0x2222u); /* a child write is never seen by the parent */
    T_ACCESS_OK(user_read(c, &v));
    EXPECT_EQ(v, 0x3333u);
out:
    if (loaded)
        load_aspace(NULL);
    env_fini(&e); /* unmaps both mappings, dropping their VMO references */
    if (child)
        vmo_unref(child);
}

/* The user ranges of a shared process's two parts (docs/architecture.md, "Shared
 * processes and the unified aspace"). */
#define RESTRICTED_END 0x400000000000ull
#define SHARED_BASE (RESTRICTED_END + P)

/*
 * vm_aspace_dump_walk on a unified aspace (the console's `walk`, a shared process's
 * fault report): it holds the unified aspace's lock and the owning part's, in that
 * order, for an address in either part, and answers BAD_STATE (printing nothing) once
 * the unified aspace is destroyed.
 */
KTEST(vmar, unified_dump_walk) {
    vm_aspace_t *shared = NULL, *restricted = NULL, *unified = NULL;
    vmo_t *vmo = NULL;
    bool held = false;
    vaddr_t sa = 0, ra = 0;
    T_OK(vm_aspace_create(ARCH_ASPACE_SHARED, SHARED_BASE, USER_BASE + USER_SIZE - SHARED_BASE,
                          "walk-shared", TEST_SEED, &shared));
    T_OK(vm_aspace_create(ARCH_ASPACE_RESTRICTED, USER_BASE, RESTRICTED_END - USER_BASE,
                          "walk-restricted", TEST_SEED, &restricted));
    T_OK(vm_aspace_create_unified(shared, restricted, "walk-unified", &unified));
    T_OK(vmo_create_paged(P, 0, &vmo));
    T_OK(vmar_map(vm_aspace_root_vmar(shared), 0, vmo, 0, P, RW, RW, &sa));
    T_OK(vmar_map(vm_aspace_root_vmar(restricted), 0, vmo, 0, P, RW, RW, &ra));
    T_OK(vm_aspace_page_fault(unified, sa, VM_PF_WRITE | VM_PF_USER | VM_PF_NOT_PRESENT));
    EXPECT_OK(vm_aspace_dump_walk(unified, sa));
    EXPECT_OK(vm_aspace_dump_walk(unified, ra));
    EXPECT_OK(vm_aspace_dump_walk(shared, sa));
    vm_aspace_ref(unified);
    held = true;
    T_OK(vm_aspace_destroy(unified));
    EXPECT_STATUS(vm_aspace_dump_walk(unified, sa), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(vm_aspace_dump_walk(unified, ra), ZX_ERR_BAD_STATE);
out:
    if (unified && held)
        vm_aspace_unref(unified);
    else if (unified)
        vm_aspace_destroy(unified);
    if (restricted)
        vm_aspace_destroy(restricted);
    if (shared)
        vm_aspace_destroy(shared);
    if (vmo)
        vmo_unref(vmo);
}

/* An unmap skips the page-table engine for a mapping no fault or MAP_RANGE ever touched
 * (vm_mapping_t.populated). The pieces of a touched mapping keep the mark through a
 * split (an unmap of its middle) and a merge (a map that fills the hole), so unmapping
 * the piece that holds a translation removes it. */
KTEST(vmar, unmap_of_split_and_merged_pieces_removes_translations) {
    struct env e;
    vaddr_t a = 0, b = 0, c = 0;
    T_OK(env_init(&e, 4, 0));
    T_OK(vmar_map(e.root, 0, e.vmo, 0, 4 * P, RW, RW, &a));
    T_OK(vm_aspace_page_fault(e.as, a + 3 * P, VM_PF_WRITE));
    T_OK(vmar_unmap(e.root, a + P, P, false)); /* two pieces */
    T_TRUE(mapped(&e, a + 3 * P, NULL, NULL));
    T_OK(vmar_unmap(e.root, a + 2 * P, 2 * P, false)); /* the right piece, whole */
    EXPECT_FALSE(mapped(&e, a + 3 * P, NULL, NULL));
    /* Split while untouched, the right piece touched, the hole mapped again: the pieces
     * merge into the left one at the next protect, and it must know it now holds a
     * translation. */
    T_OK(vmar_map(e.root, 0, e.vmo, 0, 4 * P, RW, RW, &b));
    T_OK(vmar_unmap(e.root, b + P, P, false));
    T_OK(vm_aspace_page_fault(e.as, b + 3 * P, VM_PF_WRITE));
    T_OK(vmar_map(e.root, b + P - vmar_base(e.root), e.vmo, P, P, RW | ZX_VM_SPECIFIC, RW, &c));
    EXPECT_EQ(c, b + P);
    T_OK(vmar_protect(e.root, RW, b, 4 * P, false)); /* merges the three */
    T_OK(vmar_unmap(e.root, b, 4 * P, false));
    EXPECT_FALSE(mapped(&e, b + 3 * P, NULL, NULL));
out:
    env_fini(&e);
}
