/*
 * Thread-switch benchmark (docs/benchmarks.md, "Thread switches"), in guest instructions
 * under -icount: two threads of one process bounce a one-byte message over a channel.
 * One round trip is two switches: the main thread writes and blocks in
 * zx_object_wait_one, the partner wakes, reads, writes back and blocks in its own wait,
 * and the main thread wakes and reads. One warm-up run, then the median of RUNS runs of
 * ITERS round trips. Run: boot with userboot.prefix=bench/ (see docs/benchmarks.md).
 */
#include <beryl/test_util.h>
#include <stdio.h>
#include <zircon/syscalls.h>
#include "bench_util.h"

#define ITERS 2000u
#define RUNS 5u

static zx_handle_t ends[2];
static volatile zx_status_t partner_status;

/* Reads one byte from ch once it is readable; the status of the first failing call. */
static zx_status_t receive(zx_handle_t ch) {
    zx_signals_t seen;
    zx_status_t st = zx_object_wait_one(ch, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
                                        ZX_TIME_INFINITE, &seen);
    if (st != ZX_OK)
        return st;
    uint8_t b;
    uint32_t nb, nh;
    return zx_channel_read(ch, 0, &b, NULL, 1, 0, &nb, &nh);
}

/* The partner: echoes every byte until the main thread closes its end. */
static void partner(uintptr_t unused1, uintptr_t unused2) {
    (void)unused1;
    (void)unused2;
    uint8_t b = 0x5a;
    for (;;) {
        zx_status_t st = receive(ends[1]);
        if (st == ZX_ERR_PEER_CLOSED)
            break;
        if (st == ZX_OK)
            st = zx_channel_write(ends[1], 0, &b, 1, NULL, 0);
        if (st != ZX_OK) {
            partner_status = st;
            break;
        }
    }
    zx_thread_exit();
}

static zx_status_t round_trip(void) {
    uint8_t b = 0xa5;
    zx_status_t st = zx_channel_write(ends[0], 0, &b, 1, NULL, 0);
    return st == ZX_OK ? receive(ends[0]) : st;
}

int main(void) {
    tu_thread_t t;
    if (zx_channel_create(0, &ends[0], &ends[1]) != ZX_OK || tu_thread_create(&t) != ZX_OK ||
        tu_thread_start(&t, partner, 0, 0) != ZX_OK) {
        printf("bench: user thread FAILED: setup\n");
        return 1;
    }
    uint64_t runs[RUNS];
    int fails = 0;
    for (unsigned r = 0; r <= RUNS && !fails; r++) {
        uint64_t t0 = rdtsc();
        for (unsigned i = 0; i < ITERS; i++) {
            zx_status_t st = round_trip();
            if (st != ZX_OK) {
                printf("bench: user thread FAILED: round trip: %d\n", st);
                fails = 1;
                break;
            }
        }
        if (r > 0) /* run 0 warms up */
            runs[r - 1] = rdtsc() - t0;
    }
    zx_handle_close(ends[0]);
    if (tu_thread_join(&t, 10 * TU_SEC) != ZX_OK || partner_status != ZX_OK) {
        printf("bench: user thread FAILED: partner (%d)\n", partner_status);
        fails = 1;
    }
    tu_thread_destroy(&t);
    zx_handle_close(ends[1]);
    if (!fails)
        bench_report("thread ", "ping-pong round trip (2 switches)", "round trip", ITERS,
                     runs, RUNS);
    printf("bench: user thread done\n");
    return fails;
}
