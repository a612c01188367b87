/*
 * Parallel page faults (docs/benchmarks.md, "Parallel faults"): wall-clock time of demand
 * faults taken by 1, 2, 4 ... threads of one process at once, each pinned to its own CPU
 * and writing one byte into every page of its own fresh mapping (disjoint ranges of one
 * address space, a VMO each). Run it without -icount, under multi-threaded TCG, so the
 * guest's CPUs really run in parallel on the host's cores; the figures are as noisy as
 * the host is busy: the median of RUNS runs is printed, with the speed-up over one thread.
 *
 * Each run: the threads wait at a start flag, the first one stamps the monotonic clock
 * and raises it once all are ready, each touches PAGES pages, and the last one to finish
 * stamps the clock again; the main thread sleeps meanwhile. With fewer than two CPUs it prints "bench: user faults skipped: ...".
 */
#include <beryl/startup.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <zircon/syscalls.h>
#include "bench_util.h"

#define PAGES 2048u /* per thread: 8 MiB */
#define RUNS 5u
#define MAX_THREADS 8u
#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)

typedef struct {
    tu_thread_t t;
    zx_handle_t vmo;
    zx_vaddr_t base;
    volatile zx_status_t status;
} faulter_t;

static faulter_t faulters[MAX_THREADS];
static volatile bool go;
static volatile uint32_t ready, done, nthreads;
static volatile zx_time_t started, finished;

/* Waits until every thread of the run is ready (the first one then stamps the clock and
 * starts them all), writes one byte into each of its PAGES pages, and the last one to
 * finish stamps the clock again. */
static void faulter_main(uintptr_t arg, uintptr_t unused) {
    (void)unused;
    faulter_t *f = (faulter_t *)arg;
    __atomic_fetch_add(&ready, 1, __ATOMIC_RELEASE);
    if (f == &faulters[0]) {
        while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) < nthreads)
            __asm__ volatile("pause" ::: "memory");
        started = zx_clock_get_monotonic();
        __atomic_store_n(&go, true, __ATOMIC_RELEASE);
    }
    while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause" ::: "memory");
    for (uint32_t i = 0; i < PAGES; i++)
        *(volatile uint8_t *)(f->base + (zx_vaddr_t)i * TU_PAGE) = (uint8_t)i;
    if (__atomic_add_fetch(&done, 1, __ATOMIC_ACQ_REL) == nthreads)
        finished = zx_clock_get_monotonic();
    zx_thread_exit();
}

/* One run with n threads: the nanoseconds from the start flag to the last thread's
 * report, or 0 on failure (printed). */
static zx_duration_t run_once(uint32_t n) {
    zx_duration_t elapsed = 0;
    uint32_t made = 0;
    ready = done = 0;
    nthreads = n;
    go = false;
    zx_status_t st = ZX_OK;
    for (; made < n && st == ZX_OK; made++) {
        faulter_t *f = &faulters[made];
        st = zx_vmo_create((uint64_t)PAGES * TU_PAGE, 0, &f->vmo);
        if (st == ZX_OK)
            st = zx_vmar_map(zx_vmar_root_self(), RW, 0, f->vmo, 0, (uint64_t)PAGES * TU_PAGE,
                             &f->base);
        if (st == ZX_OK)
            st = tu_thread_create(&f->t);
        if (st == ZX_OK && (st = tu_pin_mask(beryl_resource(), f->t.thread, 1ull << made)) == ZX_OK)
            st = tu_thread_start(&f->t, faulter_main, (uintptr_t)f, 0);
    }
    if (st == ZX_OK) {
        /* The main thread only sleeps meanwhile, off the faulters' way. */
        while (__atomic_load_n(&done, __ATOMIC_ACQUIRE) < n)
            zx_nanosleep(zx_deadline_after(TU_MS));
        elapsed = finished - started;
    } else {
        printf("bench: user faults FAILED: setup with %u threads: %d\n", n, st);
        go = true;
    }
    for (uint32_t i = 0; i < made; i++) {
        faulter_t *f = &faulters[i];
        if (f->t.thread != ZX_HANDLE_INVALID) {
            tu_thread_join(&f->t, 10 * TU_SEC);
            tu_thread_destroy(&f->t);
        }
        if (f->base)
            zx_vmar_unmap(zx_vmar_root_self(), f->base, (uint64_t)PAGES * TU_PAGE);
        zx_handle_close(f->vmo);
        *f = (faulter_t){0};
    }
    return elapsed;
}

int main(void) {
    uint32_t ncpu = zx_system_get_num_cpus();
    printf("bench: user faults: zx_system_get_num_cpus() = %u\n", ncpu);
    if (ncpu < 2) {
        printf("bench: user faults skipped: needs 2 CPUs, zx_system_get_num_cpus() = %u\n", ncpu);
        printf("bench: user faults done\n");
        return 0;
    }
    uint64_t one = 0;
    for (uint32_t n = 1; n <= ncpu && n <= MAX_THREADS; n *= 2) {
        uint64_t runs[RUNS];
        run_once(n); /* warm-up */
        for (unsigned r = 0; r < RUNS; r++) {
            runs[r] = (uint64_t)run_once(n);
            if (runs[r] == 0)
                return 1;
        }
        uint64_t m = bench_median(runs, RUNS);
        if (n == 1)
            one = m;
        uint64_t per_ms = (uint64_t)n * PAGES * 1000000ull / (m ? m : 1);
        uint64_t speedup10 = m ? (one * (uint64_t)n * 10 + m / 2) / m : 0;
        printf("bench: user faults %u threads x %u pages: %lu us (median of %u, min %lu, max "
               "%lu), %lu faults/ms, %lu.%lux one thread's rate\n",
               n, PAGES, (unsigned long)(m / 1000), RUNS, (unsigned long)(runs[0] / 1000),
               (unsigned long)(runs[RUNS - 1] / 1000), (unsigned long)per_ms,
               (unsigned long)(speedup10 / 10), (unsigned long)(speedup10 % 10));
    }
    printf("bench: user faults done\n");
    return 0;
}
