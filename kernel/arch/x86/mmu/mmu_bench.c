/*
 * Guest benchmarks of the page-table engine (kernel command line bench=mmu), see
 * <arch/mmu_bench.h> and docs/benchmarks.md.
 *
 * Each operation runs once to warm up (tables, heap and PMM free lists reach their steady
 * state, QEMU has translated the code), then BENCH_ROUNDS more times; the median is
 * reported with the spread. Under -icount shift=0 every rdtsc delta is an exact count of
 * guest instructions, including the two rdtsc instructions themselves.
 *
 * The aspace is never loaded and no mapped address is ever touched, so the physical
 * addresses need not be real memory: every 4 KiB entry points at one allocated page, and
 * the 1 GiB run is physical [1 GiB, 2 GiB), which a 128 MiB guest does not even have.
 */
#include <arch/mmu.h>
#include <arch/cpu.h>
#include <arch/mmu_bench.h>
#include <bench/median.h>
#include <kernel/console.h>
#include <kernel/types.h>
#include <phys/heap.h>
#include <phys/pmm.h>

#define USER_BASE 0x200000ull
#define USER_END ((1ull << 47) - PAGE_SIZE)

#define SIZE_1G (1ull << 30)
#define BENCH_4K_PAGES 16384u           /* 64 MiB */
#define BENCH_1G_PAGES (SIZE_1G / PAGE_SIZE)
#define BENCH_VA_4K SIZE_1G             /* 1 GiB aligned: whole page tables, as a VMO map */
#define BENCH_VA_1G (512 * SIZE_1G)     /* 512 GiB: its own PML4 slot */
#define BENCH_PA_1G SIZE_1G
#define BENCH_ROUNDS 3
/* Pages per call for the piecewise unmap: half a page table, so no table is ever wholly
 * inside one call and every entry is cleared one by one (the general unmap path). */
#define BENCH_CHUNK_PAGES 256u

/* Back-to-back rdtsc deltas below this mean -icount shift=0 (a few instructions apart);
 * on plain TCG the TSC follows the host clock and the delta is tens of ticks or more. */
#define ICOUNT_MAX_BACK_TO_BACK 10

#define RW (ARCH_MMU_FLAG_PERM_READ | ARCH_MMU_FLAG_PERM_WRITE)
#define RO ARCH_MMU_FLAG_PERM_READ

enum bench_op {
    OP_MAP_4K,
    OP_PROTECT_4K,
    OP_UNMAP_4K,
    OP_UNMAP_4K_CHUNKS,
    OP_MAP_1G,
    OP_UNMAP_1G,
    OP_COUNT,
};

static const struct {
    const char *label;
    size_t pages;
} bench_ops[OP_COUNT] = {
    [OP_MAP_4K] = {"map 4k", BENCH_4K_PAGES},
    [OP_PROTECT_4K] = {"protect 4k", BENCH_4K_PAGES},
    [OP_UNMAP_4K] = {"unmap 4k", BENCH_4K_PAGES},
    [OP_UNMAP_4K_CHUNKS] = {"unmap 4k in 1 MiB calls", BENCH_4K_PAGES},
    [OP_MAP_1G] = {"map_contiguous 1g", BENCH_1G_PAGES},
    [OP_UNMAP_1G] = {"unmap 1g", BENCH_1G_PAGES},
};

/* Times one engine call: `call` is evaluated between two rdtsc, its status kept. */
#define TIME_CALL(st, ticks, call)         \
    do {                                   \
        uint64_t t0_ = arch_cycle_count();        \
        (st) = (call);                     \
        (ticks) = arch_cycle_count() - t0_;       \
    } while (0)

/* One round of every operation; ticks[op] receives the counts. False on an engine error. */
static bool bench_round(arch_aspace_t *as, const paddr_t *list, uint64_t ticks[OP_COUNT]) {
    zx_status_t st;
    size_t done = 0;
    TIME_CALL(st, ticks[OP_MAP_4K],
              arch_mmu_map(as, BENCH_VA_4K, list, BENCH_4K_PAGES, RW, ARCH_EXISTING_ERROR,
                           &done));
    if (st != ZX_OK || done != BENCH_4K_PAGES) {
        printf("bench: FAILED: map 4k returned %d, mapped %zu\n", st, done);
        return false;
    }
    TIME_CALL(st, ticks[OP_PROTECT_4K], arch_mmu_protect(as, BENCH_VA_4K, BENCH_4K_PAGES, RO));
    if (st != ZX_OK) {
        printf("bench: FAILED: protect 4k returned %d\n", st);
        return false;
    }
    TIME_CALL(st, ticks[OP_UNMAP_4K],
              arch_mmu_unmap(as, BENCH_VA_4K, BENCH_4K_PAGES, ARCH_UNMAP_ENLARGE_NO, &done));
    if (st != ZX_OK || done != BENCH_4K_PAGES) {
        printf("bench: FAILED: unmap 4k returned %d, unmapped %zu\n", st, done);
        return false;
    }

    /* Map again (not timed), then unmap in half-table pieces. */
    st = arch_mmu_map(as, BENCH_VA_4K, list, BENCH_4K_PAGES, RW, ARCH_EXISTING_ERROR, NULL);
    if (st != ZX_OK) {
        printf("bench: FAILED: map 4k (again) returned %d\n", st);
        return false;
    }
    size_t total = 0;
    uint64_t t0 = arch_cycle_count();
    for (size_t off = 0; off < BENCH_4K_PAGES && st == ZX_OK; off += BENCH_CHUNK_PAGES) {
        st = arch_mmu_unmap(as, BENCH_VA_4K + off * PAGE_SIZE, BENCH_CHUNK_PAGES,
                            ARCH_UNMAP_ENLARGE_NO, &done);
        total += done;
    }
    ticks[OP_UNMAP_4K_CHUNKS] = arch_cycle_count() - t0;
    if (st != ZX_OK || total != BENCH_4K_PAGES) {
        printf("bench: FAILED: unmap 4k in pieces returned %d, unmapped %zu\n", st, total);
        return false;
    }

    TIME_CALL(st, ticks[OP_MAP_1G],
              arch_mmu_map_contiguous(as, BENCH_VA_1G, BENCH_PA_1G, BENCH_1G_PAGES, RO, &done));
    if (st != ZX_OK || done != BENCH_1G_PAGES) {
        printf("bench: FAILED: map_contiguous 1g returned %d, mapped %zu\n", st, done);
        return false;
    }
    TIME_CALL(st, ticks[OP_UNMAP_1G],
              arch_mmu_unmap(as, BENCH_VA_1G, BENCH_1G_PAGES, ARCH_UNMAP_ENLARGE_NO, &done));
    if (st != ZX_OK || done != BENCH_1G_PAGES) {
        printf("bench: FAILED: unmap 1g returned %d, unmapped %zu\n", st, done);
        return false;
    }
    return true;
}

/* Prints "bench: mmu <op>: N pages, T <unit>, X.Y per page (...)". */
static void report(enum bench_op op, uint64_t samples[BENCH_ROUNDS], const char *unit) {
    uint64_t med = bench_median(samples, BENCH_ROUNDS); /* sorts: min first, max last */
    uint64_t lo = samples[0], hi = samples[BENCH_ROUNDS - 1];
    size_t pages = bench_ops[op].pages;
    /* Tenths per page, rounded: the kernel has no floating point. */
    uint64_t tenths = (med * 10 + pages / 2) / pages;
    printf("bench: mmu %s: %zu pages, %lu %s, %lu.%lu per page "
           "(median of %d; min %lu, max %lu)\n",
           bench_ops[op].label, pages, med, unit, tenths / 10, tenths % 10, BENCH_ROUNDS, lo,
           hi);
}

void mmu_bench_run(void) {
    arch_aspace_t *as = NULL;
    vm_page_t *page = NULL;
    paddr_t pa;
    paddr_t *list = kmalloc(BENCH_4K_PAGES * sizeof(paddr_t));
    uint64_t samples[OP_COUNT][BENCH_ROUNDS];
    uint64_t ticks[OP_COUNT];

    /* What one measurement costs by itself: under -icount shift=0 the handful of
     * instructions from one rdtsc to the next; on plain TCG host TSC ticks, and then the
     * counts are labelled as ticks, not instructions. */
    uint64_t t0 = arch_cycle_count();
    uint64_t overhead = arch_cycle_count() - t0;
    const char *unit = overhead < ICOUNT_MAX_BACK_TO_BACK ? "instructions" : "TSC ticks";
    printf("bench: rdtsc back-to-back: %lu (single digits under -icount shift=0, where counts "
           "are instructions)\n", overhead);

    if (!list || pmm_alloc_page(0, &page, &pa) != ZX_OK ||
        arch_mmu_create(USER_BASE, USER_END - USER_BASE, ARCH_ASPACE_INDEPENDENT, &as) !=
            ZX_OK) {
        printf("bench: FAILED: out of memory for the benchmark setup\n");
        goto out;
    }
    for (size_t i = 0; i < BENCH_4K_PAGES; i++)
        list[i] = pa;

    if (!bench_round(as, list, ticks)) /* warm-up */
        goto out;
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        if (!bench_round(as, list, ticks))
            goto out;
        for (int op = 0; op < OP_COUNT; op++)
            samples[op][r] = ticks[op];
    }
    for (int op = 0; op < OP_COUNT; op++)
        report((enum bench_op)op, samples[op], unit);
    printf("bench: mmu done\n");
out:
    if (as && arch_mmu_destroy(as) != ZX_OK)
        printf("bench: FAILED: destroy of the benchmark aspace\n");
    if (page)
        pmm_free_page(page);
    kfree(list);
}
