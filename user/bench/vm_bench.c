/*
 * User-space VM benchmarks (docs/benchmarks.md, "User-space VM benchmarks"): what mapping,
 * faulting, protecting and unmapping memory costs a program, syscall entry and #PF
 * included. Under QEMU's -icount shift=0 the TSC advances one per guest instruction, so
 * rdtsc deltas are instruction counts.
 *
 * 64 MiB workloads (one warm-up round, then the median of BIG_RUNS rounds; every 64 MiB
 * mapping is 2 MiB-aligned, so it covers the same 32 whole page tables whatever address
 * the randomised placement picks):
 *   map+fault      zx_vmar_map (RW) of a fresh, uncommitted 64 MiB VMO, then one byte
 *                  written to each page in address order (16,384 write faults, each
 *                  committing a zeroed page).
 *   unmap touched  zx_vmar_unmap of that mapping, every page present (touched above).
 *   read fault     the same map of a fresh 64 MiB VMO, then one byte read from each page
 *                  (16,384 read faults of never-written memory: each maps the shared zero
 *                  page read-only, no allocation and no zeroing; every byte read must be 0).
 *   map_range      zx_vmar_map (RW | ZX_VM_MAP_RANGE) of a 64 MiB VMO committed once
 *                  beforehand with zx_vmo_op_range(COMMIT) (not timed).
 *   protect        zx_vmar_protect of that populated mapping from RW to R (not timed:
 *                  the unmap that follows).
 * One-page operations (median of SMALL_RUNS runs of SMALL_ITERS operations, per op; one
 * warm-up run first):
 *   map+unmap        zx_vmar_map (RW) of a one-page VMO, zx_vmar_unmap of it.
 *   map+touch+unmap  the same with one byte written in between; the VMO is the same every
 *                    time, so after the warm-up its page is committed and the write fault
 *                    only maps it.
 *   fresh page       zx_vmo_create of one page, map, write one byte, unmap, close: a new
 *                    zeroed page every time (what an anonymous mmap + touch + munmap does).
 *   protect RW->RW   zx_vmar_protect of 64 written pages to the protection they have,
 *                    then one byte written to each (the pair timed; keep_protect_bench).
 * Placement curve (median of CURVE_RUNS runs of CURVE_ITERS operations, one warm-up run):
 *   map+unmap with N other mappings   the map+unmap above while N extra one-page mappings
 *                    (N = 1, 64, 512, 4096, placed by the randomised placement) sit in the
 *                    root VMAR besides the program's own, so the cost's growth with the
 *                    number of mappings is visible (placement_curve_bench).
 * Run: boot with userboot.prefix=bench/ (see docs/benchmarks.md).
 */
#include <stdbool.h>
#include <stdio.h>
#include "bench_util.h"
#include <zircon/process.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#define PAGE 4096u
#define BIG_SIZE (64u << 20)
#define BIG_PAGES (BIG_SIZE / PAGE)
#define BIG_RUNS 3u
#define SMALL_ITERS 1000u
#define SMALL_RUNS 5u
#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)

/* One line: total (median) and per-unit with one decimal. */
static void report(const char *name, const char *unit, uint64_t units, uint64_t *runs,
                   unsigned nruns) {
    bench_report("vm ", name, unit, units, runs, nruns);
}

static int fail(const char *what, zx_status_t st) {
    printf("bench: user vm FAILED: %s: %d\n", what, st);
    return 1;
}

static const zx_vm_option_t big_align = ZX_VM_ALIGN_2MB;

/* map+fault (one byte written to each page, or with `read` one byte read) and unmap of
 * the touched mapping. A read that sees anything but 0 fails the round. */
static int big_fault_round(bool read, uint64_t *t_fault, uint64_t *t_unmap) {
    zx_handle_t vmar = zx_vmar_root_self(), vmo;
    zx_status_t st = zx_vmo_create(BIG_SIZE, 0, &vmo);
    if (st != ZX_OK)
        return fail("zx_vmo_create 64MiB", st);
    zx_vaddr_t addr = 0;
    uint8_t seen = 0;
    uint64_t t0 = rdtsc();
    st = zx_vmar_map(vmar, RW | big_align, 0, vmo, 0, BIG_SIZE, &addr);
    if (st == ZX_OK && read)
        for (uint32_t i = 0; i < BIG_PAGES; i++)
            seen |= *(volatile uint8_t *)(addr + (zx_vaddr_t)i * PAGE);
    else if (st == ZX_OK)
        for (uint32_t i = 0; i < BIG_PAGES; i++)
            *(volatile uint8_t *)(addr + (zx_vaddr_t)i * PAGE) = 1;
    uint64_t t1 = rdtsc();
    if (st != ZX_OK) {
        zx_handle_close(vmo);
        return fail("zx_vmar_map 64MiB", st);
    }
    if (seen != 0) {
        zx_vmar_unmap(vmar, addr, BIG_SIZE);
        zx_handle_close(vmo);
        return fail("never-written memory reads as zero", ZX_ERR_INTERNAL);
    }
    st = zx_vmar_unmap(vmar, addr, BIG_SIZE);
    uint64_t t2 = rdtsc();
    zx_handle_close(vmo);
    if (st != ZX_OK)
        return fail("zx_vmar_unmap 64MiB", st);
    *t_fault = t1 - t0;
    *t_unmap = t2 - t1;
    return 0;
}

/* map_range and protect over the committed VMO; the unmap after them is not timed. */
static int big_range_round(zx_handle_t vmo, uint64_t *t_map, uint64_t *t_protect) {
    zx_handle_t vmar = zx_vmar_root_self();
    zx_vaddr_t addr = 0;
    uint64_t t0 = rdtsc();
    zx_status_t st = zx_vmar_map(vmar, RW | ZX_VM_MAP_RANGE | big_align, 0, vmo, 0, BIG_SIZE,
                                 &addr);
    uint64_t t1 = rdtsc();
    if (st != ZX_OK)
        return fail("zx_vmar_map MAP_RANGE 64MiB", st);
    st = zx_vmar_protect(vmar, ZX_VM_PERM_READ, addr, BIG_SIZE);
    uint64_t t2 = rdtsc();
    zx_status_t ust = zx_vmar_unmap(vmar, addr, BIG_SIZE);
    if (st != ZX_OK)
        return fail("zx_vmar_protect 64MiB", st);
    if (ust != ZX_OK)
        return fail("zx_vmar_unmap 64MiB", ust);
    *t_map = t1 - t0;
    *t_protect = t2 - t1;
    return 0;
}

static int big_benches(void) {
    uint64_t fault[BIG_RUNS], unmap[BIG_RUNS], map_range[BIG_RUNS], protect[BIG_RUNS], a, b;
    if (big_fault_round(false, &a, &b)) /* warm-up */
        return 1;
    for (unsigned r = 0; r < BIG_RUNS; r++)
        if (big_fault_round(false, &fault[r], &unmap[r]))
            return 1;
    report("map+fault 64MiB", "page", BIG_PAGES, fault, BIG_RUNS);
    report("unmap touched 64MiB", "page", BIG_PAGES, unmap, BIG_RUNS);
    if (big_fault_round(true, &a, &b)) /* warm-up */
        return 1;
    for (unsigned r = 0; r < BIG_RUNS; r++)
        if (big_fault_round(true, &fault[r], &unmap[r]))
            return 1;
    report("read fault of never-written memory 64MiB", "page", BIG_PAGES, fault, BIG_RUNS);

    zx_handle_t vmo;
    zx_status_t st = zx_vmo_create(BIG_SIZE, 0, &vmo);
    if (st != ZX_OK)
        return fail("zx_vmo_create 64MiB", st);
    st = zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, 0, BIG_SIZE, NULL, 0);
    int rc = st != ZX_OK ? fail("zx_vmo_op_range COMMIT 64MiB", st) : big_range_round(vmo, &a, &b);
    for (unsigned r = 0; rc == 0 && r < BIG_RUNS; r++)
        rc = big_range_round(vmo, &map_range[r], &protect[r]);
    zx_handle_close(vmo);
    if (rc)
        return rc;
    report("map_range committed 64MiB", "page", BIG_PAGES, map_range, BIG_RUNS);
    report("protect RW->R 64MiB", "page", BIG_PAGES, protect, BIG_RUNS);
    return 0;
}

/* Where a one-page operation maps: anywhere (options 0, the randomised placement) or at
 * one fixed offset of the root VMAR (ZX_VM_SPECIFIC). */
typedef struct {
    zx_handle_t vmo;
    zx_vm_option_t options;
    size_t offset;
} small_ctx_t;

typedef zx_status_t (*op_fn)(const small_ctx_t *c);

/* Maps c's one-page VMO RW (plus c->options at c->offset), optionally writes one byte,
 * and unmaps it again. */
static inline zx_status_t map_maybe_touch_unmap(const small_ctx_t *c, bool touch) {
    zx_vaddr_t addr;
    zx_status_t st = zx_vmar_map(zx_vmar_root_self(), RW | c->options, c->offset, c->vmo, 0,
                                 PAGE, &addr);
    if (st != ZX_OK)
        return st;
    if (touch)
        *(volatile uint8_t *)addr = 1;
    return zx_vmar_unmap(zx_vmar_root_self(), addr, PAGE);
}

static zx_status_t map_unmap(const small_ctx_t *c) { return map_maybe_touch_unmap(c, false); }

static zx_status_t map_touch_unmap(const small_ctx_t *c) {
    return map_maybe_touch_unmap(c, true);
}

static zx_status_t fresh_page(const small_ctx_t *unused) {
    small_ctx_t c = {.options = 0, .offset = 0};
    zx_status_t st = zx_vmo_create(PAGE, 0, &c.vmo);
    if (st != ZX_OK)
        return st;
    st = map_touch_unmap(&c);
    zx_status_t cst = zx_handle_close(c.vmo);
    return st != ZX_OK ? st : cst;
}

static int small_bench(const char *name, op_fn fn, const small_ctx_t *c) {
    uint64_t runs[SMALL_RUNS];
    for (int r = -1; r < (int)SMALL_RUNS; r++) { /* run -1: warm-up */
        uint64_t t0 = rdtsc();
        for (unsigned i = 0; i < SMALL_ITERS; i++) {
            zx_status_t st = fn(c);
            if (st != ZX_OK)
                return fail(name, st);
        }
        uint64_t t = rdtsc() - t0;
        if (r >= 0)
            runs[r] = t;
    }
    report(name, "op", SMALL_ITERS, runs, SMALL_RUNS);
    return 0;
}

/*
 * The breakdown run: the same map+touch+unmap at one fixed address whose page tables
 * stay allocated, because the page just below it stays mapped and touched (an anchor:
 * two pages mapped, the upper one unmapped again to leave a hole that is surely free).
 */
static int small_fixed_bench(zx_handle_t vmo) {
    zx_handle_t vmar = zx_vmar_root_self(), avmo;
    zx_info_vmar_t vi;
    zx_status_t st = zx_object_get_info(vmar, ZX_INFO_VMAR, &vi, sizeof(vi), NULL, NULL);
    if (st != ZX_OK)
        return fail("ZX_INFO_VMAR", st);
    st = zx_vmo_create(2 * PAGE, 0, &avmo);
    if (st != ZX_OK)
        return fail("zx_vmo_create 8KiB", st);
    zx_vaddr_t anchor = 0;
    st = zx_vmar_map(vmar, RW, 0, avmo, 0, 2 * PAGE, &anchor);
    zx_handle_close(avmo);
    if (st != ZX_OK)
        return fail("zx_vmar_map anchor", st);
    *(volatile uint8_t *)anchor = 1;
    st = zx_vmar_unmap(vmar, anchor + PAGE, PAGE);
    int rc = st != ZX_OK ? fail("zx_vmar_unmap anchor", st) : 0;
    small_ctx_t c = {.vmo = vmo, .options = ZX_VM_SPECIFIC, .offset = anchor + PAGE - vi.base};
    if (rc == 0)
        rc = small_bench("breakdown: map+touch+unmap 4KiB, page tables present", map_touch_unmap,
                         &c);
    zx_vmar_unmap(vmar, anchor, PAGE);
    return rc;
}

/* The placement curve: how many extra mappings each step adds up to, and its runs. */
static const unsigned curve_counts[] = {1, 64, 512, 4096};
#define CURVE_MAX 4096u
#define CURVE_ITERS 200u
#define CURVE_RUNS 3u

/*
 * map+unmap of one page with 1, 64, 512 and 4,096 other one-page mappings of `vmo` in the
 * root VMAR (all at offset 0 of the VMO, so no two of them can merge). The extra mappings
 * are added between the steps and unmapped at the end; their addresses live in a VMO-backed
 * array so the program's own memory does not limit the count.
 */
static int placement_curve_bench(zx_handle_t vmo) {
    zx_handle_t vmar = zx_vmar_root_self(), avmo;
    size_t asize = CURVE_MAX * sizeof(zx_vaddr_t);
    zx_status_t st = zx_vmo_create(asize, 0, &avmo);
    if (st != ZX_OK)
        return fail("zx_vmo_create curve array", st);
    zx_vaddr_t aaddr = 0;
    st = zx_vmar_map(vmar, RW, 0, avmo, 0, asize, &aaddr);
    zx_handle_close(avmo);
    if (st != ZX_OK)
        return fail("zx_vmar_map curve array", st);
    zx_vaddr_t *extra = (zx_vaddr_t *)aaddr;
    unsigned n = 0;
    int rc = 0;
    small_ctx_t c = {.vmo = vmo, .options = 0, .offset = 0};
    for (unsigned i = 0; i < sizeof(curve_counts) / sizeof(curve_counts[0]) && rc == 0; i++) {
        for (; n < curve_counts[i]; n++) {
            st = zx_vmar_map(vmar, RW, 0, vmo, 0, PAGE, &extra[n]);
            if (st != ZX_OK) {
                rc = fail("zx_vmar_map curve mapping", st);
                break;
            }
        }
        uint64_t runs[CURVE_RUNS];
        for (int r = -1; r < (int)CURVE_RUNS && rc == 0; r++) { /* run -1: warm-up */
            uint64_t t0 = rdtsc();
            for (unsigned k = 0; k < CURVE_ITERS && rc == 0; k++)
                if ((st = map_unmap(&c)) != ZX_OK)
                    rc = fail("map+unmap with other mappings", st);
            if (r >= 0)
                runs[r] = rdtsc() - t0;
        }
        if (rc == 0) {
            char name[64];
            snprintf(name, sizeof(name), "map+unmap 4KiB, %u other mappings", curve_counts[i]);
            report(name, "op", CURVE_ITERS, runs, CURVE_RUNS);
        }
    }
    for (unsigned k = 0; k < n; k++)
        zx_vmar_unmap(vmar, extra[k], PAGE);
    zx_vmar_unmap(vmar, aaddr, asize);
    return rc;
}

/* The pages of the protect-then-write run. */
#define KEEP_PAGES 64u

/*
 * protect RW->RW then write: a 64-page mapping, every page written once (untimed), then
 * zx_vmar_protect to the protection it already has and one byte written to each page
 * (timed together). A protect that rewrote the entries would make each write fault.
 */
static int keep_protect_bench(void) {
    zx_handle_t vmo;
    zx_status_t st = zx_vmo_create(KEEP_PAGES * PAGE, 0, &vmo);
    if (st != ZX_OK)
        return fail("zx_vmo_create 256KiB", st);
    zx_vaddr_t a = 0;
    st = zx_vmar_map(zx_vmar_root_self(), RW, 0, vmo, 0, KEEP_PAGES * PAGE, &a);
    zx_handle_close(vmo);
    if (st != ZX_OK)
        return fail("zx_vmar_map 256KiB", st);
    for (unsigned p = 0; p < KEEP_PAGES; p++)
        *(volatile uint8_t *)(a + p * PAGE) = 1;
    uint64_t runs[SMALL_RUNS];
    for (int r = -1; r < (int)SMALL_RUNS && st == ZX_OK; r++) { /* run -1: warm-up */
        uint64_t t0 = rdtsc();
        st = zx_vmar_protect(zx_vmar_root_self(), RW, a, KEEP_PAGES * PAGE);
        for (unsigned p = 0; p < KEEP_PAGES; p++)
            *(volatile uint8_t *)(a + p * PAGE) = (uint8_t)r;
        if (r >= 0)
            runs[r] = rdtsc() - t0;
    }
    zx_vmar_unmap(zx_vmar_root_self(), a, KEEP_PAGES * PAGE);
    if (st != ZX_OK)
        return fail("zx_vmar_protect RW->RW", st);
    report("protect RW->RW of 64 written pages, then write each", "op", 1, runs, SMALL_RUNS);
    return 0;
}

int main(void) {
    if (big_benches())
        return 1;
    zx_handle_t vmo;
    zx_status_t st = zx_vmo_create(PAGE, 0, &vmo);
    if (st != ZX_OK)
        return fail("zx_vmo_create 4KiB", st);
    small_ctx_t anywhere = {.vmo = vmo, .options = 0, .offset = 0};
    int fails = small_bench("map+unmap 4KiB", map_unmap, &anywhere);
    fails += small_bench("map+touch+unmap 4KiB", map_touch_unmap, &anywhere);
    fails += small_bench("vmo_create+map+touch+unmap+close 4KiB", fresh_page, NULL);
    fails += small_fixed_bench(vmo);
    fails += keep_protect_bench();
    fails += placement_curve_bench(vmo);
    zx_handle_close(vmo);
    if (fails == 0)
        printf("bench: user vm done\n");
    return fails;
}
