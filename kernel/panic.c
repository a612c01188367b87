/* panic(), backtraces and power-off. */
#include <arch/debug.h>
#include <kernel/console.h>
#include <kernel/debug_break.h>
#include <kernel/ksyms.h>
#include <kernel/panic.h>

#define BACKTRACE_MAX_FRAMES 32

static volatile int panic_depth;

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

__noreturn void panic(const char *fmt, ...) {
    arch_panic_irq_off();
    if (++panic_depth > 1) {
        /* A panic while panicking: print nothing more that could fault again. The
         * first panic may have died holding the console lock, and taking it again
         * would fail its recursion check and panic once more. */
        console_break_lock();
        console_write("\nKERNEL PANIC (nested)\n", 23);
        arch_poweroff(false);
    }
    console_break_lock();
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
    debug_break_panic((uintptr_t)__builtin_return_address(0) - 1);
    kernel_poweroff(false);
}
