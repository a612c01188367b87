/*
 * The syscall layer's arch glue: MSR set-up for `syscall`/`sysret`, the C entry called
 * by x86_syscall_entry (user_entry.S), the per-switch hook that points the TSS and the
 * syscall entry at the next thread's kernel stack and loads its aspace, and the checks
 * every return to user mode makes (a pending kill, a non-canonical return address).
 */
#include <arch/mmu.h>
#include <arch/x86/arch.h>
#include <arch/x86/boot_defs.h>
#include <arch/x86/cpu.h>
#include <arch/x86/iframe.h>
#include <kernel/syscall.h>
#include <kernel/thread.h>
#include <kernel/user_copy.h>
#include <vm/vm_aspace.h>
#include "proc_priv.h"

#define X86_MSR_STAR 0xc0000081u
#define X86_MSR_LSTAR 0xc0000082u
#define X86_MSR_FMASK 0xc0000084u
#define X86_FLAGS_TF (1ull << 8)
#define X86_FLAGS_DF (1ull << 10)
#define X86_FLAGS_NT (1ull << 14)
/* sysret loads CS = STAR[63:48] + 16 and SS = STAR[63:48] + 8 (both | 3): base 0x10 gives
 * user data 0x1b and user code 0x23 (the GDT puts user data first for this reason). */
#define STAR_SYSRET_BASE ((uint64_t)(X86_GDT_USER_DATA - 8) & ~3ull)

void x86_syscall_entry(void);
uint64_t x86_syscall_user_rsp;  /* scratch for the entry stub (single CPU) */
uint64_t x86_syscall_kstack_top; /* the running thread's kernel stack top */

void syscall_init(void) {
    x86_wrmsr(X86_MSR_EFER, x86_rdmsr(X86_MSR_EFER) | X86_EFER_SCE);
    x86_wrmsr(X86_MSR_STAR, (STAR_SYSRET_BASE << 48) | ((uint64_t)X86_GDT_KERNEL_CODE << 32));
    x86_wrmsr(X86_MSR_LSTAR, (uint64_t)(uintptr_t)x86_syscall_entry);
    /* Enter with interrupts off (until the stack is switched), no single-step, string
     * ops upward and SMAP's AC clear whatever user space left in RFLAGS. */
    x86_wrmsr(X86_MSR_FMASK, X86_FLAGS_IF | X86_FLAGS_TF | X86_FLAGS_DF | X86_FLAGS_AC |
                                 X86_FLAGS_NT);
}

void arch_thread_switch_hook(thread_t *from, thread_t *to) {
    x86_tss_set_rsp0(to->stack_top);
    x86_syscall_kstack_top = to->stack_top;
    vm_aspace_t *old_as = from ? from->aspace : NULL;
    if (old_as != to->aspace) {
        arch_mmu_context_switch(old_as ? vm_aspace_arch(old_as) : NULL,
                                to->aspace ? vm_aspace_arch(to->aspace) : NULL);
        vm_aspace_set_current(to->aspace);
    }
}

/*
 * Called on every way back to user mode (syscall, exception, interrupt) with the frame
 * that will be restored. Acts on a pending kill (the thread exits here) and refuses to
 * return to an address sysret/iret could not reach.
 */
void x86_return_to_user_check(struct x86_iframe *f) {
    thread_t *t = thread_current();
    if (t->kill_pending)
        uthread_exit_current();
    if (f->rip >= USER_ASPACE_TOP)
        uthread_exception_kill(f, "return address outside the user aspace");
}

void x86_syscall_handler(struct x86_iframe *f) {
    uint64_t args[8] = {f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9, f->r12, f->r13};
    f->rax = (uint64_t)syscall_dispatch(f->rax, args);
    x86_return_to_user_check(f);
}
