/*
 * In-kernel tests of the kernel aspace and kernel stacks (test=vm_kernel).
 *
 * Under PMM fault injection (pmm.fail_every=N) a ZX_ERR_NO_MEMORY ends a test early
 * without a failure (the runner still checks that nothing leaked).
 */
#include <arch/mmu.h>
#include <arch/probe.h>
#include <kernel/ktest.h>
#include <phys/physmap.h>
#include <phys/pmm.h>
#include <vm/vm_kernel.h>

#define STACK_PAGES 4u
#define STACK_SIZE (STACK_PAGES * (size_t)PAGE_SIZE)
/* A value that the stack's zeroed pages cannot hold by accident. */
#define FILL_PATTERN 0x5ac4b33f00000000ull

KTEST(vm_kernel, aspace) {
    vm_aspace_t *kas = vm_aspace_kernel();
    ASSERT_TRUE(kas != NULL);
    EXPECT_TRUE(vm_aspace_arch(kas) == arch_mmu_kernel_aspace());
    vmar_t *root = vm_aspace_root_vmar(kas);
    EXPECT_EQ(vmar_base(root), KERNEL_DYNAMIC_BASE);
    EXPECT_EQ(vmar_size(root), KERNEL_DYNAMIC_SIZE);
    /* Clear of the physmap and of the image (top 2 GiB). */
    EXPECT_GE(KERNEL_DYNAMIC_BASE, PHYSMAP_BASE + PHYSMAP_SIZE);
    EXPECT_LE(KERNEL_DYNAMIC_BASE + KERNEL_DYNAMIC_SIZE, 0ull - (2ull << 30));
}

KTEST(vm_kernel, stack) {
    size_t free_before = pmm_count_free_pages();
    struct vm_kernel_stack ks;
    vaddr_t top = 0;
    zx_status_t st = vm_kernel_stack_alloc(STACK_SIZE - 1, &top, &ks);
    if (st == ZX_ERR_NO_MEMORY)
        return; /* fault injection: skip */
    ASSERT_TRUE(st == ZX_OK);
    EXPECT_EQ(ks.size, STACK_SIZE);
    EXPECT_EQ(top, ks.base + STACK_SIZE);
    EXPECT_GE(ks.base - KERNEL_STACK_GUARD_SIZE, KERNEL_DYNAMIC_BASE);
    EXPECT_LE(top, KERNEL_DYNAMIC_BASE + KERNEL_DYNAMIC_SIZE);
    EXPECT_EQ(vmo_committed_pages(ks.vmo), STACK_PAGES);
    /* At least the stack's own pages left the free pool (page tables may add more). */
    EXPECT_LE(pmm_count_free_pages() + STACK_PAGES, free_before);

    /* Every page is mapped read/write, no execute, kernel-only. */
    for (size_t off = 0; off < STACK_SIZE; off += PAGE_SIZE) {
        uint32_t flags = 0;
        EXPECT_OK(arch_mmu_query(arch_mmu_kernel_aspace(), ks.base + off, NULL, &flags, NULL));
        EXPECT_EQ(flags & ARCH_MMU_FLAG_PERM_MASK,
                  ARCH_MMU_FLAG_PERM_READ | ARCH_MMU_FLAG_PERM_WRITE);
    }

    /* Plain accesses over the whole extent: zeroed at first, then they hold what we write. */
    volatile uint64_t *w = (volatile uint64_t *)ks.base;
    size_t words = STACK_SIZE / sizeof(uint64_t);
    size_t nonzero = 0, wrong = 0;
    for (size_t i = 0; i < words; i++)
        nonzero += w[i] != 0;
    for (size_t i = 0; i < words; i++)
        w[i] = FILL_PATTERN | i;
    for (size_t i = 0; i < words; i++)
        wrong += w[i] != (FILL_PATTERN | i);
    EXPECT_EQ(nonzero, (size_t)0);
    EXPECT_EQ(wrong, (size_t)0);

    /* The guard page faults, from its first to its last word. */
    vaddr_t guard = ks.base - KERNEL_STACK_GUARD_SIZE;
    EXPECT_STATUS(arch_probe_write64(guard, 0), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(arch_probe_write64(ks.base - sizeof(uint64_t), 0), ZX_ERR_NOT_FOUND);
    EXPECT_OK(arch_probe_write64(ks.base, 0));
    EXPECT_OK(arch_probe_write64(top - sizeof(uint64_t), 0));

    vaddr_t base = ks.base;
    vm_kernel_stack_free(&ks);
    EXPECT_TRUE(ks.vmar == NULL && ks.vmo == NULL);
    EXPECT_STATUS(arch_mmu_query(arch_mmu_kernel_aspace(), base, NULL, NULL, NULL),
                  ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(arch_probe_write64(base, 0), ZX_ERR_NOT_FOUND);
    EXPECT_EQ(pmm_count_free_pages(), free_before);
}

KTEST(vm_kernel, stack_errors) {
    struct vm_kernel_stack ks;
    vaddr_t top = 0;
    EXPECT_STATUS(vm_kernel_stack_alloc(0, &top, &ks), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(vm_kernel_stack_alloc(KERNEL_DYNAMIC_SIZE, &top, &ks), ZX_ERR_INVALID_ARGS);
}

/* Several stacks at once: distinct, non-overlapping, each with its own guard. */
KTEST(vm_kernel, stacks_disjoint) {
    enum { NSTACKS = 3 };
    struct vm_kernel_stack ks[NSTACKS];
    size_t n = 0;
    for (; n < NSTACKS; n++) {
        vaddr_t top;
        zx_status_t st = vm_kernel_stack_alloc(PAGE_SIZE, &top, &ks[n]);
        if (st == ZX_ERR_NO_MEMORY)
            goto out; /* fault injection: skip */
        if (st != ZX_OK) {
            ktest_fail(ktx, __FILE__, __LINE__, "stack %zu: status %d", n, st);
            goto out;
        }
    }
    for (size_t i = 0; i < NSTACKS; i++)
        for (size_t j = 0; j < NSTACKS; j++) {
            if (i == j)
                continue;
            /* j's guard + stack lies wholly below or wholly above i's. */
            vaddr_t lo = ks[j].base - KERNEL_STACK_GUARD_SIZE, hi = ks[j].base + ks[j].size;
            EXPECT_TRUE(hi <= ks[i].base - KERNEL_STACK_GUARD_SIZE ||
                        lo >= ks[i].base + ks[i].size);
        }
out:
    while (n > 0)
        vm_kernel_stack_free(&ks[--n]);
}
