/*
 * Exception entry stubs for vectors 0..31 (and the interrupt vectors in use). Each stub
 * makes the stack look the same (a zero error code is pushed for vectors where the CPU
 * pushes none), pushes the vector number, and jumps to the common path, which clears DF
 * and AC (ENTRY_CLEAR_FLAGS), saves every general register and CR2 into a struct
 * x86_iframe and calls x86_exception_handler(frame). Every gate is an interrupt gate, so
 * all of this runs with interrupts off: the CR2 saved is that of this very fault.
 *
 * CFI: the stubs and the common path are the outermost frame of whatever the CPU
 * interrupted. Their return-address column is undefined (.cfi_undefined rip), so a
 * debugger's backtrace from a handler stops here, at the entry, rather than reading the
 * interrupted code's stack as kernel frames (for a fault in user mode, that stack is the
 * user's). The frame the CPU pushed (rip, cs, rsp...) says what was interrupted; for
 * kernel code, tools/gdb/beryl.py's unwinder continues the backtrace from it. The CFA is the end of that
 * frame; within ENTRY_CLEAR_FLAGS and IFRAME_PUSH_GPRS it lags by what they push. The
 * directives make no code.
 *
 * GS: an entry from ring 3 (the saved CS has RPL 3) executes swapgs, so that GS base is
 * the CPU's struct arch_percpu, and the return to ring 3 swaps back. NMI, #DF and #MC can
 * also land in kernel mode in the few instructions between a syscall or an iretq and
 * its swapgs; their C handler checks the GS base MSR itself (exception.c).
 */
#include <arch/x86/boot_defs.h>
#include <arch/x86/iframe_asm.h>

/* The kernel keeps .debug_frame (kernel.ld discards .eh_frame): CFI goes there. */
.cfi_sections .debug_frame


/* Where the saved CS lies: above the vector, the error code and rip at the common
 * entry; above rip once those two are dropped. */
#define IFRAME_HW_CS_FROM_VECTOR 24
#define IFRAME_HW_CS 8

/* Vectors that push an error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX. */
/* The CPU pushed five words (rip cs rflags rsp ss), and an error code for STUB_ERR. */
#define STUB_NOERR(v) .balign 16; x86_exc_stub_##v: .cfi_startproc simple; \
    .cfi_def_cfa rsp, 40; .cfi_undefined rip; \
    pushq $0; .cfi_adjust_cfa_offset 8; pushq $v; .cfi_adjust_cfa_offset 8; \
    jmp x86_exception_common; .cfi_endproc
#define STUB_ERR(v) .balign 16; x86_exc_stub_##v: .cfi_startproc simple; \
    .cfi_def_cfa rsp, 48; .cfi_undefined rip; \
    pushq $v; .cfi_adjust_cfa_offset 8; jmp x86_exception_common; .cfi_endproc

.text
STUB_NOERR(0)
STUB_NOERR(1)
STUB_NOERR(2)
STUB_NOERR(3)
STUB_NOERR(4)
STUB_NOERR(5)
STUB_NOERR(6)
STUB_NOERR(7)
STUB_ERR(8)
STUB_NOERR(9)
STUB_ERR(10)
STUB_ERR(11)
STUB_ERR(12)
STUB_ERR(13)
STUB_ERR(14)
STUB_NOERR(15)
STUB_NOERR(16)
STUB_ERR(17)
STUB_NOERR(18)
STUB_NOERR(19)
STUB_NOERR(20)
STUB_ERR(21)
STUB_NOERR(22)
STUB_NOERR(23)
STUB_NOERR(24)
STUB_NOERR(25)
STUB_NOERR(26)
STUB_NOERR(27)
STUB_NOERR(28)
STUB_ERR(29)
STUB_ERR(30)
STUB_NOERR(31)
/* Interrupt vectors in use (kernel/arch/x86/lapic.c, ipi.c): the LAPIC timer, the two
 * IPIs (0xf0 reschedule, 0xf1 call) and spurious. */
STUB_NOERR(32)
STUB_NOERR(240)
STUB_NOERR(241)
STUB_NOERR(255)
.global x86_irq_stub_timer
.set x86_irq_stub_timer, x86_exc_stub_32
.global x86_irq_stub_spurious
.set x86_irq_stub_spurious, x86_exc_stub_255
.global x86_irq_stub_ipi_reschedule
.set x86_irq_stub_ipi_reschedule, x86_exc_stub_240
.global x86_irq_stub_ipi_call
.set x86_irq_stub_ipi_call, x86_exc_stub_241

x86_exception_common:
    .cfi_startproc simple
    .cfi_def_cfa rsp, IFRAME_HW_BYTES
    .cfi_undefined rip      /* outermost frame: see above */
    testb $3, IFRAME_HW_CS_FROM_VECTOR(%rsp)
    jz 1f
    swapgs
1:
    ENTRY_CLEAR_FLAGS
    IFRAME_PUSH_GPRS
    IFRAME_PUSH_CR2
    .cfi_adjust_cfa_offset IFRAME_SAVED_BYTES
    mov %rsp, %rdi
    /* The saved rbp chain continues through the interrupted frame for backtraces. */
    call x86_exception_handler
    IFRAME_DROP_CR2
    IFRAME_POP_GPRS
    .cfi_adjust_cfa_offset -IFRAME_SAVED_BYTES
    addq $16, %rsp          /* vector + error code */
    .cfi_adjust_cfa_offset -16
    testb $3, IFRAME_HW_CS(%rsp)
    jz 2f
    swapgs
2:
    iretq
    .cfi_endproc

/* Table of stub addresses, read by idt.c. */
.section .rodata
.balign 8
.global x86_exception_stubs
x86_exception_stubs:
    .quad x86_exc_stub_0
    .quad x86_exc_stub_1
    .quad x86_exc_stub_2
    .quad x86_exc_stub_3
    .quad x86_exc_stub_4
    .quad x86_exc_stub_5
    .quad x86_exc_stub_6
    .quad x86_exc_stub_7
    .quad x86_exc_stub_8
    .quad x86_exc_stub_9
    .quad x86_exc_stub_10
    .quad x86_exc_stub_11
    .quad x86_exc_stub_12
    .quad x86_exc_stub_13
    .quad x86_exc_stub_14
    .quad x86_exc_stub_15
    .quad x86_exc_stub_16
    .quad x86_exc_stub_17
    .quad x86_exc_stub_18
    .quad x86_exc_stub_19
    .quad x86_exc_stub_20
    .quad x86_exc_stub_21
    .quad x86_exc_stub_22
    .quad x86_exc_stub_23
    .quad x86_exc_stub_24
    .quad x86_exc_stub_25
    .quad x86_exc_stub_26
    .quad x86_exc_stub_27
    .quad x86_exc_stub_28
    .quad x86_exc_stub_29
    .quad x86_exc_stub_30
    .quad x86_exc_stub_31
