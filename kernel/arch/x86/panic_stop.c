/*
 * Stopping the other CPUs when one panics (<arch/debug.h>): an NMI to every other CPU
 * (the ICR's all-excluding-self shorthand), which reaches a CPU even with interrupts
 * off. Each stopped CPU records the pc and the thread it was running and halts for
 * good; it prints nothing itself (it may have been stopped holding the console lock),
 * the panicking CPU prints for it.
 *
 * The NMI goes out through lapic_icr.c, which sits as low as panic() does.
 */
#include <arch/cpu.h>
#include <arch/debug.h>
#include <arch/x86/arch.h>
#include <arch/x86/cpu.h>
#include <arch/x86/iframe.h>
#include <kernel/smp.h>

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
    if (n <= 1)
        return;
    __atomic_store_n(&stopping, true, __ATOMIC_RELEASE);
    if (!x86_lapic_send_nmi_all_but_self())
        return;
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
