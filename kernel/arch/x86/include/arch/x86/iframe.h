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
#include <arch/x86/iframe_asm.h>

struct x86_iframe {
    uint64_t cr2, pad;
    /* The syscall argument registers in argument order (rdi, rsi, rdx, r10, r8, r9, r12,
     * r13): the syscall handler hands the dispatcher a pointer to rdi as its args[8]
     * instead of copying them (x86_iframe_syscall_args). The rest follow. */
    uint64_t rdi, rsi, rdx, r10, r8, r9, r12, r13;
    uint64_t r15, r14, r11, rbp, rcx, rbx, rax;
    uint64_t vector;
    uint64_t err_code;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

_Static_assert(sizeof(struct x86_iframe) % 16 == 0, "x86_iframe keeps the stack aligned");

/* The eight syscall argument registers of f, in order, as one array (see above). */
static inline const uint64_t *x86_iframe_syscall_args(const struct x86_iframe *f) {
    return &f->rdi;
}

#define X86_IFRAME_ARG_AT(reg, n)                                                          \
    (__builtin_offsetof(struct x86_iframe, reg) ==                                         \
     __builtin_offsetof(struct x86_iframe, rdi) + (n) * sizeof(uint64_t))
_Static_assert(X86_IFRAME_ARG_AT(rsi, 1) && X86_IFRAME_ARG_AT(rdx, 2) &&
                   X86_IFRAME_ARG_AT(r10, 3) && X86_IFRAME_ARG_AT(r8, 4) &&
                   X86_IFRAME_ARG_AT(r9, 5) && X86_IFRAME_ARG_AT(r12, 6) &&
                   X86_IFRAME_ARG_AT(r13, 7),
               "the syscall argument registers are consecutive, in argument order");
#undef X86_IFRAME_ARG_AT

#define X86_IFRAME_OFF_OK(reg, off) (__builtin_offsetof(struct x86_iframe, reg) == (off))
_Static_assert(X86_IFRAME_OFF_OK(rdi, IFRAME_OFF_RDI) && X86_IFRAME_OFF_OK(rsi, IFRAME_OFF_RSI) &&
                   X86_IFRAME_OFF_OK(rdx, IFRAME_OFF_RDX) && X86_IFRAME_OFF_OK(r10, IFRAME_OFF_R10) &&
                   X86_IFRAME_OFF_OK(r8, IFRAME_OFF_R8) && X86_IFRAME_OFF_OK(r9, IFRAME_OFF_R9) &&
                   X86_IFRAME_OFF_OK(r12, IFRAME_OFF_R12) && X86_IFRAME_OFF_OK(r13, IFRAME_OFF_R13) &&
                   X86_IFRAME_OFF_OK(r15, IFRAME_OFF_R15) && X86_IFRAME_OFF_OK(r14, IFRAME_OFF_R14) &&
                   X86_IFRAME_OFF_OK(rbp, IFRAME_OFF_RBP) && X86_IFRAME_OFF_OK(rbx, IFRAME_OFF_RBX) &&
                   X86_IFRAME_OFF_OK(rax, IFRAME_OFF_RAX) && X86_IFRAME_OFF_OK(rip, IFRAME_OFF_RIP) &&
                   X86_IFRAME_OFF_OK(rflags, IFRAME_OFF_RFLAGS) &&
                   X86_IFRAME_OFF_OK(rsp, IFRAME_OFF_RSP),
               "IFRAME_OFF_* (<arch/x86/iframe_asm.h>) match struct x86_iframe");
#undef X86_IFRAME_OFF_OK

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
