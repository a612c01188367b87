/*
 * Model-based random test of the x86-64 page-table engine (kernel/include/arch/mmu.h).
 *
 * A reference model tracks every page of a 4 GiB window [510 GiB, 514 GiB) of one user
 * aspace: the window crosses 1 GiB boundaries and the 512 GiB (PML4 slot) boundary, and
 * random operations are concentrated near 2 MiB, 1 GiB and 512 GiB boundaries. The model
 * knows which kind of entry maps each page (4 KiB, 2 MiB or 1 GiB), so it can predict
 * splits and the exact number of table pages the live mappings need:
 *     root + one PDPT per used PML4 slot + one PD per used 1 GiB region that is not a
 *     1 GiB page + one PT per 2 MiB region holding 4 KiB entries,
 * which must equal arch_mmu_table_pages() after every operation.
 *
 * Phase 1 runs without allocation failures: every result is predicted exactly. Phase 2
 * fails PMM allocations at random: an operation either succeeds (checked as in phase 1)
 * or returns ZX_ERR_NO_MEMORY, and then the state is read back and must be one the
 * contract allows (map: unchanged; unmap with enlarge NO and protect: a prefix of the
 * range done, the rest untouched; a large page may stay split where mmu.h allows it).
 *
 * After each operation every page it touched is queried (ranges up to CHECK_ALL_LIMIT
 * pages page by page; larger ones entry by entry, with unmapped stretches sampled - the
 * exact table count catches a stray leftover there), plus a few random pages, and the
 * whole window is swept periodically. Failures print the seed and the operation number;
 * HTEST_SEED=<seed> replays a run, and MMU_MODEL_DUMP_OP=<phase>:<op> also dumps the
 * window's page tables (arch_mmu_dump) before and after that operation.
 */
#include "htest.h"
#include "mmu_host_env.h"

#include <stdarg.h>
#include <stdlib.h>

#include <phys/pmm.h>

#define R ARCH_MMU_FLAG_PERM_READ

#define WIN_BASE ((vaddr_t)(SIZE_512G - 2 * SIZE_1G))
#define WIN_GIGS 4
#define WIN_BLOCKS (WIN_GIGS * PAGES_2M)
#define WIN_PAGES (WIN_GIGS * PAGES_1G)
#define WIN_SLOTS 2
#define SLOT_BOUNDARY_PAGE ((SIZE_512G - WIN_BASE) / SIZE_4K)

#define PHASE1_OPS 150000
#define PHASE2_OPS 60000
#define INJECT_PERMILLE 100     /* phase 2: each PMM allocation fails with p = 10% */
#define CHECK_ALL_LIMIT 4096    /* ranges up to this many pages are checked page by page */
#define SPOT_CHECKS 4           /* random pages queried after every operation */
#define SWEEP_EVERY 25000       /* operations between whole-window sweeps */
#define PAGE1G_PERIOD 10000     /* operations between changes of the page1g switch */
#define MAX_MAP_RUN 2048        /* longest arch_mmu_map run */
#define BIG_OP_PERMILLE 8       /* unmap/protect over up to 1 GiB + 4 MiB */
#define GIG_OP_PERMILLE 15      /* unmap/protect around a whole 1 GiB region */
#define INSIDE_LARGE_PERCENT 15 /* unmap/protect starting inside a large entry */
#define LARGE_PROBES 8
#define TARGET_GIGS 256         /* physical targets: [1 TiB, 1.25 TiB) */

enum { ES_NONE, ES_4K, ES_2M, ES_1G };
static const size_t es_size[] = {0, SIZE_4K, SIZE_2M, SIZE_1G};

/* ---------------------------------------------------------------- the model */

struct mgig {
    bool is1g;       /* one 1 GiB entry maps the whole region */
    uint8_t flags;
    paddr_t pa;
    size_t mapped;   /* pages mapped in the region, by entries of any size */
};
struct mblk {
    bool is2m;       /* one 2 MiB entry maps the whole block */
    uint8_t flags;
    paddr_t pa;
    uint16_t n4k;    /* pages mapped by 4 KiB entries */
};
struct mstate {
    uint8_t es;
    uint8_t flags;
    paddr_t pa;
};

static struct mgig gig[WIN_GIGS];
static struct mblk blk[WIN_BLOCKS];
static paddr_t *pg_pa;        /* per page, meaningful when pg_on */
static uint8_t *pg_flags;
static bool *pg_on;           /* mapped by a 4 KiB entry */
static size_t slot_mapped[WIN_SLOTS], total_mapped;
static size_t nz_slots, nz_gigs, nz_blks; /* PDPTs, PDs and PTs the model needs */

static size_t gig_start(size_t p) { return p / PAGES_1G * PAGES_1G; }
static size_t blk_start(size_t p) { return p / PAGES_2M * PAGES_2M; }
static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
static unsigned slot_of(unsigned g) {
    return (unsigned)((WIN_BASE + g * SIZE_1G) / SIZE_512G - WIN_BASE / SIZE_512G);
}
static bool gig_needs_pd(unsigned g) { return !gig[g].is1g && gig[g].mapped; }
static size_t model_tables(void) { return 1 + nz_slots + nz_gigs + nz_blks; }

/* The pages mapped in region g change by delta. */
static void account(unsigned g, long delta) {
    unsigned s = slot_of(g);
    bool pd_before = gig_needs_pd(g), slot_before = slot_mapped[s] != 0;
    gig[g].mapped += (size_t)delta;
    slot_mapped[s] += (size_t)delta;
    total_mapped += (size_t)delta;
    nz_gigs += (size_t)((long)gig_needs_pd(g) - (long)pd_before);
    nz_slots += (size_t)((long)(slot_mapped[s] != 0) - (long)slot_before);
}

static void blk_n4k(size_t b, int delta) {
    bool before = blk[b].n4k != 0;
    blk[b].n4k = (uint16_t)(blk[b].n4k + delta);
    nz_blks += (size_t)((long)(blk[b].n4k != 0) - (long)before);
}

static struct mstate model_get(size_t p) {
    const struct mgig *gg = &gig[p / PAGES_1G];
    const struct mblk *bb = &blk[p / PAGES_2M];
    if (gg->is1g)
        return (struct mstate){ES_1G, gg->flags, gg->pa + (p % PAGES_1G) * SIZE_4K};
    if (bb->is2m)
        return (struct mstate){ES_2M, bb->flags, bb->pa + (p % PAGES_2M) * SIZE_4K};
    if (pg_on[p])
        return (struct mstate){ES_4K, pg_flags[p], pg_pa[p]};
    return (struct mstate){ES_NONE, 0, 0};
}

/* Sets page p (in a block of 4 KiB entries) to pa/flags. */
static void set_4k(size_t p, paddr_t pa, uint8_t flags) {
    if (!pg_on[p]) {
        pg_on[p] = true;
        blk_n4k(p / PAGES_2M, 1);
        account((unsigned)(p / PAGES_1G), 1);
    }
    pg_pa[p] = pa;
    pg_flags[p] = flags;
}

static void clear_4k(size_t p) {
    if (!pg_on[p])
        return;
    pg_on[p] = false;
    blk_n4k(p / PAGES_2M, -1);
    account((unsigned)(p / PAGES_1G), -1);
}

static void set_2m(size_t b, paddr_t pa, uint8_t flags) {
    blk[b] = (struct mblk){true, flags, pa, 0};
    account((unsigned)(b / PAGES_2M), (long)PAGES_2M);
}

static void clear_2m(size_t b) {
    blk[b].is2m = false;
    account((unsigned)(b / PAGES_2M), -(long)PAGES_2M);
}

static void set_1g(unsigned g, paddr_t pa, uint8_t flags) {
    gig[g].is1g = true;
    gig[g].flags = flags;
    gig[g].pa = pa;
    account(g, (long)PAGES_1G);
}

static void clear_1g(unsigned g) {
    account(g, -(long)PAGES_1G); /* while still a 1G page: it never needed a PD */
    gig[g].is1g = false;
}

/* A 1 GiB page becomes 512 x 2 MiB (same translations, one more PD). */
static void split_gig(unsigned g) {
    for (size_t i = 0; i < PAGES_2M; i++)
        blk[g * PAGES_2M + i] = (struct mblk){true, gig[g].flags, gig[g].pa + i * SIZE_2M, 0};
    gig[g].is1g = false;
    nz_gigs++;
}

/* A 2 MiB page becomes 512 x 4 KiB (same translations, one more PT). */
static void split_blk(size_t b) {
    for (size_t i = 0; i < PAGES_2M; i++) {
        size_t p = b * PAGES_2M + i;
        pg_on[p] = true;
        pg_pa[p] = blk[b].pa + i * SIZE_4K;
        pg_flags[p] = blk[b].flags;
    }
    blk[b].is2m = false;
    blk_n4k(b, (int)PAGES_2M);
}

/* Is page p inside a large entry that starts before p? (p == WIN_PAGES: no.) */
static bool crosses(size_t p) {
    if (p >= WIN_PAGES)
        return false;
    return (gig[p / PAGES_1G].is1g && p % PAGES_1G) || (blk[p / PAGES_2M].is2m && p % PAGES_2M);
}

/* Splits whatever large entry straddles the boundary before page p. */
static void split_at(size_t p) {
    if (p >= WIN_PAGES)
        return;
    if (gig[p / PAGES_1G].is1g && p % PAGES_1G)
        split_gig((unsigned)(p / PAGES_1G));
    if (blk[p / PAGES_2M].is2m && p % PAGES_2M)
        split_blk(p / PAGES_2M);
}

static bool any_mapped(size_t s, size_t e) {
    for (size_t p = s; p < e;) {
        size_t g = p / PAGES_1G, b = p / PAGES_2M;
        if (!gig[g].mapped)
            p = gig_start(p) + PAGES_1G;
        else if (gig[g].is1g || blk[b].is2m)
            return true;
        else if (!blk[b].n4k)
            p = blk_start(p) + PAGES_2M;
        else if (pg_on[p++])
            return true;
    }
    return false;
}

/* Unmaps [s, e) (flags == 0) or changes its flags, splitting at both ends. */
static void model_change(size_t s, size_t e, uint32_t flags) {
    bool unmap = !(flags & R);
    split_at(s);
    split_at(e);
    for (size_t p = s; p < e;) {
        unsigned g = (unsigned)(p / PAGES_1G);
        size_t b = p / PAGES_2M;
        if (!gig[g].mapped) {
            p = gig_start(p) + PAGES_1G;
        } else if (gig[g].is1g) {
            if (unmap)
                clear_1g(g);
            else
                gig[g].flags = (uint8_t)flags;
            p += PAGES_1G;
        } else if (blk[b].is2m) {
            if (unmap)
                clear_2m(b);
            else
                blk[b].flags = (uint8_t)flags;
            p += PAGES_2M;
        } else if (!blk[b].n4k) {
            p = blk_start(p) + PAGES_2M;
        } else {
            if (unmap)
                clear_4k(p);
            else if (pg_on[p])
                pg_flags[p] = (uint8_t)flags;
            p++;
        }
    }
}

/* ---------------------------------------------------------------- the run */

enum op_kind { OP_MAP, OP_CONTIG, OP_UNMAP, OP_PROTECT, OP_QUERY, NR_OPS };
static const char *const op_names[NR_OPS] = {"map", "map_contiguous", "unmap", "protect",
                                             "query"};

struct op {
    enum op_kind kind;
    size_t s, e;               /* page range [s, e) */
    uint32_t flags;
    enum arch_existing_action existing;
    enum arch_unmap_enlarge enlarge;
    paddr_t pa;                /* map_contiguous */
};

static arch_aspace_t *as;
static paddr_t phys[MAX_MAP_RUN];
static uint64_t rng, seed;
static int phase;
static size_t op_no;
static char op_text[256];
static bool failed;
static size_t stat_ok[NR_OPS], stat_nomem[NR_OPS], stat_exists, stat_1g, stat_2m;

static void mfail(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mfail(int line, const char *fmt, ...) {
    if (failed)
        return;
    failed = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    htest_fail(__FILE__, line, "seed 0x%llx phase %d op #%zu [%s]: %s (replay: HTEST_SEED=0x%llx)",
               (unsigned long long)seed, phase, op_no, op_text, msg, (unsigned long long)seed);
}
#define MFAIL(...) mfail(__LINE__, __VA_ARGS__)

static uint64_t rnd64(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}
static size_t rnd(size_t n) { return n ? (size_t)(rnd64() % n) : 0; }
static long rnd_signed(long n) { return (long)rnd((size_t)(2 * n + 1)) - n; }

static vaddr_t va_of(size_t p) { return WIN_BASE + p * SIZE_4K; }

struct qres {
    zx_status_t st;
    paddr_t pa;
    uint32_t flags;
    size_t size;
};

static struct qres query_page(size_t p, size_t off) {
    struct qres r = {0, 0, 0, 0};
    r.st = arch_mmu_query(as, va_of(p) + off, &r.pa, &r.flags, &r.size);
    if (r.st == ZX_OK)
        r.pa -= off;
    return r;
}

/* Same translation (status, pa, flags), entry size aside. */
static bool same_translation(struct qres r, struct mstate m) {
    if (m.es == ES_NONE)
        return r.st == ZX_ERR_NOT_FOUND;
    return r.st == ZX_OK && r.pa == m.pa && r.flags == m.flags;
}

/* Compares page p (queried at byte offset off) with the model. */
static void check_page(size_t p, size_t off) {
    struct mstate m = model_get(p);
    struct qres r = query_page(p, off);
    if (same_translation(r, m) && (m.es == ES_NONE || r.size == es_size[m.es]))
        return;
    MFAIL("page va 0x%llx: engine status %d pa 0x%llx flags 0x%x size 0x%zx; model %s pa "
          "0x%llx flags 0x%x size 0x%zx", (unsigned long long)(va_of(p) + off), r.st,
          (unsigned long long)r.pa, r.flags, r.size, m.es ? "mapped" : "unmapped",
          (unsigned long long)m.pa, m.flags, es_size[m.es]);
}

enum check_mode {
    CHECK_ALL,     /* every page */
    CHECK_ENTRIES, /* large entries at both ends, every 4K-entry page, holes sampled */
    CHECK_SAMPLE,  /* large entries at both ends, 4K blocks and holes sampled */
};

static void check_sampled(size_t p0, size_t p1) {
    check_page(p0, 0);
    check_page(p1 - 1, SIZE_4K - 1);
    check_page(p0 + rnd(p1 - p0), rnd(SIZE_4K));
}

static void check_span(size_t p0, size_t p1, enum check_mode mode) {
    for (size_t p = p0; p < p1 && !failed;) {
        unsigned g = (unsigned)(p / PAGES_1G);
        size_t b = p / PAGES_2M;
        size_t end = gig_start(p) + PAGES_1G;
        if (!gig[g].is1g && !blk[b].is2m && (gig[g].mapped || mode == CHECK_ALL))
            end = blk_start(p) + PAGES_2M;
        if (blk[b].is2m)
            end = blk_start(p) + PAGES_2M;
        end = min_sz(end, p1);
        bool four_k = !gig[g].is1g && !blk[b].is2m && blk[b].n4k;
        if (mode == CHECK_ALL || (four_k && mode == CHECK_ENTRIES)) {
            for (; p < end && !failed; p++)
                check_page(p, 0);
        } else {
            check_sampled(p, end);
            p = end;
        }
    }
}

/* Random pages anywhere in the window, at random byte offsets. */
static void spot_checks(void) {
    for (int i = 0; i < SPOT_CHECKS; i++)
        check_page(rnd(WIN_PAGES), rnd(SIZE_4K));
}

static void check_tables(void) {
    size_t got = arch_mmu_table_pages(as);
    if (got != model_tables())
        MFAIL("arch_mmu_table_pages %zu, model needs %zu (1 root + %zu PDPT + %zu PD + %zu PT)",
              got, model_tables(), nz_slots, nz_gigs, nz_blks);
}

/* ---------------------------------------------------------------- failure read-back */

/*
 * After an operation failed with NO_MEMORY, reads back pages [a, b) (the range plus the
 * large entries around it), checks the state is one the contract allows, and adopts it
 * into the model. allow_new: the op may have completed a prefix of [op->s, op->e)
 * (unmap, protect); allow_split: large entries may have been split (same translation).
 * rb->unmapped counts the pages whose mapping went away (to compare with *unmapped).
 */
struct readback {
    const struct op *op;
    bool allow_new, allow_split, seen_old_only;
    size_t unmapped;
};

static struct mstate new_state(const struct op *op, struct mstate o) {
    if (o.es == ES_NONE || op->kind == OP_UNMAP || !(op->flags & R))
        return (struct mstate){ES_NONE, 0, 0};
    o.flags = (uint8_t)op->flags;
    return o;
}

/*
 * Classifies one unit (a page, a 2M or 1G entry) [u0, u1) whose old state at u0 is o
 * and whose read-back is r. Returns true if it now holds the new state (to adopt).
 */
static bool classify(struct readback *rb, size_t u0, size_t u1, struct mstate o, struct qres r) {
    bool in_range = u0 >= rb->op->s && u1 <= rb->op->e;
    struct mstate n = new_state(rb->op, o);
    bool is_old = same_translation(r, o);
    bool is_new = rb->allow_new && in_range && same_translation(r, n);
    if (!is_old && !is_new) {
        MFAIL("after NO_MEMORY, va 0x%llx (unit of %zu pages) is neither old nor new: status "
              "%d pa 0x%llx flags 0x%x; old %s pa 0x%llx flags 0x%x",
              (unsigned long long)va_of(u0), u1 - u0, r.st, (unsigned long long)r.pa, r.flags,
              o.es ? "mapped" : "unmapped", (unsigned long long)o.pa, o.flags);
        return false;
    }
    if (o.es != ES_NONE && !in_range && u0 < rb->op->e && u1 > rb->op->s)
        rb->seen_old_only = true; /* an intact large page straddling the range start */
    if (o.es == ES_NONE || !in_range || (is_old && is_new))
        return false;
    if (is_new && rb->seen_old_only)
        MFAIL("after NO_MEMORY, va 0x%llx changed although an earlier page in the range did "
              "not (not a prefix)", (unsigned long long)va_of(u0));
    if (is_old)
        rb->seen_old_only = true;
    if (is_new && n.es == ES_NONE)
        rb->unmapped += u1 - u0;
    return is_new;
}

static void readback_span(struct readback *rb, size_t a, size_t b) {
    const uint32_t fl = rb->op->kind == OP_UNMAP ? 0 : rb->op->flags;
    for (size_t p = a; p < b && !failed;) {
        unsigned g = (unsigned)(p / PAGES_1G);
        size_t bi = p / PAGES_2M;
        if (!gig[g].mapped) {
            size_t end = min_sz(b, gig_start(p) + PAGES_1G);
            check_sampled(p, end);
            p = end;
            continue;
        }
        if (gig[g].is1g || blk[bi].is2m) {
            bool one_g = gig[g].is1g;
            size_t u0 = one_g ? gig_start(p) : blk_start(p);
            size_t u1 = u0 + (one_g ? PAGES_1G : PAGES_2M);
            struct mstate o = model_get(u0); /* p == u0: units start on entry bounds */
            struct qres r = query_page(p, 0);
            bool whole = (r.st == ZX_OK && r.size == es_size[o.es]) ||
                         (r.st == ZX_ERR_NOT_FOUND && u0 >= rb->op->s && u1 <= rb->op->e &&
                          query_page(u1 - 1, 0).st == ZX_ERR_NOT_FOUND);
            if (r.st == ZX_OK && r.size > es_size[o.es]) {
                MFAIL("after NO_MEMORY, va 0x%llx grew from a 0x%zx to a 0x%zx entry",
                      (unsigned long long)va_of(p), es_size[o.es], r.size);
                return;
            }
            if (whole) {
                if (classify(rb, u0, u1, o, r)) {
                    if (!(fl & R))
                        one_g ? clear_1g(g) : clear_2m(bi);
                    else if (one_g)
                        gig[g].flags = (uint8_t)fl;
                    else
                        blk[bi].flags = (uint8_t)fl;
                }
                p = min_sz(b, u1);
                continue;
            }
            if (!rb->allow_split) {
                MFAIL("after NO_MEMORY, the 0x%zx entry at va 0x%llx was split or partly "
                      "changed (query: status %d size 0x%zx)", es_size[o.es],
                      (unsigned long long)va_of(u0), r.st, r.size);
                return;
            }
            if (one_g)
                split_gig(g);
            else
                split_blk(bi);
            continue; /* look again at the smaller entries */
        }
        size_t end = min_sz(b, blk_start(p) + PAGES_2M);
        if (!blk[bi].n4k) {
            check_sampled(p, end);
            p = end;
            continue;
        }
        for (; p < end && !failed; p++) {
            struct mstate o = model_get(p);
            struct qres r = query_page(p, 0);
            if (r.st == ZX_OK && r.size != SIZE_4K)
                MFAIL("after NO_MEMORY, 4K page va 0x%llx now in a 0x%zx entry",
                      (unsigned long long)va_of(p), r.size);
            if (classify(rb, p, p + 1, o, r)) {
                if (!(fl & R))
                    clear_4k(p);
                else
                    pg_flags[p] = (uint8_t)fl;
            }
        }
    }
}

/* ---------------------------------------------------------------- operations */

/* The pages a change of [s, e) may affect: the range grown to the entries around it. */
static void extent(size_t s, size_t e, size_t *a, size_t *b) {
    *a = gig[s / PAGES_1G].is1g ? gig_start(s) : blk_start(s);
    size_t last = e - 1;
    *b = (gig[last / PAGES_1G].is1g ? gig_start(last) + PAGES_1G : blk_start(last) + PAGES_2M);
}

static bool large_at(size_t p) { return gig[p / PAGES_1G].is1g || blk[p / PAGES_2M].is2m; }

/*
 * Resolves an enlarge-YES unmap of [s, e) under fault injection: a large entry straddling
 * s or e was either split or dropped whole (a 1G page: dropped whole, or split into 2M
 * pages and then the straddling 2M page split or dropped). Queries of pages outside the
 * range decide, and the model follows. Without injection every split succeeds.
 */
static void resolve_enlarge(size_t s, size_t e) {
    const size_t bounds[2] = {s, e};
    for (int i = 0; i < 2; i++) {
        size_t p = bounds[i];
        if (!crosses(p))
            continue;
        unsigned g = (unsigned)(p / PAGES_1G);
        if (gig[g].is1g && p % PAGES_1G) {
            /* a 2M block of this 1G wholly outside [s, e) vanishes only if the 1G did */
            size_t first = gig_start(p), last = first + PAGES_1G - 1;
            size_t probe = first + PAGES_2M <= s || first >= e       ? first
                           : last + 1 - PAGES_2M >= e || last < s    ? last
                                                                     : SIZE_MAX;
            if (phase == 2 && probe != SIZE_MAX &&
                query_page(probe, 0).st == ZX_ERR_NOT_FOUND) {
                clear_1g(g);
                continue;
            }
            split_gig(g);
        }
        size_t b = p / PAGES_2M;
        if (blk[b].is2m && p % PAGES_2M) {
            size_t probe = blk_start(p) < s ? blk_start(p) : blk_start(p) + PAGES_2M - 1;
            if (phase == 2 && query_page(probe, 0).st == ZX_ERR_NOT_FOUND)
                clear_2m(b);
            else
                split_blk(b);
        }
    }
}

static uint32_t random_flags(void) {
    static const uint32_t caches[] = {ARCH_MMU_FLAG_CACHED, ARCH_MMU_FLAG_UNCACHED,
                                      ARCH_MMU_FLAG_UNCACHED_DEVICE,
                                      ARCH_MMU_FLAG_WRITE_COMBINING};
    uint32_t perms = (uint32_t)rnd(8) << 1; /* W, X, U */
    return R | perms | (rnd(4) == 0 ? caches[rnd(4)] : ARCH_MMU_FLAG_CACHED);
}

static size_t pick_start(void) {
    long p;
    size_t r = rnd(100);
    if (r < 30)
        p = (long)(rnd(WIN_BLOCKS + 1) * PAGES_2M) + rnd_signed(8);
    else if (r < 50)
        p = (long)(rnd(WIN_GIGS + 1) * PAGES_1G) + rnd_signed(3) * (long)PAGES_2M + rnd_signed(8);
    else if (r < 65)
        p = (long)SLOT_BOUNDARY_PAGE + rnd_signed(4) * (long)PAGES_2M + rnd_signed(8);
    else
        p = (long)rnd(WIN_PAGES);
    return p < 0 ? 0 : p >= (long)WIN_PAGES ? WIN_PAGES - 1 : (size_t)p;
}

static size_t pick_len(size_t s, bool big_ok) {
    size_t r = rnd(1000), n;
    if (big_ok && r < BIG_OP_PERMILLE)
        n = 1 + rnd(PAGES_1G + 2 * PAGES_2M);
    else if (r < 600)
        n = 1 + rnd(16);
    else if (r < 900)
        n = 1 + rnd(600);
    else
        n = 1 + rnd(MAX_MAP_RUN);
    return min_sz(n, WIN_PAGES - s);
}

static size_t next_gig; /* 1 + region the next op refills with map_contiguous, or 0 */

/*
 * A range around one 1 GiB region of the window (the one next_gig names, else a random
 * one): from up to `slack` pages before its start (or exactly at it) to up to `slack`
 * pages after its end. Returns the region's index.
 */
static size_t around_gig(struct op *op, size_t slack) {
    size_t g = next_gig ? next_gig - 1 : rnd(WIN_GIGS), head = rnd(3) ? rnd(slack + 1) : 0;
    op->s = g * PAGES_1G >= head ? g * PAGES_1G - head : 0;
    op->e = min_sz((g + 1) * PAGES_1G + rnd(slack + 1), WIN_PAGES);
    return g;
}

/* A page strictly inside some large entry, if a few random probes find one. */
static bool pick_inside_large(size_t *p) {
    for (int i = 0; i < LARGE_PROBES; i++) {
        size_t b = rnd(WIN_BLOCKS);
        if (large_at(b * PAGES_2M)) {
            *p = b * PAGES_2M + 1 + rnd(PAGES_2M - 1);
            return true;
        }
    }
    return false;
}

static void gen_op(struct op *op) {
    size_t r = rnd(100);
    op->kind = r < 30 ? OP_MAP : r < 50 ? OP_CONTIG : r < 75 ? OP_UNMAP : r < 90 ? OP_PROTECT
                                                                                 : OP_QUERY;
    if (next_gig)
        op->kind = OP_CONTIG;
    op->s = pick_start();
    if ((op->kind == OP_UNMAP || op->kind == OP_PROTECT) && rnd(100) < INSIDE_LARGE_PERCENT)
        pick_inside_large(&op->s);
    op->flags = random_flags();
    op->existing = (enum arch_existing_action)rnd(3);
    op->enlarge = (enum arch_unmap_enlarge)rnd(2);
    size_t n = pick_len(op->s, op->kind == OP_UNMAP || op->kind == OP_PROTECT);
    if (op->kind == OP_PROTECT && rnd(10) == 0)
        op->flags &= ~R; /* protect without READ unmaps */
    if ((op->kind == OP_UNMAP || op->kind == OP_PROTECT) && rnd(1000) < GIG_OP_PERMILLE) {
        size_t g = around_gig(op, 2 * PAGES_2M); /* clears (or reprotects) a 1 GiB region */
        n = op->e - op->s;
        if (op->kind == OP_UNMAP && rnd(2))
            next_gig = g + 1; /* and the next operation maps it again */
    }
    if (op->kind == OP_CONTIG) {
        size_t m = next_gig ? 0 : rnd(100), align = next_gig ? 0 : rnd(100);
        if (m < 15) {
            around_gig(op, PAGES_2M + 8); /* can use a 1 GiB page */
            n = op->e - op->s;
        } else if (m < 55) {
            n = min_sz(PAGES_2M + rnd(3 * PAGES_2M), WIN_PAGES - op->s);
        }
        next_gig = 0;
        size_t va_off = (size_t)(va_of(op->s) % SIZE_1G);
        paddr_t base = MMU_ENV_TARGET_BASE + rnd(TARGET_GIGS) * SIZE_1G;
        op->pa = align < 50   ? base + va_off                       /* 1G-congruent */
                 : align < 80 ? base + va_off % SIZE_2M + rnd(511) * SIZE_2M
                              : base + rnd(PAGES_1G) * SIZE_4K;
    }
    if (op->kind == OP_MAP) {
        bool run = rnd(2);
        paddr_t base = MMU_ENV_TARGET_BASE + rnd(TARGET_GIGS * PAGES_1G) * SIZE_4K;
        for (size_t i = 0; i < n; i++)
            phys[i] = run ? base + i * SIZE_4K
                          : MMU_ENV_TARGET_BASE + rnd(TARGET_GIGS * PAGES_1G) * SIZE_4K;
    }
    op->e = op->s + n;
    snprintf(op_text, sizeof(op_text), "%s va 0x%llx pages %zu flags 0x%x existing %d "
             "enlarge %d pa 0x%llx page1g %d", op_names[op->kind],
             (unsigned long long)va_of(op->s), n, op->flags, op->existing, op->enlarge,
             (unsigned long long)op->pa, mmu_hw_host.page1g);
}

/* map_contiguous as the model expects it: greedy 1G, 2M, then 4K. */
static void model_contig(const struct op *op) {
    paddr_t pa = op->pa;
    for (size_t p = op->s; p < op->e;) {
        size_t left = op->e - p;
        if (mmu_hw_host.page1g && p % PAGES_1G == 0 && pa % SIZE_1G == 0 && left >= PAGES_1G) {
            set_1g((unsigned)(p / PAGES_1G), pa, (uint8_t)op->flags);
            p += PAGES_1G, pa += SIZE_1G, stat_1g++;
        } else if (p % PAGES_2M == 0 && pa % SIZE_2M == 0 && left >= PAGES_2M) {
            set_2m(p / PAGES_2M, pa, (uint8_t)op->flags);
            p += PAGES_2M, pa += SIZE_2M, stat_2m++;
        } else {
            set_4k(p, pa, (uint8_t)op->flags);
            p++, pa += SIZE_4K;
        }
    }
}

/* arch_mmu_map as the model expects it. Returns the pages newly mapped. */
static size_t model_map(const struct op *op) {
    if (op->existing == ARCH_EXISTING_UPGRADE) {
        for (size_t p = op->s; p < op->e; p = gig_start(p) + PAGES_1G)
            if (gig[p / PAGES_1G].is1g)
                split_gig((unsigned)(p / PAGES_1G));
        for (size_t p = op->s; p < op->e; p = blk_start(p) + PAGES_2M)
            if (blk[p / PAGES_2M].is2m)
                split_blk(p / PAGES_2M);
    }
    size_t count = 0;
    for (size_t p = op->s; p < op->e; p++) {
        if (op->existing == ARCH_EXISTING_SKIP && model_get(p).es != ES_NONE)
            continue;
        set_4k(p, phys[p - op->s], (uint8_t)op->flags);
        count++;
    }
    return count;
}

static void run_op(const struct op *op) {
    size_t n = op->e - op->s, out = SIZE_MAX, a, b;
    vaddr_t va = va_of(op->s);
    zx_status_t st, want = ZX_OK;
    extent(op->s, op->e, &a, &b);
    bool split_s = large_at(op->s), split_e = large_at(op->e - 1);
    bool needs_split = crosses(op->s) || crosses(op->e);
    size_t mapped_before = total_mapped;
    struct readback rb = {op, false, false, false, 0};

    switch (op->kind) {
    case OP_MAP:
        if (op->existing == ARCH_EXISTING_ERROR && any_mapped(op->s, op->e))
            want = ZX_ERR_ALREADY_EXISTS;
        st = arch_mmu_map(as, va, phys, n, op->flags, op->existing, &out);
        rb.allow_split = op->existing == ARCH_EXISTING_UPGRADE;
        break;
    case OP_CONTIG:
        if (any_mapped(op->s, op->e))
            want = ZX_ERR_ALREADY_EXISTS;
        st = arch_mmu_map_contiguous(as, va, op->pa, n, op->flags, &out);
        break;
    case OP_UNMAP:
        st = arch_mmu_unmap(as, va, n, op->enlarge, &out);
        rb.allow_new = rb.allow_split = true;
        break;
    case OP_PROTECT:
        st = arch_mmu_protect(as, va, n, op->flags);
        rb.allow_new = rb.allow_split = true;
        break;
    default:
        check_span(op->s, op->e, n <= CHECK_ALL_LIMIT ? CHECK_ALL : CHECK_ENTRIES);
        stat_ok[op->kind]++;
        return;
    }

    if (st == ZX_ERR_NO_MEMORY && phase == 2 && want == ZX_OK) {
        stat_nomem[op->kind]++;
        bool may_fail = op->kind == OP_MAP || op->kind == OP_CONTIG ||
                        (op->kind == OP_UNMAP && op->enlarge == ARCH_UNMAP_ENLARGE_NO &&
                         needs_split) || (op->kind == OP_PROTECT && needs_split);
        if (!may_fail) {
            MFAIL("NO_MEMORY from an operation that needs no allocation%s",
                  op->kind == OP_UNMAP && op->enlarge ? " (enlarge YES must not fail)" : "");
            return;
        }
        readback_span(&rb, a, b);
        if (op->kind == OP_MAP || op->kind == OP_CONTIG) {
            if (out != 0)
                MFAIL("NO_MEMORY with *mapped %zu, expected 0", out);
        } else if (op->kind == OP_UNMAP && out != rb.unmapped) {
            MFAIL("NO_MEMORY with *unmapped %zu but %zu pages went away", out, rb.unmapped);
        }
        return;
    }
    if (st == ZX_ERR_NO_MEMORY && phase == 2 && want == ZX_ERR_ALREADY_EXISTS)
        st = want; /* may run out of memory before finding the existing page */
    if (st != want) {
        MFAIL("status %d, model expects %d", st, want);
        return;
    }
    if (want == ZX_ERR_ALREADY_EXISTS) {
        stat_exists++;
        if (out != 0)
            MFAIL("ALREADY_EXISTS with *mapped %zu, expected 0", out);
        check_span(a, b, CHECK_SAMPLE);
        return;
    }
    stat_ok[op->kind]++;
    size_t expect_out = 0;
    switch (op->kind) {
    case OP_MAP:
        expect_out = model_map(op);
        break;
    case OP_CONTIG:
        model_contig(op);
        expect_out = n;
        break;
    case OP_UNMAP:
        if (op->enlarge == ARCH_UNMAP_ENLARGE_YES) {
            resolve_enlarge(op->s, op->e);
        }
        model_change(op->s, op->e, 0);
        expect_out = mapped_before - total_mapped;
        break;
    default:
        model_change(op->s, op->e, op->flags);
        expect_out = out = 0;
        break;
    }
    if (out != expect_out)
        MFAIL("*count %zu, model expects %zu", out, expect_out);
    check_span(op->s, op->e, n <= CHECK_ALL_LIMIT ? CHECK_ALL : CHECK_ENTRIES);
    check_span(a, op->s, split_s ? CHECK_ENTRIES : CHECK_SAMPLE);
    check_span(op->e, b, split_e ? CHECK_ENTRIES : CHECK_SAMPLE);
}

static void run_phase(int which, size_t nops) {
    phase = which;
    rng = seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)which);
    if (!rng)
        rng = 1;
    if (which == 2)
        pmm_fault_inject_random(seed + 1, INJECT_PERMILLE);
    memset(stat_ok, 0, sizeof(stat_ok));
    memset(stat_nomem, 0, sizeof(stat_nomem));
    stat_exists = stat_1g = stat_2m = 0;
    size_t max_tables = 0;
    /* MMU_MODEL_DUMP_OP=<phase>:<op> dumps the aspace around that operation (debugging) */
    const char *dump_env = getenv("MMU_MODEL_DUMP_OP");
    int dump_phase = 0;
    size_t dump_op = SIZE_MAX;
    if (dump_env && sscanf(dump_env, "%d:%zu", &dump_phase, &dump_op) != 2)
        dump_op = SIZE_MAX;
    for (op_no = 0; op_no < nops && !failed; op_no++) {
        if (op_no % PAGE1G_PERIOD == 0)
            mmu_hw_host.page1g = rnd(4) != 0;
        struct op op;
        gen_op(&op);
        bool dump = dump_phase == which && dump_op == op_no;
        if (dump) {
            printf("--- before %s\n", op_text);
            arch_mmu_dump(as, WIN_BASE, WIN_PAGES * SIZE_4K);
        }
        run_op(&op);
        if (dump) {
            printf("--- after\n");
            arch_mmu_dump(as, WIN_BASE, WIN_PAGES * SIZE_4K);
        }
        check_tables();
        spot_checks();
        if (model_tables() > max_tables)
            max_tables = model_tables();
        if (op_no % SWEEP_EVERY == SWEEP_EVERY - 1)
            check_span(0, WIN_PAGES, CHECK_ENTRIES);
    }
    pmm_fault_inject_random(0, 0);
    if (!failed)
        check_span(0, WIN_PAGES, CHECK_ENTRIES);
    printf("    phase %d: %zu ops; ok map %zu contig %zu unmap %zu protect %zu query %zu; "
           "exists %zu; no-memory map %zu contig %zu unmap %zu protect %zu; "
           "1G pages %zu, 2M pages %zu; max tables %zu\n", which, op_no, stat_ok[OP_MAP],
           stat_ok[OP_CONTIG], stat_ok[OP_UNMAP], stat_ok[OP_PROTECT], stat_ok[OP_QUERY],
           stat_exists, stat_nomem[OP_MAP], stat_nomem[OP_CONTIG], stat_nomem[OP_UNMAP],
           stat_nomem[OP_PROTECT], stat_1g, stat_2m, max_tables);
}

/*
 * Proves that over 210,000 random operations the engine's translations, entry sizes,
 * out-counts and table-page count match the reference model, with and without random
 * allocation failures, and that nothing leaks.
 */
HTEST(mmu_model, random_ops) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    seed = htest_seed();
    failed = false;
    pg_pa = calloc(WIN_PAGES, sizeof(*pg_pa));
    pg_flags = calloc(WIN_PAGES, sizeof(*pg_flags));
    pg_on = calloc(WIN_PAGES, sizeof(*pg_on));
    ASSERT_TRUE(pg_pa && pg_flags && pg_on); /* the rest of the model starts zeroed */
    ASSERT_OK(arch_mmu_create(0, MMU_USER_TOP, ARCH_ASPACE_INDEPENDENT, &as));
    run_phase(1, PHASE1_OPS);
    if (!failed)
        run_phase(2, PHASE2_OPS);
    pmm_fault_inject_random(0, 0);
    mmu_hw_host.page1g = true;
    EXPECT_OK(arch_mmu_unmap(as, WIN_BASE, WIN_PAGES, ARCH_UNMAP_ENLARGE_NO, NULL));
    EXPECT_EQ(arch_mmu_table_pages(as), 1u);
    EXPECT_OK(arch_mmu_destroy(as));
    free(pg_pa);
    free(pg_flags);
    free(pg_on);
    MMU_ENV_FINI();
}
