/*
 * The syscall layer's arch glue: MSR set-up for `syscall`/`sysret`, the C entry called
 * by x86_syscall_entry (user_entry.S), the per-switch hook that points the TSS and the
 * syscall entry at the next thread's kernel stack and loads its aspace, FS / GS bases and
 * extended state (<arch/x86/fpu.h>: eager load, deferred save), and the checks
 * every return to user mode makes (a pending kill, a non-canonical return address).
 */
#include <arch/mmu.h>
#include <arch/x86/arch.h>
#include <arch/x86/boot_defs.h>
#include <arch/x86/cpu.h>
#include <arch/x86/iframe.h>
#include <kernel/assert.h>
#include <kernel/syscall.h>
#include <kernel/thread.h>
#include <kernel/user_copy.h>
#include <vm/vm_aspace.h>
#include <zircon/syscalls-next.h>
#include "proc_priv.h"

#define X86_MSR_STAR 0xc0000081u
#define X86_MSR_LSTAR 0xc0000082u
#define X86_MSR_FMASK 0xc0000084u
#define X86_FLAGS_TF (1ull << 8)
#define X86_FLAGS_NT (1ull << 14)
/* sysret loads CS = STAR[63:48] + 16 and SS = STAR[63:48] + 8 (both | 3): base 0x10 gives
 * user data 0x1b and user code 0x23 (the GDT puts user data first for this reason). */
#define STAR_SYSRET_BASE ((uint64_t)(X86_GDT_USER_DATA - 8) & ~3ull)

void x86_syscall_entry(void);
void x86_syscall_entry_restricted(void);
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
    debugging_syscalls_init();
}

#define X86_MSR_FS_BASE 0xc0000100u
#define X86_MSR_GS_BASE 0xc0000101u

/* The FS / GS base values in the MSRs (the kernel itself uses neither). */
static uint64_t loaded_fs_base, loaded_gs_base;
/* Never a user base (those are user-half addresses): forces the next load to write. */
#define USER_BASE_UNKNOWN UINT64_MAX

void x86_load_user_bases(uint64_t fs_base, uint64_t gs_base) {
    if (fs_base != loaded_fs_base) {
        x86_wrmsr(X86_MSR_FS_BASE, fs_base);
        loaded_fs_base = fs_base;
    }
    if (gs_base != loaded_gs_base) {
        x86_wrmsr(X86_MSR_GS_BASE, gs_base);
        loaded_gs_base = gs_base;
    }
}

/* Which syscall entry LSTAR holds (single CPU): the restricted one while the running
 * thread is in restricted mode. */
static bool lstar_restricted;

void x86_set_syscall_entry(bool restricted) {
    if (restricted == lstar_restricted)
        return;
    x86_wrmsr(X86_MSR_LSTAR, (uint64_t)(uintptr_t)(restricted ? x86_syscall_entry_restricted
                                                              : x86_syscall_entry));
    lstar_restricted = restricted;
}

void arch_thread_switch_hook(thread_t *from, thread_t *to) {
    x86_tss_set_rsp0(to->stack_top);
    x86_syscall_kstack_top = to->stack_top;
    /* A user thread that has exited never runs again: its registers need no save. */
    if (from && from->state == THREAD_DEAD && from->user_ctx)
        x86_fpu_forget(((uthread_t *)from->user_ctx)->fpu);
    const uthread_t *ut = to->user_ctx;
    if (ut) {
        /* Selectors another thread loaded must not show through, and loading FS or GS
         * may have replaced a base behind loaded_*'s back. */
        if (x86_clear_user_selectors())
            loaded_fs_base = loaded_gs_base = USER_BASE_UNKNOWN;
        x86_load_user_bases(ut->fs_base, ut->gs_base);
        x86_fpu_switch(ut->fpu);
    }
    x86_set_syscall_entry(ut && ut->restricted.active);
    vm_aspace_t *old_as = from ? from->aspace : NULL;
    if (old_as != to->aspace) {
        arch_mmu_context_switch(old_as ? vm_aspace_arch(old_as) : NULL,
                                to->aspace ? vm_aspace_arch(to->aspace) : NULL);
        vm_aspace_set_current(to->aspace);
    }
}

/* The rare part of the return-to-user check: something is pending. */
static __attribute__((noinline)) void return_to_user_pending(thread_t *t, struct x86_iframe *f) {
    uint8_t p = __atomic_load_n(&t->pending, __ATOMIC_ACQUIRE);
    if (p & THREAD_PENDING_KILL)
        uthread_exit_current();
    uthread_t *ut = t->user_ctx;
    /* A kick waits for restricted mode (zx_restricted_enter consumes it there). */
    if ((p & THREAD_PENDING_KICK) && ut->restricted.active) {
        __atomic_fetch_and(&t->pending, (uint8_t)~THREAD_PENDING_KICK, __ATOMIC_ACQ_REL);
        restricted_exit(ut, f, ZX_RESTRICTED_REASON_KICK);
    }
}

/*
 * Called on every way back to user mode (syscall, exception, interrupt) with the frame
 * that will be restored. Acts on a pending kill (the thread exits here) and on a kick of a
 * thread in restricted mode (it leaves restricted mode here), and refuses to return to an
 * address sysret/iret could not reach.
 */
static inline void return_to_user_check(thread_t *t, struct x86_iframe *f) {
    if (__atomic_load_n(&t->pending, __ATOMIC_RELAXED))
        return_to_user_pending(t, f);
    if (f->rip >= USER_ASPACE_TOP)
        uthread_exception_kill(f, "return address outside the user aspace");
}

void x86_return_to_user_check(struct x86_iframe *f) {
    return_to_user_check(thread_current(), f);
}

/* A syscall that replaced the whole frame (zx_restricted_enter) returns with iret,
 * which restores rcx and r11 too. */
void x86_syscall_handler(struct x86_iframe *f) {
    ASSERT(x86_entry_flags_clear());
    uint64_t args[8] = {f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9, f->r12, f->r13};
    int64_t ret = syscall_dispatch(f->rax, args);
    thread_t *t = thread_current();
    if (ret == ZX_ERR_INTERNAL_FRAME_REPLACED) {
        return_to_user_check(t, f);
        x86_enter_user(f);
    }
    f->rax = (uint64_t)ret;
    return_to_user_check(t, f);
}

/* A `syscall` instruction in restricted mode is not a Beryl syscall: it ends restricted
 * mode (LSTAR points here only while the running thread is in restricted mode). */
void x86_restricted_syscall_handler(struct x86_iframe *f) {
    ASSERT(x86_entry_flags_clear());
    thread_t *t = thread_current();
    restricted_exit(t->user_ctx, f, ZX_RESTRICTED_REASON_SYSCALL);
    return_to_user_check(t, f);
}
