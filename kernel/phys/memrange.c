/*
 * Sets of physical address ranges, used at boot before the PMM exists.
 *
 * Representation: set->r[0 .. count) sorted by base, every range non-empty, and a gap of
 * at least one byte between consecutive ranges (adjacent ranges are merged). Because of
 * that invariant, the ranges touching any interval form one contiguous run of indices,
 * which is what add and subtract rely on.
 *
 * Overflow: an end address is kept as an exclusive uint64_t, so the largest end that can
 * be represented is UINT64_MAX and the byte at 2^64 - 1 can never be in a set. Inputs
 * whose end would pass that are clamped (see clamped_end); every stored range therefore
 * satisfies base + size <= UINT64_MAX and range_end() cannot wrap.
 *
 * Failure atomicity: every operation that can fail (add, subtract, take) decides whether
 * it will succeed before changing anything, so a failed call leaves the set untouched.
 *
 * Decisions beyond the header: take() returns ZX_ERR_INVALID_ARGS for size 0 or an align
 * that is not a power of two, and ZX_ERR_NO_RESOURCES (set unchanged) if carving the
 * block out of the middle of a range would need a slot the set does not have.
 * trim_to_alignment() asserts (debug builds) that align is a power of two.
 */
#include <phys/memrange.h>

#include <kernel/assert.h>
#include <lib/string.h>
#include <stdbool.h>

/* Exclusive end of a stored range; cannot overflow (see the file comment). */
static uint64_t range_end(const struct mem_range *m) {
    return m->base + m->size;
}

/* Exclusive end of [base, base + size), clamped to UINT64_MAX instead of wrapping. */
static uint64_t clamped_end(uint64_t base, uint64_t size) {
    if (size > UINT64_MAX - base)
        return UINT64_MAX;
    return base + size;
}

static bool is_power_of_two(uint64_t x) {
    return x != 0 && (x & (x - 1)) == 0;
}

/*
 * Rounds x up to a multiple of align (a power of two). Returns false if the result
 * would not fit in 64 bits.
 */
static bool align_up(uint64_t x, uint64_t align, uint64_t *out) {
    uint64_t mask = align - 1;
    if (x > UINT64_MAX - mask)
        return false;
    *out = (x + mask) & ~mask;
    return true;
}

/* Index of the first range whose end is >= addr (count if none). Ends are sorted too. */
static size_t first_ending_at_or_after(const struct range_set *set, uint64_t addr) {
    size_t i = 0;
    while (i < set->count && range_end(&set->r[i]) < addr)
        i++;
    return i;
}

/* Removes entries [from, to) by sliding the tail down. */
static void remove_entries(struct range_set *set, size_t from, size_t to) {
    if (to <= from)
        return;
    memmove(&set->r[from], &set->r[to], (set->count - to) * sizeof(set->r[0]));
    set->count -= to - from;
}

/* Opens a hole at index i by sliding the tail up; the caller has checked capacity. */
static void insert_entry(struct range_set *set, size_t i, uint64_t base, uint64_t size) {
    memmove(&set->r[i + 1], &set->r[i], (set->count - i) * sizeof(set->r[0]));
    set->r[i].base = base;
    set->r[i].size = size;
    set->count++;
}

void range_set_init(struct range_set *set, struct mem_range *storage, size_t cap) {
    set->r = storage;
    set->count = 0;
    set->cap = cap;
}

/*
 * Adds [base, base + size). Every range that overlaps or touches the new one is folded
 * into a single entry; if none does, a new entry is inserted in sorted position, which
 * is the only case that needs a free slot.
 */
zx_status_t range_set_add(struct range_set *set, uint64_t base, uint64_t size) {
    uint64_t end = clamped_end(base, size);
    if (end <= base)
        return ZX_OK; /* empty, either size 0 or clamped away at the top of memory */

    /* Ranges [i, j) overlap or touch [base, end): end(r) >= base and r.base <= end. */
    size_t i = first_ending_at_or_after(set, base);
    size_t j = i;
    while (j < set->count && set->r[j].base <= end)
        j++;

    if (i == j) {
        if (set->count >= set->cap)
            return ZX_ERR_NO_RESOURCES;
        insert_entry(set, i, base, end - base);
        return ZX_OK;
    }

    uint64_t new_base = MIN(base, set->r[i].base);
    uint64_t new_end = MAX(end, range_end(&set->r[j - 1]));
    set->r[i].base = new_base;
    set->r[i].size = new_end - new_base;
    remove_entries(set, i + 1, j);
    return ZX_OK;
}

/*
 * Removes [base, base + size). At most one range can strictly contain the hole and need
 * splitting; that is checked for capacity first. Otherwise the first affected range may
 * lose its tail, ranges entirely inside the hole are dropped, and the last affected range
 * may lose its head.
 */
zx_status_t range_set_subtract(struct range_set *set, uint64_t base, uint64_t size) {
    uint64_t end = clamped_end(base, size);
    if (end <= base)
        return ZX_OK;

    /* First range that has any byte at or above base. */
    size_t i = 0;
    while (i < set->count && range_end(&set->r[i]) <= base)
        i++;
    if (i == set->count || set->r[i].base >= end)
        return ZX_OK; /* nothing overlaps */

    struct mem_range *m = &set->r[i];
    uint64_t m_end = range_end(m);
    if (m->base < base && m_end > end) {
        /* The hole is strictly inside m: keep [m.base, base) and [end, m_end). */
        if (set->count >= set->cap)
            return ZX_ERR_NO_RESOURCES;
        m->size = base - m->base;
        insert_entry(set, i + 1, end, m_end - end);
        return ZX_OK;
    }

    if (m->base < base) {
        /* m starts below the hole and (not being split) ends inside it: keep its head. */
        m->size = base - m->base;
        i++;
    }
    size_t j = i;
    while (j < set->count && range_end(&set->r[j]) <= end)
        j++; /* wholly inside the hole */
    if (j < set->count && set->r[j].base < end) {
        /* Starts inside the hole and extends past it: keep its tail. */
        uint64_t r_end = range_end(&set->r[j]);
        set->r[j].base = end;
        set->r[j].size = r_end - end;
    }
    remove_entries(set, i, j);
    return ZX_OK;
}

/*
 * Shrinks each range to [roundup(base), rounddown(end)). Ranges only shrink, so order
 * and the gaps between them are preserved; ranges left empty are dropped.
 */
void range_set_trim_to_alignment(struct range_set *set, uint64_t align) {
    DEBUG_ASSERT(is_power_of_two(align));
    size_t out = 0;
    for (size_t i = 0; i < set->count; i++) {
        uint64_t base;
        uint64_t end = range_end(&set->r[i]) & ~(align - 1);
        if (!align_up(set->r[i].base, align, &base) || base >= end)
            continue;
        set->r[out].base = base;
        set->r[out].size = end - base;
        out++;
    }
    set->count = out;
}

/* Sums the sizes; cannot overflow since all ranges are disjoint and below UINT64_MAX. */
uint64_t range_set_total(const struct range_set *set) {
    uint64_t total = 0;
    for (size_t i = 0; i < set->count; i++)
        total += set->r[i].size;
    return total;
}

uint64_t range_set_end(const struct range_set *set) {
    if (set->count == 0)
        return 0;
    return range_end(&set->r[set->count - 1]);
}

/*
 * Finds the lowest range with an aligned block [a, a + size) inside it and below limit,
 * using the lowest such a in that range (so the result is the lowest possible address),
 * and removes the block.
 */
zx_status_t range_set_take(struct range_set *set, uint64_t size, uint64_t align, uint64_t limit,
                           uint64_t *out_base) {
    if (size == 0 || !is_power_of_two(align))
        return ZX_ERR_INVALID_ARGS;

    for (size_t i = 0; i < set->count; i++) {
        const struct mem_range *m = &set->r[i];
        if (m->base >= limit)
            break; /* this and every later range start at or above the limit */
        uint64_t a;
        if (!align_up(m->base, align, &a))
            break; /* no aligned address at or above m->base exists at all */
        uint64_t top = MIN(range_end(m), limit);
        if (a > top || size > top - a)
            continue;

        /* Carving from the middle splits the range; subtract checks the capacity. */
        zx_status_t status = range_set_subtract(set, a, size);
        if (status != ZX_OK)
            return status;
        *out_base = a;
        return ZX_OK;
    }
    return ZX_ERR_NO_MEMORY;
}
