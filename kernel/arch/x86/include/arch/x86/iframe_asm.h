/*
 * Assembler macros that save and restore the general registers in struct x86_iframe
 * order (<arch/x86/iframe.h>): rax is pushed first, so rdi ends up at the lowest address
 * with the syscall argument registers above it in argument order, below it the cr2 / pad
 * pair (IFRAME_PUSH_CR2 / IFRAME_PUSH_NO_CR2, IFRAME_DROP_CR2).
 * Shared by the exception stubs and the syscall / user-entry paths.
 */
#ifndef ARCH_X86_IFRAME_ASM_H
#define ARCH_X86_IFRAME_ASM_H

/* Byte offsets of struct x86_iframe's fields, for the syscall return's restore
 * (syscall_entry.S); <arch/x86/iframe.h> checks them against the struct. */
#define IFRAME_OFF_RDI 16
#define IFRAME_OFF_RSI 24
#define IFRAME_OFF_RDX 32
#define IFRAME_OFF_R10 40
#define IFRAME_OFF_R8 48
#define IFRAME_OFF_R9 56
#define IFRAME_OFF_R12 64
#define IFRAME_OFF_R13 72
#define IFRAME_OFF_R15 80
#define IFRAME_OFF_R14 88
#define IFRAME_OFF_RBP 104
#define IFRAME_OFF_RBX 120
#define IFRAME_OFF_RAX 128
#define IFRAME_OFF_RIP 152
#define IFRAME_OFF_RFLAGS 168
#define IFRAME_OFF_RSP 176

#ifdef __ASSEMBLER__
/* Bytes IFRAME_PUSH_GPRS and IFRAME_PUSH_CR2 / IFRAME_PUSH_NO_CR2 add to the stack (the
 * fifteen registers and the cr2 / pad pair), for the entries' CFI. */
#define IFRAME_SAVED_BYTES ((15 + 2) * 8)
/* Bytes of the frame above them: vector, error code, and rip, cs, rflags, rsp, ss. */
#define IFRAME_HW_BYTES (7 * 8)

.macro IFRAME_PUSH_GPRS
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rbp
    pushq %r11
    pushq %r14
    pushq %r15
    pushq %r13
    pushq %r12
    pushq %r9
    pushq %r8
    pushq %r10
    pushq %rdx
    pushq %rsi
    pushq %rdi
.endm

/* The cr2 / pad pair: CR2 as it is now (exception stubs; rax must already be saved), or
 * zeros (syscall entries). */
.macro IFRAME_PUSH_CR2
    subq $8, %rsp
    movq %cr2, %rax
    pushq %rax
.endm

.macro IFRAME_PUSH_NO_CR2
    subq $8, %rsp
    pushq $0
.endm

.macro IFRAME_DROP_CR2
    addq $16, %rsp
.endm

/*
 * The first instructions of every exception and interrupt entry (any mode): string
 * operations run upward (DF clear) and RFLAGS.AC is clear, so SMAP holds in the kernel
 * whatever user code (or an interrupted user copy) left in RFLAGS. The CPU restores the
 * interrupted RFLAGS from the frame at iretq. `clac` exists only with SMAP
 * (x86_entry_has_clac, set at boot); without it AC is cleared through the stack, which
 * is slower but never runs on a CPU that enforces SMAP. Changes the arithmetic flags.
 */
.macro ENTRY_CLEAR_FLAGS
    cld
    testb $1, x86_entry_has_clac(%rip)
    jz 8f
    clac
    jmp 7f
8:
    pushfq
    andq $~(1 << 18), (%rsp)
    popfq
7:
.endm

.macro IFRAME_POP_GPRS
    popq %rdi
    popq %rsi
    popq %rdx
    popq %r10
    popq %r8
    popq %r9
    popq %r12
    popq %r13
    popq %r15
    popq %r14
    popq %r11
    popq %rbp
    popq %rcx
    popq %rbx
    popq %rax
.endm
#endif

#endif
