/*
 * Ring 3 <-> ring 0 transitions that are not exceptions: the `syscall` entry and the
 * first entry of a thread into user mode.
 *
 * Syscall entry builds a struct x86_iframe on the thread's kernel stack (the same layout
 * as the exception stubs, vector X86_VECTOR_SYSCALL), so kill and restricted-mode code
 * see one frame format. Single CPU: the user rsp is parked in a global while the kernel
 * stack is loaded (FMASK clears IF, so nothing can interleave). FMASK also clears DF and
 * AC (syscall.c), for this entry and the restricted-mode one alike, so unlike the
 * exception stubs these need no ENTRY_CLEAR_FLAGS. Return is sysretq; the C
 * side guarantees the saved rip is a canonical user address before we get here.
 */
#include <arch/x86/boot_defs.h>
#include <arch/x86/iframe_asm.h>

#define X86_VECTOR_SYSCALL 0x100

/*
 * SYSCALL_ENTRY name, handler: one `syscall` entry point calling handler(frame). Two
 * exist: the normal one, and the one LSTAR points at while the running thread is in
 * restricted mode (kernel/proc/restricted.c), so that the normal path never tests for
 * restricted mode.
 */
.macro SYSCALL_ENTRY name, handler
.balign 16
.global \name
.type \name, @function
\name:
    movq %rsp, x86_syscall_user_rsp(%rip)
    movq x86_syscall_kstack_top(%rip), %rsp
    pushq $X86_GDT_USER_DATA            /* ss */
    pushq x86_syscall_user_rsp(%rip)    /* rsp */
    pushq %r11                          /* rflags */
    pushq $X86_GDT_USER_CODE            /* cs */
    pushq %rcx                          /* rip */
    pushq $0                            /* error code */
    pushq $X86_VECTOR_SYSCALL           /* vector */
    IFRAME_PUSH_GPRS
    IFRAME_PUSH_NO_CR2
    xorl %ebp, %ebp                     /* backtraces stop here */
    movq %rsp, %rdi
    sti
    call \handler                       /* stores the result in frame->rax */
    cli
    IFRAME_DROP_CR2
    IFRAME_POP_GPRS
    addq $16, %rsp                      /* vector + error code */
    popq %rcx                           /* rip */
    addq $8, %rsp                       /* cs */
    popq %r11                           /* rflags */
    popq %rsp                           /* user rsp: last access to the kernel stack */
    sysretq
.size \name, . - \name
.endm

.text
SYSCALL_ENTRY x86_syscall_entry, x86_syscall_handler
SYSCALL_ENTRY x86_syscall_entry_restricted, x86_restricted_syscall_handler

/*
 * __noreturn void x86_enter_user(const struct x86_iframe *frame = %rdi)
 * Loads every register from a complete frame (cs/ss must be the user selectors) and
 * iretqs to it. Used for a thread's first entry into user mode.
 */
.balign 16
.global x86_enter_user
.type x86_enter_user, @function
x86_enter_user:
    cli
    movq %rdi, %rsp
    IFRAME_DROP_CR2
    IFRAME_POP_GPRS
    addq $16, %rsp
    iretq
.size x86_enter_user, . - x86_enter_user
