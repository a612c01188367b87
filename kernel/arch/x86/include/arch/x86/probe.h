/*
 * How x86-64 turns a faulting access into an error return: the probes of <arch/probe.h>
 * and the user copies (kernel/arch/x86/entry/user_copy.S) share this mechanism.
 *
 * Mechanism: the exception table. Each instruction allowed to fault is recorded in the
 * `.ex_table` section as a pair {fault_rip, fixup_rip}; the linker script collects the
 * pairs between __ex_table_start and __ex_table_end. When a kernel-mode #PF, or a #GP
 * (a non-canonical address), happens at a recorded rip, the exception handler resumes
 * at the fixup instead of panicking (x86_exception_handler, entry/exception.c).
 *
 * arch_probe_exec faults on the fetch of its *target*, which cannot be listed in a table.
 * It is recognised instead by its state at the fault: rip is the probed address (still in
 * %rdi, since no target instruction ran) and the top of the stack is the return address
 * of the probe's call, x86_probe_exec_return. The handler pops that return address and
 * continues at its fixup, so no per-CPU state is needed and nothing can go stale.
 *
 * Probes are supervisor accesses: with SMAP on, pages mapped with the USER flag fault
 * (and so report NOT_FOUND) unless the caller has set RFLAGS.AC.
 */
#ifndef ARCH_X86_PROBE_H
#define ARCH_X86_PROBE_H

#ifdef __ASSEMBLER__

/* Records that a fault at `fault` resumes at `fixup` (both labels in .text). */
#define X86_EX_TABLE_ENTRY(fault, fixup) \
    .pushsection .ex_table, "a";         \
    .balign 8;                           \
    .quad fault;                         \
    .quad fixup;                         \
    .popsection

#else

#include <stdint.h>
#include <arch/probe.h>

/* One exception-table record (see above). */
struct x86_ex_table_entry {
    uintptr_t fault_rip;
    uintptr_t fixup_rip;
};

extern const struct x86_ex_table_entry __ex_table_start[], __ex_table_end[];

/* The return address of arch_probe_exec's call (what is on the stack when it faults). */
extern const char x86_probe_exec_return[];

#endif

#endif
