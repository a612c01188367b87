/*
 * The x86-64 half of the generic CPU-service headers (kernel/include/arch/): the types
 * they leave to the architecture and the bodies of their static inline functions.
 *
 * This is the one indirection between the two: a generic header that promises a static
 * inline function, or embeds an architecture type, includes <arch/arch_impl.h>, which
 * every architecture provides under that name in its own include directory
 * (kernel/arch/ARCH/include/arch/). Only the headers of kernel/include/arch/ include it;
 * generic code includes those, never this file and never <arch/x86/...>.
 *
 * Symbols the inlined bodies reference from generic objects are named arch_*.
 */
#ifndef ARCH_ARCH_IMPL_H
#define ARCH_ARCH_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arch/x86/iframe.h>
#include <zircon/syscalls-next.h>

/* The user frame of <arch/user.h>: what every entry from ring 3 saves. */
typedef struct x86_iframe arch_iframe_t;

/* RFLAGS as pushfq gives it; only IF matters to arch_irq_restore. */
typedef uint64_t arch_irq_state_t;

/*
 * Per-CPU data (<arch/cpu.h>). In kernel mode GS base points at the running CPU's struct
 * (user GS base waits in the KERNEL_GS_BASE MSR: every entry from ring 3 and every return
 * to it executes swapgs), so a field is one %gs-relative access. The syscall entry stub
 * addresses the first two words (X86_PERCPU_* offsets, <arch/x86/percpu.h>); the rest is
 * C only.
 */
struct arch_percpu {
    uint64_t syscall_user_rsp; /* the user rsp while the syscall stub switches stacks */
    uint64_t kstack_top;       /* the running thread's kernel stack top */
    uint32_t cpu_num;
    bool syscall_restricted;   /* LSTAR holds the restricted-mode entry */
    uint64_t irqoff_start;     /* TSC at the start of the open stretch; 0: none */
    uintptr_t irqoff_start_pc;
    uint64_t user_fs_base;     /* what the FS / GS base MSRs hold */
    uint64_t user_gs_base;
    void *fpu_loaded;          /* the extended-state area the registers hold, or NULL */
    struct arch_percpu *self;  /* this struct: what a %gs-relative read of it returns */
    struct thread *curr_thread; /* the scheduler's running thread (arch_curr_thread) */
    void *tss;                 /* this CPU's struct x86_tss (rsp0 follows the thread) */
    uint32_t apic_id;          /* its local APIC ID (IPI destination) */
    uint64_t ipi_calls_from;   /* CPUs with an arch_ipi_call for this one (atomic) */
};

/*
 * The architecture's part of every thread (struct thread's `arch`, <arch/thread.h>).
 * Written by arch functions only; the scheduler and kernel/proc pass it around.
 */
struct arch_thread {
    uintptr_t sp;              /* kernel rsp while switched out (context_switch.S: offset 0) */
    uintptr_t kstack_top;      /* where a ring-3 entry lands (TSS rsp0, syscall stack) */
    uint64_t fs_base;          /* user FS / GS base (user threads) */
    uint64_t gs_base;
    void *fpu;                 /* extended-state area of a user thread, or NULL */
    bool syscall_restricted;   /* its syscalls go to the restricted-mode entry */
};

/*
 * ARCH_THREAD_OUTERMOST_FRAME() (<arch/thread.h>): from this point of the calling
 * function on, its return-address column in the unwind tables (.debug_frame) is
 * undefined, which tells a debugger the frame is the outermost one of its stack. Makes
 * no code.
 */
#define ARCH_THREAD_OUTERMOST_FRAME() __asm__ volatile(".cfi_undefined rip")

/* ---- bulk memory (<arch/string.h>): rep movsq / stosq for the words, movsb / stosb
 * for the tail ---- */

static __attribute__((always_inline)) inline void arch_copy_forward(void *dst, const void *src,
                                                                    size_t n) {
    size_t words = n / sizeof(uint64_t);
    size_t tail = n % sizeof(uint64_t);
    __asm__ volatile("rep movsq\n\t"
                     "mov %[tail], %%rcx\n\t"
                     "rep movsb"
                     : "+D"(dst), "+S"(src), "+c"(words)
                     : [tail] "r"(tail)
                     : "memory");
}

static __attribute__((always_inline)) inline void arch_fill(void *dst, uint64_t pattern,
                                                            size_t n) {
    size_t words = n / sizeof(uint64_t);
    size_t tail = n % sizeof(uint64_t);
    __asm__ volatile("rep stosq\n\t"
                     "mov %[tail], %%rcx\n\t"
                     "rep stosb"
                     : "+D"(dst), "+c"(words)
                     : "a"(pattern), [tail] "r"(tail)
                     : "memory");
}

#ifndef BERYL_HOST
#include <arch/x86/cpu.h>

/* The boot CPU's per-CPU data. */
extern struct arch_percpu arch_boot_percpu;

/* Kernel GS base points at the running CPU's struct arch_percpu (see above), from the
 * first instruction of the boot CPU's 64-bit code (boot/start.S) and of every other
 * CPU's C code (boot/smp.c). The reads are volatile so that the compiler does not reuse
 * a value read before a migration. */
#define X86_PERCPU_LOAD(field, out)                                                    \
    __asm__ volatile("mov %%gs:%c1, %0"                                                \
                     : "=r"(out)                                                       \
                     : "i"(offsetof(struct arch_percpu, field)))

static inline uint32_t arch_curr_cpu_num(void) {
    uint32_t n;
    X86_PERCPU_LOAD(cpu_num, n);
    return n;
}

static inline struct arch_percpu *arch_get_percpu(void) {
    struct arch_percpu *self;
    X86_PERCPU_LOAD(self, self);
    return self;
}

/* nodebug: see thread_current (<kernel/thread.h>). */
static inline __attribute__((nodebug)) struct thread *arch_curr_thread(void) {
    struct thread *t;
    X86_PERCPU_LOAD(curr_thread, t);
    return t;
}

static inline void arch_set_curr_thread(struct thread *t) {
    __asm__ volatile("mov %0, %%gs:%c1" ::"r"(t), "i"(offsetof(struct arch_percpu, curr_thread))
                     : "memory");
}
/* Runs the arch_ipi_calls sent to this CPU (ipi_calls.c). Interrupts off. */
void x86_ipi_serve_calls(void);

/* A spin-wait also serves the calls other CPUs send this one (<arch/irq.h>,
 * arch_ipi_call): the CPU it waits for may be waiting for it. */
static inline void arch_spin_pause(void) {
    __asm__ volatile("pause");
    uint64_t from;
    X86_PERCPU_LOAD(ipi_calls_from, from);
    if (__builtin_expect(from != 0, 0))
        x86_ipi_serve_calls();
}

/* CPUID's hypervisor bit, read by the boot CPU before any other CPU starts
 * (cpu_features.c). */
extern bool x86_cpus_virtual;

static inline bool arch_cpus_virtual(void) { return x86_cpus_virtual; }

static inline uint64_t arch_cycle_count(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

/* ---- interrupts-off accounting (<arch/irqoff.h>) ---- */

#define ARCH_HERE()                                                 \
    ({                                                              \
        uintptr_t here_;                                            \
        __asm__ volatile("leaq 0(%%rip), %0" : "=r"(here_));        \
        here_;                                                      \
    })

extern uint64_t arch_irqoff_max; /* longest stretch so far, in TSC ticks */

/* Slow path of arch_irqoff_end: a new longest stretch of `ticks` ending at end_pc. */
void arch_irqoff_record(uint64_t ticks, uintptr_t end_pc);

static inline void arch_irqoff_begin(uintptr_t pc) {
    struct arch_percpu *cpu = arch_get_percpu();
    cpu->irqoff_start = x86_rdtsc();
    cpu->irqoff_start_pc = pc;
}

static inline void arch_irqoff_end(uintptr_t pc) {
    struct arch_percpu *cpu = arch_get_percpu();
    uint64_t start = cpu->irqoff_start;
    if (start == 0)
        return;
    cpu->irqoff_start = 0;
    uint64_t ticks = x86_rdtsc() - start;
    if (ticks > __atomic_load_n(&arch_irqoff_max, __ATOMIC_RELAXED))
        arch_irqoff_record(ticks, pc);
}

/* ---- interrupt state (<arch/irq.h>) ---- */

static inline arch_irq_state_t arch_irq_save(void) {
    uint64_t flags = x86_save_flags();
    x86_cli();
    if (flags & X86_FLAGS_IF)
        arch_irqoff_begin(ARCH_HERE());
    return flags;
}

static inline void arch_irq_restore(arch_irq_state_t s) {
    if (s & X86_FLAGS_IF) {
        arch_irqoff_end(ARCH_HERE());
        x86_sti();
    }
}

static inline void arch_irq_disable(void) {
    uint64_t flags = x86_save_flags();
    x86_cli();
    if (flags & X86_FLAGS_IF)
        arch_irqoff_begin(ARCH_HERE());
}

static inline void arch_irq_enable(void) {
    if (!(x86_save_flags() & X86_FLAGS_IF))
        arch_irqoff_end(ARCH_HERE());
    x86_sti();
}

static inline bool arch_irqs_disabled(void) { return !(x86_save_flags() & X86_FLAGS_IF); }

/* sti takes effect after the next instruction, so no interrupt lands before the hlt. */
static inline void arch_idle(void) {
    arch_irqoff_end(ARCH_HERE());
    __asm__ volatile("sti; hlt" ::: "memory");
}

/* ---- user context (<arch/user.h>): the frame accessors restricted mode uses on every
 * enter and exit, inline ---- */

/* Addresses below this are in the user half of the 48-bit canonical space. */
#define X86_USER_HALF_TOP (1ull << 47)
/* RFLAGS bits restricted code may set (CF PF AF ZF SF TF DF OF); IF and the reserved bit
 * 1 are always set; IOPL, NT, RF, VM, AC, VIF, VIP and ID never. */
#define X86_FLAGS_USER_MASK 0xdd5ull
#define X86_FLAGS_RESERVED1 (1ull << 1)
#define X86_FLAGS_FIXED (X86_FLAGS_IF | X86_FLAGS_RESERVED1)

/* Out-of-line halves (user.c), interrupts off: write the FS / GS base MSRs, each only if
 * it differs from what the CPU holds; point LSTAR at the restricted-mode or the normal
 * syscall entry, only if that changes. */
void arch_user_bases_load(uint64_t fs_base, uint64_t gs_base);
void arch_syscall_entry_load(bool restricted);

static inline arch_iframe_t *arch_user_frame(uintptr_t kstack_top) {
    return (arch_iframe_t *)(kstack_top - sizeof(arch_iframe_t));
}

static inline uintptr_t arch_iframe_pc(const arch_iframe_t *f) { return f->rip; }

static inline void arch_iframe_set_vector_call(arch_iframe_t *f, uintptr_t pc,
                                               uint64_t context, uint64_t reason) {
    f->rip = pc;
    f->rdi = context;
    f->rsi = reason;
    f->rax = reason;
}

static inline void arch_restricted_state_save(zx_restricted_state_t *st,
                                              const arch_iframe_t *f,
                                              const struct arch_thread *a) {
    *st = (zx_restricted_state_t){
        .rdi = f->rdi, .rsi = f->rsi, .rbp = f->rbp, .rbx = f->rbx, .rdx = f->rdx,
        .rcx = f->rcx, .rax = f->rax, .rsp = f->rsp, .r8 = f->r8, .r9 = f->r9,
        .r10 = f->r10, .r11 = f->r11, .r12 = f->r12, .r13 = f->r13, .r14 = f->r14,
        .r15 = f->r15, .ip = f->rip, .flags = f->rflags, .fs_base = a->fs_base,
        .gs_base = a->gs_base,
    };
}

static inline void arch_restricted_state_load(arch_iframe_t *f,
                                              const zx_restricted_state_t *st) {
    f->rdi = st->rdi, f->rsi = st->rsi, f->rbp = st->rbp, f->rbx = st->rbx, f->rdx = st->rdx;
    f->rcx = st->rcx, f->rax = st->rax, f->rsp = st->rsp, f->r8 = st->r8, f->r9 = st->r9;
    f->r10 = st->r10, f->r11 = st->r11, f->r12 = st->r12, f->r13 = st->r13, f->r14 = st->r14;
    f->r15 = st->r15;
    f->rip = st->ip;
    f->rflags = (st->flags & X86_FLAGS_USER_MASK) | X86_FLAGS_FIXED;
}

static inline bool arch_restricted_state_bases_ok(const zx_restricted_state_t *st) {
    return st->fs_base < X86_USER_HALF_TOP && st->gs_base < X86_USER_HALF_TOP;
}

static inline void arch_set_user_bases(struct arch_thread *a, uint64_t fs_base,
                                       uint64_t gs_base) {
    a->fs_base = fs_base;
    a->gs_base = gs_base;
    arch_user_bases_load(fs_base, gs_base);
}

static inline void arch_get_user_bases(const struct arch_thread *a, uint64_t *fs_base,
                                       uint64_t *gs_base) {
    *fs_base = a->fs_base;
    *gs_base = a->gs_base;
}

static inline void arch_set_syscall_entry(struct arch_thread *a, bool restricted) {
    a->syscall_restricted = restricted;
    arch_syscall_entry_load(restricted);
}
#endif /* !BERYL_HOST */

#endif
