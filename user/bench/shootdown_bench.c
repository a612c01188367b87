/*
 * TLB shootdown benchmarks (docs/benchmarks.md, "TLB shootdowns"), in guest instructions
 * under -icount with several CPUs (-smp 4). The main thread, pinned to CPU 0, unmaps or
 * protects memory it has touched, twice: with the process running nowhere else (the other
 * CPUs idle, so the aspace is live on CPU 0 only and nothing is sent), and with one
 * thread of the process spinning in user mode on each other CPU (the aspace is live
 * there, so every change is shot down on all of them):
 *
 *   unmap 1 page       zx_vmar_unmap of a one-page mapping just written;
 *   protect 1 page     zx_vmar_protect of such a page to read-only (it is made writable
 *                      and written again outside the measured window);
 *   map+touch+unmap    zx_vmar_map of a one-page VMO, one write, zx_vmar_unmap (the VMO
 *                      keeps its page: the fault maps it);
 *   protect 64 MiB     zx_vmar_protect of a 64 MiB mapping (MAP_RANGE, every page
 *                      present and writable) to read-only (mapped afresh untimed);
 *   unmap 64 MiB       zx_vmar_unmap of that mapping (timed), mapped again untimed.
 *
 * Under icount the CPUs run round-robin on one instruction clock and a vCPU keeps running
 * until it executes pause or hlt: the spinners pause in every iteration, so they give the
 * clock back at once, and the figure is the instructions of every CPU in the window: CPU
 * 0's call and, on the others, the shootdown interrupt and its invalidations (the
 * spinners' few pause iterations too). The median of RUNS runs, in instructions per
 * operation. With fewer than two CPUs it prints "bench: user shootdown skipped: ...".
 */
#include <beryl/startup.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <zircon/syscalls.h>
#include "bench_util.h"

#define ITERS 200u
#define RUNS 5u
#define BIG_SIZE (64u << 20)
#define BIG_ITERS 2u
#define MAX_SPINNERS 63u
#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)

static volatile bool spin_stop;
static volatile uint32_t spinning;

/* Spins in user mode, pausing in every iteration, until spin_stop. */
static void spinner(uintptr_t unused1, uintptr_t unused2) {
    (void)unused1, (void)unused2;
    __atomic_fetch_add(&spinning, 1, __ATOMIC_RELAXED);
    while (!spin_stop)
        __asm__ volatile("pause" ::: "memory");
    zx_thread_exit();
}

static bool fail(const char *what, zx_status_t st) {
    printf("bench: user shootdown FAILED: %s: %d\n", what, st);
    return false;
}

/* One measured operation; returns the instructions it took, or 0 on failure. */
typedef uint64_t (*op_fn)(zx_handle_t vmo, size_t size);

/* unmap 1 page: map and write untimed, unmap timed. */
static uint64_t op_unmap_page(zx_handle_t vmo, size_t size) {
    zx_vaddr_t a;
    if (zx_vmar_map(zx_vmar_root_self(), RW, 0, vmo, 0, size, &a) != ZX_OK)
        return 0;
    *(volatile uint8_t *)a = 1;
    uint64_t t0 = rdtsc();
    zx_status_t st = zx_vmar_unmap(zx_vmar_root_self(), a, size);
    uint64_t d = rdtsc() - t0;
    return st == ZX_OK ? d : 0;
}

/* map+touch+unmap of one page, all timed. */
static uint64_t op_map_touch_unmap(zx_handle_t vmo, size_t size) {
    uint64_t t0 = rdtsc();
    zx_vaddr_t a;
    if (zx_vmar_map(zx_vmar_root_self(), RW, 0, vmo, 0, size, &a) != ZX_OK)
        return 0;
    *(volatile uint8_t *)a = 1;
    zx_status_t st = zx_vmar_unmap(zx_vmar_root_self(), a, size);
    uint64_t d = rdtsc() - t0;
    return st == ZX_OK ? d : 0;
}

static zx_vaddr_t mapped; /* the mapping the protect and unmap operations work on */

/* protect to read-only, timed; back to writable and written again, untimed. */
static uint64_t op_protect(zx_handle_t vmo, size_t size) {
    (void)vmo;
    uint64_t t0 = rdtsc();
    zx_status_t st = zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, mapped, size);
    uint64_t d = rdtsc() - t0;
    if (st != ZX_OK || zx_vmar_protect(zx_vmar_root_self(), RW, mapped, size) != ZX_OK)
        return 0;
    *(volatile uint8_t *)mapped = 1;
    return d;
}

/* protect of the whole MAP_RANGE mapping to read-only, timed; unmapped and mapped again
 * untimed (MAP_RANGE makes every entry writable again; a protect back to writable would
 * leave the entries read-only until each page's next write fault). */
static uint64_t op_protect_big(zx_handle_t vmo, size_t size) {
    uint64_t t0 = rdtsc();
    zx_status_t st = zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, mapped, size);
    uint64_t d = rdtsc() - t0;
    if (st != ZX_OK || zx_vmar_unmap(zx_vmar_root_self(), mapped, size) != ZX_OK ||
        zx_vmar_map(zx_vmar_root_self(), RW | ZX_VM_MAP_RANGE, 0, vmo, 0, size, &mapped) !=
            ZX_OK)
        return 0;
    return d;
}

/* unmap of the whole MAP_RANGE mapping, timed; mapped again untimed. */
static uint64_t op_unmap_big(zx_handle_t vmo, size_t size) {
    uint64_t t0 = rdtsc();
    zx_status_t st = zx_vmar_unmap(zx_vmar_root_self(), mapped, size);
    uint64_t d = rdtsc() - t0;
    if (st != ZX_OK || zx_vmar_map(zx_vmar_root_self(), RW | ZX_VM_MAP_RANGE, 0, vmo, 0, size,
                                   &mapped) != ZX_OK)
        return 0;
    return d;
}

/* Runs op iters times per run, RUNS runs after a warm-up, and prints the median. */
static bool measure(const char *name, const char *where, op_fn op, zx_handle_t vmo, size_t size,
                    unsigned iters) {
    uint64_t runs[RUNS];
    for (unsigned r = 0; r <= RUNS; r++) {
        uint64_t total = 0;
        for (unsigned i = 0; i < iters; i++) {
            uint64_t d = op(vmo, size);
            if (d == 0)
                return fail(name, ZX_ERR_INTERNAL);
            total += d;
        }
        if (r > 0)
            runs[r - 1] = total;
    }
    char label[96];
    snprintf(label, sizeof(label), "%s, %s", name, where);
    bench_report("shootdown ", label, "operation", iters, runs, RUNS);
    return true;
}

/* Every operation once, the process live on `where`. */
static bool measure_all(const char *where) {
    zx_handle_t page, big;
    zx_status_t st = zx_vmo_create(TU_PAGE, 0, &page);
    if (st != ZX_OK)
        return fail("zx_vmo_create", st);
    bool ok = measure("unmap 1 page", where, op_unmap_page, page, TU_PAGE, ITERS) &&
              measure("map+touch+unmap 1 page", where, op_map_touch_unmap, page, TU_PAGE,
                      ITERS);
    if (ok && (st = zx_vmar_map(zx_vmar_root_self(), RW, 0, page, 0, TU_PAGE, &mapped)) != ZX_OK)
        ok = fail("zx_vmar_map", st);
    if (ok) {
        *(volatile uint8_t *)mapped = 1;
        ok = measure("protect 1 page", where, op_protect, page, TU_PAGE, ITERS);
        zx_vmar_unmap(zx_vmar_root_self(), mapped, TU_PAGE);
    }
    zx_handle_close(page);
    if (!ok)
        return false;
    if ((st = zx_vmo_create(BIG_SIZE, 0, &big)) != ZX_OK ||
        (st = zx_vmo_op_range(big, ZX_VMO_OP_COMMIT, 0, BIG_SIZE, NULL, 0)) != ZX_OK ||
        (st = zx_vmar_map(zx_vmar_root_self(), RW | ZX_VM_MAP_RANGE, 0, big, 0, BIG_SIZE,
                          &mapped)) != ZX_OK) {
        printf("bench: user shootdown: 64 MiB skipped (%d: boot with --memory 512M)\n", st);
        zx_handle_close(big);
        return true;
    }
    ok = measure("protect 64 MiB", where, op_protect_big, big, BIG_SIZE, BIG_ITERS) &&
         measure("unmap 64 MiB", where, op_unmap_big, big, BIG_SIZE, BIG_ITERS);
    zx_vmar_unmap(zx_vmar_root_self(), mapped, BIG_SIZE);
    zx_handle_close(big);
    return ok;
}

int main(void) {
    uint32_t n = zx_system_get_num_cpus();
    printf("bench: user shootdown: zx_system_get_num_cpus() = %u\n", n);
    if (n < 2) {
        printf("bench: user shootdown skipped: needs 2 CPUs, zx_system_get_num_cpus() = %u\n", n);
        printf("bench: user shootdown done\n");
        return 0;
    }
    if (tu_pin_mask(beryl_resource(), zx_thread_self(), 1) != ZX_OK) {
        printf("bench: user shootdown FAILED: pinning the main thread\n");
        return 1;
    }
    bool ok = measure_all("process on CPU 0 only");

    uint32_t others = n - 1 < MAX_SPINNERS ? n - 1 : MAX_SPINNERS;
    tu_thread_t t[MAX_SPINNERS];
    uint32_t started = 0;
    for (uint32_t i = 0; ok && i < others; i++) {
        zx_status_t st = tu_thread_create(&t[i]);
        if (st == ZX_OK && (st = tu_pin_mask(beryl_resource(), t[i].thread, 1ull << (i + 1))) ==
                               ZX_OK)
            st = tu_thread_start(&t[i], spinner, 0, 0);
        if (st != ZX_OK) {
            ok = fail("starting a spinner", st);
            if (i == started)
                tu_thread_destroy(&t[i]);
            break;
        }
        started++;
    }
    while (ok && __atomic_load_n(&spinning, __ATOMIC_RELAXED) < started)
        zx_nanosleep(0);
    if (ok) {
        char where[64];
        snprintf(where, sizeof(where), "process also on %u other CPUs", others);
        ok = measure_all(where);
    }
    spin_stop = true;
    for (uint32_t i = 0; i < started; i++) {
        if (tu_thread_join(&t[i], 10 * TU_SEC) != ZX_OK)
            ok = fail("a spinner did not stop", ZX_ERR_TIMED_OUT);
        tu_thread_destroy(&t[i]);
    }
    printf("bench: user shootdown done\n");
    return ok ? 0 : 1;
}
