/*
 * debug.break=STOP[,STOP...]: stops in the Bochs debugger at chosen points (Bochs' magic
 * breakpoint, <arch/debug.h>; a no-op instruction under QEMU and on hardware). Each stop
 * first prints a "debug.break: ..." line saying where it is. The stops
 * (docs/debugging.md, "Bochs"):
 *   boot          in kmain, once the command line is read
 *   fault         at a user fault, on the faulting thread, after the report's first
 *                 line and before the rest; and at a kernel panic (fault report,
 *                 failed assertion), after the report
 *   dump          after each page-table dump of dump.aspace=process:NAME
 *                 (dump.aspace=kernel always stops after its dump)
 *   syscall:NAME  on entry to syscall NAME (vmo_create...), each time it is called
 * Nothing is armed without the switch: every hook below is a test of one variable, on
 * paths that are not hot (boot, fatal faults, dumps), and the syscall stop costs the
 * syscall path nothing unless armed (arch_syscall_break_enable swaps the entry point).
 */
#ifndef KERNEL_DEBUG_BREAK_H
#define KERNEL_DEBUG_BREAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <kernel/compiler.h>

#define DEBUG_BREAK_BOOT (1u << 0)
#define DEBUG_BREAK_FAULT (1u << 1)
#define DEBUG_BREAK_DUMP (1u << 2)
#define DEBUG_BREAK_SYSCALL (1u << 3)

/* syscall:NAME can name syscalls numbered below this (one bit each). */
#define DEBUG_BREAK_SYSCALLS_MAX 64

/*
 * Reads debug.break= from the command line (cmdline_init first). syscall_names[0..count)
 * are the names syscall:NAME accepts, indexed by syscall number (NULL entries are
 * skipped); count must not exceed DEBUG_BREAK_SYSCALLS_MAX. Prints the stops it armed,
 * and for a value it does not know, a line listing the known ones (the rest still
 * arm). Call once, at boot, before the first stop could be reached.
 */
void debug_break_init(const char *const *syscall_names, size_t count);

/* True when the stops in `what` (DEBUG_BREAK_* bits) include an armed one. */
bool debug_break_armed(uint32_t what);

/* True when syscall number num has a stop armed (syscall:NAME). */
bool debug_break_syscall_armed(uint64_t num);

/* The name of an armed syscall num (debug_break_syscall_armed), from the table
 * debug_break_init was given. */
const char *debug_break_syscall_name(uint64_t num);

/*
 * Prints "debug.break: " and the message, then stops in the debugger with pc (an
 * address the stop is about, or 0) in the register docs/debugging.md names.
 * Unconditional: the callers test whether their stop is armed.
 */
void debug_break_stop(uintptr_t pc, const char *fmt, ...) __printflike(2, 3);

/* The fault stop for a user fault: the process, thread, exception and user pc, between
 * the report's first line and the rest. Does nothing unless `fault` is armed. */
void debug_break_user_fault(const char *process, const char *thread, const char *what,
                            uintptr_t pc);

/* The fault stop for a kernel panic whose report is printed (pc: where it happened).
 * Does nothing unless `fault` is armed. */
void debug_break_panic(uintptr_t pc);

/* The dump stop after a page-table dump described by what. Does nothing unless `dump`
 * is armed. */
void debug_break_dump(const char *what);

#endif
