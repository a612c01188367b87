/*
 * Random model checker of the page-table engine against the TLB model (tlb_model.h):
 * whatever the engine returns, no simulated CPU may be left able to reach a freed table
 * page, an unmapped page, or a translation with more permission than the tables grant,
 * and no CPU may ever cache two page sizes that disagree.
 *
 * Six aspaces: an independent one (A), a shared + restricted pair with their unified
 * aspace (S, R, U), an empty one (I, what a CPU runs when it runs nothing of these) and a
 * kernel-half one (K) whose global leaves every CPU translates (tlb_model_set_kernel)
 * and whose changes the engine sends to every CPU.
 * Operations (map with each existing-entry policy, map_contiguous with 1 GiB and 2 MiB
 * pages where they fit, unmap with and without enlarge, protect, harvest with both
 * actions, query) go to a 4 GiB window of A, R, S or K, at addresses concentrated near
 * 2 MiB, 1 GiB and 512 GiB boundaries, from a random simulated CPU. Between operations
 * CPUs switch aspaces and touch pages (recently used ranges, mostly); a quarter of the
 * maps, unmaps and protects start inside a large page of a recently used range (a split
 * of a page CPUs cache whole). The model checks after every operation (and during it, at
 * every invalidation and table unlink).
 *
 * Phase 1 runs without allocation failures, phase 2 fails PMM allocations at random.
 * The operations' results are not predicted here (test_mmu_model.c does that); only
 * teardown checks that every page came back. The seed is printed; HTEST_SEED=<seed>
 * replays a run.
 */
#include "htest.h"
#include "mmu_host_env.h"
#include "tlb_model.h"

#include <stdlib.h>

#include <phys/pmm.h>

#define R ARCH_MMU_FLAG_PERM_READ

#define NCPUS 4
#define PHASE1_OPS 150000
#define PHASE2_OPS 60000
#define INJECT_PERMILLE 100   /* phase 2: each PMM allocation fails with p = 10% */
#define SWITCH_PERCENT 8      /* chance per operation that some CPU switches aspace */
#define TOUCH_PERCENT 50      /* chance per CPU per operation of touching pages */
#define TOUCHES 2
#define RECENT 8              /* ranges remembered for touches */
#define MAX_MAP_RUN 1024
#define BIG_OP_PERMILLE 6     /* unmap/protect/harvest/contig over up to 1 GiB + 4 MiB */
#define TARGET_GIGS 64        /* physical targets: [1 TiB, 1 TiB + 64 GiB) */
#define WIN_GIGS 4
#define WIN_PAGES (WIN_GIGS * PAGES_1G)
#define INSIDE_LARGE_PERCENT 25 /* map/unmap/protect starting inside a large page */
#define LARGE_PROBES 4

/* Windows: A and R cross the 512 GiB boundary (PML4 slots 0 and 1); S lives in slot 2. */
#define WIN_LOW ((vaddr_t)(SIZE_512G - 2 * SIZE_1G))
#define WIN_SHARED ((vaddr_t)(2 * SIZE_512G))
#define RESTR_SIZE ((size_t)(2 * SIZE_512G))
#define SHARED_SIZE SIZE_512G
/* K, the stand-in for the kernel aspace: two slots of the kernel half, global leaves. */
#define KERNEL_SIZE ((size_t)(2 * SIZE_512G))
#define WIN_KERNEL ((vaddr_t)(MMU_KERNEL_BASE + SIZE_512G - 2 * SIZE_1G))

enum { AS_A, AS_R, AS_S, AS_K, AS_U, AS_I, NR_AS };
enum op_kind { OP_MAP, OP_CONTIG, OP_UNMAP, OP_PROTECT, OP_HARVEST, OP_QUERY, NR_OPS };
static const char *const op_names[NR_OPS] = {"map", "map_contiguous", "unmap", "protect",
                                             "harvest", "query"};

static arch_aspace_t *asp[NR_AS];
static const char *const as_names[NR_AS] = {"A", "R", "S", "K", "U", "I"};
static paddr_t phys[MAX_MAP_RUN];
static uint64_t rng, seed;
static int phase;
static size_t op_no;
static char op_text[256];
static bool failed;
static size_t stat_ok[NR_OPS], stat_err[NR_OPS], stat_harvested;
static vaddr_t recent_va[RECENT];
static size_t recent_pages[RECENT];
static unsigned recent_as[RECENT];
static unsigned recent_next;

static uint64_t rnd64(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}
static size_t rnd(size_t n) { return n ? (size_t)(rnd64() % n) : 0; }
static long rnd_signed(long n) { return (long)rnd((size_t)(2 * n + 1)) - n; }
static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

static void report(int line) {
    if (failed)
        return;
    failed = true;
    htest_fail(__FILE__, line, "seed 0x%llx phase %d op #%zu [%s]: %s (replay: HTEST_SEED=0x%llx)",
               (unsigned long long)seed, phase, op_no, op_text, tlb_model_error(),
               (unsigned long long)seed);
}

/* A page index in a window, near a 2 MiB, 1 GiB or 512 GiB boundary most of the time. */
static size_t pick_start(bool low_window) {
    long p;
    size_t r = rnd(100);
    if (r < 35)
        p = (long)(rnd(WIN_PAGES / PAGES_2M + 1) * PAGES_2M) + rnd_signed(8);
    else if (r < 55)
        p = (long)(rnd(WIN_GIGS + 1) * PAGES_1G) + rnd_signed(3) * (long)PAGES_2M + rnd_signed(8);
    else if (r < 70 && low_window)
        p = (long)(2 * PAGES_1G) + rnd_signed(4) * (long)PAGES_2M + rnd_signed(8);
    else
        p = (long)rnd(WIN_PAGES);
    return p < 0 ? 0 : p >= (long)WIN_PAGES ? WIN_PAGES - 1 : (size_t)p;
}

static size_t pick_len(size_t s, bool big_ok) {
    size_t r = rnd(1000), n;
    if (big_ok && r < BIG_OP_PERMILLE)
        n = 1 + rnd(PAGES_1G + 2 * PAGES_2M);
    else if (r < 550)
        n = 1 + rnd(16);
    else if (r < 850)
        n = 1 + rnd(PAGES_2M + 8);
    else
        n = 1 + rnd(3 * PAGES_2M);
    return min_sz(n, WIN_PAGES - s);
}

static uint32_t random_flags(void) {
    static const uint32_t caches[] = {ARCH_MMU_FLAG_CACHED, ARCH_MMU_FLAG_UNCACHED,
                                      ARCH_MMU_FLAG_UNCACHED_DEVICE,
                                      ARCH_MMU_FLAG_WRITE_COMBINING};
    uint32_t perms = (uint32_t)rnd(8) << 1; /* W, X, U */
    return R | perms | (rnd(4) == 0 ? caches[rnd(4)] : ARCH_MMU_FLAG_CACHED);
}

static paddr_t random_target(void) {
    return MMU_ENV_TARGET_BASE + rnd(TARGET_GIGS * PAGES_1G) * SIZE_4K;
}

static void harvest_cb(void *ctx, vaddr_t va, paddr_t pa) {
    (void)ctx;
    (void)va;
    (void)pa;
    stat_harvested++;
}

static const vaddr_t windows[NR_AS] = {WIN_LOW, WIN_LOW, WIN_SHARED, WIN_KERNEL};

/*
 * A page strictly inside a large page of a recently used range, if a few queries find
 * one: *t and *s get its aspace and page index in the window. Splits of pages that CPUs
 * cache whole are where the invalidation order matters most.
 */
static bool pick_inside_large(unsigned *t, size_t *s) {
    for (int i = 0; i < LARGE_PROBES; i++) {
        unsigned k = (unsigned)rnd(RECENT);
        if (!recent_pages[k])
            continue;
        vaddr_t va = recent_va[k] + rnd(recent_pages[k]) * SIZE_4K;
        size_t size = 0;
        if (arch_mmu_query(asp[recent_as[k]], va, NULL, NULL, &size) != ZX_OK || size == SIZE_4K)
            continue;
        vaddr_t inside = ROUNDDOWN(va, size) + (1 + rnd(size / SIZE_4K - 1)) * SIZE_4K;
        if (inside < windows[recent_as[k]] || inside >= windows[recent_as[k]] + WIN_PAGES * SIZE_4K)
            continue;
        *t = recent_as[k];
        *s = (inside - windows[*t]) / SIZE_4K;
        return true;
    }
    return false;
}

/* One random operation on A, R, S or K, run on a random CPU. */
static void run_op(void) {
    static const unsigned targets[] = {AS_A, AS_A, AS_R, AS_S, AS_K};
    unsigned t = targets[rnd(sizeof(targets) / sizeof(targets[0]))];
    size_t r = rnd(100);
    enum op_kind kind = r < 26 ? OP_MAP : r < 44 ? OP_CONTIG : r < 68 ? OP_UNMAP
                      : r < 84 ? OP_PROTECT : r < 92 ? OP_HARVEST : OP_QUERY;
    size_t s = pick_start(t != AS_S);
    if ((kind == OP_MAP || kind == OP_UNMAP || kind == OP_PROTECT) &&
        rnd(100) < INSIDE_LARGE_PERCENT)
        pick_inside_large(&t, &s);
    arch_aspace_t *as = asp[t];
    vaddr_t win = windows[t];
    size_t n = kind == OP_MAP ? min_sz(pick_len(s, false), MAX_MAP_RUN)
                              : pick_len(s, kind != OP_QUERY);
    vaddr_t va = win + s * SIZE_4K;
    uint32_t flags = random_flags() & (t == AS_K ? ~ARCH_MMU_FLAG_PERM_USER : ~0u);
    enum arch_existing_action existing = (enum arch_existing_action)rnd(3);
    enum arch_unmap_enlarge enlarge = (enum arch_unmap_enlarge)rnd(2);
    enum arch_harvest_action action = (enum arch_harvest_action)rnd(2);
    paddr_t pa = 0;
    unsigned cpu = (unsigned)rnd(NCPUS);
    if (kind == OP_CONTIG) {
        size_t align = rnd(100);
        paddr_t base = MMU_ENV_TARGET_BASE + rnd(TARGET_GIGS) * SIZE_1G;
        pa = align < 50   ? base + va % SIZE_1G                        /* 1G-congruent */
             : align < 80 ? base + va % SIZE_2M + rnd(511) * SIZE_2M /* 2M-congruent */
                          : random_target();
    }
    if (kind == OP_PROTECT && rnd(10) == 0)
        flags &= ~R; /* protect without READ unmaps */
    snprintf(op_text, sizeof(op_text), "%s on %s by cpu %u va 0x%llx pages %zu flags 0x%x "
             "existing %d enlarge %d harvest %d pa 0x%llx", op_names[kind], as_names[t], cpu,
             (unsigned long long)va, n, flags, existing, enlarge, action,
             (unsigned long long)pa);
    tlb_model_run_on(cpu);
    tlb_model_set_hot(va, n * SIZE_4K);
    zx_status_t st = ZX_OK;
    switch (kind) {
    case OP_MAP: {
        bool run = rnd(2);
        paddr_t base = random_target();
        for (size_t i = 0; i < n; i++)
            phys[i] = run ? base + i * SIZE_4K : random_target();
        st = arch_mmu_map(as, va, phys, n, flags, existing, NULL);
        break;
    }
    case OP_CONTIG:
        st = arch_mmu_map_contiguous(as, va, pa, n, flags, NULL);
        break;
    case OP_UNMAP:
        st = arch_mmu_unmap(as, va, n, enlarge, NULL);
        break;
    case OP_PROTECT:
        st = arch_mmu_protect(as, va, n, flags);
        break;
    case OP_HARVEST:
        st = arch_mmu_harvest_accessed(as, va, n, action, harvest_cb, NULL, NULL);
        break;
    default:
        st = arch_mmu_query(as, va, NULL, NULL, NULL);
        st = st == ZX_ERR_NOT_FOUND ? ZX_OK : st;
        break;
    }
    if (st == ZX_OK) {
        stat_ok[kind]++;
    } else if (st == ZX_ERR_ALREADY_EXISTS || (st == ZX_ERR_NO_MEMORY && phase == 2)) {
        stat_err[kind]++;
    } else {
        snprintf(op_text + strlen(op_text), sizeof(op_text) - strlen(op_text),
                 " -> unexpected status %d", st);
        htest_fail(__FILE__, __LINE__, "seed 0x%llx phase %d op #%zu [%s]",
                   (unsigned long long)seed, phase, op_no, op_text);
        failed = true;
        return;
    }
    if (kind != OP_QUERY) {
        recent_va[recent_next] = va;
        recent_pages[recent_next] = n;
        recent_as[recent_next] = t;
        recent_next = (recent_next + 1) % RECENT;
    }
    if (!tlb_model_check())
        report(__LINE__);
}

/* What the CPUs do between operations: now and then a context switch, and accesses. */
static void run_cpus(void) {
    if (rnd(100) < SWITCH_PERCENT) {
        static const unsigned choice[] = {AS_A, AS_A, AS_U, AS_U, AS_R, AS_S, AS_I};
        tlb_model_switch((unsigned)rnd(NCPUS), asp[choice[rnd(sizeof(choice) / sizeof(choice[0]))]]);
    }
    for (unsigned c = 0; c < NCPUS; c++) {
        if (rnd(100) >= TOUCH_PERCENT)
            continue;
        for (int i = 0; i < TOUCHES; i++) {
            unsigned k = (unsigned)rnd(RECENT);
            vaddr_t va = recent_pages[k] ? recent_va[k] + rnd(recent_pages[k]) * SIZE_4K
                                         : windows[rnd(AS_K + 1)] + rnd(WIN_PAGES) * SIZE_4K;
            tlb_model_touch(c, va, rnd(2));
        }
    }
    if (tlb_model_failed())
        report(__LINE__);
}

static void run_phase(int which, size_t nops) {
    phase = which;
    rng = seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)which);
    if (!rng)
        rng = 1;
    if (which == 2)
        pmm_fault_inject_random(seed + 1, INJECT_PERMILLE);
    memset(stat_ok, 0, sizeof(stat_ok));
    memset(stat_err, 0, sizeof(stat_err));
    for (op_no = 0; op_no < nops && !failed; op_no++) {
        run_op();
        if (!failed)
            run_cpus();
    }
    pmm_fault_inject_random(0, 0);
    printf("    phase %d: %zu ops; ok map %zu contig %zu unmap %zu protect %zu harvest %zu "
           "query %zu; exists/no-memory map %zu contig %zu unmap %zu protect %zu\n", which,
           op_no, stat_ok[OP_MAP], stat_ok[OP_CONTIG], stat_ok[OP_UNMAP], stat_ok[OP_PROTECT],
           stat_ok[OP_HARVEST], stat_ok[OP_QUERY], stat_err[OP_MAP], stat_err[OP_CONTIG],
           stat_err[OP_UNMAP], stat_err[OP_PROTECT]);
}

/*
 * Over 210,000 random operations with four simulated CPUs running the aspaces, no CPU
 * ever caches what the tables no longer allow or what the engine freed, with and without
 * allocation failures; nothing leaks.
 */
HTEST(mmu_tlb, random_ops_with_four_cpus) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    seed = htest_seed();
    failed = false;
    printf("    seed 0x%llx (HTEST_SEED replays it)\n", (unsigned long long)seed);
    tlb_model_install(NCPUS, seed, SIM_BASE, SIM_BASE + MMU_ENV_DEFAULT_BYTES);
    ASSERT_OK(arch_mmu_create(0, MMU_USER_TOP, ARCH_ASPACE_INDEPENDENT, &asp[AS_A]));
    ASSERT_OK(arch_mmu_create(0, RESTR_SIZE, ARCH_ASPACE_RESTRICTED, &asp[AS_R]));
    ASSERT_OK(arch_mmu_create(WIN_SHARED, SHARED_SIZE, ARCH_ASPACE_SHARED, &asp[AS_S]));
    ASSERT_OK(arch_mmu_create_unified(asp[AS_S], asp[AS_R], &asp[AS_U]));
    ASSERT_OK(arch_mmu_create(0, MMU_USER_TOP, ARCH_ASPACE_INDEPENDENT, &asp[AS_I]));
    ASSERT_OK(arch_mmu_create(MMU_KERNEL_BASE, KERNEL_SIZE, ARCH_ASPACE_INDEPENDENT, &asp[AS_K]));
    tlb_model_set_kernel(asp[AS_K]);
    for (unsigned c = 0; c < NCPUS; c++)
        tlb_model_switch(c, asp[c % 2 ? AS_U : AS_A]);
    run_phase(1, PHASE1_OPS);
    if (!failed)
        run_phase(2, PHASE2_OPS);
    const struct tlb_model_stats *st = tlb_model_stats();
    printf("    model: %llu fills, %llu cached table entries, %llu speculative walks, "
           "%llu invalidations (%llu by IPI), %llu tables unlinked under a CPU, %llu "
           "harvested\n", (unsigned long long)st->fills, (unsigned long long)st->psc_fills,
           (unsigned long long)st->spec_walks, (unsigned long long)st->drops,
           (unsigned long long)st->ipis, (unsigned long long)st->unlinked,
           (unsigned long long)stat_harvested);
    for (unsigned c = 0; c < NCPUS; c++)
        tlb_model_switch(c, NULL);
    EXPECT_OK(arch_mmu_unmap(asp[AS_A], WIN_LOW, WIN_PAGES, ARCH_UNMAP_ENLARGE_YES, NULL));
    EXPECT_OK(arch_mmu_unmap(asp[AS_R], WIN_LOW, WIN_PAGES, ARCH_UNMAP_ENLARGE_YES, NULL));
    EXPECT_OK(arch_mmu_unmap(asp[AS_S], WIN_SHARED, WIN_PAGES, ARCH_UNMAP_ENLARGE_YES, NULL));
    EXPECT_OK(arch_mmu_unmap(asp[AS_K], WIN_KERNEL, WIN_PAGES, ARCH_UNMAP_ENLARGE_YES, NULL));
    EXPECT_OK(arch_mmu_destroy(asp[AS_U]));
    for (unsigned i = 0; i < NR_AS; i++)
        if (i != AS_U)
            EXPECT_OK(arch_mmu_destroy(asp[i]));
    tlb_model_uninstall();
    MMU_ENV_FINI();
}
