/* The TLB model of the page-table engine's host tests (see tlb_model.h). */
#include "tlb_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel/arch/x86/mmu/mmu_priv.h"

#define TLB_CAP 64           /* leaf translations per CPU */
#define PSC_CAP 16           /* paging-structure-cache entries per level per CPU */
#define PSC_LEVELS 3         /* caches of PML4Es (3), PDPTEs (2) and PDEs (1) */
#define SPEC_ON_UNLINK 2     /* speculative walks per reaching CPU at a table unlink */
#define SPEC_ON_IPI 1        /* speculative walks on a CPU before an invalidation reaches it */
#define ATTR_PERM (X86_PTE_W | X86_PTE_U | X86_PTE_NX)
#define ATTR_CACHE (X86_PTE_PWT | X86_PTE_PCD)

/* A cached leaf translation: [base, base + LEVEL_SIZE(level)) -> pa. */
struct tlb_ent {
    bool valid;
    uint8_t level;   /* 0: 4 KiB, 1: 2 MiB, 2: 1 GiB */
    vaddr_t base;
    paddr_t pa;
    uint64_t attrs;  /* effective W, U, NX; the leaf's PWT, PCD, G */
};

/* A cached non-leaf entry of `level` (3..1): the addresses under base use table `table`. */
struct psc_ent {
    bool valid;
    vaddr_t base;
    paddr_t table;
    uint64_t attrs;  /* effective W, U, NX so far */
};

struct sim_cpu {
    arch_aspace_t *loaded;
    paddr_t cr3;     /* 0: nothing loaded */
    struct tlb_ent tlb[TLB_CAP];
    struct psc_ent psc[PSC_LEVELS + 1][PSC_CAP]; /* indexed by level 1..3 */
    paddr_t *zombies; /* unlinked tables this CPU may still cache */
    size_t nzombies, zcap;
};

/* What the tables give for one address: a leaf, or the level where the walk stopped. */
struct xl {
    bool present;
    unsigned level;        /* of the leaf (or of the non-present entry) */
    paddr_t pa;            /* physical address of va itself */
    uint64_t attrs;
    paddr_t table[MMU_LEVELS]; /* table page walked at each level (0 = not reached) */
};

static struct {
    unsigned ncpus, cur;
    struct sim_cpu cpu[TLB_MODEL_MAX_CPUS];
    uint64_t rng;
    paddr_t ram_lo, ram_hi;
    paddr_t kernel_root; /* the kernel half every CPU sees (tlb_model_set_kernel), or 0 */
    vaddr_t hot_va;
    size_t hot_size;
    bool failed;
    char error[768];
    struct tlb_model_stats stats;
} m;

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...) {
    m.stats.violations++;
    if (m.failed)
        return;
    m.failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m.error, sizeof(m.error), fmt, ap);
    va_end(ap);
}

static uint64_t rnd64(void) {
    m.rng ^= m.rng >> 12;
    m.rng ^= m.rng << 25;
    m.rng ^= m.rng >> 27;
    return m.rng * 0x2545f4914f6cdd1dull;
}

static bool in_ram(paddr_t pa) { return pa >= m.ram_lo && pa + PAGE_SIZE <= m.ram_hi; }

/* ---- walks ---- */

/* Accumulates one entry's permissions into attrs (W and U: all levels; NX: any). */
static uint64_t accumulate(uint64_t attrs, uint64_t e) {
    return (attrs & e & (X86_PTE_W | X86_PTE_U)) | ((attrs | e) & X86_PTE_NX);
}

/*
 * Walks va from `table` (a level-`level` table) with permissions `attrs` so far. With
 * `c` set, it is that CPU's walk: Accessed (and Dirty on a permitted write) are set in
 * what it reads and the non-leaf entries go into its paging-structure caches.
 */
static struct xl walk_from(struct sim_cpu *c, paddr_t table, unsigned level, uint64_t attrs,
                           vaddr_t va, bool write) {
    struct xl x = {.present = false};
    for (;; level--) {
        if (!in_ram(table)) {
            violation("a walk of va %#llx reached table %#llx outside RAM",
                      (unsigned long long)va, (unsigned long long)table);
            return x;
        }
        x.table[level] = table;
        uint64_t *ep = (uint64_t *)paddr_to_physmap(table) + VIDX(va, level);
        uint64_t e = __atomic_load_n(ep, __ATOMIC_RELAXED);
        x.level = level;
        if (!pte_present(e))
            return x;
        attrs = accumulate(attrs, e);
        bool leaf = level == 0 || ((level == 1 || level == 2) && pte_large(e));
        if (c) {
            uint64_t set = X86_PTE_A;
            if (leaf && write && (attrs & X86_PTE_W))
                set |= X86_PTE_D;
            __atomic_fetch_or(ep, set, __ATOMIC_RELAXED);
        }
        if (leaf) {
            paddr_t base = level == 0 ? (e & X86_PTE_ADDR_MASK) : (e & LARGE_ADDR_MASK(level));
            x.present = true;
            x.pa = base + (va & (LEVEL_SIZE(level) - 1));
            x.attrs = attrs | (e & (ATTR_CACHE | X86_PTE_G));
            return x;
        }
        table = e & X86_PTE_ADDR_MASK;
        if (c) {
            struct psc_ent *slot = &c->psc[level][rnd64() % PSC_CAP];
            vaddr_t base = ROUNDDOWN(va, LEVEL_SIZE(level));
            for (unsigned i = 0; i < PSC_CAP; i++)
                if (c->psc[level][i].valid && c->psc[level][i].base == base)
                    slot = &c->psc[level][i];
            *slot = (struct psc_ent){true, base, table, attrs};
            m.stats.psc_fills++;
        }
    }
}

/* What the current tables under root give for va (reads only). */
static struct xl walk_tables(paddr_t root, vaddr_t va) {
    return walk_from(NULL, root, MMU_ROOT_LEVEL, X86_PTE_W | X86_PTE_U, va, false);
}

static bool tlb_covers(const struct tlb_ent *t, vaddr_t va) {
    return t->valid && va - t->base < LEVEL_SIZE(t->level);
}

static paddr_t tlb_pa(const struct tlb_ent *t, vaddr_t va) { return t->pa + (va - t->base); }

/* Caches a walk's leaf on c, checking it against the other page sizes c holds for va. */
static void tlb_fill(struct sim_cpu *c, vaddr_t va, const struct xl *x) {
    struct tlb_ent n = {true, (uint8_t)x->level, ROUNDDOWN(va, LEVEL_SIZE(x->level)),
                        x->pa - (va & (LEVEL_SIZE(x->level) - 1)), x->attrs};
    struct tlb_ent *slot = &c->tlb[rnd64() % TLB_CAP];
    for (unsigned i = 0; i < TLB_CAP; i++) {
        struct tlb_ent *t = &c->tlb[i];
        if (!t->valid)
            continue;
        if (t->level == n.level && t->base == n.base) {
            slot = t;
            continue;
        }
        /* Two sizes overlap where the smaller one lies. */
        const struct tlb_ent *small = t->level < n.level ? t : &n;
        const struct tlb_ent *big = small == t ? &n : t;
        if (!tlb_covers(big, small->base))
            continue;
        if (tlb_pa(big, small->base) != small->pa ||
            (big->attrs & (ATTR_PERM | ATTR_CACHE)) != (small->attrs & (ATTR_PERM | ATTR_CACHE)))
            violation("cpu %u caches va %#llx as a %#llx-byte page (pa %#llx attrs %#llx) and "
                      "a %#llx-byte page (pa %#llx attrs %#llx): two page sizes with different "
                      "translations (SDM 4.10.2.3)", (unsigned)(c - m.cpu),
                      (unsigned long long)small->base, (unsigned long long)LEVEL_SIZE(t->level),
                      (unsigned long long)tlb_pa(t, small->base), (unsigned long long)t->attrs,
                      (unsigned long long)LEVEL_SIZE(n.level),
                      (unsigned long long)tlb_pa(&n, small->base), (unsigned long long)n.attrs);
    }
    *slot = n;
    m.stats.fills++;
}

/*
 * The root c walks va from: its CR3, or for the kernel half the kernel aspace's root
 * (every real root shares the kernel's top-level entries; the host tests' aspaces do not,
 * so the model reads them from there). 0 for an address c cannot translate.
 */
static paddr_t root_for(const struct sim_cpu *c, vaddr_t va) {
    if (va < USER_HALF_END)
        return c->cr3;
    return va >= KERNEL_HALF_BASE && c->cr3 ? m.kernel_root : 0;
}

/* c walks va as hardware would: from its deepest paging-structure-cache hit. */
static struct xl cpu_walk(struct sim_cpu *c, vaddr_t va, bool write) {
    for (unsigned level = 1; level <= PSC_LEVELS; level++) {
        for (unsigned i = 0; i < PSC_CAP; i++) {
            const struct psc_ent *p = &c->psc[level][i];
            if (p->valid && p->base == ROUNDDOWN(va, LEVEL_SIZE(level)))
                return walk_from(c, p->table, level - 1, p->attrs, va, write);
        }
    }
    return walk_from(c, root_for(c, va), MMU_ROOT_LEVEL, X86_PTE_W | X86_PTE_U, va, write);
}

static bool cpu_touch(struct sim_cpu *c, vaddr_t va, bool write) {
    if (!c->cr3 || !root_for(c, va))
        return false;
    for (unsigned i = 0; i < TLB_CAP; i++)
        if (tlb_covers(&c->tlb[i], va))
            return true;
    struct xl x = cpu_walk(c, va, write);
    if (x.present)
        tlb_fill(c, va, &x);
    return x.present;
}

/* A walk the CPU makes on its own, somewhere in the hot range. */
static void speculate(struct sim_cpu *c, unsigned n) {
    for (unsigned i = 0; i < n && m.hot_size && c->cr3; i++) {
        vaddr_t va = m.hot_va + (rnd64() % (m.hot_size >> PAGE_SHIFT)) * PAGE_SIZE;
        m.stats.spec_walks++;
        cpu_touch(c, va, rnd64() & 1);
    }
}

/* ---- invalidations ---- */

/*
 * Large translations c caches whose region the tables have split since: every present
 * smaller translation there must be the same (address and attributes), or c could hold
 * two sizes that differ. Runs before each invalidation c receives, when such a pair is
 * possible at the latest.
 */
static void check_split_regions(struct sim_cpu *c) {
    for (unsigned i = 0; i < TLB_CAP; i++) {
        const struct tlb_ent *t = &c->tlb[i];
        if (!t->valid || t->level == 0)
            continue;
        struct xl x = walk_tables(root_for(c, t->base), t->base);
        if (x.level >= t->level)
            continue; /* not split: one entry size for the region */
        vaddr_t step = LEVEL_SIZE(t->level - 1);
        for (vaddr_t off = 0; off < LEVEL_SIZE(t->level); off += PAGE_SIZE) {
            struct xl s = walk_tables(root_for(c, t->base), t->base + off);
            if (s.present && (s.pa != t->pa + off ||
                              (s.attrs & (ATTR_PERM | ATTR_CACHE)) !=
                                  (t->attrs & (ATTR_PERM | ATTR_CACHE)))) {
                violation("cpu %u caches the %#llx-byte page at va %#llx (pa %#llx attrs "
                          "%#llx) while its split tables map va %#llx to pa %#llx attrs %#llx: "
                          "it may cache both sizes (SDM 4.10.2.3)", (unsigned)(c - m.cpu),
                          (unsigned long long)LEVEL_SIZE(t->level), (unsigned long long)t->base,
                          (unsigned long long)t->pa, (unsigned long long)t->attrs,
                          (unsigned long long)(t->base + off), (unsigned long long)s.pa,
                          (unsigned long long)s.attrs);
                return;
            }
            /* a whole non-present or large sub-entry: skip what it covers */
            if (!s.present || s.level > 0)
                off = ROUNDDOWN(off, step) + step - PAGE_SIZE;
        }
    }
}

/*
 * c's paging-structure caches are emptied: the unlinked tables it may have cached must
 * still wait for their free (refcount 0, still a table page), or one was freed first.
 */
static void drop_psc(struct sim_cpu *c) {
    for (size_t i = 0; i < c->nzombies; i++) {
        vm_page_t *p = paddr_to_vm_page(c->zombies[i]);
        if (p->state != VM_PAGE_STATE_MMU || p->mmu.refcount != 0)
            violation("table %#llx was freed before cpu %u was invalidated: its "
                      "paging-structure caches could still point at it",
                      (unsigned long long)c->zombies[i], (unsigned)(c - m.cpu));
    }
    c->nzombies = 0;
    for (unsigned l = 1; l <= PSC_LEVELS; l++)
        for (unsigned i = 0; i < PSC_CAP; i++)
            c->psc[l][i].valid = false;
}

static struct sim_cpu *cur_cpu(void) { return &m.cpu[m.cur]; }

static void sim_invlpg(vaddr_t va) {
    struct sim_cpu *c = cur_cpu();
    m.stats.drops++;
    check_split_regions(c);
    drop_psc(c);
    for (unsigned i = 0; i < TLB_CAP; i++)
        if (tlb_covers(&c->tlb[i], va))
            c->tlb[i].valid = false;
}

static void flush_tlb(struct sim_cpu *c, bool include_global) {
    for (unsigned i = 0; i < TLB_CAP; i++)
        if (include_global || !(c->tlb[i].attrs & X86_PTE_G))
            c->tlb[i].valid = false;
}

static void sim_flush_all(bool include_global) {
    struct sim_cpu *c = cur_cpu();
    m.stats.drops++;
    check_split_regions(c);
    drop_psc(c);
    flush_tlb(c, include_global);
}

static void sim_load_root(paddr_t root) {
    struct sim_cpu *c = cur_cpu();
    m.stats.drops++;
    drop_psc(c);
    flush_tlb(c, false);
    c->cr3 = root;
}

static arch_cpu_set_t sim_cpu_bit(void) { return (arch_cpu_set_t)1 << m.cur; }

static arch_cpu_set_t sim_cpus_running(void) { return (1ull << m.ncpus) - 1; }

static void sim_ipi_call(arch_cpu_set_t cpus, arch_ipi_fn_t fn, void *arg) {
    if (cpus & ~sim_cpus_running())
        violation("invalidation sent to CPUs %#llx, but only %u exist",
                  (unsigned long long)cpus, m.ncpus);
    unsigned saved = m.cur;
    for (unsigned i = 0; i < m.ncpus; i++) {
        if (!(cpus & (1ull << i)))
            continue;
        m.cur = i;
        mmu_hw_host.current_root = m.cpu[i].cr3;
        if (i != saved)
            m.stats.ipis++;
        speculate(&m.cpu[i], SPEC_ON_IPI); /* it ran until the request arrived */
        fn(arg);
    }
    m.cur = saved;
    mmu_hw_host.current_root = m.cpu[saved].cr3;
}

/* Whether c walks as's tables: the kernel aspace's whenever it runs anything, else those
 * of the aspace it runs (a unified aspace walks its parts' too). */
static bool reaches(const struct sim_cpu *c, const arch_aspace_t *as) {
    const arch_aspace_t *l = c->loaded;
    if (as->is_kernel)
        return c->cr3 && m.kernel_root == as->root_pa;
    return l && (l == as || (l->role == ARCH_ASPACE_UNIFIED &&
                             (l->shared == as || l->restricted == as)));
}

/*
 * A table left as's tree. If it is to be freed (refcount 0), every CPU that walks as
 * may have it in its paging-structure caches until its next invalidation.
 */
static void sim_table_unlinked(struct arch_aspace *as, paddr_t table) {
    if (paddr_to_vm_page(table)->mmu.refcount != 0)
        return;
    m.stats.unlinked++;
    for (unsigned i = 0; i < m.ncpus; i++) {
        struct sim_cpu *c = &m.cpu[i];
        if (!reaches(c, as))
            continue;
        if (c->nzombies == c->zcap) {
            c->zcap = c->zcap ? 2 * c->zcap : 64;
            c->zombies = realloc(c->zombies, c->zcap * sizeof(*c->zombies));
            if (!c->zombies)
                abort();
        }
        c->zombies[c->nzombies++] = table;
        speculate(c, SPEC_ON_UNLINK);
    }
}

static const struct mmu_hw_sim sim_ops = {
    .invlpg = sim_invlpg,
    .flush_all = sim_flush_all,
    .load_root = sim_load_root,
    .cpu_bit = sim_cpu_bit,
    .cpus_running = sim_cpus_running,
    .ipi_call = sim_ipi_call,
    .table_unlinked = sim_table_unlinked,
};

/* ---- the interface ---- */

void tlb_model_install(unsigned ncpus, uint64_t seed, paddr_t ram_lo, paddr_t ram_hi) {
    if (ncpus == 0 || ncpus > TLB_MODEL_MAX_CPUS)
        abort();
    for (unsigned i = 0; i < TLB_MODEL_MAX_CPUS; i++)
        free(m.cpu[i].zombies);
    memset(&m, 0, sizeof(m));
    m.ncpus = ncpus;
    m.rng = seed ? seed : 1;
    m.ram_lo = ram_lo;
    m.ram_hi = ram_hi;
    mmu_hw_host.sim = &sim_ops;
}

void tlb_model_uninstall(void) {
    for (unsigned i = 0; i < m.ncpus; i++) {
        if (m.cpu[i].loaded)
            abort(); /* the test must switch every CPU away first */
        free(m.cpu[i].zombies);
        m.cpu[i].zombies = NULL;
    }
    mmu_hw_host.sim = NULL;
}

void tlb_model_run_on(unsigned cpu) {
    m.cur = cpu;
    mmu_hw_host.current_root = m.cpu[cpu].cr3;
}

void tlb_model_switch(unsigned cpu, arch_aspace_t *as) {
    unsigned saved = m.cur;
    struct sim_cpu *c = &m.cpu[cpu];
    tlb_model_run_on(cpu);
    arch_mmu_context_switch(c->loaded, as);
    if (!as) {
        drop_psc(c);
        flush_tlb(c, true);
        c->cr3 = 0;
    }
    c->loaded = as;
    tlb_model_run_on(saved);
}

void tlb_model_set_kernel(arch_aspace_t *kernel) {
    m.kernel_root = kernel ? kernel->root_pa : 0;
    if (kernel)
        mmu_host_set_kernel_aspace(kernel); /* global leaves, shot down everywhere */
}

arch_aspace_t *tlb_model_loaded(unsigned cpu) { return m.cpu[cpu].loaded; }

bool tlb_model_touch(unsigned cpu, vaddr_t va, bool write) {
    return cpu_touch(&m.cpu[cpu], va, write);
}

void tlb_model_set_hot(vaddr_t va, size_t size) {
    m.hot_va = ROUNDDOWN(va, PAGE_SIZE);
    m.hot_size = ROUNDDOWN(size, PAGE_SIZE);
}

bool tlb_model_cached(unsigned cpu, vaddr_t va, paddr_t *pa) {
    for (unsigned i = 0; i < TLB_CAP; i++) {
        const struct tlb_ent *t = &m.cpu[cpu].tlb[i];
        if (tlb_covers(t, va)) {
            if (pa)
                *pa = tlb_pa(t, va);
            return true;
        }
    }
    return false;
}

/* One cached translation against the current tables (pages of every size in it). */
static void check_tlb_ent(unsigned cpu, const struct tlb_ent *t) {
    paddr_t root = root_for(&m.cpu[cpu], t->base);
    for (vaddr_t off = 0; off < LEVEL_SIZE(t->level); off += PAGE_SIZE) {
        vaddr_t va = t->base + off;
        struct xl x = walk_tables(root, va);
        const char *why = NULL;
        if (!x.present)
            why = "the tables map nothing there";
        else if (x.pa != t->pa + off)
            why = "the tables map another address";
        else if (t->attrs & ~x.attrs & (X86_PTE_W | X86_PTE_U))
            why = "the tables grant less (write or user)";
        else if ((x.attrs & ~t->attrs) & X86_PTE_NX)
            why = "the tables forbid execution";
        else if ((x.attrs ^ t->attrs) & ATTR_CACHE)
            why = "the tables give other cache bits";
        if (why) {
            violation("after the operation, cpu %u caches va %#llx -> pa %#llx attrs %#llx "
                      "(a %#llx-byte page) but %s (pa %#llx attrs %#llx)", cpu,
                      (unsigned long long)va, (unsigned long long)(t->pa + off),
                      (unsigned long long)t->attrs, (unsigned long long)LEVEL_SIZE(t->level),
                      why, (unsigned long long)x.pa, (unsigned long long)x.attrs);
            return;
        }
        if (x.level >= t->level)
            return; /* one entry of at least this size: checked whole */
        /* split: go on page by page, a whole smaller leaf at a time */
        off = ROUNDDOWN(off, LEVEL_SIZE(x.level)) + LEVEL_SIZE(x.level) - PAGE_SIZE;
    }
}

bool tlb_model_check(void) {
    for (unsigned i = 0; i < m.ncpus; i++) {
        struct sim_cpu *c = &m.cpu[i];
        if (c->nzombies) {
            violation("cpu %u got no invalidation after table %#llx left the tree of an aspace "
                      "it runs (%zu such tables): its paging-structure caches may point at "
                      "freed pages (SDM 4.10.3.1)", i, (unsigned long long)c->zombies[0],
                      c->nzombies);
            c->nzombies = 0;
        }
        if (!c->cr3)
            continue;
        for (unsigned t = 0; t < TLB_CAP; t++)
            if (c->tlb[t].valid)
                check_tlb_ent(i, &c->tlb[t]);
        for (unsigned l = 1; l <= PSC_LEVELS; l++) {
            for (unsigned k = 0; k < PSC_CAP; k++) {
                const struct psc_ent *p = &c->psc[l][k];
                if (!p->valid)
                    continue;
                struct xl x = walk_tables(root_for(c, p->base), p->base);
                if (x.table[l - 1] != p->table)
                    violation("after the operation, cpu %u caches the level-%u entry for va "
                              "%#llx as table %#llx, but the tables hold %#llx there", i, l,
                              (unsigned long long)p->base, (unsigned long long)p->table,
                              (unsigned long long)x.table[l - 1]);
            }
        }
    }
    return !m.failed;
}

bool tlb_model_failed(void) { return m.failed; }
const char *tlb_model_error(void) { return m.error; }
const struct tlb_model_stats *tlb_model_stats(void) { return &m.stats; }
