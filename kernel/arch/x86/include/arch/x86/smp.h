/*
 * The CPUs kernel/arch/x86/boot/smp.c found and started, for its in-kernel test
 * (smp_ktest.c) and later per-CPU code.
 */
#ifndef ARCH_X86_SMP_H
#define ARCH_X86_SMP_H

#include <stdbool.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/x86/tss.h>
#include <kernel/smp.h>

struct x86_smp_cpu {
    uint32_t apic_id;                 /* from the MADT (CPU 0: the boot CPU's own) */
    bool online;                      /* reported in (CPU 0: always) */
    struct arch_percpu *percpu;
    struct x86_cpu_tables *tables;    /* its GDT and TSS (not CPU 0's) */
    uintptr_t stack_base, stack_top;  /* its kernel stack (not CPU 0's) */
    uintptr_t ist_tops[X86_IST_COUNT];
    /* What the CPU itself read once it ran C code: its struct through GS base, that
     * struct's cpu_num, a stack address, its local APIC ID. */
    struct arch_percpu *seen_self;
    uint32_t seen_cpu_num;
    uintptr_t seen_sp;
    uint32_t seen_apic_id;
};

/* CPUs the MADT lists (1 without ACPI). */
uint32_t x86_smp_cpus_found(void);
/* CPU n's record (n < SMP_MAX_CPUS), or NULL. CPUs 0 .. arch_cpu_count() - 1 are online. */
const struct x86_smp_cpu *x86_smp_cpu(uint32_t n);

#endif
