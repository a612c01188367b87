/*
 * Assembler macros that save and restore the general registers in struct x86_iframe
 * order (<arch/x86/iframe.h>): rax is pushed first, so r15 ends up at the lowest address.
 * Shared by the exception stubs and the syscall / user-entry paths.
 */
#ifndef ARCH_X86_IFRAME_ASM_H
#define ARCH_X86_IFRAME_ASM_H

#ifdef __ASSEMBLER__
.macro IFRAME_PUSH_GPRS
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
.endm

.macro IFRAME_POP_GPRS
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
.endm
#endif

#endif
