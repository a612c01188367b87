/*
 * The arch-neutral MMU interface: everything generic VM code (kernel/vm) may ask of the
 * page-table engine. Implemented for x86-64 in kernel/arch/x86/mmu/.
 *
 * Terms
 *   aspace   one set of page tables with a root, a virtual range and a role.
 *   count    a number of 4 KiB pages; vaddr arguments must be 4 KiB aligned.
 *
 * Roles (Zircon's unified address spaces)
 *   INDEPENDENT  an ordinary address space (a process, or the kernel's).
 *   SHARED       the shared part of several processes. Its top-level tables for its whole
 *                range are allocated at init, pinned, and never freed while it lives, so
 *                unified aspaces can point at them once and for all.
 *   RESTRICTED   the private part of one process; top-level changes are mirrored into
 *                the unified aspace built on it.
 *   UNIFIED      a root whose lower entries are the restricted aspace's and whose upper
 *                entries are the shared aspace's. It is only ever loaded and queried:
 *                map/unmap/protect/harvest on it return ZX_ERR_NOT_SUPPORTED.
 *
 * Range errors, the same for every call that takes (vaddr, count):
 *   vaddr not 4 KiB aligned, count 0, or vaddr non-canonical    ZX_ERR_INVALID_ARGS
 *   [vaddr, vaddr + count pages) not inside the aspace's range,
 *   or the end overflows                                         ZX_ERR_OUT_OF_RANGE
 *
 * Locking: each aspace has a lock taken by every call; calls on different aspaces run
 * in parallel. Calls may be made with interrupts enabled or disabled; they never block.
 * TLB invalidation is complete when a call returns, and page-table pages are returned
 * to the PMM only after it. (arch_aspace_t is opaque here, so the calls' clang lock
 * annotations are on their redeclarations in kernel/arch/x86/mmu/mmu_priv.h.)
 */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arch/irq.h>
#include <kernel/types.h>

typedef struct arch_aspace arch_aspace_t;

enum arch_aspace_role {
    ARCH_ASPACE_INDEPENDENT,
    ARCH_ASPACE_SHARED,
    ARCH_ASPACE_RESTRICTED,
    ARCH_ASPACE_UNIFIED,
};

/* Mapping flags. A mapping is always readable: READ is required by map. */
#define ARCH_MMU_FLAG_PERM_READ (1u << 0)
#define ARCH_MMU_FLAG_PERM_WRITE (1u << 1)
#define ARCH_MMU_FLAG_PERM_EXECUTE (1u << 2)
#define ARCH_MMU_FLAG_PERM_USER (1u << 3)
#define ARCH_MMU_FLAG_CACHED (0u << 4)
#define ARCH_MMU_FLAG_UNCACHED (1u << 4)          /* UC- */
#define ARCH_MMU_FLAG_UNCACHED_DEVICE (2u << 4)   /* UC */
#define ARCH_MMU_FLAG_WRITE_COMBINING (3u << 4)   /* WC */
#define ARCH_MMU_FLAG_CACHE_MASK (3u << 4)
#define ARCH_MMU_FLAG_PERM_MASK \
    (ARCH_MMU_FLAG_PERM_READ | ARCH_MMU_FLAG_PERM_WRITE | ARCH_MMU_FLAG_PERM_EXECUTE | \
     ARCH_MMU_FLAG_PERM_USER)
#define ARCH_MMU_FLAG_VALID_MASK (ARCH_MMU_FLAG_PERM_MASK | ARCH_MMU_FLAG_CACHE_MASK)

/* What map does when a page in the range is already mapped. */
enum arch_existing_action {
    ARCH_EXISTING_ERROR,   /* fail with ZX_ERR_ALREADY_EXISTS, nothing changed */
    ARCH_EXISTING_SKIP,    /* leave the existing mapping alone */
    ARCH_EXISTING_UPGRADE, /* replace it with the new address and flags */
};

/* What unmap does when it must split a large page and has no memory for the table. */
enum arch_unmap_enlarge {
    ARCH_UNMAP_ENLARGE_NO,  /* fail with ZX_ERR_NO_MEMORY */
    ARCH_UNMAP_ENLARGE_YES, /* unmap the whole large page instead (more than asked) */
};

/* What harvest does with page tables that were not accessed since the last harvest. */
enum arch_harvest_action {
    ARCH_HARVEST_RETAIN,          /* only clear accessed bits and report */
    ARCH_HARVEST_FREE_UNACCESSED, /* also unmap and free unaccessed last-level tables */
};

/*
 * Creates an aspace covering [base, base + size) in the given role (not UNIFIED; use
 * arch_mmu_create_unified). base and size must be 4 KiB aligned, size > 0, and the range
 * must lie inside one half of the canonical address space (user: PML4 slots 0..255,
 * kernel: 256..511); SHARED and RESTRICTED aspaces must be in the user half. (That a
 * shared and a restricted range never share a top-level entry is checked when a unified
 * aspace joins them: Zircon's own split leaves a page below each range's first slot
 * outside it, so a stricter rule at creation would reject the real layout.) User aspaces
 * get the kernel's top-level entries.
 * Errors: ZX_ERR_INVALID_ARGS (bad range/role), ZX_ERR_NO_MEMORY (nothing allocated).
 */
zx_status_t arch_mmu_create(vaddr_t base, size_t size, enum arch_aspace_role role,
                            arch_aspace_t **out);

/*
 * Creates the unified aspace of one shared and one restricted aspace. Their ranges must
 * not share a top-level entry (ZX_ERR_INVALID_ARGS), and a restricted aspace can back one
 * unified aspace at a time (ZX_ERR_BAD_STATE). ZX_ERR_NO_MEMORY leaves nothing behind.
 */
zx_status_t arch_mmu_create_unified(arch_aspace_t *shared, arch_aspace_t *restricted,
                                    arch_aspace_t **out);

/*
 * Destroys an aspace and frees its root and pinned tables. The aspace must not be loaded
 * on any CPU, and (except UNIFIED) must have nothing mapped: ZX_ERR_BAD_STATE otherwise,
 * and also for a SHARED or RESTRICTED aspace still used by a unified aspace (destroy the
 * unified one first). A unified aspace only releases what it borrowed.
 */
zx_status_t arch_mmu_destroy(arch_aspace_t *as);

/* The kernel's own aspace (the tables built at boot), available after arch_mmu_init(). */
arch_aspace_t *arch_mmu_kernel_aspace(void);

/* Adopts the boot page tables as the kernel aspace and programs the PAT. Boot CPU only. */
void arch_mmu_init(void);

/* Loads `as` (NULL = the kernel aspace) on this CPU. */
void arch_mmu_context_switch(arch_aspace_t *old_as, arch_aspace_t *new_as);

/* The CPUs on which `as` may be loaded (its active mask; never the kernel aspace's). */
arch_cpu_set_t arch_mmu_active_cpus(arch_aspace_t *as);

/*
 * Maps count 4 KiB pages: page i at vaddr + i*4K -> phys[i] (each 4 KiB aligned), with
 * 4 KiB entries only. `existing` says what to do with pages already mapped. *mapped (if
 * non-NULL) receives the number of pages whose entry now holds the new mapping (skipped
 * pages are not counted).
 * Errors: range errors; ZX_ERR_INVALID_ARGS for flags without READ or with unknown bits,
 * PERM_USER in a kernel-half aspace, or an unaligned phys[i]; ZX_ERR_ALREADY_EXISTS (ERROR policy); ZX_ERR_NO_MEMORY.
 * On any error the aspace is exactly as before (*mapped = 0), except that a large page
 * split to apply an UPGRADE may remain split (same translations, more table pages).
 */
zx_status_t arch_mmu_map(arch_aspace_t *as, vaddr_t vaddr, const paddr_t *phys, size_t count,
                         uint32_t flags, enum arch_existing_action existing, size_t *mapped);

/*
 * Maps count pages of the physically contiguous run at paddr, using 1 GiB pages (when
 * the CPU has them) and 2 MiB pages wherever vaddr and paddr are both aligned and enough
 * of the run remains. Any existing mapping in the range is an error. Errors and rollback
 * as for arch_mmu_map with ERROR.
 */
zx_status_t arch_mmu_map_contiguous(arch_aspace_t *as, vaddr_t vaddr, paddr_t paddr,
                                    size_t count, uint32_t flags, size_t *mapped);

/*
 * Unmaps every page in the range (holes are fine). Tables that become empty are freed.
 * A large page only partly inside the range is split first. *unmapped (if non-NULL)
 * receives the number of 4 KiB pages that stopped being mapped.
 * ZX_ERR_NO_MEMORY (split impossible, enlarge NO): pages before the large page are
 * unmapped (*unmapped says how many), the large page and everything after are untouched.
 * With enlarge YES a split failure unmaps the whole large page and the call succeeds.
 * Unmap and protect work in batches of a few last-level tables per hold of the aspace
 * lock (interrupts are off while it is held and the range may be huge): each entry
 * changes atomically, but another engine call on the same aspace may run between two
 * batches. Callers that need the whole range changed atomically serialise themselves
 * (the VM holds its aspace lock).
 */
zx_status_t arch_mmu_unmap(arch_aspace_t *as, vaddr_t vaddr, size_t count,
                           enum arch_unmap_enlarge enlarge, size_t *unmapped);

/*
 * Changes the flags of every mapped page in the range (holes are skipped). Flags without
 * READ unmap the range (x86 cannot express a present, unreadable page). Large pages only
 * partly inside the range are split. ZX_ERR_NO_MEMORY (split impossible): the pages
 * before that large page have the new flags, the rest keep the old ones.
 */
zx_status_t arch_mmu_protect(arch_aspace_t *as, vaddr_t vaddr, size_t count, uint32_t flags);

/*
 * Looks up vaddr (any alignment). Returns ZX_ERR_OUT_OF_RANGE if vaddr is outside the
 * aspace (non-canonical addresses included), ZX_ERR_NOT_FOUND if it is not mapped; otherwise *paddr = the physical address of vaddr's byte, *flags = ARCH_MMU
 * flags, *page_size = size of the mapping entry (4 KiB, 2 MiB or 1 GiB). Outs may be NULL.
 */
zx_status_t arch_mmu_query(arch_aspace_t *as, vaddr_t vaddr, paddr_t *paddr, uint32_t *flags,
                           size_t *page_size);

/*
 * For every mapped page in the range whose accessed bit is set: clears it and calls
 * accessed(ctx, vaddr, paddr) (cb may be NULL; for a large page, vaddr and paddr are the
 * large page's base, which may lie below the range). The callback runs with the aspace
 * lock held and must not call back into the MMU. With FREE_UNACCESSED, a last-level table
 * inside the range whose own accessed bit is clear (no access since the last harvest) is
 * unmapped and freed; tables that were accessed get their accessed bit cleared.
 * *freed_tables (if non-NULL) counts the tables freed.
 */
typedef void (*arch_harvest_cb)(void *ctx, vaddr_t vaddr, paddr_t paddr);
zx_status_t arch_mmu_harvest_accessed(arch_aspace_t *as, vaddr_t vaddr, size_t count,
                                      enum arch_harvest_action action, arch_harvest_cb cb,
                                      void *ctx, size_t *freed_tables);

/* Page-table pages this aspace owns, root included (a unified aspace owns only its root). */
size_t arch_mmu_table_pages(arch_aspace_t *as);

/*
 * Prints every present entry of the tables covering [vaddr, vaddr + size) (size 0 = the
 * whole aspace) in the stable format documented in docs/architecture.md ("Dump format"):
 * runs of leaves that map physically contiguous memory with the same attributes share
 * one line, and each table line names the aspace owning the table (a unified aspace's
 * are its parts'). The aspace lock is held only in short batches, never while printing,
 * so the caller may hold any lock that may be held while printing; the tables may change
 * between batches.
 */
void arch_mmu_dump(arch_aspace_t *as, vaddr_t vaddr, size_t size);

/*
 * Prints the leaf entries in [vaddr, vaddr + size) (size 0 = the whole aspace) as merged
 * runs, one line each, and a "not populated" line for each stretch without translations,
 * every line indented by `indent` spaces (the VM dump's per-mapping view; format in
 * docs/architecture.md). Locking as arch_mmu_dump. If note is not NULL, each "not
 * populated" line calls note(ctx, first, last) for its stretch just before closing its
 * parenthesis, with no MMU lock held, so the caller can print more about it (the VM dump
 * adds how many of those pages are committed).
 */
typedef void (*arch_mmu_gap_note_fn)(void *ctx, vaddr_t first, vaddr_t last);
void arch_mmu_dump_leaves(arch_aspace_t *as, vaddr_t vaddr, size_t size, unsigned indent,
                          arch_mmu_gap_note_fn note, void *ctx);

/* Prints the walk for one address, one line per level. */
void arch_mmu_dump_walk(arch_aspace_t *as, vaddr_t vaddr);

#endif
