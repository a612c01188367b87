/*
 * Host tests for kernel/phys/memrange.c: directed cases for each operation, the overflow
 * corners near 2^64, and a randomized comparison against a bitmap model.
 */
#include <lib/rand.h>
#include "htest.h"

#include <stdlib.h>

#include <phys/memrange.h>

#define PAGE 0x1000ull

/* Checks the set's structural invariants: sorted, non-empty, non-adjacent, no wrap. */
static bool set_is_well_formed(const struct range_set *s) {
    if (s->count > s->cap)
        return false;
    for (size_t i = 0; i < s->count; i++) {
        const struct mem_range *m = &s->r[i];
        if (m->size == 0 || m->size > UINT64_MAX - m->base)
            return false;
        if (i > 0 && s->r[i - 1].base + s->r[i - 1].size >= m->base)
            return false; /* overlapping, adjacent or unsorted */
    }
    return true;
}

/* Expects exactly the n ranges in want (given as base/size pairs). */
static void expect_ranges_(const char *file, int line, const struct range_set *s,
                           const struct mem_range *want, size_t n) {
    bool same = s->count == n && set_is_well_formed(s);
    for (size_t i = 0; same && i < n; i++)
        same = s->r[i].base == want[i].base && s->r[i].size == want[i].size;
    if (same)
        return;
    htest_fail(file, line, "range set mismatch: have %zu ranges, want %zu", s->count, n);
    for (size_t i = 0; i < s->count; i++)
        printf("      have [0x%" PRIx64 ", +0x%" PRIx64 ")\n", s->r[i].base, s->r[i].size);
    for (size_t i = 0; i < n; i++)
        printf("      want [0x%" PRIx64 ", +0x%" PRIx64 ")\n", want[i].base, want[i].size);
}

#define EXPECT_RANGES(set, ...)                                                        \
    do {                                                                               \
        const struct mem_range want_[] = {__VA_ARGS__};                                \
        expect_ranges_(__FILE__, __LINE__, (set), want_, sizeof(want_) / sizeof(want_[0])); \
    } while (0)
#define EXPECT_EMPTY(set) EXPECT_EQ((set)->count, (size_t)0)

#define R(b, s) {(b), (s)}

HTEST(memrange, empty_set) {
    struct mem_range st[4];
    struct range_set s;
    range_set_init(&s, st, 4);
    EXPECT_EMPTY(&s);
    EXPECT_EQ(range_set_total(&s), 0ull);
    EXPECT_EQ(range_set_end(&s), 0ull);
    uint64_t base = 0;
    EXPECT_STATUS(range_set_take(&s, PAGE, PAGE, UINT64_MAX, &base), ZX_ERR_NO_MEMORY);
    EXPECT_OK(range_set_subtract(&s, 0, UINT64_MAX));
    EXPECT_EMPTY(&s);
}

HTEST(memrange, add_sorted_and_size_zero) {
    struct mem_range st[8];
    struct range_set s;
    range_set_init(&s, st, 8);
    EXPECT_OK(range_set_add(&s, 0x5000, 0x1000));
    EXPECT_OK(range_set_add(&s, 0x1000, 0x1000));
    EXPECT_OK(range_set_add(&s, 0x9000, 0x2000));
    EXPECT_OK(range_set_add(&s, 0x3000, 0)); /* no-op */
    EXPECT_RANGES(&s, R(0x1000, 0x1000), R(0x5000, 0x1000), R(0x9000, 0x2000));
    EXPECT_EQ(range_set_total(&s), 0x4000ull);
    EXPECT_EQ(range_set_end(&s), 0xb000ull);
}

HTEST(memrange, add_merges_overlap_adjacent_contained) {
    struct mem_range st[8];
    struct range_set s;
    range_set_init(&s, st, 8);
    EXPECT_OK(range_set_add(&s, 0x1000, 0x1000));
    EXPECT_OK(range_set_add(&s, 0x2000, 0x1000)); /* adjacent above */
    EXPECT_RANGES(&s, R(0x1000, 0x2000));
    EXPECT_OK(range_set_add(&s, 0x0, 0x1000)); /* adjacent below */
    EXPECT_RANGES(&s, R(0x0, 0x3000));
    EXPECT_OK(range_set_add(&s, 0x800, 0x100)); /* contained */
    EXPECT_RANGES(&s, R(0x0, 0x3000));
    EXPECT_OK(range_set_add(&s, 0x2800, 0x1000)); /* overlaps the end */
    EXPECT_RANGES(&s, R(0x0, 0x3800));

    /* One add bridging several ranges collapses them all. */
    EXPECT_OK(range_set_add(&s, 0x5000, 0x1000));
    EXPECT_OK(range_set_add(&s, 0x7000, 0x1000));
    EXPECT_OK(range_set_add(&s, 0x9000, 0x1000));
    EXPECT_OK(range_set_add(&s, 0xc000, 0x1000));
    EXPECT_EQ(s.count, (size_t)5);
    EXPECT_OK(range_set_add(&s, 0x3800, 0x5800)); /* [0x3800, 0x9000) touches 0x9000 */
    EXPECT_RANGES(&s, R(0x0, 0xa000), R(0xc000, 0x1000));
    EXPECT_OK(range_set_add(&s, 0x0, 0x10000)); /* swallows everything */
    EXPECT_RANGES(&s, R(0x0, 0x10000));
}

HTEST(memrange, subtract_split_and_edges) {
    struct mem_range st[8];
    struct range_set s;
    range_set_init(&s, st, 8);
    EXPECT_OK(range_set_add(&s, 0x10000, 0x10000));
    EXPECT_OK(range_set_subtract(&s, 0x14000, 0x1000)); /* split */
    EXPECT_RANGES(&s, R(0x10000, 0x4000), R(0x15000, 0xb000));
    EXPECT_OK(range_set_subtract(&s, 0x10000, 0x1000)); /* left edge */
    EXPECT_RANGES(&s, R(0x11000, 0x3000), R(0x15000, 0xb000));
    EXPECT_OK(range_set_subtract(&s, 0x1f000, 0x1000)); /* right edge */
    EXPECT_RANGES(&s, R(0x11000, 0x3000), R(0x15000, 0xa000));
    EXPECT_OK(range_set_subtract(&s, 0x0, 0x11000)); /* touches but no overlap */
    EXPECT_OK(range_set_subtract(&s, 0x1f000, 0x100000));
    EXPECT_OK(range_set_subtract(&s, 0x14000, 0x1000)); /* exactly the gap */
    EXPECT_OK(range_set_subtract(&s, 0x12000, 0));       /* size 0 */
    EXPECT_RANGES(&s, R(0x11000, 0x3000), R(0x15000, 0xa000));
    EXPECT_OK(range_set_subtract(&s, 0x13000, 0x3000)); /* tail of one, head of next */
    EXPECT_RANGES(&s, R(0x11000, 0x2000), R(0x16000, 0x9000));
    EXPECT_OK(range_set_subtract(&s, 0x11000, 0x2000)); /* a whole range */
    EXPECT_RANGES(&s, R(0x16000, 0x9000));

    /* Spanning several ranges: drop the middle ones, trim the outer ones. */
    EXPECT_OK(range_set_add(&s, 0x1000, 0x2000));
    EXPECT_OK(range_set_add(&s, 0x5000, 0x1000));
    EXPECT_OK(range_set_add(&s, 0x8000, 0x1000));
    EXPECT_OK(range_set_subtract(&s, 0x2000, 0x16000));
    EXPECT_RANGES(&s, R(0x1000, 0x1000), R(0x18000, 0x7000));
    EXPECT_OK(range_set_subtract(&s, 0, UINT64_MAX));
    EXPECT_EMPTY(&s);
}

HTEST(memrange, full_capacity_leaves_set_unchanged) {
    struct mem_range st[3];
    struct mem_range snap[3];
    struct range_set s;
    range_set_init(&s, st, 3);
    EXPECT_OK(range_set_add(&s, 0x1800, 0x2000));
    EXPECT_OK(range_set_add(&s, 0x8000, 0x1000));
    EXPECT_OK(range_set_add(&s, 0x10000, 0x1000));
    memcpy(snap, st, sizeof(st));
#define EXPECT_UNCHANGED()                                                               \
    do {                                                                                 \
        EXPECT_EQ(s.count, (size_t)3);                                                   \
        EXPECT_EQ(memcmp(snap, st, sizeof(st)), 0);                                      \
    } while (0)

    EXPECT_STATUS(range_set_add(&s, 0x20000, 0x1000), ZX_ERR_NO_RESOURCES);
    EXPECT_UNCHANGED();
    EXPECT_STATUS(range_set_add(&s, 0x0, 0x800), ZX_ERR_NO_RESOURCES);
    EXPECT_UNCHANGED();
    EXPECT_STATUS(range_set_add(&s, 0xa000, 0x1000), ZX_ERR_NO_RESOURCES); /* in a gap */
    EXPECT_UNCHANGED();
    EXPECT_STATUS(range_set_subtract(&s, 0x8400, 0x800), ZX_ERR_NO_RESOURCES);
    EXPECT_UNCHANGED();
    /* The lowest fit is [0x2000, 0x2800), inside [0x1800, 0x3800): needs a split. */
    uint64_t base = 0xdead;
    EXPECT_STATUS(range_set_take(&s, 0x800, 0x1000, UINT64_MAX, &base), ZX_ERR_NO_RESOURCES);
    EXPECT_UNCHANGED();
    EXPECT_EQ(base, 0xdeadull);
#undef EXPECT_UNCHANGED

    /* Operations that do not need a new slot still work when full. */
    EXPECT_OK(range_set_add(&s, 0x9000, 0x1000)); /* adjacent: merges */
    EXPECT_OK(range_set_subtract(&s, 0x1800, 0x800)); /* left edge */
    EXPECT_OK(range_set_take(&s, 0x1000, 0x1000, UINT64_MAX, &base));
    EXPECT_EQ(base, 0x2000ull);
    EXPECT_RANGES(&s, R(0x3000, 0x800), R(0x8000, 0x2000), R(0x10000, 0x1000));
    /* Now an add that merges two ranges frees a slot. */
    EXPECT_OK(range_set_add(&s, 0x3800, 0x4800));
    EXPECT_OK(range_set_add(&s, 0x40000, 0x1000));
    EXPECT_RANGES(&s, R(0x3000, 0x7000), R(0x10000, 0x1000), R(0x40000, 0x1000));

    /* cap 0: nothing can ever be stored, but no-ops still succeed. */
    struct range_set z;
    range_set_init(&z, NULL, 0);
    EXPECT_STATUS(range_set_add(&z, 0x1000, 1), ZX_ERR_NO_RESOURCES);
    EXPECT_OK(range_set_add(&z, 0x1000, 0));
    EXPECT_OK(range_set_subtract(&z, 0, UINT64_MAX));
    EXPECT_EMPTY(&z);
}

HTEST(memrange, trim_to_alignment) {
    struct mem_range st[8];
    struct range_set s;
    range_set_init(&s, st, 8);
    EXPECT_OK(range_set_add(&s, 0x0, 0x9fc00));     /* low memory, ends mid-page */
    EXPECT_OK(range_set_add(&s, 0x100001, 0x1fff)); /* rounds to [0x101000, 0x102000) */
    EXPECT_OK(range_set_add(&s, 0x200800, 0x800));  /* one partial page: dropped */
    EXPECT_OK(range_set_add(&s, 0x300800, 0x1000)); /* straddles a page line: dropped */
    EXPECT_OK(range_set_add(&s, 0x400000, 0x3000)); /* already aligned: kept */

    range_set_trim_to_alignment(&s, 1); /* align 1 changes nothing */
    EXPECT_EQ(s.count, (size_t)5);
    range_set_trim_to_alignment(&s, PAGE);
    EXPECT_RANGES(&s, R(0x0, 0x9f000), R(0x101000, 0x1000), R(0x400000, 0x3000));
    range_set_trim_to_alignment(&s, 0x200000); /* 2 MiB: only nothing survives */
    EXPECT_EMPTY(&s);

    /* Near the top of memory: rounding the base up must not wrap to 0. */
    range_set_init(&s, st, 8);
    EXPECT_OK(range_set_add(&s, UINT64_MAX - 0x2fff, 0x3000)); /* [..d000, ..ffff) */
    range_set_trim_to_alignment(&s, PAGE);
    EXPECT_RANGES(&s, R(0xffffffffffffd000ull, 0x2000));
    range_set_init(&s, st, 8);
    EXPECT_OK(range_set_add(&s, UINT64_MAX - 5, 5));
    range_set_trim_to_alignment(&s, PAGE);
    EXPECT_EMPTY(&s);
    range_set_init(&s, st, 8);
    EXPECT_OK(range_set_add(&s, 0, UINT64_MAX));
    range_set_trim_to_alignment(&s, 1ull << 63);
    EXPECT_RANGES(&s, R(0, 1ull << 63));
}

HTEST(memrange, take_alignment_and_limit) {
    struct mem_range st[8];
    struct range_set s;
    range_set_init(&s, st, 8);
    EXPECT_OK(range_set_add(&s, 0x1800, 0x1800));     /* [0x1800, 0x3000) */
    EXPECT_OK(range_set_add(&s, 0x100000, 0x400000)); /* [1 MiB, 5 MiB) */
    EXPECT_OK(range_set_add(&s, 0x100000000ull, 0x40000000)); /* above 4 GiB */

    uint64_t base = 0;
    EXPECT_OK(range_set_take(&s, 0x800, 8, UINT64_MAX, &base)); /* lowest address wins */
    EXPECT_EQ(base, 0x1800ull);
    EXPECT_OK(range_set_take(&s, 0x1000, PAGE, UINT64_MAX, &base));
    EXPECT_EQ(base, 0x2000ull);
    EXPECT_RANGES(&s, R(0x100000, 0x400000), R(0x100000000ull, 0x40000000));

    /* 2 MiB alignment inside [1 MiB, 5 MiB): the block starts at 2 MiB, splitting. */
    EXPECT_OK(range_set_take(&s, 0x200000, 0x200000, UINT64_MAX, &base));
    EXPECT_EQ(base, 0x200000ull);
    EXPECT_RANGES(&s, R(0x100000, 0x100000), R(0x400000, 0x100000),
                  R(0x100000000ull, 0x40000000));

    /* The limit is exclusive: a block ending exactly at it is fine, one byte more is not. */
    EXPECT_OK(range_set_take(&s, 0x1000, PAGE, 0x101000, &base));
    EXPECT_EQ(base, 0x100000ull);
    EXPECT_STATUS(range_set_take(&s, 0x100000, PAGE, 0x1fffff, &base), ZX_ERR_NO_MEMORY);
    EXPECT_OK(range_set_take(&s, 0xff000, PAGE, 0x200000, &base));
    EXPECT_EQ(base, 0x101000ull);

    /* Nothing below 4 GiB is big enough: skip to the next range, or fail under the limit. */
    EXPECT_STATUS(range_set_take(&s, 0x200000, PAGE, 0x100000000ull, &base), ZX_ERR_NO_MEMORY);
    EXPECT_OK(range_set_take(&s, 0x200000, PAGE, UINT64_MAX, &base));
    EXPECT_EQ(base, 0x100000000ull);
    EXPECT_RANGES(&s, R(0x400000, 0x100000), R(0x100200000ull, 0x3fe00000));

    /* An alignment no range can meet, bad arguments, and a size bigger than everything. */
    EXPECT_STATUS(range_set_take(&s, 0x1000, 1ull << 40, UINT64_MAX, &base), ZX_ERR_NO_MEMORY);
    EXPECT_STATUS(range_set_take(&s, 0, PAGE, UINT64_MAX, &base), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(range_set_take(&s, PAGE, 0, UINT64_MAX, &base), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(range_set_take(&s, PAGE, 0x3000, UINT64_MAX, &base), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(range_set_take(&s, UINT64_MAX, 1, UINT64_MAX, &base), ZX_ERR_NO_MEMORY);
    EXPECT_STATUS(range_set_take(&s, 1, 1, 0, &base), ZX_ERR_NO_MEMORY);
    EXPECT_EQ(range_set_total(&s), 0x100000ull + 0x3fe00000ull);

    /* Taking a whole range removes it. */
    EXPECT_OK(range_set_take(&s, 0x100000, 1, UINT64_MAX, &base));
    EXPECT_EQ(base, 0x400000ull);
    EXPECT_RANGES(&s, R(0x100200000ull, 0x3fe00000));
}

HTEST(memrange, overflow_near_top_of_address_space) {
    struct mem_range st[8];
    struct range_set s;
    range_set_init(&s, st, 8);
    /* Ends past 2^64 are clamped to an exclusive end of UINT64_MAX. */
    EXPECT_OK(range_set_add(&s, UINT64_MAX - 10, 100));
    EXPECT_RANGES(&s, R(UINT64_MAX - 10, 10));
    EXPECT_EQ(range_set_end(&s), UINT64_MAX);
    EXPECT_OK(range_set_add(&s, UINT64_MAX, 5));          /* clamps to empty */
    EXPECT_OK(range_set_add(&s, UINT64_MAX - 1, UINT64_MAX)); /* contained after clamping */
    EXPECT_RANGES(&s, R(UINT64_MAX - 10, 10));
    EXPECT_OK(range_set_add(&s, UINT64_MAX - 20, 10)); /* adjacent below */
    EXPECT_RANGES(&s, R(UINT64_MAX - 20, 20));

    EXPECT_OK(range_set_subtract(&s, UINT64_MAX - 15, UINT64_MAX)); /* to the top */
    EXPECT_RANGES(&s, R(UINT64_MAX - 20, 5));

    uint64_t base = 0;
    EXPECT_OK(range_set_add(&s, UINT64_MAX - 0x3000, UINT64_MAX));
    EXPECT_OK(range_set_take(&s, 0x1000, PAGE, UINT64_MAX, &base));
    EXPECT_EQ(base, 0xffffffffffffd000ull);
    EXPECT_OK(range_set_take(&s, 0x1000, PAGE, UINT64_MAX, &base));
    EXPECT_EQ(base, 0xffffffffffffe000ull);
    /* [..f000, UINT64_MAX) is one byte short of a page; nothing aligned is left. */
    EXPECT_STATUS(range_set_take(&s, 0x1000, PAGE, UINT64_MAX, &base), ZX_ERR_NO_MEMORY);
    EXPECT_STATUS(range_set_take(&s, 1, 1ull << 63, UINT64_MAX, &base), ZX_ERR_NO_MEMORY);
    EXPECT_OK(range_set_take(&s, 0xfff, PAGE, UINT64_MAX, &base));
    EXPECT_EQ(base, 0xfffffffffffff000ull);

    /* The largest possible set, and its total. */
    range_set_init(&s, st, 8);
    EXPECT_OK(range_set_add(&s, 0, UINT64_MAX));
    EXPECT_OK(range_set_add(&s, 0, UINT64_MAX));
    EXPECT_EQ(range_set_total(&s), UINT64_MAX);
    EXPECT_EQ(range_set_end(&s), UINT64_MAX);
    EXPECT_OK(range_set_subtract(&s, 1, UINT64_MAX - 2));
    EXPECT_RANGES(&s, R(0, 1), R(UINT64_MAX - 1, 1));
    EXPECT_EQ(range_set_total(&s), 2ull);
    EXPECT_OK(range_set_take(&s, 1, 1ull << 63, UINT64_MAX, &base));
    EXPECT_EQ(base, 0ull);
    EXPECT_STATUS(range_set_take(&s, 2, 1, UINT64_MAX, &base), ZX_ERR_NO_MEMORY);
}

/* ---- Randomized comparison against a bitmap model ---- */

#define MODEL_UNITS 256  /* addresses modelled: [offset, offset + MODEL_UNITS) */
#define MODEL_TRIALS 25
#define MODEL_OPS_PER_TRIAL 4000
#define MODEL_MAX_CAP 12

static uint64_t rng_state;

/* splitmix64: small, good enough, and reproducible from one seed. */
static uint64_t rng_next(void) {
    return splitmix64_next(&rng_state);
}

static uint64_t rng_below(uint64_t n) {
    return n ? rng_next() % n : 0;
}

/* Number of maximal runs of set bits, i.e. how many ranges the set should hold. */
static size_t model_runs(const bool *m) {
    size_t runs = 0;
    for (size_t i = 0; i < MODEL_UNITS; i++)
        if (m[i] && (i == 0 || !m[i - 1]))
            runs++;
    return runs;
}

/* Sets or clears model indices [from, to). */
static void model_fill(bool *m, uint64_t from, uint64_t to, bool v) {
    for (uint64_t i = from; i < to && i < MODEL_UNITS; i++)
        m[i] = v;
}

/* Index-space end of [offset + b, offset + b + size) with the set's clamping rule. */
static uint64_t model_end(uint64_t offset, uint64_t b, uint64_t size) {
    uint64_t addr = offset + b;
    uint64_t end = size > UINT64_MAX - addr ? UINT64_MAX : addr + size;
    return end - offset;
}

/* True when the set holds exactly the model's bytes (and is well formed). */
static bool set_matches_model(const struct range_set *s, const bool *m, uint64_t offset) {
    bool seen[MODEL_UNITS] = {false};
    if (!set_is_well_formed(s))
        return false;
    for (size_t i = 0; i < s->count; i++) {
        uint64_t b = s->r[i].base - offset;
        if (s->r[i].base < offset || b >= MODEL_UNITS || s->r[i].size > MODEL_UNITS - b)
            return false;
        model_fill(seen, b, b + s->r[i].size, true);
    }
    return memcmp(seen, m, sizeof(seen)) == 0;
}

/*
 * Runs random add / subtract / trim / take operations on a set of random capacity and on
 * the model side by side. Model indices map to address offset + index; offset is a
 * multiple of MODEL_UNITS so alignment in index space equals alignment in address space.
 * With a high offset the modelled window ends at 2^64 and exercises clamping.
 */
static bool run_model(uint64_t seed, uint64_t offset) {
    rng_state = seed;
    const bool high = offset != 0;
    for (int trial = 0; trial < MODEL_TRIALS; trial++) {
        struct mem_range st[MODEL_MAX_CAP], snap[MODEL_MAX_CAP];
        bool m[MODEL_UNITS] = {false}, before[MODEL_UNITS];
        struct range_set s;
        size_t cap = 1 + rng_below(MODEL_MAX_CAP);
        range_set_init(&s, st, cap);

        for (int op = 0; op < MODEL_OPS_PER_TRIAL; op++) {
            memcpy(before, m, sizeof(m));
            memcpy(snap, st, sizeof(st));
            size_t count_before = s.count;
            uint64_t b = rng_below(MODEL_UNITS);
            uint64_t size = rng_below(MODEL_UNITS / 4 + 1);
            if (high && rng_below(8) == 0)
                size = UINT64_MAX - rng_below(MODEL_UNITS); /* end overflows: clamped */
            else if (!high && (rng_below(8) == 0 || size > MODEL_UNITS - b))
                size = MODEL_UNITS - b; /* to the end of the window, never past it */
            zx_status_t got, want = ZX_OK;
            int kind = (int)rng_below(10);
            const char *what;
            uint64_t taken = 0, want_taken = 0;

            if (kind < 4) {
                what = "add";
                model_fill(m, b, model_end(offset, b, size), true);
                got = range_set_add(&s, offset + b, size);
            } else if (kind < 7) {
                what = "subtract";
                model_fill(m, b, model_end(offset, b, size), false);
                got = range_set_subtract(&s, offset + b, size);
            } else if (kind < 8) {
                what = "trim";
                uint64_t align = 1ull << rng_below(7);
                for (uint64_t i = 0; i < MODEL_UNITS;) {
                    if (!m[i]) {
                        i++;
                        continue;
                    }
                    uint64_t e = i;
                    while (e < MODEL_UNITS && m[e])
                        e++;
                    uint64_t lo = (i + align - 1) & ~(align - 1), hi = e & ~(align - 1);
                    model_fill(m, i, e, false);
                    if (lo < hi)
                        model_fill(m, lo, hi, true);
                    i = e;
                }
                range_set_trim_to_alignment(&s, align);
                got = ZX_OK;
            } else {
                what = "take";
                uint64_t align = 1ull << rng_below(7);
                uint64_t limit_index = rng_below(MODEL_UNITS + 1);
                uint64_t limit;
                if (limit_index == MODEL_UNITS || rng_below(4) == 0) {
                    limit = UINT64_MAX;
                    limit_index = high ? MODEL_UNITS - 1 : MODEL_UNITS;
                } else {
                    limit = offset + limit_index;
                }
                want = size == 0 ? ZX_ERR_INVALID_ARGS : ZX_ERR_NO_MEMORY;
                for (uint64_t a = 0; size != 0 && size <= limit_index && a <= limit_index - size;
                     a += align) {
                    uint64_t k = a;
                    while (k < a + size && m[k])
                        k++;
                    if (k == a + size) {
                        want = ZX_OK;
                        want_taken = offset + a;
                        model_fill(m, a, a + size, false);
                        break;
                    }
                }
                got = range_set_take(&s, size, align, limit, &taken);
            }
            if (want == ZX_OK && model_runs(m) > cap) {
                want = ZX_ERR_NO_RESOURCES; /* would need more slots than cap */
                memcpy(m, before, sizeof(m));
            }

            bool ok = got == want && set_matches_model(&s, m, offset) &&
                      (want != ZX_OK || taken == want_taken) &&
                      (s.count == 0 ? range_set_end(&s) == 0
                                    : range_set_end(&s) == s.r[s.count - 1].base +
                                                               s.r[s.count - 1].size);
            if (ok && got != ZX_OK)
                ok = s.count == count_before && memcmp(snap, st, sizeof(st)) == 0;
            if (ok) {
                uint64_t bytes = 0;
                for (size_t i = 0; i < MODEL_UNITS; i++)
                    bytes += m[i];
                ok = range_set_total(&s) == bytes;
            }
            if (!ok) {
                htest_fail(__FILE__, __LINE__,
                           "model mismatch: seed 0x%" PRIx64 " offset 0x%" PRIx64
                           " trial %d op %d: %s(index %" PRIu64 ", size 0x%" PRIx64
                           ") got %d want %d (cap %zu); replay with HTEST_SEED=0x%" PRIx64,
                           seed, offset, trial, op, what, b, size, got, want, cap, seed);
                return false;
            }
        }
    }
    return true;
}

HTEST(memrange, random_model_low) {
    EXPECT_TRUE(run_model(htest_seed(), 0));
}

HTEST(memrange, random_model_top_of_address_space) {
    EXPECT_TRUE(run_model(htest_seed() ^ 0x70b0f5ace, 0ull - MODEL_UNITS));
}
