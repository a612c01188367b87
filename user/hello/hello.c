/*
 * The first user program. User mode does not exist yet (issue: user space), so the
 * kernel only checks that this module arrives as an ELF file under its name; once
 * syscalls exist this program prints through zx_debug_write and exits.
 */
void _start(void) __attribute__((section(".text.start"), noreturn));

void _start(void) {
    for (;;)
        __asm__ volatile("pause");
}
