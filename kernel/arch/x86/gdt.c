/*
 * Each CPU's GDT and TSS (struct x86_cpu_tables: the boot CPU's is static here, the
 * others' come from kernel/arch/x86/boot/smp.c). Layout (selectors in boot_defs.h):
 *   0x00 null, 0x08 kernel code, 0x10 kernel data, 0x18 user data, 0x20 user code,
 *   0x28 TSS (a 16-byte system descriptor).
 * User data precedes user code because sysret derives both selectors from one MSR field.
 * The TSS supplies separate IST stacks for #DF, NMI and #MC so that these are handled
 * even when the current stack is corrupt.
 */
#include <arch/cpu.h>
#include <arch/debug.h>
#include <arch/x86/arch.h>
#include <arch/x86/boot_defs.h>
#include <arch/x86/tss.h>
#include <kernel/compiler.h>
#include <lib/string.h>

/* Access/flag bits of a code/data descriptor. */
#define SEG_PRESENT (1ull << 47)
#define SEG_DPL3 (3ull << 45)
#define SEG_CODE_DATA (1ull << 44)
#define SEG_EXEC (1ull << 43)
#define SEG_RW (1ull << 41)
#define SEG_LONG (1ull << 53)
#define SEG_4K_GRAN (1ull << 55)
#define SEG_32BIT (1ull << 54)
#define SEG_LIMIT_MAX (0xffffull | (0xfull << 48))
#define TSS_TYPE_AVAILABLE (0x9ull << 40)

static struct x86_cpu_tables boot_tables;
static uint8_t ist_stacks[X86_IST_COUNT][X86_IST_STACK_SIZE] __aligned(16);

struct __packed gdt_ptr {
    uint16_t limit;
    uint64_t base;
};

bool arch_is_kernel_stack(uintptr_t addr, uintptr_t len) {
    extern uint8_t boot_stack_bottom[], boot_stack_top[];
    if (addr + len < addr)
        return false;
    if (addr >= (uintptr_t)boot_stack_bottom && addr + len <= (uintptr_t)boot_stack_top)
        return true;
    for (int i = 0; i < X86_IST_COUNT; i++) {
        uintptr_t lo = (uintptr_t)ist_stacks[i], hi = lo + X86_IST_STACK_SIZE;
        if (addr >= lo && addr + len <= hi)
            return true;
    }
    return false;
}

void x86_gdt_load(struct x86_cpu_tables *t, const uintptr_t ist_tops[X86_IST_COUNT]) {
    uint64_t *gdt = t->gdt;
    struct x86_tss *tss = &t->tss;
    uint64_t code = SEG_PRESENT | SEG_CODE_DATA | SEG_EXEC | SEG_RW | SEG_LONG | SEG_4K_GRAN |
                    SEG_LIMIT_MAX;
    uint64_t data = SEG_PRESENT | SEG_CODE_DATA | SEG_RW | SEG_32BIT | SEG_4K_GRAN |
                    SEG_LIMIT_MAX;
    gdt[0] = 0;
    gdt[X86_GDT_KERNEL_CODE >> 3] = code;
    gdt[X86_GDT_KERNEL_DATA >> 3] = data;
    gdt[X86_GDT_USER_DATA >> 3] = data | SEG_DPL3;
    gdt[X86_GDT_USER_CODE >> 3] = code | SEG_DPL3;

    memset(tss, 0, sizeof(*tss));
    for (int i = 0; i < X86_IST_COUNT; i++)
        tss->ist[i] = (uint64_t)ist_tops[i];
    tss->iomap_base = sizeof(*tss); /* no I/O permission bitmap */

    uint64_t base = (uint64_t)(uintptr_t)tss;
    uint64_t limit = sizeof(*tss) - 1;
    gdt[X86_GDT_TSS >> 3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | TSS_TYPE_AVAILABLE |
                            SEG_PRESENT | (((limit >> 16) & 0xf) << 48) |
                            (((base >> 24) & 0xff) << 56);
    gdt[(X86_GDT_TSS >> 3) + 1] = base >> 32;

    struct gdt_ptr ptr = {sizeof(t->gdt) - 1, (uint64_t)(uintptr_t)gdt};
    __asm__ volatile(
        "lgdt %0\n"
        "mov %1, %%ds\n"
        "mov %1, %%es\n"
        "mov %1, %%ss\n"
        "pushq %2\n"
        "leaq 1f(%%rip), %%rax\n"
        "pushq %%rax\n"
        "lretq\n"
        "1:\n"
        :
        : "m"(ptr), "r"((uint64_t)X86_GDT_KERNEL_DATA), "i"(X86_GDT_KERNEL_CODE)
        : "rax", "memory");
    __asm__ volatile("ltr %w0" ::"r"(X86_GDT_TSS));
    arch_get_percpu()->tss = tss;
}

void x86_gdt_init(void) {
    uintptr_t tops[X86_IST_COUNT];
    for (int i = 0; i < X86_IST_COUNT; i++)
        tops[i] = (uintptr_t)&ist_stacks[i][X86_IST_STACK_SIZE];
    x86_gdt_load(&boot_tables, tops);
}

/* The running CPU's TSS (x86_gdt_load recorded it in the CPU's struct arch_percpu). */
void x86_tss_set_rsp0(uint64_t rsp0) {
    ((struct x86_tss *)arch_get_percpu()->tss)->rsp[0] = rsp0;
}
