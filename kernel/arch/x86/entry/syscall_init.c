/*
 * The MSRs behind the `syscall` / `sysret` pair: EFER.SCE, the selectors (STAR), the
 * RFLAGS bits cleared on entry (FMASK) and the entry point (LSTAR, which user.c switches
 * between the normal and the restricted-mode entries of syscall_entry.S; with
 * debug.break=syscall:NAME a third entry stands in for the normal one).
 */
#include <arch/debug.h>
#include <arch/irq.h>
#include <arch/x86/arch.h>
#include <arch/x86/boot_defs.h>
#include <arch/x86/cpu.h>

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
void x86_syscall_entry_break(void);

/* EFER.SCE, STAR, FMASK and LSTAR = lstar on the calling CPU. */
static void load_msrs(uintptr_t lstar) {
    x86_wrmsr(X86_MSR_EFER, x86_rdmsr(X86_MSR_EFER) | X86_EFER_SCE);
    x86_wrmsr(X86_MSR_STAR, (STAR_SYSRET_BASE << 48) | ((uint64_t)X86_GDT_KERNEL_CODE << 32));
    x86_wrmsr(X86_MSR_LSTAR, (uint64_t)lstar);
    /* Enter with interrupts off (until the stack is switched), no single-step, string
     * ops upward and SMAP's AC clear whatever user space left in RFLAGS. */
    x86_wrmsr(X86_MSR_FMASK, X86_FLAGS_IF | X86_FLAGS_TF | X86_FLAGS_DF | X86_FLAGS_AC |
                                 X86_FLAGS_NT);
}

void x86_syscall_init(void) {
    x86_set_syscall_entries((uintptr_t)x86_syscall_entry,
                            (uintptr_t)x86_syscall_entry_restricted);
    load_msrs((uintptr_t)x86_syscall_entry);
}

void x86_syscall_init_other_cpu(void) { load_msrs(x86_syscall_entry_normal()); }

/* arch_ipi_call body: LSTAR = the normal entry registered now, unless the running thread
 * is in restricted mode (none is, at boot). */
static void load_lstar(void *arg) {
    (void)arg;
    x86_wrmsr(X86_MSR_LSTAR, (uint64_t)x86_syscall_entry_normal());
}

/* Contract in <arch/debug.h>. At boot no thread is in restricted mode, so LSTAR holds
 * the normal entry, which becomes the stand-in. */
void arch_syscall_break_enable(void) {
    x86_set_syscall_entries((uintptr_t)x86_syscall_entry_break,
                            (uintptr_t)x86_syscall_entry_restricted);
    arch_ipi_call(arch_cpus_running(), load_lstar, NULL); /* every CPU running now */
}
