/*
 * Page-table dumps in a stable text format (documented in docs/architecture.md, "Dump
 * format"), for panic messages, tests, the dump.* boot switches and the Bochs workflow.
 *
 * A dump never prints with an aspace lock held (the lock keeps interrupts off, and a big
 * aspace prints thousands of lines over a slow serial line). It walks in batches: each
 * batch takes the lock of the aspace that owns the tables it reads (for a unified aspace,
 * the part owning the root slot), descends from the root to where the previous batch
 * stopped, collects at most DUMP_BATCH_LINES lines or DUMP_BATCH_ENTRIES entries, notes
 * where it stopped, drops the lock and prints. The tables may change between two batches,
 * so each line is true of the moment its batch ran. Runs of leaf entries that differ only
 * in a physical address advancing by the page size (and the accessed and dirty bits) are
 * merged into one line as they are collected; the last line of a batch stays unprinted
 * until the next batch shows whether the run goes on.
 *
 * The walk for one address (mmu walk) takes no lock: the fault handler prints it.
 */
#include <arch/x86/arch.h>
#include <kernel/console.h>

#include "mmu_priv.h"

/* Lines one batch collects, and entries it looks at, before dropping the lock. */
#define DUMP_BATCH_LINES 4u
#define DUMP_BATCH_ENTRIES 1024u

static const char *const level_names[MMU_LEVELS] = {"PT", "PD", "PDPT", "PML4"};

/* Who owns a table a dump lists: the dumped aspace, or a unified aspace's parts. */
enum dump_owner { DUMP_OWN, DUMP_RESTRICTED, DUMP_SHARED, DUMP_OWNERS };
static const char *const owner_names[DUMP_OWNERS] = {"own", "restricted", "shared"};

enum dump_kind { DUMP_TABLE, DUMP_LEAF };

/* One line of a dump: a table entry, or a run of leaf entries. */
struct dump_line {
    vaddr_t start, end;      /* virtual range covered (inclusive) */
    uint64_t entry;          /* the table entry, or the run's first leaf entry */
    size_t count;            /* leaf run: entries in it */
    size_t accessed, dirty;  /* leaf run: entries with A / D set */
    uint32_t children;       /* table: present entries in the child table */
    uint16_t idx;            /* index of the (first) entry in its table */
    uint8_t level;
    uint8_t kind;            /* enum dump_kind */
    uint8_t owner;           /* table: enum dump_owner of the child table */
    bool pinned;             /* table: the child table is pinned */
};

/*
 * Where a batch starts walking (va), and which entries the earlier batches listed: every
 * entry starting before `mark`, and those starting at `mark` at a level above
 * `mark_level`. The first batch has listed nothing (first).
 */
struct dump_pos {
    vaddr_t va, mark;
    unsigned mark_level;
    bool first;
};

struct dump_batch {
    struct dump_line line[DUMP_BATCH_LINES];
    unsigned n;
    size_t hidden; /* empty pinned tables passed over */
    bool flat;     /* leaves only, runs merged across tables (arch_mmu_dump_leaves) */
};

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

static uint64_t leaf_addr_mask(unsigned level) {
    return level == 0 ? X86_PTE_ADDR_MASK : LARGE_ADDR_MASK(level);
}

/* "rw- user wb" words for a leaf entry (without the A, D and G bits). */
static void print_leaf_perms(uint64_t e) {
    printf("%c%c%c %s %s", 'r', (e & X86_PTE_W) ? 'w' : '-', (e & X86_PTE_NX) ? '-' : 'x',
           (e & X86_PTE_U) ? "user" : "kernel", cache_name(e));
}

/* "rw- user wb A D G" style words for one leaf entry. */
static void print_leaf_words(uint64_t e) {
    print_leaf_perms(e);
    printf("%s%s%s", (e & X86_PTE_A) ? " A" : "", (e & X86_PTE_D) ? " D" : "",
           (e & X86_PTE_G) ? " G" : "");
}

/* " A" when all `count` entries have the bit, " A=n" when n of them do, else nothing. */
static void print_bit_count(const char *bit, size_t n, size_t count) {
    if (n == count)
        printf(" %s", bit);
    else if (n != 0)
        printf(" %s=%zu", bit, n);
}

/* Sign-extends a 48-bit address built from table indices. */
static vaddr_t canonical_va(uint64_t va) {
    return (va & (1ull << 47)) ? (va | 0xffff000000000000ull) : va;
}

/* Contract in mmu_priv.h. */
bool mmu_leaf_run_continues(uint64_t first, vaddr_t run_start, vaddr_t run_end,
                            unsigned level, uint64_t e, vaddr_t va) {
    uint64_t mask = leaf_addr_mask(level);
    uint64_t same = ~(mask | X86_PTE_A | X86_PTE_D);
    return run_end != (vaddr_t)-1 && va == run_end + 1 && (e & same) == (first & same) &&
           (e & mask) == (first & mask) + (va - run_start);
}

/* Adds the leaf entry e (table index idx, at virtual start) to b, extending the last
 * line's run when e continues it. False when b is full (nothing added). */
static bool batch_add_leaf(struct dump_batch *b, unsigned level, unsigned idx, vaddr_t start,
                           uint64_t e) {
    struct dump_line *last = b->n ? &b->line[b->n - 1] : NULL;
    size_t a = (e & X86_PTE_A) ? 1 : 0, d = (e & X86_PTE_D) ? 1 : 0;
    if (last && last->kind == DUMP_LEAF && last->level == level &&
        (b->flat || last->idx + last->count == idx) &&
        mmu_leaf_run_continues(last->entry, last->start, last->end, level, e, start)) {
        last->end = start + (LEVEL_SIZE(level) - 1);
        last->count++;
        last->accessed += a;
        last->dirty += d;
        return true;
    }
    if (b->n == DUMP_BATCH_LINES)
        return false;
    b->line[b->n++] = (struct dump_line){
        .start = start, .end = start + (LEVEL_SIZE(level) - 1), .entry = e, .count = 1,
        .accessed = a, .dirty = d, .idx = (uint16_t)idx, .level = (uint8_t)level,
        .kind = DUMP_LEAF};
    return true;
}

/* Owner of the tables under root slot `slot` of as. */
static enum dump_owner slot_owner(const struct arch_aspace *as, unsigned slot) {
    if (as->role != ARCH_ASPACE_UNIFIED)
        return DUMP_OWN;
    return slot >= as->shared->top_first && slot <= as->shared->top_last ? DUMP_SHARED
                                                                         : DUMP_RESTRICTED;
}

/*
 * The aspace whose lock guards the tables under va (for a unified aspace, the part that
 * owns va's root slot; else as itself), and in *block_last the last address before the
 * tables change owner ((vaddr_t)-1 if they never do).
 */
static struct arch_aspace *tables_lock_owner(struct arch_aspace *as, vaddr_t va,
                                             vaddr_t *block_last) {
    *block_last = (vaddr_t)-1;
    if (as->role != ARCH_ASPACE_UNIFIED)
        return as;
    unsigned slot = (unsigned)VIDX(va, MMU_ROOT_LEVEL);
    const struct arch_aspace *sh = as->shared;
    if (slot < sh->top_first) {
        *block_last = ((vaddr_t)sh->top_first << LEVEL_SHIFT(MMU_ROOT_LEVEL)) - 1;
        return as->restricted;
    }
    if (slot <= sh->top_last) {
        *block_last = ((vaddr_t)(sh->top_last + 1) << LEVEL_SHIFT(MMU_ROOT_LEVEL)) - 1;
        return as->shared;
    }
    return as->restricted;
}

/*
 * One batch: walks as's tables from pos->va to `last` (lock_owner's lock held: it guards
 * every table there), adding lines to b. Returns true when it reached `last`; false when
 * b filled up or the entry budget ran out, with *pos where the next batch resumes.
 */
static bool dump_collect(struct arch_aspace *as, struct arch_aspace *lock_owner,
                         struct dump_pos *pos, vaddr_t last, struct dump_batch *b)
    TA_REQ(lock_owner->lock) {
    const uint64_t *tables[MMU_LEVELS];
    unsigned level = MMU_ROOT_LEVEL;
    tables[level] = as->root;
    vaddr_t va = pos->va;
    unsigned budget = DUMP_BATCH_ENTRIES;
    for (;;) {
        unsigned idx = (unsigned)VIDX(va, level);
        uint64_t e = tables[level][idx];
        vaddr_t start = ROUNDDOWN(va, LEVEL_SIZE(level));
        vaddr_t elast = entry_last(va, level, last);
        bool listed = !pos->first && (start < pos->mark ||
                                      (start == pos->mark && level > pos->mark_level));
        if (pte_present(e) && (level == 0 || pte_large(e))) {
            if (!listed && !batch_add_leaf(b, level, idx, start, e)) {
                *pos = (struct dump_pos){va, start, level, false};
                return false;
            }
        } else if (pte_present(e)) {
            vm_page_t *child = pte_table_page(e);
            if (child && child->mmu.pinned && child->mmu.nr_children == 0) {
                if (!listed)
                    b->hidden++; /* empty pinned tables (a shared aspace's) are counted */
            } else {
                if (!listed && !b->flat) {
                    if (b->n == DUMP_BATCH_LINES) {
                        *pos = (struct dump_pos){va, start, level, false};
                        return false;
                    }
                    b->line[b->n++] = (struct dump_line){
                        .start = start, .end = start + (LEVEL_SIZE(level) - 1), .entry = e,
                        .children = child ? child->mmu.nr_children : 0u, .idx = (uint16_t)idx,
                        .level = (uint8_t)level, .kind = DUMP_TABLE,
                        .owner = (uint8_t)slot_owner(as, (unsigned)VIDX(va, MMU_ROOT_LEVEL)),
                        .pinned = child && child->mmu.pinned};
                }
                if (child) {
                    tables[level - 1] = pte_table(e);
                    level--;
                    continue;
                }
            }
        }
        if (elast == last)
            return true;
        va = elast + 1;
        while (level < MMU_ROOT_LEVEL && (va & (LEVEL_SIZE(level + 1) - 1)) == 0)
            level++;
        if (--budget == 0) {
            *pos = (struct dump_pos){va, va, MMU_ROOT_LEVEL, false};
            return false;
        }
    }
}

/* What a dump counts as it prints. */
struct dump_totals {
    size_t tables[DUMP_OWNERS]; /* table lines, by owner of the child table */
    size_t hidden;              /* empty pinned tables not listed */
    vaddr_t next;               /* flat: first address not yet printed */
    bool next_past_end;         /* flat: a run ended at the top of the address space */
    arch_mmu_gap_note_fn note;  /* flat: the caller's addition to a "not populated" line */
    void *note_ctx;
};

static void print_gap(unsigned indent, vaddr_t first, vaddr_t last,
                      const struct dump_totals *t) {
    uint64_t pages = (last - first) / PAGE_SIZE + 1;
    printf("%*snot populated 0x%016lx-0x%016lx (%lu %s", (int)indent, "", first, last, pages,
           pages == 1 ? "page" : "pages");
    if (t->note)
        t->note(t->note_ctx, first, last);
    printf(")\n");
}

/* Prints one collected line (indent: spaces before a root-level line, or before every
 * line of a flat dump). */
static void print_line(const struct dump_line *l, bool flat, unsigned indent,
                       struct dump_totals *t) {
    unsigned level = l->level;
    if (flat) {
        if (!t->next_past_end && l->start > t->next)
            print_gap(indent, t->next, l->start - 1, t);
        if (l->end >= t->next || t->next_past_end) {
            t->next = l->end + 1;
            t->next_past_end = l->end == (vaddr_t)-1;
        }
        printf("%*sL%u 0x%016lx-0x%016lx ", (int)indent, "", level, l->start, l->end);
    } else {
        int pad = (int)(indent + 2 * (MMU_ROOT_LEVEL - level));
        if (l->kind == DUMP_LEAF && l->count > 1)
            printf("%*sL%u [%u-%zu] 0x%016lx-0x%016lx ", pad, "", level, l->idx,
                   l->idx + l->count - 1, l->start, l->end);
        else
            printf("%*sL%u [%3u] 0x%016lx-0x%016lx ", pad, "", level, l->idx, l->start, l->end);
    }
    if (l->kind == DUMP_TABLE) {
        t->tables[l->owner]++;
        printf("table 0x%016lx children %u%s owner %s\n", (uint64_t)(l->entry & X86_PTE_ADDR_MASK),
               l->children, l->pinned ? " pinned" : "", owner_names[l->owner]);
        return;
    }
    uint64_t pa = l->entry & leaf_addr_mask(level);
    if (l->count == 1) {
        printf("page 0x%016lx %s ", pa, size_name(level));
        print_leaf_words(l->entry);
        printf("\n");
        return;
    }
    printf("pages 0x%016lx-0x%016lx %s ", pa, (uint64_t)(pa + l->count * LEVEL_SIZE(level) - 1),
           size_name(level));
    print_leaf_perms(l->entry);
    print_bit_count("A", l->accessed, l->count);
    print_bit_count("D", l->dirty, l->count);
    printf("%s (%zu pages)\n", (l->entry & X86_PTE_G) ? " G" : "", l->count);
}

/*
 * Walks [first, last] of as batch by batch, printing each batch after its lock is
 * dropped, and counts into t. flat: leaves only (arch_mmu_dump_leaves).
 */
static void dump_range(struct arch_aspace *as, vaddr_t first, vaddr_t last, bool flat,
                       unsigned indent, struct dump_totals *t)
    TA_EXCL(as->lock, as->shared->lock, as->restricted->lock) {
    struct dump_batch b = {.flat = flat};
    struct dump_pos pos = {first, first, MMU_ROOT_LEVEL, true};
    for (;;) {
        vaddr_t block_last;
        struct arch_aspace *owner = tables_lock_owner(as, pos.va, &block_last);
        vaddr_t batch_last = MIN(block_last, last);
        spin_lock_saved_state_t state;
        spin_lock_irqsave(&owner->lock, &state);
        bool done = dump_collect(as, owner, &pos, batch_last, &b);
        spin_unlock_irqrestore(&owner->lock, state);
        t->hidden += b.hidden;
        b.hidden = 0;
        bool all_done = done && batch_last == last;
        /* A leaf run at the end of a batch may go on in the next one. */
        unsigned keep = !all_done && b.n && b.line[b.n - 1].kind == DUMP_LEAF ? 1u : 0u;
        for (unsigned i = 0; i + keep < b.n; i++)
            print_line(&b.line[i], flat, indent, t);
        if (keep)
            b.line[0] = b.line[b.n - 1];
        b.n = keep;
        if (all_done)
            return;
        if (done) /* the next root slots' tables have another owner */
            pos = (struct dump_pos){batch_last + 1, batch_last + 1, MMU_ROOT_LEVEL, false};
    }
}

/* The table pages as owns, read under its lock. */
static size_t owned_table_pages(struct arch_aspace *as) TA_EXCL(as->lock) {
    spin_lock_saved_state_t state;
    spin_lock_irqsave(&as->lock, &state);
    size_t n = as->table_pages;
    spin_unlock_irqrestore(&as->lock, state);
    return n;
}

/* Clips [vaddr, vaddr + size) (size 0: everything) to as's range; false if empty. */
static bool clip_range(const struct arch_aspace *as, vaddr_t vaddr, size_t size,
                       vaddr_t *first, vaddr_t *last) {
    *first = as->base;
    *last = as->last;
    if (size != 0) {
        *first = MAX(vaddr, as->base);
        vaddr_t want_last = vaddr + size - 1 < vaddr ? (vaddr_t)-1 : vaddr + size - 1;
        *last = MIN(want_last, as->last);
    }
    return *first <= *last;
}

void arch_mmu_dump(arch_aspace_t *as, vaddr_t vaddr, size_t size) {
    vaddr_t first, last;
    bool any = clip_range(as, vaddr, size, &first, &last);
    bool unified = as->role == ARCH_ASPACE_UNIFIED;
    printf("mmu dump: %s aspace, root 0x%016lx, range 0x%016lx-0x%016lx, ", role_name(as->role),
           as->root_pa, as->base, as->last);
    if (unified) {
        /* The parts' roots are not reached from this root: their tables below are. */
        size_t r = owned_table_pages(as->restricted) - 1, s = owned_table_pages(as->shared) - 1;
        printf("%zu table pages: 1 own (the root), %zu restricted, %zu shared\n", 1 + r + s, r,
               s);
    } else {
        printf("%zu table pages\n", owned_table_pages(as));
    }
    struct dump_totals t = {0};
    if (any)
        dump_range(as, first, last, false, 2, &t);
    size_t listed = t.tables[DUMP_OWN] + t.tables[DUMP_RESTRICTED] + t.tables[DUMP_SHARED];
    if (unified)
        printf("mmu dump: end of root 0x%016lx, %zu tables listed (%zu restricted, %zu shared), "
               "%zu empty pinned tables not listed\n",
               as->root_pa, listed, t.tables[DUMP_RESTRICTED], t.tables[DUMP_SHARED], t.hidden);
    else
        printf("mmu dump: end of root 0x%016lx, %zu tables listed, "
               "%zu empty pinned tables not listed\n", as->root_pa, listed, t.hidden);
}

void arch_mmu_dump_leaves(arch_aspace_t *as, vaddr_t vaddr, size_t size, unsigned indent,
                          arch_mmu_gap_note_fn note, void *ctx) {
    vaddr_t first, last;
    if (!clip_range(as, vaddr, size, &first, &last))
        return;
    struct dump_totals t = {.next = first, .note = note, .note_ctx = ctx};
    dump_range(as, first, last, true, indent, &t);
    if (!t.next_past_end && t.next <= last)
        print_gap(indent, t.next, last, &t);
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
            printf(" %s page -> 0x%016lx ", size_name((unsigned)level),
                   (uint64_t)((e & leaf_addr_mask((unsigned)level)) +
                              (vaddr & (LEVEL_SIZE(level) - 1))));
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
