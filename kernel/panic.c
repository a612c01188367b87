/*
 * panic(), backtraces and power-off.
 *
 * The first CPU to panic stops every other one (arch_panic_stop_other_cpus) before it
 * prints, and prints each one's pc and thread at the end, so the log shows the whole
 * machine. A CPU that panics while another already is halts and waits to be stopped.
 */
#include <arch/cpu.h>
#include <arch/debug.h>
#include <kernel/thread.h>
#include <kernel/console.h>
#include <kernel/debug_break.h>
#include <kernel/ksyms.h>
#include <kernel/panic.h>

#define BACKTRACE_MAX_FRAMES 32

/* The CPU that panics first (+1), 0 before any does. */
static uint32_t panic_cpu;

static void print_frame(int index, uintptr_t pc) {
    const char *name;
    uint64_t off;
    if (ksyms_lookup(pc, &name, &off))
        printf("  #%-2d 0x%016lx %s+0x%lx\n", index, pc, name, off);
    else
        printf("  #%-2d 0x%016lx ?\n", index, pc);
}

/*
 * Walks saved (rbp, return address) pairs. Only frames inside a known kernel stack are
 * followed, and each must be above the previous one, so a corrupt chain ends the walk
 * instead of faulting.
 */
void print_backtrace(uintptr_t pc, uintptr_t fp) {
    printf("backtrace:\n");
    print_frame(0, pc);
    for (int i = 1; i < BACKTRACE_MAX_FRAMES; i++) {
        if (fp == 0 || (fp & 7) || !arch_is_kernel_stack(fp, 2 * sizeof(uintptr_t)))
            break;
        const uintptr_t *frame = (const uintptr_t *)fp;
        uintptr_t next_fp = frame[0];
        uintptr_t ret = frame[1];
        if (ret == 0)
            break;
        /* The return address points after the call; report the call instruction. */
        print_frame(i, ret - 1);
        if (next_fp <= fp)
            break;
        fp = next_fp;
    }
}

__noreturn void kernel_poweroff(bool success) {
    printf("BERYL: exit status=%d (%s)\n", success ? 0 : 1, success ? "success" : "failure");
    arch_poweroff(success);
}

void panic_begin(void) {
    arch_panic_irq_off();
    uint32_t me = arch_curr_cpu_num() + 1, expected = 0;
    if (!__atomic_compare_exchange_n(&panic_cpu, &expected, me, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        if (expected != me)
            arch_halt_forever(); /* the first panic's stop records this CPU */
        /* A panic while panicking: print nothing more that could fault again. The
         * first panic may have died holding the console lock, and taking it again
         * would fail its recursion check and panic once more. */
        console_break_lock();
        console_write("\nKERNEL PANIC (nested)\n", 23);
        arch_poweroff(false);
    }
    arch_panic_stop_other_cpus();
    console_break_lock();
}

void panic_print_other_cpus(void) {
    uint32_t me = arch_curr_cpu_num();
    if (arch_cpu_count() > 1)
        printf("cpu %u: panicked (the report above)\n", me);
    for (uint32_t c = 0; c < arch_cpu_count(); c++) {
        if (c == me)
            continue;
        uintptr_t pc;
        struct thread *t;
        if (!arch_panic_cpu_state(c, &pc, &t)) {
            printf("cpu %u: did not stop\n", c);
            continue;
        }
        const char *name;
        uint64_t off;
        printf("cpu %u: stopped at 0x%016lx", c, pc);
        if (ksyms_lookup(pc, &name, &off))
            printf(" <%s+0x%lx>", name, off);
        printf(", thread %s\n", t ? t->name : "(none)");
    }
}

__noreturn void panic(const char *fmt, ...) {
    panic_begin();
    va_list ap;
    va_start(ap, fmt);
    printf("\nKERNEL PANIC: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    /* Start at our caller: its frame is our saved rbp; its pc is the call to panic, one
     * byte before our return address (which, panic being noreturn, may already lie past
     * the end of the caller). */
    uintptr_t caller_fp = *(const uintptr_t *)__builtin_frame_address(0);
    print_backtrace((uintptr_t)__builtin_return_address(0) - 1, caller_fp);
    panic_print_other_cpus();
    debug_break_panic((uintptr_t)__builtin_return_address(0) - 1);
    kernel_poweroff(false);
}
