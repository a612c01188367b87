/*
 * Fuzz operations for the clock and system-information calls (docs/user-tests.md,
 * "Syscall fuzzer"): the zx_ticks_get / zx_ticks_per_second syscalls, and the library
 * calls zx_deadline_after and zx_system_get_features with random arguments. Their
 * results are checked against each other, not just their statuses.
 */
#include <zircon/features.h>
#include <zircon/syscalls.h>
#include "fuzz.h"

void op_time(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    switch (rnd_below(r, 3)) {
    case 0: {
        CALL(t, "ticks_get", 0);
        t->nargs = 0;
        zx_ticks_t a = zx_ticks_get();
        zx_ticks_t b = zx_ticks_get();
        zx_ticks_t tps = zx_ticks_per_second();
        check(t, ZX_OK, S_OK);
        if (a < 0 || b < a)
            report(t, (zx_status_t)0, "ticks went backwards or negative");
        if (tps <= 0)
            report(t, (zx_status_t)0, "ticks_per_second not positive");
        break;
    }
    case 1: {
        /* Any duration: the result is the saturated sum with a clock reading between the
         * two taken around the call. */
        zx_duration_t d = chance(r, 30) ? (zx_duration_t)rnd(r)
                          : chance(r, 50) ? ZX_TIME_INFINITE - (zx_duration_t)rnd_below(r, 4)
                                          : (zx_duration_t)rnd_below(r, TU_SEC);
        CALL(t, "deadline_after", (uint64_t)d);
        zx_time_t lo = zx_time_add_duration(zx_clock_get_monotonic(), d);
        zx_time_t got = zx_deadline_after(d);
        zx_time_t hi = zx_time_add_duration(zx_clock_get_monotonic(), d);
        check(t, ZX_OK, S_OK);
        if (got < lo || got > hi)
            report(t, (zx_status_t)0, "deadline_after is not now + duration, saturated");
        break;
    }
    default: {
        uint32_t kind = chance(r, 70) ? (uint32_t)rnd_below(r, 8) : (uint32_t)rnd(r);
        uint32_t *out = (uint32_t *)scratch_at(t, sizeof(uint32_t));
        *out = 0xfeedfaceu;
        CALL(t, "system_get_features", kind, (uint64_t)(uintptr_t)out);
        zx_status_t st = check(t, zx_system_get_features(kind, out),
                               S_OK | S(ZX_ERR_NOT_SUPPORTED));
        bool known = kind >= ZX_FEATURE_KIND_HW_BREAKPOINT_COUNT && kind <= ZX_FEATURE_KIND_VM;
        if ((st == ZX_OK) != known || *out != (known ? 0u : 0xfeedfaceu))
            report(t, st, "system_get_features answer differs from its documentation");
        break;
    }
    }
}
