/*
 * The CPUs of the machine (docs/architecture.md, "CPUs"): how many the kernel supports,
 * how many it found and started.
 */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <stdint.h>

/*
 * The most CPUs the kernel starts; CPU numbers are 0 .. SMP_MAX_CPUS - 1, the boot CPU
 * is 0. 32 because the page-table engine's active-CPU mask (which CPUs may hold an
 * address space's translations) is a 32-bit word today.
 */
#define SMP_MAX_CPUS 32

#endif
