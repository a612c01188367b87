/*
 * Host benchmark of the x86-64 page-table engine (kernel/arch/x86/mmu) over simulated
 * physical memory, built at -O2 without sanitizers (docs/benchmarks.md).
 *
 *   bench_mmu [MIB [QUERIES]]
 *
 * Times, in a fresh independent aspace: map of MIB MiB (default 1024) in 4 KiB pages in
 * one call, protect of it to read-only, unmap of it (in one call, and again in 1 MiB
 * calls, which clear entries one by one); map_contiguous and unmap of an aligned 1 GiB
 * run; and QUERIES (default 1,000,000) queries of random addresses inside the MIB-MiB
 * 4 KiB mapping. Each operation runs once to warm up, then BENCH_ROUNDS times; the
 * median is printed in ns per page (per query) from clock_gettime(CLOCK_MONOTONIC).
 * Exit status 1 if any engine call fails, so the smoke test (small arguments) catches rot.
 *
 * As in the guest benchmark, the engine never touches the memory it maps, so every 4 KiB
 * entry points at one physical page and the 1 GiB run is far beyond the simulated RAM.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <arch/mmu.h>
#include <bench/median.h>
#include <kernel/console.h>
#include <phys/heap.h>
#include <phys/memrange.h>
#include <phys/physmap.h>
#include <phys/pmm.h>
#include <phys/vm_page.h>

#define MIB (1ull << 20)
#define GIB (1ull << 30)

/* Simulated RAM [SIM_BASE, SIM_BASE + SIM_BYTES): room for the tables of many GiB. */
#define SIM_BASE (2 * MIB)
#define SIM_BYTES (256 * MIB)
#define SIM_RANGES 2

#define USER_BASE 0x200000ull
#define USER_END ((1ull << 47) - PAGE_SIZE)
#define BENCH_VA_4K GIB          /* 1 GiB aligned, like a VMO mapped at a large boundary */
#define BENCH_VA_1G (512 * GIB)  /* its own PML4 slot */
#define BENCH_PA_1G (1024 * GIB) /* never touched: beyond the simulated RAM */
#define PAGES_1G (GIB / PAGE_SIZE)

#define DEFAULT_MIB 1024u
#define DEFAULT_QUERIES 1000000u
#define BENCH_ROUNDS 5
/* Pages per call for the piecewise unmap: half a page table, so every entry is cleared
 * one by one (the general path) rather than whole tables dropped. */
#define BENCH_CHUNK_PAGES 256u
#define QUERY_SEED 0x9e3779b97f4a7c15ull
#define NS_PER_S 1000000000ull

#define RW (ARCH_MMU_FLAG_PERM_READ | ARCH_MMU_FLAG_PERM_WRITE)
#define RO ARCH_MMU_FLAG_PERM_READ

/* ---- host stand-ins for the kernel services the engine and the PMM use ---- */

uintptr_t host_physmap_offset;

void panic(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "PANIC: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

int console_level(void) { return LOG_CRITICAL; }

/* ---- setup ---- */

static void sim_init(void) {
    uint8_t *mem = aligned_alloc(2 * MIB, SIM_BYTES);
    size_t frames = (size_t)((SIM_BASE + SIM_BYTES) >> PAGE_SHIFT);
    vm_page_t *pages = calloc(frames, sizeof(vm_page_t));
    if (!mem || !pages) {
        fprintf(stderr, "bench_mmu: out of host memory\n");
        exit(1);
    }
    host_physmap_offset = (uintptr_t)mem - (uintptr_t)SIM_BASE;
    struct mem_range storage[SIM_RANGES];
    struct range_set free_set;
    range_set_init(&free_set, storage, SIM_RANGES);
    if (range_set_add(&free_set, SIM_BASE, SIM_BYTES) != ZX_OK ||
        pmm_init(pages, frames, &free_set, NULL) != ZX_OK) {
        fprintf(stderr, "bench_mmu: pmm_init failed\n");
        exit(1);
    }
    heap_init();
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Exits with a message if an engine call failed. */
static void check(zx_status_t st, const char *what) {
    if (st != ZX_OK) {
        printf("bench: FAILED: %s returned %d\n", what, st);
        exit(1);
    }
}

/* Prints "bench: host mmu <label>: N <units>, T ns, X ns per <unit> (median of R)". */
static void report(const char *label, size_t count, const char *units, const char *unit,
                   uint64_t *samples) {
    uint64_t med = bench_median(samples, BENCH_ROUNDS);
    printf("bench: host mmu %s: %zu %s, %llu ns, %.3f ns per %s (median of %d)\n", label,
           count, units, (unsigned long long)med, (double)med / (double)count, unit,
           BENCH_ROUNDS);
}

/* xorshift64: a fixed sequence of query addresses. */
static uint64_t next_random(uint64_t *state) {
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

enum {
    OP_MAP_4K,
    OP_PROTECT_4K,
    OP_UNMAP_4K,
    OP_UNMAP_4K_CHUNKS,
    OP_MAP_1G,
    OP_UNMAP_1G,
    OP_QUERY,
    OP_COUNT,
};

/* One round of every operation; ns[op] receives the times. */
static void bench_round(arch_aspace_t *as, const paddr_t *list, size_t pages, size_t queries,
                        uint64_t ns[OP_COUNT]) {
    size_t done = 0;
    uint64_t t;

    t = now_ns();
    check(arch_mmu_map(as, BENCH_VA_4K, list, pages, RW, ARCH_EXISTING_ERROR, &done), "map 4k");
    ns[OP_MAP_4K] = now_ns() - t;

    t = now_ns();
    check(arch_mmu_protect(as, BENCH_VA_4K, pages, RO), "protect 4k");
    ns[OP_PROTECT_4K] = now_ns() - t;

    /* Queries run against the 4 KiB mapping while it exists. */
    uint64_t state = QUERY_SEED, sum = 0;
    t = now_ns();
    for (size_t i = 0; i < queries; i++) {
        vaddr_t va = BENCH_VA_4K + next_random(&state) % (pages * PAGE_SIZE);
        paddr_t pa;
        check(arch_mmu_query(as, va, &pa, NULL, NULL), "query");
        sum += pa;
    }
    ns[OP_QUERY] = now_ns() - t;
    if (sum == 0) /* keeps the loop from being optimised away */
        printf("bench: (query checksum 0)\n");

    t = now_ns();
    check(arch_mmu_unmap(as, BENCH_VA_4K, pages, ARCH_UNMAP_ENLARGE_NO, &done), "unmap 4k");
    ns[OP_UNMAP_4K] = now_ns() - t;
    if (done != pages) {
        printf("bench: FAILED: unmap 4k unmapped %zu of %zu pages\n", done, pages);
        exit(1);
    }

    /* Map again (not timed), then unmap in half-table pieces. */
    check(arch_mmu_map(as, BENCH_VA_4K, list, pages, RW, ARCH_EXISTING_ERROR, NULL), "map 4k");
    t = now_ns();
    for (size_t off = 0; off < pages; off += BENCH_CHUNK_PAGES) {
        size_t n = pages - off < BENCH_CHUNK_PAGES ? pages - off : BENCH_CHUNK_PAGES;
        check(arch_mmu_unmap(as, BENCH_VA_4K + off * PAGE_SIZE, n, ARCH_UNMAP_ENLARGE_NO,
                             NULL), "unmap 4k in pieces");
    }
    ns[OP_UNMAP_4K_CHUNKS] = now_ns() - t;

    t = now_ns();
    check(arch_mmu_map_contiguous(as, BENCH_VA_1G, BENCH_PA_1G, PAGES_1G, RO, NULL),
          "map_contiguous 1g");
    ns[OP_MAP_1G] = now_ns() - t;

    t = now_ns();
    check(arch_mmu_unmap(as, BENCH_VA_1G, PAGES_1G, ARCH_UNMAP_ENLARGE_NO, NULL), "unmap 1g");
    ns[OP_UNMAP_1G] = now_ns() - t;
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : DEFAULT_MIB;
    size_t queries = argc > 2 ? strtoul(argv[2], NULL, 0) : DEFAULT_QUERIES;
    size_t pages = mib * MIB / PAGE_SIZE;
    if (pages == 0 || mib * MIB > 64 * GIB) {
        fprintf(stderr, "usage: bench_mmu [MIB (1..65536) [QUERIES]]\n");
        return 2;
    }
    sim_init();

    vm_page_t *target_page;
    paddr_t target;
    check(pmm_alloc_page(0, &target_page, &target), "pmm_alloc_page");
    paddr_t *list = malloc(pages * sizeof(paddr_t));
    if (!list) {
        fprintf(stderr, "bench_mmu: out of host memory\n");
        return 1;
    }
    for (size_t i = 0; i < pages; i++)
        list[i] = target;

    arch_aspace_t *as;
    check(arch_mmu_create(USER_BASE, USER_END - USER_BASE, ARCH_ASPACE_INDEPENDENT, &as),
          "create");
    uint64_t ns[OP_COUNT], samples[OP_COUNT][BENCH_ROUNDS];
    bench_round(as, list, pages, queries, ns); /* warm-up: caches, heap and PMM lists */
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        bench_round(as, list, pages, queries, ns);
        for (int op = 0; op < OP_COUNT; op++)
            samples[op][r] = ns[op];
    }
    report("map 4k", pages, "pages", "page", samples[OP_MAP_4K]);
    report("protect 4k", pages, "pages", "page", samples[OP_PROTECT_4K]);
    report("unmap 4k", pages, "pages", "page", samples[OP_UNMAP_4K]);
    report("unmap 4k in 1 MiB calls", pages, "pages", "page", samples[OP_UNMAP_4K_CHUNKS]);
    report("map_contiguous 1g", PAGES_1G, "pages", "page", samples[OP_MAP_1G]);
    report("unmap 1g", PAGES_1G, "pages", "page", samples[OP_UNMAP_1G]);
    if (queries)
        report("query 4k random", queries, "queries", "query", samples[OP_QUERY]);
    check(arch_mmu_destroy(as), "destroy");
    pmm_free_page(target_page);
    free(list);
    printf("bench: host mmu done\n");
    return 0;
}
