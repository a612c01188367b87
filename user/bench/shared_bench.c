/*
 * Shared-process and restricted-mode benchmarks (docs/benchmarks.md, "Shared processes
 * and restricted mode"), in guest instructions under -icount:
 *   restricted round trip   in a create_shared process: zx_restricted_enter, the
 *                           restricted code `jmp` + `syscall`, the exit to the vector
 *                           (a bare `ret` back into the caller).
 *   create_shared+teardown  with a prototype alive: zx_process_create_shared, then both
 *                           handles closed (the unstarted process ends: unified and
 *                           restricted aspaces destroyed).
 *   family create+teardown  zx_process_create(ZX_PROCESS_SHARED) + create_shared, then all
 *                           four handles closed (the shared aspace and table go too).
 *   ordinary create+teardown zx_process_create(0) and both handles closed, for reference.
 *   launch+exit+teardown    beryl_launch of this program with `--exit` (ELF segments
 *                           mapped from copy-on-write children of the executable VMO,
 *                           stack, thread, bootstrap message, start), waiting for its
 *                           exit(0) and closing its handle.
 * Each: one warm-up run, then the median of RUNS runs of ITERS (LAUNCH_ITERS) operations.
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
#include <zircon/syscalls-next.h>
#include <zircon/syscalls.h>
#include "bench_util.h"

#define ITERS 200u
#define RUNS 5u
#define RT_ITERS 2000u
#define LAUNCH_ITERS 20u

extern char bench_vector[];
__asm__(".text\n.globl bench_vector\nbench_vector: ret\n");

static int fail(const char *what, zx_status_t st) {
    printf("bench: user shared FAILED: %s: %d\n", what, st);
    return 1;
}

typedef zx_status_t (*op_fn)(void *ctx);

static int measure(const char *name, unsigned iters, op_fn fn, void *ctx) {
    uint64_t runs[RUNS];
    for (unsigned r = 0; r <= RUNS; r++) {
        uint64_t t0 = rdtsc();
        for (unsigned i = 0; i < iters; i++) {
            zx_status_t st = fn(ctx);
            if (st != ZX_OK)
                return fail(name, st);
        }
        if (r > 0) /* run 0 warms up */
            runs[r - 1] = rdtsc() - t0;
    }
    bench_report("shared ", name, "op", iters, runs, RUNS);
    return 0;
}

/* ---- in the sharer: restricted-mode round trips ---- */

static zx_status_t round_trip(void *ctx) {
    (void)ctx;
    int64_t r = zx_restricted_enter(0, (uintptr_t)bench_vector, 0);
    return r == ZX_RESTRICTED_REASON_SYSCALL ? ZX_OK : (zx_status_t)(r < 0 ? r : -1);
}

static int sharer_main(void) {
    /* loop: syscall; jmp loop. Each exit saves ip at the jmp, so each enter runs
     * `jmp` then `syscall`. */
    static const uint8_t code[] = {0x0f, 0x05, 0xeb, 0xfc};
    zx_handle_t state, vmo, xvmo;
    zx_vaddr_t a = 0;
    zx_status_t st = zx_restricted_bind_state(0, &state);
    if (st == ZX_OK)
        st = zx_vmo_create(4096, 0, &vmo);
    if (st == ZX_OK)
        st = zx_vmo_write(vmo, code, 0, sizeof(code));
    if (st == ZX_OK)
        st = zx_vmo_replace_as_executable(vmo, ZX_HANDLE_INVALID, &xvmo);
    if (st == ZX_OK)
        st = zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE, 0, xvmo, 0,
                         4096, &a);
    zx_restricted_state_t rs;
    memset(&rs, 0, sizeof(rs));
    rs.ip = a;
    rs.flags = 0x202;
    if (st == ZX_OK)
        st = zx_vmo_write(state, &rs, 0, sizeof(rs));
    if (st != ZX_OK)
        return fail("restricted setup", st);
    return measure("restricted round trip", RT_ITERS, round_trip, NULL);
}

/* ---- in the parent: creation and teardown ---- */

static zx_status_t create_shared_teardown(void *ctx) {
    zx_handle_t proto = *(zx_handle_t *)ctx, p, v;
    zx_status_t st = zx_process_create_shared(proto, 0, "b", 1, &p, &v);
    if (st != ZX_OK)
        return st;
    zx_handle_close(v);
    return zx_handle_close(p);
}

static zx_status_t family_teardown(void *ctx) {
    (void)ctx;
    zx_handle_t h[4];
    zx_status_t st = zx_process_create(zx_job_default(), "f", 1, ZX_PROCESS_SHARED, &h[0], &h[1]);
    if (st != ZX_OK)
        return st;
    st = zx_process_create_shared(h[0], 0, "s", 1, &h[2], &h[3]);
    if (st != ZX_OK)
        return st;
    return zx_handle_close_many(h, 4);
}

static zx_status_t ordinary_teardown(void *ctx) {
    (void)ctx;
    zx_handle_t h[2];
    zx_status_t st = zx_process_create(zx_job_default(), "o", 1, 0, &h[0], &h[1]);
    return st == ZX_OK ? zx_handle_close_many(h, 2) : st;
}

static zx_status_t launch_teardown(void *ctx) {
    (void)ctx;
    const char *av[] = {"bench/shared", "--exit"};
    zx_handle_t p;
    zx_status_t st = tu_launch_self("blaunch", 2, av, ZX_HANDLE_INVALID, &p);
    if (st != ZX_OK)
        return st;
    int64_t rc = -1;
    st = beryl_wait_exit(p, ZX_TIME_INFINITE, &rc);
    zx_handle_close(p);
    return st != ZX_OK ? st : rc == 0 ? ZX_OK : ZX_ERR_INTERNAL;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--sharer") == 0)
        return sharer_main();
    if (argc >= 2 && strcmp(argv[1], "--exit") == 0)
        return 0;
    int fails = 0;
    zx_handle_t proto, shared_vmar, proc, rvmar;
    zx_status_t st = zx_process_create(zx_job_default(), "bproto", 6, ZX_PROCESS_SHARED, &proto,
                                       &shared_vmar);
    if (st != ZX_OK)
        return fail("prototype", st);
    fails += measure("create_shared+teardown", ITERS, create_shared_teardown, &proto);
    fails += measure("family create+teardown", ITERS, family_teardown, NULL);
    fails += measure("ordinary process create+teardown", ITERS, ordinary_teardown, NULL);
    fails += measure("launch+exit+teardown", LAUNCH_ITERS, launch_teardown, NULL);

    /* The round trips run inside a sharer: this program again, with --sharer. */
    st = zx_process_create_shared(proto, 0, "bsharer", 7, &proc, &rvmar);
    const char *av[] = {"bench/shared", "--sharer"};
    if (st == ZX_OK)
        st = tu_launch_self_into(proc, rvmar, "bsharer", 2, av, NULL, 0);
    int64_t rc = -1;
    if (st == ZX_OK)
        st = beryl_wait_exit(proc, ZX_TIME_INFINITE, &rc);
    if (st != ZX_OK || rc != 0)
        fails += fail("sharer", st != ZX_OK ? st : (zx_status_t)rc);
    zx_handle_t all[] = {proc, rvmar, proto, shared_vmar};
    zx_handle_close_many(all, 4);
    printf("bench: user shared done\n");
    return fails;
}
