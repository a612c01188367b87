/*
 * Guest benchmarks of the VM layer (kernel command line bench=vm), see <vm/vm_bench.h>
 * and docs/benchmarks.md.
 *
 * Same method as the page-table engine's (kernel/arch/x86/mmu/mmu_bench.c): one warm-up
 * round, then BENCH_ROUNDS timed rounds, median reported with the spread; under
 * -icount shift=0 each rdtsc delta is an exact count of guest instructions.
 *
 * The user aspace is never loaded: faults are resolved by calling vm_aspace_page_fault
 * directly, which is the whole of the VM's share of a fault (the #PF entry/exit and the
 * access retry are not included).
 */
#include <arch/cpu.h>
#include <bench/median.h>
#include <kernel/console.h>
#include <kernel/types.h>
#include <phys/heap.h>
#include <phys/pmm.h>
#include <vm/vm_aslr.h>
#include <vm/vm_aspace.h>
#include <vm/vm_bench.h>
#include <vm/vmo.h>
#include <vm/vmar.h>

#define USER_BASE 0x200000ull
#define USER_END ((1ull << 47) - PAGE_SIZE)

#define FAULT_PAGES 1024u  /* 4 MiB of write faults */
#define ALLOC_PAGES 1024u  /* pages allocated per allocation run */
#define RANGE_PAGES 16384u /* 64 MiB mapped with MAP_RANGE, then decommitted */
#define CONTIG_PAGES 4096u /* a 16 MiB contiguous VMO mapped with MAP_RANGE, 2 MiB-aligned */
#define BENCH_ROUNDS 3

/* Back-to-back rdtsc deltas below this mean -icount shift=0 (see mmu_bench.c). */
#define ICOUNT_MAX_BACK_TO_BACK 10

#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)
#define FAULT_FLAGS (VM_PF_WRITE | VM_PF_NOT_PRESENT | VM_PF_USER)

enum bench_op {
    OP_FAULT,
    OP_ALLOC_ZERO,
    OP_ALLOC,
    OP_MAP_RANGE,
    OP_DECOMMIT,
    OP_GET_PAGE,
    OP_WALK,
    OP_COW_FAULT,
    OP_MAP_RANGE_CONTIG,
    OP_COUNT,
};

static const struct {
    const char *label;
    size_t pages;
} bench_ops[OP_COUNT] = {
    [OP_FAULT] = {"write fault", FAULT_PAGES},
    [OP_ALLOC_ZERO] = {"pmm_alloc_page zeroed", ALLOC_PAGES},
    [OP_ALLOC] = {"pmm_alloc_page unzeroed", ALLOC_PAGES},
    [OP_MAP_RANGE] = {"map_range committed", RANGE_PAGES},
    [OP_DECOMMIT] = {"decommit mapped", RANGE_PAGES},
    [OP_GET_PAGE] = {"breakdown: vmo_get_page for write", FAULT_PAGES},
    [OP_WALK] = {"breakdown: vmo_for_each_committed walk", RANGE_PAGES},
    [OP_COW_FAULT] = {"copy-on-write fault", FAULT_PAGES},
    [OP_MAP_RANGE_CONTIG] = {"map_range contiguous 2MiB-aligned", CONTIG_PAGES},
};

struct bench_env {
    vm_aspace_t *as;
    vmo_t *big;    /* RANGE_PAGES, committed afresh each round */
    vmo_t *contig; /* CONTIG_PAGES, contiguous, 2 MiB-aligned */
    vm_page_t **pages;   /* ALLOC_PAGES slots for the allocation runs */
};

/* The TSC (<arch/cpu.h>), kept in place relative to the code it brackets. */

static bool failed(const char *what, zx_status_t st) {
    printf("bench: FAILED: %s returned %d\n", what, st);
    return false;
}

/* Write faults over a fresh mapping of a fresh VMO: each one commits (allocates and
 * zeroes) a page and maps it. */
static bool round_fault(struct bench_env *e, uint64_t *ticks) {
    vmo_t *vmo = NULL;
    vaddr_t va = 0;
    zx_status_t st = vmo_create_paged(FAULT_PAGES * PAGE_SIZE, 0, &vmo);
    if (st != ZX_OK)
        return failed("vmo_create_paged", st);
    st = vmar_map(vm_aspace_root_vmar(e->as), 0, vmo, 0, FAULT_PAGES * PAGE_SIZE, RW, RW,
                  &va);
    if (st != ZX_OK) {
        vmo_unref(vmo);
        return failed("vmar_map", st);
    }
    uint64_t t0 = arch_cycle_count();
    for (size_t i = 0; i < FAULT_PAGES && st == ZX_OK; i++)
        st = vm_aspace_page_fault(e->as, va + i * PAGE_SIZE, FAULT_FLAGS);
    *ticks = arch_cycle_count() - t0;
    zx_status_t ust = vmar_unmap(vm_aspace_root_vmar(e->as), va, FAULT_PAGES * PAGE_SIZE,
                                 false);
    vmo_unref(vmo);
    if (st != ZX_OK)
        return failed("vm_aspace_page_fault", st);
    if (ust != ZX_OK)
        return failed("vmar_unmap", ust);
    return true;
}

/* Write faults on a mapping of a snapshot of a committed VMO: each one copies a page. */
static bool round_cow(struct bench_env *e, uint64_t *ticks) {
    const size_t len = FAULT_PAGES * PAGE_SIZE;
    vmo_t *parent = NULL, *child = NULL;
    vaddr_t va = 0;
    bool mapped = false;
    zx_status_t st = vmo_create_paged(len, 0, &parent);
    if (st == ZX_OK)
        st = vmo_commit(parent, 0, len);
    if (st == ZX_OK)
        st = vmo_create_child(parent, VMO_CHILD_SNAPSHOT, 0, len, &child);
    if (st == ZX_OK)
        st = vmar_map(vm_aspace_root_vmar(e->as), 0, child, 0, len, RW, RW, &va);
    mapped = st == ZX_OK;
    uint64_t t0 = arch_cycle_count();
    for (size_t i = 0; i < FAULT_PAGES && st == ZX_OK; i++)
        st = vm_aspace_page_fault(e->as, va + i * PAGE_SIZE, FAULT_FLAGS);
    *ticks = arch_cycle_count() - t0;
    if (mapped)
        vmar_unmap(vm_aspace_root_vmar(e->as), va, len, false);
    if (child)
        vmo_unref(child);
    if (parent)
        vmo_unref(parent);
    return st == ZX_OK ? true : failed("copy-on-write setup or fault", st);
}

/* ALLOC_PAGES single-page allocations with `flags`; the frees are not timed. */
static bool round_alloc(struct bench_env *e, uint32_t flags, uint64_t *ticks) {
    zx_status_t st = ZX_OK;
    size_t n = 0;
    uint64_t t0 = arch_cycle_count();
    for (; n < ALLOC_PAGES; n++) {
        st = pmm_alloc_page(flags, &e->pages[n], NULL);
        if (st != ZX_OK)
            break;
    }
    *ticks = arch_cycle_count() - t0;
    while (n > 0)
        pmm_free_page(e->pages[--n]);
    return st == ZX_OK ? true : failed("pmm_alloc_page", st);
}

/* Breakdown of a write fault: the VMO's part alone (commit = allocate, zero, insert). */
static bool round_get_page(struct bench_env *e, uint64_t *ticks) {
    vmo_t *vmo = NULL;
    zx_status_t st = vmo_create_paged(FAULT_PAGES * PAGE_SIZE, 0, &vmo);
    if (st != ZX_OK)
        return failed("vmo_create_paged", st);
    uint64_t t0 = arch_cycle_count();
    for (size_t i = 0; i < FAULT_PAGES && st == ZX_OK; i++) {
        paddr_t pa;
        bool writable;
        st = vmo_get_page(vmo, i * PAGE_SIZE, true, &pa, &writable);
    }
    *ticks = arch_cycle_count() - t0;
    vmo_unref(vmo);
    return st == ZX_OK ? true : failed("vmo_get_page", st);
}

static zx_status_t count_page(void *ctx, uint64_t offset, paddr_t pa) {
    (*(size_t *)ctx)++;
    return ZX_OK;
}

/* MAP_RANGE of the committed big VMO, then its decommit while mapped. */
static bool round_range(struct bench_env *e, uint64_t *map_ticks, uint64_t *walk_ticks,
                        uint64_t *decommit_ticks) {
    const size_t len = RANGE_PAGES * PAGE_SIZE;
    zx_status_t st = vmo_commit(e->big, 0, len);
    if (st != ZX_OK)
        return failed("vmo_commit", st);
    vaddr_t va = 0;
    uint64_t t0 = arch_cycle_count();
    st = vmar_map(vm_aspace_root_vmar(e->as), 0, e->big, 0, len, RW | ZX_VM_MAP_RANGE, RW,
                  &va);
    *map_ticks = arch_cycle_count() - t0;
    if (st != ZX_OK)
        return failed("vmar_map MAP_RANGE", st);
    /* Breakdown of MAP_RANGE: the VMO's walk over its committed pages alone. */
    size_t n = 0;
    t0 = arch_cycle_count();
    st = vmo_for_each_committed(e->big, 0, len, count_page, &n);
    *walk_ticks = arch_cycle_count() - t0;
    if (st != ZX_OK || n != RANGE_PAGES)
        return failed("vmo_for_each_committed", st);
    t0 = arch_cycle_count();
    st = vmo_decommit(e->big, 0, len);
    *decommit_ticks = arch_cycle_count() - t0;
    zx_status_t ust = vmar_unmap(vm_aspace_root_vmar(e->as), va, len, false);
    if (st != ZX_OK)
        return failed("vmo_decommit", st);
    if (ust != ZX_OK)
        return failed("vmar_unmap", ust);
    return true;
}

/* MAP_RANGE of the contiguous VMO at a 2 MiB-aligned address: large entries only (the
 * unmap after it is not timed). */
static bool round_range_contig(struct bench_env *e, uint64_t *ticks) {
    const size_t len = CONTIG_PAGES * PAGE_SIZE;
    vaddr_t va = 0;
    uint64_t t0 = arch_cycle_count();
    zx_status_t st = vmar_map(vm_aspace_root_vmar(e->as), 0, e->contig, 0, len,
                              RW | ZX_VM_MAP_RANGE | ZX_VM_ALIGN_2MB, RW, &va);
    *ticks = arch_cycle_count() - t0;
    if (st != ZX_OK)
        return failed("vmar_map MAP_RANGE contiguous", st);
    st = vmar_unmap(vm_aspace_root_vmar(e->as), va, len, false);
    return st == ZX_OK ? true : failed("vmar_unmap contiguous", st);
}

static bool bench_round(struct bench_env *e, uint64_t ticks[OP_COUNT]) {
    return round_fault(e, &ticks[OP_FAULT]) &&
           round_alloc(e, PMM_ALLOC_FLAG_ZERO, &ticks[OP_ALLOC_ZERO]) &&
           round_alloc(e, 0, &ticks[OP_ALLOC]) &&
           round_get_page(e, &ticks[OP_GET_PAGE]) && round_cow(e, &ticks[OP_COW_FAULT]) &&
           round_range(e, &ticks[OP_MAP_RANGE], &ticks[OP_WALK], &ticks[OP_DECOMMIT]) &&
           round_range_contig(e, &ticks[OP_MAP_RANGE_CONTIG]);
}

/* Tenths per page, rounded: the kernel has no floating point. */
static uint64_t tenths_per_page(uint64_t total, size_t pages) {
    return (total * 10 + pages / 2) / pages;
}

/* Prints "bench: vm <op>: N pages, T <unit>, X.Y per page (...)"; returns the median. */
static uint64_t report(enum bench_op op, uint64_t s[BENCH_ROUNDS], const char *unit) {
    uint64_t med = bench_median(s, BENCH_ROUNDS);
    size_t pages = bench_ops[op].pages;
    uint64_t tenths = tenths_per_page(med, pages);
    printf("bench: vm %s: %zu pages, %lu %s, %lu.%lu per page (median of %d; min %lu, "
           "max %lu)\n",
           bench_ops[op].label, pages, med, unit, tenths / 10, tenths % 10, BENCH_ROUNDS, s[0],
           s[BENCH_ROUNDS - 1]);
    return med;
}

void vm_bench_run(void) {
    struct bench_env e = {0};
    uint64_t samples[OP_COUNT][BENCH_ROUNDS];
    uint64_t ticks[OP_COUNT];

    uint64_t t0 = arch_cycle_count();
    uint64_t overhead = arch_cycle_count() - t0;
    const char *unit = overhead < ICOUNT_MAX_BACK_TO_BACK ? "instructions" : "TSC ticks";
    printf("bench: rdtsc back-to-back: %lu (single digits under -icount shift=0, where counts "
           "are instructions)\n", overhead);

    e.pages = kmalloc(ALLOC_PAGES * sizeof(*e.pages));
    if (!e.pages ||
        vm_aspace_create(ARCH_ASPACE_INDEPENDENT, USER_BASE, USER_END - USER_BASE, "vm-bench",
                         vm_aslr_kernel_seed(), &e.as) != ZX_OK ||
        vmo_create_paged(RANGE_PAGES * PAGE_SIZE, 0, &e.big) != ZX_OK ||
        vmo_create_contiguous(CONTIG_PAGES * PAGE_SIZE, VM_LARGE_PAGE_SHIFT, &e.contig) != ZX_OK) {
        printf("bench: FAILED: out of memory for the benchmark setup\n");
        goto out;
    }

    if (!bench_round(&e, ticks)) /* warm-up */
        goto out;
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        if (!bench_round(&e, ticks))
            goto out;
        for (int op = 0; op < OP_COUNT; op++)
            samples[op][r] = ticks[op];
    }
    uint64_t med[OP_COUNT];
    for (int op = 0; op < OP_COUNT; op++)
        med[op] = report((enum bench_op)op, samples[op], unit);
    /* Zeroing alone: memset of the page through the physmap (rep stosq, 512 iterations,
     * each one instruction under -icount). */
    uint64_t zt = med[OP_ALLOC_ZERO] > med[OP_ALLOC] ? med[OP_ALLOC_ZERO] - med[OP_ALLOC] : 0;
    uint64_t tenths = tenths_per_page(zt, ALLOC_PAGES);
    printf("bench: vm zeroing alone (zeroed - unzeroed alloc): %lu.%lu %s per page\n",
           tenths / 10, tenths % 10, unit);
    printf("bench: vm done\n");
out:
    if (e.as && vm_aspace_destroy(e.as) != ZX_OK)
        printf("bench: FAILED: destroy of the benchmark aspace\n");
    if (e.big)
        vmo_unref(e.big);
    if (e.contig)
        vmo_unref(e.contig);
    kfree(e.pages);
}
