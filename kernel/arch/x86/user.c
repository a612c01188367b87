/*
 * User context (<arch/user.h>): the user frame as generic code sees it, the FS / GS base
 * registers, the choice of syscall entry point, and SMAP's user-access window.
 *
 * The MSR writes are cached per CPU (struct arch_percpu): a switch between threads with
 * equal bases, or between two normal-mode threads, writes nothing.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/probe.h>
#include <arch/user.h>
#include <arch/x86/arch.h>
#include <arch/x86/boot_defs.h>
#include <arch/x86/cpu.h>
#include <arch/x86/iframe.h>
#include <kernel/assert.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <zircon/syscalls/exception.h>

#define X86_MSR_LSTAR 0xc0000082u
#define X86_MSR_FS_BASE 0xc0000100u
#define X86_MSR_GS_BASE 0xc0000101u

/* Addresses below this are in the user half of the 48-bit canonical space. */
#define X86_USER_HALF_TOP (1ull << 47)
/* RFLAGS bits restricted code may set (CF PF AF ZF SF TF DF OF); IF and the reserved bit
 * 1 are always set; IOPL, NT, RF, VM, AC, VIF, VIP and ID never. */
#define X86_FLAGS_USER_MASK 0xdd5ull
#define X86_FLAGS_RESERVED1 (1ull << 1)
#define X86_FLAGS_FIXED (X86_FLAGS_IF | X86_FLAGS_RESERVED1)

#define X86_VECTOR_DB 1
#define X86_VECTOR_BP 3
#define X86_VECTOR_UD 6

/* Never a user base (those are user-half addresses): forces the next load to write. */
#define USER_BASE_UNKNOWN UINT64_MAX

/* ---- the user frame ---- */

arch_iframe_t *arch_user_frame(uintptr_t kstack_top) {
    return (arch_iframe_t *)(kstack_top - sizeof(arch_iframe_t));
}

void arch_iframe_init_user(arch_iframe_t *f, uintptr_t pc, uintptr_t sp, uintptr_t arg1,
                           uintptr_t arg2) {
    memset(f, 0, sizeof(*f));
    f->rip = pc;
    f->rsp = sp;
    f->rdi = arg1;
    f->rsi = arg2;
    f->cs = X86_GDT_USER_CODE;
    f->ss = X86_GDT_USER_DATA;
    f->rflags = X86_FLAGS_FIXED;
}

uintptr_t arch_iframe_pc(const arch_iframe_t *f) { return f->rip; }

void arch_iframe_set_vector_call(arch_iframe_t *f, uintptr_t pc, uint64_t context,
                                 uint64_t reason) {
    f->rip = pc;
    f->rdi = context;
    f->rsi = reason;
    f->rax = reason;
}

void arch_restricted_state_save(zx_restricted_state_t *st, const arch_iframe_t *f) {
    *st = (zx_restricted_state_t){
        .rdi = f->rdi, .rsi = f->rsi, .rbp = f->rbp, .rbx = f->rbx, .rdx = f->rdx,
        .rcx = f->rcx, .rax = f->rax, .rsp = f->rsp, .r8 = f->r8, .r9 = f->r9,
        .r10 = f->r10, .r11 = f->r11, .r12 = f->r12, .r13 = f->r13, .r14 = f->r14,
        .r15 = f->r15, .ip = f->rip, .flags = f->rflags,
    };
}

void arch_restricted_state_load(arch_iframe_t *f, const zx_restricted_state_t *st) {
    f->rdi = st->rdi, f->rsi = st->rsi, f->rbp = st->rbp, f->rbx = st->rbx, f->rdx = st->rdx;
    f->rcx = st->rcx, f->rax = st->rax, f->rsp = st->rsp, f->r8 = st->r8, f->r9 = st->r9;
    f->r10 = st->r10, f->r11 = st->r11, f->r12 = st->r12, f->r13 = st->r13, f->r14 = st->r14;
    f->r15 = st->r15;
    f->rip = st->ip;
    f->rflags = (st->flags & X86_FLAGS_USER_MASK) | X86_FLAGS_FIXED;
}

bool arch_restricted_state_bases_ok(const zx_restricted_state_t *st) {
    return st->fs_base < X86_USER_HALF_TOP && st->gs_base < X86_USER_HALF_TOP;
}

void arch_exception_report(const arch_iframe_t *f, zx_status_t vm_status,
                           zx_exception_report_t *out) {
    zx_excp_type_t type = ZX_EXCP_GENERAL;
    uint32_t synth_code = 0;
    switch (f->vector) {
    case X86_VECTOR_PF:
        type = ZX_EXCP_FATAL_PAGE_FAULT;
        synth_code = (uint32_t)vm_status;
        break;
    case X86_VECTOR_UD: type = ZX_EXCP_UNDEFINED_INSTRUCTION; break;
    case X86_VECTOR_BP: type = ZX_EXCP_SW_BREAKPOINT; break;
    case X86_VECTOR_DB: type = ZX_EXCP_HW_BREAKPOINT; break;
    }
    *out = (zx_exception_report_t){
        .header = {.size = sizeof(*out), .type = type},
        .context = {.arch.u.x86_64 = {.vector = f->vector, .err_code = f->err_code,
                                      .cr2 = x86_fault_address(f)},
                    .synth_code = synth_code},
    };
}

void arch_iframe_describe(const arch_iframe_t *f, char *buf, size_t len) {
    ksnprintf(buf, len, "rip 0x%lx (vector %lu, error 0x%lx, cr2 0x%lx)", f->rip, f->vector,
              f->err_code, x86_fault_address(f));
}

/* ---- FS / GS bases ---- */

void x86_load_user_bases(uint64_t fs_base, uint64_t gs_base) {
    struct arch_percpu *cpu = arch_get_percpu();
    if (fs_base != cpu->user_fs_base) {
        x86_wrmsr(X86_MSR_FS_BASE, fs_base);
        cpu->user_fs_base = fs_base;
    }
    if (gs_base != cpu->user_gs_base) {
        x86_wrmsr(X86_MSR_GS_BASE, gs_base);
        cpu->user_gs_base = gs_base;
    }
}

void x86_user_bases_forget(void) {
    struct arch_percpu *cpu = arch_get_percpu();
    cpu->user_fs_base = cpu->user_gs_base = USER_BASE_UNKNOWN;
}

void arch_set_user_bases(struct arch_thread *a, uint64_t fs_base, uint64_t gs_base) {
    a->fs_base = fs_base;
    a->gs_base = gs_base;
    x86_load_user_bases(fs_base, gs_base);
}

void arch_get_user_bases(const struct arch_thread *a, uint64_t *fs_base, uint64_t *gs_base) {
    *fs_base = a->fs_base;
    *gs_base = a->gs_base;
}

/* ---- syscall entry selection ---- */

/* The entry points (entry/syscall_entry.S), registered by x86_syscall_init. */
static uintptr_t syscall_entry_normal, syscall_entry_restricted;

void x86_set_syscall_entries(uintptr_t normal, uintptr_t restricted) {
    syscall_entry_normal = normal;
    syscall_entry_restricted = restricted;
}

void x86_load_syscall_entry(bool restricted) {
    struct arch_percpu *cpu = arch_get_percpu();
    if (restricted == cpu->syscall_restricted)
        return;
    x86_wrmsr(X86_MSR_LSTAR, restricted ? syscall_entry_restricted : syscall_entry_normal);
    cpu->syscall_restricted = restricted;
}

void arch_set_syscall_entry(struct arch_thread *a, bool restricted) {
    DEBUG_ASSERT(arch_irqs_disabled());
    a->syscall_restricted = restricted;
    x86_load_syscall_entry(restricted);
}

/* ---- SMAP ---- */

bool arch_user_access_guarded(void) { return x86_features.smap; }

void arch_user_access_begin(void) {
    if (x86_features.smap)
        x86_stac();
}

void arch_user_access_end(void) {
    if (x86_features.smap)
        x86_clac();
}
