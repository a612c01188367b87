/*
 * The kernel console's device: the boot serial port, polled both ways (kernel/console.c
 * adds the lock and formatting for output; the debug console reads input). Usable from
 * the first instruction of kmain, with interrupts in any state.
 */
#ifndef ARCH_SERIAL_H
#define ARCH_SERIAL_H

#include <stdbool.h>

/* Sets the port up (speed, framing); called once, first thing at boot. */
void arch_serial_init(void);

/* Sends one byte, waiting (bounded) while the transmitter is full. */
void arch_serial_putc(char c);

/*
 * Receives one byte if the port holds one: stores it in *out and returns true; returns
 * false at once when nothing has arrived (polled: the port raises no interrupts). Callers
 * that wait for input sleep between polls (kernel/proc/debug_console_session.c).
 */
bool arch_serial_try_getc(char *out);

#endif
