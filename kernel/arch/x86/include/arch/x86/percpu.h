/*
 * Offsets into struct arch_percpu (<arch/arch_impl.h>) for assembly: the syscall entry
 * stub reaches the first two words before it has a stack. Checked against the struct in
 * percpu.c.
 */
#ifndef ARCH_X86_PERCPU_H
#define ARCH_X86_PERCPU_H

#define X86_PERCPU_SYSCALL_USER_RSP 0
#define X86_PERCPU_KSTACK_TOP 8
/* Its `self` pointer (C only: x86_percpu_gs_self). */
#define X86_PERCPU_SELF 64

#endif
