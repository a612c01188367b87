/*
 * Address-space lifecycle and the bookkeeping every operation shares: table allocation,
 * linking and unlinking (with top-level mirroring into unified aspaces), reference
 * counts, the consistency manager, range and flag checks.
 */
#include <kernel/compiler.h>
#include <lib/string.h>
#include <phys/heap.h>
#include <phys/pmm.h>

#include "mmu_priv.h"

#ifdef BERYL_HOST
struct mmu_hw_host mmu_hw_host = {.page1g = true, .nx = true};
#endif

#define PML4_SLOT_SIZE LEVEL_SIZE(MMU_ROOT_LEVEL)

static struct arch_aspace *kernel_aspace;

/* ---- consistency manager ---- */

void mmu_cm_finish(struct mmu_cm *cm) {
    struct arch_aspace *as = cm->as;
    uint32_t active = __atomic_load_n(&as->active_cpus, __ATOMIC_ACQUIRE);
    if (as->is_kernel || (active & mmu_hw_cpu_bit())) {
        if (cm->full_flush) {
            mmu_hw_flush_all(as->is_kernel);
        } else {
            for (uint32_t i = 0; i < cm->npending; i++)
                mmu_hw_invlpg(cm->pending[i]);
        }
    }
    /*
     * SMP shootdown plugs in here: send the same invalidation to every other CPU in
     * `active` (all CPUs for the kernel aspace) and wait for them before returning, so
     * that mmu_cm_free_pages() runs only once no CPU can still use a freed table.
     */
    cm->npending = 0;
    cm->full_flush = false;
}

void mmu_cm_free_pages(struct mmu_cm *cm) {
    struct list_node *n;
    while ((n = list_remove_head(&cm->to_free)) != NULL) {
        vm_page_t *p = containerof(n, vm_page_t, node);
        DEBUG_ASSERT(p->state == VM_PAGE_STATE_MMU && p->mmu.refcount == 0);
        pmm_free_page(p);
    }
}

/* ---- tables ---- */

zx_status_t mmu_table_alloc(struct arch_aspace *as, unsigned level, paddr_t *pa) {
    vm_page_t *page;
    zx_status_t st = pmm_alloc_page(PMM_ALLOC_FLAG_ZERO, &page, pa);
    if (st != ZX_OK)
        return st;
    page->state = VM_PAGE_STATE_MMU;
    page->mmu.level = (uint8_t)level;
    page->mmu.pinned = 0;
    page->mmu.nr_children = 0;
    page->mmu.refcount = 1;
    spin_lock_init(&page->mmu.lock);
    as->table_pages++;
    return ZX_OK;
}

void mmu_table_release(struct arch_aspace *as, struct mmu_cm *cm, vm_page_t *page) {
    DEBUG_ASSERT(page->state == VM_PAGE_STATE_MMU && page->mmu.refcount > 0);
    if (--page->mmu.refcount != 0)
        return;
    DEBUG_ASSERT(page->mmu.nr_children == 0);
    as->table_pages--;
    if (cm)
        list_add_tail(&cm->to_free, &page->node);
    else
        pmm_free_page(page);
}

/* A root entry changed: keep the unified aspace built on this one in step. */
static void mirror_root_entry(struct arch_aspace *as, unsigned idx, uint64_t value) {
    if (as->unified)
        as->unified->root[idx] = value;
}

void mmu_link_child(struct arch_aspace *as, uint64_t *table, vm_page_t *tpage, unsigned level,
                    unsigned idx, paddr_t child_pa) {
    DEBUG_ASSERT(!pte_present(table[idx]));
    table[idx] = child_pa | as->table_flags;
    tpage->mmu.nr_children++;
    if (level == MMU_ROOT_LEVEL)
        mirror_root_entry(as, idx, table[idx]);
}

void mmu_unlink_child(struct arch_aspace *as, struct mmu_cm *cm, uint64_t *table,
                      vm_page_t *tpage, unsigned level, unsigned idx, vm_page_t *child) {
    DEBUG_ASSERT(!child->mmu.pinned && child->mmu.nr_children == 0);
    table[idx] = 0;
    tpage->mmu.nr_children--;
    if (level == MMU_ROOT_LEVEL) {
        mirror_root_entry(as, idx, 0);
        mmu_cm_flush_all(cm);
    }
    mmu_table_release(as, cm, child);
}

/* ---- checks ---- */

static bool canonical(vaddr_t va) { return va < USER_HALF_END || va >= KERNEL_HALF_BASE; }

zx_status_t mmu_check_range(const struct arch_aspace *as, vaddr_t vaddr, size_t count,
                            vaddr_t *last_out) {
    if (count == 0 || !IS_ALIGNED(vaddr, PAGE_SIZE) || !canonical(vaddr))
        return ZX_ERR_INVALID_ARGS;
    if (count > (SIZE_MAX >> PAGE_SHIFT))
        return ZX_ERR_OUT_OF_RANGE;
    vaddr_t last = vaddr + ((uint64_t)count << PAGE_SHIFT) - 1;
    if (last < vaddr || vaddr < as->base || last > as->last)
        return ZX_ERR_OUT_OF_RANGE;
    *last_out = last;
    return ZX_OK;
}

zx_status_t mmu_check_modify(const struct arch_aspace *as, vaddr_t vaddr, size_t count,
                             vaddr_t *last_out) {
    if (as->role == ARCH_ASPACE_UNIFIED)
        return ZX_ERR_NOT_SUPPORTED;
    return mmu_check_range(as, vaddr, count, last_out);
}

zx_status_t mmu_flags_to_pte(const struct arch_aspace *as, uint32_t flags, uint64_t *bits) {
    if ((flags & ~ARCH_MMU_FLAG_VALID_MASK) || !(flags & ARCH_MMU_FLAG_PERM_READ))
        return ZX_ERR_INVALID_ARGS;
    if (as->is_kernel && (flags & ARCH_MMU_FLAG_PERM_USER))
        return ZX_ERR_INVALID_ARGS;
    uint64_t e = as->leaf_global;
    if (flags & ARCH_MMU_FLAG_PERM_WRITE)
        e |= X86_PTE_W;
    if (flags & ARCH_MMU_FLAG_PERM_USER)
        e |= X86_PTE_U;
    if (!(flags & ARCH_MMU_FLAG_PERM_EXECUTE) && mmu_hw_nx())
        e |= X86_PTE_NX;
    /* PAT layout programmed by arch_mmu_init: PWT/PCD select WB, WC, UC-, UC. */
    switch (flags & ARCH_MMU_FLAG_CACHE_MASK) {
    case ARCH_MMU_FLAG_WRITE_COMBINING:
        e |= X86_PTE_PWT;
        break;
    case ARCH_MMU_FLAG_UNCACHED:
        e |= X86_PTE_PCD;
        break;
    case ARCH_MMU_FLAG_UNCACHED_DEVICE:
        e |= X86_PTE_PCD | X86_PTE_PWT;
        break;
    default:
        break;
    }
    *bits = e;
    return ZX_OK;
}

uint32_t mmu_pte_to_flags(uint64_t e) {
    uint32_t f = ARCH_MMU_FLAG_PERM_READ;
    if (e & X86_PTE_W)
        f |= ARCH_MMU_FLAG_PERM_WRITE;
    if (e & X86_PTE_U)
        f |= ARCH_MMU_FLAG_PERM_USER;
    if (!(e & X86_PTE_NX))
        f |= ARCH_MMU_FLAG_PERM_EXECUTE;
    switch (e & (X86_PTE_PCD | X86_PTE_PWT)) {
    case X86_PTE_PWT:
        f |= ARCH_MMU_FLAG_WRITE_COMBINING;
        break;
    case X86_PTE_PCD:
        f |= ARCH_MMU_FLAG_UNCACHED;
        break;
    case X86_PTE_PCD | X86_PTE_PWT:
        f |= ARCH_MMU_FLAG_UNCACHED_DEVICE;
        break;
    default:
        break;
    }
    return f;
}

/* ---- lifecycle ---- */

static struct arch_aspace *aspace_alloc(enum arch_aspace_role role, vaddr_t base, size_t size) {
    struct arch_aspace *as = kzalloc(sizeof(*as));
    if (!as)
        return NULL;
    spin_lock_init(&as->lock);
    as->role = role;
    as->base = base;
    as->last = base + size - 1;
    as->top_first = (unsigned)VIDX(as->base, MMU_ROOT_LEVEL);
    as->top_last = (unsigned)VIDX(as->last, MMU_ROOT_LEVEL);
    as->is_kernel = base >= KERNEL_HALF_BASE;
    as->table_flags = X86_PTE_P | X86_PTE_W | (as->is_kernel ? 0 : X86_PTE_U);
    as->leaf_global = as->is_kernel ? X86_PTE_G : 0;
    return as;
}

/* Allocates the root and copies the kernel's top-level entries into a user root. */
static zx_status_t aspace_init_root(struct arch_aspace *as) TA_NO_THREAD_SAFETY_ANALYSIS {
    zx_status_t st = mmu_table_alloc(as, MMU_ROOT_LEVEL, &as->root_pa);
    if (st != ZX_OK)
        return st;
    as->root = paddr_to_physmap(as->root_pa);
    as->root_page = paddr_to_vm_page(as->root_pa);
    if (kernel_aspace && !as->is_kernel) {
        for (unsigned i = X86_KERNEL_PML4_FIRST; i < X86_PT_ENTRIES; i++)
            as->root[i] = kernel_aspace->root[i];
    }
    return ZX_OK;
}

/* Frees every pinned top-level table and the root of an aspace with nothing mapped. */
static void aspace_free_tables(struct arch_aspace *as) TA_NO_THREAD_SAFETY_ANALYSIS {
    if (!as->root)
        return; /* creation failed before the root existed */
    for (unsigned i = as->top_first; i <= as->top_last; i++) {
        uint64_t e = as->root[i];
        if (!pte_present(e))
            continue;
        vm_page_t *child = pte_table_page(e);
        ASSERT(child->mmu.pinned && child->mmu.nr_children == 0);
        child->mmu.pinned = 0;
        as->root[i] = 0;
        as->root_page->mmu.nr_children--;
        mmu_table_release(as, NULL, child);
    }
    mmu_table_release(as, NULL, as->root_page);
}

zx_status_t arch_mmu_create(vaddr_t base, size_t size, enum arch_aspace_role role,
                            arch_aspace_t **out) TA_NO_THREAD_SAFETY_ANALYSIS {
    if (role == ARCH_ASPACE_UNIFIED || role > ARCH_ASPACE_UNIFIED || size == 0 ||
        !IS_ALIGNED(base, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE) || !out)
        return ZX_ERR_INVALID_ARGS;
    vaddr_t last = base + size - 1;
    bool user = last >= base && last < USER_HALF_END;
    bool kernel = base >= KERNEL_HALF_BASE && last >= base;
    if (!user && !kernel)
        return ZX_ERR_INVALID_ARGS;
    /* Shared and restricted parts of a process live in the user half; that they never
     * share a top-level slot is checked when a unified aspace joins them. */
    if ((role == ARCH_ASPACE_SHARED || role == ARCH_ASPACE_RESTRICTED) && !user)
        return ZX_ERR_INVALID_ARGS;

    struct arch_aspace *as = aspace_alloc(role, base, size);
    if (!as)
        return ZX_ERR_NO_MEMORY;
    zx_status_t st = aspace_init_root(as);
    if (st == ZX_OK && role == ARCH_ASPACE_SHARED) {
        for (unsigned i = as->top_first; i <= as->top_last && st == ZX_OK; i++) {
            paddr_t pa;
            st = mmu_table_alloc(as, MMU_ROOT_LEVEL - 1, &pa);
            if (st != ZX_OK)
                break;
            mmu_link_child(as, as->root, as->root_page, MMU_ROOT_LEVEL, i, pa);
            paddr_to_vm_page(pa)->mmu.pinned = 1;
        }
    }
    if (st != ZX_OK) {
        aspace_free_tables(as);
        kfree(as);
        return st;
    }
    *out = as;
    return ZX_OK;
}

zx_status_t arch_mmu_create_unified(arch_aspace_t *shared, arch_aspace_t *restricted,
                                    arch_aspace_t **out) TA_NO_THREAD_SAFETY_ANALYSIS {
    if (!shared || !restricted || !out || shared->role != ARCH_ASPACE_SHARED ||
        restricted->role != ARCH_ASPACE_RESTRICTED)
        return ZX_ERR_INVALID_ARGS;
    if (!(restricted->top_last < shared->top_first || shared->top_last < restricted->top_first))
        return ZX_ERR_INVALID_ARGS;
    vaddr_t base = MIN(shared->base, restricted->base);
    vaddr_t last = MAX(shared->last, restricted->last);
    struct arch_aspace *as = aspace_alloc(ARCH_ASPACE_UNIFIED, base, last - base + 1);
    if (!as)
        return ZX_ERR_NO_MEMORY;
    zx_status_t st = aspace_init_root(as);
    if (st != ZX_OK) {
        kfree(as);
        return st;
    }

    spin_lock_saved_state_t s1, s2;
    spin_lock_irqsave(&shared->lock, &s1);
    spin_lock_irqsave(&restricted->lock, &s2);
    if (restricted->unified) {
        spin_unlock_irqrestore(&restricted->lock, s2);
        spin_unlock_irqrestore(&shared->lock, s1);
        mmu_table_release(as, NULL, as->root_page);
        kfree(as);
        return ZX_ERR_BAD_STATE;
    }
    /* Borrow the shared aspace's pinned tables: one more reference each. */
    for (unsigned i = shared->top_first; i <= shared->top_last; i++) {
        uint64_t e = shared->root[i];
        if (pte_present(e)) {
            pte_table_page(e)->mmu.refcount++;
            as->root[i] = e;
        }
    }
    shared->unified_users++;
    /* The restricted aspace's top level is copied now and mirrored from now on. */
    for (unsigned i = restricted->top_first; i <= restricted->top_last; i++)
        as->root[i] = restricted->root[i];
    restricted->unified = as;
    as->shared = shared;
    as->restricted = restricted;
    spin_unlock_irqrestore(&restricted->lock, s2);
    spin_unlock_irqrestore(&shared->lock, s1);
    *out = as;
    return ZX_OK;
}

zx_status_t arch_mmu_destroy(arch_aspace_t *as) TA_NO_THREAD_SAFETY_ANALYSIS {
    if (!as || as == kernel_aspace)
        return ZX_ERR_INVALID_ARGS;
    if (__atomic_load_n(&as->active_cpus, __ATOMIC_ACQUIRE) != 0)
        return ZX_ERR_BAD_STATE;

    if (as->role == ARCH_ASPACE_UNIFIED) {
        struct arch_aspace *shared = as->shared, *restricted = as->restricted;
        spin_lock_saved_state_t s1, s2;
        spin_lock_irqsave(&shared->lock, &s1);
        spin_lock_irqsave(&restricted->lock, &s2);
        for (unsigned i = shared->top_first; i <= shared->top_last; i++) {
            uint64_t e = as->root[i];
            if (pte_present(e)) {
                vm_page_t *p = pte_table_page(e);
                ASSERT(p->mmu.refcount > 1); /* the shared aspace still holds its own */
                p->mmu.refcount--;
            }
        }
        shared->unified_users--;
        restricted->unified = NULL;
        spin_unlock_irqrestore(&restricted->lock, s2);
        spin_unlock_irqrestore(&shared->lock, s1);
        /* Borrowed entries are not ours: only the root goes back. */
        mmu_table_release(as, NULL, as->root_page);
        DEBUG_ASSERT(as->table_pages == 0);
        kfree(as);
        return ZX_OK;
    }

    spin_lock_saved_state_t state;
    spin_lock_irqsave(&as->lock, &state);
    bool busy = as->unified != NULL || as->unified_users != 0;
    size_t pinned_empty = 0;
    for (unsigned i = as->top_first; i <= as->top_last; i++) {
        uint64_t e = as->root[i];
        if (pte_present(e) && pte_table_page(e)->mmu.pinned && pte_table_page(e)->mmu.nr_children == 0)
            pinned_empty++;
    }
    /* Anything still mapped shows up as a present root entry that is not an empty pinned
     * table (tables are freed as soon as they become empty). */
    bool mapped = as->root_page->mmu.nr_children != pinned_empty;
    spin_unlock_irqrestore(&as->lock, state);
    if (busy || mapped)
        return ZX_ERR_BAD_STATE;
    aspace_free_tables(as);
    DEBUG_ASSERT(as->table_pages == 0);
    kfree(as);
    return ZX_OK;
}

size_t arch_mmu_table_pages(const arch_aspace_t *as) TA_NO_THREAD_SAFETY_ANALYSIS {
    return as->table_pages;
}

arch_aspace_t *arch_mmu_kernel_aspace(void) { return kernel_aspace; }

/*
 * Loads new_as (NULL = kernel) on this CPU and moves this CPU's bit in the active masks.
 * A unified aspace's tables belong to its shared and restricted aspaces too, so their
 * masks get the bit as well: an invalidation on either reaches this CPU.
 */
static void set_active(struct arch_aspace *as, bool on) {
    uint32_t bit = mmu_hw_cpu_bit();
    if (!as || as->is_kernel)
        return;
    struct arch_aspace *parts[3] = {as, as->shared, as->restricted};
    for (int i = 0; i < 3; i++) {
        if (!parts[i])
            continue;
        if (on)
            __atomic_fetch_or(&parts[i]->active_cpus, bit, __ATOMIC_ACQ_REL);
        else
            __atomic_fetch_and(&parts[i]->active_cpus, ~bit, __ATOMIC_ACQ_REL);
    }
}

void arch_mmu_context_switch(arch_aspace_t *old_as, arch_aspace_t *new_as) {
    struct arch_aspace *target = new_as ? new_as : kernel_aspace;
    set_active(old_as, false);
    set_active(new_as, true);
    if (target)
        mmu_hw_load_root(target->root_pa);
}

#ifndef BERYL_HOST
/* ---- adopting the boot tables as the kernel aspace ---- */

#include <arch/x86/arch.h>

#define PAT_WB 0x06ull
#define PAT_WC 0x01ull
#define PAT_UC_MINUS 0x07ull
#define PAT_UC 0x00ull
/* Entries 0..3 (selected by PWT/PCD with PAT=0) = WB, WC, UC-, UC; 4..7 repeat them. */
#define PAT_VALUE                                                                      \
    (PAT_WB | (PAT_WC << 8) | (PAT_UC_MINUS << 16) | (PAT_UC << 24) | (PAT_WB << 32) | \
     (PAT_WC << 40) | (PAT_UC_MINUS << 48) | (PAT_UC << 56))

/* Marks a boot-built table (and, below the root, its subtree) as a pinned MMU page. */
static size_t adopt_table(paddr_t pa, unsigned level) {
    vm_page_t *p = paddr_to_vm_page(pa);
    ASSERT(p && p->state == VM_PAGE_STATE_WIRED);
    const uint64_t *t = paddr_to_physmap(pa);
    size_t tables = 1;
    uint16_t children = 0;
    for (unsigned i = 0; i < X86_PT_ENTRIES; i++) {
        if (!pte_present(t[i]))
            continue;
        children++;
        if (level > 0 && !pte_large(t[i]))
            tables += adopt_table(t[i] & X86_PTE_ADDR_MASK, level - 1);
    }
    p->state = VM_PAGE_STATE_MMU;
    p->mmu.level = (uint8_t)level;
    p->mmu.pinned = 1;
    p->mmu.nr_children = children;
    p->mmu.refcount = 1;
    spin_lock_init(&p->mmu.lock);
    return tables;
}

void arch_mmu_init(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    if (x86_features.pat)
        x86_wrmsr(X86_MSR_PAT, PAT_VALUE);
    struct arch_aspace *as = aspace_alloc(ARCH_ASPACE_INDEPENDENT, KERNEL_HALF_BASE,
                                          (size_t)(0 - KERNEL_HALF_BASE));
    ASSERT(as);
    as->root_pa = x86_kernel_pml4_phys();
    as->root = paddr_to_physmap(as->root_pa);
    as->root_page = paddr_to_vm_page(as->root_pa);
    as->table_pages = adopt_table(as->root_pa, MMU_ROOT_LEVEL);
    kernel_aspace = as;
}
#endif
