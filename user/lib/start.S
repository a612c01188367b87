/*
 * Process entry. The kernel (or beryl_launch) starts the first thread here with the
 * bootstrap channel handle in %rdi, arg2 in %rsi and %rsp at the top of its stack.
 * The stack is re-aligned to 16 bytes so that __beryl_start sees the ABI's alignment.
 */
    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    xorl %ebp, %ebp
    andq $-16, %rsp
    call __beryl_start
    ud2
    .size _start, . - _start
    .section .note.GNU-stack, "", @progbits
