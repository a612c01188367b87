/*
 * Mappings: a VMO range placed in a VMAR, with protection runs (vm_mapping_priv.h). A
 * mapping resolves its own faults, populates its own translations, splits, trims and
 * merges itself with its neighbours; it calls down into the VMO and the MMU and never
 * up into the tree or the aspace (a buried mapping's struct may only be left in its
 * parent VMAR's spare_mapping slot, vm_region.h). Everything that reads or changes a mapping in a tree
 * runs with the aspace lock held (except the VMO's unmap_range op, which runs with the
 * VMO lock held; see vm_aspace_priv.h).
 */
#include <kernel/assert.h>
#include <lib/string.h>
#include <phys/heap.h>
#include "vm_mapping_priv.h"

/* A runs buffer big enough for any rebuild: VM_PROT_RUNS_MAX runs cut at two points,
 * or two full mappings' runs concatenated. */
#define RUNS_BUF (2 * VM_PROT_RUNS_MAX + 2)

/* ---- lifetime ---- */

vm_mapping_t *vm_mapping_alloc(void) {
    vm_mapping_t *m = kzalloc(sizeof(vm_mapping_t));
    if (m)
        m->refcount = 1; /* the tree's, from vm_mapping_install on */
    return m;
}

vm_mapping_t *vm_mapping_reuse(vm_mapping_t *m) {
    DEBUG_ASSERT(m->dead && m->refcount == 1);
    memset(m, 0, sizeof(*m));
    m->refcount = 1;
    return m;
}

void vm_mapping_free_if_unused(vm_mapping_t *m) {
    if (!m || m->vmo) /* installed (vmo is set from vm_mapping_install on) */
        return;
    DEBUG_ASSERT(m->refcount == 1);
    kfree(m);
}

void vm_mapping_hold_locked(vm_mapping_t *m) {
    DEBUG_ASSERT(!m->dead && m->refcount > 0);
    __atomic_add_fetch(&m->refcount, 1, __ATOMIC_RELAXED);
}

void vm_mapping_unref(vm_mapping_t *m) {
    if (__atomic_sub_fetch(&m->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
        DEBUG_ASSERT(m->dead);
        kfree(m);
    }
}

/* The mapping's aspace is immutable and the caller's VMAR reference keeps it alive. */
void vm_mapping_destroy_held(vm_mapping_t *m) {
    rw_mutex_acquire(&m->r.aspace->lock);
    if (!m->dead)
        vm_mapping_destroy(m); /* drops the tree's reference; ours keeps the struct */
    rw_mutex_release(&m->r.aspace->lock);
    vm_mapping_unref(m);
}

/* m has left its tree for good (its translations, link and VMO reference are already
 * gone): it is dead and the tree's reference goes. */
static void mapping_bury(vm_mapping_t *m) TA_REQ(m->r.aspace->lock) {
    vmar_t *parent = m->r.parent;
    m->dead = true;
    m->r.parent = NULL;
    /* Holders take references only under the aspace lock, which is held: a count of 1
     * (the tree's) means nobody else can reach the struct. */
    if (m->r.aspace->user && !parent->dead && !parent->spare_mapping &&
        __atomic_load_n(&m->refcount, __ATOMIC_ACQUIRE) == 1) {
        parent->spare_mapping = m;
        return;
    }
    vm_mapping_unref(m);
}

/* ---- protection runs ---- */

static uint64_t run_end(const vm_mapping_t *m, uint32_t i) TA_REQ_SHARED(m->r.aspace->lock) {
    return i + 1 < m->nruns ? m->runs[i + 1].offset : vm_region_size(&m->r);
}

/* The run containing offset off (< size). At most VM_PROT_RUNS_MAX runs: linear. */
static uint32_t run_index(const vm_mapping_t *m, uint64_t off) TA_REQ_SHARED(m->r.aspace->lock) {
    uint32_t i = 0;
    while (i + 1 < m->nruns && m->runs[i + 1].offset <= off)
        i++;
    return i;
}

/* Appends a run to out[0 .. *n), merged into the last one if the perms are equal. */
static void runs_append(struct vm_prot_run *out, uint32_t *n, uint64_t off, zx_vm_option_t perms) {
    if (*n > 0 && out[*n - 1].perms == perms)
        return; /* merge equal neighbours */
    DEBUG_ASSERT(*n < RUNS_BUF);
    out[*n].offset = off;
    out[*n].perms = perms;
    (*n)++;
}

/*
 * Builds in out[] the runs of m's offsets [from, to), rebased so `from` becomes 0; if
 * `set`, offsets [sa, sb) get `perms` instead. Returns the number of runs (merged).
 */
static uint32_t runs_build(const vm_mapping_t *m, uint64_t from, uint64_t to, bool set,
                           uint64_t sa, uint64_t sb, zx_vm_option_t perms,
                           struct vm_prot_run *out) TA_REQ(m->r.aspace->lock) {
    uint32_t n = 0;
    for (uint64_t off = from; off < to;) {
        uint64_t next;
        zx_vm_option_t p;
        if (set && off >= sa && off < sb) {
            p = perms;
            next = sb;
        } else {
            uint32_t i = run_index(m, off);
            p = m->runs[i].perms;
            next = run_end(m, i);
            if (set && off < sa && sa < next)
                next = sa;
        }
        runs_append(out, &n, off - from, p);
        off = MIN(next, to);
    }
    return n;
}

/* Replaces m's runs by runs[0 .. n), which must fit. */
static void runs_store(vm_mapping_t *m, const struct vm_prot_run *runs, uint32_t n)
    TA_REQ(m->r.aspace->lock) {
    ASSERT(n >= 1 && n <= VM_PROT_RUNS_MAX);
    memcpy(m->runs, runs, n * sizeof(runs[0]));
    m->nruns = n;
}

/* The perms at va (inside m). */
static inline zx_vm_option_t perms_at(const vm_mapping_t *m, vaddr_t va)
    TA_REQ_SHARED(m->r.aspace->lock) {
    return m->runs[run_index(m, va - vm_region_base(&m->r))].perms;
}

bool vm_mapping_perms_cover(const vm_mapping_t *m, vaddr_t a, vaddr_t b, zx_vm_option_t perms) {
    uint64_t lo = a - vm_region_base(&m->r), hi = b - vm_region_base(&m->r);
    for (uint32_t i = run_index(m, lo); i < m->nruns && m->runs[i].offset < hi; i++)
        if (perms & ~m->runs[i].perms)
            return false;
    return true;
}

/* ---- arch flags and translations ---- */

/* The engine's flags for perms (which include READ) in m: the permissions, USER in a
 * user aspace, and the VMO's cache policy. */
static uint32_t arch_flags(const vm_mapping_t *m, zx_vm_option_t perms)
    TA_REQ_SHARED(m->r.aspace->lock) {
    uint32_t f = 0;
    if (perms & ZX_VM_PERM_READ)
        f |= ARCH_MMU_FLAG_PERM_READ;
    if (perms & ZX_VM_PERM_WRITE)
        f |= ARCH_MMU_FLAG_PERM_WRITE;
    if (perms & ZX_VM_PERM_EXECUTE)
        f |= ARCH_MMU_FLAG_PERM_EXECUTE;
    if (m->r.aspace->user)
        f |= ARCH_MMU_FLAG_PERM_USER;
    switch (vmo_cache_policy(m->vmo)) {
    case VMO_CACHE_UNCACHED: f |= ARCH_MMU_FLAG_UNCACHED; break;
    case VMO_CACHE_UNCACHED_DEVICE: f |= ARCH_MMU_FLAG_UNCACHED_DEVICE; break;
    case VMO_CACHE_WRITE_COMBINING: f |= ARCH_MMU_FLAG_WRITE_COMBINING; break;
    default: f |= ARCH_MMU_FLAG_CACHED; break;
    }
    return f;
}

/* Removes the translations of [a, b) (page-aligned); cannot fail. A large page only
 * partly inside is split, or, when there is no memory for the table, removed whole:
 * every translation this layer makes is a cache of its VMO's pages that a fault
 * rebuilds, so losing more than asked is harmless. Runs under the aspace lock or, from
 * unmap_range, under the VMO lock only. */
static void unmap_va(const vm_mapping_t *m, vaddr_t a, vaddr_t b) {
    if (a >= b || !__atomic_load_n(&m->populated, __ATOMIC_RELAXED))
        return;
    zx_status_t st = arch_mmu_unmap(m->r.aspace->arch, a, (b - a) / PAGE_SIZE,
                                    ARCH_UNMAP_ENLARGE_YES, NULL);
    ASSERT(st == ZX_OK);
}

/* The VMO's request: translations for VMO offsets [offset, offset + len) must go.
 * Called with the VMO lock held (the aspace lock may or may not be held): the link's
 * window and the region's base only change under the VMO lock (vmo_lock_mappings). */
static void mapping_unmap_range(struct vmo_mapping_link *link, uint64_t offset, uint64_t len) {
    vm_mapping_t *m = containerof(link, vm_mapping_t, link);
    uint64_t end = len > UINT64_MAX - offset ? UINT64_MAX : offset + len;
    uint64_t lo = MAX(offset, link->vmo_offset);
    uint64_t hi = MIN(end, link->vmo_offset + link->len);
    if (lo >= hi)
        return;
    lo = ROUNDDOWN(lo, PAGE_SIZE);
    hi = ROUNDUP(hi, PAGE_SIZE);
    vaddr_t va = vm_region_base(&m->r) + (lo - link->vmo_offset);
    unmap_va(m, va, va + (hi - lo));
}

static const struct vmo_mapping_ops mapping_ops = {
    .unmap_range = mapping_unmap_range,
};

/* ---- creation, destruction, splitting ---- */

void vm_mapping_install(vm_mapping_t *m, vmar_t *parent, vaddr_t base, size_t size, vmo_t *vmo,
                        uint64_t vmo_offset, zx_vm_option_t perms, zx_vm_option_t max_perms) {
    m->r.ext.node.key = base;
    m->r.ext.size = size;
    m->r.type = VM_REGION_MAPPING;
    m->r.parent = parent;
    m->r.aspace = parent->r.aspace;
    vmo_ref(vmo);
    m->vmo = vmo;
    m->vmo_offset = vmo_offset;
    m->max_perms = max_perms;
    m->nruns = 1;
    m->runs[0].offset = 0;
    m->runs[0].perms = perms;
    m->link.ops = &mapping_ops;
    m->link.vmo_offset = vmo_offset;
    m->link.len = size;
    vmo_add_mapping(vmo, &m->link);
    zx_status_t st = avl_insert(&parent->children, &m->r.ext.node);
    ASSERT(st == ZX_OK);
}

void vm_mapping_destroy(vm_mapping_t *m) {
    DEBUG_ASSERT(!m->dead);
    unmap_va(m, vm_region_base(&m->r), vm_region_end(&m->r));
    vmo_remove_mapping(m->vmo, &m->link);
    avl_remove(&m->r.parent->children, &m->r.ext.node);
    vmo_unref(m->vmo);
    mapping_bury(m);
}

/* Shrinks m to [base, base + new_size), keeping its runs there. Translations untouched.
 * The link's window changes under the VMO's lock (vmo_lock_mappings). */
static void mapping_trim_right(vm_mapping_t *m, size_t new_size) TA_REQ(m->r.aspace->lock) {
    struct vm_prot_run tmp[RUNS_BUF];
    uint32_t n = runs_build(m, 0, new_size, false, 0, 0, 0, tmp);
    runs_store(m, tmp, n);
    vmo_lock_mappings(m->vmo);
    m->r.ext.size = new_size;
    m->link.len = new_size;
    vmo_unlock_mappings(m->vmo);
    vm_extent_resized(&m->r.parent->children, &m->r.ext);
}

/* Drops m's first `cut` bytes (its base moves up, so it is re-keyed in the parent's
 * tree). Translations untouched. The link's window and the base unmap_range computes
 * addresses from change under the VMO's lock. */
static void mapping_trim_left(vm_mapping_t *m, size_t cut) TA_REQ(m->r.aspace->lock) {
    struct vm_prot_run tmp[RUNS_BUF];
    size_t size = vm_region_size(&m->r);
    uint32_t n = runs_build(m, cut, size, false, 0, 0, 0, tmp);
    runs_store(m, tmp, n);
    struct avl_tree *siblings = &m->r.parent->children;
    vmo_lock_mappings(m->vmo);
    m->vmo_offset += cut;
    m->link.vmo_offset = m->vmo_offset;
    m->link.len = size - cut;
    avl_remove(siblings, &m->r.ext.node);
    m->r.ext.node.key += cut;
    m->r.ext.size = size - cut;
    zx_status_t st = avl_insert(siblings, &m->r.ext.node);
    ASSERT(st == ZX_OK);
    vmo_unlock_mappings(m->vmo);
}

/* Before m's first translation is installed (see vm_mapping_t.populated). */
static inline void mark_populated(vm_mapping_t *m) {
    if (!__atomic_load_n(&m->populated, __ATOMIC_RELAXED))
        __atomic_store_n(&m->populated, true, __ATOMIC_RELAXED);
}

/* Splits m at `at` (strictly inside): m keeps [base, at), spare becomes [at, end) with
 * the same VMO, max perms and runs. Translations untouched. */
static void mapping_split(vm_mapping_t *m, vaddr_t at, vm_mapping_t *spare)
    TA_REQ(m->r.aspace->lock) {
    size_t cut = at - vm_region_base(&m->r), size = vm_region_size(&m->r);
    struct vm_prot_run tmp[RUNS_BUF];
    uint32_t n = runs_build(m, cut, size, false, 0, 0, 0, tmp);
    vm_region_same_lock(&m->r.parent->r, &m->r);
    vm_mapping_install(spare, m->r.parent, at, size - cut, m->vmo, m->vmo_offset + cut, 0,
                       m->max_perms);
    vm_region_same_lock(&spare->r, &m->r);
    runs_store(spare, tmp, n);
    spare->populated = m->populated; /* the aspace lock is held exclusively */
    mapping_trim_right(m, cut);
}

void vm_mapping_unmap_part(vm_mapping_t *m, vaddr_t a, vaddr_t b, vm_mapping_t *spare) {
    vaddr_t base = vm_region_base(&m->r), end = vm_region_end(&m->r);
    a = MAX(a, base);
    b = MIN(b, end);
    if (a == base && b == end) {
        vm_mapping_destroy(m);
        return;
    }
    unmap_va(m, a, b);
    if (a == base) {
        mapping_trim_left(m, b - base);
    } else if (b == end) {
        mapping_trim_right(m, a - base);
    } else {
        ASSERT(spare != NULL);
        mapping_split(m, b, spare);
        mapping_trim_right(m, a - base);
    }
}

/* ---- protect ---- */

unsigned vm_mapping_protect_spares(const vm_mapping_t *m, vaddr_t a, vaddr_t b,
                                   zx_vm_option_t perms) {
    vaddr_t base = vm_region_base(&m->r), end = vm_region_end(&m->r);
    a = MAX(a, base);
    b = MIN(b, end);
    if (a == base && b == end)
        return 0; /* the whole mapping: one run */
    struct vm_prot_run tmp[RUNS_BUF];
    uint32_t n = runs_build(m, 0, end - base, true, a - base, b - base, perms, tmp);
    if (n <= VM_PROT_RUNS_MAX)
        return 0;
    return (a > base) + (b < end);
}

/*
 * Whether pages mapped with protection `from` need their entries rewritten for `to`.
 * Entries never carry WRITE beyond what a write fault gave (vm_mapping_protect), so
 * adding WRITE alone, or changing nothing, leaves every entry as it must be; anything else
 * (less access, EXECUTE added or removed) rewrites.
 */
static bool protect_changes_entries(zx_vm_option_t from, zx_vm_option_t to) {
    return (from | ZX_VM_PERM_WRITE) != (to | ZX_VM_PERM_WRITE) ||
           ((from & ZX_VM_PERM_WRITE) && !(to & ZX_VM_PERM_WRITE));
}

/* At most this many stretches of one protect need the engine (one per old run). */
#define PROTECT_HW_MAX (VM_PROT_RUNS_MAX + 1)

vm_mapping_t *vm_mapping_protect(vm_mapping_t *m, vaddr_t a, vaddr_t b, zx_vm_option_t perms,
                                 vm_mapping_t ***spares) {
    vaddr_t base = vm_region_base(&m->r), end = vm_region_end(&m->r);
    a = MAX(a, base);
    b = MIN(b, end);
    struct vm_prot_run tmp[RUNS_BUF];
    uint32_t n = runs_build(m, 0, end - base, true, a - base, b - base, perms, tmp);
    if (n > VM_PROT_RUNS_MAX) {
        /* Too many runs: make [a, b) a mapping of its own (one run). */
        if (b < end)
            mapping_split(m, b, *(*spares)++);
        if (a > base) {
            vm_mapping_t *mid = *(*spares)++;
            mapping_split(m, a, mid);
            vm_region_same_lock(&mid->r, &m->r);
            m = mid;
        }
        n = runs_build(m, 0, b - a, true, 0, b - a, perms, tmp);
    }
    /* The stretches of [a, b) whose entries change, from the runs as they were (a split
     * above kept each page's protection). */
    vaddr_t hw[PROTECT_HW_MAX][2];
    uint32_t nhw = 0;
    vaddr_t mbase = vm_region_base(&m->r);
    for (vaddr_t va = a; va < b;) {
        uint32_t i = run_index(m, va - mbase);
        vaddr_t re = MIN(b, mbase + run_end(m, i));
        if (protect_changes_entries(m->runs[i].perms, perms)) {
            if (nhw > 0 && hw[nhw - 1][1] == va)
                hw[nhw - 1][1] = re;
            else {
                ASSERT(nhw < PROTECT_HW_MAX);
                hw[nhw][0] = va;
                hw[nhw++][1] = re;
            }
        }
        va = re;
    }
    runs_store(m, tmp, n);

    /* Hardware. Write permission is never granted here: a page may be mapped read-only
     * because it is the shared zero page, and only a write fault may make it writable
     * (by committing a page). So the first write after a protect that adds WRITE faults
     * once per page; a protect that keeps the protection (or only adds WRITE) leaves the
     * entries alone. No READ: x86 cannot express it, so unmap. */
    if (!__atomic_load_n(&m->populated, __ATOMIC_RELAXED))
        nhw = 0; /* nothing mapped yet: nothing to change */
    for (uint32_t k = 0; k < nhw; k++) {
        if (!(perms & ZX_VM_PERM_READ)) {
            unmap_va(m, hw[k][0], hw[k][1]);
        } else {
            zx_status_t st = arch_mmu_protect(m->r.aspace->arch, hw[k][0],
                                              (hw[k][1] - hw[k][0]) / PAGE_SIZE,
                                              arch_flags(m, perms) & ~ARCH_MMU_FLAG_PERM_WRITE);
            /* NO_MEMORY: a large page could not be split. Faults rebuild what unmap_va
             * removes, with the new protection. */
            if (st != ZX_OK) {
                ASSERT(st == ZX_ERR_NO_MEMORY);
                unmap_va(m, hw[k][0], hw[k][1]);
            }
        }
    }
    return m;
}

/* ---- faults ---- */

/* Checks an access with VM_PF_* flags against the protection perms. */
static inline zx_status_t fault_check_perms(zx_vm_option_t perms, uint32_t pf_flags) {
    if (!(perms & ZX_VM_PERM_READ))
        return ZX_ERR_ACCESS_DENIED; /* no access at all */
    if ((pf_flags & VM_PF_WRITE) && !(perms & ZX_VM_PERM_WRITE))
        return ZX_ERR_ACCESS_DENIED;
    if ((pf_flags & VM_PF_EXECUTE) && !(perms & ZX_VM_PERM_EXECUTE))
        return ZX_ERR_ACCESS_DENIED;
    return ZX_OK;
}

/* vmo_fault_page's map callback: installs the page for a fault (VMO lock held). */
struct fault_map_ctx {
    vm_mapping_t *m;
    arch_aspace_t *arch;
    vaddr_t page;
    uint32_t flags;
};

static zx_status_t fault_map(void *ctx, paddr_t pa, bool writable) {
    const struct fault_map_ctx *f = ctx;
    mark_populated(f->m);
    uint32_t flags = f->flags;
    if (!writable)
        flags &= ~ARCH_MMU_FLAG_PERM_WRITE;
    return arch_mmu_map(f->arch, f->page, &pa, 1, flags, ARCH_EXISTING_UPGRADE, NULL);
}

/* vmo_fault_block's map callback: one large entry for the block (VMO lock held). An
 * existing large entry (2 MiB or 1 GiB) that maps the block already is left alone if it
 * has the flags (another thread's fault got there first) or changed in place (a write
 * after a protect that removed WRITE), never unmapped; anything else already mapped
 * there, or no memory for a table, leaves the fault to the one-page path (ZX_ERR_NEXT). */
struct block_map_ctx {
    vm_mapping_t *m;
    arch_aspace_t *arch;
    vaddr_t block;
    uint32_t flags;
};

static zx_status_t block_map(void *ctx, paddr_t pa) {
    const struct block_map_ctx *b = ctx;
    mark_populated(b->m);
    zx_status_t st = arch_mmu_map_contiguous(b->arch, b->block, pa, VM_LARGE_PAGES, b->flags,
                                             NULL);
    if (st == ZX_ERR_ALREADY_EXISTS) {
        paddr_t qpa;
        uint32_t qflags;
        size_t qsize;
        if (arch_mmu_query(b->arch, b->block, &qpa, &qflags, &qsize) == ZX_OK && qpa == pa &&
            qsize >= VM_LARGE_PAGE_SIZE)
            st = qflags == b->flags
                ? ZX_OK
                : arch_mmu_protect(b->arch, b->block, VM_LARGE_PAGES, b->flags);
    }
    return st == ZX_OK ? ZX_OK : ZX_ERR_NEXT;
}

/*
 * A fault that may map the whole aligned large block around va: the block must lie in
 * m with one protection (perms, already checked for this access) and be one aligned
 * physical run of the VMO (vmo_fault_block). ZX_ERR_NEXT: fault one page instead.
 */
static __noinline zx_status_t fault_block(vm_mapping_t *m, vaddr_t va, zx_vm_option_t perms,
                                          bool for_write)
    TA_REQ_SHARED(m->r.aspace->lock) {
    vaddr_t base = vm_region_base(&m->r);
    vaddr_t block = ROUNDDOWN(va, VM_LARGE_PAGE_SIZE);
    if (block < base || vm_region_end(&m->r) - block < VM_LARGE_PAGE_SIZE)
        return ZX_ERR_NEXT;
    if (run_index(m, block - base) != run_index(m, block + VM_LARGE_PAGE_SIZE - 1 - base))
        return ZX_ERR_NEXT;
    struct block_map_ctx b = {m, m->r.aspace->arch, block, arch_flags(m, perms)};
    return vmo_fault_block(m->vmo, m->vmo_offset + (block - base), for_write, block_map, &b);
}

/* Whether m's faults (a write fault: for_write) and MAP_RANGE (as a read) may use large
 * entries: user mappings only (the kernel's own mappings are never left to be rebuilt
 * by faults), of VMOs that may have blocks for that access (the link's hint: one load
 * on every fault). */
static inline bool mapping_may_use_blocks(const vm_mapping_t *m, bool for_write)
    TA_REQ_SHARED(m->r.aspace->lock) {
    unsigned hint = __atomic_load_n(&m->link.blocks, __ATOMIC_RELAXED);
    if (likely(hint == VMO_BLOCKS_NONE))
        return false;
    return (hint == VMO_BLOCKS_ANY || for_write) && m->r.aspace->user &&
           vmo_large_pages_enabled();
}

zx_status_t vm_mapping_page_fault(vm_mapping_t *m, vaddr_t va, uint32_t pf_flags) {
    zx_vm_option_t perms = perms_at(m, va);
    zx_status_t st = fault_check_perms(perms, pf_flags);
    if (st != ZX_OK)
        return st;
    if (mapping_may_use_blocks(m, pf_flags & VM_PF_WRITE)) {
        st = fault_block(m, va, perms, pf_flags & VM_PF_WRITE);
        if (st != ZX_ERR_NEXT)
            return st;
    }
    vaddr_t page = ROUNDDOWN(va, PAGE_SIZE);
    uint64_t off = m->vmo_offset + (page - vm_region_base(&m->r));
    struct fault_map_ctx f = {m, m->r.aspace->arch, page, arch_flags(m, perms)};
    /* Mapped under the VMO lock: a decommit cannot free the page in between. */
    return vmo_fault_page(m->vmo, off, pf_flags & VM_PF_WRITE, fault_map, &f);
}

/* ---- MAP_RANGE ---- */

/*
 * MAP_RANGE takes the committed pages of a VMO that may have blocks (contiguous,
 * physical, or paged with blocks: mapping_may_use_blocks) in physically contiguous
 * extents (vmo_for_each_extent); any other VMO's in runs of consecutive pages, one
 * engine call per run (vmo_for_each_committed_run). Where an extent covers a whole aligned large block and its
 * physical addresses are aligned the same way, the block gets one large entry
 * (arch_mmu_map_contiguous, which also uses 1 GiB entries where it can); every other
 * page goes into a batch of 4 KiB entries, one engine call per POPULATE_BATCH pages.
 * Pages already mapped are left alone: a block with any translation in it is mapped
 * page by page (ALREADY_EXISTS from the large map changes nothing).
 */
#define POPULATE_BATCH 64u
#define POPULATE_CONTIG_MAX (1ull << 30) /* largest single large map: bounded work */

struct populate_ctx {
    const vm_mapping_t *m;
    uint32_t flags;
    vaddr_t batch_va;          /* first page of the batch */
    size_t batch_n;
    paddr_t batch[POPULATE_BATCH];
};

static zx_status_t populate_flush(struct populate_ctx *p) {
    size_t n = p->batch_n;
    p->batch_n = 0;
    if (!n)
        return ZX_OK;
    return arch_mmu_map(p->m->r.aspace->arch, p->batch_va, p->batch, n, p->flags,
                        ARCH_EXISTING_SKIP, NULL);
}

/* Adds n pages at va -> pa, pa + 4K, ... to the 4 KiB batch. */
static zx_status_t populate_pages(struct populate_ctx *p, vaddr_t va, paddr_t pa, uint64_t n) {
    zx_status_t st = ZX_OK;
    if (p->batch_n && va != p->batch_va + p->batch_n * PAGE_SIZE)
        st = populate_flush(p);
    while (st == ZX_OK && n > 0) {
        if (!p->batch_n)
            p->batch_va = va;
        size_t m = (size_t)MIN(n, (uint64_t)(POPULATE_BATCH - p->batch_n));
        paddr_t *out = &p->batch[p->batch_n];
        for (size_t k = 0; k < m; k++)
            out[k] = pa + ((paddr_t)k << PAGE_SHIFT);
        p->batch_n += m;
        va += (vaddr_t)m << PAGE_SHIFT;
        pa += (paddr_t)m << PAGE_SHIFT;
        n -= m;
        if (p->batch_n == POPULATE_BATCH)
            st = populate_flush(p);
    }
    return st;
}

/* Large entries for [va, va + len) -> pa (both aligned to VM_LARGE_PAGE_SIZE, len a
 * multiple of it): in pieces of at most POPULATE_CONTIG_MAX, each retried block by block,
 * and a block that holds translations already goes page by page. */
static zx_status_t populate_blocks(struct populate_ctx *p, vaddr_t va, paddr_t pa, uint64_t len) {
    arch_aspace_t *arch = p->m->r.aspace->arch;
    zx_status_t st = populate_flush(p);
    while (st == ZX_OK && len > 0) {
        uint64_t piece = MIN(len, POPULATE_CONTIG_MAX - (va & (POPULATE_CONTIG_MAX - 1)));
        st = arch_mmu_map_contiguous(arch, va, pa, piece >> PAGE_SHIFT, p->flags, NULL);
        if (st == ZX_ERR_ALREADY_EXISTS) { /* nothing was mapped: block by block */
            st = ZX_OK;
            for (uint64_t o = 0; st == ZX_OK && o < piece; o += VM_LARGE_PAGE_SIZE) {
                st = arch_mmu_map_contiguous(arch, va + o, pa + o, VM_LARGE_PAGES, p->flags,
                                             NULL);
                if (st == ZX_ERR_ALREADY_EXISTS)
                    st = populate_pages(p, va + o, pa + o, VM_LARGE_PAGES);
            }
            if (st == ZX_OK)
                st = populate_flush(p);
        }
        va += piece;
        pa += piece;
        len -= piece;
    }
    return st;
}

/* vmo_for_each_committed_run callback (mappings whose VMO has no blocks): one engine
 * call per run of committed pages, under the VMO lock. */
static zx_status_t populate_run(void *ctx, uint64_t offset, const paddr_t *pa, size_t n) {
    const struct populate_ctx *p = ctx;
    vaddr_t va = vm_region_base(&p->m->r) + (offset - p->m->vmo_offset);
    return arch_mmu_map(p->m->r.aspace->arch, va, pa, n, p->flags, ARCH_EXISTING_SKIP, NULL);
}

/* vmo_for_each_extent callback: one extent of committed pages, for a mapping that may
 * use large entries (vm_mapping_populate picks this walk only then). Runs under the VMO
 * lock inside vm_mapping_populate, which holds the aspace lock. */
static zx_status_t populate_extent(void *ctx, uint64_t offset, paddr_t pa, uint64_t n) {
    struct populate_ctx *p = ctx;
    if (n == 0)
        return populate_flush(p); /* the walk's end */
    vaddr_t va = vm_region_base(&p->m->r) + (offset - p->m->vmo_offset);
    uint64_t len = n << PAGE_SHIFT;
    if (((va ^ pa) & (VM_LARGE_PAGE_SIZE - 1)) == 0) {
        uint64_t head = MIN(len, ROUNDUP(va, VM_LARGE_PAGE_SIZE) - va);
        uint64_t mid = ROUNDDOWN(len - head, VM_LARGE_PAGE_SIZE);
        if (mid > 0) {
            zx_status_t st = populate_pages(p, va, pa, head >> PAGE_SHIFT);
            if (st == ZX_OK)
                st = populate_blocks(p, va + head, pa + head, mid);
            if (st != ZX_OK)
                return st;
            va += head + mid;
            pa += head + mid;
            len -= head + mid;
        }
    }
    return populate_pages(p, va, pa, len >> PAGE_SHIFT);
}

zx_status_t vm_mapping_populate(vm_mapping_t *m, vaddr_t a, vaddr_t b) {
    vaddr_t base = vm_region_base(&m->r);
    a = MAX(a, base);
    b = MIN(b, vm_region_end(&m->r));
    uint64_t vsize = vmo_size(m->vmo);
    struct populate_ctx pc = {.m = m};
    bool blocks = mapping_may_use_blocks(m, false);
    mark_populated(m); /* before the VMO lock, so before any translation */
    for (uint32_t i = run_index(m, a - base); i < m->nruns && base + m->runs[i].offset < b; i++) {
        zx_vm_option_t perms = m->runs[i].perms;
        if (!(perms & ZX_VM_PERM_READ))
            continue;
        vaddr_t ra = MAX(a, base + m->runs[i].offset), rb = MIN(b, base + run_end(m, i));
        uint64_t off = m->vmo_offset + (ra - base);
        if (off >= vsize)
            break; /* the rest of the mapping is past the VMO's end */
        uint64_t len = MIN((uint64_t)(rb - ra), vsize - off);
        pc.flags = arch_flags(m, perms);
        zx_status_t st = blocks
            ? vmo_for_each_extent(m->vmo, off, len, populate_extent, &pc)
            : vmo_for_each_committed_run(m->vmo, off, len, populate_run, &pc);
        if (st == ZX_ERR_OUT_OF_RANGE)
            break; /* the VMO shrank since vsize was read: nothing past its end to map */
        if (st != ZX_OK)
            return st;
    }
    return ZX_OK;
}

/* ---- lookups ---- */

zx_status_t vm_mapping_vmo_at(vm_mapping_t *m, vaddr_t va, bool for_write, vmo_t **vmo,
                              uint64_t *vmo_offset, size_t *len_left) {
    if (for_write && !(m->max_perms & ZX_VM_PERM_WRITE))
        return ZX_ERR_ACCESS_DENIED;
    vmo_ref(m->vmo);
    *vmo = m->vmo;
    *vmo_offset = m->vmo_offset + (va - vm_region_base(&m->r));
    *len_left = vm_region_end(&m->r) - va;
    return ZX_OK;
}

void vm_mapping_info_at(const vm_mapping_t *m, vaddr_t va, vm_map_entry_t *out) {
    uint64_t off = va - vm_region_base(&m->r);
    uint32_t i = 0;
    while (i + 1 < m->nruns && m->runs[i + 1].offset <= off)
        i++;
    uint64_t start = m->runs[i].offset;
    vmo_ref(m->vmo);
    *out = (vm_map_entry_t){
        .type = VM_MAP_ENTRY_MAPPING,
        .base = vm_region_base(&m->r) + start,
        .size = run_end(m, i) - start,
        .vmo = m->vmo,
        .vmo_offset = m->vmo_offset + start,
        .perms = m->runs[i].perms,
        /* One page, so the work is bounded whatever the run's size. */
        .committed_pages =
            vmo_committed_pages_in(m->vmo, m->vmo_offset + ROUNDDOWN(off, PAGE_SIZE), PAGE_SIZE),
    };
}

size_t vm_mapping_info(const vm_mapping_t *m, uint32_t depth, vm_map_entry_t *out, size_t room) {
    for (uint32_t i = 0; i < m->nruns && i < room; i++) {
        uint64_t start = m->runs[i].offset, size = run_end(m, i) - start;
        uint64_t vmo_offset = m->vmo_offset + start;
        vmo_ref(m->vmo);
        out[i] = (vm_map_entry_t){
            .type = VM_MAP_ENTRY_MAPPING,
            .depth = depth,
            .base = vm_region_base(&m->r) + start,
            .size = size,
            .vmo = m->vmo,
            .vmo_offset = vmo_offset,
            .perms = m->runs[i].perms,
        };
    }
    return m->nruns;
}

/* ---- merging ---- */

static bool mergeable(const vm_mapping_t *l, const vm_mapping_t *r)
    TA_REQ(l->r.aspace->lock) TA_REQ(r->r.aspace->lock) {
    return l->vmo == r->vmo && vm_region_end(&l->r) == vm_region_base(&r->r) &&
           l->vmo_offset + vm_region_size(&l->r) == r->vmo_offset &&
           l->max_perms == r->max_perms && l->r.parent == r->r.parent;
}

/*
 * Absorbs r into l (mergeable) if the runs fit; frees r. r's translations stay, so l's
 * link is extended over them before r's link goes: the VMO lock is let go in between,
 * and a decommit or zero that gets it must find every translation of its pages through
 * some link (for a moment both cover r's range, which only unmaps twice).
 */
static bool merge_into_left(vm_mapping_t *l, vm_mapping_t *r)
    TA_REQ(l->r.aspace->lock) TA_REQ(r->r.aspace->lock) {
    struct vm_prot_run tmp[RUNS_BUF];
    uint32_t n = 0;
    size_t lsize = vm_region_size(&l->r);
    for (uint32_t i = 0; i < l->nruns; i++)
        runs_append(tmp, &n, l->runs[i].offset, l->runs[i].perms);
    for (uint32_t i = 0; i < r->nruns; i++)
        runs_append(tmp, &n, lsize + r->runs[i].offset, r->runs[i].perms);
    if (n > VM_PROT_RUNS_MAX)
        return false;
    size_t rsize = vm_region_size(&r->r);
    if (r->populated) /* before l's link covers r's translations */
        mark_populated(l);
    avl_remove(&r->r.parent->children, &r->r.ext.node);
    runs_store(l, tmp, n);
    vmo_lock_mappings(l->vmo);
    l->r.ext.size = lsize + rsize;
    l->link.len = lsize + rsize;
    vmo_unlock_mappings(l->vmo);
    vm_extent_resized(&l->r.parent->children, &l->r.ext);
    vmo_remove_mapping(r->vmo, &r->link);
    vmo_unref(r->vmo); /* l still holds a reference */
    mapping_bury(r);
    return true;
}

/* The mapping right after (next) or before m in its parent's tree, if that region is a
 * mapping; NULL otherwise. */
static vm_mapping_t *mapping_neighbour(vm_mapping_t *m, bool next) TA_REQ(m->r.aspace->lock) {
    struct avl_node *n = next ? avl_next(&m->r.ext.node) : avl_prev(&m->r.ext.node);
    struct vm_region *r = vm_region_of(vm_extent_of(n));
    return r && r->type == VM_REGION_MAPPING ? vm_region_to_mapping(r) : NULL;
}

vm_mapping_t *vm_mapping_try_merge(vm_mapping_t *m) {
    vm_mapping_t *next = mapping_neighbour(m, true);
    if (next) {
        vm_region_same_lock(&next->r, &m->r);
        if (mergeable(m, next))
            merge_into_left(m, next);
    }
    vm_mapping_t *prev = mapping_neighbour(m, false);
    if (prev) {
        vm_region_same_lock(&prev->r, &m->r);
        if (mergeable(prev, m) && merge_into_left(prev, m))
            m = prev;
    }
    return m;
}
