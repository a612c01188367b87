/*
 * The local APIC timer: Beryl's only interrupt source so far.
 *
 * At boot the legacy 8259 PICs are masked, the xAPIC is mapped uncached (arch_mmio_map)
 * and software-enabled, and both the TSC and the APIC timer are calibrated against
 * PIT channel 2 (gated through port 0x61, counted down in mode 0 and polled, so no PIT
 * interrupt is needed). The timer then runs periodically at LAPIC_TIMER_HZ; its interrupt
 * goes through the entry layer (entry/irq.c), which acknowledges it here
 * (x86_lapic_eoi) and passes the tick up. current_time() is derived from the TSC.
 * The other CPUs, once started, run the same periodic timer (x86_lapic_init_other_cpu).
 * Every IPI, from the start-up ones to the panic stop, goes through the interrupt command
 * register in lapic_icr.c, which sits below the page-table engine (whose TLB shootdowns
 * send IPIs) and is handed the mapped registers from here.
 */
#include <arch/cpu.h>
#include <arch/mmio.h>
#include <arch/mmu.h>
#include <arch/timer.h>
#include <arch/x86/arch.h>
#include <arch/x86/cpu.h>
#include <arch/x86/iframe.h>
#include <kernel/assert.h>
#include <kernel/console.h>

#define LAPIC_TIMER_HZ 1000u
#define X86_MSR_APIC_BASE 0x1bu
#define APIC_BASE_ADDR_MASK 0xfffff000ull
#define APIC_BASE_ENABLE (1ull << 11)

/* xAPIC register offsets (Intel SDM Vol. 3A, 11.4.1). */
#define LAPIC_ID 0x020u
#define LAPIC_ID_SHIFT 24
#define LAPIC_EOI 0x0b0u
#define LAPIC_SVR 0x0f0u
#define LAPIC_LVT_TIMER 0x320u
#define LAPIC_TIMER_INITIAL 0x380u
#define LAPIC_TIMER_CURRENT 0x390u
#define LAPIC_TIMER_DIVIDE 0x3e0u
#define LAPIC_SVR_ENABLE (1u << 8)
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_LVT_PERIODIC (1u << 17)
#define LAPIC_DIVIDE_BY_16 0x3u

/* 8259 PIC data ports (mask registers). */
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
/* PIT: channel 2 data, mode/command, and the port-0x61 gate (bit 0) / output (bit 5). */
#define PIT_CH2_DATA 0x42
#define PIT_COMMAND 0x43
#define PIT_GATE_PORT 0x61
#define PIT_GATE_ENABLE 0x01u
#define PIT_SPEAKER 0x02u
#define PIT_OUT2 0x20u
#define PIT_CH2_MODE0_LOHI 0xb0u
#define PIT_HZ 1193182u
#define CALIBRATION_MS 10u

static volatile uint32_t *lapic;
/* The timer's initial count for one tick, as calibrated on the boot CPU (all CPUs' APIC
 * timers run from the same bus clock). */
static uint32_t tick_count;

static inline uint32_t lapic_read(uint32_t reg) { return lapic[reg / 4]; }
static inline void lapic_write(uint32_t reg, uint32_t v) { lapic[reg / 4] = v; }

/* Maps the xAPIC page uncached into the kernel aspace. */
static void lapic_map(paddr_t pa) {
    void *regs;
    zx_status_t st = arch_mmio_map(pa, PAGE_SIZE, ARCH_MMU_FLAG_UNCACHED_DEVICE, &regs);
    ASSERT_MSG(st == ZX_OK, "lapic: map: %d", st);
    lapic = regs;
    x86_lapic_icr_attach(regs);
}

/* Runs PIT channel 2 for CALIBRATION_MS and returns the TSC ticks and the APIC timer
 * counts that elapsed meanwhile. */
static void calibrate(uint64_t *tsc_delta, uint32_t *apic_delta) {
    uint16_t count = (uint16_t)(PIT_HZ * CALIBRATION_MS / 1000u);
    uint8_t gate = inb(PIT_GATE_PORT);
    outb(PIT_GATE_PORT, (uint8_t)((gate & ~PIT_SPEAKER) & ~PIT_GATE_ENABLE));
    outb(PIT_COMMAND, PIT_CH2_MODE0_LOHI);
    outb(PIT_CH2_DATA, (uint8_t)(count & 0xff));
    outb(PIT_CH2_DATA, (uint8_t)(count >> 8));
    lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_DIVIDE_BY_16);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_TIMER_INITIAL, 0xffffffffu);
    uint64_t t0 = x86_rdtsc();
    outb(PIT_GATE_PORT, (uint8_t)((gate & ~PIT_SPEAKER) | PIT_GATE_ENABLE));
    while (!(inb(PIT_GATE_PORT) & PIT_OUT2))
        ;
    *tsc_delta = x86_rdtsc() - t0;
    *apic_delta = 0xffffffffu - lapic_read(LAPIC_TIMER_CURRENT);
    outb(PIT_GATE_PORT, gate);
}

void arch_timer_init(void) {
    ASSERT_MSG(x86_features.apic, "no local APIC");
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
    uint64_t base = x86_rdmsr(X86_MSR_APIC_BASE);
    x86_wrmsr(X86_MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    lapic_map(base & APIC_BASE_ADDR_MASK);
    lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | X86_VECTOR_SPURIOUS);

    uint64_t tsc_delta;
    uint32_t apic_delta;
    calibrate(&tsc_delta, &apic_delta);
    uint64_t tsc_hz = tsc_delta * (1000u / CALIBRATION_MS);
    uint32_t apic_hz = apic_delta * (1000u / CALIBRATION_MS);
    ASSERT_MSG(tsc_hz && apic_hz >= LAPIC_TIMER_HZ, "timer calibration failed");
    x86_tsc_start(tsc_hz);
    printf("timer: TSC %lu kHz, APIC timer %u kHz (/16), tick %u Hz\n", tsc_hz / 1000,
           apic_hz / 1000, LAPIC_TIMER_HZ);
    arch_get_percpu()->apic_id = x86_lapic_id();
    tick_count = apic_hz / LAPIC_TIMER_HZ;
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_PERIODIC | X86_VECTOR_TIMER);
    lapic_write(LAPIC_TIMER_INITIAL, tick_count);
}

void x86_lapic_init_other_cpu(void) {
    x86_wrmsr(X86_MSR_APIC_BASE, x86_rdmsr(X86_MSR_APIC_BASE) | APIC_BASE_ENABLE);
    lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | X86_VECTOR_SPURIOUS);
    arch_get_percpu()->apic_id = x86_lapic_id();
    lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_DIVIDE_BY_16);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_PERIODIC | X86_VECTOR_TIMER);
    lapic_write(LAPIC_TIMER_INITIAL, tick_count);
}

void x86_lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

uint32_t x86_lapic_id(void) { return lapic_read(LAPIC_ID) >> LAPIC_ID_SHIFT; }
