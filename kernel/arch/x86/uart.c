/* COM1 16550 UART, 115200 8N1, polled transmit and receive (no interrupts). */
#include <arch/serial.h>
#include <arch/x86/cpu.h>
#include <arch/x86/uart.h>

#define COM1_BASE 0x3f8
#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_RBR 0 /* receive buffer (DLAB=0, read) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLH 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5

#define UART_LCR_8N1 0x03
#define UART_LCR_DLAB 0x80
#define UART_FCR_ENABLE_CLEAR 0x07
#define UART_MCR_DTR_RTS_OUT2 0x0b
#define UART_LSR_DR 0x01   /* a received byte is waiting */
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40 /* transmitter completely empty */
#define UART_BASE_CLOCK 115200
#define UART_BAUD 115200
/* Bound the wait for a transmitter that never becomes ready (no UART present). */
#define UART_TX_SPIN_LIMIT 100000

void arch_serial_init(void) {
    uint16_t divisor = UART_BASE_CLOCK / UART_BAUD;
    outb(COM1_BASE + UART_IER, 0);
    outb(COM1_BASE + UART_LCR, UART_LCR_DLAB);
    outb(COM1_BASE + UART_DLL, divisor & 0xff);
    outb(COM1_BASE + UART_DLH, divisor >> 8);
    outb(COM1_BASE + UART_LCR, UART_LCR_8N1);
    outb(COM1_BASE + UART_FCR, UART_FCR_ENABLE_CLEAR);
    outb(COM1_BASE + UART_MCR, UART_MCR_DTR_RTS_OUT2);
}

void arch_serial_putc(char c) {
    for (int i = 0; i < UART_TX_SPIN_LIMIT; i++) {
        if (inb(COM1_BASE + UART_LSR) & UART_LSR_THRE)
            break;
    }
    outb(COM1_BASE + UART_THR, (uint8_t)c);
}

bool arch_serial_try_getc(char *out) {
    if (!(inb(COM1_BASE + UART_LSR) & UART_LSR_DR))
        return false;
    *out = (char)inb(COM1_BASE + UART_RBR);
    return true;
}

void x86_uart_flush(void) {
    for (int i = 0; i < UART_TX_SPIN_LIMIT; i++) {
        if (inb(COM1_BASE + UART_LSR) & UART_LSR_TEMT)
            break;
    }
}
