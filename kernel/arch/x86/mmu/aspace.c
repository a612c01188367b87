/*
 * Address spaces: creation and destruction in each role, unified aspaces borrowing their
 * parts' tables, the range checks every call starts with, context switch, and adopting
 * the boot page tables as the kernel aspace (with the PAT).
 *
 * Creation and destruction work on an aspace no other CPU can reach (not yet returned to
 * the caller, or past the caller's last use), so they do not take its lock. Clang cannot
 * express "unreachable": the few helpers that touch such an aspace's tables carry
 * TA_NO_THREAD_SAFETY_ANALYSIS, each with this reason.
 */
#include <kernel/compiler.h>
#include <lib/string.h>
#include <phys/heap.h>

#include "mmu_priv.h"

#ifdef BERYL_HOST
struct mmu_hw_host mmu_hw_host = {.page1g = true, .nx = true, .phys_bits = 52};

/* Contract in mmu_priv.h. `as` is new: nothing is mapped and no CPU runs it yet. */
void mmu_host_set_kernel_aspace(arch_aspace_t *as) TA_NO_THREAD_SAFETY_ANALYSIS {
    ASSERT(as->is_kernel && as->role == ARCH_ASPACE_INDEPENDENT);
    as->leaf_global = X86_PTE_G;
}
#endif

#define PML4_SLOT_SIZE LEVEL_SIZE(MMU_ROOT_LEVEL)

static struct arch_aspace *kernel_aspace;

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

/* ---- lifecycle ---- */

/* The lock class of an aspace's lock: a unified aspace takes its shared part's lock and
 * then its restricted part's, so each role has its own place in the lock order. */
static lock_class_t aspace_lock_class(enum arch_aspace_role role) {
    switch (role) {
    case ARCH_ASPACE_SHARED:
        return LOCK_CLASS_MMU_SHARED;
    case ARCH_ASPACE_RESTRICTED:
        return LOCK_CLASS_MMU_RESTRICTED;
    case ARCH_ASPACE_UNIFIED:
        return LOCK_CLASS_MMU_UNIFIED;
    default:
        return LOCK_CLASS_MMU;
    }
}

static struct arch_aspace *aspace_alloc(enum arch_aspace_role role, vaddr_t base, size_t size) {
    struct arch_aspace *as = kzalloc(sizeof(*as));
    if (!as)
        return NULL;
    spin_lock_init_class(&as->lock, aspace_lock_class(role));
    as->role = role;
    as->base = base;
    as->last = base + size - 1;
    as->top_first = (unsigned)VIDX(as->base, MMU_ROOT_LEVEL);
    as->top_last = (unsigned)VIDX(as->last, MMU_ROOT_LEVEL);
    as->is_kernel = base >= KERNEL_HALF_BASE;
    as->table_flags = X86_PTE_P | X86_PTE_W | (as->is_kernel ? 0 : X86_PTE_U);
    /* Only the kernel aspace (arch_mmu_init) has global leaves: any other aspace, even
     * one in the kernel half, is live only where it is loaded, and a global entry would
     * outlive the CR3 load that leaves it. */
    as->leaf_global = 0;
    return as;
}

/* Allocates the root and copies the kernel's top-level entries into a user root.
 * `as` is unreachable (see the top of this file). */
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

/*
 * Frees an aspace with nothing mapped: its pinned top-level tables (only a SHARED aspace
 * has them; a unified aspace's entries are borrowed and already given back, and any other
 * aspace with nothing mapped has no top-level entry at all), its root if it got one, and
 * the structure. `as` is unreachable.
 */
static void aspace_free(struct arch_aspace *as) TA_NO_THREAD_SAFETY_ANALYSIS {
    DEBUG_ASSERT(!as->root || as->role == ARCH_ASPACE_SHARED ||
                 as->role == ARCH_ASPACE_UNIFIED || as->root_page->mmu.nr_children == 0);
    if (as->root && as->role == ARCH_ASPACE_SHARED)
        mmu_unpin_top_tables(as);
    if (as->root)
        mmu_table_release(as, NULL, as->root_page);
    DEBUG_ASSERT(as->table_pages == 0);
    kfree(as);
}

zx_status_t arch_mmu_create(vaddr_t base, size_t size, enum arch_aspace_role role,
                            arch_aspace_t **out) {
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
    if (st == ZX_OK && role == ARCH_ASPACE_SHARED)
        st = mmu_pin_top_tables(as);
    if (st != ZX_OK) {
        aspace_free(as);
        return st;
    }
    *out = as;
    return ZX_OK;
}

zx_status_t arch_mmu_create_unified(arch_aspace_t *shared, arch_aspace_t *restricted,
                                    arch_aspace_t **out) {
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
        aspace_free(as);
        return st;
    }

    spin_lock_saved_state_t s1, s2;
    spin_lock_irqsave(&shared->lock, &s1);
    spin_lock_irqsave(&restricted->lock, &s2);
    if (restricted->unified) {
        spin_unlock_irqrestore(&restricted->lock, s2);
        spin_unlock_irqrestore(&shared->lock, s1);
        aspace_free(as);
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

zx_status_t arch_mmu_destroy(arch_aspace_t *as) {
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
        aspace_free(as);
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
    aspace_free(as);
    return ZX_OK;
}

size_t arch_mmu_table_pages(arch_aspace_t *as) {
    spin_lock_saved_state_t state;
    spin_lock_irqsave(&as->lock, &state);
    size_t n = as->table_pages;
    spin_unlock_irqrestore(&as->lock, state);
    return n;
}

arch_aspace_t *arch_mmu_kernel_aspace(void) { return kernel_aspace; }

arch_cpu_set_t arch_mmu_active_cpus(arch_aspace_t *as) {
    return __atomic_load_n(&as->active_cpus, __ATOMIC_ACQUIRE);
}

/* The aspaces whose active masks must hold a CPU that runs `as` (NULL = kernel): a
 * unified aspace's tables belong to its shared and restricted aspaces too, so an
 * invalidation on either must reach that CPU. Returns how many (0 for the kernel
 * aspace, whose changes go to every CPU). */
static unsigned tracked_parts(struct arch_aspace *as, struct arch_aspace *parts[3]) {
    unsigned n = 0;
    if (!as || as->leaf_global)
        return 0;
    parts[n++] = as;
    if (as->shared)
        parts[n++] = as->shared;
    if (as->restricted)
        parts[n++] = as->restricted;
    return n;
}

static bool part_of(struct arch_aspace *as, struct arch_aspace *const parts[], unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        if (parts[i] == as)
            return true;
    }
    return false;
}

/*
 * Loads new_as (NULL = kernel) on this CPU and moves this CPU's bit in the active masks.
 * The order is what keeps a shootdown from missing this CPU: the bit goes into new_as's
 * masks before the root is loaded (the locked OR is a full barrier, so a change to
 * new_as either is seen by the walk or sees the bit: mmu_cm_finish), and leaves old_as's
 * masks only after, since until the load this CPU may still walk old_as's tables. An
 * aspace in both (a unified aspace and its restricted part) keeps the bit.
 */
void arch_mmu_context_switch(arch_aspace_t *old_as, arch_aspace_t *new_as) {
    struct arch_aspace *target = new_as ? new_as : kernel_aspace;
    struct arch_aspace *old_parts[3], *new_parts[3];
    unsigned nold = tracked_parts(old_as, old_parts);
    unsigned nnew = tracked_parts(new_as, new_parts);
    arch_cpu_set_t bit = mmu_hw_cpu_bit();
    for (unsigned i = 0; i < nnew; i++)
        __atomic_fetch_or(&new_parts[i]->active_cpus, bit, __ATOMIC_ACQ_REL);
    if (target)
        mmu_hw_load_root(target->root_pa);
    for (unsigned i = 0; i < nold; i++) {
        if (!part_of(old_parts[i], new_parts, nnew))
            __atomic_fetch_and(&old_parts[i]->active_cpus, ~bit, __ATOMIC_ACQ_REL);
    }
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

void arch_mmu_init(void) {
    if (x86_features.pat)
        x86_wrmsr(X86_MSR_PAT, PAT_VALUE);
    struct arch_aspace *as = aspace_alloc(ARCH_ASPACE_INDEPENDENT, KERNEL_HALF_BASE,
                                          (size_t)(0 - KERNEL_HALF_BASE));
    ASSERT(as);
    as->root_pa = x86_kernel_pml4_phys();
    as->root = paddr_to_physmap(as->root_pa);
    as->root_page = paddr_to_vm_page(as->root_pa);
    as->table_pages = adopt_table(as->root_pa, MMU_ROOT_LEVEL);
    as->leaf_global = X86_PTE_G;
    kernel_aspace = as;
}
#endif
