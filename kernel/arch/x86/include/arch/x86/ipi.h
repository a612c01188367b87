/*
 * Interrupts between CPUs on x86-64 (ipi.c sends, ipi_calls.c serves; contracts of the
 * generic half in <arch/irq.h>). Fixed-vector IPIs go through the local APIC's ICR;
 * the panic stop is an NMI to every other CPU (panic_stop.c).
 */
#ifndef ARCH_X86_IPI_H
#define ARCH_X86_IPI_H

#include <stdint.h>
#include <arch/irq.h>

/* One arch_ipi_call in flight: what to run, and the CPUs that have not finished it. */
struct x86_ipi_call {
    arch_ipi_fn_t fn;
    void *arg;
    uint64_t pending; /* atomic */
};

/* Indexed by the sending CPU: its call in flight, or NULL. */
extern struct x86_ipi_call *x86_ipi_calls[];

/* The entry layer's handlers for the IPI vectors (entry/irq.c calls them). */
void x86_ipi_serve_calls(void);

#endif
