/*
 * Ending the machine so the host can read the result.
 *  - QEMU: `-device isa-debug-exit,iobase=0xf4,iosize=0x04`; writing V exits QEMU with
 *    status (V << 1) | 1, so V = 0x10 -> 33 (success) and V = 0x11 -> 35 (failure).
 *  - Bochs: writing the bytes of "Shutdown" to port 0x8900 ends the simulation.
 * Whatever machine we are on, if neither worked we halt forever with interrupts off.
 */
#include <arch/x86/arch.h>
#include <arch/x86/cpu.h>
#include <arch/x86/uart.h>

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define QEMU_EXIT_SUCCESS_VALUE 0x10
#define QEMU_EXIT_FAILURE_VALUE 0x11
#define BOCHS_SHUTDOWN_PORT 0x8900

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
