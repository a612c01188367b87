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

/* The user frame of <arch/user.h>: what every entry from ring 3 saves. */
typedef struct x86_iframe arch_iframe_t;

/* RFLAGS as pushfq gives it; only IF matters to arch_irq_restore. */
typedef uint64_t arch_irq_state_t;

/*
 * Per-CPU data (<arch/cpu.h>). The syscall entry stub addresses the first two words
 * directly (X86_PERCPU_* offsets, <arch/x86/percpu.h>); the rest is C only.
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

/* The boot CPU's (today the only) per-CPU data. */
extern struct arch_percpu arch_boot_percpu;

static inline uint32_t arch_curr_cpu_num(void) { return 0; }
static inline struct arch_percpu *arch_get_percpu(void) { return &arch_boot_percpu; }
static inline void arch_spin_pause(void) { __asm__ volatile("pause"); }

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
    arch_boot_percpu.irqoff_start = x86_rdtsc();
    arch_boot_percpu.irqoff_start_pc = pc;
}

static inline void arch_irqoff_end(uintptr_t pc) {
    uint64_t start = arch_boot_percpu.irqoff_start;
    if (start == 0)
        return;
    arch_boot_percpu.irqoff_start = 0;
    uint64_t ticks = x86_rdtsc() - start;
    if (ticks > arch_irqoff_max)
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
#endif /* !BERYL_HOST */

#endif
