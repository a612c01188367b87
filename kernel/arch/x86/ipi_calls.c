/*
 * The receiving half of arch_ipi_call (<arch/irq.h>; the sending half, which needs the
 * local APIC, is ipi.c): the table of calls in flight and the loop that runs the ones
 * sent to this CPU. It sits below everything that spins (arch_spin_pause serves calls),
 * so it calls nothing but the functions it is handed.
 *
 * Each CPU has at most one call of its own in flight (arch_ipi_call waits for it with
 * interrupts off), so the table has one slot per sender, and a receiver learns whom to
 * serve from one word of sender bits in its struct arch_percpu. The sender publishes its
 * slot before it sets its bit in any receiver's word and keeps it until every receiver
 * has cleared its own bit in the call's `pending`.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/x86/arch.h>
#include <arch/x86/ipi.h>
#include <kernel/smp.h>

struct x86_ipi_call *x86_ipi_calls[SMP_MAX_CPUS];

void x86_ipi_serve_calls(void) {
    struct arch_percpu *cpu = arch_get_percpu();
    uint64_t me = ARCH_CPU_SET_BIT(cpu->cpu_num);
    uint64_t from = __atomic_exchange_n(&cpu->ipi_calls_from, 0, __ATOMIC_ACQUIRE);
    while (from != 0) {
        unsigned src = (unsigned)__builtin_ctzll(from);
        from &= from - 1;
        struct x86_ipi_call *c = __atomic_load_n(&x86_ipi_calls[src], __ATOMIC_ACQUIRE);
        c->fn(c->arg);
        __atomic_fetch_and(&c->pending, ~me, __ATOMIC_RELEASE);
    }
}
