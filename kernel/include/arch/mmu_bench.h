/*
 * Guest benchmarks of the page-table engine (kernel/arch/x86/mmu/mmu_bench.c), run with
 * the kernel command line bench=mmu (method and figures in docs/benchmarks.md). Under
 * `qemu-system-x86_64 -icount shift=0,align=off,sleep=off` the TSC advances by one per
 * guest instruction, so the rdtsc deltas printed are exact instruction counts.
 */
#ifndef ARCH_MMU_BENCH_H
#define ARCH_MMU_BENCH_H

/*
 * Times map, protect and unmap of 64 MiB in 4 KiB pages (unmap in one call, and again in
 * half-page-table calls), and map_contiguous and unmap of an aligned 1 GiB run, in a
 * fresh independent aspace that is never loaded. Prints one
 * "bench: mmu ..." line per operation, or "bench: FAILED ..." if an engine call fails.
 */
void mmu_bench_run(void);

#endif
