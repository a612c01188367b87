/*
 * Kernel memory probes: one access that may fault, turned into an error return.
 *
 * In-kernel tests use them to check that an access faults (an unmapped page, a read-only
 * page written, an NX page executed); user-copy routines will use the same mechanism.
 *
 * Mechanism: the exception table. Each instruction allowed to fault is recorded in the
 * `.ex_table` section as a pair {fault_rip, fixup_rip}; the linker script collects the
 * pairs between __ex_table_start and __ex_table_end. When a kernel-mode #PF, or a #GP
 * (a non-canonical address), happens at a recorded rip, the exception handler resumes
 * at the fixup instead of panicking (x86_exception_handler, exception.c).
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
#include <zircon/types.h>

/*
 * Reads the 8 bytes at addr into *out. Returns ZX_OK, or ZX_ERR_NOT_FOUND (and leaves
 * *out untouched) if the read faulted: not mapped, non-canonical, or forbidden by SMAP.
 */
zx_status_t arch_probe_read64(uintptr_t addr, uint64_t *out);

/* Writes value to the 8 bytes at addr. Returns ZX_OK, or ZX_ERR_NOT_FOUND if it faulted
 * (not mapped, read-only under CR0.WP, non-canonical, or forbidden by SMAP). */
zx_status_t arch_probe_write64(uintptr_t addr, uint64_t value);

/*
 * Calls addr, which must hold code that returns at once (a `ret`, byte 0xC3). Returns
 * ZX_OK after it returned, or ZX_ERR_NOT_FOUND if fetching its first instruction faulted
 * (not mapped, NX, SMEP, non-canonical). A fault inside the target's code after its first
 * instruction is not recovered.
 */
zx_status_t arch_probe_exec(uintptr_t addr);

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
