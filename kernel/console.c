/* Kernel console: formatted output to COM1, serialised by a spinlock. */
#include <arch/serial.h>
#include <kernel/console.h>
#include <kernel/spinlock.h>
#include <lib/printf.h>

static spinlock_t console_lock = SPIN_LOCK_INIT_CLASS(CONSOLE);
static int current_level = LOG_INFO;

void console_init(void) { arch_serial_init(); }

void console_set_level(int level) { current_level = level; }
/* The panic paths: whoever held the lock (or waited for it) will not run again, so serve
 * the last ticket drawn and forget the holder. The validator goes off too: the panic
 * prints from wherever it stopped, whatever locks that holds. */
void console_break_lock(void) {
#if LOCKDEP_BUILD
    lockdep_on = false;
#endif
    __atomic_store_n(&console_lock.holder, 0, __ATOMIC_RELAXED);
    uint16_t next = __atomic_load_n(&console_lock.next, __ATOMIC_RELAXED);
    __atomic_store_n(&console_lock.owner, next, __ATOMIC_RELEASE);
}
int console_level(void) { return current_level; }

static void console_write_locked(const char *s, size_t len) TA_REQ(console_lock) {
    for (size_t i = 0; i < len; i++)
        arch_serial_putc(s[i]);
}

void console_write(const char *s, size_t len) {
    spin_lock_saved_state_t state;
    spin_lock_irqsave(&console_lock, &state);
    console_write_locked(s, len);
    spin_unlock_irqrestore(&console_lock, state);
}

/* kvprintf_sink's output function, called while vprintf holds the lock. */
static void console_sink(void *ctx, const char *s, size_t len) TA_REQ(console_lock) {
    (void)ctx;
    console_write_locked(s, len);
}

int vprintf(const char *fmt, va_list ap) {
    spin_lock_saved_state_t state;
    spin_lock_irqsave(&console_lock, &state);
    int n = kvprintf_sink(console_sink, NULL, fmt, ap);
    spin_unlock_irqrestore(&console_lock, state);
    return n;
}

int printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}
