/*
 * kmain: the first C code. Brings the machine up in dependency order:
 *   console -> boot information -> command line -> CPU (arch_early_init: features,
 *   descriptor tables, exception entry) -> ASLR seed -> page tables + PMM -> heap ->
 *   kernel aspace -> symbols -> modules -> scheduler -> syscall entry (arch_init) ->
 *   the other CPUs (arch_smp_init) -> tasks -> tests or user programs.
 */
#include <arch/debug.h>
#include <arch/init.h>
#include <arch/mmu.h>
#include <arch/mmu_bench.h>
#include <kernel/boot_info.h>
#include <kernel/thread.h>
#include <object/kobject.h>
#include <object/timer.h>
#include "proc/debug_console.h"
#include "proc/proc_priv.h"
#include <kernel/cmdline.h>
#include <kernel/irqoff.h>
#include <kernel/console.h>
#include <kernel/debug_break.h>
#include <kernel/ksyms.h>
#include <kernel/ktest.h>
#include <kernel/lockdep.h>
#include <kernel/multiboot2.h>
#include <kernel/panic.h>
#include <kernel/smp_bench.h>
#include <kernel/syscall.h>
#include <lib/string.h>
#include <phys/heap.h>
#include <phys/physmap.h>
#include <phys/pmm.h>
#include <vm/vm_aslr.h>
#include <vm/vm_bench.h>
#include <vm/vm_kernel.h>
#include <vm/vmo.h>

#define MBI_COPY_MAX (64 * 1024)
#define KSYMS_MODULE_NAME "kernel.syms"
#define PERMILLE_MAX 1000

_Static_assert(ZX_SYS_COUNT <= DEBUG_BREAK_SYSCALLS_MAX,
               "debug.break=syscall:NAME has a bit for every syscall");

/* The boot information is copied here so it outlives the identity map and its pages. */
static uint8_t mbi_copy[MBI_COPY_MAX] __aligned(8);
static struct boot_info boot_info;

void kmain(uint32_t magic, uint32_t mbi_phys);

static void load_boot_info(uint32_t magic, uint32_t mbi_phys) {
    if (magic != MB2_BOOTLOADER_MAGIC)
        panic("boot: not started by a multiboot2 loader (eax = 0x%x, expected 0x%x)", magic,
              MB2_BOOTLOADER_MAGIC);
    if (mbi_phys == 0 || (mbi_phys & (MB2_TAG_ALIGN - 1)))
        panic("boot: multiboot2 information at bad address 0x%x", mbi_phys);
    /* Still on the entry tables: [0, 4 GiB) is identity-mapped, and mbi_phys is 32-bit. */
    const uint8_t *mbi = (const uint8_t *)(uintptr_t)mbi_phys;
    uint32_t total_size;
    memcpy(&total_size, mbi, sizeof(total_size));
    if (total_size > sizeof(mbi_copy))
        panic("boot: multiboot2 information is %u bytes; the kernel keeps at most %zu",
              total_size, sizeof(mbi_copy));
    if (total_size < 2 * sizeof(uint32_t))
        panic("boot: multiboot2 information claims only %u bytes", total_size);
    memcpy(mbi_copy, mbi, total_size);

    const char *why = NULL;
    zx_status_t st = mb2_parse(mbi_copy, total_size, &boot_info, &why);
    if (st != ZX_OK)
        panic("boot: bad multiboot2 information (%d): %s", st, why ? why : "?");
}

static void print_boot_info(const struct boot_info *bi) {
    printf("boot: loader \"%s\", command line \"%s\"\n", bi->bootloader_name, bi->cmdline);
    uint64_t usable = 0;
    for (size_t i = 0; i < bi->mem_count; i++) {
        const struct boot_mem_region *r = &bi->mem[i];
        dprintf(LOG_DEBUG, "boot: mem [0x%016lx, 0x%016lx) type %u\n", r->base,
                r->base + r->length, r->type);
        if (r->type == BOOT_MEM_USABLE)
            usable += r->length;
    }
    printf("boot: %zu memory map entries, %lu MiB usable, %zu modules\n", bi->mem_count,
           usable >> 20, bi->module_count);
}

/* vm.large_pages=false|true|fault (<vm/vmo.h>): the booleans as cmdline_get_bool reads
 * them (any other value is true). */
static void apply_large_pages_option(void) {
    size_t len;
    const char *v = cmdline_get(VM_LARGE_PAGES_OPTION, &len);
    if (!v)
        return;
    if (len == 5 && memcmp(v, "fault", 5) == 0) {
        vmo_set_large_policy(VM_LARGE_FAULT);
        printf("vm: large pages also for write faults (%s=fault)\n", VM_LARGE_PAGES_OPTION);
    } else if (!cmdline_get_bool(VM_LARGE_PAGES_OPTION, true)) {
        vmo_set_large_policy(VM_LARGE_OFF);
        printf("vm: large pages off (%s=false)\n", VM_LARGE_PAGES_OPTION);
    }
}

static void apply_cmdline(void) {
    uint64_t v;
    if (cmdline_get_u64("loglevel", &v))
        console_set_level((int)v);
}

/* Looks at each boot module: the symbol table is loaded, programs are checked to be ELF. */
static void scan_modules(const struct boot_info *bi) {
    static const uint8_t elf_magic[4] = {0x7f, 'E', 'L', 'F'};
    for (size_t i = 0; i < bi->module_count; i++) {
        const struct boot_module *m = &bi->modules[i];
        const uint8_t *data = paddr_to_physmap(m->start);
        size_t len = (size_t)(m->end - m->start);
        if (strcmp(m->name, KSYMS_MODULE_NAME) == 0) {
            zx_status_t st = ksyms_init(data, len);
            printf("module %s: %zu bytes, %s\n", m->name, len,
                   st == ZX_OK ? "symbols loaded" : "REJECTED (backtraces unsymbolised)");
            continue;
        }
        bool is_elf = len >= sizeof(elf_magic) && memcmp(data, elf_magic, sizeof(elf_magic)) == 0;
        printf("module %s: %zu bytes at 0x%lx, %s\n", m->name, len, m->start,
               is_elf ? "ELF program" : "not an ELF file");
    }
}

/* pmm.fail_every=N and pmm.fail_random=SEED[:PERMILLE] switch on PMM fault injection. */
static void apply_fault_injection(void) {
    uint64_t n;
    if (cmdline_get_u64("pmm.fail_every", &n) && n > 0) {
        pmm_fault_inject_every((uint32_t)n);
        printf("pmm: fault injection: every %lu-th allocation fails\n", n);
    }
    size_t len;
    const char *v = cmdline_get("pmm.fail_random", &len);
    if (v) {
        const char *colon = NULL;
        for (size_t i = 0; i < len; i++)
            if (v[i] == ':')
                colon = &v[i];
        uint64_t seed, permille = 100;
        size_t seed_len = colon ? (size_t)(colon - v) : len;
        bool ok = kparse_u64(v, seed_len, &seed) &&
                  (!colon || kparse_u64(colon + 1, len - seed_len - 1, &permille)) &&
                  permille <= PERMILLE_MAX;
        if (!ok)
            panic("cmdline: pmm.fail_random wants SEED[:PERMILLE<=1000]");
        pmm_fault_inject_random(seed, (uint32_t)permille);
        printf("pmm: fault injection: random, seed %lu, %lu/1000\n", seed, permille);
    }
}

/* dump.aspace=kernel prints the kernel page tables at boot (for the Bochs workflow);
 * dump.aspace=process:SEL and the other dump.* switches are kernel/proc's
 * (process_dump.c), checked here once. */
static void dump_requested_aspaces(void) {
    process_dump_check_cmdline();
    size_t len;
    const char *which = cmdline_get("dump.aspace", &len);
    if (!which)
        return;
    if (len == 6 && memcmp(which, "kernel", 6) == 0) {
        arch_mmu_dump(arch_mmu_kernel_aspace(), 0, 0);
        /* Stop here under Bochs (magic_break) so its debugger sees the same tables,
         * whatever debug.break= says; a no-op instruction everywhere else. */
        debug_break_stop(0, "after the dump of the kernel page tables (dump.aspace=kernel)");
    } else if (len < 8 || memcmp(which, "process:", 8) != 0)
        printf("dump.aspace: unknown aspace \"%.*s\" (known: kernel, process:NAME, process:KOID)\n",
               (int)len, which);
}

/*
 * Prints the longest interrupts-off stretch of the boot; with irqoff.limit_ns=N on the
 * command line, returns false (the boot fails) when it exceeded N nanoseconds.
 */
static bool irqoff_within_limit(void) {
    irqoff_print("since boot");
    uint64_t limit;
    if (!cmdline_get_u64("irqoff.limit_ns", &limit))
        return true;
    struct irqoff_stats st;
    irqoff_get(&st);
    if (st.max_ns <= limit) {
        printf("irqoff: within the limit of %lu ns\n", limit);
        return true;
    }
    printf("irqoff: LIMIT EXCEEDED: %lu ns > irqoff.limit_ns=%lu\n", st.max_ns, limit);
    return false;
}

/*
 * Starts userboot and waits for it: its exit status is the boot's result (userboot
 * exits with the number of failed test programs). Without a userboot module there is
 * nothing to run and the boot counts as a success.
 */
static __noreturn void run_userboot(void) {
    process_t *ub;
    zx_status_t st = userboot_start_from(&boot_info, &ub);
    if (st == ZX_ERR_NOT_FOUND) {
        printf("Beryl: no userboot module; nothing to run.\n");
        kernel_poweroff(true);
    }
    zx_signals_t seen = 0;
    kobject_t *obj = (kobject_t *)ub;
    kobject_wait(obj, ZX_TASK_TERMINATED, ZX_TIME_INFINITE, NULL, NULL, &seen);
    int64_t rc = process_retcode(ub);
    kobject_unref(obj);
    printf("BERYL: userboot exited with status %ld\n", (long)rc);
    debug_console_after_suite(rc);
    bool latency_ok = irqoff_within_limit();
    lockdep_print_order();
    kernel_poweroff(rc == 0 && latency_ok);
}

/* debug.break=syscall:NAME keeps one bit per syscall number. */
_Static_assert(ZX_SYS_COUNT <= DEBUG_BREAK_SYSCALLS_MAX,
               "debug.break=syscall:NAME cannot name every syscall: widen its bit set");

void kmain(uint32_t magic, uint32_t mbi_phys) {
    console_init();
    printf("\nBeryl kernel booting\n");

    load_boot_info(magic, mbi_phys);
    cmdline_init(boot_info.cmdline);
    apply_cmdline();
    lockdep_init();
    debug_break_init(syscall_names, ZX_SYS_COUNT);
    if (debug_break_armed(DEBUG_BREAK_BOOT))
        debug_break_stop(0, "boot: in kmain, the command line read");
    print_boot_info(&boot_info);

    arch_early_init();
    vm_aslr_init();
    arch_mmu_boot_init(&boot_info);
    heap_init();
    if (cmdline_get_bool(HEAP_POISON_OPTION, false)) {
        heap_set_poison(true);
        printf("heap: freed objects poisoned and checked (%s)\n", HEAP_POISON_OPTION);
    }
    arch_mmu_init();
    vmo_zero_page_init();
    apply_large_pages_option();
    vm_aspace_kernel_init();
    scan_modules(&boot_info);
    dump_requested_aspaces();

    /* bench=mmu / bench=vm: page-table engine or VM benchmarks (docs/benchmarks.md),
     * then power off; bench=smp runs once every CPU has joined the scheduler. */
    size_t bench_len;
    const char *bench = cmdline_get("bench", &bench_len);
    bool bench_smp = bench && bench_len == 3 && memcmp(bench, "smp", 3) == 0;
    if (bench && !bench_smp) {
        bool mmu = bench_len == 3 && memcmp(bench, "mmu", 3) == 0;
        bool vm = bench_len == 2 && memcmp(bench, "vm", 2) == 0;
        if (mmu)
            mmu_bench_run();
        else if (vm)
            vm_bench_run();
        else
            printf("bench: unknown benchmark \"%.*s\" (known: mmu, vm, smp)\n", (int)bench_len,
                   bench);
        kernel_poweroff(mmu || vm);
    }

    /* From here on the kernel is preemptive and user mode is available. */
    sched_init();
    arch_init();
    arch_smp_init(&boot_info);
    /* A started CPU reports in before it joins the scheduler (sched_secondary_cpu_main, a
     * few straight-line steps away): wait for every one, so that the count printed and
     * everything after this sees them all, however slowly a loaded host runs the CPUs. */
    while (sched_num_cpus() < arch_cpu_count())
        arch_spin_pause();
    printf("sched: threads run on %u CPU%s\n", sched_num_cpus(), sched_num_cpus() == 1 ? "" : "s");
    if (bench_smp) {
        smp_bench_run();
        kernel_poweroff(true);
    }
    if (debug_break_armed(DEBUG_BREAK_SYSCALL))
        arch_syscall_break_enable();
    proc_init();
    timer_init();
    debugging_syscalls_init();
    debug_console_init();

    size_t sel_len;
    const char *selector = cmdline_get("test", &sel_len);
    if (selector) {
        apply_fault_injection();
        int failures = ktest_run(selector, sel_len);
        lockdep_print_order();
        if (pmm_fault_injected_count() > 0)
            printf("pmm: %lu allocation failures injected\n", pmm_fault_injected_count());
        kernel_poweroff(failures == 0);
    }

    run_userboot();
}
