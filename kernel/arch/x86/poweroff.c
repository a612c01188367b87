/*
 * Ending the machine so the host can read the result, and the other debugging helpers
 * of <arch/debug.h>.
 *  - QEMU: `-device isa-debug-exit,iobase=0xf4,iosize=0x04`; writing V exits QEMU with
 *    status (V << 1) | 1, so V = 0x10 -> 33 (success) and V = 0x11 -> 35 (failure).
 *  - Bochs: writing the bytes of "Shutdown" to port 0x8900 ends the simulation.
 * Whatever machine we are on, if neither worked we halt forever with interrupts off.
 */
#include <arch/debug.h>
#include <arch/x86/arch.h>
#include <arch/x86/cpu.h>
#include <arch/x86/uart.h>

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define QEMU_EXIT_SUCCESS_VALUE 0x10
#define QEMU_EXIT_FAILURE_VALUE 0x11
#define BOCHS_SHUTDOWN_PORT 0x8900

void arch_panic_irq_off(void) { x86_cli(); }

void arch_halt_forever(void) {
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

/* Bochs' magic breakpoint (`magic_break: enabled=1`): xchg bx, bx. The serial console is
 * flushed first, so the log read at the stop ends with the kernel's last line. */
void arch_debug_break(void) {
    x86_uart_flush();
    __asm__ volatile("xchg %%bx, %%bx" ::: "memory");
}

/* The same with value in rax, which Bochs' `r` shows and its expressions (`u /4 rax`,
 * `page rax`) read. */
void arch_debug_break_at(uintptr_t value) {
    x86_uart_flush();
    __asm__ volatile("xchg %%bx, %%bx" ::"a"(value) : "memory");
}

__noreturn void arch_poweroff(bool success) {
    x86_cli();
    x86_uart_flush(); /* emulators may quit before the last bytes reach the log */
    outb(QEMU_DEBUG_EXIT_PORT, success ? QEMU_EXIT_SUCCESS_VALUE : QEMU_EXIT_FAILURE_VALUE);
    static const char bochs_shutdown[] = "Shutdown";
    for (const char *p = bochs_shutdown; *p; p++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
    for (;;)
        x86_hlt();
}
