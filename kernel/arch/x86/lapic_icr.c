/*
 * The local APIC's interrupt command register (ICR): every IPI the kernel sends. INIT and
 * STARTUP bring up the other CPUs (boot/smp.c), fixed vectors carry the reschedule and
 * call IPIs (ipi.c), an NMI to all but self stops them at a panic (panic_stop.c).
 *
 * This file sits below the page-table engine, whose TLB shootdowns send IPIs, and so
 * below lapic.c, which maps the registers through the engine: lapic.c hands the mapping
 * over (x86_lapic_icr_attach) once it has it.
 */
#include <arch/timer.h>
#include <arch/x86/arch.h>
#include <kernel/types.h>

/* xAPIC register offsets (Intel SDM Vol. 3A, 11.4.1) and ICR fields (11.6.1). */
#define LAPIC_ICR_LOW 0x300u
#define LAPIC_ICR_HIGH 0x310u
#define LAPIC_ICR_DEST_SHIFT 24
#define LAPIC_ICR_MODE_FIXED (0u << 8)
#define LAPIC_ICR_MODE_NMI (4u << 8)
#define LAPIC_ICR_MODE_INIT (5u << 8)
#define LAPIC_ICR_MODE_STARTUP (6u << 8)
#define LAPIC_ICR_BUSY (1u << 12)
#define LAPIC_ICR_LEVEL_ASSERT (1u << 14)
#define LAPIC_ICR_ALL_BUT_SELF (3u << 18)
/* How long an IPI may stay undelivered before a send gives up (the SDM gives no bound;
 * real hardware and the emulators clear the bit within microseconds). */
#define LAPIC_ICR_TIMEOUT_NS 10000000ull
/* The same bound in pause loops, for the panic stop, which may run before the clock. */
#define LAPIC_ICR_TIMEOUT_SPINS 1000000u

static volatile uint32_t *regs;

void x86_lapic_icr_attach(volatile uint32_t *mapped) { regs = mapped; }

/* Waits, with `pause`, until the previous IPI has left; false after the timeout. */
static bool icr_idle(bool clock) {
    zx_time_t deadline = clock ? current_time() + (zx_time_t)LAPIC_ICR_TIMEOUT_NS : 0;
    for (uint32_t spins = 0; regs[LAPIC_ICR_LOW / 4] & LAPIC_ICR_BUSY; spins++) {
        if (clock ? current_time() > deadline : spins >= LAPIC_ICR_TIMEOUT_SPINS)
            return false;
        __asm__ volatile("pause");
    }
    return true;
}

/* Writes the ICR (destination first: writing the low word sends) and waits until the
 * local APIC reports the IPI delivered. */
static bool send(uint32_t apic_id, uint32_t icr_low) {
    if (regs == NULL)
        return false;
    regs[LAPIC_ICR_HIGH / 4] = apic_id << LAPIC_ICR_DEST_SHIFT;
    regs[LAPIC_ICR_LOW / 4] = icr_low;
    return icr_idle(true);
}

bool x86_lapic_send_init(uint32_t apic_id) {
    return send(apic_id, LAPIC_ICR_MODE_INIT | LAPIC_ICR_LEVEL_ASSERT);
}

bool x86_lapic_send_startup(uint32_t apic_id, uint8_t vector) {
    return send(apic_id, LAPIC_ICR_MODE_STARTUP | LAPIC_ICR_LEVEL_ASSERT | vector);
}

bool x86_lapic_send_fixed(uint32_t apic_id, uint8_t vector) {
    return send(apic_id, LAPIC_ICR_MODE_FIXED | LAPIC_ICR_LEVEL_ASSERT | vector);
}

bool x86_lapic_send_nmi_all_but_self(void) {
    if (regs == NULL || !icr_idle(false))
        return false;
    regs[LAPIC_ICR_HIGH / 4] = 0;
    regs[LAPIC_ICR_LOW / 4] = LAPIC_ICR_MODE_NMI | LAPIC_ICR_LEVEL_ASSERT | LAPIC_ICR_ALL_BUT_SELF;
    return true;
}
