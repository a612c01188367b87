/*
 * Syscall benchmarks (docs/benchmarks.md). Under QEMU's -icount shift=0 the TSC advances
 * one per guest instruction, so rdtsc deltas are instruction counts. Each figure is the
 * median of BENCH_RUNS runs of BENCH_ITERS operations, per operation.
 * Run: boot with userboot.prefix=bench/ (see docs/benchmarks.md).
 */
#include <stdio.h>
#include "bench_util.h"
#include <zircon/process.h>
#include <zircon/syscalls.h>

#define BENCH_ITERS 10000u
#define BENCH_RUNS 5u

typedef int (*bench_fn)(void *ctx);

/* Runs fn BENCH_ITERS times per run; prints instructions per operation (x10 for one
 * decimal). Returns non-zero if fn failed. */
static int bench(const char *name, bench_fn fn, void *ctx) {
    uint64_t runs[BENCH_RUNS];
    for (unsigned r = 0; r < BENCH_RUNS; r++) {
        uint64_t t0 = rdtsc();
        for (unsigned i = 0; i < BENCH_ITERS; i++)
            if (fn(ctx) != 0) {
                printf("bench: %s failed\n", name);
                return 1;
            }
        runs[r] = rdtsc() - t0;
    }
    uint64_t m = bench_median(runs, BENCH_RUNS);
    uint64_t per10 = m * 10 / BENCH_ITERS;
    printf("bench: user %s: %u ops, %lu instructions, %lu.%lu per op (median of %u)\n", name,
           BENCH_ITERS, (unsigned long)m, (unsigned long)(per10 / 10),
           (unsigned long)(per10 % 10), BENCH_RUNS);
    return 0;
}

static int null_syscall(void *ctx) {
    (void)ctx;
    return zx_syscall_test_0();
}

static int dup_close(void *ctx) {
    zx_handle_t h = *(zx_handle_t *)ctx, d;
    if (zx_handle_duplicate(h, ZX_RIGHT_SAME_RIGHTS, &d) != ZX_OK)
        return 1;
    return zx_handle_close(d);
}

static int channel_rw(void *ctx) {
    zx_handle_t *ch = ctx;
    uint8_t b = 0x5a;
    uint32_t nb = 0, nh = 0;
    if (zx_channel_write(ch[0], 0, &b, 1, NULL, 0) != ZX_OK)
        return 1;
    return zx_channel_read(ch[1], 0, &b, NULL, 1, 0, &nb, &nh);
}

/* ch[0..1] a channel, ch[2] the handle that travels: written through ch[0], read back
 * from ch[1] into ch[2] again. */
static int channel_rw_handle(void *ctx) {
    zx_handle_t *ch = ctx;
    uint8_t b = 0x5a;
    uint32_t nb = 0, nh = 0;
    if (zx_channel_write(ch[0], 0, &b, 1, &ch[2], 1) != ZX_OK)
        return 1;
    return zx_channel_read(ch[1], 0, &b, &ch[2], 1, 1, &nb, &nh);
}

/* Empty loop: the rdtsc/loop overhead that every figure above includes. */
static int nothing(void *ctx) {
    __asm__ volatile("" ::"r"(ctx) : "memory");
    return 0;
}

int main(void) {
    int fails = 0;
    fails += bench("loop overhead", nothing, NULL);
    fails += bench("null syscall (zx_syscall_test_0)", null_syscall, NULL);
    zx_handle_t self = zx_process_self();
    fails += bench("zx_handle_duplicate + zx_handle_close", dup_close, &self);
    zx_handle_t ch[2];
    if (zx_channel_create(0, &ch[0], &ch[1]) != ZX_OK)
        return 1;
    fails += bench("1-byte zx_channel_write + zx_channel_read", channel_rw, ch);
    /* A message carrying a VMO handle, then one carrying a channel endpoint (which the
     * cycle collector tracks: both calls take its lock, and the write runs a collection
     * from the endpoint, which is in a queue only until the read). */
    zx_handle_t with[3] = {ch[0], ch[1], ZX_HANDLE_INVALID};
    if (zx_vmo_create(0, 0, &with[2]) != ZX_OK)
        return 1;
    fails += bench("1-byte write + read carrying a VMO handle", channel_rw_handle, with);
    zx_handle_close(with[2]);
    zx_handle_t other;
    if (zx_channel_create(0, &other, &with[2]) != ZX_OK)
        return 1;
    fails += bench("1-byte write + read carrying a channel endpoint", channel_rw_handle, with);
    zx_handle_close(with[2]);
    zx_handle_close(other);
    zx_handle_close(ch[0]);
    zx_handle_close(ch[1]);
    printf("bench: user done\n");
    return fails;
}
