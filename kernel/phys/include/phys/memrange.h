/*
 * Sets of physical address ranges (pure C; host-tested). Used at boot to turn the
 * firmware memory map into free page ranges: add every usable region, subtract what is
 * in use (first MiB, kernel image, modules, boot allocations), then trim to pages.
 *
 * A range_set keeps its ranges sorted by base, non-overlapping and non-adjacent (adjacent
 * ranges are merged). Storage is caller-provided: `cap` entries at `r`.
 * Ranges are half-open [base, base + size); a region whose end would overflow 2^64 is
 * clamped to end at 2^64 - 1 (exclusive end UINT64_MAX).
 */
#ifndef PHYS_MEMRANGE_H
#define PHYS_MEMRANGE_H

#include <stddef.h>
#include <stdint.h>
#include <zircon/types.h>

struct mem_range {
    uint64_t base;
    uint64_t size;
};

struct range_set {
    struct mem_range *r;
    size_t count;
    size_t cap;
};

void range_set_init(struct range_set *set, struct mem_range *storage, size_t cap);

/* Adds [base, base+size), merging overlaps. size 0 is a no-op. ZX_ERR_NO_RESOURCES if full
 * (the set is unchanged then). */
zx_status_t range_set_add(struct range_set *set, uint64_t base, uint64_t size);

/* Removes [base, base+size) from every range. May split one range in two:
 * ZX_ERR_NO_RESOURCES if that needs more than cap entries (the set is unchanged then). */
zx_status_t range_set_subtract(struct range_set *set, uint64_t base, uint64_t size);

/* Shrinks every range inward to `align` (a power of two) boundaries; drops empty ones. */
void range_set_trim_to_alignment(struct range_set *set, uint64_t align);

/* Total bytes in the set. */
uint64_t range_set_total(const struct range_set *set);

/* Exclusive end of the highest range, 0 for an empty set. */
uint64_t range_set_end(const struct range_set *set);

/*
 * Takes `size` bytes aligned to `align` from the lowest range that can supply them
 * entirely below `limit` (exclusive), removing them from the set. Returns ZX_ERR_NO_MEMORY
 * if no range can, ZX_ERR_INVALID_ARGS for size 0 or an align that is not a power of two,
 * and ZX_ERR_NO_RESOURCES if taking from the middle of a range would need a split the
 * full set cannot hold; the set is unchanged on any error. Used by the boot allocator
 * before the PMM exists.
 */
zx_status_t range_set_take(struct range_set *set, uint64_t size, uint64_t align, uint64_t limit,
                           uint64_t *out_base);

#endif
