/*
 * void arch_context_switch(struct arch_thread *from = %rdi, struct arch_thread *to = %rsi)
 * Saves the callee-saved registers on from's stack and its rsp in from->sp, then
 * resumes `to` the same way. Interrupts are off throughout (the scheduler's rule).
 * ARCH_THREAD_SP_OFFSET is checked against struct arch_thread by a static assert
 * (thread.c).
 */
#define ARCH_THREAD_SP_OFFSET 0

.text
.balign 16
.global arch_context_switch
.type arch_context_switch, @function
arch_context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, ARCH_THREAD_SP_OFFSET(%rdi)
    movq ARCH_THREAD_SP_OFFSET(%rsi), %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
.size arch_context_switch, . - arch_context_switch
