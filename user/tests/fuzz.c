/*
 * Syscall fuzzer. The test case launches FUZZ_PROCS copies of this program
 * ("--fuzz <index> <seed> <calls>"); each runs FUZZ_THREADS threads issuing random
 * syscalls (see fuzz_ops.c-style table below) with a deterministic per-thread PRNG:
 * valid handles mixed with closed, wrong-type and made-up ones, wild pointers, huge and
 * zero sizes, random option bits. Every result is checked against the syscall's
 * documented status set (docs/syscalls.md, syscall-abi/decisions.md); a status outside
 * it is printed with the call and its arguments and makes the child exit non-zero. The
 * parent fails on a bad exit code, on a child that does not finish in time (a hang) and
 * on kernel free memory that does not return to its starting value once every fuzzer
 * process is gone. docs/user-tests.md ("Syscall fuzzer") describes budgets and long runs.
 *
 * Self-protection: the fuzzer's own handles (process, thread, root VMAR, job, resource,
 * the runtime's) never reach a destructive call; VMAR calls only ever get the child's
 * fuzz VMAR or VMARs made inside it; output pointers are either invalid or point into a
 * per-thread scratch area; made-up handle values have an index no table reaches.
 */
#include <beryl/launch.h>
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/processargs.h>
#include <zircon/syscall_numbers.h>
#include <zircon/vmo_vmar.h>

/* Both come from CMake cache variables of the same names (user/CMakeLists.txt). */
#ifndef BERYL_FUZZ_CALLS
#define BERYL_FUZZ_CALLS 200000
#endif
#ifndef BERYL_FUZZ_SEED
#define BERYL_FUZZ_SEED 0x5eed1234
#endif
#ifndef FUZZ_OP_MASK
#define FUZZ_OP_MASK (~0ull) /* bit i enables ops[i]: narrows a failure down */
#endif
#define FUZZ_PROCS 3
#define FUZZ_THREADS 3
/* Wall-clock allowance before the children count as hung: 20 s plus 20 ms per 1000 calls
 * (about 3x the measured rate under QEMU TCG), but below userboot's 120 s limit per
 * program so that a hang is reported here, with the child named. */
#define FUZZ_TIMEOUT_NS(calls)                                                             \
    ((20 * TU_SEC + (zx_duration_t)(calls) / 1000 * 20 * TU_MS) < 110 * TU_SEC             \
         ? (20 * TU_SEC + (zx_duration_t)(calls) / 1000 * 20 * TU_MS)                      \
         : 110 * TU_SEC)

#define POOL_SIZE 48
#define CLOSED_RING 16
#define SCRATCH_PAGES 4
#define FUZZ_VMAR_SIZE (4u << 20)
#define MAX_REPORTS 20
#define LOW_UNMAPPED 0x200000u /* below USER_ASPACE_BASE: never mapped */

/* What a child sends back on its PA_USER1 channel. */
typedef struct {
    uint64_t calls;
    uint64_t checked;
    uint64_t violations;
    uint64_t ok;
} fuzz_stats_t;

/* ---- PRNG (splitmix64) ---- */

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t rnd(rng_t *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rnd_below(rng_t *r, uint64_t n) { return n ? rnd(r) % n : 0; }
static bool chance(rng_t *r, unsigned percent) { return rnd_below(r, 100) < percent; }

/* ---- Process-wide state shared by the fuzzing threads ---- */

static volatile int pool_lock;
static zx_handle_t pool[POOL_SIZE];
static zx_obj_type_t pool_type[POOL_SIZE];
static zx_handle_t closed_ring[CLOSED_RING];
static uint32_t closed_next;
static zx_handle_t special[5]; /* process, root VMAR, job, resource, thread of main */
static uint32_t num_special;
static zx_handle_t fuzz_vmar;  /* never in the pool: destroying it would end the fun */
static zx_vaddr_t fuzz_base;
static uint32_t violations;    /* atomic */
static uint64_t total_calls, total_checked, total_ok; /* atomic */
static int child_index;
/* Addresses of recent successful mappings in the fuzz VMAR: targets for unmap, protect,
 * op_range and process memory calls that actually hit something. */
#define MAP_RING 16
static zx_vaddr_t map_ring[MAP_RING];
static uint32_t map_next;

static void lock(void) {
    while (__atomic_exchange_n(&pool_lock, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
}
static void unlock(void) { __atomic_store_n(&pool_lock, 0, __ATOMIC_RELEASE); }

/* Remembers a value this process closed (a "closed handle" for later calls). */
static void note_closed(zx_handle_t h) {
    if (h == ZX_HANDLE_INVALID)
        return;
    lock();
    closed_ring[closed_next++ % CLOSED_RING] = h;
    for (uint32_t i = 0; i < POOL_SIZE; i++) /* it may have come from the pool by peek */
        if (pool[i] == h)
            pool[i] = ZX_HANDLE_INVALID;
    unlock();
}

/* Adds a handle the fuzzer owns; when the pool is full a random victim is closed. */
static void pool_add(rng_t *r, zx_handle_t h) {
    if (h == ZX_HANDLE_INVALID)
        return;
    zx_handle_t victim = ZX_HANDLE_INVALID;
    zx_obj_type_t type = tu_basic(h).type; /* a hint for typed picks; not a fuzz call */
    lock();
    uint32_t start = (uint32_t)rnd_below(r, POOL_SIZE), i;
    for (i = 0; i < POOL_SIZE; i++) {
        uint32_t k = (start + i) % POOL_SIZE;
        if (pool[k] == ZX_HANDLE_INVALID) {
            pool[k] = h;
            pool_type[k] = type;
            break;
        }
    }
    if (i == POOL_SIZE) {
        victim = pool[start];
        pool[start] = h;
        pool_type[start] = type;
    }
    unlock();
    if (victim != ZX_HANDLE_INVALID) {
        zx_handle_close(victim);
        note_closed(victim);
    }
}

/* A pool handle to use (the pool keeps it), or 0 if the slot is empty. */
static zx_handle_t pool_peek(rng_t *r) {
    lock();
    zx_handle_t h = pool[rnd_below(r, POOL_SIZE)];
    unlock();
    return h;
}

/* A pool handle of the given type if there is one (the pool keeps it), else any. */
static zx_handle_t pool_peek_type(rng_t *r, zx_obj_type_t type) {
    lock();
    uint32_t start = (uint32_t)rnd_below(r, POOL_SIZE);
    zx_handle_t h = ZX_HANDLE_INVALID;
    for (uint32_t i = 0; i < POOL_SIZE; i++) {
        uint32_t k = (start + i) % POOL_SIZE;
        if (pool[k] != ZX_HANDLE_INVALID && (h == ZX_HANDLE_INVALID || pool_type[k] == type))
            h = pool[k]; /* the first live one, replaced by the first of the type */
        if (h != ZX_HANDLE_INVALID && pool_type[k] == type)
            break;
    }
    if (type != ZX_OBJ_TYPE_NONE && h != ZX_HANDLE_INVALID && !chance(r, 10)) {
        uint32_t k;
        for (k = 0; k < POOL_SIZE && pool[k] != h; k++)
            ;
        if (k == POOL_SIZE || pool_type[k] != type)
            h = ZX_HANDLE_INVALID; /* none of that type: let the caller choose */
    }
    unlock();
    return h;
}

/* A pool handle the caller now owns (for calls that consume their handle). */
static zx_handle_t pool_take(rng_t *r) {
    lock();
    uint32_t k = (uint32_t)rnd_below(r, POOL_SIZE);
    zx_handle_t h = pool[k];
    pool[k] = ZX_HANDLE_INVALID;
    unlock();
    return h;
}

/* A value that can never name a live handle: the index field (bits 2..19, see
 * kernel/object/handle_table.c) is >= 2^17, far beyond any table this process grows,
 * or the fixed low bits are not both set. */
static zx_handle_t made_up(rng_t *r) {
    uint32_t v = (uint32_t)rnd(r);
    switch (rnd_below(r, 4)) {
    case 0:
        return v & ~ZX_HANDLE_FIXED_BITS_MASK ? v & ~1u : 2;
    case 1:
        return 0xffffffffu;
    default:
        return v | (1u << 19) | ZX_HANDLE_FIXED_BITS_MASK;
    }
}

static zx_handle_t closed_value(rng_t *r) {
    lock();
    zx_handle_t h = closed_ring[rnd_below(r, CLOSED_RING)];
    unlock();
    return h;
}

/*
 * A handle argument. `safe_special`: the call cannot hurt the fuzzer through its own
 * process / root VMAR / job / resource handles (no destruction, no consumption, no
 * mapping changes), so they may be passed.
 */
static zx_handle_t any_handle(rng_t *r, bool safe_special) {
    unsigned k = (unsigned)rnd_below(r, 100);
    if (k < 60)
        return pool_peek(r);
    if (k < 72 && safe_special)
        return special[rnd_below(r, num_special)];
    if (k < 80)
        return closed_value(r);
    if (k < 90)
        return made_up(r);
    return ZX_HANDLE_INVALID;
}

/* A handle argument that is usually of the right type (`type`), else anything. */
static zx_handle_t typed_handle(rng_t *r, zx_obj_type_t type, bool safe_special) {
    if (chance(r, 65)) {
        zx_handle_t h = pool_peek_type(r, type);
        if (h != ZX_HANDLE_INVALID)
            return h;
    }
    return any_handle(r, safe_special);
}

/* A VMAR argument for calls that change mappings: the fuzz VMAR or the pool. */
static zx_handle_t vmar_handle(rng_t *r) {
    if (chance(r, 50))
        return fuzz_vmar;
    if (chance(r, 65)) {
        zx_handle_t h = pool_peek_type(r, ZX_OBJ_TYPE_VMAR);
        return h != ZX_HANDLE_INVALID ? h : fuzz_vmar;
    }
    return any_handle(r, false);
}

/* ---- Per-thread state ---- */

typedef struct {
    rng_t rng;
    int index;
    uint8_t *scratch;   /* SCRATCH_PAGES read-write pages, then one unmapped page */
    uint8_t *ro_page;   /* one read-only page after the guard, holding ro_pattern */
    bool used_ro;       /* this call got a pointer into ro_page */
    zx_time_t last_clock;
    /* The call being made, for the report. */
    const char *name;
    uint64_t arg[8];
    int nargs;
    uint64_t calls;
    size_t op;          /* index into ops[] */
    bool sane;          /* this call mostly gets plausible arguments */
} fuzz_thread_t;

/* In a "sane" call each argument is plausible with high probability, so calls get past
 * the first checks into the deeper paths; otherwise anything goes. */
#define SANE(t) ((t)->sane && chance(&(t)->rng, 85))

static uintptr_t scratch_at(fuzz_thread_t *t, size_t max_len) {
    return (uintptr_t)t->scratch + (rnd_below(&t->rng, SCRATCH_PAGES * TU_PAGE - max_len) & ~7ull);
}

static uint8_t ro_pattern[64];

#define GUARD(t) ((uintptr_t)(t)->scratch + SCRATCH_PAGES * TU_PAGE)

/* Pointers that are never valid user memory for a kernel copy. */
static uintptr_t wild_ptr(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    switch (rnd_below(r, 11)) {
    case 0:
        return 0;
    case 1:
        return 1 + rnd_below(r, LOW_UNMAPPED - 1);
    case 2:
        return 0xffffff8000000000ull + (rnd(r) & 0x7fffffffffull); /* kernel half */
    case 3:
        return 0xffff800000000000ull | (rnd(r) & 0x7fffffffffffull);
    case 4:
        return 0x0000800000000000ull + (rnd(r) & 0x7fffffffffffull); /* non-canonical */
    case 5:
        return 0x8000000000000000ull ^ (rnd(r) & 0xffffffffffffull);
    case 6:
        return 0x7ffffffff000ull + rnd_below(r, 0x1000); /* the excluded top page */
    case 7:
        return GUARD(t) + rnd_below(r, TU_PAGE); /* unmapped page after the scratch */
    case 8:
        t->used_ro = true; /* read-only: writing must fail */
        return (uintptr_t)t->ro_page + rnd_below(r, TU_PAGE);
    case 9:
        return GUARD(t) - 1 - rnd_below(r, 16); /* straddles the end of the scratch */
    default:
        return rnd(r);
    }
}

/* A pointer whose first byte can never be read or written (no straddling, no
 * read-only page): arrays the kernel reads handle values from may only be this or
 * memory the fuzzer filled itself. */
static uintptr_t dead_ptr(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    switch (rnd_below(r, 6)) {
    case 0:
        return 0;
    case 1:
        return 1 + rnd_below(r, LOW_UNMAPPED - 1);
    case 2:
        return 0xffffff8000000000ull + (rnd(r) & 0x7fffffffffull);
    case 3:
        return 0x0000800000000000ull + (rnd(r) & 0x7fffffffffffull);
    case 4:
        return 0x7ffffffff000ull + rnd_below(r, 0x1000);
    default:
        return GUARD(t) + rnd_below(r, TU_PAGE);
    }
}

/* An output buffer: mostly the scratch area, sometimes wild, sometimes the fuzz VMAR
 * (whose mappings hold nothing the fuzzer needs). */
static uintptr_t out_ptr(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    unsigned k = (unsigned)rnd_below(r, 100);
    if (k < 65)
        return (uintptr_t)t->scratch + (rnd_below(r, SCRATCH_PAGES * TU_PAGE) & ~7ull);
    if (k < 72)
        return fuzz_base + rnd_below(r, FUZZ_VMAR_SIZE);
    return wild_ptr(t);
}

/* An input buffer: also the program's own code and data (read only by the kernel). */
static uintptr_t in_ptr(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    if (chance(r, 10))
        return (uintptr_t)&rnd + rnd_below(r, 4096);
    if (chance(r, 5)) {
        t->used_ro = true;
        return (uintptr_t)t->ro_page + rnd_below(r, TU_PAGE);
    }
    return out_ptr(t);
}

/* A pointer to one scalar out-parameter (handle, size, address...): valid scratch
 * (so the fuzzer learns the value) or never-valid. Returns whether it is valid. */
static uintptr_t scalar_out(fuzz_thread_t *t, bool *valid) {
    rng_t *r = &t->rng;
    if (chance(r, 88)) {
        *valid = true;
        return (uintptr_t)t->scratch + 8 * rnd_below(r, 64);
    }
    *valid = false;
    uintptr_t p = wild_ptr(t);
    if (p == 0 && chance(r, 50))
        p = wild_ptr(t);
    if (p < GUARD(t) && p >= GUARD(t) - 16)
        p = GUARD(t) - 1 - rnd_below(r, 3); /* even a 4-byte value straddles */
    return p;
}

/* Sizes: zero, tiny, around a page, medium, huge. */
static uint64_t any_size(rng_t *r) {
    switch (rnd_below(r, 10)) {
    case 0:
        return 0;
    case 1:
        return 1 + rnd_below(r, 64);
    case 2:
        return TU_PAGE - 1 + rnd_below(r, 3);
    case 3:
        return TU_PAGE * (1 + rnd_below(r, 8));
    case 4:
        return rnd_below(r, 64 * 1024);
    case 5:
        return UINT64_MAX - rnd_below(r, 2 * TU_PAGE);
    case 6:
        return 1ull << (32 + rnd_below(r, 32));
    case 7:
        return rnd(r);
    default:
        return rnd_below(r, 4 * TU_PAGE);
    }
}

/* Sizes for buffers the kernel may really copy: never above the readable area we can
 * offer, except huge values that must be rejected. */
static uint64_t buf_size(rng_t *r) {
    uint64_t s = any_size(r);
    if (s > 4 * TU_PAGE && s < (1ull << 32))
        s &= 4 * TU_PAGE - 1;
    return s;
}

static uint32_t any_bits32(rng_t *r) {
    switch (rnd_below(r, 4)) {
    case 0:
        return 0;
    case 1:
        return 1u << rnd_below(r, 32);
    case 2:
        return (uint32_t)rnd_below(r, 16);
    default:
        return (uint32_t)rnd(r);
    }
}

static zx_rights_t any_rights(rng_t *r) {
    if (chance(r, 30))
        return ZX_RIGHT_SAME_RIGHTS;
    if (chance(r, 30))
        return (zx_rights_t)rnd(r) & 0xd0ef;
    return (zx_rights_t)rnd(r);
}

/* A VMAR address: somewhere in the fuzz VMAR (often aligned), near it, or wild. */
static uint64_t vmar_addr(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    if (chance(r, 45)) {
        lock();
        zx_vaddr_t a = map_ring[rnd_below(r, MAP_RING)];
        unlock();
        if (a != 0)
            return a + (chance(r, 70) ? 0 : TU_PAGE * rnd_below(r, 4));
    }
    unsigned k = (unsigned)rnd_below(r, 10);
    if (k < 6)
        return fuzz_base + rnd_below(r, FUZZ_VMAR_SIZE / TU_PAGE) * TU_PAGE;
    if (k < 7)
        return fuzz_base + rnd_below(r, FUZZ_VMAR_SIZE);
    if (k < 8)
        return fuzz_base - TU_PAGE * rnd_below(r, 4) + (chance(r, 50) ? FUZZ_VMAR_SIZE : 0);
    return wild_ptr(t);
}

static uint64_t vmar_len(rng_t *r) {
    if (chance(r, 70))
        return TU_PAGE * (1 + rnd_below(r, 16));
    return any_size(r);
}

static uint64_t vmar_offset(rng_t *r) {
    if (chance(r, 70))
        return TU_PAGE * rnd_below(r, FUZZ_VMAR_SIZE / TU_PAGE);
    return any_size(r);
}

static zx_vm_option_t vm_options(rng_t *r) {
    zx_vm_option_t o = (zx_vm_option_t)rnd_below(r, 8); /* PERM_* */
    if (chance(r, 30))
        o |= ZX_VM_SPECIFIC;
    if (chance(r, 10))
        o |= ZX_VM_SPECIFIC_OVERWRITE;
    if (chance(r, 30))
        o |= (zx_vm_option_t)(rnd(r) & 0xffc0u);
    if (chance(r, 10))
        o |= (zx_vm_option_t)rnd_below(r, 40) << ZX_VM_ALIGN_BASE;
    if (chance(r, 5))
        o = (zx_vm_option_t)rnd(r);
    return o;
}

/* ---- Status sets ---- */

#define S(x) (1ull << (-(x) & 63))
#define S_OK S(ZX_OK)
#define S_H (S(ZX_ERR_BAD_HANDLE) | S(ZX_ERR_WRONG_TYPE) | S(ZX_ERR_ACCESS_DENIED))
#define S_ARGS S(ZX_ERR_INVALID_ARGS)
#define S_MEM S(ZX_ERR_NO_MEMORY)

static bool status_allowed(zx_status_t st, uint64_t set) {
    return st <= 0 && st > -64 && (set & S(st)) != 0;
}

static void report(fuzz_thread_t *t, zx_status_t st, const char *why) {
    uint32_t n = __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
    if (n >= MAX_REPORTS)
        return;
    char line[256];
    int len = snprintf(line, sizeof(line), "fuzz: VIOLATION proc %d thread %d call %llu: %s(",
                       child_index, t->index, (unsigned long long)t->calls, t->name);
    for (int i = 0; i < t->nargs && len < (int)sizeof(line); i++)
        len += snprintf(line + len, sizeof(line) - (size_t)len, "%s%#llx", i ? ", " : "",
                        (unsigned long long)t->arg[i]);
    printf("%s) = %d: %s\n", line, (int)st, why);
}

/* Records the call's arguments for a later report. */
#define CALL(t, fn, ...)                                                                   \
    do {                                                                                   \
        uint64_t a_[] = {__VA_ARGS__};                                                     \
        (t)->name = fn;                                                                    \
        (t)->nargs = (int)(sizeof(a_) / sizeof(a_[0]));                                    \
        memcpy((t)->arg, a_, sizeof(a_));                                                  \
    } while (0)

/* Per-operation counts (-DFUZZ_VERBOSE prints them per child): calls and ZX_OK results. */
static uint32_t op_calls[64], op_oks[64];

static zx_status_t check(fuzz_thread_t *t, zx_status_t st, uint64_t set) {
    __atomic_fetch_add(&total_checked, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&op_calls[t->op], 1, __ATOMIC_RELAXED);
    if (st == ZX_OK)
        __atomic_fetch_add(&op_oks[t->op], 1, __ATOMIC_RELAXED);
    if (st == ZX_OK)
        __atomic_fetch_add(&total_ok, 1, __ATOMIC_RELAXED);
    if (!status_allowed(st, set))
        report(t, st, "status not in the documented set");
    return st;
}

/* A call that got a never-valid pointer for a required out-parameter must not succeed. */
static void check_not_ok(fuzz_thread_t *t, zx_status_t st, bool out_valid) {
    if (st == ZX_OK && !out_valid)
        report(t, st, "succeeded with an invalid out pointer");
}

/* ---- The operations ---- */

static zx_handle_t read_handle(uintptr_t p) { return *(volatile zx_handle_t *)p; }

static void op_close(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = chance(r, 60) ? pool_take(r) : any_handle(r, false);
    CALL(t, "handle_close", h);
    if (check(t, zx_handle_close(h), S_OK | S(ZX_ERR_BAD_HANDLE)) == ZX_OK)
        note_closed(h);
}

static void op_close_many(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t *a = (zx_handle_t *)t->scratch;
    size_t n = rnd_below(r, 6);
    for (size_t i = 0; i < n; i++)
        a[i] = chance(r, 50) ? pool_take(r) : any_handle(r, false);
    uintptr_t p = (uintptr_t)a;
    size_t count = n;
    if (chance(r, 15)) {
        p = dead_ptr(t);
        count = chance(r, 50) ? n : (size_t)any_size(r);
    }
    CALL(t, "handle_close_many", p, count);
    check(t, zx_handle_close_many((const zx_handle_t *)p, count),
          S_OK | S(ZX_ERR_BAD_HANDLE) | S_ARGS);
    for (size_t i = 0; i < n; i++) /* closed, or lost with an unreadable array */
        note_closed(a[i]);
}

static void op_duplicate(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = any_handle(r, true);
    bool valid;
    uintptr_t out = scalar_out(t, &valid);
    zx_rights_t rights = any_rights(r);
    CALL(t, "handle_duplicate", h, rights, out);
    zx_status_t st = check(t, zx_handle_duplicate(h, rights, (zx_handle_t *)out),
                           S_OK | S(ZX_ERR_BAD_HANDLE) | S(ZX_ERR_ACCESS_DENIED) | S_ARGS | S_MEM);
    check_not_ok(t, st, valid);
    if (st == ZX_OK && valid) {
        zx_handle_t nh = read_handle(out);
        bool is_special = false;
        for (uint32_t i = 0; i < num_special; i++)
            is_special |= special[i] == h;
        if (is_special) /* a copy of the fuzzer's own handles must not enter the pool */
            zx_handle_close(nh);
        else
            pool_add(r, nh);
    }
}

static void op_replace(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = chance(r, 80) ? pool_take(r) : any_handle(r, false);
    bool valid;
    uintptr_t out = scalar_out(t, &valid);
    zx_rights_t rights = any_rights(r);
    CALL(t, "handle_replace", h, rights, out);
    zx_status_t st = check(t, zx_handle_replace(h, rights, (zx_handle_t *)out),
                           S_OK | S(ZX_ERR_BAD_HANDLE) | S_ARGS | S_MEM);
    check_not_ok(t, st, valid);
    note_closed(h);
    if (st == ZX_OK && valid)
        pool_add(r, read_handle(out));
}

static const uint32_t topics[] = {
    ZX_INFO_NONE, ZX_INFO_HANDLE_VALID, ZX_INFO_HANDLE_BASIC, ZX_INFO_PROCESS,
    ZX_INFO_PROCESS_THREADS, ZX_INFO_VMAR, ZX_INFO_THREAD, ZX_INFO_TASK_STATS,
    ZX_INFO_PROCESS_MAPS, ZX_INFO_PROCESS_VMOS, ZX_INFO_KMEM_STATS, ZX_INFO_HANDLE_COUNT,
    ZX_INFO_VMO, ZX_INFO_VMO_V1, ZX_INFO_JOB, ZX_INFO_VMAR_MAPS, 37, 41, 0x7fffffff,
};

static void op_get_info(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = any_handle(r, true);
    if (t->sane)
        h = chance(r, 70) ? pool_peek_type(r, ZX_OBJ_TYPE_NONE) : special[rnd_below(r, num_special)];
    uint32_t topic = chance(r, 85) ? topics[rnd_below(r, sizeof(topics) / sizeof(topics[0]))]
                                   : (uint32_t)rnd(r);
    if (SANE(t)) { /* the topic that fits the object */
        switch (tu_basic(h).type) {
        case ZX_OBJ_TYPE_VMO:
            topic = ZX_INFO_VMO;
            break;
        case ZX_OBJ_TYPE_VMAR:
            topic = ZX_INFO_VMAR;
            break;
        case ZX_OBJ_TYPE_PROCESS:
            topic = ZX_INFO_PROCESS;
            break;
        case ZX_OBJ_TYPE_THREAD:
            topic = ZX_INFO_THREAD;
            break;
        case ZX_OBJ_TYPE_RESOURCE:
            topic = ZX_INFO_KMEM_STATS;
            break;
        default:
            topic = ZX_INFO_HANDLE_BASIC;
            break;
        }
    }
    uintptr_t buf = SANE(t) ? scratch_at(t, 512) : chance(r, 10) ? 0 : out_ptr(t);
    size_t size = SANE(t) ? 512 : chance(r, 60) ? rnd_below(r, 256) : (size_t)buf_size(r);
    uintptr_t actual = chance(r, 30) ? 0 : out_ptr(t);
    uintptr_t avail = chance(r, 30) ? 0 : out_ptr(t);
    CALL(t, "object_get_info", h, topic, buf, size, actual, avail);
    check(t, zx_object_get_info(h, topic, (void *)buf, size, (size_t *)actual, (size_t *)avail),
          S_OK | S_H | S_ARGS | S(ZX_ERR_BUFFER_TOO_SMALL) | S(ZX_ERR_NOT_SUPPORTED) |
              S(ZX_ERR_BAD_STATE) | S_MEM);
}

static uint32_t any_property(rng_t *r) {
    static const uint32_t props[] = {ZX_PROP_NAME, ZX_PROP_VMO_CONTENT_SIZE, 0, 1, 2, 4, 99};
    return chance(r, 85) ? props[rnd_below(r, sizeof(props) / sizeof(props[0]))]
                         : (uint32_t)rnd(r);
}

static void op_get_property(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_VMO, true) : any_handle(r, true);
    uint32_t prop = SANE(t) ? (chance(r, 50) ? ZX_PROP_NAME : ZX_PROP_VMO_CONTENT_SIZE)
                            : any_property(r);
    uintptr_t buf = SANE(t) ? scratch_at(t, 64) : out_ptr(t);
    size_t size = SANE(t) ? 32 + rnd_below(r, 8) : chance(r, 60) ? rnd_below(r, 64) : (size_t)buf_size(r);
    CALL(t, "object_get_property", h, prop, buf, size);
    check(t, zx_object_get_property(h, prop, (void *)buf, size),
          S_OK | S_H | S_ARGS | S(ZX_ERR_BUFFER_TOO_SMALL));
}

static void op_set_property(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_VMO, true) : any_handle(r, true);
    uint32_t prop = SANE(t) ? (chance(r, 50) ? ZX_PROP_NAME : ZX_PROP_VMO_CONTENT_SIZE)
                            : any_property(r);
    uintptr_t buf = SANE(t) ? scratch_at(t, 64) : in_ptr(t);
    size_t size = SANE(t) ? 8 + rnd_below(r, 30) : chance(r, 60) ? rnd_below(r, 64) : (size_t)buf_size(r);
    if (prop == ZX_PROP_VMO_CONTENT_SIZE && buf >= (uintptr_t)t->scratch &&
        buf < GUARD(t) - 8 && chance(r, 80))
        *(volatile uint64_t *)buf = rnd_below(r, 8 * TU_PAGE);
    CALL(t, "object_set_property", h, prop, buf, size);
    check(t, zx_object_set_property(h, prop, (const void *)buf, size),
          S_OK | S_H | S_ARGS | S(ZX_ERR_BUFFER_TOO_SMALL) | S(ZX_ERR_OUT_OF_RANGE));
}

static void op_wait_one(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = any_handle(r, true);
    zx_signals_t sig = any_bits32(r);
    zx_time_t dl;
    switch (rnd_below(r, 4)) {
    case 0:
        dl = ZX_TIME_INFINITE_PAST;
        break;
    case 1:
        dl = 0;
        break;
    case 2:
        dl = zx_clock_get_monotonic() - (zx_time_t)rnd_below(r, TU_SEC);
        break;
    default:
        dl = zx_clock_get_monotonic() + (zx_time_t)rnd_below(r, 200000); /* <= 0.2 ms */
        break;
    }
    uintptr_t obs = chance(r, 30) ? 0 : out_ptr(t);
    CALL(t, "object_wait_one", h, sig, (uint64_t)dl, obs);
    check(t, zx_object_wait_one(h, sig, dl, (zx_signals_t *)obs),
          S_OK | S(ZX_ERR_TIMED_OUT) | S(ZX_ERR_CANCELED) | S(ZX_ERR_BAD_HANDLE) |
              S(ZX_ERR_ACCESS_DENIED) | S_ARGS);
}

static void op_signal(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_CHANNEL, true) : any_handle(r, true);
    uint32_t clear = chance(r, 70) ? any_bits32(r) & ZX_USER_SIGNAL_ALL : any_bits32(r);
    uint32_t set = chance(r, 70) ? any_bits32(r) & ZX_USER_SIGNAL_ALL : any_bits32(r);
    CALL(t, "object_signal", h, clear, set);
    check(t, zx_object_signal(h, clear, set),
          S_OK | S(ZX_ERR_BAD_HANDLE) | S(ZX_ERR_ACCESS_DENIED) | S_ARGS);
}

static void op_thread_create(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t p = SANE(t) ? (chance(r, 50) ? zx_process_self()
                                             : typed_handle(r, ZX_OBJ_TYPE_PROCESS, true))
                            : any_handle(r, true);
    uintptr_t name = SANE(t) ? scratch_at(t, 64) : in_ptr(t);
    size_t len = chance(r, 70) ? rnd_below(r, 48) : (size_t)buf_size(r);
    uint32_t opt = SANE(t) || chance(r, 80) ? 0 : any_bits32(r);
    bool valid;
    uintptr_t out = scalar_out(t, &valid);
    CALL(t, "thread_create", p, name, len, opt, out);
    zx_status_t st = check(t, zx_thread_create(p, (const char *)name, len, opt, (zx_handle_t *)out),
                           S_OK | S_H | S_ARGS | S(ZX_ERR_BAD_STATE) | S_MEM);
    check_not_ok(t, st, valid);
    if (st == ZX_OK && valid)
        pool_add(r, read_handle(out)); /* never started: a new thread only waits */
}

static void op_process_create(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t job = chance(r, 70) ? zx_job_default() : any_handle(r, true);
    uintptr_t name = in_ptr(t);
    size_t len = chance(r, 70) ? rnd_below(r, 48) : (size_t)buf_size(r);
    uint32_t opt = chance(r, 80) ? 0 : any_bits32(r);
    bool v1, v2;
    uintptr_t o1 = scalar_out(t, &v1);
    uintptr_t o2 = scalar_out(t, &v2);
    if (o2 == o1)
        o2 += 8;
    CALL(t, "process_create", job, name, len, opt, o1, o2);
    zx_status_t st = check(t, zx_process_create(job, (const char *)name, len, opt,
                                                (zx_handle_t *)o1, (zx_handle_t *)o2),
                           S_OK | S_H | S_ARGS | S(ZX_ERR_BAD_STATE) | S_MEM |
                               S(ZX_ERR_NOT_SUPPORTED) /* ZX_PROCESS_SHARED */);
    check_not_ok(t, st, v1 && v2);
    if (st == ZX_OK && v1 && v2) {
        pool_add(r, read_handle(o1));
        pool_add(r, read_handle(o2));
    }
}

/* process_read/write_memory: the fuzzer's own process or pool processes. Writes to the
 * fuzzer's own process go only to the fuzz VMAR, the scratch area or wild addresses. */
static void op_process_memory(fuzz_thread_t *t, bool write) {
    rng_t *r = &t->rng;
    zx_handle_t p = chance(r, 40) ? zx_process_self() : typed_handle(r, ZX_OBJ_TYPE_PROCESS, false);
    uint64_t vaddr;
    if (SANE(t)) {
        lock();
        vaddr = map_ring[rnd_below(r, MAP_RING)] + rnd_below(r, TU_PAGE);
        unlock();
    } else if (!write && chance(r, 20))
        vaddr = (uintptr_t)&rnd + rnd_below(r, 8192);
    else if (chance(r, 50))
        vaddr = fuzz_base + rnd_below(r, FUZZ_VMAR_SIZE);
    else if (chance(r, 30))
        vaddr = (uintptr_t)t->scratch + rnd_below(r, SCRATCH_PAGES * TU_PAGE);
    else {
        bool saved = t->used_ro;
        vaddr = wild_ptr(t);
        if (vaddr >= (uintptr_t)t->ro_page && vaddr < (uintptr_t)t->ro_page + TU_PAGE) {
            vaddr = GUARD(t); /* writing it as a debugger is allowed: not a kernel bug */
            t->used_ro = saved;
        }
    }
    uintptr_t buf = SANE(t) ? scratch_at(t, 4096) : write ? in_ptr(t) : out_ptr(t);
    size_t size = SANE(t) || chance(r, 60) ? rnd_below(r, 512) : (size_t)buf_size(r);
    uintptr_t actual = SANE(t) ? scratch_at(t, 8) : chance(r, 20) ? wild_ptr(t) : out_ptr(t);
    zx_status_t st;
    if (write) {
        CALL(t, "process_write_memory", p, vaddr, buf, size, actual);
        st = zx_process_write_memory(p, vaddr, (const void *)buf, size, (size_t *)actual);
    } else {
        CALL(t, "process_read_memory", p, vaddr, buf, size, actual);
        st = zx_process_read_memory(p, vaddr, (void *)buf, size, (size_t *)actual);
    }
    check(t, st, S_OK | S_H | S_ARGS | S(ZX_ERR_NOT_FOUND) | S(ZX_ERR_BAD_STATE) | S_MEM);
}

static void op_task_kill(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    /* Never the fuzzer's own process or its running threads. */
    zx_handle_t h = SANE(t) ? typed_handle(r, chance(r, 50) ? ZX_OBJ_TYPE_THREAD : ZX_OBJ_TYPE_PROCESS, false)
                            : any_handle(r, false);
    CALL(t, "task_kill", h);
    check(t, zx_task_kill(h), S_OK | S_H | S(ZX_ERR_NOT_SUPPORTED) /* jobs */);
}

static void op_channel_create(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    uint32_t opt = chance(r, 85) ? 0 : any_bits32(r);
    bool v1, v2;
    uintptr_t o1 = scalar_out(t, &v1);
    uintptr_t o2 = scalar_out(t, &v2);
    if (o2 == o1)
        o2 += 8;
    CALL(t, "channel_create", opt, o1, o2);
    zx_status_t st = check(t, zx_channel_create(opt, (zx_handle_t *)o1, (zx_handle_t *)o2),
                           S_OK | S_ARGS | S_MEM);
    check_not_ok(t, st, v1 && v2);
    if (st == ZX_OK && v1 && v2) {
        pool_add(r, read_handle(o1));
        pool_add(r, read_handle(o2));
    }
}

static void op_channel_write(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t ch = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_CHANNEL, false) : any_handle(r, false);
    uint32_t opt = SANE(t) || chance(r, 90) ? 0 : any_bits32(r);
    uintptr_t bytes = SANE(t) ? scratch_at(t, 4096) : in_ptr(t);
    uint32_t nb = SANE(t) || chance(r, 70) ? (uint32_t)rnd_below(r, 256) : (uint32_t)buf_size(r);
    /* The handle values live in the last scratch page; bytes may overlap them. */
    zx_handle_t *hv = (zx_handle_t *)(t->scratch + (SCRATCH_PAGES - 1) * TU_PAGE + 2048);
    uint32_t nh = chance(r, 60) ? 0 : (uint32_t)rnd_below(r, 5);
    for (uint32_t i = 0; i < nh; i++) {
        hv[i] = chance(r, 70) ? pool_take(r) : any_handle(r, false);
        /* No channel endpoint travels in a message: one that ends up in a queue only it
         * can reach (an endpoint written through its peer, or two endpoints in each
         * other's queues) is never freed, in Beryl as in Zircon (no cycle collection),
         * and would show up as a leak. The channel being written is fine: the kernel
         * refuses it (NOT_SUPPORTED) and drops the whole message. */
        if (hv[i] != ch && tu_basic(hv[i]).type == ZX_OBJ_TYPE_CHANNEL) {
            pool_add(r, hv[i]);
            hv[i] = made_up(r);
        }
    }
    if (nh > 0 && chance(r, 3)) {
        uint32_t k = (uint32_t)rnd_below(r, nh);
        if (hv[k] != ch && tu_handle_valid(hv[k]))
            pool_add(r, hv[k]);
        hv[k] = ch;
    }
    uintptr_t hp = (uintptr_t)hv;
    uint32_t count = nh;
    if (chance(r, 10)) {
        hp = dead_ptr(t);
    } else if (chance(r, 5)) {
        /* Above the maximum: the kernel still closes what it can read (up to the guard
         * page), so everything after our values is zeroed (0 entries are skipped). */
        count = (uint32_t)any_size(r);
        memset(hv + nh, 0, (size_t)(GUARD(t) - (uintptr_t)(hv + nh)));
    }
    CALL(t, "channel_write", ch, opt, bytes, nb, hp, count);
    check(t, zx_channel_write(ch, opt, (const void *)bytes, nb, (const zx_handle_t *)hp, count),
          S_OK | S_H | S_ARGS | S(ZX_ERR_NOT_SUPPORTED) | S(ZX_ERR_OUT_OF_RANGE) |
              S(ZX_ERR_PEER_CLOSED) | S_MEM);
    for (uint32_t i = 0; i < nh; i++)
        note_closed(hv[i]); /* moved or closed; gone from this table either way */
}

static void op_channel_read(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t ch = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_CHANNEL, false) : any_handle(r, false);
    uint32_t opt = SANE(t) || chance(r, 80) ? 0 : (chance(r, 50) ? ZX_CHANNEL_READ_MAY_DISCARD : any_bits32(r));
    uintptr_t bytes = SANE(t) ? (uintptr_t)t->scratch : out_ptr(t);
    uint32_t nb = SANE(t) ? 1024 : chance(r, 70) ? (uint32_t)rnd_below(r, 512) : (uint32_t)buf_size(r);
    zx_handle_t *hv = (zx_handle_t *)(t->scratch + (SCRATCH_PAGES - 1) * TU_PAGE + 2048);
    uint32_t nh = SANE(t) ? 8 : chance(r, 70) ? (uint32_t)rnd_below(r, 8) : (uint32_t)rnd_below(r, 100);
    uintptr_t hp = chance(r, 90) ? (uintptr_t)hv : wild_ptr(t);
    if (hp == (uintptr_t)hv) {
        if (nh > 64)
            nh = 64;
        /* The byte buffer must not overlap the handle values we scan afterwards. */
        if (bytes + nb > (uintptr_t)hv && bytes < (uintptr_t)(hv + 64))
            bytes = (uintptr_t)t->scratch;
        if (bytes + nb > (uintptr_t)hv && bytes < (uintptr_t)(hv + 64))
            nb = (uint32_t)((uintptr_t)hv - bytes);
        memset(hv, 0, 64 * sizeof(zx_handle_t));
    }
    uintptr_t ab = SANE(t) ? (uintptr_t)t->scratch + 2048 : chance(r, 30) ? 0 : out_ptr(t);
    uintptr_t ah = SANE(t) ? (uintptr_t)t->scratch + 2056 : chance(r, 30) ? 0 : out_ptr(t);
    if (ab >= (uintptr_t)hv && ab < (uintptr_t)(hv + 64))
        ab = 0;
    if (ah >= (uintptr_t)hv && ah < (uintptr_t)(hv + 64))
        ah = 0;
    CALL(t, "channel_read", ch, opt, bytes, hp, nb, nh, ab, ah);
    zx_status_t st = check(t, zx_channel_read(ch, opt, (void *)bytes, (zx_handle_t *)hp, nb, nh,
                                              (uint32_t *)ab, (uint32_t *)ah),
                           S_OK | S_H | S_ARGS | S(ZX_ERR_SHOULD_WAIT) | S(ZX_ERR_PEER_CLOSED) |
                               S(ZX_ERR_BUFFER_TOO_SMALL) | S_MEM);
    if (st == ZX_OK && hp == (uintptr_t)hv)
        for (uint32_t i = 0; i < nh; i++)
            if (hv[i] != ZX_HANDLE_INVALID)
                pool_add(r, hv[i]);
}

static void op_vmo_create(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    uint64_t size = chance(r, 80) ? rnd_below(r, 16 * TU_PAGE) : any_size(r);
    uint32_t opt = chance(r, 50) ? 0 : (chance(r, 60) ? ZX_VMO_RESIZABLE : any_bits32(r));
    bool valid;
    uintptr_t out = scalar_out(t, &valid);
    CALL(t, "vmo_create", size, opt, out);
    zx_status_t st = check(t, zx_vmo_create(size, opt, (zx_handle_t *)out),
                           S_OK | S_ARGS | S(ZX_ERR_OUT_OF_RANGE) | S_MEM |
                               S(ZX_ERR_NOT_SUPPORTED) /* DISCARDABLE, decisions.md */);
    check_not_ok(t, st, valid);
    if (st == ZX_OK && valid)
        pool_add(r, read_handle(out));
}

static uint64_t vmo_offset(rng_t *r) {
    if (chance(r, 60))
        return TU_PAGE * rnd_below(r, 8);
    if (chance(r, 50))
        return rnd_below(r, 8 * TU_PAGE);
    return any_size(r);
}

static void op_vmo_rw(fuzz_thread_t *t, bool write) {
    rng_t *r = &t->rng;
    zx_handle_t h = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_VMO, false) : any_handle(r, false);
    uintptr_t buf = SANE(t) ? scratch_at(t, 2 * TU_PAGE) : write ? in_ptr(t) : out_ptr(t);
    uint64_t off = SANE(t) ? rnd_below(r, 2 * TU_PAGE) : vmo_offset(r);
    size_t len = SANE(t) || chance(r, 60) ? rnd_below(r, 2 * TU_PAGE) : (size_t)buf_size(r);
    zx_status_t st;
    if (write) {
        CALL(t, "vmo_write", h, buf, off, len);
        st = zx_vmo_write(h, (const void *)buf, off, len);
    } else {
        CALL(t, "vmo_read", h, buf, off, len);
        st = zx_vmo_read(h, (void *)buf, off, len);
    }
    check(t, st, S_OK | S_H | S(ZX_ERR_OUT_OF_RANGE) | S(ZX_ERR_NOT_FOUND) |
                     S(ZX_ERR_BAD_STATE) | S_MEM);
}

static void op_vmo_get_size(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_VMO, true) : any_handle(r, true);
    uintptr_t out = chance(r, 85) ? out_ptr(t) : wild_ptr(t);
    CALL(t, "vmo_get_size", h, out);
    check(t, zx_vmo_get_size(h, (uint64_t *)out),
          S_OK | S(ZX_ERR_BAD_HANDLE) | S(ZX_ERR_WRONG_TYPE) | S_ARGS);
}

static void op_vmo_set_size(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_VMO, false) : any_handle(r, false);
    uint64_t size = chance(r, 70) ? rnd_below(r, 16 * TU_PAGE) : any_size(r);
    CALL(t, "vmo_set_size", h, size);
    check(t, zx_vmo_set_size(h, size),
          S_OK | S_H | S(ZX_ERR_UNAVAILABLE) | S(ZX_ERR_OUT_OF_RANGE) | S(ZX_ERR_BAD_STATE) |
              S_MEM);
}

static void op_vmo_op_range(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_VMO, false) : any_handle(r, false);
    uint32_t op = chance(r, 85) ? (uint32_t)rnd_below(r, 16) : any_bits32(r);
    uint64_t off = SANE(t) ? TU_PAGE * rnd_below(r, 4) : vmo_offset(r);
    /* Sizes that could commit a lot are limited to 64 KiB: memory stays bounded. */
    uint64_t size = chance(r, 70) ? rnd_below(r, 16 * TU_PAGE) : any_size(r);
    if (size > (1ull << 20) && size < (1ull << 62))
        size &= 0xffff;
    uintptr_t buf = chance(r, 50) ? 0 : out_ptr(t);
    size_t bs = chance(r, 50) ? 0 : (size_t)rnd_below(r, 64);
    CALL(t, "vmo_op_range", h, op, off, size, buf, bs);
    check(t, zx_vmo_op_range(h, op, off, size, (void *)buf, bs),
          S_OK | S_H | S_ARGS | S(ZX_ERR_OUT_OF_RANGE) | S(ZX_ERR_NOT_SUPPORTED) |
              S(ZX_ERR_BAD_STATE) | S_MEM);
}

static void op_vmo_create_child(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    static const uint32_t child_opts[] = {
        ZX_VMO_CHILD_SNAPSHOT, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, ZX_VMO_CHILD_SLICE,
        ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE, ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
        ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE, ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_NO_WRITE,
        ZX_VMO_CHILD_REFERENCE,
    };
    zx_handle_t h = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_VMO, false) : any_handle(r, false);
    uint32_t opt = SANE(t) ? child_opts[rnd_below(r, sizeof(child_opts) / sizeof(child_opts[0]))]
                 : chance(r, 80) ? (uint32_t)rnd_below(r, 256) : any_bits32(r);
    uint64_t off = SANE(t) ? TU_PAGE * rnd_below(r, 4) : vmo_offset(r);
    uint64_t size = SANE(t) || chance(r, 75) ? rnd_below(r, 8 * TU_PAGE) : any_size(r);
    bool valid;
    uintptr_t out = scalar_out(t, &valid);
    CALL(t, "vmo_create_child", h, opt, off, size, out);
    zx_status_t st = check(t, zx_vmo_create_child(h, opt, off, size, (zx_handle_t *)out),
                           S_OK | S_H | S_ARGS | S(ZX_ERR_NOT_SUPPORTED) |
                               S(ZX_ERR_OUT_OF_RANGE) | S(ZX_ERR_BAD_STATE) | S_MEM);
    check_not_ok(t, st, valid);
    if (st == ZX_OK && valid)
        pool_add(r, read_handle(out));
}

static void op_vmo_replace_as_executable(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = chance(r, 80) ? pool_take(r) : any_handle(r, false);
    zx_handle_t vmex = chance(r, 50) ? ZX_HANDLE_INVALID
                                     : (chance(r, 50) ? beryl_resource() : any_handle(r, true));
    bool valid;
    uintptr_t out = scalar_out(t, &valid);
    CALL(t, "vmo_replace_as_executable", h, vmex, out);
    zx_status_t st = check(t, zx_vmo_replace_as_executable(h, vmex, (zx_handle_t *)out),
                           S_OK | S_H | S_ARGS | S_MEM);
    check_not_ok(t, st, valid);
    /* Consumed once found (decisions.md); a handle it refused stays ours. */
    if (st == ZX_OK || st == ZX_ERR_ACCESS_DENIED || st == ZX_ERR_INVALID_ARGS ||
        st == ZX_ERR_NO_MEMORY)
        note_closed(h);
    else if (st == ZX_ERR_BAD_HANDLE || st == ZX_ERR_WRONG_TYPE) {
        if (zx_object_get_info(h, ZX_INFO_HANDLE_VALID, NULL, 0, NULL, NULL) == ZX_OK)
            pool_add(r, h);
    }
    if (st == ZX_OK && valid)
        pool_add(r, read_handle(out));
}

static void op_vmo_set_cache_policy(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_VMO, false) : any_handle(r, false);
    uint32_t pol = chance(r, 80) ? (uint32_t)rnd_below(r, 5) : any_bits32(r);
    CALL(t, "vmo_set_cache_policy", h, pol);
    check(t, zx_vmo_set_cache_policy(h, pol),
          S_OK | S_H | S_ARGS | S(ZX_ERR_BAD_STATE) | S(ZX_ERR_NOT_SUPPORTED));
}

static void op_vmar_allocate(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t v = vmar_handle(r);
    zx_vm_option_t opt = vm_options(r);
    uint64_t off = vmar_offset(r);
    uint64_t size = vmar_len(r);
    if (SANE(t)) {
        opt = ZX_VM_CAN_MAP_READ | (chance(r, 70) ? ZX_VM_CAN_MAP_WRITE : 0) |
              (chance(r, 50) ? ZX_VM_CAN_MAP_SPECIFIC : 0) | (chance(r, 30) ? ZX_VM_SPECIFIC : 0);
        size = TU_PAGE * (1 + rnd_below(r, 64));
        off = opt & ZX_VM_SPECIFIC ? TU_PAGE * rnd_below(r, FUZZ_VMAR_SIZE / TU_PAGE - 64) : 0;
    }
    bool v1, v2;
    uintptr_t o1 = scalar_out(t, &v1);
    uintptr_t o2 = scalar_out(t, &v2);
    if (o2 == o1)
        o2 += 8;
    CALL(t, "vmar_allocate", v, opt, off, size, o1, o2);
    zx_status_t st = check(t, zx_vmar_allocate(v, opt, off, size, (zx_handle_t *)o1,
                                               (zx_vaddr_t *)o2),
                           S_OK | S_H | S_ARGS | S(ZX_ERR_BAD_STATE) | S(ZX_ERR_ALREADY_EXISTS) |
                               S(ZX_ERR_NO_RESOURCES) | S_MEM);
    check_not_ok(t, st, v1 && v2);
    if (st == ZX_OK && v1 && v2)
        pool_add(r, read_handle(o1));
}

static void op_vmar_map(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t v = vmar_handle(r);
    zx_vm_option_t opt = vm_options(r);
    uint64_t off = vmar_offset(r);
    zx_handle_t vmo = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_VMO, false) : any_handle(r, false);
    uint64_t vmo_off = chance(r, 70) ? TU_PAGE * rnd_below(r, 4) : any_size(r);
    uint64_t len = vmar_len(r);
    if (SANE(t)) {
        static const zx_vm_option_t perms[] = {ZX_VM_PERM_READ, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0,
                                               ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE};
        opt = perms[rnd_below(r, 4)] | (chance(r, 30) ? ZX_VM_SPECIFIC : 0) |
              (chance(r, 10) ? ZX_VM_SPECIFIC_OVERWRITE : 0) | (chance(r, 10) ? ZX_VM_MAP_RANGE : 0) |
              (chance(r, 10) ? ZX_VM_ALLOW_FAULTS : 0);
        bool specific = opt & (ZX_VM_SPECIFIC | ZX_VM_SPECIFIC_OVERWRITE);
        off = specific ? TU_PAGE * rnd_below(r, FUZZ_VMAR_SIZE / TU_PAGE - 16) : 0;
        vmo_off = TU_PAGE * rnd_below(r, 2);
        len = TU_PAGE * (1 + rnd_below(r, 8));
    }
    bool valid;
    uintptr_t out = scalar_out(t, &valid);
    CALL(t, "vmar_map", v, opt, off, vmo, vmo_off, len, out);
    zx_status_t st = check(t, zx_vmar_map(v, opt, off, vmo, vmo_off, len, (zx_vaddr_t *)out),
                           S_OK | S_H | S_ARGS | S(ZX_ERR_NOT_SUPPORTED) | S(ZX_ERR_OUT_OF_RANGE) |
                               S(ZX_ERR_BAD_STATE) | S(ZX_ERR_ALREADY_EXISTS) |
                               S(ZX_ERR_NO_RESOURCES) | S_MEM);
    check_not_ok(t, st, valid);
    if (st == ZX_OK && valid) {
        zx_vaddr_t a = *(volatile zx_vaddr_t *)out;
        bool inside = a >= fuzz_base && a + len <= fuzz_base + FUZZ_VMAR_SIZE;
        if (v == fuzz_vmar && !inside)
            report(t, st, "mapping outside the fuzz VMAR");
        if (inside) {
            lock();
            map_ring[map_next++ % MAP_RING] = a;
            unlock();
        }
    }
}

static void op_vmar_unmap(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t v = vmar_handle(r);
    uint64_t addr = vmar_addr(t);
    uint64_t len = vmar_len(r);
    CALL(t, "vmar_unmap", v, addr, len);
    check(t, zx_vmar_unmap(v, addr, len),
          S_OK | S(ZX_ERR_BAD_HANDLE) | S(ZX_ERR_WRONG_TYPE) | S_ARGS | S(ZX_ERR_BAD_STATE) |
              S(ZX_ERR_ACCESS_DENIED));
}

static void op_vmar_protect(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t v = vmar_handle(r);
    static const zx_vm_option_t perms[] = {0, ZX_VM_PERM_READ, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE,
                                           ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE};
    zx_vm_option_t opt = SANE(t) ? perms[rnd_below(r, 4)]
                         : chance(r, 80) ? (zx_vm_option_t)rnd_below(r, 8) : vm_options(r);
    uint64_t addr = vmar_addr(t);
    uint64_t len = vmar_len(r);
    CALL(t, "vmar_protect", v, opt, addr, len);
    check(t, zx_vmar_protect(v, opt, addr, len),
          S_OK | S_H | S_ARGS | S(ZX_ERR_BAD_STATE) | S(ZX_ERR_NOT_FOUND) | S_MEM);
}

static void op_vmar_op_range(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    static const uint32_t vmar_ops[] = {ZX_VMAR_OP_COMMIT, ZX_VMAR_OP_DECOMMIT, ZX_VMAR_OP_MAP_RANGE,
                                        ZX_VMAR_OP_DONT_NEED, ZX_VMAR_OP_ALWAYS_NEED};
    zx_handle_t v = vmar_handle(r);
    uint32_t op = SANE(t) ? vmar_ops[rnd_below(r, 5)]
                  : chance(r, 85) ? (uint32_t)rnd_below(r, 16) : any_bits32(r);
    uint64_t addr = vmar_addr(t);
    uint64_t len = vmar_len(r);
    uintptr_t buf = chance(r, 80) ? 0 : out_ptr(t);
    size_t bs = chance(r, 80) ? 0 : (size_t)rnd_below(r, 64);
    CALL(t, "vmar_op_range", v, op, addr, len, buf, bs);
    check(t, zx_vmar_op_range(v, op, addr, len, (void *)buf, bs),
          S_OK | S_H | S_ARGS | S(ZX_ERR_OUT_OF_RANGE) | S(ZX_ERR_BAD_STATE) | S_MEM |
              S(ZX_ERR_NOT_SUPPORTED) /* ZERO, PREFETCH: decisions.md */);
}

static void op_vmar_destroy(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t v = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_VMAR, false) /* never the fuzz VMAR */
                            : any_handle(r, false);
    CALL(t, "vmar_destroy", v);
    check(t, zx_vmar_destroy(v), S_OK | S_H | S(ZX_ERR_NOT_SUPPORTED) | S(ZX_ERR_BAD_STATE));
}

static void op_misc(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    switch (rnd_below(r, 5)) {
    case 0: {
        CALL(t, "syscall_test_0", 0);
        t->nargs = 0;
        check(t, zx_syscall_test_0(), S_OK);
        break;
    }
    case 1: {
        CALL(t, "clock_get_monotonic", 0);
        t->nargs = 0;
        zx_time_t now = zx_clock_get_monotonic();
        check(t, ZX_OK, S_OK);
        if (now < t->last_clock)
            report(t, (zx_status_t)0, "monotonic clock went backwards");
        t->last_clock = now;
        break;
    }
    case 2: {
        zx_time_t dl = chance(r, 50) ? ZX_TIME_INFINITE_PAST
                                     : zx_clock_get_monotonic() - (zx_time_t)rnd_below(r, TU_SEC);
        if (chance(r, 20))
            dl = zx_clock_get_monotonic() + (zx_time_t)rnd_below(r, 100000);
        CALL(t, "nanosleep", (uint64_t)dl);
        check(t, zx_nanosleep(dl), S_OK);
        break;
    }
    case 3: {
        /* Size 0 with any pointer, or a never-readable pointer with any size: nothing
         * reaches the console. */
        bool zero = chance(r, 50);
        uintptr_t p = zero ? rnd(r) : dead_ptr(t);
        size_t n = zero ? 0 : (size_t)(1 + rnd_below(r, 64));
        if (!zero && chance(r, 20)) {
            p = GUARD(t) - 1 - rnd_below(r, 8); /* straddles: its tail is unreadable */
            memset((void *)p, '?', GUARD(t) - p);
            n = GUARD(t) - p + 1 + rnd_below(r, 16);
        }
        CALL(t, "debug_write", p, n);
        zx_status_t st = check(t, zx_debug_write((const char *)p, n), S_OK | S_ARGS);
        if (!zero && st == ZX_OK)
            report(t, st, "debug_write of unreadable memory succeeded");
        break;
    }
    default: {
        /* A raw syscall number beyond the table, with garbage arguments. */
        uint64_t num = chance(r, 50) ? ZX_SYS_COUNT + rnd_below(r, 1000) : rnd(r);
        if (num < ZX_SYS_COUNT)
            num += ZX_SYS_COUNT;
        uint64_t a0 = rnd(r), a1 = rnd(r), a2 = rnd(r), a3 = rnd(r), a4 = rnd(r), a5 = rnd(r);
        CALL(t, "raw_syscall", num, a0, a1, a2, a3, a4, a5);
        int64_t ret;
        register uint64_t r10 __asm__("r10") = a3;
        register uint64_t r8 __asm__("r8") = a4;
        register uint64_t r9 __asm__("r9") = a5;
        __asm__ volatile("syscall"
                         : "=a"(ret), "+D"(a0), "+S"(a1), "+d"(a2), "+r"(r10), "+r"(r8), "+r"(r9)
                         : "a"(num)
                         : "rcx", "r11", "memory");
        check(t, (zx_status_t)ret, S(ZX_ERR_BAD_SYSCALL));
        if (ret != ZX_ERR_BAD_SYSCALL)
            report(t, (zx_status_t)ret, "raw syscall: not BAD_SYSCALL (full 64-bit result)");
        break;
    }
    }
}

typedef void (*op_fn)(fuzz_thread_t *);

static void op_read_memory(fuzz_thread_t *t) { op_process_memory(t, false); }
static void op_write_memory(fuzz_thread_t *t) { op_process_memory(t, true); }
static void op_vmo_read(fuzz_thread_t *t) { op_vmo_rw(t, false); }
static void op_vmo_write(fuzz_thread_t *t) { op_vmo_rw(t, true); }

/* Weights: creators a little more often, so the pool holds live objects of every type. */
static const struct {
    op_fn fn;
    unsigned weight;
} ops[] = {
    {op_close, 6},           {op_close_many, 2},       {op_duplicate, 5},
    {op_replace, 3},         {op_get_info, 6},         {op_get_property, 3},
    {op_set_property, 3},    {op_wait_one, 3},         {op_signal, 2},
    {op_thread_create, 2},   {op_process_create, 1},   {op_read_memory, 3},
    {op_write_memory, 3},    {op_task_kill, 2},        {op_channel_create, 4},
    {op_channel_write, 5},   {op_channel_read, 5},     {op_vmo_create, 7},
    {op_vmo_read, 4},        {op_vmo_write, 4},        {op_vmo_get_size, 2},
    {op_vmo_set_size, 3},    {op_vmo_op_range, 4},     {op_vmo_create_child, 5},
    {op_vmo_replace_as_executable, 2},                 {op_vmo_set_cache_policy, 1},
    {op_vmar_allocate, 4},   {op_vmar_map, 7},         {op_vmar_unmap, 4},
    {op_vmar_protect, 4},    {op_vmar_op_range, 4},    {op_vmar_destroy, 2},
    {op_misc, 5},
};
#define NUM_OPS (sizeof(ops) / sizeof(ops[0]))

/* ---- Child process ---- */

typedef struct {
    fuzz_thread_t ft;
    tu_thread_t thread;
    uint64_t budget;
    zx_vaddr_t region;   /* the scratch VMAR */
    zx_handle_t region_vmar;
} worker_t;

static worker_t workers[FUZZ_THREADS];

/* Scratch layout (one VMAR of SCRATCH_PAGES + 2 pages, CAN_MAP_SPECIFIC):
 * [scratch RW x SCRATCH_PAGES][guard: never mapped][read-only page]. */
static zx_status_t scratch_setup(worker_t *w) {
    size_t size = (SCRATCH_PAGES + 2) * TU_PAGE;
    zx_status_t st = zx_vmar_allocate(zx_vmar_root_self(),
                                      ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE |
                                          ZX_VM_CAN_MAP_SPECIFIC,
                                      0, size, &w->region_vmar, &w->region);
    if (st != ZX_OK)
        return st;
    zx_handle_t vmo;
    if ((st = zx_vmo_create(SCRATCH_PAGES * TU_PAGE, 0, &vmo)) != ZX_OK)
        return st;
    zx_vaddr_t a;
    st = zx_vmar_map(w->region_vmar, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_SPECIFIC, 0, vmo,
                     0, SCRATCH_PAGES * TU_PAGE, &a);
    zx_handle_close(vmo);
    if (st != ZX_OK)
        return st;
    if ((st = zx_vmo_create(TU_PAGE, 0, &vmo)) != ZX_OK)
        return st;
    zx_vmo_write(vmo, ro_pattern, 0, sizeof(ro_pattern));
    st = zx_vmar_map(w->region_vmar, ZX_VM_PERM_READ | ZX_VM_SPECIFIC,
                     (SCRATCH_PAGES + 1) * TU_PAGE, vmo, 0, TU_PAGE, &a);
    zx_handle_close(vmo);
    if (st != ZX_OK)
        return st;
    w->ft.scratch = (uint8_t *)w->region;
    w->ft.ro_page = (uint8_t *)a;
    return ZX_OK;
}

static void worker_main(uintptr_t arg, uintptr_t unused) {
    (void)unused;
    worker_t *w = (worker_t *)arg;
    fuzz_thread_t *t = &w->ft;
    unsigned total_weight = 0, weight[NUM_OPS];
    for (size_t i = 0; i < NUM_OPS; i++) {
        weight[i] = (FUZZ_OP_MASK >> i) & 1 ? ops[i].weight : 0;
        total_weight += weight[i];
    }
    for (uint64_t n = 0; n < w->budget; n++) {
        t->calls = n;
        t->used_ro = false;
        unsigned k = (unsigned)rnd_below(&t->rng, total_weight);
        size_t i = 0;
        while (k >= weight[i])
            k -= weight[i++];
        t->op = i;
        t->sane = chance(&t->rng, 60);
        ops[i].fn(t);
        __atomic_fetch_add(&total_calls, 1, __ATOMIC_RELAXED);
        if (t->used_ro && memcmp(t->ro_page, ro_pattern, sizeof(ro_pattern)) != 0) {
            report(t, 0, "the kernel wrote to a read-only page");
            memcpy(ro_pattern, t->ro_page, sizeof(ro_pattern)); /* report once */
        }
    }
    zx_thread_exit();
}

static int run_child(int index, uint64_t seed, uint64_t calls) {
    child_index = index;
    printf("fuzz: child %d: %llu calls on %d threads, seed %#llx\n", index,
           (unsigned long long)calls, FUZZ_THREADS, (unsigned long long)seed);
    special[num_special++] = zx_process_self();
    special[num_special++] = zx_job_default();
    special[num_special++] = zx_thread_self();
    if (beryl_resource() != ZX_HANDLE_INVALID)
        special[num_special++] = beryl_resource();
    for (size_t i = 0; i < sizeof(ro_pattern); i++)
        ro_pattern[i] = (uint8_t)(0xa5 ^ i);
    zx_status_t st = zx_vmar_allocate(zx_vmar_root_self(),
                                      ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE |
                                          ZX_VM_CAN_MAP_EXECUTE | ZX_VM_CAN_MAP_SPECIFIC,
                                      0, FUZZ_VMAR_SIZE, &fuzz_vmar, &fuzz_base);
    if (st != ZX_OK) {
        printf("fuzz: child %d: fuzz VMAR: %d\n", index, st);
        return 100;
    }
    for (int i = 0; i < FUZZ_THREADS; i++) {
        worker_t *w = &workers[i];
        w->ft.index = i;
        w->ft.rng.s = seed ^ ((uint64_t)index << 40) ^ ((uint64_t)i << 20);
        w->budget = calls / FUZZ_THREADS + (i == 0 ? calls % FUZZ_THREADS : 0);
        if ((st = scratch_setup(w)) != ZX_OK || (st = tu_thread_create(&w->thread)) != ZX_OK) {
            printf("fuzz: child %d: setup: %d\n", index, st);
            return 100;
        }
    }
    for (int i = 0; i < FUZZ_THREADS; i++) {
        if ((st = tu_thread_start(&workers[i].thread, worker_main, (uintptr_t)&workers[i], 0)) !=
            ZX_OK) {
            printf("fuzz: child %d: start: %d\n", index, st);
            return 100;
        }
    }
    for (int i = 0; i < FUZZ_THREADS; i++)
        tu_thread_join(&workers[i].thread, 100000 * TU_SEC);
    zx_handle_t ch = beryl_take_startup_handle(PA_HND(PA_USER1, 0));
    fuzz_stats_t s = {total_calls, total_checked, violations, total_ok};
    if (ch != ZX_HANDLE_INVALID) {
        zx_channel_write(ch, 0, &s, sizeof(s), NULL, 0);
        zx_handle_close(ch);
    }
#ifdef FUZZ_VERBOSE
    char line[512];
    int len = snprintf(line, sizeof(line), "fuzz: child %d ok/calls per op:", index);
    for (size_t i = 0; i < NUM_OPS && len < (int)sizeof(line); i++)
        len += snprintf(line + len, sizeof(line) - (size_t)len, " %u/%u", op_oks[i], op_calls[i]);
    printf("%s\n", line);
#endif
    /* Everything else (pool handles, mappings, threads) goes away with the process. */
    return violations > 99 ? 99 : (int)violations;
}

/* ---- Parent: the test case ---- */

/* Launches child `index` with `calls` calls; *rx receives its statistics channel. */
static zx_status_t launch_child(int index, uint64_t calls, zx_handle_t *proc, zx_handle_t *rx) {
    zx_handle_t exe = beryl_get_startup_handle(PA_HND(PA_VMO_EXECUTABLE, 0));
    zx_handle_t tx, rdup;
    zx_status_t st = zx_channel_create(0, rx, &tx);
    if (st != ZX_OK)
        return st;
    if ((st = zx_handle_duplicate(beryl_resource(), ZX_RIGHT_SAME_RIGHTS, &rdup)) != ZX_OK) {
        zx_handle_close(tx);
        zx_handle_close(*rx);
        return st;
    }
    char idx[8], seed[24], n[24];
    snprintf(idx, sizeof(idx), "%d", index);
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)BERYL_FUZZ_SEED);
    snprintf(n, sizeof(n), "%llu", (unsigned long long)calls);
    const char *argv[] = {"fuzz", "--fuzz", idx, seed, n};
    zx_handle_t hs[2] = {tx, rdup};
    uint32_t infos[2] = {PA_HND(PA_USER1, 0), PA_HND(PA_RESOURCE, 0)};
    beryl_launch_args_t a = {
        .job = zx_job_default(),
        .name = "fuzz-child",
        .exe_vmo = exe,
        .argc = 5,
        .argv = argv,
        .handles = hs,
        .handle_infos = infos,
        .num_handles = 2,
    };
    st = beryl_launch(&a, proc);
    if (st != ZX_OK)
        zx_handle_close(*rx);
    return st;
}

/* Waits for a child until deadline (killing it after that); adds its statistics. */
static zx_status_t finish_child(zx_handle_t proc, zx_handle_t rx, zx_time_t deadline,
                                int64_t *rc, fuzz_stats_t *sum) {
    zx_status_t st = beryl_wait_exit(proc, deadline, rc);
    if (st == ZX_ERR_TIMED_OUT) {
        zx_task_kill(proc);
        zx_object_wait_one(proc, ZX_PROCESS_TERMINATED, ZX_TIME_INFINITE, NULL);
    }
    zx_handle_close(proc);
    fuzz_stats_t s;
    uint32_t nb = 0, nh = 0;
    zx_status_t rst = zx_channel_read(rx, 0, &s, NULL, sizeof(s), 0, &nb, &nh);
    zx_handle_close(rx);
    if (st == ZX_OK && (rst != ZX_OK || nb != sizeof(s)))
        st = ZX_ERR_INTERNAL; /* died without statistics */
    if (rst == ZX_OK && nb == sizeof(s)) {
        sum->calls += s.calls;
        sum->checked += s.checked;
        sum->violations += s.violations;
        sum->ok += s.ok;
    }
    return st;
}

TEST(Fuzz, RandomSyscalls) {
    zx_handle_t res = beryl_resource();
    ASSERT_NE(beryl_get_startup_handle(PA_HND(PA_VMO_EXECUTABLE, 0)), ZX_HANDLE_INVALID);
    ASSERT_NE(res, ZX_HANDLE_INVALID);
    uint64_t calls = BERYL_FUZZ_CALLS;
    uint64_t per = calls / FUZZ_PROCS;

    /* A warm-up child with no calls: kernel caches that grow once (object slabs, heap
     * pages) are not counted against the fuzzer. */
    zx_handle_t procs[FUZZ_PROCS], rx[FUZZ_PROCS];
    fuzz_stats_t sum = {0, 0, 0, 0};
    int64_t rc = 0;
    ASSERT_OK(launch_child(0, 0, &procs[0], &rx[0]));
    ASSERT_OK(finish_child(procs[0], rx[0], tu_deadline_after(10 * TU_SEC), &rc, &sum));
    ASSERT_EQ(rc, 0);

    uint64_t before = tu_kmem_free(res);
    zx_time_t t0 = zx_clock_get_monotonic();
    for (int i = 0; i < FUZZ_PROCS; i++)
        ASSERT_OK(launch_child(i, per + (i == 0 ? calls % FUZZ_PROCS : 0), &procs[i], &rx[i]));
    zx_time_t deadline = t0 + FUZZ_TIMEOUT_NS(calls);
    for (int i = 0; i < FUZZ_PROCS; i++) {
        rc = 0;
        zx_status_t st = finish_child(procs[i], rx[i], deadline, &rc, &sum);
        if (st == ZX_ERR_TIMED_OUT)
            printf("fuzz: child %d hung (killed after the deadline)\n", i);
        EXPECT_OK(st);
        EXPECT_EQ(rc, 0);
    }
    zx_time_t t1 = zx_clock_get_monotonic();
    EXPECT_EQ(sum.calls, calls);
    EXPECT_EQ(sum.violations, 0);

    /* Kernel memory is back once every fuzzer process is gone (frees may be deferred). */
    uint64_t after = tu_kmem_free(res);
    for (int i = 0; i < 50 && after != before; i++) {
        zx_nanosleep(tu_deadline_after(10 * TU_MS));
        after = tu_kmem_free(res);
    }
    if (after != before)
        printf("fuzz: free memory %llu bytes before, %llu after\n", (unsigned long long)before,
               (unsigned long long)after);
    EXPECT_EQ(after, before);
    printf("fuzz: %llu calls, %d threads, seed %#llx, %llu statuses checked (%llu ZX_OK) in "
           "%lld ms\n",
           (unsigned long long)sum.calls, FUZZ_PROCS * FUZZ_THREADS,
           (unsigned long long)BERYL_FUZZ_SEED, (unsigned long long)sum.checked,
           (unsigned long long)sum.ok, (long long)((t1 - t0) / TU_MS));
}

int main(int argc, char **argv) {
    if (argc >= 5 && strcmp(argv[1], "--fuzz") == 0)
        return run_child((int)strtol(argv[2], NULL, 10), (uint64_t)strtoul(argv[3], NULL, 10),
                         (uint64_t)strtoul(argv[4], NULL, 10));
    return beryl_test_run_all(argc, argv);
}
