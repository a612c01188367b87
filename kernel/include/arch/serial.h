/*
 * The kernel console's device: the boot serial port, polled (kernel/console.c adds the
 * lock and formatting). Usable from the first instruction of kmain, with interrupts in
 * any state.
 */
#ifndef ARCH_SERIAL_H
#define ARCH_SERIAL_H

/* Sets the port up (speed, framing); called once, first thing at boot. */
void arch_serial_init(void);

/* Sends one byte, waiting (bounded) while the transmitter is full. */
void arch_serial_putc(char c);

#endif
