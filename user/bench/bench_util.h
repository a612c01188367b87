/*
 * What every user benchmark program shares (docs/benchmarks.md): the instruction counter
 * (rdtsc: under QEMU's -icount shift=0 the TSC advances one per guest instruction), the
 * median of a few runs (the tree's one bench_median, lib/bench/median.h), and the report
 * line.
 */
#ifndef USER_BENCH_BENCH_UTIL_H
#define USER_BENCH_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>

#include <bench/median.h>

static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

/* "bench: user <group><name>: <units> <unit>s, <median> instructions, X.Y per <unit>
 * (median of N, min A, max B)". Sorts runs. */
static inline void bench_report(const char *group, const char *name, const char *unit,
                                uint64_t units, uint64_t *runs, unsigned nruns) {
    uint64_t m = bench_median(runs, nruns);
    uint64_t lo = runs[0], hi = runs[nruns - 1];
    uint64_t per10 = (m * 10 + units / 2) / units;
    printf("bench: user %s%s: %lu %ss, %lu instructions, %lu.%lu per %s (median of %u, "
           "min %lu, max %lu)\n",
           group, name, (unsigned long)units, unit, (unsigned long)m,
           (unsigned long)(per10 / 10), (unsigned long)(per10 % 10), unit, nruns,
           (unsigned long)lo, (unsigned long)hi);
}

#endif
