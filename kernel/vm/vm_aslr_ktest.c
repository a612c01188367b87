/*
 * In-kernel tests of ASLR seeding: an aspace's placements are a function of the seed it
 * was created with, and the kernel's own seeds (vm_aslr.c) differ from each other.
 */
#include <arch/mmu.h>
#include <kernel/ktest.h>
#include <vm/vm_aslr.h>
#include <vm/vm_aspace.h>
#include <vm/vmar.h>

#define ASLR_TEST_BASE 0x200000ull
#define ASLR_TEST_SIZE ((1ull << 47) - PAGE_SIZE - ASLR_TEST_BASE)
#define ASLR_TEST_REGIONS 4
#define ASLR_TEST_REGION_SIZE (16 * PAGE_SIZE)
#define ASLR_TEST_SEED 0x5eedull

/*
 * Creates an aspace seeded with seed, places ASLR_TEST_REGIONS regions anywhere in its
 * root VMAR, stores where they landed in out[] and destroys everything again. Returns the
 * first failure (ZX_ERR_NO_MEMORY under PMM fault injection), leaving nothing behind.
 */
static zx_status_t place_regions(uint64_t seed, vaddr_t out[ASLR_TEST_REGIONS]) {
    vm_aspace_t *as;
    zx_status_t st = vm_aspace_create(ARCH_ASPACE_INDEPENDENT, ASLR_TEST_BASE, ASLR_TEST_SIZE,
                                      "aslr-test", seed, &as);
    if (st != ZX_OK)
        return st;
    vmar_t *child[ASLR_TEST_REGIONS] = {0};
    for (int i = 0; i < ASLR_TEST_REGIONS && st == ZX_OK; i++)
        st = vmar_allocate(vm_aspace_root_vmar(as), 0, ASLR_TEST_REGION_SIZE,
                           ZX_VM_CAN_MAP_READ, &child[i], &out[i]);
    for (int i = 0; i < ASLR_TEST_REGIONS; i++) {
        if (child[i]) {
            vmar_destroy(child[i]);
            vmar_unref(child[i]);
        }
    }
    vm_aspace_destroy(as);
    return st;
}

/* The same seed and the same calls place everything at the same addresses; another
 * seed moves every region (two independent draws among ~2^35 pages coincide with odds
 * of about 2^-35). */
KTEST(aslr, seed_fixes_placements) {
    vaddr_t a[ASLR_TEST_REGIONS], b[ASLR_TEST_REGIONS], c[ASLR_TEST_REGIONS];
    zx_status_t st = place_regions(ASLR_TEST_SEED, a);
    if (st == ZX_ERR_NO_MEMORY)
        return; /* fault injection */
    ASSERT_OK(st);
    st = place_regions(ASLR_TEST_SEED, b);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    st = place_regions(ASLR_TEST_SEED + 1, c);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    for (int i = 0; i < ASLR_TEST_REGIONS; i++) {
        EXPECT_EQ(a[i], b[i]);
        EXPECT_NE(a[i], c[i]);
    }
}

/* Kernel seeds are distinct from each other and from the boot seed they come from. */
KTEST(aslr, kernel_seeds_are_distinct) {
    uint64_t a = vm_aslr_kernel_seed(), b = vm_aslr_kernel_seed();
    EXPECT_NE(a, b);
    EXPECT_NE(a, vm_aslr_boot_seed());
    EXPECT_NE(b, vm_aslr_boot_seed());
}
