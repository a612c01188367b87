/* Register frame built by the exception entry stubs (kernel/arch/x86/exceptions.S). */
#ifndef ARCH_X86_IFRAME_H
#define ARCH_X86_IFRAME_H

#include <stdint.h>

struct x86_iframe {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t err_code;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

#define X86_VECTOR_DF 8
#define X86_VECTOR_NMI 2
#define X86_VECTOR_MC 18
#define X86_VECTOR_PF 14
#define X86_NUM_EXCEPTIONS 32
#define X86_VECTOR_TIMER 0x20    /* LAPIC timer */
#define X86_VECTOR_SPURIOUS 0xff /* LAPIC spurious interrupt */

/* Interrupts (vectors >= 32), called from the common stub path (lapic.c). */
void x86_irq_handler(struct x86_iframe *frame);

void x86_exception_handler(struct x86_iframe *frame);

#endif
