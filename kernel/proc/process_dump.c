/*
 * Page-table and VM dumps of processes, chosen on the kernel command line
 * (docs/debugging.md, "Page-table and VM dumps"):
 *
 *   dump.aspace=process:SEL  the process(es) SEL selects: a name, or a koid (all digits);
 *   dump.at=exit|fault       when dump.aspace's processes are printed: as they end
 *                            (default), or when a user fault kills them;
 *   dump.on_fault=SEL|all    the VM dump of a process a user fault kills.
 *
 * A dump.aspace dump is the VM dump (vm_aspace_dump) followed by the page tables
 * (arch_mmu_dump); dump.on_fault prints the VM dump alone, after the fault report, which
 * already has the walk for the fault address. Nothing here runs unless a switch is set.
 */
#include <arch/mmu.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/debug_break.h>
#include <lib/string.h>
#include <vm/vm_aspace.h>
#include "proc_priv.h"

#define PROCESS_PREFIX "process:"
#define PROCESS_PREFIX_LEN (sizeof(PROCESS_PREFIX) - 1)

/* Whether the selector sel[0 .. len) (a koid in decimal, or a name) picks the process
 * called name with koid koid. A selector of digits only is a koid. */
static bool selector_matches(const char *sel, size_t len, const char *name, uint64_t koid) {
    uint64_t want;
    if (len > 0 && kparse_u64(sel, len, &want))
        return want == koid;
    return len == strnlen(name, ZX_MAX_NAME_LEN) && memcmp(sel, name, len) == 0;
}

/* The dump switches, read once at boot (process_dump_check_cmdline): every process exit
 * and fatal fault asks them, and the command line does not change. A selector points
 * into the kernel's copy of the command line; NULL: the switch is absent. */
static struct {
    const char *aspace_sel; /* dump.aspace=process:SEL */
    size_t aspace_len;
    bool at_fault;          /* dump.at=fault (else the dump.aspace dump is at exit) */
    const char *fault_sel;  /* dump.on_fault=SEL|all */
    size_t fault_len;
} dump_switches;

/* Whether the value v[0 .. len) is word. */
static bool value_is(const char *v, size_t len, const char *word) {
    return v && len == strlen(word) && memcmp(v, word, len) == 0;
}

/* Whether dump.aspace=process:SEL selects p (named name). */
static bool aspace_switch_selects(process_t *p, const char *name) {
    return dump_switches.aspace_sel &&
           selector_matches(dump_switches.aspace_sel, dump_switches.aspace_len, name,
                            p->obj.koid);
}

/* The dump.aspace dump of p: its VM dump, then its page tables; then the debug.break=dump
 * stop, if armed. */
static void dump_aspace(process_t *p, const char *name, const char *when) {
    printf("dump.aspace: process \"%s\" (koid %lu) at %s\n", name, p->obj.koid, when);
    vm_aspace_dump(p->aspace);
    arch_mmu_dump(vm_aspace_arch(p->aspace), 0, 0);
    printf("dump.aspace: end of process koid %lu\n", p->obj.koid);
    debug_break_dump("a process's page tables (dump.aspace=process:NAME|KOID)");
}

/* Contract in proc_priv.h. */
void process_dump_at_exit(process_t *p) {
    /* Every process exit comes here: without dump.aspace=process:, one load. */
    if (!dump_switches.aspace_sel || dump_switches.at_fault || !p->aspace)
        return;
    char name[ZX_MAX_NAME_LEN];
    task_copy_name(&p->obj, p->name, name);
    if (aspace_switch_selects(p, name))
        dump_aspace(p, name, "exit");
}

/* Contract in proc_priv.h. */
void process_dump_on_fault(process_t *p) {
    if (!p->aspace)
        return;
    char name[ZX_MAX_NAME_LEN];
    task_copy_name(&p->obj, p->name, name);
    const char *v = dump_switches.fault_sel;
    size_t len = dump_switches.fault_len;
    if (v && (value_is(v, len, "all") || selector_matches(v, len, name, p->obj.koid))) {
        printf("dump.on_fault: process \"%s\" (koid %lu)\n", name, p->obj.koid);
        vm_aspace_dump(p->aspace);
        printf("dump.on_fault: end of process koid %lu\n", p->obj.koid);
    }
    if (dump_switches.at_fault && aspace_switch_selects(p, name))
        dump_aspace(p, name, "fault");
}

/* Contract in proc_priv.h. */
void process_dump_check_cmdline(void) {
    size_t len;
    const char *v = cmdline_get("dump.at", &len);
    dump_switches.at_fault = value_is(v, len, "fault");
    if (v && !value_is(v, len, "exit") && !dump_switches.at_fault)
        printf("dump.at: unknown value \"%.*s\" (known: exit, fault)\n", (int)len, v);
    v = cmdline_get("dump.on_fault", &len);
    if (v && len == 0)
        printf("dump.on_fault: empty value (known: a process name, a koid, all)\n");
    dump_switches.fault_sel = v;
    dump_switches.fault_len = len;
    v = cmdline_get("dump.aspace", &len);
    if (v && len >= PROCESS_PREFIX_LEN && memcmp(v, PROCESS_PREFIX, PROCESS_PREFIX_LEN) == 0) {
        if (len == PROCESS_PREFIX_LEN)
            printf("dump.aspace: empty process selector (known: process:NAME, process:KOID)\n");
        dump_switches.aspace_sel = v + PROCESS_PREFIX_LEN;
        dump_switches.aspace_len = len - PROCESS_PREFIX_LEN;
    }
}
