/*
 * Copy-on-write history benchmarks (docs/benchmarks.md, "Copy-on-write history"): what
 * one operation costs in the shapes a program can build, in guest instructions under
 * -icount (rdtsc deltas; syscall entry and exit included).
 *
 *   chain D      R (COW_PAGES pages, written) <- C1 = snapshot(R) <- C2 = snapshot(C1)
 *                ... <- CD, every handle kept: CD reads through D hidden nodes.
 *                read: zx_vmo_read of one byte of a page CD shows from R; write: one byte
 *                written there (CD takes its private copy). Then one more snapshot of CD
 *                (refused at the depth cap, VMO_COW_DEPTH_MAX = 1024).
 *                Lookups skip hidden nodes that held no page when the family last changed
 *                shape (docs/architecture.md), so this costs the same at every depth.
 *   written chain D  the same, but every generation writes a page of its own (one past
 *                the measured ones) before it is snapshotted, so that each of the D
 *                hidden nodes holds a page: a lookup takes one step per node.
 *   siblings S   R snapshotted S times, every child kept: R sits under S hidden nodes.
 *                read / write as above, on R.
 *   shadowed K   W = snapshot(R), then a chain of K snapshots hanging off R, each of which
 *                (and R) writes page 0 first: W's write of page 0 must find out that no
 *                other leaf sees R's old page, visiting ~2K nodes (capped at
 *                VMO_COW_VISIT_MAX = 1024, after which it copies instead of moving).
 *   zero N       zx_vmo_op_range(ZERO) over N pages of a snapshot of a one-page VMO: the
 *                work follows the one page that exists, not N.
 * Each figure: the median of COW_RUNS operations on distinct pages (a write copies only
 * once per page). Run: boot with userboot.prefix=bench/ (docs/benchmarks.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>
#include "bench_util.h"

#define PAGE 4096u
#define COW_RUNS 5u
#define COW_PAGES (COW_RUNS * 2u) /* reads and writes use distinct pages */
#define SIZE (COW_PAGES * PAGE)

static int fail(const char *what, zx_status_t st) {
    printf("bench: user cow FAILED: %s: %d\n", what, st);
    return 1;
}

static void report(const char *name, uint64_t units, const char *unit, uint64_t *runs) {
    bench_report("cow ", name, unit, units, runs, COW_RUNS);
}

/* A COW_PAGES-page VMO, every page written. */
static zx_status_t filled_vmo(zx_handle_t *out) {
    zx_status_t st = zx_vmo_create(SIZE, 0, out);
    for (uint32_t i = 0; st == ZX_OK && i < COW_PAGES; i++) {
        uint8_t b = (uint8_t)(i + 1);
        st = zx_vmo_write(*out, &b, (uint64_t)i * PAGE, 1);
    }
    return st;
}

/* Times one-byte reads (pages 0..COW_RUNS-1) and writes (the next COW_RUNS pages). */
static int time_rw(zx_handle_t vmo, const char *what, uint32_t units, const char *unit) {
    uint64_t rd[COW_RUNS], wr[COW_RUNS];
    char name[64];
    for (uint32_t r = 0; r < COW_RUNS; r++) {
        uint8_t b;
        uint64_t t0 = rdtsc();
        zx_status_t st = zx_vmo_read(vmo, &b, (uint64_t)r * PAGE, 1);
        uint64_t t1 = rdtsc();
        if (st != ZX_OK)
            return fail("read", st);
        rd[r] = t1 - t0;
        b = 0xEE;
        t0 = rdtsc();
        st = zx_vmo_write(vmo, &b, (uint64_t)(COW_RUNS + r) * PAGE, 1);
        t1 = rdtsc();
        if (st != ZX_OK)
            return fail("write", st);
        wr[r] = t1 - t0;
    }
    snprintf(name, sizeof(name), "%s read", what);
    report(name, units, unit, rd);
    snprintf(name, sizeof(name), "%s write", what);
    report(name, units, unit, wr);
    return 0;
}

/* h[0] = a filled VMO, then h[i] = snapshot of h[from(i)] for i in [1, n]: stops at the
 * first refusal. Returns the number of handles made. */
static uint32_t build(zx_handle_t *h, uint32_t n, bool chain, zx_status_t *st) {
    *st = filled_vmo(&h[0]);
    uint32_t made = *st == ZX_OK ? 1 : 0;
    while (*st == ZX_OK && made <= n) {
        *st = zx_vmo_create_child(chain ? h[made - 1] : h[0], ZX_VMO_CHILD_SNAPSHOT, 0, SIZE,
                                  &h[made]);
        if (*st == ZX_OK)
            made++;
    }
    return made;
}

/* Closes h[n-1] down to h[0]: the deepest or newest first, so nothing cascades. */
static void close_all(zx_handle_t *h, uint32_t n) {
    while (n > 0)
        zx_handle_close(h[--n]);
}

static int chain(uint32_t depth) {
    zx_handle_t *h = malloc((depth + 2) * sizeof(*h));
    if (!h)
        return fail("malloc", ZX_ERR_NO_MEMORY);
    zx_status_t st;
    uint32_t n = build(h, depth - 1, true, &st); /* h[depth - 1] is the last one wanted */
    char what[32];
    snprintf(what, sizeof(what), "chain %u:", depth - 1);
    int rc = n == depth ? time_rw(h[depth - 1], what, depth - 1, "level")
                        : fail("chain snapshot", st);
    if (rc == 0) {
        st = zx_vmo_create_child(h[depth - 1], ZX_VMO_CHILD_SNAPSHOT, 0, SIZE, &h[depth]);
        printf("bench: user cow chain %u: one more snapshot: status %d\n", depth - 1, st);
        if (st == ZX_OK)
            n++;
    }
    close_all(h, n);
    free(h);
    return rc;
}

static int written_chain(uint32_t depth) {
    zx_handle_t *h = malloc((depth + 1) * sizeof(*h));
    if (!h)
        return fail("malloc", ZX_ERR_NO_MEMORY);
    uint8_t b = 0x5A;
    uint32_t n = 0;
    zx_status_t st = zx_vmo_create(SIZE + PAGE, 0, &h[0]);
    for (uint32_t i = 0; st == ZX_OK && i < COW_PAGES; i++)
        st = zx_vmo_write(h[0], &b, (uint64_t)i * PAGE, 1);
    if (st == ZX_OK)
        n = 1;
    while (st == ZX_OK && n <= depth) {
        st = zx_vmo_write(h[n - 1], &b, SIZE, 1); /* a page of this generation's own */
        if (st == ZX_OK)
            st = zx_vmo_create_child(h[n - 1], ZX_VMO_CHILD_SNAPSHOT, 0, SIZE + PAGE, &h[n]);
        if (st == ZX_OK)
            n++;
    }
    char what[32];
    snprintf(what, sizeof(what), "written chain %u:", depth);
    int rc = n == depth + 1 ? time_rw(h[depth], what, depth, "level")
                            : fail("written chain snapshot", st);
    close_all(h, n);
    free(h);
    return rc;
}

static int siblings(uint32_t count) {
    zx_handle_t *h = malloc((count + 2) * sizeof(*h));
    if (!h)
        return fail("malloc", ZX_ERR_NO_MEMORY);
    zx_status_t st;
    uint32_t n = build(h, count, false, &st);
    char what[32];
    snprintf(what, sizeof(what), "siblings %u:", count);
    int rc = n == count + 1 ? time_rw(h[0], what, count, "sibling")
                            : fail("sibling snapshot", st);
    for (uint32_t i = n; i > 1; i--) /* the children first */
        zx_handle_close(h[i - 1]);
    zx_handle_close(h[0]);
    free(h);
    return rc;
}

/* The shadowed shape (see the top); one measured write per run, each on a new family. */
static int shadowed(uint32_t k) {
    zx_handle_t *h = malloc((k + 2) * sizeof(*h));
    if (!h)
        return fail("malloc", ZX_ERR_NO_MEMORY);
    uint64_t runs[COW_RUNS];
    int rc = 0;
    for (uint32_t r = 0; r < COW_RUNS && rc == 0; r++) {
        zx_handle_t w = ZX_HANDLE_INVALID;
        zx_status_t st = filled_vmo(&h[0]);
        uint32_t n = st == ZX_OK ? 1 : 0;
        if (st == ZX_OK)
            st = zx_vmo_create_child(h[0], ZX_VMO_CHILD_SNAPSHOT, 0, SIZE, &w);
        while (st == ZX_OK && n <= k) {
            st = zx_vmo_create_child(h[n - 1], ZX_VMO_CHILD_SNAPSHOT, 0, SIZE, &h[n]);
            if (st == ZX_OK)
                n++;
        }
        uint8_t b = 0x55;
        for (uint32_t i = 0; st == ZX_OK && i < n; i++)
            st = zx_vmo_write(h[i], &b, 0, 1);
        uint64_t t0 = rdtsc();
        if (st == ZX_OK)
            st = zx_vmo_write(w, &b, 0, 1);
        runs[r] = rdtsc() - t0;
        if (st != ZX_OK)
            rc = fail("shadowed", st);
        zx_handle_close(w);
        close_all(h, n);
    }
    free(h);
    if (rc == 0) {
        char name[48];
        snprintf(name, sizeof(name), "shadowed %u: write", k);
        report(name, k, "snapshot", runs);
    }
    return rc;
}

static int zero_range(uint64_t pages) {
    uint64_t runs[COW_RUNS];
    for (uint32_t r = 0; r < COW_RUNS; r++) {
        zx_handle_t p, c;
        zx_status_t st = zx_vmo_create(PAGE, 0, &p);
        uint8_t b = 1;
        if (st == ZX_OK)
            st = zx_vmo_write(p, &b, 0, 1);
        if (st != ZX_OK)
            return fail("zero setup", st);
        st = zx_vmo_create_child(p, ZX_VMO_CHILD_SNAPSHOT, 0, pages * PAGE, &c);
        if (st != ZX_OK) {
            zx_handle_close(p);
            return fail("zero snapshot", st);
        }
        uint64_t t0 = rdtsc();
        st = zx_vmo_op_range(c, ZX_VMO_OP_ZERO, 0, pages * PAGE, NULL, 0);
        uint64_t t1 = rdtsc();
        zx_handle_close(c);
        zx_handle_close(p);
        if (st != ZX_OK)
            return fail("zero", st);
        runs[r] = t1 - t0;
    }
    char name[48];
    snprintf(name, sizeof(name), "zero 2^%u pages of a 1-page snapshot",
             (unsigned)__builtin_ctzll(pages));
    report(name, 1, "op", runs);
    return 0;
}

/* A snapshot of a committed 64 MiB VMO and the close of the snapshot (which merges the
 * hidden node back into the original): each is timed separately, per page. */
#define BIG_COW_SIZE (64u << 20)
static int big_snapshot(void) {
    uint64_t snap[COW_RUNS], merge[COW_RUNS];
    zx_handle_t vmo;
    zx_status_t st = zx_vmo_create(BIG_COW_SIZE, 0, &vmo);
    if (st == ZX_OK)
        st = zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, 0, BIG_COW_SIZE, NULL, 0);
    for (uint32_t r = 0; st == ZX_OK && r < COW_RUNS; r++) {
        zx_handle_t child;
        uint64_t t0 = rdtsc();
        st = zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, BIG_COW_SIZE, &child);
        uint64_t t1 = rdtsc();
        if (st == ZX_OK)
            st = zx_handle_close(child);
        merge[r] = rdtsc() - t1;
        snap[r] = t1 - t0;
    }
    zx_handle_close(vmo);
    if (st != ZX_OK)
        return fail("big snapshot", st);
    report("snapshot of a committed 64MiB VMO", BIG_COW_SIZE / 4096u, "page", snap);
    report("close of that snapshot (merge)", BIG_COW_SIZE / 4096u, "page", merge);
    return 0;
}

int main(void) {
    static const uint32_t sizes[] = {1, 16, 256, 1024};
    int fails = 0;
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        fails += chain(sizes[i] + 1);
    for (unsigned i = 1; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        fails += written_chain(sizes[i] == 1024 ? 1023 : sizes[i]);
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        fails += siblings(sizes[i]);
    fails += shadowed(16);
    fails += shadowed(1000);
    fails += zero_range(1ull << 12);
    fails += zero_range(1ull << 16);
    fails += zero_range(1ull << 50);
    fails += big_snapshot();
    if (fails == 0)
        printf("bench: user cow done\n");
    return fails;
}
