/*
 * The CPUs of the machine (docs/architecture.md, "CPUs"): how many the kernel supports,
 * how many it found and started.
 */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <stdint.h>

/*
 * The most CPUs the kernel starts; CPU numbers are 0 .. SMP_MAX_CPUS - 1, the boot CPU
 * is 0. 64 because every set of CPUs (arch_cpu_set_t for IPIs and the page-table
 * engine's active-CPU masks, cpu_mask_t for the scheduler's affinity masks) is one
 * 64-bit word.
 */
#define SMP_MAX_CPUS 64

#endif
