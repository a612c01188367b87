/*
 * __noreturn void arch_enter_user(const struct x86_iframe *frame = %rdi)   (<arch/user.h>)
 * Loads every register from a complete frame (cs / ss must be the user selectors) and
 * iretqs to it: a thread's first entry into user mode, and the way back from a syscall
 * that replaced the whole frame (entry/syscall.c). swapgs puts the user's GS base back
 * (<arch/arch_impl.h>, struct arch_percpu).
 */
#include <arch/x86/iframe_asm.h>

.text
.balign 16
.global arch_enter_user
.type arch_enter_user, @function
arch_enter_user:
    cli
    movq %rdi, %rsp
    IFRAME_DROP_CR2
    IFRAME_POP_GPRS
    addq $16, %rsp
    swapgs
    iretq
.size arch_enter_user, . - arch_enter_user
