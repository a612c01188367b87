/*
 * The one instruction that touches user memory for user_copy_from / user_copy_to.
 * A fault on it (a page the VM cannot provide, or forbidden) resumes at the fixup,
 * which returns the number of bytes NOT copied, so the caller reports an error.
 * RFLAGS.AC (SMAP) is managed by the C caller.
 */
#include <arch/x86/probe.h>

/* CFI for debuggers (into .debug_frame, which the kernel keeps): a leaf that pushes
 * nothing, so the default rules (return address at the stack pointer) hold throughout;
 * a backtrace from a fault in the copy continues into its caller. */
.cfi_sections .debug_frame

.text
/* size_t x86_user_copy_raw(void *dst = %rdi, const void *src = %rsi, size_t len = %rdx)
 * Returns 0 when all len bytes were copied, else the count left. */
.balign 16
.global x86_user_copy_raw
.type x86_user_copy_raw, @function
x86_user_copy_raw:
    .cfi_startproc
    movq %rdx, %rcx
user_copy_insn:
    rep movsb                   /* may fault; rcx then holds the bytes left */
    movq %rcx, %rax
    ret
user_copy_fixup:
    movq %rcx, %rax             /* > 0: the faulting byte was not copied */
    ret
    .cfi_endproc
.size x86_user_copy_raw, . - x86_user_copy_raw
X86_EX_TABLE_ENTRY(user_copy_insn, user_copy_fixup)
