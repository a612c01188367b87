/* 64-bit Task State Segment (Intel SDM Vol. 3A, 8.7). */
#ifndef ARCH_X86_TSS_H
#define ARCH_X86_TSS_H

#include <stdint.h>
#include <kernel/compiler.h>

#define X86_IST_COUNT 3         /* we use IST1..IST3 */
#define X86_IST_DF 1
#define X86_IST_NMI 2
#define X86_IST_MC 3
#define X86_IST_STACK_SIZE 8192

struct __packed x86_tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

#define X86_GDT_ENTRIES 7 /* 5 segment descriptors + 2 slots for the TSS */

/* One CPU's descriptor tables (gdt.c): its GDT, whose TSS descriptor points at its TSS. */
struct x86_cpu_tables {
    uint64_t gdt[X86_GDT_ENTRIES] __aligned(16);
    struct x86_tss tss __aligned(16);
};

/*
 * Fills t (the calling CPU's, which it keeps for good) with the kernel's segment
 * descriptors and a TSS whose IST1..IST3 stacks end at ist_tops, then loads it: lgdt,
 * the data and code segments reloaded, ltr. Interrupts off on a CPU other than the boot
 * CPU (its IDT may not be loaded yet).
 */
void x86_gdt_load(struct x86_cpu_tables *t, const uintptr_t ist_tops[X86_IST_COUNT]);

#endif
