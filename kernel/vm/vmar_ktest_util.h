/*
 * What the VMAR-level ktests share (vmar_ktest.c, vm_large_ktest.c): an independent user
 * aspace with the Zircon user range and one paged VMO, status checks that treat an
 * injected NO_MEMORY as "skip", and real user accesses through the #PF hook.
 * Included by ktest files only; every function is static.
 */
#ifndef VM_VMAR_KTEST_UTIL_H
#define VM_VMAR_KTEST_UTIL_H

#include <arch/irq.h>
#include <arch/mmu.h>
#include <arch/probe.h>
#include <kernel/ktest.h>
#include <kernel/thread.h>
#include <phys/pmm.h>
#include <vm/vm_aspace.h>
#include <vm/vmar.h>
#include <vm/vmo.h>

#define P ((size_t)PAGE_SIZE)
#define USER_BASE 0x200000ull
#define USER_SIZE ((1ull << 47) - 4096 - USER_BASE)
#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)
#define RWX (RW | ZX_VM_PERM_EXECUTE)
#define TEST_SEED 0x5eed

/* Status checks that end the test (goto out) and treat NO_MEMORY as "skip". */
#define T_STATUS(expr, want)                                                          \
    do {                                                                              \
        zx_status_t t_st_ = (expr);                                                   \
        if (t_st_ == ZX_ERR_NO_MEMORY && (want) != ZX_ERR_NO_MEMORY)                  \
            goto out;                                                                 \
        if (t_st_ != (want)) {                                                        \
            ktest_fail(ktx, __FILE__, __LINE__, "%s = %d, expected %d", #expr, t_st_, \
                       (int)(want));                                                  \
            goto out;                                                                 \
        }                                                                             \
    } while (0)
#define T_OK(expr) T_STATUS(expr, ZX_OK)
#define T_TRUE(x)                                                                     \
    do {                                                                              \
        if (!(x)) {                                                                   \
            ktest_fail(ktx, __FILE__, __LINE__, "expected true: %s", #x);             \
            goto out;                                                                 \
        }                                                                             \
    } while (0)

struct env {
    vm_aspace_t *as;
    vmar_t *root;
    vmo_t *vmo;
};

static inline zx_status_t env_init(struct env *e, uint64_t vmo_pages, uint32_t vmo_opts) {
    e->as = NULL;
    e->vmo = NULL;
    zx_status_t st = vm_aspace_create(ARCH_ASPACE_INDEPENDENT, USER_BASE, USER_SIZE, "vmar-test",
                                      TEST_SEED, &e->as);
    if (st != ZX_OK)
        return st;
    e->root = vm_aspace_root_vmar(e->as);
    return vmo_create_paged(vmo_pages * P, vmo_opts, &e->vmo);
}

static inline void env_fini(struct env *e) {
    if (e->as)
        vm_aspace_destroy(e->as);
    if (e->vmo)
        vmo_unref(e->vmo);
}

static inline bool mapped(struct env *e, vaddr_t va, paddr_t *pa, uint32_t *flags) {
    return arch_mmu_query(vm_aspace_arch(e->as), va, pa, flags, NULL) == ZX_OK;
}

/* Real accesses: the aspace is loaded and user pages are touched with RFLAGS.AC set
 * (SMAP), so the #PF hook resolves the faults. */
/* The window exists only on CPUs with SMAP (qemu64 and Bochs' model have none). */
static inline void user_access_begin(void) { arch_user_access_begin(); }

static inline void user_access_end(void) { arch_user_access_end(); }

static inline zx_status_t user_write(uintptr_t va, uint64_t v) {
    user_access_begin();
    zx_status_t st = arch_probe_write64(va, v);
    user_access_end();
    return st;
}

static inline zx_status_t user_read(uintptr_t va, uint64_t *v) {
    user_access_begin();
    zx_status_t st = arch_probe_read64(va, v);
    user_access_end();
    return st;
}

/* Runs the calling thread on as (NULL: none), as a user thread would: the fault handler
 * resolves its faults there and every switch back to it loads the tables again. */
static inline void load_aspace(vm_aspace_t *as) {
    arch_irq_state_t s = arch_irq_save();
    thread_set_aspace(thread_current(), as);
    arch_irq_restore(s);
}

/* An access expected to succeed. If it faulted while the PMM injected a failure (the
 * fault handler ran out of memory), the test ends as skipped rather than failed. */
#define T_ACCESS_OK(expr)                                                             \
    do {                                                                              \
        uint64_t t_inj_ = pmm_fault_injected_count();                                 \
        if ((expr) != ZX_OK) {                                                        \
            if (pmm_fault_injected_count() == t_inj_)                                 \
                ktest_fail(ktx, __FILE__, __LINE__, "access failed: %s", #expr);      \
            goto out;                                                                 \
        }                                                                             \
    } while (0)

#endif
