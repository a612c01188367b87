/*
 * Register frame built by every kernel entry: the exception and interrupt stubs
 * (kernel/arch/x86/entry/exceptions.S) and the syscall entries
 * (kernel/arch/x86/entry/syscall_entry.S). Generic code knows it as arch_iframe_t
 * (<arch/user.h>) and never reads its fields.
 *
 * cr2 is CR2 as the entry stub read it, before anything could enable interrupts: on a
 * #PF it is the fault address of this fault, whereas CR2 itself may since have been
 * overwritten by a fault of another thread that ran in between. Every consumer of a fault
 * address (the VM, restricted-mode exception reports, fault logs, panic reports) uses
 * this copy. It is 0 in frames built by the syscall entries. `pad` keeps the frame a
 * multiple of 16 bytes, so the stack stays ABI-aligned below it.
 */
#ifndef ARCH_X86_IFRAME_H
#define ARCH_X86_IFRAME_H

#include <stdint.h>
#include <zircon/types.h>

struct x86_iframe {
    uint64_t cr2, pad;
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t err_code;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

_Static_assert(sizeof(struct x86_iframe) % 16 == 0, "x86_iframe keeps the stack aligned");

#define X86_VECTOR_DF 8
#define X86_VECTOR_NMI 2
#define X86_VECTOR_MC 18
#define X86_VECTOR_PF 14
#define X86_NUM_EXCEPTIONS 32

/* #PF error-code bits (Intel SDM Vol. 3A, 4.7). */
#define PF_ERR_PRESENT (1u << 0)
#define PF_ERR_WRITE (1u << 1)
#define PF_ERR_USER (1u << 2)
#define PF_ERR_RSVD (1u << 3)
#define PF_ERR_FETCH (1u << 4)

#define X86_VECTOR_TIMER 0x20    /* LAPIC timer */
#define X86_VECTOR_SPURIOUS 0xff /* LAPIC spurious interrupt */
#define X86_VECTOR_IPI_RESCHEDULE 0xf0 /* arch_ipi_reschedule */
#define X86_VECTOR_IPI_CALL 0xf1       /* arch_ipi_call */

/* The fault address of the exception in f: the saved CR2 for a #PF, 0 for any other
 * vector (CR2 then holds a stale value). */
static inline uint64_t x86_fault_address(const struct x86_iframe *f) {
    return f->vector == X86_VECTOR_PF ? f->cr2 : 0;
}

/* Interrupts (vectors >= 32), called from the common stub path (entry/irq.c). */
void x86_irq_handler(struct x86_iframe *frame);

void x86_exception_handler(struct x86_iframe *frame);

#endif
