/*
 * Cross-CPU benchmarks (docs/benchmarks.md, "Across CPUs"), in guest instructions under
 * -icount with several CPUs (-smp 4): two threads pinned to CPUs 0 and 1, and the same
 * two threads both pinned to CPU 0 for comparison.
 *
 *   - channel round trip: as bench/thread, the main thread writes one byte and blocks in
 *     zx_object_wait_one, the partner wakes, reads, writes back and blocks in its wait;
 *   - wake-up latency: the main thread stamps the TSC and sets a user signal on a channel
 *     end, then blocks until the waiter answers; the waiter, blocked in
 *     zx_object_wait_one on that signal, stamps the TSC as soon as it returns. The figure
 *     is the difference of the two stamps: icount runs the CPUs round-robin on one
 *     virtual clock, so stamps taken on different CPUs compare.
 *
 * One warm-up run, then the median of RUNS runs of ITERS operations. With fewer than two
 * CPUs the program prints "bench: user smp skipped: ..." and measures nothing. Run: boot
 * with userboot.prefix=bench/ (or bench/smp) and -smp 4 (see docs/benchmarks.md).
 */
#include <beryl/startup.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <string.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/profile.h>
#include "bench_util.h"

#define ITERS 1000u
#define RUNS 5u
/* The waiter's signal and the main thread's answer signal. */
#define SIG_WAKE ZX_USER_SIGNAL_0
#define SIG_ACK (ZX_USER_SIGNAL_0 << 1) /* Zircon's ZX_USER_SIGNAL_1 */
/* What the main thread sends the partner to make it exit. */
#define MSG_STOP 0xffu

/* Pins thread to cpu; the status of the first call that failed. */
static zx_status_t pin(zx_handle_t thread, uint32_t cpu) {
    return tu_pin_mask(beryl_resource(), thread, 1ull << cpu);
}

/* ---- channel round trip -------------------------------------------------------------- */

static zx_handle_t ends[2];
static volatile zx_status_t partner_status;

/* Reads one byte from ch once it is readable into *b; the first failing call's status. */
static zx_status_t receive(zx_handle_t ch, uint8_t *b) {
    zx_status_t st = zx_object_wait_one(ch, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
                                        ZX_TIME_INFINITE, NULL);
    if (st != ZX_OK)
        return st;
    uint32_t nb, nh;
    return zx_channel_read(ch, 0, b, NULL, 1, 0, &nb, &nh);
}

/* Echoes every byte on ends[1] until it gets MSG_STOP. */
static void echo_partner(uintptr_t unused1, uintptr_t unused2) {
    (void)unused1, (void)unused2;
    for (;;) {
        uint8_t b = 0;
        zx_status_t st = receive(ends[1], &b);
        if (st == ZX_OK && b == MSG_STOP)
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
    uint8_t b = 0x5a;
    zx_status_t st = zx_channel_write(ends[0], 0, &b, 1, NULL, 0);
    return st == ZX_OK ? receive(ends[0], &b) : st;
}

/* ---- wake-up latency ----------------------------------------------------------------- */

static volatile uint64_t woke_at;  /* the waiter's TSC stamp */
static volatile bool waiter_stop;  /* set before the last wake-up */

/* Waits for SIG_WAKE on ends[0], stamps the TSC, answers with SIG_ACK; until stopped. */
static void waiter(uintptr_t unused1, uintptr_t unused2) {
    (void)unused1, (void)unused2;
    for (;;) {
        zx_status_t st = zx_object_wait_one(ends[0], SIG_WAKE, ZX_TIME_INFINITE, NULL);
        woke_at = rdtsc();
        if (st == ZX_OK && waiter_stop)
            break;
        if (st == ZX_OK)
            st = zx_object_signal(ends[0], SIG_WAKE, SIG_ACK);
        if (st != ZX_OK) {
            partner_status = st;
            break;
        }
    }
    zx_thread_exit();
}

/* One wake-up: its latency in TSC ticks, or 0 on failure. */
static uint64_t wake_once(void) {
    uint64_t t0 = rdtsc();
    if (zx_object_signal(ends[0], SIG_ACK, SIG_WAKE) != ZX_OK ||
        zx_object_wait_one(ends[0], SIG_ACK, ZX_TIME_INFINITE, NULL) != ZX_OK)
        return 0;
    return woke_at - t0;
}

/* ---- running them -------------------------------------------------------------------- */

typedef enum { KIND_ROUND_TRIP, KIND_WAKE } kind_t;

/*
 * Runs one benchmark with the main thread on CPU 0 and the partner on partner_cpu and
 * prints its line; returns false (after printing why) on failure.
 */
static bool run(kind_t kind, uint32_t partner_cpu, const char *name) {
    tu_thread_t t;
    partner_status = ZX_OK;
    waiter_stop = false;
    zx_status_t st = zx_channel_create(0, &ends[0], &ends[1]);
    if (st == ZX_OK)
        st = tu_thread_create(&t);
    if (st == ZX_OK)
        st = pin(t.thread, partner_cpu);
    if (st == ZX_OK)
        st = tu_thread_start(&t, kind == KIND_WAKE ? waiter : echo_partner, 0, 0);
    if (st != ZX_OK) {
        printf("bench: user smp FAILED: %s: setup: %d\n", name, st);
        return false;
    }
    uint64_t runs[RUNS];
    bool ok = true;
    for (unsigned r = 0; r <= RUNS && ok; r++) {
        uint64_t total = 0, t0 = rdtsc();
        for (unsigned i = 0; i < ITERS && ok; i++) {
            if (kind == KIND_ROUND_TRIP) {
                ok = round_trip() == ZX_OK;
            } else {
                uint64_t d = wake_once();
                ok = d != 0;
                total += d;
            }
        }
        if (r > 0) /* run 0 warms up */
            runs[r - 1] = kind == KIND_ROUND_TRIP ? rdtsc() - t0 : total;
    }
    /* Let the partner go. */
    if (kind == KIND_WAKE) {
        waiter_stop = true;
        zx_object_signal(ends[0], SIG_ACK, SIG_WAKE);
    } else {
        uint8_t stop = MSG_STOP;
        zx_channel_write(ends[0], 0, &stop, 1, NULL, 0);
    }
    if (tu_thread_join(&t, 10 * TU_SEC) != ZX_OK || partner_status != ZX_OK || !ok) {
        printf("bench: user smp FAILED: %s (partner %d)\n", name, partner_status);
        ok = false;
        tu_task_kill_wait(t.thread);
    }
    tu_thread_destroy(&t);
    zx_handle_close(ends[0]);
    zx_handle_close(ends[1]);
    if (ok)
        bench_report("smp ", name, kind == KIND_ROUND_TRIP ? "round trip" : "wake-up", ITERS,
                     runs, RUNS);
    return ok;
}

int main(void) {
    uint32_t n = zx_system_get_num_cpus();
    printf("bench: user smp: zx_system_get_num_cpus() = %u\n", n);
    if (n < 2) {
        printf("bench: user smp skipped: needs 2 CPUs, zx_system_get_num_cpus() = %u\n", n);
        printf("bench: user smp done\n");
        return 0;
    }
    int fails = 0;
    if (pin(zx_thread_self(), 0) != ZX_OK) {
        printf("bench: user smp FAILED: pinning the main thread\n");
        return 1;
    }
    fails += !run(KIND_ROUND_TRIP, 1, "channel round trip, CPU 0 <-> CPU 1");
    fails += !run(KIND_ROUND_TRIP, 0, "channel round trip, both on CPU 0");
    fails += !run(KIND_WAKE, 1, "wake-up latency, CPU 0 signals, waiter on CPU 1");
    fails += !run(KIND_WAKE, 0, "wake-up latency, both on CPU 0");
    printf("bench: user smp done\n");
    return fails;
}
