/* Fatal errors and machine power-off. */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/compiler.h>

/* Prints "KERNEL PANIC: <message>", a backtrace, and powers off with a failure status.
 * (Declared in <kernel/assert.h>; repeated here for readers of this header.) */
__noreturn void panic(const char *fmt, ...) __printflike(1, 2);

/*
 * Prints "BERYL: exit status=<0|1> (<success|failure>)" and ends the machine so the host
 * sees the status: QEMU isa-debug-exit exits with 33 on success and 35 on failure; Bochs
 * quits (the runner reads the line above from the serial log).
 */
__noreturn void kernel_poweroff(bool success);

/*
 * The start of every panic (panic() and the architecture's fatal-exception report):
 * interrupts off for good, every other CPU stopped, the console lock broken so the
 * report gets out. Returns on the first panic only: a CPU that panics while another one
 * is halts here, and a panic on the CPU already panicking prints one line and powers off.
 */
void panic_begin(void);

/* After panic_begin: one line per other CPU with the pc and thread it was stopped at. */
void panic_print_other_cpus(void);

/* Prints one symbolised line per frame, starting at pc, following the rbp chain. */
void print_backtrace(uintptr_t pc, uintptr_t fp);

#endif
