/*
 * User context (<arch/user.h>): the out-of-line part (the rest is inline in
 * <arch/arch_impl.h>): a first user frame, exception reports, the FS / GS base and LSTAR
 * writes, and SMAP's user-access window.
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
/* In kernel mode the user's GS base waits here (swapgs, <arch/arch_impl.h>). */
#define X86_MSR_KERNEL_GS_BASE 0xc0000102u


#define X86_VECTOR_DB 1
#define X86_VECTOR_BP 3
#define X86_VECTOR_UD 6

/* Never a user base (those are user-half addresses): forces the next load to write. */
#define USER_BASE_UNKNOWN UINT64_MAX

/* ---- the user frame ---- */

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

bool arch_iframe_page_fault(const arch_iframe_t *f, arch_page_fault_info_t *out) {
    if (f->vector != X86_VECTOR_PF)
        return false;
    uint32_t e = (uint32_t)f->err_code;
    *out = (arch_page_fault_info_t){
        .addr = f->cr2,
        .present = e & PF_ERR_PRESENT,
        .write = e & PF_ERR_WRITE,
        .fetch = e & PF_ERR_FETCH,
        .user = e & PF_ERR_USER,
        .reserved = e & PF_ERR_RSVD,
    };
    return true;
}

bool arch_iframe_register_line(const arch_iframe_t *f, unsigned i, char *buf, size_t len) {
    switch (i) {
    case 0:
        ksnprintf(buf, len, "rip 0x%016lx rsp 0x%016lx rbp 0x%016lx", f->rip, f->rsp, f->rbp);
        return true;
    case 1:
        ksnprintf(buf, len, "rax 0x%016lx rbx 0x%016lx rcx 0x%016lx", f->rax, f->rbx, f->rcx);
        return true;
    case 2:
        ksnprintf(buf, len, "rdx 0x%016lx rsi 0x%016lx rdi 0x%016lx", f->rdx, f->rsi, f->rdi);
        return true;
    case 3:
        ksnprintf(buf, len, "r8  0x%016lx r9  0x%016lx r10 0x%016lx", f->r8, f->r9, f->r10);
        return true;
    case 4:
        ksnprintf(buf, len, "r11 0x%016lx r12 0x%016lx r13 0x%016lx", f->r11, f->r12, f->r13);
        return true;
    case 5:
        ksnprintf(buf, len, "r14 0x%016lx r15 0x%016lx rflags 0x%08lx", f->r14, f->r15,
                  f->rflags);
        return true;
    case 6:
        ksnprintf(buf, len, "cs 0x%04lx ss 0x%04lx cr2 0x%016lx error 0x%lx", f->cs, f->ss,
                  x86_fault_address(f), f->err_code);
        return true;
    default:
        return false;
    }
}

uintptr_t arch_iframe_frame_pointer(const arch_iframe_t *f) { return f->rbp; }

/* ---- FS / GS bases ---- */

void arch_user_bases_load(uint64_t fs_base, uint64_t gs_base) {
    struct arch_percpu *cpu = arch_get_percpu();
    if (fs_base != cpu->user_fs_base) {
        x86_wrmsr(X86_MSR_FS_BASE, fs_base);
        cpu->user_fs_base = fs_base;
    }
    if (gs_base != cpu->user_gs_base) {
        x86_wrmsr(X86_MSR_KERNEL_GS_BASE, gs_base);
        cpu->user_gs_base = gs_base;
    }
}

void x86_user_bases_forget(void) {
    struct arch_percpu *cpu = arch_get_percpu();
    cpu->user_fs_base = cpu->user_gs_base = USER_BASE_UNKNOWN;
}

/* ---- syscall entry selection ---- */

/* The entry points (entry/syscall_entry.S), registered by x86_syscall_init. */
static uintptr_t syscall_entry_normal, syscall_entry_restricted;

void x86_set_syscall_entries(uintptr_t normal, uintptr_t restricted) {
    syscall_entry_normal = normal;
    syscall_entry_restricted = restricted;
}

uintptr_t x86_syscall_entry_normal(void) { return syscall_entry_normal; }

void arch_syscall_entry_load(bool restricted) {
    struct arch_percpu *cpu = arch_get_percpu();
    if (restricted == cpu->syscall_restricted)
        return;
    x86_wrmsr(X86_MSR_LSTAR, restricted ? syscall_entry_restricted : syscall_entry_normal);
    cpu->syscall_restricted = restricted;
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
