/*
 * Page-table dumps in a stable text format (documented in docs/architecture.md, "Dump
 * format"), for panic messages, tests, the boot switch dump.aspace=kernel and the Bochs
 * workflow. Dumps take the aspace lock; the raw walk used by the fault handler does not.
 */
#include <arch/x86/arch.h>
#include <kernel/console.h>

#include "mmu_priv.h"

static const char *const level_names[MMU_LEVELS] = {"PT", "PD", "PDPT", "PML4"};

static const char *role_name(enum arch_aspace_role role) {
    switch (role) {
    case ARCH_ASPACE_INDEPENDENT:
        return "independent";
    case ARCH_ASPACE_SHARED:
        return "shared";
    case ARCH_ASPACE_RESTRICTED:
        return "restricted";
    case ARCH_ASPACE_UNIFIED:
        return "unified";
    }
    return "?";
}

static const char *cache_name(uint64_t e) {
    switch (e & (X86_PTE_PCD | X86_PTE_PWT)) {
    case X86_PTE_PWT:
        return "wc";
    case X86_PTE_PCD:
        return "uc-";
    case X86_PTE_PCD | X86_PTE_PWT:
        return "uc";
    default:
        return "wb";
    }
}

static const char *size_name(unsigned level) {
    return level == 2 ? "1G" : level == 1 ? "2M" : "4K";
}

/* "r w x user wb A D G" style words for a leaf entry. */
static void print_leaf_words(uint64_t e) {
    printf("%c%c%c %s %s%s%s%s", 'r', (e & X86_PTE_W) ? 'w' : '-',
           (e & X86_PTE_NX) ? '-' : 'x', (e & X86_PTE_U) ? "user" : "kernel", cache_name(e),
           (e & X86_PTE_A) ? " A" : "", (e & X86_PTE_D) ? " D" : "", (e & X86_PTE_G) ? " G" : "");
}

/* Sign-extends a 48-bit address built from table indices. */
static vaddr_t canonical_va(uint64_t va) {
    return (va & (1ull << 47)) ? (va | 0xffff000000000000ull) : va;
}

static void dump_table(const struct arch_aspace *as, const uint64_t *table, unsigned level,
                       vaddr_t va, vaddr_t last, int depth, size_t *hidden) TA_REQ(as->lock) {
    for (unsigned idx = (unsigned)VIDX(va, level);; idx++) {
        vaddr_t elast = entry_last(va, level, last);
        uint64_t e = table[idx];
        vm_page_t *cp = pte_present(e) && !pte_large(e) && level > 0 ? pte_table_page(e) : NULL;
        if (cp && cp->mmu.pinned && cp->mmu.nr_children == 0) {
            (*hidden)++; /* empty pinned tables (a shared aspace's) are counted, not listed */
        } else if (pte_present(e)) {
            vaddr_t start = ROUNDDOWN(va, LEVEL_SIZE(level));
            vaddr_t end = start + (LEVEL_SIZE(level) - 1);
            printf("%*sL%u [%3u] 0x%016lx-0x%016lx ", depth * 2, "", level, idx, start, end);
            if (level == 0 || pte_large(e)) {
                uint64_t mask = level == 0 ? X86_PTE_ADDR_MASK : LARGE_ADDR_MASK(level);
                printf("page 0x%016lx %s ", (uint64_t)(e & mask), size_name(level));
                print_leaf_words(e);
                printf("\n");
            } else {
                vm_page_t *child = pte_table_page(e);
                /* Only root entries are borrowed: below them the tables are the shared
                 * aspace's own. */
                bool borrowed = as->role == ARCH_ASPACE_UNIFIED && as->shared &&
                                level == MMU_ROOT_LEVEL && idx >= as->shared->top_first &&
                                idx <= as->shared->top_last;
                printf("table 0x%016lx children %u%s%s\n", (uint64_t)(e & X86_PTE_ADDR_MASK),
                       child ? child->mmu.nr_children : 0u,
                       child && child->mmu.pinned ? " pinned" : "",
                       borrowed ? " borrowed-from-shared" : "");
                if (child)
                    dump_table(as, pte_table(e), level - 1, va, elast, depth + 1, hidden);
            }
        }
        if (elast == last)
            return;
        va = elast + 1;
    }
}

void arch_mmu_dump(arch_aspace_t *as, vaddr_t vaddr, size_t size) {
    vaddr_t first = as->base, last = as->last;
    if (size != 0) {
        first = MAX(vaddr, as->base);
        vaddr_t want_last = vaddr + size - 1 < vaddr ? (vaddr_t)-1 : vaddr + size - 1;
        last = MIN(want_last, as->last);
    }
    spin_lock_saved_state_t state;
    spin_lock_irqsave(&as->lock, &state);
    printf("mmu dump: %s aspace, root 0x%016lx, range 0x%016lx-0x%016lx, %zu table pages\n",
           role_name(as->role), as->root_pa, as->base, as->last, as->table_pages);
    size_t hidden = 0;
    if (first <= last)
        dump_table(as, as->root, MMU_ROOT_LEVEL, first, last, 1, &hidden);
    printf("mmu dump: end (%zu empty pinned tables not listed)\n", hidden);
    spin_unlock_irqrestore(&as->lock, state);
}

/* Walk without locks or aspace: safe on any root, for fault reports. */
static void dump_walk_root(paddr_t root_pa, vaddr_t vaddr) {
    printf("mmu walk: 0x%016lx from root 0x%016lx\n", vaddr, root_pa);
    vm_page_t *rp = paddr_to_vm_page(root_pa);
    if (!rp) {
        printf("  root is not RAM\n");
        return;
    }
    const uint64_t *table = paddr_to_physmap(root_pa);
    for (int level = MMU_ROOT_LEVEL; level >= 0; level--) {
        unsigned idx = (unsigned)VIDX(vaddr, level);
        uint64_t e = table[idx];
        printf("  L%d %-4s[%3u] = 0x%016lx", level, level_names[level], idx, e);
        if (!pte_present(e)) {
            printf(" not present\n");
            return;
        }
        if (level == 0 || pte_large(e)) {
            uint64_t mask = level == 0 ? X86_PTE_ADDR_MASK : LARGE_ADDR_MASK(level);
            printf(" %s page -> 0x%016lx ", size_name((unsigned)level),
                   (uint64_t)((e & mask) + (vaddr & (LEVEL_SIZE(level) - 1))));
            print_leaf_words(e);
            printf("\n");
            return;
        }
        vm_page_t *child = pte_table_page(e);
        if (!child) {
            printf(" table beyond RAM\n");
            return;
        }
        printf(" table, %u children\n", child->mmu.nr_children);
        table = pte_table(e);
    }
}

void arch_mmu_dump_walk(arch_aspace_t *as, vaddr_t vaddr) {
    dump_walk_root(as->root_pa, canonical_va(vaddr));
}

void x86_mmu_dump_walk_current(vaddr_t vaddr) {
#ifdef BERYL_HOST
    dump_walk_root(mmu_hw_host.current_root, vaddr);
#else
    dump_walk_root(x86_get_cr3() & X86_PTE_ADDR_MASK, vaddr);
#endif
}
