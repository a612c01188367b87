/*
 * Stopping the other CPUs when one panics (<arch/debug.h>): an NMI to every other CPU
 * (the ICR's all-excluding-self shorthand), which reaches a CPU even with interrupts
 * off. Each stopped CPU records the pc and the thread it was running and halts for
 * good; it prints nothing itself (it may have been stopped holding the console lock),
 * the panicking CPU prints for it.
 *
 * This sits below the local APIC driver (lapic.c maps the registers and publishes them
 * in x86_lapic_regs) because panic() does: it writes the ICR itself.
 */
#include <arch/cpu.h>
#include <arch/debug.h>
#include <arch/x86/arch.h>
#include <arch/x86/cpu.h>
#include <arch/x86/iframe.h>
#include <kernel/smp.h>

#define LAPIC_ICR_LOW 0x300u
#define LAPIC_ICR_HIGH 0x310u
#define LAPIC_ICR_MODE_NMI (4u << 8)
#define LAPIC_ICR_LEVEL_ASSERT (1u << 14)
#define LAPIC_ICR_ALL_BUT_SELF (3u << 18)
#define LAPIC_ICR_BUSY (1u << 12)
/* How long the panicking CPU waits for the others to report (TSC ticks are not yet
 * known early in boot, so the bound is a count of pause loops: about 100 ms under TCG). */
#define STOP_WAIT_SPINS 20000000u

struct stop_report {
    bool stopped;
    uintptr_t pc;
    struct thread *thread;
};

static struct stop_report reports[SMP_MAX_CPUS];
static bool stopping;

bool x86_panic_stopping(void) { return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE); }

__noreturn void x86_panic_stop_this_cpu(const struct x86_iframe *f) {
    struct arch_percpu *cpu = arch_get_percpu();
    struct stop_report *r = &reports[cpu->cpu_num];
    r->pc = f->rip;
    r->thread = cpu->curr_thread;
    __atomic_store_n(&r->stopped, true, __ATOMIC_RELEASE);
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

void arch_panic_stop_other_cpus(void) {
    uint32_t n = arch_cpu_count();
    volatile uint32_t *regs = x86_lapic_regs;
    if (n <= 1 || regs == NULL)
        return;
    __atomic_store_n(&stopping, true, __ATOMIC_RELEASE);
    while (regs[LAPIC_ICR_LOW / 4] & LAPIC_ICR_BUSY)
        __asm__ volatile("pause");
    regs[LAPIC_ICR_HIGH / 4] = 0;
    regs[LAPIC_ICR_LOW / 4] = LAPIC_ICR_MODE_NMI | LAPIC_ICR_LEVEL_ASSERT | LAPIC_ICR_ALL_BUT_SELF;
    uint32_t me = arch_curr_cpu_num();
    for (uint32_t spins = 0; spins < STOP_WAIT_SPINS; spins++) {
        uint32_t missing = 0;
        for (uint32_t c = 0; c < n && c < SMP_MAX_CPUS; c++)
            missing += c != me && !__atomic_load_n(&reports[c].stopped, __ATOMIC_ACQUIRE);
        if (missing == 0)
            break;
        __asm__ volatile("pause");
    }
}

bool arch_panic_cpu_state(uint32_t cpu, uintptr_t *pc, struct thread **thread) {
    if (cpu >= SMP_MAX_CPUS || !__atomic_load_n(&reports[cpu].stopped, __ATOMIC_ACQUIRE))
        return false;
    *pc = reports[cpu].pc;
    *thread = reports[cpu].thread;
    return true;
}
