/* In-kernel tests of the boot environment: CPU state, descriptor tables, kernel mappings. */
#include <arch/x86/arch.h>
#include <arch/x86/boot_defs.h>
#include <arch/x86/cpu.h>
#include <arch/x86/mmu_defs.h>
#include <kernel/ktest.h>
#include <phys/physmap.h>
#include <phys/pmm.h>

extern char __text_start[], __rodata_start[], __data_start[];
static volatile uint64_t fault_target_sink;

KTEST(boot, protection_features_enabled) {
    EXPECT_TRUE(x86_get_cr0() & X86_CR0_WP);
    if (x86_features.nx)
        EXPECT_TRUE(x86_rdmsr(X86_MSR_EFER) & X86_EFER_NXE);
    if (x86_features.smep)
        EXPECT_TRUE(x86_get_cr4() & X86_CR4_SMEP);
    if (x86_features.smap)
        EXPECT_TRUE(x86_get_cr4() & X86_CR4_SMAP);
}

KTEST(boot, identity_map_removed) {
    int level;
    EXPECT_EQ(x86_mmu_boot_lookup(0x100000, &level) & X86_PTE_P, 0ull);
    EXPECT_EQ(level, 3);
}

KTEST(boot, kernel_pml4_slots_preallocated) {
    const uint64_t *pml4 = paddr_to_physmap(x86_kernel_pml4_phys());
    for (unsigned i = X86_KERNEL_PML4_FIRST; i < X86_PT_ENTRIES; i++)
        EXPECT_TRUE(pml4[i] & X86_PTE_P);
    for (unsigned i = 0; i < X86_KERNEL_PML4_FIRST; i++)
        EXPECT_EQ(pml4[i], 0ull);
}

KTEST(boot, image_section_rights) {
    int level;
    uint64_t text = x86_mmu_boot_lookup((uintptr_t)__text_start, &level);
    EXPECT_EQ(level, 0);
    EXPECT_TRUE(text & X86_PTE_P);
    EXPECT_FALSE(text & X86_PTE_W);
    EXPECT_FALSE(text & X86_PTE_NX);
    uint64_t ro = x86_mmu_boot_lookup((uintptr_t)__rodata_start, &level);
    EXPECT_TRUE(ro & X86_PTE_P);
    EXPECT_FALSE(ro & X86_PTE_W);
    if (x86_features.nx)
        EXPECT_TRUE(ro & X86_PTE_NX);
    uint64_t data = x86_mmu_boot_lookup((uintptr_t)__data_start, &level);
    EXPECT_TRUE(data & X86_PTE_W);
    if (x86_features.nx)
        EXPECT_TRUE(data & X86_PTE_NX);
}

KTEST(boot, physmap_uses_large_pages_and_reaches_ram) {
    vm_page_t *page;
    paddr_t pa;
    zx_status_t st = pmm_alloc_page(0, &page, &pa);
    if (st != ZX_OK) {
        EXPECT_STATUS(st, ZX_ERR_NO_MEMORY); /* fault injection may be on */
        return;
    }
    int level;
    uint64_t e = x86_mmu_boot_lookup((uintptr_t)paddr_to_physmap(pa), &level);
    EXPECT_TRUE(e & X86_PTE_PS);
    EXPECT_EQ(level, x86_features.page1g ? 2 : 1);
    if (x86_features.nx)
        EXPECT_TRUE(e & X86_PTE_NX);
    volatile uint64_t *p = paddr_to_physmap(pa);
    p[0] = 0x1122334455667788ull;
    p[511] = ~p[0];
    EXPECT_EQ(p[0], 0x1122334455667788ull);
    EXPECT_EQ(p[511], ~0x1122334455667788ull);
    pmm_free_page(page);
}

KTEST(boot, gdt_and_tss_loaded) {
    uint16_t cs, tr;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    __asm__ volatile("str %0" : "=r"(tr));
    EXPECT_EQ(cs, X86_GDT_KERNEL_CODE);
    EXPECT_EQ(tr, X86_GDT_TSS);
}

KTEST(boot, idt_gates_installed) {
    /* Reads the IDT back through sidt: every exception gate present, #DF on an IST. */
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    EXPECT_GE(idtr.limit, 32 * 16 - 1);
    const uint8_t *gate = (const uint8_t *)idtr.base + 14 * 16; /* #PF */
    EXPECT_TRUE(gate[5] & 0x80);                                 /* present */
    EXPECT_EQ(gate[4] & 7, 0);                                    /* no IST for #PF */
    const uint8_t *df = (const uint8_t *)idtr.base + 8 * 16;
    EXPECT_NE(df[4] & 7, 0);                                      /* #DF on an IST stack */
}

/* Deliberate faults, run only when named: test=fault.page_fault etc. */
KTEST_MANUAL(fault, page_fault) {
    volatile uint64_t *bad = (volatile uint64_t *)0xdeadbeef000ull;
    fault_target_sink = *bad;
    EXPECT_TRUE(false); /* not reached */
}

KTEST_MANUAL(fault, write_rodata) {
    *(volatile char *)__rodata_start = 1;
    EXPECT_TRUE(false);
}

KTEST_MANUAL(fault, panic) {
    panic("deliberate panic from test %s", "fault.panic");
}

KTEST_MANUAL(fault, assert) {
    volatile int one = 1;
    ASSERT(one == 2);
}
