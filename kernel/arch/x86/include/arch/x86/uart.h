/* 16550 UART on COM1, polled. */
#ifndef ARCH_X86_UART_H
#define ARCH_X86_UART_H

void x86_uart_init(void);
void x86_uart_putc(char c);
/* Waits (bounded) until every byte written so far has left the transmitter. */
void x86_uart_flush(void);

#endif
