/*
 * Threads' architecture state (<arch/thread.h>): the first context of a new thread and
 * what a switch loads besides the callee-saved registers (context_switch.S).
 */
#include <stddef.h>
#include <arch/cpu.h>
#include <arch/thread.h>
#include <arch/user.h>
#include <arch/x86/arch.h>
#include <arch/x86/cpu.h>
#include <arch/x86/fpu.h>
#include <kernel/assert.h>
#include <lib/string.h>

/* context_switch.S saves and loads rsp at this offset. */
#define ARCH_THREAD_SP_OFFSET 0
_Static_assert(offsetof(struct arch_thread, sp) == ARCH_THREAD_SP_OFFSET,
               "context_switch.S hard-codes the offset of struct arch_thread's sp");

/* The callee-saved registers arch_context_switch pops: r15 r14 r13 r12 rbx rbp. */
#define SWITCH_FRAME_REGS 6

/* Frame layout popped by arch_context_switch: the six registers, then the return address
 * (the trampoline). One extra slot keeps the trampoline's stack aligned like a normal
 * function entry. */
void arch_thread_init(struct arch_thread *a, uintptr_t stack_top, void (*trampoline)(void)) {
    memset(a, 0, sizeof(*a));
    a->kstack_top = stack_top;
    uint64_t *sp = (uint64_t *)stack_top;
    *--sp = 0;                                   /* alignment / fake return address */
    *--sp = (uint64_t)(uintptr_t)trampoline;
    for (int i = 0; i < SWITCH_FRAME_REGS; i++)
        *--sp = 0;
    a->sp = (uintptr_t)sp;
}

void arch_thread_switch(struct arch_thread *from, bool from_dead, struct arch_thread *to) {
    struct arch_percpu *cpu = arch_get_percpu();
    x86_tss_set_rsp0(to->kstack_top);
    cpu->kstack_top = to->kstack_top;
    /* A user thread that has exited never runs again: its registers need no save. One
     * that lives on may run next on another CPU, which reads its state from its area. */
    if (from && from->fpu) {
        if (from_dead)
            x86_fpu_forget(from->fpu);
        else
            x86_fpu_flush();
    }
    if (to->fpu) {
        /* Selectors another thread loaded must not show through, and loading FS or GS
         * may have replaced a base behind the cache's back. */
        if (x86_clear_user_selectors())
            x86_user_bases_forget();
        arch_user_bases_load(to->fs_base, to->gs_base);
        x86_fpu_switch(to->fpu);
    }
    arch_syscall_entry_load(to->syscall_restricted);
}
