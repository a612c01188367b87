/*
 * The few hardware operations the page-table engine needs, behind one header so the
 * engine compiles unchanged for host tests (BERYL_HOST), where they are counters that
 * tests can inspect and feature switches that tests can set.
 */
#ifndef ARCH_X86_MMU_HW_H
#define ARCH_X86_MMU_HW_H

#include <stdbool.h>
#include <stdint.h>
#include <arch/irq.h>
#include <kernel/types.h>

struct arch_aspace;

/* The address bits of an entry for a CPU with `bits` physical address bits (at most 52,
 * what an entry can hold). */
static inline uint64_t mmu_hw_paddr_mask_for(unsigned bits) {
    if (bits > 52)
        bits = 52;
    return ((1ull << bits) - 1) & ~(uint64_t)PAGE_MASK;
}

#ifdef BERYL_HOST

/*
 * Simulated CPUs (the TLB model of the host tests, tests/host/tlb_model.h): when a test
 * installs one, every hardware operation below also goes to it, the CPU bits are those
 * of the simulated CPU the engine runs on, and an invalidation sent to other CPUs runs on
 * each simulated CPU it names. table_unlinked tells it which table page an operation just
 * took out of an aspace's tree (no hardware operation, but the model needs the moment).
 */
struct mmu_hw_sim {
    void (*invlpg)(vaddr_t va);
    void (*flush_all)(bool include_global);
    void (*load_root)(paddr_t root);
    arch_cpu_set_t (*cpu_bit)(void);
    arch_cpu_set_t (*cpus_running)(void);
    void (*ipi_call)(arch_cpu_set_t cpus, arch_ipi_fn_t fn, void *arg);
    void (*table_unlinked)(struct arch_aspace *as, paddr_t table);
};

struct mmu_hw_host {
    bool page1g;         /* CPU offers 1 GiB pages (tests switch it) */
    bool nx;             /* CPU offers NX */
    unsigned phys_bits;  /* CPU's physical address width (tests switch it) */
    uint64_t invlpg;     /* single-page invalidations issued */
    uint64_t full_flush; /* full TLB flushes issued (non-global) */
    uint64_t global_flush; /* full flushes including global entries */
    uint64_t cr3_loads;
    uint64_t current_root; /* what "CR3" holds (on the CPU the engine runs on) */
    const struct mmu_hw_sim *sim; /* simulated CPUs, or NULL: one CPU, counters only */
    void (*on_load_root)(paddr_t root); /* optional: called at each "CR3" load */
    /* Optional: plays another CPU's page walker (setting Accessed or Dirty) in the
     * window between the engine's read of an entry it keeps and its write. */
    void (*walker_race)(uint64_t *entry);
};
extern struct mmu_hw_host mmu_hw_host;

static inline bool mmu_hw_page1g(void) { return mmu_hw_host.page1g; }
static inline bool mmu_hw_nx(void) { return mmu_hw_host.nx; }
static inline uint64_t mmu_hw_paddr_mask(void) {
    return mmu_hw_paddr_mask_for(mmu_hw_host.phys_bits);
}
static inline void mmu_hw_invlpg(vaddr_t va) {
    mmu_hw_host.invlpg++;
    if (mmu_hw_host.sim)
        mmu_hw_host.sim->invlpg(va);
}
static inline void mmu_hw_flush_all(bool include_global) {
    if (include_global)
        mmu_hw_host.global_flush++;
    else
        mmu_hw_host.full_flush++;
    if (mmu_hw_host.sim)
        mmu_hw_host.sim->flush_all(include_global);
}
static inline void mmu_hw_load_root(paddr_t root) {
    mmu_hw_host.cr3_loads++;
    mmu_hw_host.current_root = root;
    if (mmu_hw_host.sim)
        mmu_hw_host.sim->load_root(root);
    if (mmu_hw_host.on_load_root)
        mmu_hw_host.on_load_root(root);
}
static inline void mmu_hw_walker_window(uint64_t *entry) {
    if (mmu_hw_host.walker_race)
        mmu_hw_host.walker_race(entry);
}
static inline arch_cpu_set_t mmu_hw_cpu_bit(void) {
    return mmu_hw_host.sim ? mmu_hw_host.sim->cpu_bit() : 1u;
}
static inline arch_cpu_set_t mmu_hw_cpus_running(void) {
    return mmu_hw_host.sim ? mmu_hw_host.sim->cpus_running() : 1u;
}
static inline void mmu_hw_ipi_call(arch_cpu_set_t cpus, arch_ipi_fn_t fn, void *arg) {
    if (mmu_hw_host.sim)
        mmu_hw_host.sim->ipi_call(cpus, fn, arg);
    else
        arch_ipi_call(cpus, fn, arg);
}
static inline void mmu_hw_table_unlinked(struct arch_aspace *as, paddr_t table) {
    if (mmu_hw_host.sim)
        mmu_hw_host.sim->table_unlinked(as, table);
}

#else

#include <arch/x86/arch.h>
#include <arch/x86/cpu.h>

static inline bool mmu_hw_page1g(void) { return x86_features.page1g; }
static inline bool mmu_hw_nx(void) { return x86_features.nx; }
/* Physical addresses beyond the CPU's width are reserved bits in an entry (a #PF with
 * RSVD set on use), so the engine refuses them. */
static inline uint64_t mmu_hw_paddr_mask(void) {
    return mmu_hw_paddr_mask_for(x86_features.phys_addr_bits);
}
static inline void mmu_hw_invlpg(vaddr_t va) { x86_invlpg(va); }
/* Reloading CR3 drops non-global entries; toggling CR4.PGE drops global ones too. */
static inline void mmu_hw_flush_all(bool include_global) {
    uint64_t cr4 = x86_get_cr4();
    if (include_global && (cr4 & X86_CR4_PGE)) {
        x86_set_cr4(cr4 & ~X86_CR4_PGE);
        x86_set_cr4(cr4);
    } else {
        x86_set_cr3(x86_get_cr3());
    }
}
static inline void mmu_hw_load_root(paddr_t root) { x86_set_cr3(root); }
/* Where another CPU's walker may set Accessed or Dirty: anywhere, so nothing to do. */
static inline void mmu_hw_walker_window(uint64_t *entry) { (void)entry; }
static inline arch_cpu_set_t mmu_hw_cpu_bit(void) { return ARCH_CPU_SET_BIT(arch_curr_cpu_num()); }
/* Every CPU that may hold kernel translations. */
static inline arch_cpu_set_t mmu_hw_cpus_running(void) { return arch_cpus_running(); }
static inline void mmu_hw_ipi_call(arch_cpu_set_t cpus, arch_ipi_fn_t fn, void *arg) {
    arch_ipi_call(cpus, fn, arg);
}
/* Only the host tests' TLB model wants to know. */
static inline void mmu_hw_table_unlinked(struct arch_aspace *as, paddr_t table) {
    (void)as;
    (void)table;
}

#endif

#endif
