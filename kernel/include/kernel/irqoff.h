/*
 * The longest stretch the CPU has run with interrupts disabled since boot (or since the
 * last irqoff_reset), with where it started and ended: the measure behind the kernel's
 * bounded-latency rule (no work proportional to a user-chosen size runs with interrupts
 * off). docs/architecture.md ("Locks") gives the bound the user suite checks.
 *
 * Measured in TSC ticks; converted to nanoseconds with the calibrated TSC rate. Under
 * QEMU's -icount shift=0 one tick is one guest instruction and one nanosecond.
 */
#ifndef KERNEL_IRQOFF_H
#define KERNEL_IRQOFF_H

#include <stdint.h>

struct irqoff_stats {
    uint64_t max_ticks;  /* longest stretch, TSC ticks */
    uint64_t max_ns;     /* the same in nanoseconds */
    uintptr_t start_pc;  /* where interrupts were turned off */
    uintptr_t end_pc;    /* where they were turned back on */
};

void irqoff_get(struct irqoff_stats *out);
void irqoff_reset(void);

/* Prints "irqoff: longest stretch ... (<tag>)" with symbolised addresses. */
void irqoff_print(const char *tag);

#endif
