/*
 * Finding and starting the other CPUs (docs/architecture.md, "CPUs").
 *
 * Discovery: the MADT, reached from the RSDP the boot loader copied into its ACPI tag
 * (kernel/acpi.c reads the tables; here they are mapped). Without a usable RSDP or MADT
 * the kernel says so and runs on the boot CPU alone. smp.max_cpus=N caps the count.
 *
 * Bring-up, one CPU at a time: the trampoline (ap_trampoline.S) is copied to low memory
 * the kernel never hands out (the first MiB stays out of the PMM, mmu/boot.c), its
 * parameter block names the CPU's stack and struct arch_percpu, and INIT, STARTUP,
 * STARTUP go to the CPU's local APIC with the waits the Intel SDM asks for (10 ms
 * after INIT, 200 us between the two STARTUPs; at least that long, measured on the TSC
 * clock, halting until the next timer tick meanwhile). The CPU then has
 * X86_AP_TIMEOUT_NS to report in; one that does not is put back into its reset state
 * with another INIT and left out.
 *
 * Each started CPU gets its own kernel stack, GDT and TSS with three IST stacks, and
 * struct arch_percpu (GS base points at it), loads the shared IDT, turns on the same
 * protections and extended state as the boot CPU (x86_cpu_features_init_other_cpu) and
 * the same syscall MSRs, runs on the kernel PML4, starts its local APIC timer at the
 * boot CPU's rate, reports in, and joins the scheduler (sched_secondary_cpu_main): its
 * boot stack becomes its idle thread's. It counts as running (arch_cpu_count, IPI
 * calls reach it) from its report on.
 */
#include <arch/init.h>
#include <arch/mmio.h>
#include <arch/mmu.h>
#include <arch/timer.h>
#include <arch/x86/arch.h>
#include <arch/x86/boot_defs.h>
#include <arch/x86/cpu.h>
#include <arch/x86/mmu_defs.h>
#include <arch/x86/smp.h>
#include <arch/x86/smp_defs.h>
#include <arch/x86/tss.h>
#include <kernel/acpi.h>
#include <kernel/assert.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/panic.h>
#include <kernel/thread.h>
#include <lib/string.h>
#include <phys/heap.h>
#include <phys/physmap.h>

#define X86_MSR_GS_BASE 0xc0000101u
#define X86_MSR_KERNEL_GS_BASE 0xc0000102u
#define AP_STACK_SIZE 16384u
#define NS_PER_MS 1000000ull
#define INIT_WAIT_NS (10ull * NS_PER_MS)      /* SDM: 10 ms after INIT */
#define STARTUP_WAIT_NS 200000ull             /* SDM: 200 us after each STARTUP */
#define X86_AP_TIMEOUT_NS (1000ull * NS_PER_MS)
/* The most tables mapped through the MMIO window when they lie beyond the physmap. */
#define ACPI_MMIO_MAPS_MAX 16u
/* xAPIC destinations are 8 bits, and 0xff is the broadcast address. */
#define XAPIC_ID_LIMIT 0xffu
/* A user base the per-CPU cache (user.c) never matches, so the first load writes it. */
#define USER_BASE_UNKNOWN UINT64_MAX

extern const uint8_t x86_ap_trampoline[], x86_ap_trampoline_end[], x86_ap_tramp_params[];
extern const uint8_t x86_ap_entry64[];

__noreturn void x86_ap_main(struct arch_percpu *cpu);

static struct x86_smp_cpu smp_cpus[SMP_MAX_CPUS];
static uint32_t cpus_found;
static uint32_t cpus_started = 1;
static uint64_t boot_pat;
static unsigned acpi_mmio_maps;
/* Where the CPU count comes from, for the summary line. */
static const char *cpus_source = "no ACPI";

/*
 * acpi_map_fn for the kernel: tables inside the physmap are read there; others are
 * mapped (cached, permanently) through the MMIO window, at most ACPI_MMIO_MAPS_MAX times.
 */
static const void *acpi_map(void *ctx, uint64_t pa, size_t len) {
    (void)ctx;
    if (len == 0 || pa + len < pa)
        return NULL;
    if (pa + len <= x86_physmap_end())
        return paddr_to_physmap(pa);
    if (acpi_mmio_maps >= ACPI_MMIO_MAPS_MAX)
        return NULL;
    void *va;
    if (arch_mmio_map(pa, len, ARCH_MMU_FLAG_CACHED, &va) != ZX_OK)
        return NULL;
    acpi_mmio_maps++;
    return va;
}

/*
 * Fills smp_cpus[] from the MADT: the boot CPU first (CPU 0), the others in MADT order.
 * Returns the number of CPUs found (1 when the tables do not say, after printing why).
 */
static uint32_t discover(const struct boot_info *bi, uint32_t boot_apic) {
    smp_cpus[0] = (struct x86_smp_cpu){.apic_id = boot_apic, .online = true};
    if (bi->acpi_rsdp == NULL) {
        printf("smp: no ACPI RSDP from the boot loader; running on the boot CPU only\n");
        return 1;
    }
    static struct acpi_cpus found;
    const char *why = NULL;
    zx_status_t st = acpi_find_cpus(bi->acpi_rsdp, bi->acpi_rsdp_len, acpi_map, NULL, &found,
                                    &why);
    if (st != ZX_OK) {
        printf("smp: %s (%d); running on the boot CPU only\n", why ? why : "acpi: ?", st);
        cpus_source = "ACPI tables unusable";
        return 1;
    }
    bool boot_listed = false;
    for (size_t i = 0; i < found.count; i++)
        boot_listed |= found.cpus[i].apic_id == boot_apic;
    if (!boot_listed) {
        printf("smp: the boot CPU's APIC ID %u is not in the MADT; running on the boot CPU "
               "only\n", boot_apic);
        cpus_source = "ACPI tables unusable";
        return 1;
    }
    cpus_source = "ACPI MADT";
    uint32_t n = 1;
    for (size_t i = 0; i < found.count; i++) {
        if (found.cpus[i].apic_id != boot_apic)
            smp_cpus[n++] = (struct x86_smp_cpu){.apic_id = found.cpus[i].apic_id};
    }
    if (found.disabled || found.online_capable || found.duplicates || found.over_max)
        printf("smp: MADT: %zu disabled, %zu online-capable (not started), %zu duplicate "
               "APIC IDs, %zu beyond the %u the kernel supports\n", found.disabled,
               found.online_capable, found.duplicates, found.over_max, SMP_MAX_CPUS);
    return n;
}

/*
 * Waits until *flag (may be NULL) is set or `ns` have passed; returns *flag. With
 * interrupts on (the boot thread after sched_init) it halts until the next timer tick
 * (1 ms), so an emulator runs the other virtual CPUs meanwhile and, under -icount,
 * skips the idle time instead of counting pause loops; otherwise it spins with `pause`.
 */
static bool wait_for(const volatile bool *flag, uint64_t ns) {
    zx_time_t deadline = current_time() + (zx_time_t)ns;
    bool can_halt = (x86_save_flags() & X86_FLAGS_IF) != 0;
    for (;;) {
        if (flag && __atomic_load_n(flag, __ATOMIC_ACQUIRE))
            return true;
        if (current_time() >= deadline)
            return flag && __atomic_load_n(flag, __ATOMIC_ACQUIRE);
        if (can_halt)
            x86_hlt();
        else
            __asm__ volatile("pause");
    }
}

/*
 * Picks X86_AP_TRAMP_PAGES pages of usable RAM between X86_AP_TRAMP_FLOOR and
 * X86_AP_TRAMP_LIMIT that no boot module overlaps (the PMM never owns memory below
 * 1 MiB). Returns 0 when there is none.
 */
static paddr_t find_trampoline_pages(const struct boot_info *bi) {
    const uint64_t need = (uint64_t)X86_AP_TRAMP_PAGES * PAGE_SIZE;
    for (uint64_t pa = X86_AP_TRAMP_FLOOR; pa + need <= X86_AP_TRAMP_LIMIT; pa += PAGE_SIZE) {
        bool in_ram = false;
        for (size_t i = 0; i < bi->mem_count && !in_ram; i++) {
            const struct boot_mem_region *r = &bi->mem[i];
            in_ram = r->type == BOOT_MEM_USABLE && r->base <= pa &&
                     r->length >= need && pa - r->base <= r->length - need;
        }
        bool clear = true;
        for (size_t i = 0; i < bi->module_count && clear; i++)
            clear = bi->modules[i].end <= pa || bi->modules[i].start >= pa + need;
        if (in_ram && clear)
            return pa;
    }
    return 0;
}

/* Copies the trampoline to tramp and builds its temporary tables after it. */
static void install_trampoline(paddr_t tramp) {
    size_t len = (size_t)(x86_ap_trampoline_end - x86_ap_trampoline);
    ASSERT(len <= PAGE_SIZE);
    memcpy(paddr_to_physmap(tramp), x86_ap_trampoline, len);
    paddr_t pml4_pa = tramp + X86_AP_TRAMP_PML4_PAGE * PAGE_SIZE;
    paddr_t pdpt_pa = tramp + X86_AP_TRAMP_PDPT_PAGE * PAGE_SIZE;
    paddr_t pd_pa = tramp + X86_AP_TRAMP_PD_PAGE * PAGE_SIZE;
    uint64_t *pml4 = paddr_to_physmap(pml4_pa);
    uint64_t *pdpt = paddr_to_physmap(pdpt_pa);
    uint64_t *pd = paddr_to_physmap(pd_pa);
    memset(pml4, 0, PAGE_SIZE);
    memset(pdpt, 0, PAGE_SIZE);
    memset(pd, 0, PAGE_SIZE);
    /* The kernel half is the kernel's own (its PDPTs never change, mmu/boot.c); the
     * first 2 MiB are identity-mapped for the instructions that turn paging on. */
    const uint64_t *kernel = paddr_to_physmap(x86_kernel_pml4_phys());
    for (unsigned i = X86_KERNEL_PML4_FIRST; i < X86_PT_ENTRIES; i++)
        pml4[i] = kernel[i];
    pml4[0] = pdpt_pa | X86_PTE_P | X86_PTE_W;
    pdpt[0] = pd_pa | X86_PTE_P | X86_PTE_W;
    pd[0] = X86_PTE_P | X86_PTE_W | X86_PTE_PS;

    uint8_t *params = (uint8_t *)paddr_to_physmap(tramp) +
                      (x86_ap_tramp_params - x86_ap_trampoline);
    uint64_t efer = X86_EFER_LME | (x86_features.nx ? X86_EFER_NXE : 0);
    uint64_t kcr3 = x86_kernel_pml4_phys(), entry = (uint64_t)(uintptr_t)x86_ap_entry64;
    uint64_t temp_cr3 = pml4_pa;
    memcpy(params + X86_AP_PARAM_TEMP_CR3, &temp_cr3, sizeof(temp_cr3));
    memcpy(params + X86_AP_PARAM_EFER, &efer, sizeof(efer));
    memcpy(params + X86_AP_PARAM_KERNEL_CR3, &kcr3, sizeof(kcr3));
    memcpy(params + X86_AP_PARAM_ENTRY, &entry, sizeof(entry));
}

/* Allocates what CPU n runs on: its stack, its IST stacks, its descriptor tables. */
static bool alloc_cpu(struct x86_smp_cpu *c, uint32_t n) {
    c->percpu = x86_percpu_of(n);
    uint8_t *stack = kzalloc(AP_STACK_SIZE);
    uint8_t *ist = kzalloc((size_t)X86_IST_COUNT * X86_IST_STACK_SIZE);
    c->tables = kzalloc(sizeof(*c->tables));
    if (!c->percpu || !stack || !ist || !c->tables) {
        kfree(stack);
        kfree(ist);
        kfree(c->tables);
        return false;
    }
    c->stack_base = (uintptr_t)stack;
    c->stack_top = (uintptr_t)stack + AP_STACK_SIZE;
    for (int i = 0; i < X86_IST_COUNT; i++)
        c->ist_tops[i] = (uintptr_t)ist + (size_t)(i + 1) * X86_IST_STACK_SIZE;
    c->percpu->kstack_top = c->stack_top;
    c->percpu->user_fs_base = c->percpu->user_gs_base = USER_BASE_UNKNOWN;
    return true;
}

/*
 * Starts CPU n (INIT, STARTUP, STARTUP) and waits for it; true when it reported in.
 * With smp.test_silent_cpu=n on the command line (a test switch: qemu.smp_silent_cpu)
 * the STARTUPs are not sent, so the CPU never answers and the timeout path runs.
 */
static bool start_cpu(paddr_t tramp, uint32_t n) {
    struct x86_smp_cpu *c = &smp_cpus[n];
    uint8_t *params = (uint8_t *)paddr_to_physmap(tramp) +
                      (x86_ap_tramp_params - x86_ap_trampoline);
    uint64_t stack = c->stack_top, percpu = (uint64_t)(uintptr_t)c->percpu;
    memcpy(params + X86_AP_PARAM_STACK, &stack, sizeof(stack));
    memcpy(params + X86_AP_PARAM_PERCPU, &percpu, sizeof(percpu));
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    uint8_t vector = (uint8_t)(tramp >> PAGE_SHIFT);
    if (!x86_lapic_send_init(c->apic_id))
        return false;
    wait_for(NULL, INIT_WAIT_NS);
    uint64_t silent;
    bool send = !(cmdline_get_u64("smp.test_silent_cpu", &silent) && silent == n);
    for (int i = 0; send && i < 2 && !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE); i++) {
        if (!x86_lapic_send_startup(c->apic_id, vector))
            return false;
        wait_for(&c->online, STARTUP_WAIT_NS);
    }
    return wait_for(&c->online, X86_AP_TIMEOUT_NS);
}

void arch_smp_init(const struct boot_info *bi) {
    cpus_found = discover(bi, x86_lapic_id());
    smp_cpus[0].percpu = x86_percpu_of(0);
    uint32_t want = cpus_found;
    uint64_t max;
    if (cmdline_get_u64("smp.max_cpus", &max)) {
        if (max >= 1 && max < want)
            want = (uint32_t)max;
        else if (max == 0)
            printf("smp: smp.max_cpus=0 ignored (at least the boot CPU runs)\n");
    }
    paddr_t tramp = 0;
    if (want > 1) {
        tramp = find_trampoline_pages(bi);
        if (tramp == 0) {
            printf("smp: no free low memory for the start-up trampoline; running on the "
                   "boot CPU only\n");
            want = 1;
        } else {
            install_trampoline(tramp);
            boot_pat = x86_features.pat ? x86_rdmsr(X86_MSR_PAT) : 0;
        }
    }
    for (uint32_t n = 1; n < want; n++) {
        struct x86_smp_cpu *c = &smp_cpus[n];
        if (c->apic_id >= XAPIC_ID_LIMIT) {
            printf("smp: cpu %u apic %u needs x2APIC mode, which the kernel does not use; "
                   "not started\n", n, c->apic_id);
            break;
        }
        if (!alloc_cpu(c, n)) {
            printf("smp: no memory for cpu %u's stacks; not started\n", n);
            break;
        }
        if (!start_cpu(tramp, n)) {
            /* Back to its reset state, so a late start cannot run on reused parameters. */
            x86_lapic_send_init(c->apic_id);
            printf("smp: cpu %u apic %u did not answer INIT-SIPI-SIPI within %llu ms; not "
                   "used\n", n, c->apic_id, X86_AP_TIMEOUT_NS / NS_PER_MS);
            break;
        }
        cpus_started++;
        x86_percpu_set_running(cpus_started);
        printf("smp: cpu %u apic %u up\n", n, c->apic_id);
    }
    printf("smp: %u CPU%s found (%s), %u started\n", cpus_found, cpus_found == 1 ? "" : "s",
           cpus_source, cpus_started);
}

/*
 * The CPU's first C code (from x86_ap_entry64): on its own stack and the kernel PML4,
 * interrupts off, with the trampoline's GDT, which the kernel tables do not map, still
 * loaded. Sets the CPU up, reports in through smp_cpus[], and parks for good.
 */
__noreturn void x86_ap_main(struct arch_percpu *cpu) {
    struct x86_smp_cpu *c = &smp_cpus[cpu->cpu_num];
    /* GS first: everything after it may ask which CPU it runs on. */
    x86_wrmsr(X86_MSR_GS_BASE, (uint64_t)(uintptr_t)cpu);
    x86_wrmsr(X86_MSR_KERNEL_GS_BASE, 0);
    x86_gdt_load(c->tables, c->ist_tops);
    x86_idt_load();
    x86_cpu_features_init_other_cpu();
    if (x86_features.pat)
        x86_wrmsr(X86_MSR_PAT, boot_pat);

    /* What this CPU sees through its own GS base and stack, for smp.bringup. */
    struct arch_percpu *self = x86_percpu_gs_self();
    c->seen_self = self;
    c->seen_cpu_num = self->cpu_num;
    c->seen_sp = (uintptr_t)__builtin_frame_address(0);
    c->seen_apic_id = x86_lapic_id();
    x86_syscall_init_other_cpu();
    x86_lapic_init_other_cpu();
    __atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
    sched_secondary_cpu_main(cpu->cpu_num, c->stack_base, c->stack_top);
}

uint32_t x86_smp_cpus_found(void) { return cpus_found; }

const struct x86_smp_cpu *x86_smp_cpu(uint32_t n) {
    return n < SMP_MAX_CPUS ? &smp_cpus[n] : NULL;
}
