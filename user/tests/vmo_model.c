/*
 * VMO families against a model: random sequences of snapshots, slices, writes, reads,
 * zeroes, decommits, commits, resizes, mappings and closes over a handful of small VMOs,
 * every result checked against a byte-for-byte model of what each VMO must read. This
 * exercises the copy-on-write paths of docs/architecture.md ("Children: slices and
 * copy-on-write") in orders no hand-written case covers: hidden nodes merging when either
 * child dies first, pages moved rather than copied once no other VMO sees them, shrinks
 * that give up ancestor pages, slices of snapshots, writes through mappings (faults)
 * next to writes through the VMO. The program ends with every handle closed, so
 * userboot's leak check sees any page the kernel failed to free.
 *
 * The model: a VMO that is not a slice owns a byte buffer (its content); a snapshot copies
 * its parent's bytes [offset, offset + size) at creation (zeros past the parent's end); a
 * slice is a window onto the buffer of the VMO it was made from (a slice of a slice onto
 * the original's), which the slice keeps alive. Decommit of a VMO that is or was part of
 * a copy-on-write family may be ZX_ERR_NOT_SUPPORTED (Zircon refuses it while the VMO has
 * a copy-on-write parent); it must be ZX_OK otherwise. Every run is seeded; the seed is
 * printed, and a failure names the step, so a run is replayed by its seed.
 *
 * Meanwhile a second thread churns the same families without changing what any modelled
 * VMO reads: it takes snapshots and slices of them, writes, zeroes, resizes and reads its
 * own snapshots, and closes them again (a few at a time). So hidden nodes appear above
 * the modelled VMOs and merge away again, pages move or are copied between the churn's
 * children and the model's VMOs' ancestors, and the family lock is contended and let go
 * (lock breaks, pins of copies in flight) while the main thread works, at points the
 * timer chooses. Its interleaving with the main thread is not replayable, but the model
 * holds for every interleaving.
 */
#include <stdio.h>
#include "vmo_util.h"

#define MODEL_VMOS 10u          /* live handles at most */
#define MODEL_BUFS (2 * MODEL_VMOS) /* content buffers: a closed VMO's stays for its slices */
#define MODEL_PAGES 12u         /* largest VMO, and largest snapshot / slice offset */
#define MODEL_BYTES (MODEL_PAGES * P)
#define MODEL_STEPS 2500u
#define MODEL_VERIFY_EVERY 8u   /* a full read-back of one VMO every this many steps */

#define MODEL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MODEL_PAGE_UP(x) (((x) + P - 1) / P * P)

static const uint64_t model_seeds[] = {0x6d6f64656c31ull, 0x1234567ull, 0xfeedfacecafeull};

typedef struct mbuf {
    uint32_t refs; /* VMOs using it: its owner while open, and slices of it */
    uint8_t bytes[MODEL_BYTES];
} mbuf_t;

typedef struct mvmo {
    bool live;
    zx_handle_t h;
    int buf;          /* content: buffer index */
    uint64_t base;    /* this VMO's byte 0 within the buffer (slices) */
    uint64_t size;    /* bytes, page-aligned */
    bool slice;
    bool resizable;
    bool cow;         /* its buffer's VMO was ever snapshotted or is a snapshot */
    zx_vaddr_t map;   /* 0: not mapped */
} mvmo_t;

static mbuf_t bufs[MODEL_BUFS];
static mvmo_t vmos[MODEL_VMOS];
static bool buf_cow[MODEL_BUFS];
static uint8_t scratch[MODEL_BYTES];
static uint8_t got[MODEL_BYTES];
static uint64_t rng;
static uint32_t step;
static bool failed;
static bool churning; /* the churn thread runs (see below) */

/* splitmix64: the model's own generator, so a seed replays the same steps. */
static uint64_t next_rand(void) {
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n) { return n ? next_rand() % n : 0; }

/* Records the first failure of a run (later steps would only repeat it). */
#define MODEL_CHECK(cond, ...)                                                         \
    do {                                                                               \
        if (!(cond) && !failed) {                                                      \
            failed = true;                                                             \
            beryl_test_fail(__FILE__, __LINE__, __VA_ARGS__);                          \
        }                                                                              \
    } while (0)

static int free_slot(void) {
    for (uint32_t i = 0; i < MODEL_VMOS; i++)
        if (!vmos[i].live)
            return (int)i;
    return -1;
}

static int random_live(void) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < MODEL_VMOS; i++)
        n += vmos[i].live;
    if (!n)
        return -1;
    uint32_t k = (uint32_t)below(n);
    for (uint32_t i = 0; i < MODEL_VMOS; i++)
        if (vmos[i].live && k-- == 0)
            return (int)i;
    return -1;
}

static int new_buf(void) {
    for (uint32_t i = 0; i < MODEL_BUFS; i++) {
        if (bufs[i].refs == 0) {
            bufs[i].refs = 1;
            buf_cow[i] = false;
            memset(bufs[i].bytes, 0, MODEL_BYTES);
            return (int)i;
        }
    }
    return -1;
}

static uint8_t *content(const mvmo_t *v) { return bufs[v->buf].bytes + v->base; }

/* Reads [off, off + len) of v (through its mapping when it has one) and compares. */
static void check_range(int i, uint64_t off, uint64_t len, const char *why) {
    mvmo_t *v = &vmos[i];
    if (v->map && (next_rand() & 1)) {
        memcpy(got, (const void *)(v->map + off), len);
    } else {
        zx_status_t st = zx_vmo_read(v->h, got, off, len);
        MODEL_CHECK(st == ZX_OK, "step %u (%s): read of vmo %d [%#lx, +%#lx) = %d", step, why, i,
                    (unsigned long)off, (unsigned long)len, st);
        if (st != ZX_OK)
            return;
    }
    const uint8_t *want = content(v) + off;
    for (uint64_t k = 0; k < len; k++) {
        if (got[k] != want[k]) {
            MODEL_CHECK(false, "step %u (%s): vmo %d byte %#lx reads %#x, model %#x", step, why, i,
                        (unsigned long)(off + k), got[k], want[k]);
            return;
        }
    }
}

static void op_create(void) {
    int i = free_slot(), b = new_buf();
    if (i < 0 || b < 0) {
        if (b >= 0)
            bufs[b].refs = 0;
        return;
    }
    mvmo_t *v = &vmos[i];
    bool resizable = below(3) == 0;
    uint64_t size = (1 + below(MODEL_PAGES)) * P;
    zx_status_t st = zx_vmo_create(size, resizable ? ZX_VMO_RESIZABLE : 0, &v->h);
    MODEL_CHECK(st == ZX_OK, "step %u: vmo_create = %d", step, st);
    if (st != ZX_OK) {
        bufs[b].refs = 0;
        return;
    }
    *v = (mvmo_t){.live = true, .h = v->h, .buf = b, .size = size, .resizable = resizable};
}

static void op_snapshot(void) {
    int p = random_live(), i = free_slot();
    if (p < 0 || i < 0)
        return;
    mvmo_t *pv = &vmos[p];
    uint64_t off = below(MODEL_PAGES / 2) * P;
    uint64_t size = (1 + below(MODEL_PAGES - off / P)) * P;
    bool resizable = below(4) == 0;
    uint32_t opts = ZX_VMO_CHILD_SNAPSHOT | (resizable ? ZX_VMO_CHILD_RESIZABLE : 0);
    zx_handle_t h;
    zx_status_t st = zx_vmo_create_child(pv->h, opts, off, size, &h);
    if (pv->slice) {
        MODEL_CHECK(st == ZX_ERR_NOT_SUPPORTED, "step %u: snapshot of slice %d = %d", step, p, st);
        if (st == ZX_OK)
            zx_handle_close(h);
        return;
    }
    int b = new_buf();
    MODEL_CHECK(st == ZX_OK, "step %u: snapshot of %d [%#lx, +%#lx) = %d", step, p,
                (unsigned long)off, (unsigned long)size, st);
    if (st != ZX_OK || b < 0) {
        if (st == ZX_OK)
            zx_handle_close(h);
        if (b >= 0)
            bufs[b].refs = 0;
        return;
    }
    /* The child sees the parent's bytes from off on; zeros past the parent's end. */
    if (off < pv->size)
        memcpy(bufs[b].bytes, content(pv) + off, MODEL_MIN(size, pv->size - off));
    buf_cow[b] = true;
    buf_cow[pv->buf] = true;
    vmos[i] = (mvmo_t){.live = true, .h = h, .buf = b, .size = size, .resizable = resizable};
}

static void op_slice(void) {
    int p = random_live(), i = free_slot();
    if (p < 0 || i < 0)
        return;
    mvmo_t *pv = &vmos[p];
    uint64_t off = below(pv->size / P) * P;
    uint64_t size = (1 + below((pv->size - off) / P)) * P;
    zx_handle_t h;
    zx_status_t st = zx_vmo_create_child(pv->h, ZX_VMO_CHILD_SLICE, off, size, &h);
    if (pv->resizable) {
        MODEL_CHECK(st == ZX_ERR_NOT_SUPPORTED, "step %u: slice of resizable %d = %d", step, p,
                    st);
        if (st == ZX_OK)
            zx_handle_close(h);
        return;
    }
    MODEL_CHECK(st == ZX_OK, "step %u: slice of %d [%#lx, +%#lx) = %d", step, p,
                (unsigned long)off, (unsigned long)size, st);
    if (st != ZX_OK)
        return;
    bufs[pv->buf].refs++;
    vmos[i] = (mvmo_t){.live = true, .h = h, .buf = pv->buf, .base = pv->base + off,
                       .size = size, .slice = true};
}

/* A random live VMO (its index; -1 if there is none) and a random byte range inside it:
 * [*off, *off + *len), len >= 1 (set only when the index is not -1). */
static int random_live_range(uint64_t *off, uint64_t *len) {
    int i = random_live();
    if (i < 0)
        return -1;
    uint64_t size = vmos[i].size;
    *off = below(size);
    *len = 1 + below(MODEL_MIN(size - *off, (uint64_t)3 * P));
    return i;
}

/* The same in whole pages: pages [*first, *first + *n), n >= 1. */
static int random_live_pages(uint64_t *first, uint64_t *n) {
    int i = random_live();
    if (i < 0)
        return -1;
    uint64_t pages = vmos[i].size / P;
    *first = below(pages);
    *n = 1 + below(pages - *first);
    return i;
}

static void op_write(void) {
    uint64_t off, len;
    int i = random_live_range(&off, &len);
    if (i < 0)
        return;
    mvmo_t *v = &vmos[i];
    uint8_t b = (uint8_t)(1 + below(255));
    memset(scratch, b, len);
    scratch[0] = (uint8_t)step; /* so that two writes of one byte value still differ */
    if (v->map && (next_rand() & 1)) {
        memcpy((void *)(v->map + off), scratch, len);
    } else {
        zx_status_t st = zx_vmo_write(v->h, scratch, off, len);
        MODEL_CHECK(st == ZX_OK, "step %u: write to %d [%#lx, +%#lx) = %d", step, i,
                    (unsigned long)off, (unsigned long)len, st);
        if (st != ZX_OK)
            return;
    }
    memcpy(content(v) + off, scratch, len);
}

static void op_read(void) {
    uint64_t off, len;
    int i = random_live_range(&off, &len);
    if (i >= 0)
        check_range(i, off, len, "read");
}

static void op_zero(void) {
    uint64_t off, len;
    int i = random_live_range(&off, &len);
    if (i < 0)
        return;
    mvmo_t *v = &vmos[i];
    zx_status_t st = zx_vmo_op_range(v->h, ZX_VMO_OP_ZERO, off, len, NULL, 0);
    MODEL_CHECK(st == ZX_OK, "step %u: zero of %d [%#lx, +%#lx) = %d", step, i,
                (unsigned long)off, (unsigned long)len, st);
    if (st == ZX_OK)
        memset(content(v) + off, 0, len);
}

static void op_decommit(void) {
    uint64_t first, n;
    int i = random_live_pages(&first, &n);
    if (i < 0)
        return;
    mvmo_t *v = &vmos[i];
    zx_status_t st = zx_vmo_op_range(v->h, ZX_VMO_OP_DECOMMIT, first * P, n * P, NULL, 0);
    bool cow = buf_cow[v->buf] || churning; /* the churn thread snapshots them too */
    MODEL_CHECK(st == ZX_OK || (cow && st == ZX_ERR_NOT_SUPPORTED),
                "step %u: decommit of %d (%s) pages [%lu, +%lu) = %d", step, i,
                cow ? "copy-on-write family" : "plain", (unsigned long)first, (unsigned long)n,
                st);
    if (st == ZX_OK)
        memset(content(v) + first * P, 0, n * P);
}

static void op_commit(void) {
    uint64_t first, n;
    int i = random_live_pages(&first, &n);
    if (i < 0)
        return;
    mvmo_t *v = &vmos[i];
    zx_status_t st = zx_vmo_op_range(v->h, ZX_VMO_OP_COMMIT, first * P, n * P, NULL, 0);
    MODEL_CHECK(st == ZX_OK, "step %u: commit of %d = %d", step, i, st);
}

static void op_set_size(void) {
    int i = random_live();
    if (i < 0 || !vmos[i].resizable)
        return;
    mvmo_t *v = &vmos[i];
    uint64_t size = below(MODEL_BYTES + 1);
    if (next_rand() & 1)
        size = MODEL_PAGE_UP(size);
    zx_status_t st = zx_vmo_set_size(v->h, size);
    MODEL_CHECK(st == ZX_OK, "step %u: set_size of %d to %#lx = %d", step, i,
                (unsigned long)size, st);
    if (st != ZX_OK)
        return;
    uint64_t rounded = MODEL_PAGE_UP(size);
    uint8_t *c = content(v);
    if (rounded > v->size)
        memset(c + v->size, 0, rounded - v->size); /* grown: reads zeros */
    memset(c + size, 0, rounded - size);            /* the unaligned tail is cleared */
    if (rounded < v->size)
        memset(c + rounded, 0, v->size - rounded);  /* gone: zeros if it grows back */
    v->size = rounded;
}

static void op_map(void) {
    int i = random_live();
    if (i < 0)
        return;
    mvmo_t *v = &vmos[i];
    if (v->map) {
        MODEL_CHECK(zx_vmar_unmap(zx_vmar_root_self(), v->map, v->size) == ZX_OK,
                    "step %u: unmap of %d", step, i);
        v->map = 0;
        return;
    }
    if (v->resizable)
        return; /* a shrink would leave the mapping past the end: accesses would fault */
    zx_status_t st = zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0,
                                 v->h, 0, v->size, &v->map);
    MODEL_CHECK(st == ZX_OK, "step %u: map of %d = %d", step, i, st);
    if (st != ZX_OK)
        v->map = 0;
}

static void close_vmo(int i) {
    mvmo_t *v = &vmos[i];
    if (v->map)
        zx_vmar_unmap(zx_vmar_root_self(), v->map, v->size);
    MODEL_CHECK(zx_handle_close(v->h) == ZX_OK, "step %u: close of %d", step, i);
    bufs[v->buf].refs--;
    v->live = false;
    v->map = 0;
}

static void op_close(void) {
    int i = random_live();
    if (i >= 0)
        close_vmo(i);
}

static void verify_one(void) {
    int i = random_live();
    if (i >= 0)
        check_range(i, 0, vmos[i].size, "verify");
}

/* ---- the churn thread --------------------------------------------------------------- */

#define CHURN_KEEP 4u      /* children the churn thread keeps open at a time */
#define CHURN_SEED 0x636875726e21ull
/* The churn thread's generator: Knuth's MMIX linear congruential constants. */
#define CHURN_LCG_MUL 6364136223846793005ull
#define CHURN_LCG_ADD 1442695040888963407ull

static volatile bool churn_stop;
static volatile uint64_t churn_children;
static uint8_t churn_buf[2 * P];

/* Content-neutral work on the modelled VMOs' families (see the top of the file). A handle
 * it reads may be closed (or even reused for another VMO) by the main thread meanwhile:
 * then its call fails or acts on that other VMO, which is neutral too. */
static void churn_fn(uintptr_t unused1, uintptr_t unused2) {
    (void)unused1;
    (void)unused2;
    uint64_t r = CHURN_SEED;
    zx_handle_t kept[CHURN_KEEP] = {0};
    uint32_t next = 0;
    while (!churn_stop) {
        r = r * CHURN_LCG_MUL + CHURN_LCG_ADD;
        uint32_t x = (uint32_t)(r >> 33);
        const volatile mvmo_t *v = &vmos[x % MODEL_VMOS];
        if (!v->live)
            continue;
        zx_handle_t parent = v->h;
        if (kept[next] != ZX_HANDLE_INVALID)
            zx_handle_close(kept[next]);
        kept[next] = ZX_HANDLE_INVALID;
        bool snapshot = (x >> 8) % 4 != 0;
        uint32_t opts = snapshot ? ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE
                                 : ZX_VMO_CHILD_SLICE;
        uint64_t off = ((x >> 10) % 4) * P, size = (1 + (x >> 12) % MODEL_PAGES) * P;
        zx_handle_t c;
        if (zx_vmo_create_child(parent, opts, off, size, &c) != ZX_OK)
            continue;
        churn_children = churn_children + 1;
        if (snapshot) { /* only its own content changes: the modelled VMOs read the same */
            uint64_t at = ((x >> 16) % (size / P)) * P;
            memset(churn_buf, (int)x, sizeof(churn_buf));
            zx_vmo_write(c, churn_buf, at, P + (x >> 20) % P);
            zx_vmo_op_range(c, ZX_VMO_OP_ZERO, at, (x >> 22) % (2 * P), NULL, 0);
            if ((x >> 26) & 1)
                zx_vmo_set_size(c, size / 2);
        }
        zx_vmo_read(c, churn_buf, 0, sizeof(churn_buf) < size ? sizeof(churn_buf) : size);
        kept[next] = c;
        next = (next + 1) % CHURN_KEEP;
    }
    for (uint32_t i = 0; i < CHURN_KEEP; i++)
        if (kept[i] != ZX_HANDLE_INVALID)
            zx_handle_close(kept[i]);
    zx_thread_exit();
}

struct model_op {
    void (*fn)(void);
    uint32_t weight;
};

static const struct model_op model_ops[] = {
    {op_create, 6}, {op_snapshot, 8}, {op_slice, 4},  {op_write, 20}, {op_read, 10},
    {op_zero, 6},   {op_decommit, 4}, {op_commit, 3}, {op_set_size, 5}, {op_map, 4},
    {op_close, 7},
};

static void run_model(uint64_t seed) {
    rng = seed;
    failed = false;
    memset(vmos, 0, sizeof(vmos));
    memset(bufs, 0, sizeof(bufs));
    uint32_t total = 0;
    for (size_t k = 0; k < sizeof(model_ops) / sizeof(model_ops[0]); k++)
        total += model_ops[k].weight;
    for (step = 0; step < MODEL_STEPS && !failed; step++) {
        uint32_t r = (uint32_t)below(total);
        size_t k = 0;
        while (r >= model_ops[k].weight)
            r -= model_ops[k++].weight;
        model_ops[k].fn();
        if (step % MODEL_VERIFY_EVERY == 0)
            verify_one();
    }
    for (uint32_t i = 0; i < MODEL_VMOS; i++) {
        if (vmos[i].live) {
            check_range((int)i, 0, vmos[i].size, "final");
            close_vmo((int)i);
        }
    }
    printf("vmo_model: seed %#lx: %u steps%s\n", (unsigned long)seed, step,
           failed ? " (failed)" : "");
}

TEST(VmoModel, RandomFamiliesMatchTheModel) {
    for (size_t s = 0; s < sizeof(model_seeds) / sizeof(model_seeds[0]); s++)
        run_model(model_seeds[s]);
}

TEST(VmoModel, RandomFamiliesMatchTheModelWhileAnotherThreadChurnsThem) {
    tu_thread_t t;
    churn_stop = false;
    churn_children = 0;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, churn_fn, 0, 0));
    churning = true;
    for (size_t s = 0; s < sizeof(model_seeds) / sizeof(model_seeds[0]); s++)
        run_model(model_seeds[s] ^ CHURN_SEED);
    churn_stop = true;
    churning = false;
    EXPECT_OK(tu_thread_join(&t, 10 * TU_SEC));
    tu_thread_destroy(&t);
    printf("vmo_model: the churn thread made %lu children\n", (unsigned long)churn_children);
    EXPECT_GT(churn_children, 0u);
}
