/* 16550 UART on COM1, polled: arch_serial_init / arch_serial_putc (<arch/serial.h>), and: */
#ifndef ARCH_X86_UART_H
#define ARCH_X86_UART_H

/* Waits (bounded) until every byte written so far has left the transmitter. */
void x86_uart_flush(void);

#endif
