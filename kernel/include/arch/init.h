/*
 * Bringing the CPU up, in the order kmain (kernel/main.c) calls these.
 */
#ifndef ARCH_INIT_H
#define ARCH_INIT_H

#include <kernel/boot_info.h>

/*
 * After the console and the command line, before anything allocates: detects CPU
 * features and turns on the protections the kernel relies on (no-execute, supervisor
 * mode access / execution prevention, write protection), the extended state, the
 * descriptor tables and the exception entry. Panics on a CPU Beryl cannot run on.
 */
void arch_early_init(void);

/*
 * Builds the kernel's page tables (a physical map of all RAM, the kernel image with
 * section permissions), switches to them, then sets up the vm_page array and the PMM.
 * Panics with a clear message if memory is insufficient.
 */
void arch_mmu_boot_init(const struct boot_info *bi);

/* Once the heap and the kernel aspace exist and before the first user thread: enables
 * the syscall instruction's entry. */
void arch_init(void);

/*
 * Once the timer runs (sched_init): finds the CPUs from the ACPI tables in bi, starts
 * the others (up to smp.max_cpus=N) and parks them; prints what it found and started.
 * Falls back to the boot CPU alone, with a message, when the tables are missing or bad.
 * arch_cpu_count() (<arch/cpu.h>) says how many run afterwards.
 */
void arch_smp_init(const struct boot_info *bi);

#endif
