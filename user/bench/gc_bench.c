/*
 * The handle-cycle collector's cost per event, and what it costs other threads
 * (docs/benchmarks.md, "Handle-cycle collector"), in guest instructions under -icount:
 *   member transfer, table N   zx_channel_write of the only handle to a member of a
 *                              family that has no running member and N handles in its
 *                              table, then zx_channel_read of it back. The receiving
 *                              endpoint has a handle in this process's table, so the
 *                              member stays reachable through it: no collection runs.
 *   forced collection, table N the same, but the receiving endpoint's only handle sits
 *                              in another channel's queue (it is taken out to read the
 *                              member and put back: four syscalls). Then the write makes
 *                              the member a suspect, and the collection walks its
 *                              family's table (twice: counting, then marking it
 *                              reachable): the worst a program can make every transfer
 *                              cost.
 *   endpoint transfer, alone   zx_channel_write + zx_channel_read of a fresh channel
 *                              endpoint (a counted message: it takes the gc lock).
 *   endpoint transfer, busy    the same while ATTACKERS other threads of this process
 *                              loop forced collections (table BUSY_TABLE): each waits on the
 *                              gc lock (FIFO) for the collections queued before it,
 *                              and the instructions counted are everyone's meanwhile
 *                              (the latency). The worst of BUSY_SAMPLES transfers, each
 *                              after a BUSY_PAUSE_NS sleep that lets the attackers run.
 * Each steady figure: one warm-up run, then the median of RUNS runs of ITERS operations.
 * The table is filled by a member that runs this program with `--fill N` (it duplicates
 * one VMO handle N times) and exits, leaving them in the family's table.
 * Run: boot with userboot.prefix=bench/ (see docs/benchmarks.md).
 */
#include <beryl/launch.h>
#include <beryl/startup.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/processargs.h>
#include <zircon/syscalls.h>
#include "bench_util.h"

#define ITERS 20u
#define RUNS 5u
#define ATTACKERS 8u
#define BUSY_TABLE 30000u
#define BUSY_SAMPLES 10u
#define BUSY_PAUSE_NS (5 * TU_MS)
#define WAIT_NS (60 * TU_SEC)

static const uint32_t table_sizes[] = {0, 1000, 10000, BUSY_TABLE};

static int fail(const char *what, zx_status_t st) {
    printf("bench: user gc FAILED: %s: %d\n", what, st);
    return 1;
}

/* ---- in a member: fill the family table ---- */

static int fill_main(uint64_t n) {
    zx_handle_t vmo, dup;
    if (zx_vmo_create(0, 0, &vmo) != ZX_OK)
        return 2;
    for (uint64_t i = 0; i < n; i++)
        if (zx_handle_duplicate(vmo, ZX_RIGHT_SAME_RIGHTS, &dup) != ZX_OK)
            return 3;
    return 0; /* every handle stays in the family's table */
}

/* ---- in the parent ---- */

typedef struct {
    zx_handle_t proto, shared_vmar;
    zx_handle_t filler, filler_vmar; /* ran --fill and exited */
} family_t;

/* A family whose table holds n handles and in which no member runs. */
static zx_status_t family_with_table(uint32_t n, family_t *f) {
    memset(f, 0, sizeof(*f));
    zx_status_t st = zx_process_create(zx_job_default(), "gcb", 3, ZX_PROCESS_SHARED,
                                       &f->proto, &f->shared_vmar);
    if (st == ZX_OK)
        st = zx_process_create_shared(f->proto, 0, "fill", 4, &f->filler, &f->filler_vmar);
    if (st != ZX_OK)
        return st;
    char arg[24];
    snprintf(arg, sizeof(arg), "%u", n);
    const char *av[] = {"bench/gc", "--fill", arg};
    if ((st = tu_launch_self_into(f->filler, f->filler_vmar, "fill", 3, av, NULL, 0)) != ZX_OK)
        return st;
    int64_t rc = -1;
    st = beryl_wait_exit(f->filler, zx_deadline_after(WAIT_NS), &rc);
    return st == ZX_OK && rc != 0 ? ZX_ERR_INTERNAL : st;
}

static void family_close(family_t *f) {
    zx_handle_t h[] = {f->proto, f->shared_vmar, f->filler, f->filler_vmar};
    zx_handle_close_many(h, 4);
}

/* One write + read of *h (its only handle) through the channel a -> b. */
static zx_status_t transfer(zx_handle_t a, zx_handle_t b, zx_handle_t *h) {
    zx_status_t st = zx_channel_write(a, 0, NULL, 0, h, 1);
    uint32_t nb, nh;
    if (st == ZX_OK)
        st = zx_channel_read(b, 0, NULL, h, 0, 1, &nb, &nh);
    return st;
}

/*
 * The forced pattern: b's only handle sits in the queue of hb (written through ha), so
 * b is a candidate and writing *h into it through a suspects *h. Then b comes out, *h is
 * read back from it and b goes back in.
 */
static zx_status_t forced_transfer(zx_handle_t a, zx_handle_t ha, zx_handle_t hb,
                                   zx_handle_t *h) {
    zx_handle_t b;
    uint32_t nb, nh;
    zx_status_t st = zx_channel_write(a, 0, NULL, 0, h, 1);
    if (st == ZX_OK)
        st = zx_channel_read(hb, 0, NULL, &b, 0, 1, &nb, &nh);
    if (st == ZX_OK)
        st = zx_channel_read(b, 0, NULL, h, 0, 1, &nb, &nh);
    if (st == ZX_OK)
        st = zx_channel_write(ha, 0, NULL, 0, &b, 1);
    return st;
}

/* A channel a -> b with b hidden in the queue of a second channel (*ha -> *hb). */
static zx_status_t hidden_receiver(zx_handle_t *a, zx_handle_t *ha, zx_handle_t *hb) {
    zx_handle_t b;
    zx_status_t st = zx_channel_create(0, a, &b);
    if (st == ZX_OK && (st = zx_channel_create(0, ha, hb)) == ZX_OK)
        st = zx_channel_write(*ha, 0, NULL, 0, &b, 1);
    return st;
}

static int measure_member_transfer(uint32_t n, bool forced) {
    family_t f;
    zx_status_t st = family_with_table(n, &f);
    zx_handle_t member = ZX_HANDLE_INVALID, v, a, b;
    if (st == ZX_OK)
        st = zx_process_create_shared(f.proto, 0, "m", 1, &member, &v);
    if (st != ZX_OK)
        return fail("family", st);
    zx_handle_close(v);
    zx_handle_t ha = ZX_HANDLE_INVALID, hb = ZX_HANDLE_INVALID;
    st = forced ? hidden_receiver(&a, &ha, &hb) : zx_channel_create(0, &a, &b);
    if (st != ZX_OK)
        return fail("channel", st);
    uint64_t runs[RUNS];
    for (unsigned r = 0; r <= RUNS; r++) {
        uint64_t t0 = rdtsc();
        for (unsigned i = 0; i < ITERS && st == ZX_OK; i++)
            st = forced ? forced_transfer(a, ha, hb, &member) : transfer(a, b, &member);
        if (r > 0)
            runs[r - 1] = rdtsc() - t0;
    }
    if (st != ZX_OK)
        return fail("member transfer", st);
    char name[48];
    snprintf(name, sizeof(name), "%s, table %u", forced ? "forced collection" : "member transfer",
             n);
    bench_report("gc ", name, "op", ITERS, runs, RUNS);
    zx_handle_t h[] = {a, forced ? hb : b, member, ha};
    zx_handle_close_many(h, forced ? 4 : 3);
    family_close(&f);
    return 0;
}

/* A fresh endpoint through a -> b; its instructions, or 0 on failure. */
static uint64_t endpoint_transfer(zx_handle_t a, zx_handle_t b) {
    zx_handle_t x, y;
    if (zx_channel_create(0, &x, &y) != ZX_OK)
        return 0;
    uint64_t t0 = rdtsc();
    zx_status_t st = transfer(a, b, &x);
    uint64_t t = rdtsc() - t0;
    zx_handle_close(x);
    zx_handle_close(y);
    return st == ZX_OK ? t : 0;
}

static volatile bool attackers_stop;
static volatile uint32_t attackers_failed;

static void attacker(uintptr_t member, uintptr_t unused) {
    (void)unused;
    zx_handle_t a, ha, hb, m = (zx_handle_t)member;
    if (hidden_receiver(&a, &ha, &hb) != ZX_OK) {
        attackers_failed++;
        zx_thread_exit();
    }
    while (!attackers_stop) {
        if (forced_transfer(a, ha, hb, &m) != ZX_OK) {
            attackers_failed++;
            break;
        }
    }
    zx_handle_t h[] = {a, ha, hb, m};
    zx_handle_close_many(h, 4);
    zx_thread_exit();
}

static int measure_contention(void) {
    zx_handle_t a, b;
    zx_status_t st = zx_channel_create(0, &a, &b);
    if (st != ZX_OK)
        return fail("channel", st);
    uint64_t alone[RUNS];
    for (unsigned r = 0; r < RUNS; r++)
        if ((alone[r] = endpoint_transfer(a, b)) == 0)
            return fail("endpoint transfer", ZX_ERR_INTERNAL);
    bench_report("gc ", "endpoint transfer, alone", "op", 1, alone, RUNS);

    family_t f;
    if ((st = family_with_table(BUSY_TABLE, &f)) != ZX_OK)
        return fail("family", st);
    tu_thread_t threads[ATTACKERS];
    for (unsigned i = 0; i < ATTACKERS; i++) {
        zx_handle_t m, v;
        if ((st = zx_process_create_shared(f.proto, 0, "m", 1, &m, &v)) != ZX_OK ||
            (st = tu_thread_create(&threads[i])) != ZX_OK ||
            (st = tu_thread_start(&threads[i], attacker, m, 0)) != ZX_OK)
            return fail("attacker", st);
        zx_handle_close(v);
    }
    uint64_t busy[BUSY_SAMPLES];
    for (unsigned s = 0; s < BUSY_SAMPLES; s++) {
        /* Let the attackers run (and queue on the gc lock) before each sample. */
        zx_nanosleep(zx_deadline_after(BUSY_PAUSE_NS));
        if ((busy[s] = endpoint_transfer(a, b)) == 0)
            return fail("endpoint transfer under load", ZX_ERR_INTERNAL);
    }
    attackers_stop = true;
    for (unsigned i = 0; i < ATTACKERS; i++) {
        tu_thread_join(&threads[i], WAIT_NS);
        tu_thread_destroy(&threads[i]);
    }
    if (attackers_failed)
        return fail("attackers", ZX_ERR_INTERNAL);
    bench_median(busy, BUSY_SAMPLES);
    printf("bench: user gc endpoint transfer, busy: %u threads looping forced collections "
           "(table %u): worst of %u, %lu instructions\n",
           ATTACKERS, BUSY_TABLE, BUSY_SAMPLES, (unsigned long)busy[BUSY_SAMPLES - 1]);
    zx_handle_close(a);
    zx_handle_close(b);
    family_close(&f);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--fill") == 0)
        return fill_main(strtoul(argv[2], NULL, 10));
    int fails = 0;
    for (size_t i = 0; i < sizeof(table_sizes) / sizeof(table_sizes[0]); i++)
        fails += measure_member_transfer(table_sizes[i], false);
    for (size_t i = 0; i < sizeof(table_sizes) / sizeof(table_sizes[0]); i++)
        fails += measure_member_transfer(table_sizes[i], true);
    fails += measure_contention();
    printf("bench: user gc done\n");
    return fails ? 1 : 0;
}
