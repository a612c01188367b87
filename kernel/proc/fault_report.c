/*
 * The user fault report: what the console shows, after the one-line summary, when a
 * user exception kills a process, or (with FAULT_REPORT_RESTRICTED_OPTION) goes back
 * from restricted mode to normal mode (docs/debugging.md, "When a user program crashes").
 *
 * Every line starts with "user fault: " or "user backtrace: " so a log stays greppable.
 * For a page fault: the decoded error, the faulting access against the mapping at the
 * fault address (from the VM, under its locks) and the page-table walk; for every
 * exception: the registers and a frame-pointer backtrace of the user stack, read with
 * the user-copy functions so a bad stack ends the walk instead of faulting the kernel,
 * each frame named function+offset (file:line) from the boot module whose program is
 * mapped there (found through the mapping's VMO: module_at), else from the module the
 * process is named after. User programs are static executables linked at a fixed
 * address, so a module's symbol values and line-table addresses are the running ones;
 * lib/elf_syms.c and lib/elf_lines.c read the module as untrusted input.
 *
 * It runs on the faulting thread, interrupts on, before the thread exits (or goes back
 * to normal mode): the thread still holds its aspace (an aspace is destroyed only after
 * its last thread has left it), so the VM and the walk see live structures; the walk
 * holds the aspace lock (vm_aspace_dump_walk) against a sibling thread's unmap. All work is
 * bounded: one tree descent, one VMO page lookup, one walk, at most FAULT_BACKTRACE_MAX
 * stack reads, and per frame one more tree descent, one pass over a module's program
 * headers, one over its symbols and one binary search in its line table.
 */
#include <arch/mmu.h>
#include <arch/user.h>
#include <kernel/boot_info.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/user_copy.h>
#include <lib/elf_lines.h>
#include <lib/elf_syms.h>
#include <lib/string.h>
#include <phys/physmap.h>
#include <vm/vm_aspace.h>
#include <vm/vmar.h>
#include <vm/vmo.h>
#include "proc_priv.h"

/* Frames the user backtrace prints at most (the faulting pc is frame #0). */
#define FAULT_BACKTRACE_MAX 16
/* Room for a symbol name in a backtrace line (longer names are cut). */
#define FAULT_SYMBOL_MAX 64
/* Room for a source path in a backtrace line (longer paths are cut). */
#define FAULT_FILE_MAX 96

/* The boot modules, set once by userboot before any user thread runs; NULL until then. */
static const struct boot_info *fault_modules;
/* FAULT_REPORT_RESTRICTED_OPTION, read with the modules. */
static bool fault_restricted;

void fault_report_init(const struct boot_info *bi) {
    fault_modules = bi;
    fault_restricted = cmdline_get_bool(FAULT_REPORT_RESTRICTED_OPTION, false);
    if (fault_restricted)
        printf("fault: restricted-mode exceptions are reported (%s)\n",
               FAULT_REPORT_RESTRICTED_OPTION);
}

bool fault_report_restricted_enabled(void) { return fault_restricted; }

/* The boot module named name (a process named after the program it runs), or NULL. */
static const struct boot_module *module_named(const char *name) {
    const struct boot_info *bi = fault_modules;
    for (size_t i = 0; bi && i < bi->module_count; i++)
        if (strcmp(bi->modules[i].name, name) == 0)
            return &bi->modules[i];
    return NULL;
}

/* The VM's reasons for not resolving a page fault (vm_aspace_page_fault), by name. */
static const char *vm_status_name(zx_status_t st) {
    switch (st) {
    case ZX_ERR_NOT_FOUND: return "ZX_ERR_NOT_FOUND";
    case ZX_ERR_ACCESS_DENIED: return "ZX_ERR_ACCESS_DENIED";
    case ZX_ERR_OUT_OF_RANGE: return "ZX_ERR_OUT_OF_RANGE";
    case ZX_ERR_NO_MEMORY: return "ZX_ERR_NO_MEMORY";
    case ZX_ERR_BAD_STATE: return "ZX_ERR_BAD_STATE";
    default: return "status";
    }
}

/* Why perms refuse the access pf describes, as a noun phrase for the mapping ("a
 * read-only", "a non-executable"...), or "a" when they allow it (the VM refused for
 * another reason, which the caller adds). */
static const char *mapping_kind(const arch_page_fault_info_t *pf, zx_vm_option_t perms) {
    if (!(perms & (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE)))
        return "an inaccessible";
    if (pf->fetch && !(perms & ZX_VM_PERM_EXECUTE))
        return "a non-executable";
    if (pf->write && !(perms & ZX_VM_PERM_WRITE))
        return (perms & ZX_VM_PERM_EXECUTE) ? "a read-execute" : "a read-only";
    if (!pf->write && !pf->fetch && !(perms & ZX_VM_PERM_READ))
        return "a non-readable";
    return "a";
}

/* The VM's refusal of an access the permissions allow, as a clause for the mapping line
 * ("" for the statuses a permission refusal gives). */
static const char *vm_refusal(zx_status_t st) {
    switch (st) {
    case ZX_ERR_OUT_OF_RANGE: return ": the offset is beyond the VMO's end";
    case ZX_ERR_NO_MEMORY: return ": no memory to populate it";
    default: return "";
    }
}

/* The access pf describes and its preposition: "write to", "read of", ... */
static const char *access_phrase(const arch_page_fault_info_t *pf) {
    return pf->fetch ? "instruction fetch from" : pf->write ? "write to" : "read of";
}

/* The decoded error line and the mapping line of a page fault in aspace as. */
static void report_page_fault(vm_aspace_t *as, const arch_page_fault_info_t *pf,
                              zx_status_t vm_status) {
    printf("user fault: page fault at 0x%016lx: %s %s, %s mode%s; vm: %s (%d)\n", pf->addr,
           pf->fetch ? "instruction fetch" : pf->write ? "write" : "read",
           pf->present ? "on a present page (protection)" : "of a not-present page",
           pf->user ? "user" : "supervisor", pf->reserved ? ", reserved bit set" : "",
           vm_status_name(vm_status), vm_status);
    vm_map_entry_t e;
    zx_status_t st = as ? vm_aspace_mapping_at(as, pf->addr, &e) : ZX_ERR_NOT_FOUND;
    if (st == ZX_ERR_NOT_FOUND) {
        printf("user fault: %s an unmapped address 0x%lx (no mapping)\n", access_phrase(pf),
               pf->addr);
        return;
    }
    if (st != ZX_OK) {
        printf("user fault: no mapping information (%s)\n", vm_status_name(st));
        return;
    }
    char perms[VM_PERMS_STRING_LEN], name[VMO_NAME_LEN];
    vm_perms_string(e.perms, perms);
    vmo_get_name(e.vmo, name);
    uint64_t koid = vmo_koid(e.vmo);
    uint64_t offset = e.vmo_offset + (pf->addr - e.base);
    vmo_unref(e.vmo);
    printf("user fault: %s %s mapping [0x%lx, 0x%lx) %s of VMO '%s' koid %lu at offset "
           "0x%lx, %s%s\n",
           access_phrase(pf), mapping_kind(pf, e.perms), e.base, e.base + e.size, perms, name,
           koid, offset, e.committed_pages ? "populated" : "not yet populated",
           vm_refusal(vm_status));
}

/* The boot module whose program is mapped at user address pc of aspace as: the mapping
 * there is of the module's VMO or of a child of it (its origin tag, vm/vmo.h), and the
 * module's ELF loads the mapped file byte at exactly pc (a program loaded by its ELF, not
 * a module mapped somewhere else). NULL otherwise. One tree descent and one pass over the
 * module's program headers. */
static const struct boot_module *module_at(vm_aspace_t *as, uintptr_t pc) {
    const struct boot_info *bi = fault_modules;
    vm_map_entry_t e;
    if (!bi || !as || vm_aspace_mapping_at(as, pc, &e) != ZX_OK)
        return NULL;
    uint64_t origin_offset = 0;
    uint32_t tag = vmo_origin(e.vmo, &origin_offset);
    vmo_unref(e.vmo);
    if (tag == 0 || tag > bi->module_count)
        return NULL;
    const struct boot_module *m = &bi->modules[tag - 1];
    uint64_t vaddr;
    uint64_t file_offset = origin_offset + e.vmo_offset + (pc - e.base);
    if (!elf_vaddr_of_offset(paddr_to_physmap(m->start), m->end - m->start, file_offset,
                             &vaddr) ||
        vaddr != pc)
        return NULL;
    return m;
}

uint32_t fault_report_module_tag(const struct boot_info *bi, const struct boot_module *m) {
    return (uint32_t)(m - bi->modules) + 1;
}

/* Prints backtrace line i for address pc, named function+offset (offset `back` added
 * back: see report_backtrace) and (file:line) from module m's symbols when it has them. */
static void report_frame(unsigned i, uintptr_t pc, unsigned back, const struct boot_module *m) {
    char sym[FAULT_SYMBOL_MAX], file[FAULT_FILE_MAX];
    const void *image = m ? paddr_to_physmap(m->start) : NULL;
    size_t len = m ? m->end - m->start : 0;
    uint64_t off = 0;
    uint32_t line = 0;
    bool named = image && elf_syms_lookup(image, len, pc - back, sym, sizeof(sym), &off);
    bool lined = image && elf_lines_lookup(image, len, pc - back, file, sizeof(file), &line);
    if (named && lined)
        printf("user backtrace: #%u 0x%lx %s+0x%lx (%s:%u)\n", i, pc, sym, off + back, file,
               line);
    else if (named)
        printf("user backtrace: #%u 0x%lx %s+0x%lx\n", i, pc, sym, off + back);
    else if (lined)
        printf("user backtrace: #%u 0x%lx (%s:%u)\n", i, pc, file, line);
    else
        printf("user backtrace: #%u 0x%lx\n", i, pc);
}

/* The frame-pointer backtrace of the user stack, starting at the pc and frame pointer
 * of f: stops at a null, misaligned or non-increasing frame pointer, at a record it
 * cannot read, at a zero return address, or after FAULT_BACKTRACE_MAX frames. One line
 * per frame, named from the boot module mapped at the frame's address in aspace as
 * (module_at), else from `named` (the module named like the process) when not NULL. A
 * return address (#1 on) is looked up one byte back, inside its call instruction, so a
 * call that ends a function is not named after the next one; its offset is still the
 * address's own. */
static void report_backtrace(vm_aspace_t *as, const arch_iframe_t *f,
                             const struct boot_module *named, const char *process_name) {
    uintptr_t frames[FAULT_BACKTRACE_MAX];
    const struct boot_module *mods[FAULT_BACKTRACE_MAX];
    unsigned n = 0;
    frames[n++] = arch_iframe_pc(f);
    uintptr_t fp = arch_iframe_frame_pointer(f);
    while (n < FAULT_BACKTRACE_MAX && fp != 0 && fp % sizeof(uintptr_t) == 0) {
        uintptr_t record[2]; /* the caller's frame pointer, the return address */
        if (user_copy_from(record, fp, sizeof(record)) != ZX_OK || record[1] == 0)
            break;
        frames[n++] = record[1];
        if (record[0] <= fp)
            break;
        fp = record[0];
    }
    const struct boot_module *program = NULL; /* the first module found by mapping */
    for (unsigned i = 0; i < n; i++) {
        mods[i] = module_at(as, frames[i] - (i > 0 ? 1 : 0));
        if (!program)
            program = mods[i];
        if (!mods[i])
            mods[i] = named;
    }
    if (program && program != named)
        printf("user backtrace: program \"%s\" (the boot module mapped at the frames)\n",
               program->name);
    else if (!program && !named && process_name)
        printf("user backtrace: no symbols: no boot module is mapped at the frames or named "
               "\"%s\"\n",
               process_name);
    else if (!program && !named)
        printf("user backtrace: no symbols: no boot module is mapped at the frames\n");
    for (unsigned i = 0; i < n; i++)
        report_frame(i, frames[i], i > 0 ? 1 : 0, mods[i]);
}

void uthread_fault_report(uthread_t *ut, const arch_iframe_t *f, zx_status_t vm_status,
                          const char *process_name) {
    vm_aspace_t *as = ut->thread.aspace;
    arch_page_fault_info_t pf;
    /* The VM is asked about every page fault, and only about those: a frame it was not
     * asked about (vm_status ZX_OK) may carry a stale vector. */
    bool is_pf = vm_status != ZX_OK && arch_iframe_page_fault(f, &pf);
    if (is_pf)
        report_page_fault(as, &pf, vm_status);
    char line[ARCH_IFRAME_REG_LINE_MAX];
    for (unsigned i = 0; arch_iframe_register_line(f, i, line, sizeof(line)); i++)
        printf("user fault:  %s\n", line);
    report_backtrace(as, f, process_name ? module_named(process_name) : NULL, process_name);
    /* Under the VM's lock: another thread of the process may be unmapping meanwhile, and
     * an unmap frees page tables the walk reads. */
    if (is_pf && as)
        vm_aspace_dump_walk(as, pf.addr);
}
