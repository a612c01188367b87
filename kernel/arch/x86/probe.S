/*
 * Kernel memory probes (contracts in <arch/x86/probe.h>). Each probe does its one risky
 * access at a labelled instruction listed in the exception table; on a fault the handler
 * resumes at probe_fault, which returns ZX_ERR_NOT_FOUND. The stack is the same at the
 * risky instruction as at probe_fault (nothing pushed in between), so one fixup serves all.
 */
#include <arch/x86/probe.h>
#include <zircon/errors.h>

.text

/* zx_status_t arch_probe_read64(uintptr_t addr = %rdi, uint64_t *out = %rsi) */
.balign 16
.global arch_probe_read64
.type arch_probe_read64, @function
arch_probe_read64:
probe_read_insn:
    movq (%rdi), %rax           /* may fault */
    movq %rax, (%rsi)
    xorl %eax, %eax             /* ZX_OK */
    ret
.size arch_probe_read64, . - arch_probe_read64
X86_EX_TABLE_ENTRY(probe_read_insn, probe_fault)

/* zx_status_t arch_probe_write64(uintptr_t addr = %rdi, uint64_t value = %rsi) */
.balign 16
.global arch_probe_write64
.type arch_probe_write64, @function
arch_probe_write64:
probe_write_insn:
    movq %rsi, (%rdi)           /* may fault */
    xorl %eax, %eax
    ret
.size arch_probe_write64, . - arch_probe_write64
X86_EX_TABLE_ENTRY(probe_write_insn, probe_fault)

/*
 * zx_status_t arch_probe_exec(uintptr_t addr = %rdi)
 * A fetch fault at the target is seen with rip = %rdi = addr and x86_probe_exec_return on
 * top of the stack; the handler pops it and resumes at this return point's fixup. A real
 * CPU raises #GP for a non-canonical target on the call itself, hence the call's entry.
 */
.balign 16
.global arch_probe_exec
.type arch_probe_exec, @function
arch_probe_exec:
probe_call_insn:
    call *%rdi
.global x86_probe_exec_return
x86_probe_exec_return:
    xorl %eax, %eax
    ret
.size arch_probe_exec, . - arch_probe_exec
X86_EX_TABLE_ENTRY(probe_call_insn, probe_fault)
X86_EX_TABLE_ENTRY(x86_probe_exec_return, probe_fault)

/* Shared fixup: the access faulted. */
.balign 16
probe_fault:
    movl $ZX_ERR_NOT_FOUND, %eax
    ret
