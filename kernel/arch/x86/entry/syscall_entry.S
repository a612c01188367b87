/*
 * The `syscall` entry points. (A thread's first entry into user mode, and the return
 * from a syscall that replaced the whole frame, go through arch_enter_user,
 * kernel/arch/x86/enter_user.S.)
 *
 * Syscall entry builds a struct x86_iframe on the thread's kernel stack (the same layout
 * as the exception stubs, vector X86_VECTOR_SYSCALL), so kill and restricted-mode code
 * see one frame format. The user rsp is parked in the CPU's struct arch_percpu while the
 * kernel stack (also from there) is loaded (FMASK clears IF, so nothing can interleave;
 * on SMP these become GS-relative after swapgs). FMASK also clears DF and AC
 * (syscall.c), for this entry and the restricted-mode one alike, so unlike the exception
 * stubs these need no ENTRY_CLEAR_FLAGS. Return is sysretq; the C side guarantees the
 * saved rip is a canonical user address before we get here.
 */
#include <arch/x86/boot_defs.h>
#include <arch/x86/iframe_asm.h>
#include <arch/x86/percpu.h>

#define X86_VECTOR_SYSCALL 0x100

/*
 * SYSCALL_ENTRY name, handler: one `syscall` entry point calling handler(frame). Three
 * exist: the normal one, the one LSTAR points at while the running thread is in
 * restricted mode (arch_set_syscall_entry, <arch/user.h>), so that the normal path never
 * tests for restricted mode, and the normal one's stand-in for debug.break=syscall:NAME,
 * so that the normal path never tests for that either.
 */
.macro SYSCALL_ENTRY name, handler
.balign 16
.global \name
.type \name, @function
\name:
    movq %rsp, arch_boot_percpu+X86_PERCPU_SYSCALL_USER_RSP(%rip)
    movq arch_boot_percpu+X86_PERCPU_KSTACK_TOP(%rip), %rsp
    pushq $X86_GDT_USER_DATA            /* ss */
    pushq arch_boot_percpu+X86_PERCPU_SYSCALL_USER_RSP(%rip) /* rsp */
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
/* The normal entry's stand-in while debug.break=syscall:NAME is armed
 * (arch_syscall_break_enable, syscall_init.c). */
SYSCALL_ENTRY x86_syscall_entry_break, x86_syscall_break_handler
