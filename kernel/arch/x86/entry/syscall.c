/*
 * Syscall entry, the C side: the handlers the entry stubs (syscall_entry.S) call with the
 * frame they built (the MSRs that lead there: syscall_init.c). Everything else goes up
 * through <kernel/trap.h>: the generated dispatcher, restricted mode, and the checks
 * every return to user mode makes.
 */
#include <arch/user.h>
#include <arch/x86/cpu.h>
#include <arch/x86/iframe.h>
#include <kernel/assert.h>
#include <kernel/trap.h>

void x86_syscall_handler(struct x86_iframe *f);
void x86_restricted_syscall_handler(struct x86_iframe *f);
void x86_syscall_break_handler(struct x86_iframe *f);

/* The return-to-user test of <kernel/trap.h>, with the frame about to be restored. */
static inline void return_to_user(thread_t *t, struct x86_iframe *f) {
    if (trap_user_work_pending(t) || f->rip >= USER_ASPACE_TOP)
        trap_return_to_user_slow(f);
}

/* A syscall that replaced the whole frame (zx_restricted_enter) returns with iret,
 * which restores rcx and r11 too. */
void x86_syscall_handler(struct x86_iframe *f) {
    ASSERT(x86_entry_flags_clear());
    /* The arguments are read in place: the frame keeps them in argument order. */
    int64_t ret = trap_syscall(f->rax, x86_iframe_syscall_args(f));
    thread_t *t = trap_current_thread();
    if (ret == ZX_ERR_INTERNAL_FRAME_REPLACED) {
        return_to_user(t, f);
        arch_enter_user(f);
    }
    f->rax = (uint64_t)ret;
    return_to_user(t, f);
}

/* A `syscall` instruction in restricted mode is not a Beryl syscall: it ends restricted
 * mode (LSTAR points here only while the running thread is in restricted mode). */
void x86_restricted_syscall_handler(struct x86_iframe *f) {
    ASSERT(x86_entry_flags_clear());
    thread_t *t = trap_current_thread();
    trap_restricted_syscall(t, f);
    return_to_user(t, f);
}

/* The entry debug.break=syscall:NAME installs in the normal one's place
 * (arch_syscall_break_enable): the debugger stop's hook sees the syscall first. */
void x86_syscall_break_handler(struct x86_iframe *f) {
    trap_syscall_break(f->rax, f->rip);
    x86_syscall_handler(f);
}
