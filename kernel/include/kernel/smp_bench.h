/*
 * bench=smp (kernel/sched/smp_bench.c, docs/benchmarks.md): IPI call and wake-up round
 * trips within and across CPUs, in TSC ticks (guest instructions under -icount shift=0).
 * Runs on the boot thread after the other CPUs joined the scheduler; prints `bench: smp
 * ...` lines and `bench: smp done`.
 */
#ifndef KERNEL_SMP_BENCH_H
#define KERNEL_SMP_BENCH_H

void smp_bench_run(void);

#endif
