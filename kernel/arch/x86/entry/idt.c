/*
 * The IDT: 32 exception vectors, each a 64-bit interrupt gate (interrupts stay off in the
 * handler) to the stubs in exceptions.S. #DF, NMI and #MC run on their own IST stacks.
 * Vectors 32..255 are left not-present until interrupt controllers are brought up; one
 * arriving would raise #NP/#GP, which is reported like any other fault.
 */
#include <arch/x86/arch.h>
#include <arch/x86/boot_defs.h>
#include <arch/x86/iframe.h>
#include <arch/x86/tss.h>
#include <kernel/compiler.h>

#define IDT_ENTRIES 256
#define GATE_INTERRUPT 0xeu
#define GATE_PRESENT 0x80u

struct __packed idt_entry {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
};

struct __packed idt_ptr {
    uint16_t limit;
    uint64_t base;
};

static struct idt_entry idt[IDT_ENTRIES] __aligned(16);
extern const uint64_t x86_exception_stubs[X86_NUM_EXCEPTIONS];

static void idt_set_gate(unsigned vec, uint64_t handler, uint8_t ist) {
    idt[vec] = (struct idt_entry){
        .offset_lo = (uint16_t)handler,
        .selector = X86_GDT_KERNEL_CODE,
        .ist = ist,
        .type_attr = GATE_PRESENT | GATE_INTERRUPT,
        .offset_mid = (uint16_t)(handler >> 16),
        .offset_hi = (uint32_t)(handler >> 32),
    };
}

extern const char x86_irq_stub_timer[], x86_irq_stub_spurious[];
extern const char x86_irq_stub_ipi_reschedule[], x86_irq_stub_ipi_call[];

void x86_idt_init(void) {
    for (unsigned v = 0; v < X86_NUM_EXCEPTIONS; v++) {
        uint8_t ist = 0;
        if (v == X86_VECTOR_DF)
            ist = X86_IST_DF;
        else if (v == X86_VECTOR_NMI)
            ist = X86_IST_NMI;
        else if (v == X86_VECTOR_MC)
            ist = X86_IST_MC;
        idt_set_gate(v, x86_exception_stubs[v], ist);
    }
    idt_set_gate(X86_VECTOR_TIMER, (uint64_t)(uintptr_t)x86_irq_stub_timer, 0);
    idt_set_gate(X86_VECTOR_SPURIOUS, (uint64_t)(uintptr_t)x86_irq_stub_spurious, 0);
    idt_set_gate(X86_VECTOR_IPI_RESCHEDULE, (uint64_t)(uintptr_t)x86_irq_stub_ipi_reschedule, 0);
    idt_set_gate(X86_VECTOR_IPI_CALL, (uint64_t)(uintptr_t)x86_irq_stub_ipi_call, 0);
    x86_idt_load();
}

/* Every CPU shares the one IDT, filled once by the boot CPU. */
void x86_idt_load(void) {
    struct idt_ptr ptr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" ::"m"(ptr));
}
