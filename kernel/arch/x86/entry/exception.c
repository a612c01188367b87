/*
 * Exception handling (the C side of exceptions.S).
 *  - From user mode: a page fault the VM resolves is retried; anything else goes up as
 *    trap_user_exception (restricted mode reports it to normal mode, otherwise the
 *    process is killed with ZX_TASK_RETCODE_EXCEPTION_KILL). NMI, #DF and #MC are
 *    hardware trouble and handled as kernel faults wherever they come from.
 *  - From kernel mode every exception is a kernel bug (print the vector, error code,
 *    CR2, every register and a symbolised backtrace, then power off with a failure
 *    status), except a fault on an instruction listed in the exception table (probes
 *    and user copies), which resumes at its fixup (<arch/x86/probe.h>).
 */
#include <arch/irq.h>
#include <arch/x86/arch.h>
#include <arch/x86/cpu.h>
#include <arch/x86/iframe.h>
#include <arch/x86/probe.h>
#include <kernel/assert.h>
#include <kernel/console.h>
#include <kernel/debug_break.h>
#include <kernel/ksyms.h>
#include <kernel/panic.h>
#include <kernel/trap.h>
#include <phys/heap.h>

static const char *const exception_names[X86_NUM_EXCEPTIONS] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
    "coprocessor segment overrun", "#TS invalid TSS", "#NP segment not present",
    "#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
    "#MF x87 floating point", "#AC alignment check", "#MC machine check",
    "#XM SIMD floating point", "#VE virtualization", "#CP control protection",
    "reserved 22", "reserved 23", "reserved 24", "reserved 25", "reserved 26", "reserved 27",
    "#HV hypervisor injection", "#VC VMM communication", "#SX security", "reserved 31",
};

static void print_symbolised(const char *label, uint64_t addr) {
    const char *name;
    uint64_t off;
    if (ksyms_lookup(addr, &name, &off))
        printf("%s 0x%016lx <%s+0x%lx>\n", label, addr, name, off);
    else
        printf("%s 0x%016lx\n", label, addr);
}

/* Names the heap object each register points into (a use after free shows the FREED
 * object and, with kernel.heap-poison=true, where it was freed). */
static void describe_heap_pointers(const struct x86_iframe *f) {
    const struct {
        const char *name;
        uint64_t value;
    } regs[] = {
        {"rax", f->rax}, {"rbx", f->rbx}, {"rcx", f->rcx}, {"rdx", f->rdx},
        {"rsi", f->rsi}, {"rdi", f->rdi}, {"r8", f->r8},   {"r9", f->r9},
        {"r10", f->r10}, {"r11", f->r11}, {"r12", f->r12}, {"r13", f->r13},
        {"r14", f->r14}, {"r15", f->r15}, {"cr2", f->cr2},
    };
    char buf[HEAP_DESCRIBE_MAX];
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        if (heap_describe(regs[i].value, buf, sizeof(buf)))
            printf(" %s: %s\n", regs[i].name, buf);
    }
}

static void dump_frame(const struct x86_iframe *f) {
    print_symbolised(" rip", f->rip);
    printf(" cs  0x%04lx rflags 0x%016lx ss 0x%04lx\n", f->cs, f->rflags, f->ss);
    printf(" cr0 0x%016lx cr2 0x%016lx cr3 0x%016lx cr4 0x%016lx\n", x86_get_cr0(), f->cr2,
           x86_get_cr3(), x86_get_cr4());
    printf(" rax 0x%016lx rbx 0x%016lx rcx 0x%016lx rdx 0x%016lx\n", f->rax, f->rbx, f->rcx,
           f->rdx);
    printf(" rsi 0x%016lx rdi 0x%016lx rbp 0x%016lx rsp 0x%016lx\n", f->rsi, f->rdi, f->rbp,
           f->rsp);
    printf(" r8  0x%016lx r9  0x%016lx r10 0x%016lx r11 0x%016lx\n", f->r8, f->r9, f->r10,
           f->r11);
    printf(" r12 0x%016lx r13 0x%016lx r14 0x%016lx r15 0x%016lx\n", f->r12, f->r13, f->r14,
           f->r15);
    describe_heap_pointers(f);
}

#define X86_VECTOR_GP 13
#define X86_CS_RPL_MASK 3u

/* The fixup for a fault at rip, or 0 if rip is not in the exception table. */
static uintptr_t ex_table_lookup(uintptr_t rip) {
    for (const struct x86_ex_table_entry *e = __ex_table_start; e < __ex_table_end; e++)
        if (e->fault_rip == rip)
            return e->fixup_rip;
    return 0;
}

/*
 * Recovers a kernel-mode #PF or #GP raised by a probe (<arch/x86/probe.h>): the frame is
 * changed to resume at the fixup. Returns false if the fault is not a probe's.
 */
static bool fixup_probe_fault(struct x86_iframe *f) {
    if ((f->vector != X86_VECTOR_PF && f->vector != X86_VECTOR_GP) ||
        (f->cs & X86_CS_RPL_MASK) != 0)
        return false;
    uintptr_t rip = f->rip;
    /* arch_probe_exec's target could not be fetched: rip is still the probed address
     * (in rdi) and the call's return address is on top of the stack. Pop it and recover
     * as if the fault had happened there. */
    if (rip == f->rdi && *(const uint64_t *)f->rsp == (uintptr_t)x86_probe_exec_return) {
        f->rsp += sizeof(uint64_t);
        rip = (uintptr_t)x86_probe_exec_return;
    }
    uintptr_t fixup = ex_table_lookup(rip);
    if (fixup == 0)
        return false;
    f->rip = fixup;
    return true;
}

/*
 * VM page faults: a #PF in the user half (below X86_USER_HALF_TOP) is first offered to
 * the VM of the current user aspace (trap_page_fault); if it maps the page, the access
 * is retried (ZX_OK). Anything it cannot resolve falls through to the probe fixup and
 * the panic report below, unchanged. A supervisor access to user memory
 * is legitimate only from user-copy code, which sets RFLAGS.AC (SMAP), and never a fetch
 * (SMEP); other supervisor faults are not resolved, or they would fault forever.
 * Returns ZX_OK, the VM's status, ZX_ERR_NOT_FOUND for a #PF the VM is not asked about
 * (or when no user aspace is current), or ZX_ERR_NOT_SUPPORTED for other vectors.
 */
static zx_status_t try_vm_page_fault(const struct x86_iframe *f) {
    if (f->vector != X86_VECTOR_PF)
        return ZX_ERR_NOT_SUPPORTED;
    uint64_t va = f->cr2; /* CR2 itself may belong to a later fault by now */
    uint32_t e = (uint32_t)f->err_code;
    if (va >= X86_USER_HALF_TOP || (e & PF_ERR_RSVD))
        return ZX_ERR_NOT_FOUND;
    /* A supervisor access to user memory is resolved only when it was deliberate: with
     * SMAP on, that means RFLAGS.AC was set (else the fault is an SMAP violation and
     * resolving it would loop). Supervisor fetches from user memory never are (SMEP). */
    if (!(e & PF_ERR_USER)) {
        bool smap_on = x86_get_cr4() & X86_CR4_SMAP;
        if ((smap_on && !(f->rflags & X86_FLAGS_AC)) || (e & PF_ERR_FETCH))
            return ZX_ERR_NOT_FOUND;
    }
    uint32_t flags = 0;
    if (e & PF_ERR_WRITE)
        flags |= TRAP_PF_WRITE;
    if (e & PF_ERR_FETCH)
        flags |= TRAP_PF_EXECUTE;
    if (e & PF_ERR_USER)
        flags |= TRAP_PF_USER;
    if (!(e & PF_ERR_PRESENT))
        flags |= TRAP_PF_NOT_PRESENT;
    return trap_page_fault(va, flags);
}

static bool is_hardware_trouble(uint64_t vec) {
    return vec == X86_VECTOR_NMI || vec == X86_VECTOR_DF || vec == X86_VECTOR_MC;
}

#define X86_MSR_GS_BASE 0xc0000101u

/*
 * NMI, #DF and #MC may interrupt the kernel between an entry from ring 3 and its swapgs
 * (or a return's swapgs and its sysretq / iretq), where GS base still holds the user's
 * value although the saved CS is the kernel's. The user's base is always a user-half
 * address and the kernel's a kernel-half one, so the MSR tells which is loaded. These
 * vectors never return to the code they interrupted, so nothing swaps back.
 */
static void hardware_trouble_fix_gs(void) {
    if ((int64_t)x86_rdmsr(X86_MSR_GS_BASE) >= 0)
        __asm__ volatile("swapgs" ::: "memory");
}

/* The return-to-user test of <kernel/trap.h>, with the frame about to be restored. */
static inline void return_to_user(struct x86_iframe *f) {
    if (trap_user_work_pending(trap_current_thread()) || f->rip >= USER_ASPACE_TOP)
        trap_return_to_user_slow(f);
}

/* A user-mode exception: resolve it (page fault), report it to normal mode (a thread in
 * restricted mode), or kill the process. Interrupts are on while the VM works, as for a
 * syscall; the fault address is the frame's copy of CR2, taken before that. */
static void user_exception(struct x86_iframe *f) {
    arch_irq_enable();
    zx_status_t st = try_vm_page_fault(f);
    if (st != ZX_OK) {
        uint64_t vec = f->vector;
        trap_user_exception(f, st, vec < X86_NUM_EXCEPTIONS ? exception_names[vec] : "fault");
    }
    arch_irq_disable();
    return_to_user(f);
}

/*
 * A #PF from user mode, the most frequent exception, on a path of its own: as
 * user_exception, without the dispatch tests that cannot apply. Interrupts were on in
 * user mode (user code cannot clear IF), so the entry's interrupts-off stretch ends at
 * the sti here, and the return's starts at the cli below. Like the syscall entry's and
 * return's (the stub turns interrupts on and off itself), these are a fixed few dozen
 * instructions each and are not accounted (<kernel/irqoff.h>); the return's slow path,
 * whose length depends on the work it finds, is.
 */
static void user_page_fault(struct x86_iframe *f) {
    x86_sti();
    zx_status_t st = try_vm_page_fault(f);
    if (st != ZX_OK)
        trap_user_exception(f, st, exception_names[X86_VECTOR_PF]);
    x86_cli();
    if (trap_user_work_pending(trap_current_thread()) || f->rip >= USER_ASPACE_TOP) {
        arch_irqoff_begin(ARCH_HERE());
        trap_return_to_user_slow(f);
        arch_irqoff_end(ARCH_HERE());
    }
}

/*
 * A kernel-mode page fault on user memory (a user copy): resolved by the VM, which takes
 * blocking locks, so only when the faulting code ran with interrupts on; they are turned
 * back on meanwhile. With interrupts off the fault is left to the probe fixup.
 */
static bool kernel_vm_page_fault(const struct x86_iframe *f) {
    if (f->vector != X86_VECTOR_PF || !(f->rflags & X86_FLAGS_IF))
        return false;
    arch_irq_enable();
    bool resolved = try_vm_page_fault(f) == ZX_OK;
    arch_irq_disable();
    return resolved;
}

static void exception_dispatch(struct x86_iframe *f) {
    if (f->vector >= X86_NUM_EXCEPTIONS) {
        x86_irq_handler(f);
        if ((f->cs & X86_CS_RPL_MASK) != 0)
            return_to_user(f);
        return;
    }
    if ((f->cs & X86_CS_RPL_MASK) != 0 && !is_hardware_trouble(f->vector)) {
        user_exception(f);
        return;
    }
    if (kernel_vm_page_fault(f)) /* VM first, probe fixup second */
        return;
    if (fixup_probe_fault(f))
        return;
    uint64_t vec = f->vector;
    if (vec == X86_VECTOR_NMI && x86_panic_stopping())
        x86_panic_stop_this_cpu(f); /* another CPU panicked */
    panic_begin();
    const char *name = vec < X86_NUM_EXCEPTIONS ? exception_names[vec] : "unknown";
    printf("\nKERNEL PANIC: unhandled exception %lu (%s), error code 0x%lx\n", vec, name,
           f->err_code);
    if (vec == X86_VECTOR_PF) {
        uint32_t e = (uint32_t)f->err_code;
        printf(" page fault at cr2 0x%016lx: %s %s, %s mode%s%s\n", f->cr2,
               (e & PF_ERR_FETCH) ? "instruction fetch" : (e & PF_ERR_WRITE) ? "write" : "read",
               (e & PF_ERR_PRESENT) ? "on a protected page" : "of a not-present page",
               (e & PF_ERR_USER) ? "user" : "supervisor",
               (e & PF_ERR_RSVD) ? ", reserved bit set" : "", "");
        x86_mmu_dump_walk_current(f->cr2);
    }
    dump_frame(f);
    print_backtrace(f->rip, f->rbp);
    panic_print_other_cpus();
    debug_break_panic(f->rip);
    kernel_poweroff(false);
}

/*
 * Every exception and interrupt vector lands here with interrupts off, DF and AC clear
 * and CR2 saved in the frame by the entry stub (before anything could turn interrupts
 * on: another thread's fault would overwrite it). When the interrupted code had
 * interrupts on, the time until the return is an interrupts-off stretch for
 * <kernel/irqoff.h>.
 */
void x86_exception_handler(struct x86_iframe *f) {
    if (f->vector == X86_VECTOR_PF && (f->cs & X86_CS_RPL_MASK) != 0) {
        /* An entry that left AC set would run C with SMAP lifted. */
        ASSERT(x86_entry_flags_clear());
        user_page_fault(f);
        return;
    }
    if (is_hardware_trouble(f->vector))
        hardware_trouble_fix_gs();
    /* An entry that left AC set would run C with SMAP lifted. */
    ASSERT(x86_entry_flags_clear());
    bool irqs_were_on = f->rflags & X86_FLAGS_IF;
    if (irqs_were_on)
        arch_irqoff_begin(ARCH_HERE());
    exception_dispatch(f);
    if (irqs_were_on)
        arch_irqoff_end(ARCH_HERE());
}
