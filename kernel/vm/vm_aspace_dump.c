/*
 * The VM dump of an aspace (format in docs/architecture.md, "Dump format"; the switches
 * that print it in docs/debugging.md, "Page-table and VM dumps"): its VMAR tree in
 * pre-order, each VMAR with its range and CAN_MAP_* flags, each mapping (one line per
 * protection run) with its range, permissions, VMO name, koid and offset and how many of
 * its pages the VMO has committed, and under each mapping the hardware entries it
 * produced (arch_mmu_dump_leaves: merged runs, "not populated" stretches). A page that is
 * committed but not populated is thus told apart from one never committed, and both from
 * an address no mapping covers.
 *
 * The walk holds the aspace lock (a mutex: interrupts stay on, and the engine holds its
 * own lock only in short batches), so the tree cannot change under it; the process's
 * faults wait until the dump is printed.
 */
#include <kernel/console.h>

#include "vm_aspace_priv.h"
#include "vm_mapping_priv.h"
#include "vmar_priv.h"

/* Spaces per level of the VMAR tree. */
#define DUMP_INDENT 2u

/* Contract in vm/vmar.h. */
void vm_perms_string(zx_vm_option_t perms, char out[VM_PERMS_STRING_LEN]) {
    out[0] = (perms & ZX_VM_PERM_READ) ? 'r' : '-';
    out[1] = (perms & ZX_VM_PERM_WRITE) ? 'w' : '-';
    out[2] = (perms & ZX_VM_PERM_EXECUTE) ? 'x' : '-';
    out[3] = '\0';
}

static const char *plural(uint64_t n) { return n == 1 ? "page" : "pages"; }

/* One VMAR line at tree depth `depth`. */
static void print_vmar(const vmar_t *v, unsigned depth) {
    zx_vm_option_t f = vmar_flags(v);
    char can[VM_PERMS_STRING_LEN];
    vm_perms_string((f & ZX_VM_CAN_MAP_READ ? ZX_VM_PERM_READ : 0) |
                   (f & ZX_VM_CAN_MAP_WRITE ? ZX_VM_PERM_WRITE : 0) |
                   (f & ZX_VM_CAN_MAP_EXECUTE ? ZX_VM_PERM_EXECUTE : 0),
               can);
    vaddr_t base = vmar_base(v);
    printf("%*svmar 0x%016lx-0x%016lx can-map %s%s%s\n", (int)(depth * DUMP_INDENT), "", base,
           base + vmar_size(v) - 1, can, (f & ZX_VM_CAN_MAP_SPECIFIC) ? " specific" : "",
           (f & ZX_VM_COMPACT) ? " compact" : "");
}

/* What a "not populated" line of a mapping adds: how many of its pages the VMO has
 * committed (committed, but not mapped yet). */
struct gap_note {
    vmo_t *vmo;
    vaddr_t base;         /* the mapping's base */
    uint64_t vmo_offset;  /* VMO offset of base */
};

/* arch_mmu_gap_note_fn of print_mapping (called with the aspace lock held, as the whole
 * dump; no MMU lock). */
static void note_committed(void *ctx, vaddr_t first, vaddr_t last) {
    const struct gap_note *g = ctx;
    size_t n = vmo_committed_pages_in(g->vmo, g->vmo_offset + (first - g->base),
                                      last - first + 1);
    if (n != 0)
        printf(", %zu committed", n);
}

/* The lines of mapping m (one per protection run), each followed by its hardware view.
 * Reads the runs in place (no array of records on the stack: the dump runs at the end of
 * deep call chains, such as a process's last handle going away). */
static void print_mapping(vm_aspace_t *as, const vm_mapping_t *m, unsigned depth)
    TA_REQ(m->r.aspace->lock) {
    char name[VMO_NAME_LEN];
    vmo_get_name(m->vmo, name);
    int pad = (int)(depth * DUMP_INDENT);
    vaddr_t base = vm_region_base(&m->r);
    for (uint32_t i = 0; i < m->nruns; i++) {
        uint64_t start = m->runs[i].offset;
        uint64_t end = i + 1 < m->nruns ? m->runs[i + 1].offset : vm_region_size(&m->r);
        uint64_t pages = (end - start) / PAGE_SIZE;
        char perms[VM_PERMS_STRING_LEN];
        vm_perms_string(m->runs[i].perms, perms);
        printf("%*smapping 0x%016lx-0x%016lx %s vmo \"%s\" koid %lu offset 0x%lx, "
               "%zu of %lu %s committed\n",
               pad, "", base + start, base + end - 1, perms, name, vmo_koid(m->vmo),
               m->vmo_offset + start,
               vmo_committed_pages_in(m->vmo, m->vmo_offset + start, end - start), pages,
               plural(pages));
        struct gap_note note = {m->vmo, base, m->vmo_offset};
        arch_mmu_dump_leaves(as->arch, base + start, end - start, (unsigned)pad + DUMP_INDENT,
                             note_committed, &note);
    }
}

/* One aspace with a VMAR tree (not unified), introduced as `what`. */
static void dump_tree(vm_aspace_t *as, const char *what) {
    rw_mutex_acquire(&as->lock);
    printf("vm aspace \"%s\" (%s) 0x%016lx-0x%016lx\n", as->name, what, as->base,
           as->base + as->size - 1);
    if (as->destroyed) {
        printf("%*sdestroyed\n", (int)DUMP_INDENT, "");
        rw_mutex_release(&as->lock);
        return;
    }
    vm_aspace_same_lock(&as->root->r, as);
    print_vmar(as->root, 1);
    unsigned depth = 2;
    for (struct vm_region *r = vmar_walk_next(as->root, NULL, &depth); r;
         r = vmar_walk_next(as->root, r, &depth)) {
        if (r->type == VM_REGION_MAPPING) {
            const vm_mapping_t *m = vm_region_to_mapping(r);
            vm_region_same_lock(&m->r, &as->root->r);
            print_mapping(as, m, depth);
        } else {
            print_vmar(vm_region_to_vmar(r), depth);
        }
    }
    rw_mutex_release(&as->lock);
}

void vm_aspace_dump(vm_aspace_t *as) {
    vm_aspace_check(as);
    if (as->shared) {
        dump_tree(vm_aspace_unified_part(as, false), "restricted part");
        dump_tree(vm_aspace_unified_part(as, true), "shared part");
    } else {
        dump_tree(as, as->user ? "user" : "kernel");
    }
}
