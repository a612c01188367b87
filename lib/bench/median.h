/*
 * The median of benchmark samples, for every benchmark of the tree: the kernel's
 * (bench=mmu, bench=vm), the user programs' (user/bench) and the host's
 * (tests/host/bench_mmu.c). Freestanding and header-only; includes only compiler headers.
 */
#ifndef BERYL_BENCH_MEDIAN_H
#define BERYL_BENCH_MEDIAN_H

#include <stddef.h>
#include <stdint.h>

/*
 * Sorts v[0..n) ascending in place (insertion sort: benchmarks take a handful of samples)
 * and returns the middle element, v[n / 2]; so afterwards v[0] is the minimum and
 * v[n - 1] the maximum. Requires n > 0.
 */
static inline uint64_t bench_median(uint64_t *v, size_t n) {
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

#endif
