/*
 * The VM stress test (issue 16; docs/user-tests.md, "The VM stress test"): worker threads
 * pinned to every CPU map, unmap, protect, read and write through mappings (faults),
 * decommit and snapshot ranges of VMOs that all of them share (overlapping ranges) and of
 * one VMO each (disjoint), for a fixed number of operations. Every page carries its own
 * tag in its first word: the owning object's id, the page's index and a version bumped by
 * each write (zero for a page never written or decommitted since), and every read, through
 * a mapping or zx_vmo_read, checks it. A read that shows another object's or another
 * page's tag is a translation to the wrong frame (e.g. a stale one to a freed and reused
 * page); a snapshot's own writes must never show in its parent. Fixed address ranges
 * (slots) are remapped to other VMOs by one worker while others read and write through
 * them, so a CPU that kept a translation of the previous mapping reads a page whose tag
 * is not the one mapped there now. The run must end with every check passed, no kernel
 * panic and the kernel's free memory back where it started.
 * Boot module stress/vm, run by `userboot.prefix=stress/vm` (ctest qemu.stress_vm_smp4).
 *
 * The seed: the -DBERYL_STRESS_VM_SEED build option if not 0, else `--seed N` when the
 * program is started with arguments, else one derived from where the kernel's ASLR placed
 * a fresh mapping, which depends only on the boot's aslr.seed. Each worker's sequence of
 * operations follows from the seed; how the CPUs interleave them does not. `--ops N`
 * overrides the operation count (-DBERYL_STRESS_VM_OPS).
 */
#include <beryl/startup.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/syscalls.h>
#include "stress_common.h"

#ifndef BERYL_STRESS_VM_OPS
#define BERYL_STRESS_VM_OPS 10000
#endif
#ifndef BERYL_STRESS_VM_SEED
#define BERYL_STRESS_VM_SEED 0
#endif

#define VM_WORKERS_PER_CPU 2u
#define VM_MAX_WORKERS 32u
/* VMOs every worker uses (overlapping ranges), and their size. */
#define VM_SHARED_VMOS 3u
#define VM_SHARED_PAGES 48u
/* Each worker's own VMO (disjoint from the others'). */
#define VM_OWN_PAGES 24u
#define VM_NVMOS (VM_SHARED_VMOS + VM_MAX_WORKERS)
/* Mappings a worker holds at once, and the longest one / longest run an operation
 * touches, in pages. */
#define VM_MAX_MAPS 6u
#define VM_MAX_MAP_PAGES 16u
#define VM_MAX_RUN 8u
/* All workers together must finish within this (then the run fails). */
#define VM_WORKER_TIMEOUT_NS (100 * TU_SEC)
/* Re-reads of the kernel's free memory while deferred frees finish. */
#define VM_LEAK_RETRIES 50
#define VM_LEAK_RETRY_NS (10 * TU_MS)

/* The tag in a page's first word: magic, object id, page index, version. */
#define TAG_MAGIC 0xa5ull
#define TAG_ID_SNAPSHOT 0x8000u /* | worker: the pages a snapshot wrote itself */
#define TAG_VERSION_MASK 0xffffffull

/* The tag of page `index` of object `id` at `version`. */
static uint64_t tag_make(uint32_t id, uint32_t index, uint64_t version) {
    return TAG_MAGIC << 56 | (uint64_t)(id & 0xffff) << 40 | (uint64_t)(index & 0xffff) << 24 |
           (version & TAG_VERSION_MASK);
}
/* True if t is zero or a tag of page `index` of object `id` (any version). */
static bool tag_ok(uint64_t t, uint32_t id, uint32_t index) {
    return t == 0 || (t >> 56 == TAG_MAGIC && ((t >> 40) & 0xffff) == id &&
                      ((t >> 24) & 0xffff) == index);
}

/* One mapping of a worker: VMO `vmo`, pages [off, off + len) at base; perm per page
 * (0: unmapped since, else ZX_VM_PERM_* bits). */
typedef struct {
    zx_vaddr_t base;
    uint32_t vmo, off, len;
    uint32_t perm[VM_MAX_MAP_PAGES];
} vmap_t;

typedef struct {
    uint32_t index, cpu, ops, op, finished;
    const char *op_name;
    uint64_t rng;
    tu_thread_t thread;
    vmap_t maps[VM_MAX_MAPS];
} vworker_t;

/*
 * A slot: a fixed range of addresses (its own VMAR) where any worker maps a random range
 * of a random VMO (over the previous one, ZX_VM_SPECIFIC_OVERWRITE, or after unmapping
 * it) or changes its protection, while the others read and write through it. So a CPU
 * that still holds a translation of the previous mapping reads or writes another page at
 * the same address, which the tags show. A reader-writer lock (readers: accesses; writer:
 * remap and protect) that is only ever tried, never waited for, so nothing can hang.
 */
typedef struct {
    zx_handle_t vmar;
    zx_vaddr_t base;
    uint32_t lock;           /* VM_SLOT_WRITER, or the number of readers (atomic) */
    uint32_t vmo, off, len;  /* the mapping (len 0: nothing mapped) */
    uint32_t perm;
} vslot_t;
#define VM_SLOTS 3u
#define VM_SLOT_WRITER 0x80000000u

static vslot_t slots[VM_SLOTS];

static struct {
    zx_handle_t vmo[VM_NVMOS];
    uint32_t pages[VM_NVMOS];
    uint32_t snapshotted[VM_NVMOS]; /* set before the first snapshot of the VMO */
    uint32_t nvmos;
    uint32_t failures;
    uint32_t faults_read, faults_written, snapshots, decommits;
} g;

static vworker_t workers[VM_MAX_WORKERS];

/* ---- random numbers (xorshift64*, seeded through splitmix64) -------------------------- */


/* The worker's next number in [0, n) (n > 0). */
static uint32_t below(vworker_t *w, uint32_t n) {
    uint64_t x = w->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    w->rng = x;
    return (uint32_t)((x * 0x2545f4914f6cdd1dull) % n);
}

/* ---- failures ------------------------------------------------------------------------ */

/* Prints the failure with the worker's operation and two values, counts it; false. */
static bool fail(vworker_t *w, int line, const char *what, uint64_t a, uint64_t b) {
    printf("stress: FAILED: worker %u op %u (%s) line %d: %s (0x%llx, 0x%llx)\n", w->index,
           w->op, w->op_name, line, what, (unsigned long long)a, (unsigned long long)b);
    __atomic_add_fetch(&g.failures, 1, __ATOMIC_RELAXED);
    return false;
}
#define VM_OK(w, call)                                                     \
    do {                                                                   \
        zx_status_t vm_st_ = (call);                                       \
        if (vm_st_ != ZX_OK)                                               \
            return fail(w, __LINE__, #call, (uint64_t)(int64_t)vm_st_, 0); \
    } while (0)

/* The id a VMO's tags carry: its index in g.vmo, plus one. */
static uint32_t vmo_id(uint32_t v) { return v + 1; }

/* A tag read from page `index` of VMO v (or of a snapshot of it, then also snap_id) must
 * be zero or one of theirs. */
static bool check_tag(vworker_t *w, int line, uint64_t t, uint32_t v, uint32_t index,
                      uint32_t snap_id) {
    if (tag_ok(t, vmo_id(v), index) || (snap_id && tag_ok(t, snap_id, index)))
        return true;
    return fail(w, line, "a page shows a tag that is not its own (tag, want id<<16|index)", t,
                (uint64_t)vmo_id(v) << 16 | index);
}

/* ---- the operations ------------------------------------------------------------------ */

/* A random VMO: a shared one, or the worker's own. */
static uint32_t pick_vmo(vworker_t *w) {
    return below(w, 3) ? below(w, VM_SHARED_VMOS) : VM_SHARED_VMOS + w->index;
}

/* A used mapping slot (or -1), chosen at random. */
static int pick_map(vworker_t *w) {
    uint32_t start = below(w, VM_MAX_MAPS);
    for (uint32_t i = 0; i < VM_MAX_MAPS; i++) {
        uint32_t k = (start + i) % VM_MAX_MAPS;
        if (w->maps[k].len)
            return (int)k;
    }
    return -1;
}

/* A run of pages of mapping m from a random page: up to VM_MAX_RUN pages, all of whose
 * perm has every bit of `need` (and is mapped). Its length (0 if the first page does not
 * qualify) and start in *first. */
static uint32_t pick_run(vworker_t *w, const vmap_t *m, uint32_t need, uint32_t *first) {
    uint32_t s = below(w, m->len), max = 1 + below(w, VM_MAX_RUN), n = 0;
    while (s + n < m->len && n < max && m->perm[s + n] && (m->perm[s + n] & need) == need)
        n++;
    *first = s;
    return n;
}

/* Maps a random range of a random VMO read-write into a free mapping slot of the worker
 * (nothing if all are used). */
static bool op_map(vworker_t *w) {
    int slot = -1;
    for (uint32_t i = 0; i < VM_MAX_MAPS && slot < 0; i++)
        if (!w->maps[i].len)
            slot = (int)i;
    if (slot < 0)
        return true;
    vmap_t *m = &w->maps[slot];
    uint32_t v = pick_vmo(w);
    uint32_t len = 1 + below(w, VM_MAX_MAP_PAGES);
    if (len > g.pages[v])
        len = g.pages[v];
    uint32_t off = below(w, g.pages[v] - len + 1);
    zx_vm_option_t perm = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
    VM_OK(w, zx_vmar_map(zx_vmar_root_self(), perm, 0, g.vmo[v], (uint64_t)off * TU_PAGE,
                         (uint64_t)len * TU_PAGE, &m->base));
    m->vmo = v;
    m->off = off;
    m->len = len;
    for (uint32_t i = 0; i < len; i++)
        m->perm[i] = perm;
    return true;
}

/* Forgets the mapping once none of its pages is mapped. */
static void map_forget_if_empty(vmap_t *m) {
    for (uint32_t i = 0; i < m->len; i++)
        if (m->perm[i])
            return;
    memset(m, 0, sizeof(*m));
}

/* Unmaps a run of mapped pages of one of the worker's mappings, or all of it. */
static bool op_unmap(vworker_t *w) {
    int k = pick_map(w);
    if (k < 0)
        return true;
    vmap_t *m = &w->maps[k];
    uint32_t s = 0, n = below(w, 4) ? pick_run(w, m, 0, &s) : 0;
    if (n == 0) { /* the whole mapping, holes and all */
        s = 0;
        n = m->len;
    }
    VM_OK(w, zx_vmar_unmap(zx_vmar_root_self(), m->base + (uint64_t)s * TU_PAGE,
                           (uint64_t)n * TU_PAGE));
    for (uint32_t i = s; i < s + n; i++)
        m->perm[i] = 0;
    map_forget_if_empty(m);
    return true;
}

/* Protects a run of mapped pages read-only or read-write. */
static bool op_protect(vworker_t *w) {
    int k = pick_map(w);
    if (k < 0)
        return true;
    vmap_t *m = &w->maps[k];
    uint32_t s, n = pick_run(w, m, 0, &s);
    if (n == 0)
        return true;
    zx_vm_option_t perm = ZX_VM_PERM_READ | (below(w, 2) ? ZX_VM_PERM_WRITE : 0);
    VM_OK(w, zx_vmar_protect(zx_vmar_root_self(), perm, m->base + (uint64_t)s * TU_PAGE,
                             (uint64_t)n * TU_PAGE));
    for (uint32_t i = s; i < s + n; i++)
        m->perm[i] = perm;
    return true;
}

/* Reads (faults in) a run of mapped pages and checks each tag. */
static bool op_read(vworker_t *w) {
    int k = pick_map(w);
    if (k < 0)
        return true;
    vmap_t *m = &w->maps[k];
    uint32_t s, n = pick_run(w, m, ZX_VM_PERM_READ, &s);
    for (uint32_t i = s; i < s + n; i++) {
        uint64_t t = __atomic_load_n((uint64_t *)(m->base + (uint64_t)i * TU_PAGE),
                                     __ATOMIC_RELAXED);
        if (!check_tag(w, __LINE__, t, m->vmo, m->off + i, 0))
            return false;
    }
    __atomic_add_fetch(&g.faults_read, n, __ATOMIC_RELAXED);
    return true;
}

/* Bumps the version of each page of a run of writable pages (compare-exchange, since
 * other workers write the same pages of shared VMOs), checking the tag it replaces. */
static bool op_write(vworker_t *w) {
    int k = pick_map(w);
    if (k < 0)
        return true;
    vmap_t *m = &w->maps[k];
    uint32_t s, n = pick_run(w, m, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, &s);
    for (uint32_t i = s; i < s + n; i++) {
        uint64_t *p = (uint64_t *)(m->base + (uint64_t)i * TU_PAGE);
        uint32_t index = m->off + i;
        uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
        for (;;) {
            if (!check_tag(w, __LINE__, old, m->vmo, index, 0))
                return false;
            uint64_t next = tag_make(vmo_id(m->vmo), index, (old & TAG_VERSION_MASK) + 1);
            if (__atomic_compare_exchange_n(p, &old, next, false, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED))
                break;
        }
    }
    __atomic_add_fetch(&g.faults_written, n, __ATOMIC_RELAXED);
    return true;
}

/* Reads pages [off, off + n) of VMO v with zx_vmo_read (the kernel's view) and checks
 * each tag. */
static bool op_vmo_read(vworker_t *w) {
    uint32_t v = pick_vmo(w);
    uint32_t off = below(w, g.pages[v]);
    for (uint32_t i = off; i < g.pages[v] && i < off + VM_MAX_RUN; i++) {
        uint64_t t;
        VM_OK(w, zx_vmo_read(g.vmo[v], &t, (uint64_t)i * TU_PAGE, sizeof(t)));
        if (!check_tag(w, __LINE__, t, v, i, 0))
            return false;
    }
    return true;
}

/* Decommits a random range of a random VMO, under other workers' mappings. */
static bool op_decommit(vworker_t *w) {
    uint32_t v = pick_vmo(w);
    uint32_t off = below(w, g.pages[v]);
    uint32_t n = 1 + below(w, VM_MAX_RUN);
    if (off + n > g.pages[v])
        n = g.pages[v] - off;
    zx_status_t st = zx_vmo_op_range(g.vmo[v], ZX_VMO_OP_DECOMMIT, (uint64_t)off * TU_PAGE,
                                     (uint64_t)n * TU_PAGE, NULL, 0);
    /* A VMO that was ever snapshotted sits under a copy-on-write node: no decommit. */
    if (st == ZX_ERR_NOT_SUPPORTED && __atomic_load_n(&g.snapshotted[v], __ATOMIC_ACQUIRE))
        return true;
    VM_OK(w, st);
    __atomic_add_fetch(&g.decommits, 1, __ATOMIC_RELAXED);
    return true;
}

/*
 * A snapshot of a range of VMO v: its pages read back the parent's tags (or zero); mapped
 * and written with the snapshot's own tag on some pages, which it then reads back through
 * the mapping, while the parent (read through zx_vmo_read) never shows that tag.
 */
static bool snapshot_check(vworker_t *w, zx_handle_t child, uint32_t v, uint32_t off,
                           uint32_t n) {
    uint32_t snap_id = TAG_ID_SNAPSHOT | w->index;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t;
        VM_OK(w, zx_vmo_read(child, &t, (uint64_t)i * TU_PAGE, sizeof(t)));
        if (!check_tag(w, __LINE__, t, v, off + i, 0))
            return false;
    }
    zx_vaddr_t base;
    VM_OK(w, zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, child, 0,
                         (uint64_t)n * TU_PAGE, &base));
    bool ok = true;
    uint32_t mine = 0; /* bit i: page i holds the snapshot's tag */
    for (uint32_t i = 0; ok && i < n; i++) {
        volatile uint64_t *p = (volatile uint64_t *)(base + (uint64_t)i * TU_PAGE);
        if (below(w, 2)) {
            *p = tag_make(snap_id, off + i, i + 1);
            mine |= 1u << i;
        }
        uint64_t t = *p, parent = 0;
        if ((mine >> i & 1) && t != tag_make(snap_id, off + i, i + 1))
            ok = fail(w, __LINE__, "a snapshot lost its own write", t, i);
        else if (!(mine >> i & 1) && !check_tag(w, __LINE__, t, v, off + i, 0))
            ok = false;
        zx_status_t st = zx_vmo_read(g.vmo[v], &parent, (uint64_t)(off + i) * TU_PAGE,
                                     sizeof(parent));
        if (ok && st != ZX_OK)
            ok = fail(w, __LINE__, "zx_vmo_read of the parent", (uint64_t)(int64_t)st, 0);
        if (ok && !check_tag(w, __LINE__, parent, v, off + i, 0))
            ok = false;
    }
    zx_status_t st = zx_vmar_unmap(zx_vmar_root_self(), base, (uint64_t)n * TU_PAGE);
    if (ok && st != ZX_OK)
        ok = fail(w, __LINE__, "zx_vmar_unmap of the snapshot", (uint64_t)(int64_t)st, 0);
    return ok;
}

/* Snapshots a random range of an even-numbered VMO and checks it (snapshot_check). */
static bool op_snapshot(vworker_t *w) {
    uint32_t v = pick_vmo(w) & ~1u; /* the odd VMOs stay decommittable */
    __atomic_store_n(&g.snapshotted[v], 1, __ATOMIC_RELEASE);
    uint32_t n = 1 + below(w, VM_MAX_MAP_PAGES);
    if (n > g.pages[v])
        n = g.pages[v];
    uint32_t off = below(w, g.pages[v] - n + 1);
    zx_handle_t child;
    VM_OK(w, zx_vmo_create_child(g.vmo[v], ZX_VMO_CHILD_SNAPSHOT, (uint64_t)off * TU_PAGE,
                                 (uint64_t)n * TU_PAGE, &child));
    bool ok = snapshot_check(w, child, v, off, n);
    zx_handle_close(child);
    __atomic_add_fetch(&g.snapshots, 1, __ATOMIC_RELAXED);
    return ok;
}

/* ---- the slots ----------------------------------------------------------------------- */

/* The slot lock: try to take it shared (accesses) or exclusive (remap, protect); each
 * returns false at once if it is taken the other way. */
static bool slot_try_read(vslot_t *sl) {
    uint32_t v = __atomic_load_n(&sl->lock, __ATOMIC_RELAXED);
    return !(v & VM_SLOT_WRITER) && __atomic_compare_exchange_n(&sl->lock, &v, v + 1, false,
                                                                __ATOMIC_ACQUIRE,
                                                                __ATOMIC_RELAXED);
}
static void slot_read_done(vslot_t *sl) { __atomic_sub_fetch(&sl->lock, 1, __ATOMIC_RELEASE); }
static bool slot_try_write(vslot_t *sl) {
    uint32_t v = 0;
    return __atomic_compare_exchange_n(&sl->lock, &v, VM_SLOT_WRITER, false, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}
static void slot_write_done(vslot_t *sl) { __atomic_store_n(&sl->lock, 0, __ATOMIC_RELEASE); }

/* Maps a random range of a random VMO at the slot's base: over the old mapping when it
 * covers all of it, else after unmapping the slot (sometimes leaves it empty). */
static bool slot_remap_locked(vworker_t *w, vslot_t *sl) {
    uint32_t v = pick_vmo(w);
    uint32_t len = 1 + below(w, VM_MAX_MAP_PAGES);
    if (len > g.pages[v])
        len = g.pages[v];
    uint32_t off = below(w, g.pages[v] - len + 1);
    if (sl->len > len || below(w, 8) == 0) {
        VM_OK(w, zx_vmar_unmap(sl->vmar, sl->base, (uint64_t)VM_MAX_MAP_PAGES * TU_PAGE));
        sl->len = 0;
        if (below(w, 4) == 0)
            return true;
    }
    zx_vaddr_t at;
    zx_vm_option_t perm = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
    VM_OK(w, zx_vmar_map(sl->vmar, perm | ZX_VM_SPECIFIC_OVERWRITE, 0, g.vmo[v],
                         (uint64_t)off * TU_PAGE, (uint64_t)len * TU_PAGE, &at));
    if (at != sl->base)
        return fail(w, __LINE__, "a specific mapping landed elsewhere", at, sl->base);
    sl->vmo = v;
    sl->off = off;
    sl->len = len;
    sl->perm = perm;
    return true;
}

/* Remaps a random slot, if no one else holds it. */
static bool op_slot_remap(vworker_t *w) {
    vslot_t *sl = &slots[below(w, VM_SLOTS)];
    if (!slot_try_write(sl))
        return true;
    bool ok = slot_remap_locked(w, sl);
    slot_write_done(sl);
    return ok;
}

/* Protects a random slot's mapping read-only or read-write, if no one else holds it. */
static bool op_slot_protect(vworker_t *w) {
    vslot_t *sl = &slots[below(w, VM_SLOTS)];
    if (!slot_try_write(sl))
        return true;
    bool ok = true;
    if (sl->len) {
        zx_vm_option_t perm = ZX_VM_PERM_READ | (below(w, 2) ? ZX_VM_PERM_WRITE : 0);
        zx_status_t st = zx_vmar_protect(sl->vmar, perm, sl->base, (uint64_t)sl->len * TU_PAGE);
        if (st == ZX_OK)
            sl->perm = perm;
        else
            ok = fail(w, __LINE__, "zx_vmar_protect of a slot", (uint64_t)(int64_t)st, 0);
    }
    slot_write_done(sl);
    return ok;
}

/* Reads, and writes if the slot is writable, every page of a slot's mapping, checking
 * that each shows the tag of the page mapped there now. */
static bool op_slot_access(vworker_t *w) {
    vslot_t *sl = &slots[below(w, VM_SLOTS)];
    if (!slot_try_read(sl))
        return true;
    bool ok = true;
    for (uint32_t i = 0; ok && i < sl->len; i++) {
        uint64_t *p = (uint64_t *)(sl->base + (uint64_t)i * TU_PAGE);
        uint32_t index = sl->off + i;
        uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
        ok = check_tag(w, __LINE__, old, sl->vmo, index, 0);
        while (ok && (sl->perm & ZX_VM_PERM_WRITE)) {
            uint64_t next = tag_make(vmo_id(sl->vmo), index, (old & TAG_VERSION_MASK) + 1);
            if (__atomic_compare_exchange_n(p, &old, next, false, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED))
                break;
            ok = check_tag(w, __LINE__, old, sl->vmo, index, 0);
        }
    }
    slot_read_done(sl);
    return ok;
}

/* Reserves the slots' address ranges (kept for the whole run); false on failure. */
static bool slots_create(void) {
    for (uint32_t k = 0; k < VM_SLOTS; k++) {
        zx_status_t st = zx_vmar_allocate(
            zx_vmar_root_self(),
            ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC, 0,
            (uint64_t)VM_MAX_MAP_PAGES * TU_PAGE, &slots[k].vmar, &slots[k].base);
        if (st != ZX_OK) {
            printf("stress: FAILED: zx_vmar_allocate: %d\n", st);
            return false;
        }
    }
    return true;
}

/* Unmaps every slot (before the VMOs close). */
static void slots_clear(void) {
    for (uint32_t k = 0; k < VM_SLOTS; k++) {
        zx_vmar_unmap(slots[k].vmar, slots[k].base, (uint64_t)VM_MAX_MAP_PAGES * TU_PAGE);
        slots[k].len = 0;
        slots[k].lock = 0;
    }
}

typedef struct {
    const char *name;
    bool (*run)(vworker_t *w);
    uint32_t weight;
} vm_op_t;

static const vm_op_t ops[] = {
    {"map", op_map, 4},         {"unmap", op_unmap, 3},       {"protect", op_protect, 3},
    {"read", op_read, 6},       {"write", op_write, 6},       {"vmo-read", op_vmo_read, 2},
    {"decommit", op_decommit, 3}, {"snapshot", op_snapshot, 2},
    {"slot-remap", op_slot_remap, 4}, {"slot-protect", op_slot_protect, 1},
    {"slot-access", op_slot_access, 12},
};
#define VM_NOPS (sizeof(ops) / sizeof(ops[0]))

/* Runs one operation chosen by weight. */
static bool run_op(vworker_t *w) {
    uint32_t total = 0;
    for (uint32_t i = 0; i < VM_NOPS; i++)
        total += ops[i].weight;
    uint32_t r = below(w, total);
    uint32_t i = 0;
    while (r >= ops[i].weight)
        r -= ops[i++].weight;
    w->op_name = ops[i].name;
    return ops[i].run(w);
}

/* Unmaps whatever the worker still has mapped. */
static void unmap_all(vworker_t *w) {
    for (uint32_t k = 0; k < VM_MAX_MAPS; k++) {
        vmap_t *m = &w->maps[k];
        if (m->len) {
            zx_status_t st =
                zx_vmar_unmap(zx_vmar_root_self(), m->base, (uint64_t)m->len * TU_PAGE);
            if (st != ZX_OK)
                fail(w, __LINE__, "final unmap", (uint64_t)(int64_t)st, m->base);
        }
        memset(m, 0, sizeof(*m));
    }
}

/* A worker thread: its share of the operations (stops at the first failure anywhere),
 * then unmaps what it still has mapped. */
static void worker_main(uintptr_t arg, uintptr_t unused) {
    (void)unused;
    vworker_t *w = (vworker_t *)arg;
    for (w->op = 0; w->op < w->ops && __atomic_load_n(&g.failures, __ATOMIC_RELAXED) == 0;
         w->op++)
        if (!run_op(w))
            break;
    unmap_all(w);
    __atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
    zx_thread_exit();
}

/* ---- the run ------------------------------------------------------------------------- */

/* Creates the shared VMOs and one per worker; false (after printing) on failure. */
static bool vmos_create(uint32_t nworkers) {
    g.nvmos = VM_SHARED_VMOS + nworkers;
    for (uint32_t v = 0; v < g.nvmos; v++) {
        g.pages[v] = v < VM_SHARED_VMOS ? VM_SHARED_PAGES : VM_OWN_PAGES;
        zx_status_t st = zx_vmo_create((uint64_t)g.pages[v] * TU_PAGE, 0, &g.vmo[v]);
        if (st != ZX_OK) {
            printf("stress: FAILED: zx_vmo_create: %d\n", st);
            return false;
        }
    }
    return true;
}

/* Unmaps the slots, then closes every VMO. */
static void vmos_close(void) {
    slots_clear();
    for (uint32_t v = 0; v < g.nvmos; v++)
        zx_handle_close(g.vmo[v]);
    g.nvmos = 0;
}

/* Waits for the workers (VM_WORKER_TIMEOUT_NS in all; then the ones left are killed and
 * the run fails); the operations they ran. */
static uint64_t join_workers(uint32_t started) {
    zx_time_t deadline = zx_deadline_after(VM_WORKER_TIMEOUT_NS);
    uint64_t done = 0;
    for (uint32_t i = 0; i < started; i++) {
        if (tu_thread_join(&workers[i].thread, deadline - zx_clock_get_monotonic()) != ZX_OK) {
            printf("stress: FAILED: worker %u (CPU %u) still in op %u (%s)\n", i,
                   workers[i].cpu, workers[i].op, workers[i].op_name);
            g.failures++;
            tu_task_kill_wait(workers[i].thread.thread);
        }
        done += workers[i].op;
        tu_thread_destroy(&workers[i].thread);
    }
    return done;
}

/* Runs `ops` operations on nworkers workers spread over the CPUs; returns the operations
 * run (failures counted in g.failures). */
static uint64_t run_workers(uint64_t seed, uint32_t ops, uint32_t ncpus, uint32_t nworkers) {
    uint32_t started = 0;
    for (uint32_t i = 0; i < nworkers; i++) {
        vworker_t *w = &workers[i];
        w->index = i;
        w->cpu = i % ncpus;
        w->rng = stress_splitmix(seed ^ stress_splitmix(i + 1));
        w->ops = ops / nworkers + (i < ops % nworkers ? 1 : 0);
        w->op_name = "start";
        zx_status_t st = tu_thread_create(&w->thread);
        if (st == ZX_OK)
            st = tu_pin_mask(beryl_resource(), w->thread.thread, 1ull << w->cpu);
        if (st == ZX_OK)
            st = tu_thread_start(&w->thread, worker_main, (uintptr_t)w, 0);
        if (st != ZX_OK) {
            printf("stress: FAILED: starting worker %u: %d\n", i, st);
            g.failures++;
            tu_thread_destroy(&w->thread);
            break;
        }
        started++;
    }
    return join_workers(started);
}

int main(int argc, char **argv) {
    const char *source;
    uint64_t seed = stress_pick_seed(argc, argv, (uint64_t)BERYL_STRESS_VM_SEED,
                                     "-DBERYL_STRESS_VM_SEED", &source);
    uint32_t nops = stress_pick_ops(argc, argv, BERYL_STRESS_VM_OPS);
    uint32_t ncpus = zx_system_get_num_cpus();
    if (ncpus > VM_MAX_WORKERS / VM_WORKERS_PER_CPU)
        ncpus = VM_MAX_WORKERS / VM_WORKERS_PER_CPU;
    uint32_t nworkers = ncpus * VM_WORKERS_PER_CPU;
    printf("stress: vm: seed 0x%016llx (from %s), %u operations, %u workers on %u CPU%s\n",
           (unsigned long long)seed, source, nops, nworkers, ncpus, ncpus == 1 ? "" : "s");
    if (beryl_resource() == ZX_HANDLE_INVALID) {
        printf("stress: FAILED: no resource handle (pinning and the leak check need it)\n");
        return 1;
    }
    /* A warm-up run of every worker grows what the process keeps for good (data, bss,
     * heap, handle table, upper page tables) before the measurement; its checks count. */
    memset(workers, 0, sizeof(workers));
    if (!slots_create() || !vmos_create(nworkers))
        return 1;
    run_workers(stress_splitmix(seed), (uint32_t)VM_NOPS * nworkers, ncpus, nworkers);
    vmos_close();
    if (g.failures)
        return 1;
    memset(&g, 0, sizeof(g));
    memset(workers, 0, sizeof(workers)); /* all of it was written before: no new page */
    stress_kmem_t before = stress_kmem_now();

    zx_time_t t0 = zx_clock_get_monotonic();
    uint64_t done = 0;
    if (vmos_create(nworkers))
        done = run_workers(seed, nops, ncpus, nworkers);
    else
        g.failures++;
    vmos_close();
    zx_time_t t1 = zx_clock_get_monotonic();
    printf("stress: vm: %llu operations in %lld ms: %u pages read and %u written through "
           "mappings, %u decommits, %u snapshots\n",
           (unsigned long long)done, (long long)((t1 - t0) / TU_MS), g.faults_read,
           g.faults_written, g.decommits, g.snapshots);

    stress_kmem_t after = stress_kmem_now();
    for (int r = 0; r < VM_LEAK_RETRIES && stress_kmem_lost(&before, &after) > 0; r++) {
        zx_nanosleep(zx_deadline_after(VM_LEAK_RETRY_NS));
        after = stress_kmem_now();
    }
    int64_t lost = stress_kmem_lost(&before, &after);
    if (lost > 0) {
        printf("stress: FAILED: %lld pages of kernel memory did not come back (free %lld -> "
               "%lld; VMO pages %+lld, page tables %+lld, heap pages %+lld with %+lld bytes "
               "in use)\n", (long long)lost, (long long)before.free_pages,
               (long long)after.free_pages, (long long)(after.vmo_pages - before.vmo_pages),
               (long long)(after.mmu_pages - before.mmu_pages),
               (long long)(after.heap_pages - before.heap_pages),
               (long long)(after.heap_used - before.heap_used));
        g.failures++;
    } else {
        printf("stress: kernel free memory back to its start (%lld pages)\n",
               (long long)before.free_pages);
    }
    if (g.failures == 0 && done != nops) {
        printf("stress: FAILED: %llu of %u operations ran\n", (unsigned long long)done, nops);
        g.failures++;
    }
    printf("stress: vm: %s, seed 0x%016llx\n", g.failures ? "FAILED" : "passed",
           (unsigned long long)seed);
    return g.failures ? 1 : 0;
}
