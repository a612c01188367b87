/* The syscall fuzzer's shared state, argument generators and status checks (fuzz.h). */
#include "fuzz.h"

/* ---- Process-wide state shared by the fuzzing threads ---- */

volatile int pool_lock;
zx_handle_t pool[POOL_SIZE];
zx_obj_type_t pool_type[POOL_SIZE];
zx_handle_t closed_ring[CLOSED_RING];
uint32_t closed_next;
zx_handle_t special[5]; /* own process, job, main thread, resource: non-destructive calls only */
uint32_t num_special;
zx_handle_t fuzz_vmar;   /* never in the pool: destroying it would end the fun */
zx_vaddr_t fuzz_base;
uint32_t violations;       /* atomic */
uint64_t total_calls, total_checked, total_ok; /* atomic */
int child_index;
/* Addresses of recent successful mappings in the fuzz VMAR: targets for unmap, protect,
 * op_range and process memory calls that actually hit something. */
zx_vaddr_t map_ring[MAP_RING];
uint32_t map_next;

void lock(void) {
    while (__atomic_exchange_n(&pool_lock, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
}
void unlock(void) { __atomic_store_n(&pool_lock, 0, __ATOMIC_RELEASE); }

/* Remembers a value this process closed (a "closed handle" for later calls). */
void note_closed(zx_handle_t h) {
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
void pool_add(rng_t *r, zx_handle_t h) {
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
zx_handle_t pool_peek(rng_t *r) {
    lock();
    zx_handle_t h = pool[rnd_below(r, POOL_SIZE)];
    unlock();
    return h;
}

/* A pool handle of the given type if there is one (the pool keeps it), else any. */
zx_handle_t pool_peek_type(rng_t *r, zx_obj_type_t type) {
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
zx_handle_t pool_take(rng_t *r) {
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
zx_handle_t made_up(rng_t *r) {
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

zx_handle_t closed_value(rng_t *r) {
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
zx_handle_t any_handle(rng_t *r, bool safe_special) {
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
zx_handle_t typed_handle(rng_t *r, zx_obj_type_t type, bool safe_special) {
    if (chance(r, 65)) {
        zx_handle_t h = pool_peek_type(r, type);
        if (h != ZX_HANDLE_INVALID)
            return h;
    }
    return any_handle(r, safe_special);
}

/* A VMAR argument for calls that change mappings: the fuzz VMAR or the pool. */
zx_handle_t vmar_handle(rng_t *r) {
    if (chance(r, 50))
        return fuzz_vmar;
    if (chance(r, 65)) {
        zx_handle_t h = pool_peek_type(r, ZX_OBJ_TYPE_VMAR);
        return h != ZX_HANDLE_INVALID ? h : fuzz_vmar;
    }
    return any_handle(r, false);
}

/* ---- Per-thread state ---- */



uintptr_t scratch_at(fuzz_thread_t *t, size_t max_len) {
    return (uintptr_t)t->scratch + (rnd_below(&t->rng, SCRATCH_PAGES * TU_PAGE - max_len) & ~7ull);
}

uint8_t ro_pattern[64];


/* Pointers that are never valid user memory for a kernel copy. */
uintptr_t wild_ptr(fuzz_thread_t *t) {
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
uintptr_t dead_ptr(fuzz_thread_t *t) {
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
uintptr_t out_ptr(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    unsigned k = (unsigned)rnd_below(r, 100);
    if (k < 65)
        return (uintptr_t)t->scratch + (rnd_below(r, SCRATCH_PAGES * TU_PAGE) & ~7ull);
    if (k < 72)
        return fuzz_base + rnd_below(r, FUZZ_VMAR_SIZE);
    return wild_ptr(t);
}

/* An input buffer: also the program's own code and data (read only by the kernel). */
uintptr_t in_ptr(fuzz_thread_t *t) {
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
uintptr_t scalar_out(fuzz_thread_t *t, bool *valid) {
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
uint64_t any_size(rng_t *r) {
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
uint64_t buf_size(rng_t *r) {
    uint64_t s = any_size(r);
    if (s > 4 * TU_PAGE && s < (1ull << 32))
        s &= 4 * TU_PAGE - 1;
    return s;
}

uint32_t any_bits32(rng_t *r) {
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

zx_rights_t any_rights(rng_t *r) {
    if (chance(r, 30))
        return ZX_RIGHT_SAME_RIGHTS;
    if (chance(r, 30))
        return (zx_rights_t)rnd(r) & 0xd0ef;
    return (zx_rights_t)rnd(r);
}

/* A VMAR address: somewhere in the fuzz VMAR (often aligned), near it, or wild. */
uint64_t vmar_addr(fuzz_thread_t *t) {
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

uint64_t vmar_len(rng_t *r) {
    if (chance(r, 70))
        return TU_PAGE * (1 + rnd_below(r, 16));
    return any_size(r);
}

uint64_t vmar_offset(rng_t *r) {
    if (chance(r, 70))
        return TU_PAGE * rnd_below(r, FUZZ_VMAR_SIZE / TU_PAGE);
    return any_size(r);
}

zx_vm_option_t vm_options(rng_t *r) {
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


bool status_allowed(zx_status_t st, uint64_t set) {
    return st <= 0 && st > -64 && (set & S(st)) != 0;
}

void report(fuzz_thread_t *t, zx_status_t st, const char *why) {
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


/* Per-operation counts (-DFUZZ_VERBOSE prints them per child): calls and ZX_OK results. */
uint32_t op_calls[64], op_oks[64];

zx_status_t check(fuzz_thread_t *t, zx_status_t st, uint64_t set) {
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
void check_not_ok(fuzz_thread_t *t, zx_status_t st, bool out_valid) {
    if (st == ZX_OK && !out_valid)
        report(t, st, "succeeded with an invalid out pointer");
}

