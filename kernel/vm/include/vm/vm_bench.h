/*
 * Guest benchmarks of the VM layer (VMARs, mappings, VMOs), run with the kernel command
 * line bench=vm; method and figures in docs/benchmarks.md. Under
 * `qemu-system-x86_64 -icount shift=0,align=off,sleep=off` the TSC advances by one per
 * guest instruction, so the rdtsc deltas printed are exact instruction counts.
 */
#ifndef VM_VM_BENCH_H
#define VM_VM_BENCH_H

/*
 * In an independent user aspace that is never loaded, times: write faults resolved by
 * vm_aspace_page_fault over a fresh 4 MiB paged mapping; pmm_alloc_page with and without
 * PMM_ALLOC_FLAG_ZERO (what zeroing a page costs by itself); MAP_RANGE of a committed
 * 64 MiB VMO; decommit of that VMO while mapped; copy-on-write faults on a mapped
 * snapshot of a committed 4 MiB VMO. Prints one "bench: vm ..." line per
 * operation, "bench: vm done" at the end, or "bench: FAILED ..." if a call fails.
 */
void vm_bench_run(void);

#endif
