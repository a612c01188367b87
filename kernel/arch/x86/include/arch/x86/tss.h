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

#endif
