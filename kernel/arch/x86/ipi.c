/*
 * The sending half of the IPIs of <arch/irq.h> (the receiving half of arch_ipi_call is
 * ipi_calls.c; the vectors reach entry/irq.c): fixed-vector IPIs through the local
 * APIC, one destination at a time.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/x86/arch.h>
#include <arch/x86/iframe.h>
#include <arch/x86/ipi.h>
#include <kernel/assert.h>

arch_cpu_set_t arch_cpus_running(void) {
    uint32_t n = arch_cpu_count();
    return n >= 64 ? ~(arch_cpu_set_t)0 : ARCH_CPU_SET_BIT(n) - 1;
}

static void send(uint32_t cpu, uint8_t vector) {
    struct arch_percpu *c = x86_percpu_of(cpu);
    DEBUG_ASSERT(c != NULL);
    /* A running CPU answers within microseconds; one that does not is stuck with
     * interrupts off, and the caller's wait shows where. */
    (void)x86_lapic_send_fixed(c->apic_id, vector);
}

void arch_ipi_reschedule(uint32_t cpu) {
    DEBUG_ASSERT(arch_irqs_disabled() && cpu != arch_curr_cpu_num());
    send(cpu, X86_VECTOR_IPI_RESCHEDULE);
}

void arch_ipi_call(arch_cpu_set_t cpus, arch_ipi_fn_t fn, void *arg) {
    arch_irq_state_t s = arch_irq_save();
    uint32_t me = arch_curr_cpu_num();
    cpus &= arch_cpus_running();
    struct x86_ipi_call call = {.fn = fn, .arg = arg, .pending = cpus & ~ARCH_CPU_SET_BIT(me)};
    uint64_t others = call.pending;
    if (others != 0) {
        DEBUG_ASSERT(x86_ipi_calls[me] == NULL);
        __atomic_store_n(&x86_ipi_calls[me], &call, __ATOMIC_RELEASE);
        for (uint64_t m = others; m != 0; m &= m - 1) {
            uint32_t cpu = (uint32_t)__builtin_ctzll(m);
            __atomic_fetch_or(&x86_percpu_of(cpu)->ipi_calls_from, ARCH_CPU_SET_BIT(me),
                              __ATOMIC_RELEASE);
            send(cpu, X86_VECTOR_IPI_CALL);
        }
    }
    if (cpus & ARCH_CPU_SET_BIT(me))
        fn(arg);
    while (__atomic_load_n(&call.pending, __ATOMIC_ACQUIRE) != 0)
        arch_spin_pause(); /* serves calls sent to this CPU meanwhile */
    if (others != 0)
        __atomic_store_n(&x86_ipi_calls[me], NULL, __ATOMIC_RELAXED);
    arch_irq_restore(s);
}
