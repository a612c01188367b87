/*
 * Process entry. The kernel (or beryl_launch) starts the first thread here with the
 * bootstrap channel handle in %rdi, arg2 in %rsi and %rsp at the top of its stack.
 * The stack is re-aligned to 16 bytes so that __beryl_start sees the ABI's alignment
 * (rsp + 8 a multiple of 16 at function entry: compiled code keeps SSE values on the
 * stack with aligned moves). The x87 / SSE / AVX registers need no set-up: the kernel
 * starts every thread with the clean initial state (FCW 0x37f, MXCSR 0x1f80, empty x87
 * stack, zeroed vector registers). Threads started with tu_thread_start get a stack top
 * minus 8, the same alignment a call would leave.
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
