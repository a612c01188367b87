/*
 * The `syscall` entry points. (A thread's first entry into user mode, and the return
 * from a syscall that replaced the whole frame, go through arch_enter_user,
 * kernel/arch/x86/enter_user.S.)
 *
 * Syscall entry builds a struct x86_iframe on the thread's kernel stack (the same layout
 * as the exception stubs, vector X86_VECTOR_SYSCALL), so kill and restricted-mode code
 * see one frame format. The user rsp is parked in the CPU's struct arch_percpu while the
 * kernel stack (also from there) is loaded: swapgs first makes GS base the CPU's
 * struct (FMASK clears IF, so nothing can interleave), and the return swaps the user's
 * GS base back in just before sysretq. FMASK also clears DF and AC
 * (syscall.c), for this entry and the restricted-mode one alike, so unlike the exception
 * stubs these need no ENTRY_CLEAR_FLAGS. Return is sysretq; the C side guarantees the
 * saved rip is a canonical user address before we get here.
 *
 * CFI: an entry is the outermost frame of the kernel's stack. Its return-address column
 * is undefined (.cfi_undefined rip), so a debugger's backtrace from any syscall ends here
 * at the user/kernel boundary rather than unwinding into the user stack as if it were
 * kernel frames. The CFA is the top of the kernel stack (the end of the frame) once the
 * stack is switched; within IFRAME_PUSH_GPRS it lags by the registers pushed so far.
 * The directives make no code.
 */
#include <arch/x86/boot_defs.h>
#include <arch/x86/iframe_asm.h>

/* The kernel keeps .debug_frame (kernel.ld discards .eh_frame): CFI goes there. */
.cfi_sections .debug_frame
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
    .cfi_startproc simple
    .cfi_def_cfa rsp, 0                 /* the user's stack until the switch */
    .cfi_undefined rip                  /* outermost kernel frame */
    swapgs
    movq %rsp, %gs:X86_PERCPU_SYSCALL_USER_RSP
    movq %gs:X86_PERCPU_KSTACK_TOP, %rsp
    pushq $X86_GDT_USER_DATA            /* ss */
    .cfi_adjust_cfa_offset 8
    pushq %gs:X86_PERCPU_SYSCALL_USER_RSP /* rsp */
    .cfi_adjust_cfa_offset 8
    pushq %r11                          /* rflags */
    .cfi_adjust_cfa_offset 8
    pushq $X86_GDT_USER_CODE            /* cs */
    .cfi_adjust_cfa_offset 8
    pushq %rcx                          /* rip */
    .cfi_adjust_cfa_offset 8
    pushq $0                            /* error code */
    .cfi_adjust_cfa_offset 8
    pushq $X86_VECTOR_SYSCALL           /* vector */
    .cfi_adjust_cfa_offset 8
    IFRAME_PUSH_GPRS
    IFRAME_PUSH_NO_CR2
    .cfi_adjust_cfa_offset IFRAME_SAVED_BYTES
    xorl %ebp, %ebp                     /* backtraces stop here */
    movq %rsp, %rdi
    sti
    call \handler                       /* stores the result in frame->rax */
    cli
    /* Every register is reloaded from the frame (none keeps a kernel value), with moves
     * rather than pops: sysretq takes rip from rcx and rflags from r11, so the frame's
     * rcx and r11 slots are never read, and the stack pointer moves once. */
    movq IFRAME_OFF_RDI(%rsp), %rdi
    movq IFRAME_OFF_RSI(%rsp), %rsi
    movq IFRAME_OFF_RDX(%rsp), %rdx
    movq IFRAME_OFF_R10(%rsp), %r10
    movq IFRAME_OFF_R8(%rsp), %r8
    movq IFRAME_OFF_R9(%rsp), %r9
    movq IFRAME_OFF_R12(%rsp), %r12
    movq IFRAME_OFF_R13(%rsp), %r13
    movq IFRAME_OFF_R15(%rsp), %r15
    movq IFRAME_OFF_R14(%rsp), %r14
    movq IFRAME_OFF_RBP(%rsp), %rbp
    movq IFRAME_OFF_RBX(%rsp), %rbx
    movq IFRAME_OFF_RAX(%rsp), %rax
    movq IFRAME_OFF_RIP(%rsp), %rcx
    movq IFRAME_OFF_RFLAGS(%rsp), %r11
    movq IFRAME_OFF_RSP(%rsp), %rsp     /* user rsp: last access to the kernel stack */
    .cfi_def_cfa rsp, 0
    swapgs
    sysretq
    .cfi_endproc
.size \name, . - \name
.endm

.text
SYSCALL_ENTRY x86_syscall_entry, x86_syscall_handler
SYSCALL_ENTRY x86_syscall_entry_restricted, x86_restricted_syscall_handler
/* The normal entry's stand-in while debug.break=syscall:NAME is armed
 * (arch_syscall_break_enable, syscall_init.c). */
SYSCALL_ENTRY x86_syscall_entry_break, x86_syscall_break_handler
