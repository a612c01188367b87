/*
 * Physical memory manager: hands out single pages and physically contiguous runs.
 *
 * Locking: one spinlock (irqsave) protects the free list and counters; zeroing happens
 * outside it. All calls are safe from any context that may take a spinlock.
 *
 * Fault injection (for testing every out-of-memory path): pmm_fault_inject_every(N) makes
 * every Nth allocation call fail with ZX_ERR_NO_MEMORY; pmm_fault_inject_random(seed, p)
 * fails each call with probability p/1000 from a deterministic generator. Calls made with
 * PMM_ALLOC_FLAG_NO_INJECT are never failed on purpose (for boot-critical allocations).
 */
#ifndef PHYS_PMM_H
#define PHYS_PMM_H

#include <stddef.h>
#include <stdint.h>
#include <kernel/types.h>
#include <phys/memrange.h>
#include <phys/vm_page.h>

#define PMM_ALLOC_FLAG_ZERO (1u << 0)      /* zero the page(s) before returning */
#define PMM_ALLOC_FLAG_NO_INJECT (1u << 1) /* exempt from fault injection */

/*
 * Sets up the vm_page array (`count` records at `array`, covering frames [0, count)) and
 * puts every page inside `free_ranges` (page-aligned) on the free list. Every other frame
 * below `count` is marked WIRED if covered by `wired_ranges` (may be NULL) and ABSENT
 * otherwise; a frame in both sets is FREE. Ranges beyond the array are clipped. Returns
 * ZX_ERR_INVALID_ARGS, changing nothing, for an unaligned range in either set.
 * Resets all PMM state (fault injection included): call it again only when no page from
 * an earlier pmm_init is still in use (host tests do this between tests).
 */
zx_status_t pmm_init(vm_page_t *array, size_t count, const struct range_set *free_ranges,
                     const struct range_set *wired_ranges);

/*
 * Allocates one page in state ALLOC. Either out pointer may be NULL.
 * Returns ZX_ERR_NO_MEMORY if none is free (or a failure is injected); outs untouched then.
 */
zx_status_t pmm_alloc_page(uint32_t flags, vm_page_t **out_page, paddr_t *out_pa);

/*
 * Allocates `count` (> 0) physically contiguous pages whose first address is aligned to
 * 2^align_log2 bytes (align_log2 < PAGE_SHIFT means page alignment). All pages are in state
 * ALLOC. ZX_ERR_INVALID_ARGS for count 0 or align_log2 > 40; ZX_ERR_NO_MEMORY if no run.
 */
zx_status_t pmm_alloc_contiguous(size_t count, uint32_t flags, uint8_t align_log2,
                                 paddr_t *out_pa);

/*
 * Returns a page (any state but FREE/ABSENT/WIRED) to the free list. Panics on a double
 * free, and if the page's `node` is still linked on some owner's list (owners must
 * list_delete() it first).
 */
void pmm_free_page(vm_page_t *page);

/* Frees `count` pages starting at pa (each as pmm_free_page). */
void pmm_free_contiguous(paddr_t pa, size_t count);

size_t pmm_count_free_pages(void);
size_t pmm_count_total_pages(void); /* pages the PMM manages (free + allocated) */

/* Counts the managed pages by vm_page state (counts[VM_PAGE_STATE_*]); a lock-free scan of the
 * whole vm_page array, for statistics (ZX_INFO_KMEM_STATS), not for hot paths. */
void pmm_count_by_state(size_t counts[VM_PAGE_STATE_COUNT]);

void pmm_fault_inject_every(uint32_t n); /* 0 disables */
void pmm_fault_inject_random(uint64_t seed, uint32_t permille); /* permille 0 disables */
uint64_t pmm_fault_injected_count(void);

#endif
