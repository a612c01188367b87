/*
 * Shared declarations of the syscall fuzzer test/fuzz (user/tests/fuzz.c): configuration,
 * the PRNG, per-thread state, argument generators and status checks (gen.c) and the
 * operation table (ops.c).
 */
#ifndef BERYL_FUZZ_H
#define BERYL_FUZZ_H

#include <beryl/launch.h>
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/processargs.h>
#include <beryl/syscall_numbers.h>

/* Both come from CMake cache variables of the same names (user/CMakeLists.txt). */
#ifndef BERYL_FUZZ_CALLS
#define BERYL_FUZZ_CALLS 200000
#endif
#ifndef BERYL_FUZZ_SEED
#define BERYL_FUZZ_SEED 0x5eed1234
#endif
#ifndef FUZZ_OP_MASK
#define FUZZ_OP_MASK (~0ull) /* bit i enables fuzz_ops[i]: narrows a failure down */
#endif
#define FUZZ_PROCS 3
#define FUZZ_THREADS 3
/* Wall-clock allowance before the children count as hung: 20 s plus 20 ms per 1000 calls
 * (about twice the rate measured under QEMU TCG), but below userboot's 120 s limit per
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
#define MAP_RING 16 /* recent mapping addresses kept as targets */
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

static inline uint64_t rnd(rng_t *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rnd_below(rng_t *r, uint64_t n) { return n ? rnd(r) % n : 0; }
static inline bool chance(rng_t *r, unsigned percent) { return rnd_below(r, 100) < percent; }

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

#define GUARD(t) ((uintptr_t)(t)->scratch + SCRATCH_PAGES * TU_PAGE)

#define S(x) (1ull << (-(x) & 63))
#define S_OK S(ZX_OK)
#define S_H (S(ZX_ERR_BAD_HANDLE) | S(ZX_ERR_WRONG_TYPE) | S(ZX_ERR_ACCESS_DENIED))
#define S_ARGS S(ZX_ERR_INVALID_ARGS)
#define S_MEM S(ZX_ERR_NO_MEMORY)

/* Records the call's arguments for a later report. */
#define CALL(t, fn, ...)                                                                   \
    do {                                                                                   \
        uint64_t a_[] = {__VA_ARGS__};                                                     \
        (t)->name = fn;                                                                    \
        (t)->nargs = (int)(sizeof(a_) / sizeof(a_[0]));                                    \
        memcpy((t)->arg, a_, sizeof(a_));                                                  \
    } while (0)

typedef struct {
    void (*fn)(fuzz_thread_t *);
    unsigned weight;
} fuzz_op_t;

/* ops.c: every operation with its weight (creators weigh a little more). */
extern const fuzz_op_t fuzz_ops[];

/* The handle value a successful call wrote at an out-pointer the fuzzer chose. */
static inline zx_handle_t read_handle(uintptr_t p) { return *(volatile zx_handle_t *)p; }

/* ops_shared.c */
void op_process_create_shared(fuzz_thread_t *t);
void op_restricted(fuzz_thread_t *t);
void op_process_start(fuzz_thread_t *t);
void op_member_run(fuzz_thread_t *t);
/* op_member_run: extra startup handles passed to a member at most. */
#define FUZZ_MEMBER_EXTRA 3
_Static_assert(FUZZ_MEMBER_EXTRA <= TU_LAUNCH_MAX_HANDLES, "tu_launch_self_into passes them");

/* ops_shapes.c: deep or cyclic shapes built and torn down in one operation. */
void op_shape_channels(fuzz_thread_t *t);
void op_shape_vmars(fuzz_thread_t *t);
void op_shape_vmo_chain(fuzz_thread_t *t);
extern const size_t fuzz_num_ops;

/* ops_time.c: ticks, deadlines and system features. */
void op_time(fuzz_thread_t *t);

/* ops_signals.c: events, event pairs, waits on many objects, ports, timers. */
void op_event(fuzz_thread_t *t);
void op_wait_many(fuzz_thread_t *t);
void op_port(fuzz_thread_t *t);
void op_timer(fuzz_thread_t *t);

/* gen.c: the state shared by a child's threads (pool and closed ring under lock()). */
extern volatile int pool_lock;
extern zx_handle_t pool[POOL_SIZE];
extern zx_obj_type_t pool_type[POOL_SIZE];
extern zx_handle_t closed_ring[CLOSED_RING];
extern uint32_t closed_next;
extern zx_handle_t special[5];
extern uint32_t num_special;
extern zx_handle_t fuzz_vmar;
extern zx_vaddr_t fuzz_base;
extern uint32_t violations;
extern uint64_t total_calls, total_checked, total_ok;
extern int child_index;
extern zx_vaddr_t map_ring[MAP_RING];
extern uint32_t map_next;
extern uint8_t ro_pattern[64];
extern uint32_t op_calls[64], op_oks[64];

void lock(void);
void unlock(void);
void note_closed(zx_handle_t h);
void pool_add(rng_t *r, zx_handle_t h);
/* A create call that makes two handles (zx_channel_create, zx_eventpair_create): random
 * options and out-pointers, both handles pooled on success (ops.c). */
void op_pair_create(fuzz_thread_t *t, const char *name,
                    zx_status_t (*create)(uint32_t, zx_handle_t *, zx_handle_t *));
zx_handle_t pool_peek(rng_t *r);
zx_handle_t pool_peek_type(rng_t *r, zx_obj_type_t type);
zx_handle_t pool_take(rng_t *r);
zx_handle_t made_up(rng_t *r);
zx_handle_t closed_value(rng_t *r);
zx_handle_t any_handle(rng_t *r, bool safe_special);
zx_handle_t typed_handle(rng_t *r, zx_obj_type_t type, bool safe_special);
zx_handle_t vmar_handle(rng_t *r);
uintptr_t scratch_at(fuzz_thread_t *t, size_t max_len);
uintptr_t wild_ptr(fuzz_thread_t *t);
uintptr_t dead_ptr(fuzz_thread_t *t);
uintptr_t out_ptr(fuzz_thread_t *t);
uintptr_t in_ptr(fuzz_thread_t *t);
uintptr_t scalar_out(fuzz_thread_t *t, bool *valid);
uint64_t any_size(rng_t *r);
uint64_t buf_size(rng_t *r);
uint32_t any_bits32(rng_t *r);
zx_rights_t any_rights(rng_t *r);
uint64_t vmar_addr(fuzz_thread_t *t);
uint64_t vmar_len(rng_t *r);
uint64_t vmar_offset(rng_t *r);
zx_vm_option_t vm_options(rng_t *r);
bool status_allowed(zx_status_t st, uint64_t set);
void report(fuzz_thread_t *t, zx_status_t st, const char *why);
zx_status_t check(fuzz_thread_t *t, zx_status_t st, uint64_t set);
void check_not_ok(fuzz_thread_t *t, zx_status_t st, bool out_valid);

#endif
