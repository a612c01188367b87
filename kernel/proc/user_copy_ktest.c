/*
 * In-kernel tests of user copies: a user aspace is loaded on the test thread and the
 * copies are aimed at mapped, read-only, unmapped, kernel and straddling addresses.
 */
#include <arch/irq.h>
#include <arch/mmu.h>
#include <kernel/ktest.h>
#include <kernel/thread.h>
#include <kernel/user_copy.h>
#include <lib/string.h>
#include <vm/vm_aslr.h>
#include <vm/vm_aspace.h>
#include <vm/vmo.h>
#include <vm/vmar.h>

#define UC_PAGES 4u

struct uc_env {
    vm_aspace_t *as;
    vaddr_t rw;   /* UC_PAGES read-write pages, then one read-only page */
    vaddr_t ro;
};

/* Runs the calling thread on as (NULL: none), as a user thread would: the fault handler
 * resolves its faults there and every switch back to it loads the tables again. */
static void load_aspace(vm_aspace_t *as) {
    arch_irq_state_t s = arch_irq_save();
    thread_set_aspace(thread_current(), as);
    arch_irq_restore(s);
}

static bool uc_setup(struct ktest_ctx *ktx, struct uc_env *e) {
    vmo_t *vmo;
    zx_status_t st = vm_aspace_create(ARCH_ASPACE_INDEPENDENT, USER_ASPACE_BASE,
                                      USER_ASPACE_TOP - USER_ASPACE_BASE, "uc",
                                      vm_aslr_kernel_seed(), &e->as);
    if (st == ZX_ERR_NO_MEMORY)
        return false; /* fault injection: skip */
    KT_CHECK_(st == ZX_OK, return false, "aspace: %d", st);
    vmar_t *root = vm_aspace_root_vmar(e->as);
    /* Everything committed and pre-mapped, so that no copy needs memory (the tests also
     * run under PMM fault injection; a setup that runs out of memory skips the test). */
    st = vmo_create_paged((UC_PAGES + 1) * PAGE_SIZE, 0, &vmo);
    if (st == ZX_OK) {
        st = vmo_commit(vmo, 0, (UC_PAGES + 1) * PAGE_SIZE);
        zx_vm_option_t rw = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
        if (st == ZX_OK)
            st = vmar_map(root, 0, vmo, 0, UC_PAGES * PAGE_SIZE, rw | ZX_VM_MAP_RANGE, rw,
                          &e->rw);
        if (st == ZX_OK)
            st = vmar_map(root, 0, vmo, UC_PAGES * PAGE_SIZE, PAGE_SIZE,
                          ZX_VM_PERM_READ | ZX_VM_MAP_RANGE, ZX_VM_PERM_READ, &e->ro);
        vmo_unref(vmo);
    }
    if (st != ZX_OK)
        vm_aspace_destroy(e->as);
    if (st == ZX_ERR_NO_MEMORY)
        return false;
    KT_CHECK_(st == ZX_OK, return false, "map: %d", st);
    load_aspace(e->as);
    return true;
}

static void uc_teardown(struct uc_env *e) {
    load_aspace(NULL);
    vm_aspace_destroy(e->as);
}

KTEST(user_copy, round_trip_through_fresh_pages) {
    struct uc_env e;
    if (!uc_setup(ktx, &e))
        return;
    char out[64], in[64];
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (char)(i * 7 + 1);
    /* Straddles the boundary between the first two pages. */
    user_addr_t at = e.rw + PAGE_SIZE - 20;
    EXPECT_OK(user_copy_to(at, out, sizeof(out)));
    memset(in, 0, sizeof(in));
    EXPECT_OK(user_copy_from(in, at, sizeof(in)));
    EXPECT_EQ(memcmp(in, out, sizeof(in)), 0);
    uc_teardown(&e);
}

KTEST(user_copy, rejects_bad_ranges) {
    struct uc_env e;
    if (!uc_setup(ktx, &e))
        return;
    char buf[16] = {0};
    EXPECT_OK(user_copy_to(0, buf, 0)); /* zero length: any address */
    EXPECT_STATUS(user_copy_to(0, buf, 1), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(user_copy_from(buf, 0, 1), ZX_ERR_INVALID_ARGS);
    /* Kernel half, non-canonical, the excluded top page, and a wrapping range. */
    EXPECT_STATUS(user_copy_from(buf, (user_addr_t)0xffffffff80000000ull, 8),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(user_copy_from(buf, (user_addr_t)0x0000900000000000ull, 8),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(user_copy_from(buf, USER_ASPACE_TOP, 1), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(user_copy_from(buf, USER_ASPACE_TOP - 4, 8), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(user_copy_from(buf, (user_addr_t)-8, 16), ZX_ERR_INVALID_ARGS);
    EXPECT_FALSE(user_range_ok(e.rw, SIZE_MAX));
    uc_teardown(&e);
}

KTEST(user_copy, faults_become_errors) {
    struct uc_env e;
    if (!uc_setup(ktx, &e))
        return;
    char buf[32];
    memset(buf, 0x5a, sizeof(buf));
    /* Unmapped (below the first mapping there is nothing at the aspace base). */
    EXPECT_STATUS(user_copy_from(buf, USER_ASPACE_BASE, 8), ZX_ERR_INVALID_ARGS);
    /* Read-only: reading works (a committed zero page), writing fails. */
    EXPECT_OK(user_copy_from(buf, e.ro, sizeof(buf)));
    EXPECT_EQ(buf[0], 0);
    EXPECT_STATUS(user_copy_to(e.ro, buf, 8), ZX_ERR_INVALID_ARGS);
    /* Straddling the end of the read-write mapping into the read-only one. */
    EXPECT_STATUS(user_copy_to(e.rw + UC_PAGES * PAGE_SIZE - 8, buf, 16), ZX_ERR_INVALID_ARGS);
    uc_teardown(&e);
}
