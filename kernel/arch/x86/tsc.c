/*
 * The clock: time since boot from the TSC, at the rate the timer calibration measured
 * (lapic.c). Kept apart from the LAPIC driver, which maps its registers through the
 * page-table engine: the interrupts-off accounting (irqoff.c) reads this clock from
 * below the engine.
 */
#include <arch/timer.h>
#include <arch/x86/arch.h>
#include <arch/x86/cpu.h>

static uint64_t tsc_hz;
static uint64_t tsc_at_boot;
static uint64_t ns_per_tsc_q32; /* nanoseconds per TSC tick, 32.32 fixed point */

void x86_tsc_start(uint64_t hz) {
    tsc_at_boot = x86_rdtsc();
    ns_per_tsc_q32 = (1000000000ull << 32) / hz;
    tsc_hz = hz;
}

zx_time_t current_time(void) {
    if (!tsc_hz)
        return 0;
    return (zx_time_t)(((unsigned __int128)(x86_rdtsc() - tsc_at_boot) * ns_per_tsc_q32) >> 32);
}

zx_ticks_t current_ticks(void) {
    if (!tsc_hz)
        return 0;
    return (zx_ticks_t)(x86_rdtsc() - tsc_at_boot);
}

zx_ticks_t ticks_per_second(void) { return (zx_ticks_t)tsc_hz; }

uint64_t x86_tsc_to_ns(uint64_t ticks) {
    return (uint64_t)(((unsigned __int128)ticks * ns_per_tsc_q32) >> 32);
}

uint64_t arch_cycles_to_ns(uint64_t cycles) { return x86_tsc_to_ns(cycles); }
