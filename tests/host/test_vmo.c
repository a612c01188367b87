/*
 * Host tests for VMOs (kernel/vm/vmo.c, vmo_ops.c, vmo_child.c) over
 * the real PMM, heap and page tree on simulated memory (mmu_host_env).
 *
 * The main test is model-based: random operations on a resizable paged VMO and on two
 * fake mappings (which "fault in" pages through vmo_get_page and forget them when told
 * to by unmap_range), with and without PMM fault injection, checked after every step
 * against a byte-array model. The mapping check is the important one: a mapping must
 * never keep a translation to a page that is no longer the VMO's page at that offset
 * (freed, or a zero page that a commit has replaced). HTEST_SEED=... replays a run.
 *
 * Every test ends by checking that the PMM is back at its baseline (taken after the zero
 * page was allocated) and that the heap is empty.
 */
#include "htest.h"

#include <stdlib.h>

#include <phys/heap.h>
#include <phys/physmap.h>
#include <phys/pmm.h>
#include <vm/vmo.h>

#include "mmu_host_env.h"
#include "vmo_host.h"

#define MODEL_PAGES 48
#define MODEL_BYTES (MODEL_PAGES * PAGE_SIZE)
#define MODEL_STEPS 40000
#define MODEL_CHECK_EVERY 16     /* full content check every N steps */
#define INJECT_PERMILLE 150      /* allocation failure rate in the injected phases */
#define INJECT_PHASE_STEPS 2000  /* steps per phase (phases alternate on/off) */
#define NLINKS 2

/* ---- Fake mappings ----------------------------------------------------------------- */

struct fake_mapping {
    struct vmo_mapping_link link;
    paddr_t pa[MODEL_PAGES]; /* 0 = not mapped */
    bool writable[MODEL_PAGES];
    size_t bad_calls;        /* unaligned or outside the window */
};

static void fake_unmap_range(struct vmo_mapping_link *l, uint64_t off, uint64_t len) {
    struct fake_mapping *m = containerof(l, struct fake_mapping, link);
    if (off % P || len % P || len == 0 || off < l->vmo_offset ||
        off + len > l->vmo_offset + l->len) {
        m->bad_calls++;
        return;
    }
    for (uint64_t i = off / P; i < (off + len) / P && i < MODEL_PAGES; i++)
        m->pa[i] = 0;
}

static const struct vmo_mapping_ops fake_ops = {.unmap_range = fake_unmap_range};

static void fake_init(struct fake_mapping *m, uint64_t off, uint64_t len) {
    memset(m, 0, sizeof(*m));
    m->link.ops = &fake_ops;
    m->link.vmo_offset = off;
    m->link.len = len;
}

/* ---- The model --------------------------------------------------------------------- */

struct model {
    vmo_t *vmo;
    uint64_t size;
    uint8_t data[MODEL_BYTES];
    bool committed[MODEL_PAGES];
    struct fake_mapping maps[NLINKS];
    uint64_t rng;
};

static uint8_t scratch[MODEL_BYTES];
static uint8_t readback[MODEL_BYTES];

static uint64_t rnd(struct model *m) {
    uint64_t x = m->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    m->rng = x;
    return x;
}

static uint64_t rnd_below(struct model *m, uint64_t n) { return n ? rnd(m) % n : 0; }

static size_t model_committed_count(const struct model *m) {
    size_t n = 0;
    for (size_t i = 0; i < MODEL_PAGES; i++)
        n += m->committed[i];
    return n;
}

/* A random range, mostly inside [0, size], sometimes past it. */
static void rnd_range(struct model *m, uint64_t *off, uint64_t *len) {
    uint64_t limit = m->size + (rnd_below(m, 8) == 0 ? 2 * P : 0);
    *off = rnd_below(m, limit + 1);
    uint64_t max_len = limit - *off;
    switch (rnd_below(m, 4)) {
    case 0: *len = 0; break;
    case 1: *len = rnd_below(m, MIN(max_len, 64) + 1); break;
    default: *len = rnd_below(m, max_len + 1); break;
    }
    if (rnd_below(m, 4) == 0) { /* page-aligned variant */
        *off = ROUNDDOWN(*off, P);
        *len = ROUNDUP(*len, P);
    }
}

static bool in_range(const struct model *m, uint64_t off, uint64_t len) {
    return off <= m->size && len <= m->size - off;
}

/* Pages [first, last) covered by a byte range. */
static void covered(uint64_t off, uint64_t len, uint64_t *first, uint64_t *last) {
    *first = off / P;
    *last = len ? ROUNDUP(off + len, P) / P : *first;
}

static void model_drop_page(struct model *m, uint64_t i) {
    m->committed[i] = false;
    memset(m->data + i * P, 0, P);
}

/* Checks that every translation a fake mapping holds is still right. */
static void check_mappings(struct model *m, uint64_t step) {
    for (int k = 0; k < NLINKS; k++) {
        struct fake_mapping *fm = &m->maps[k];
        if (fm->bad_calls) {
            htest_fail(__FILE__, __LINE__, "step %llu: map %d got %zu bad unmap calls",
                       (unsigned long long)step, k, fm->bad_calls);
            fm->bad_calls = 0;
        }
        for (uint64_t i = 0; i < MODEL_PAGES; i++) {
            if (!fm->pa[i])
                continue;
            paddr_t pa;
            bool w;
            zx_status_t st = vmo_get_page(m->vmo, i * P, false, &pa, &w);
            if (st != ZX_OK || pa != fm->pa[i] || w != fm->writable[i] ||
                memcmp(paddr_to_physmap(pa), m->data + i * P, P) != 0) {
                htest_fail(__FILE__, __LINE__,
                           "step %llu: map %d page %llu stale (status %d, pa %#llx, "
                           "mapped %#llx, committed %d)",
                           (unsigned long long)step, k, (unsigned long long)i, st,
                           (unsigned long long)pa, (unsigned long long)fm->pa[i],
                           m->committed[i]);
                fm->pa[i] = 0;
            }
        }
    }
}

static zx_status_t collect_committed(void *ctx, uint64_t off, paddr_t pa) {
    bool *seen = ctx;
    if (off / P < MODEL_PAGES)
        seen[off / P] = true;
    return ZX_OK;
}

static void check_all(struct model *m, uint64_t step) {
    ASSERT_EQ(vmo_size(m->vmo), m->size);
    ASSERT_EQ(vmo_committed_pages(m->vmo), model_committed_count(m));
    bool seen[MODEL_PAGES] = {0};
    ASSERT_OK(vmo_for_each_committed(m->vmo, 0, m->size, collect_committed, seen));
    for (size_t i = 0; i < MODEL_PAGES; i++) {
        if (seen[i] != m->committed[i]) {
            htest_fail(__FILE__, __LINE__, "step %llu: page %zu committed %d, model %d",
                       (unsigned long long)step, i, seen[i], m->committed[i]);
            return;
        }
    }
    struct copy_ctx c = {readback, 0};
    ASSERT_OK(vmo_read(m->vmo, 0, m->size, copy_out, &c));
    for (size_t i = 0; i < m->size; i++) {
        if (readback[i] != m->data[i]) {
            htest_fail(__FILE__, __LINE__, "step %llu: byte %zu is %#x, model %#x",
                       (unsigned long long)step, i, readback[i], m->data[i]);
            return;
        }
    }
}

static void op_write(struct model *m) {
    uint64_t off, len;
    rnd_range(m, &off, &len);
    for (uint64_t i = 0; i < len; i++)
        scratch[i] = (uint8_t)rnd(m);
    struct copy_ctx c = {scratch, 0};
    zx_status_t st = vmo_write(m->vmo, off, len, copy_in, &c);
    if (!in_range(m, off, len)) {
        EXPECT_STATUS(st, ZX_ERR_OUT_OF_RANGE);
        EXPECT_EQ(c.copied, 0u);
        return;
    }
    if (st != ZX_OK)
        EXPECT_STATUS(st, ZX_ERR_NO_MEMORY);
    else
        EXPECT_EQ(c.copied, len);
    /* Whatever was copied landed, and committed the pages it touched. */
    memcpy(m->data + off, scratch, c.copied);
    uint64_t first, last;
    covered(off, c.copied, &first, &last);
    for (uint64_t i = first; i < last; i++)
        m->committed[i] = true;
}

static void op_read(struct model *m) {
    uint64_t off, len;
    rnd_range(m, &off, &len);
    size_t before = vmo_committed_pages(m->vmo);
    struct copy_ctx c = {readback, 0};
    zx_status_t st = vmo_read(m->vmo, off, len, copy_out, &c);
    if (!in_range(m, off, len)) {
        EXPECT_STATUS(st, ZX_ERR_OUT_OF_RANGE);
        return;
    }
    EXPECT_OK(st);
    EXPECT_EQ(memcmp(readback, m->data + off, len), 0);
    EXPECT_EQ(vmo_committed_pages(m->vmo), before);
}

static void op_commit(struct model *m) {
    uint64_t off, len;
    rnd_range(m, &off, &len);
    size_t before = vmo_committed_pages(m->vmo);
    zx_status_t st = vmo_commit(m->vmo, off, len);
    if (!in_range(m, off, len)) {
        EXPECT_STATUS(st, ZX_ERR_OUT_OF_RANGE);
        return;
    }
    /* On NO_MEMORY the holes are committed in increasing order up to the failure. */
    size_t added = vmo_committed_pages(m->vmo) - before;
    if (st != ZX_OK)
        EXPECT_STATUS(st, ZX_ERR_NO_MEMORY);
    uint64_t first, last;
    covered(off, len, &first, &last);
    for (uint64_t i = first; i < last && added > 0; i++) {
        if (!m->committed[i]) {
            m->committed[i] = true;
            added--;
        }
    }
    if (st == ZX_OK) {
        for (uint64_t i = first; i < last; i++)
            EXPECT_TRUE(m->committed[i]);
    }
}

static void op_decommit(struct model *m) {
    uint64_t off, len;
    rnd_range(m, &off, &len);
    zx_status_t st = vmo_decommit(m->vmo, off, len);
    if (!in_range(m, off, len)) {
        EXPECT_STATUS(st, ZX_ERR_OUT_OF_RANGE);
        return;
    }
    EXPECT_OK(st);
    uint64_t first, last;
    covered(off, len, &first, &last);
    for (uint64_t i = first; i < last; i++)
        model_drop_page(m, i);
}

static void op_zero(struct model *m) {
    uint64_t off, len;
    rnd_range(m, &off, &len);
    zx_status_t st = vmo_zero(m->vmo, off, len);
    if (!in_range(m, off, len)) {
        EXPECT_STATUS(st, ZX_ERR_OUT_OF_RANGE);
        return;
    }
    EXPECT_OK(st);
    memset(m->data + off, 0, len);
    for (uint64_t i = ROUNDUP(off, P) / P; i < ROUNDDOWN(off + len, P) / P; i++)
        model_drop_page(m, i);
}

static void op_set_size(struct model *m) {
    uint64_t size = rnd_below(m, MODEL_BYTES + 1);
    if (rnd_below(m, 2))
        size = ROUNDDOWN(size, P);
    EXPECT_OK(vmo_set_size(m->vmo, size));
    uint64_t rounded = ROUNDUP(size, P);
    for (uint64_t i = rounded / P; i < m->size / P; i++)
        model_drop_page(m, i);
    memset(m->data + size, 0, rounded - size);
    m->size = rounded;
}

/* A fault through one of the fake mappings. */
static void op_fault(struct model *m) {
    struct fake_mapping *fm = &m->maps[rnd_below(m, NLINKS)];
    uint64_t i = fm->link.vmo_offset / P + rnd_below(m, fm->link.len / P);
    bool for_write = rnd_below(m, 2);
    paddr_t pa;
    bool w;
    zx_status_t st = vmo_get_page(m->vmo, i * P, for_write, &pa, &w);
    if (i * P >= m->size) {
        EXPECT_STATUS(st, ZX_ERR_OUT_OF_RANGE);
        return;
    }
    if (st == ZX_ERR_NO_MEMORY && for_write && !m->committed[i])
        return;
    ASSERT_OK(st);
    if (for_write)
        m->committed[i] = true;
    EXPECT_EQ(w, m->committed[i]);
    EXPECT_EQ(pa == vmo_zero_page_paddr(), !m->committed[i]);
    fm->pa[i] = pa;
    fm->writable[i] = w;
}

static void run_model(uint64_t seed) {
    static struct model m;
    memset(&m, 0, sizeof(m));
    m.rng = seed ? seed : 1;
    m.size = ROUNDUP(rnd_below(&m, MODEL_BYTES), P);
    ASSERT_OK(vmo_create_paged(m.size, VMO_OPT_RESIZABLE, &m.vmo));
    fake_init(&m.maps[0], 0, 20 * P);
    fake_init(&m.maps[1], 12 * P, (MODEL_PAGES - 12) * P);
    for (int k = 0; k < NLINKS; k++) {
        vmo_ref(m.vmo);
        vmo_add_mapping(m.vmo, &m.maps[k].link);
    }

    for (uint64_t step = 0; step < MODEL_STEPS; step++) {
        if (step % INJECT_PHASE_STEPS == 0) {
            bool inject = (step / INJECT_PHASE_STEPS) % 2 == 1;
            pmm_fault_inject_random(seed + step, inject ? INJECT_PERMILLE : 0);
        }
        switch (rnd_below(&m, 10)) {
        case 0: case 1: op_write(&m); break;
        case 2: op_read(&m); break;
        case 3: op_commit(&m); break;
        case 4: op_decommit(&m); break;
        case 5: op_zero(&m); break;
        case 6: op_set_size(&m); break;
        default: op_fault(&m); break;
        }
        check_mappings(&m, step);
        if (step % MODEL_CHECK_EVERY == 0)
            check_all(&m, step);
    }
    pmm_fault_inject_random(0, 0);
    check_all(&m, MODEL_STEPS);

    for (int k = 0; k < NLINKS; k++) {
        vmo_remove_mapping(m.vmo, &m.maps[k].link);
        vmo_unref(m.vmo);
    }
    vmo_unref(m.vmo);
}

HTEST(vmo, model_random) {
    env_start();
    uint64_t seed = htest_seed();
    printf("    seed %#llx (HTEST_SEED=... to replay)\n", (unsigned long long)seed);
    run_model(seed);
    ENV_END();
}

HTEST(vmo, model_more_seeds) {
    for (uint64_t s = 1; s <= 4; s++) {
        env_start();
        run_model(htest_seed() * 31 + s);
        ENV_END();
    }
}

/* ---- Targeted tests ---------------------------------------------------------------- */

/* Every way creation can run out of memory leaves nothing behind. */
HTEST(vmo, creation_out_of_memory_leaks_nothing) {
    for (uint32_t every = 1; every <= 3; every++) {
        env_start();
        pmm_fault_inject_every(every);
        for (int i = 0; i < 6; i++) {
            vmo_t *vmo;
            zx_status_t st = vmo_create_contiguous(3 * P, 0, &vmo);
            if (st == ZX_OK)
                vmo_unref(vmo);
            else
                EXPECT_STATUS(st, ZX_ERR_NO_MEMORY);
            st = vmo_create_paged(3 * P, 0, &vmo);
            if (st == ZX_OK) {
                st = vmo_commit(vmo, 0, 3 * P);
                if (st != ZX_OK)
                    EXPECT_STATUS(st, ZX_ERR_NO_MEMORY);
                vmo_unref(vmo);
            } else {
                EXPECT_STATUS(st, ZX_ERR_NO_MEMORY);
            }
        }
        ENV_END();
    }
}

/* The zero page is WIRED: freeing it panics. */
HTEST(vmo, zero_page_is_never_freed) {
    env_start();
    vm_page_t *zp = paddr_to_vm_page(vmo_zero_page_paddr());
    ASSERT_NONNULL(zp);
    EXPECT_EQ(zp->state, VM_PAGE_STATE_WIRED);
    HTEST_EXPECT_PANIC(pmm_free_page(zp));
    const uint8_t *z = paddr_to_physmap(vmo_zero_page_paddr());
    size_t nonzero = 0;
    for (size_t i = 0; i < PAGE_SIZE; i++)
        nonzero += z[i] != 0;
    EXPECT_EQ(nonzero, 0u);
    ENV_END();
}

/* Contiguous VMOs give back their whole run; sparse huge ones only what they used. */
HTEST(vmo, destruction_frees_everything) {
    env_start();
    size_t free0 = pmm_count_free_pages();
    vmo_t *c, *p;
    ASSERT_OK(vmo_create_contiguous(16 * P, 20, &c));
    paddr_t base;
    bool w;
    ASSERT_OK(vmo_get_page(c, 0, false, &base, &w));
    EXPECT_EQ(base % (1u << 20), 0u);
    EXPECT_LE(pmm_count_free_pages() + 16, free0);
    ASSERT_OK(vmo_create_paged(VMO_SIZE_MAX, 0, &p));
    uint8_t b = 1;
    struct copy_ctx ctx = {&b, 0};
    for (uint64_t off = 0; off < VMO_SIZE_MAX / 2; off += VMO_SIZE_MAX / 64)
        ASSERT_OK(vmo_write(p, off + 12345, 1, copy_in, &ctx));
    EXPECT_EQ(vmo_committed_pages(p), 32u);
    vmo_unref(c);
    vmo_unref(p);
    ENV_END();
}

/* ---- Copy-on-write families: a model over several VMOs ----------------------------- */

/*
 * Random snapshots (of roots and of snapshots, at random offsets and sizes), writes,
 * faults, commits, zeros, resizes and destructions over up to FAM_VMOS live VMOs, each
 * with one fake mapping over its whole window, with PMM fault injection in alternate
 * phases; and one-page reads in the middle of whose copy (the page pinned, the family
 * lock not held) a few other steps run: the page must keep its content (pin rules). After every step no mapping may hold a translation to anything but the page its
 * VMO shows (same address; writable only if the VMO still says so; the model's bytes);
 * every FAM_CHECK_EVERY steps every byte of every VMO is compared with its model. Ends
 * by destroying everything in a random order: the PMM and heap must be back at baseline.
 */
#define FAM_VMOS 6
#define FAM_PAGES 16
#define FAM_BYTES (FAM_PAGES * PAGE_SIZE)
#define FAM_STEPS 20000
#define FAM_CHECK_EVERY 8

struct fam_vmo {
    vmo_t *vmo; /* NULL: slot free */
    uint64_t size;
    bool resizable;
    uint8_t data[FAM_BYTES];
    struct fake_mapping map;
};

struct fam {
    struct fam_vmo v[FAM_VMOS];
    uint64_t rng;
    bool injecting;
};

static uint64_t fam_rnd(struct fam *f, uint64_t n) {
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 7;
    f->rng ^= f->rng << 17;
    return n ? f->rng % n : 0;
}

/* A random live VMO (scanning from a random slot), or NULL if none is left. */
static struct fam_vmo *fam_pick(struct fam *f) {
    uint64_t start = fam_rnd(f, FAM_VMOS);
    for (int k = 0; k < FAM_VMOS; k++) {
        struct fam_vmo *v = &f->v[(start + k) % FAM_VMOS];
        if (v->vmo)
            return v;
    }
    return NULL;
}

static struct fam_vmo *fam_free_slot(struct fam *f) {
    for (int i = 0; i < FAM_VMOS; i++) {
        if (!f->v[i].vmo)
            return &f->v[i];
    }
    return NULL;
}

static void fam_attach(struct fam_vmo *v) {
    fake_init(&v->map, 0, FAM_BYTES);
    vmo_ref(v->vmo);
    vmo_add_mapping(v->vmo, &v->map.link);
}

static void fam_destroy(struct fam_vmo *v) {
    vmo_remove_mapping(v->vmo, &v->map.link);
    vmo_unref(v->vmo);
    vmo_unref(v->vmo);
    v->vmo = NULL;
}

static void fam_check_attribution(struct fam *f, uint64_t step);

static void fam_check(struct fam *f, uint64_t step, bool contents) {
    for (int k = 0; k < FAM_VMOS; k++) {
        struct fam_vmo *v = &f->v[k];
        if (!v->vmo)
            continue;
        if (v->map.bad_calls) {
            htest_fail(__FILE__, __LINE__, "step %llu: vmo %d: %zu bad unmap calls",
                       (unsigned long long)step, k, v->map.bad_calls);
            v->map.bad_calls = 0;
        }
        for (uint64_t i = 0; i < FAM_PAGES; i++) {
            if (!v->map.pa[i])
                continue;
            paddr_t pa = 0;
            bool w = false;
            zx_status_t st = vmo_get_page(v->vmo, i * P, false, &pa, &w);
            if (st != ZX_OK || pa != v->map.pa[i] || (v->map.writable[i] && !w) ||
                memcmp(paddr_to_physmap(pa), v->data + i * P, P) != 0) {
                htest_fail(__FILE__, __LINE__, "step %llu: vmo %d page %llu stale (st %d)",
                           (unsigned long long)step, k, (unsigned long long)i, st);
                v->map.pa[i] = 0;
            }
        }
        if (!contents)
            continue;
        struct copy_ctx ctx = {readback, 0};
        zx_status_t st = vmo_read(v->vmo, 0, v->size, copy_out, &ctx);
        if (st != ZX_OK || memcmp(readback, v->data, v->size) != 0)
            htest_fail(__FILE__, __LINE__, "step %llu: vmo %d content differs (st %d)",
                       (unsigned long long)step, k, st);
    }
    if (contents)
        fam_check_attribution(f, step);
}

/*
 * Memory attribution against an oracle built from what each VMO shows: every page frame
 * any live VMO reads (vmo_get_page for reading; the zero page is no memory) is counted
 * with the number of VMOs reading it. Then each VMO's bytes are its frames, its private
 * bytes those read by it alone, its scaled bytes the sum of PAGE_SIZE / readers (checked
 * to the byte, with the fraction); and the scaled figures of all VMOs add up to the
 * frames in use, less under one byte per frame lost to rounding each share down.
 */
static void fam_check_attribution(struct fam *f, uint64_t step) {
    static paddr_t shown[FAM_VMOS][FAM_PAGES];
    paddr_t zero = vmo_zero_page_paddr();
    for (int k = 0; k < FAM_VMOS; k++) {
        for (uint64_t i = 0; i < FAM_PAGES; i++) {
            struct fam_vmo *v = &f->v[k];
            paddr_t pa = 0;
            bool w;
            shown[k][i] = 0;
            if (v->vmo && i * P < v->size && vmo_get_page(v->vmo, i * P, false, &pa, &w) == ZX_OK &&
                pa != zero)
                shown[k][i] = pa;
        }
    }
    uint64_t frames = 0, scaled_sum = 0, frac_sum = 0;
    for (int k = 0; k < FAM_VMOS; k++) {
        if (!f->v[k].vmo)
            continue;
        uint64_t bytes = 0, priv = 0, scaled = 0;
        unsigned __int128 frac = 0; /* in units of 2^-63 bytes */
        for (uint64_t i = 0; i < FAM_PAGES; i++) {
            if (!shown[k][i])
                continue;
            uint64_t readers = 0;
            bool first = true; /* this (k, i) is the frame's first appearance */
            for (int j = 0; j < FAM_VMOS; j++)
                for (uint64_t l = 0; l < FAM_PAGES; l++)
                    if (shown[j][l] == shown[k][i]) {
                        readers++;
                        if (j < k || (j == k && l < i))
                            first = false;
                    }
            frames += first;
            bytes += P;
            priv += readers == 1 ? P : 0;
            scaled += P / readers;
            frac += ((unsigned __int128)(P % readers) << 63) / readers;
        }
        scaled += (uint64_t)(frac >> 63);
        uint64_t frac_low = (uint64_t)(frac & (VMO_ATTR_FRACTION_ONE - 1));
        struct vmo_attribution a;
        vmo_get_attribution(f->v[k].vmo, 0, f->v[k].size, &a);
        if (a.bytes != bytes || a.private_bytes != priv || a.scaled_bytes != scaled ||
            a.scaled_fraction != frac_low)
            htest_fail(__FILE__, __LINE__,
                       "step %llu: vmo %d attribution %llu/%llu/%llu+%#llx, oracle "
                       "%llu/%llu/%llu+%#llx",
                       (unsigned long long)step, k, (unsigned long long)a.bytes,
                       (unsigned long long)a.private_bytes, (unsigned long long)a.scaled_bytes,
                       (unsigned long long)a.scaled_fraction, (unsigned long long)bytes,
                       (unsigned long long)priv, (unsigned long long)scaled,
                       (unsigned long long)frac_low);
        scaled_sum += a.scaled_bytes;
        frac_sum += a.scaled_fraction;
    }
    scaled_sum += frac_sum >> 63;
    if (scaled_sum > frames * P || frames * P - scaled_sum > frames)
        htest_fail(__FILE__, __LINE__, "step %llu: scaled bytes add up to %llu, %llu frames",
                   (unsigned long long)step, (unsigned long long)scaled_sum,
                   (unsigned long long)frames);
}

static void fam_read_interfered(struct fam *f, struct fam_vmo *v);

/*
 * One random operation on a random live VMO. While a copy from `avoid` is in flight
 * (fam_read_interfered), nothing may change avoid's content, so that the copy must see
 * it unchanged: avoid is only snapshotted, destroyed, faulted, committed, or written with
 * the bytes it already holds (which still makes it take private copies of the pages).
 */
static void fam_step_avoiding(struct fam *f, struct fam_vmo *avoid) {
    struct fam_vmo *v = fam_pick(f);
    if (!v)
        return;
    uint64_t pages = v->size / P;
    uint64_t op = fam_rnd(f, 10);
    if (v == avoid && op >= 7)
        return; /* zero, resize (and a nested read) */
    switch (op) {
    case 0:
    case 1: { /* write a byte range (at most two pages' worth) */
        uint64_t off = fam_rnd(f, v->size + 1);
        uint64_t len = fam_rnd(f, 2 * P); /* not inside MIN: it evaluates twice */
        len = MIN(len, v->size - off);
        if (v == avoid)
            memcpy(scratch, v->data + off, len);
        else
            memset(scratch, (int)fam_rnd(f, 256), len);
        struct copy_ctx ctx = {scratch, 0};
        zx_status_t st = vmo_write(v->vmo, off, len, copy_in, &ctx);
        if (st != ZX_ERR_NO_MEMORY && st != ZX_OK)
            htest_fail(__FILE__, __LINE__, "write %llu+%llu of %llu (real %llu): %d",
                       (unsigned long long)off, (unsigned long long)len,
                       (unsigned long long)v->size, (unsigned long long)vmo_size(v->vmo), st);
        memcpy(v->data + off, scratch, ctx.copied);
        break;
    }
    case 2: { /* snapshot */
        struct fam_vmo *c = fam_free_slot(f);
        if (!c)
            break;
        uint64_t off = fam_rnd(f, FAM_PAGES) * P;
        uint64_t size = fam_rnd(f, FAM_PAGES + 1) * P;
        bool resizable = fam_rnd(f, 2);
        uint32_t opts = (fam_rnd(f, 2) ? VMO_CHILD_SNAPSHOT
                                       : VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE) |
                        (resizable ? VMO_CHILD_RESIZABLE : 0);
        zx_status_t st = vmo_create_child(v->vmo, opts, off, size, &c->vmo);
        if (st == ZX_ERR_NO_MEMORY) {
            c->vmo = NULL;
            break;
        }
        ASSERT_OK(st);
        c->size = size;
        c->resizable = resizable;
        memset(c->data, 0, sizeof(c->data));
        if (off < v->size)
            memcpy(c->data, v->data + off, MIN(size, v->size - off));
        fam_attach(c);
        break;
    }
    case 3: /* destroy (a new root replaces the last one) */
        fam_destroy(v);
        if (!fam_pick(f)) {
            struct fam_vmo *n = &f->v[0];
            n->size = fam_rnd(f, FAM_PAGES + 1) * P;
            n->resizable = true;
            memset(n->data, 0, sizeof(n->data));
            pmm_fault_inject_random(0, 0);
            ASSERT_OK(vmo_create_paged(n->size, VMO_OPT_RESIZABLE, &n->vmo));
            fam_attach(n);
            pmm_fault_inject_random(f->rng, f->injecting ? INJECT_PERMILLE : 0);
        }
        break;
    case 4:
    case 5: { /* fault */
        if (!pages)
            break;
        uint64_t i = fam_rnd(f, pages);
        bool for_write = fam_rnd(f, 2);
        paddr_t pa;
        bool w;
        zx_status_t st = vmo_get_page(v->vmo, i * P, for_write, &pa, &w);
        if (st == ZX_ERR_NO_MEMORY && for_write)
            break;
        ASSERT_OK(st);
        if (for_write)
            EXPECT_TRUE(w);
        v->map.pa[i] = pa;
        v->map.writable[i] = w;
        break;
    }
    case 6: { /* commit: content unchanged */
        uint64_t off = fam_rnd(f, pages + 1) * P;
        uint64_t len = fam_rnd(f, pages - off / P + 1) * P;
        zx_status_t st = vmo_commit(v->vmo, off, len);
        if (st != ZX_ERR_NO_MEMORY)
            EXPECT_OK(st);
        break;
    }
    case 7: { /* zero (not while injecting: a failure leaves an unknown prefix zeroed) */
        if (f->injecting)
            break;
        uint64_t off = fam_rnd(f, v->size + 1);
        uint64_t len = fam_rnd(f, v->size - off + 1);
        EXPECT_OK(vmo_zero(v->vmo, off, len));
        memset(v->data + off, 0, len);
        break;
    }
    case 9: /* read one page while other steps run in the middle of the copy */
        if (!avoid)
            fam_read_interfered(f, v);
        break;
    default: { /* resize */
        uint64_t size = fam_rnd(f, FAM_PAGES + 1) * P;
        zx_status_t st = vmo_set_size(v->vmo, size);
        if (!v->resizable) {
            EXPECT_STATUS(st, ZX_ERR_UNAVAILABLE);
            break;
        }
        if (st == ZX_ERR_NO_MEMORY)
            break;
        EXPECT_OK(st);
        if (size < v->size)
            memset(v->data + size, 0, v->size - size);
        v->size = size;
        break;
    }
    }
}

static void fam_step(struct fam *f) { fam_step_avoiding(f, NULL); }

#define INTERFERE_STEPS 6 /* family steps run in the middle of one page copy */

struct interfere {
    struct fam *f;
    struct fam_vmo *v;
    uint8_t out[PAGE_SIZE];
    bool changed; /* the page under the copy changed while the other steps ran */
};

/* vmo_read callback: runs other steps of the model mid-copy (the family lock is not
 * held here), then checks that the pinned page still holds what it held before. */
static zx_status_t interfere_cb(void *ctx, size_t done, void *kptr, size_t n) {
    struct interfere *in = ctx;
    static uint8_t before[PAGE_SIZE];
    memcpy(before, kptr, n);
    for (int k = 0; k < INTERFERE_STEPS; k++)
        fam_step_avoiding(in->f, in->v);
    in->changed = memcmp(before, kptr, n) != 0;
    memcpy(in->out + done, kptr, n);
    return ZX_OK;
}

/*
 * Reads one page of v while random steps on the rest of the family (and snapshots or
 * the destruction of v itself) run in the middle of the copy: the page the copy uses is
 * pinned, so it must neither change (no write to v happens meanwhile) nor be freed (the
 * PMM would panic on a pinned page). The copy holds its own reference, as a syscall's
 * handle would, so destroying v meanwhile only drops the model's.
 */
static void fam_read_interfered(struct fam *f, struct fam_vmo *v) {
    static struct interfere in;
    static uint8_t expect[PAGE_SIZE];
    uint64_t pages = v->size / P;
    if (!pages)
        return;
    uint64_t i = fam_rnd(f, pages);
    memcpy(expect, v->data + i * P, P);
    in.f = f;
    in.v = v;
    in.changed = false;
    vmo_t *vmo = v->vmo;
    vmo_ref(vmo);
    zx_status_t st = vmo_read(vmo, i * P, P, interfere_cb, &in);
    vmo_unref(vmo);
    if (st != ZX_OK || in.changed || memcmp(in.out, expect, P) != 0)
        htest_fail(__FILE__, __LINE__, "read of page %llu under interference: st %d%s%s",
                   (unsigned long long)i, st, in.changed ? ", the page changed" : "",
                   memcmp(in.out, expect, P) ? ", wrong content" : "");
}

static void run_family(uint64_t seed) {
    static struct fam f;
    memset(&f, 0, sizeof(f));
    f.rng = seed ? seed : 1;
    f.v[0].size = FAM_BYTES;
    f.v[0].resizable = true;
    ASSERT_OK(vmo_create_paged(FAM_BYTES, VMO_OPT_RESIZABLE, &f.v[0].vmo));
    fam_attach(&f.v[0]);
    for (uint64_t step = 0; step < FAM_STEPS; step++) {
        if (step % INJECT_PHASE_STEPS == 0) {
            f.injecting = (step / INJECT_PHASE_STEPS) % 2 == 1;
            pmm_fault_inject_random(seed + step, f.injecting ? INJECT_PERMILLE : 0);
        }
        fam_step(&f);
        fam_check(&f, step, step % FAM_CHECK_EVERY == 0);
    }
    pmm_fault_inject_random(0, 0);
    fam_check(&f, FAM_STEPS, true);
    struct fam_vmo *v;
    while ((v = fam_pick(&f)) != NULL)
        fam_destroy(v);
}

HTEST(vmo, cow_family_model) {
    for (uint64_t s = 1; s <= 3; s++) {
        env_start();
        uint64_t seed = htest_seed() * 31 + s;
        printf("    seed %#llx\n", (unsigned long long)seed);
        run_family(seed);
        ENV_END();
    }
}
