/*
 * Debugger syscalls and memory info racing the death of their target: a reader thread
 * loops zx_process_read_memory / zx_process_write_memory / ZX_INFO_PROCESS_MAPS /
 * ZX_INFO_PROCESS_VMOS on a target process while the main thread kills that target and
 * at once creates "fresh" processes (an ordinary one and a shared family) with different
 * memory at the same addresses, so that kernel structures the target freed are likely to
 * be reused by them. The reader must only ever see the target's own data or a clean
 * failure (BAD_STATE, NO_MEMORY, BAD_HANDLE once the handle is closed); it must never see
 * the fresh processes' data, names or VMOs, and its writes must never land in their
 * memory.
 *
 * Targets: an ordinary process, a shared-family member whose family lives on, and the
 * last member of a family (whose death also tears down the shared region). Targets are
 * never started: zx_task_kill of an unstarted process tears it down synchronously in the
 * killer's call. Two schedules: the main thread sleeps a little each round, so the
 * reader is in the middle of a call when the wake-up preempts it and the kill runs; or
 * ("BusyKiller") neither sleeps, so the timer also preempts the kill half-way and the
 * reader starts new calls on a target that is being torn down. Each case is bounded in
 * rounds and time. Without the kernel's fixes both schedules end in a kernel assertion
 * (debug builds check every aspace struct against use after free) within a run or two.
 */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>
#include <zircon/syscalls/object.h>

#define PAGE TU_PAGE
#define RESTRICTED_BASE 0x200000ull
#define SHARED_BASE 0x400000001000ull
/* Where the target and the fresh processes map their page: the same address in the
 * (restricted or ordinary) root VMAR, and in the shared region. */
#define LOW_OFFSET 0x1000000ull
#define LOW_ADDR (RESTRICTED_BASE + LOW_OFFSET)
#define SHARED_OFFSET 0x2000000ull
#define SHARED_ADDR (SHARED_BASE + SHARED_OFFSET)

#define MARK_TARGET 0xA1A1A1A1A1A1A1A1ull /* the target's memory */
#define MARK_FRESH 0xF0F0F0F0F0F0F0F0ull  /* the fresh processes' memory */
#define MARK_WRITE 0x5757575757575757ull  /* what the reader writes into the target */

#define FRESH_NAME "fresh-race"
#define ROUNDS 24
#define CASE_TIME_LIMIT (2 * TU_SEC)
#define ROUND_SLEEP (2 * TU_MS)
#define BUSY_TIME_LIMIT (300 * TU_MS)
#define MAPS_RECORDS 16
#define VMOS_RECORDS 16

enum target_kind { TARGET_ORDINARY, TARGET_MEMBER, TARGET_LAST_MEMBER };

/* Shared between the main thread and the reader. */
static volatile zx_handle_t g_target;
static volatile bool g_stop;
static volatile uint64_t g_calls, g_ok_reads;
static volatile uint32_t g_violations;
static volatile zx_status_t g_bad_status;
static volatile uint32_t g_bad_op;

static void violation(uint32_t op, zx_status_t st) {
    if (__atomic_fetch_add(&g_violations, 1, __ATOMIC_RELAXED) == 0) {
        g_bad_op = op;
        g_bad_status = st;
    }
}

/* A page-sized VMO filled with `mark`, named `name`. */
static zx_handle_t marked_vmo(uint64_t mark, const char *name) {
    zx_handle_t vmo;
    if (zx_vmo_create(PAGE, 0, &vmo) != ZX_OK)
        return ZX_HANDLE_INVALID;
    uint64_t words[PAGE / 8];
    for (size_t i = 0; i < PAGE / 8; i++)
        words[i] = mark;
    if (zx_vmo_write(vmo, words, 0, PAGE) != ZX_OK ||
        zx_object_set_property(vmo, ZX_PROP_NAME, name, strlen(name)) != ZX_OK) {
        zx_handle_close(vmo);
        return ZX_HANDLE_INVALID;
    }
    return vmo;
}

static zx_status_t map_at(zx_handle_t vmar, uint64_t offset, zx_handle_t vmo) {
    zx_vaddr_t got;
    return zx_vmar_map(vmar, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_SPECIFIC, offset, vmo,
                       0, PAGE, &got);
}

/* True if no 8-byte word of buf[0, n) is the fresh processes' mark. */
static bool no_fresh_data(const uint64_t *buf, size_t n) {
    for (size_t i = 0; i < n / 8; i++)
        if (buf[i] == MARK_FRESH)
            return false;
    return true;
}

static bool is_fresh_name(const char *name) {
    return strncmp(name, FRESH_NAME, sizeof(FRESH_NAME) - 1) == 0;
}

/* Failures that are fine for a target that is dying or whose handle was just closed. */
static bool clean_failure(zx_status_t st) {
    return st == ZX_ERR_BAD_STATE || st == ZX_ERR_NO_MEMORY || st == ZX_ERR_BAD_HANDLE;
}

static void read_op(zx_handle_t t, zx_vaddr_t addr, uint32_t op) {
    uint64_t buf[PAGE / 8 / 4];
    size_t actual = 0;
    memset(buf, 0, sizeof(buf));
    zx_status_t st = zx_process_read_memory(t, addr, buf, sizeof(buf), &actual);
    if (st == ZX_OK) {
        g_ok_reads++;
        if (actual > sizeof(buf) || !no_fresh_data(buf, actual))
            violation(op, st);
    } else if (!clean_failure(st)) {
        violation(op, st);
    }
}

static void write_op(zx_handle_t t, zx_vaddr_t addr, uint32_t op) {
    uint64_t buf[PAGE / 8 / 4];
    for (size_t i = 0; i < sizeof(buf) / 8; i++)
        buf[i] = MARK_WRITE;
    size_t actual = 0;
    zx_status_t st = zx_process_write_memory(t, addr, buf, sizeof(buf), &actual);
    if (st != ZX_OK && !clean_failure(st))
        violation(op, st);
}

static void maps_op(zx_handle_t t, uint32_t op) {
    zx_info_maps_t recs[MAPS_RECORDS];
    size_t actual = 0, avail = 0;
    zx_status_t st = zx_object_get_info(t, ZX_INFO_PROCESS_MAPS, recs, sizeof(recs), &actual,
                                        &avail);
    if (st != ZX_OK) {
        if (!clean_failure(st))
            violation(op, st);
        return;
    }
    for (size_t i = 0; i < actual && i < MAPS_RECORDS; i++)
        if (is_fresh_name(recs[i].name))
            violation(op, st);
}

static void vmos_op(zx_handle_t t, uint32_t op) {
    zx_info_vmo_t recs[VMOS_RECORDS];
    size_t actual = 0, avail = 0;
    zx_status_t st = zx_object_get_info(t, ZX_INFO_PROCESS_VMOS, recs, sizeof(recs), &actual,
                                        &avail);
    if (st != ZX_OK) {
        if (!clean_failure(st))
            violation(op, st);
        return;
    }
    for (size_t i = 0; i < actual && i < VMOS_RECORDS; i++)
        if (is_fresh_name(recs[i].name))
            violation(op, st);
}

/* The reader: cycles through every operation on whatever g_target is now. */
static void reader(uintptr_t with_shared, uintptr_t unused) {
    (void)unused;
    for (uint32_t i = 0; !g_stop; i++) {
        zx_handle_t t = g_target;
        uint32_t op = i % 6;
        switch (op) {
        case 0: read_op(t, LOW_ADDR, op); break;
        case 1: write_op(t, LOW_ADDR, op); break;
        case 2: maps_op(t, op); break;
        case 3: vmos_op(t, op); break;
        case 4:
            if (with_shared)
                read_op(t, SHARED_ADDR, op);
            break;
        default:
            if (with_shared)
                write_op(t, SHARED_ADDR, op);
            break;
        }
        g_calls++;
    }
    zx_thread_exit();
}

/* The fresh processes of one round: an ordinary process and a shared family (prototype
 * and member), all named FRESH_NAME, with MARK_FRESH pages where the target has its. */
typedef struct fresh {
    zx_handle_t vmo; /* mapped everywhere below; checked for MARK_WRITE at the end */
    zx_handle_t proc, vmar, proto, shared_vmar, member, rvmar;
} fresh_t;

static zx_status_t fresh_create(fresh_t *f) {
    memset(f, 0, sizeof(*f));
    f->vmo = marked_vmo(MARK_FRESH, FRESH_NAME);
    if (f->vmo == ZX_HANDLE_INVALID)
        return ZX_ERR_NO_MEMORY;
    size_t n = sizeof(FRESH_NAME) - 1;
    zx_status_t st = zx_process_create(zx_job_default(), FRESH_NAME, n, 0, &f->proc, &f->vmar);
    if (st == ZX_OK)
        st = map_at(f->vmar, LOW_OFFSET, f->vmo);
    if (st == ZX_OK)
        st = zx_process_create(zx_job_default(), FRESH_NAME, n, ZX_PROCESS_SHARED, &f->proto,
                               &f->shared_vmar);
    if (st == ZX_OK)
        st = map_at(f->shared_vmar, SHARED_OFFSET, f->vmo);
    if (st == ZX_OK)
        st = zx_process_create_shared(f->proto, 0, FRESH_NAME, n, &f->member, &f->rvmar);
    if (st == ZX_OK)
        st = map_at(f->rvmar, LOW_OFFSET, f->vmo);
    return st;
}

/* Tears the fresh processes down; false if the reader's writes reached their memory. */
static bool fresh_destroy(fresh_t *f) {
    zx_handle_t procs[] = {f->proc, f->member, f->proto};
    for (size_t i = 0; i < 3; i++) {
        if (procs[i] != ZX_HANDLE_INVALID) {
            tu_task_kill_wait(procs[i]);
            zx_handle_close(procs[i]);
        }
    }
    zx_handle_t vmars[] = {f->vmar, f->shared_vmar, f->rvmar};
    for (size_t i = 0; i < 3; i++)
        if (vmars[i] != ZX_HANDLE_INVALID)
            zx_handle_close(vmars[i]);
    bool intact = true;
    if (f->vmo != ZX_HANDLE_INVALID) {
        uint64_t words[PAGE / 8];
        intact = zx_vmo_read(f->vmo, words, 0, PAGE) == ZX_OK;
        for (size_t i = 0; intact && i < PAGE / 8; i++)
            intact = words[i] == MARK_FRESH;
        zx_handle_close(f->vmo);
    }
    memset(f, 0, sizeof(*f));
    return intact;
}

/* One target of `kind` with MARK_TARGET pages at LOW_ADDR (and SHARED_ADDR for family
 * members); *proc is what the reader uses, *extra the other handles to close. */
typedef struct target {
    zx_handle_t proc, vmar, proto, shared_vmar, vmo;
} target_t;

static zx_status_t target_create(target_t *t, enum target_kind kind) {
    memset(t, 0, sizeof(*t));
    t->vmo = marked_vmo(MARK_TARGET, "race-target");
    if (t->vmo == ZX_HANDLE_INVALID)
        return ZX_ERR_NO_MEMORY;
    zx_status_t st;
    if (kind == TARGET_ORDINARY) {
        st = zx_process_create(zx_job_default(), "race-target", 11, 0, &t->proc, &t->vmar);
    } else {
        st = zx_process_create(zx_job_default(), "race-proto", 10, ZX_PROCESS_SHARED,
                               &t->proto, &t->shared_vmar);
        if (st == ZX_OK)
            st = map_at(t->shared_vmar, SHARED_OFFSET, t->vmo);
        if (st == ZX_OK)
            st = zx_process_create_shared(t->proto, 0, "race-target", 11, &t->proc, &t->vmar);
    }
    if (st == ZX_OK)
        st = map_at(t->vmar, LOW_OFFSET, t->vmo);
    return st;
}

/* Kills the target (for LAST_MEMBER the prototype first, so the target is the family's
 * last member). The prototype of a MEMBER target is killed only by target_close. */
static void target_kill(target_t *t, enum target_kind kind) {
    if (kind == TARGET_LAST_MEMBER && t->proto != ZX_HANDLE_INVALID)
        zx_task_kill(t->proto);
    zx_task_kill(t->proc);
}

static void target_close(target_t *t) {
    if (t->proto != ZX_HANDLE_INVALID)
        tu_task_kill_wait(t->proto);
    zx_handle_t hs[] = {t->proc, t->vmar, t->proto, t->shared_vmar, t->vmo};
    for (size_t i = 0; i < 5; i++)
        if (hs[i] != ZX_HANDLE_INVALID)
            zx_handle_close(hs[i]);
    memset(t, 0, sizeof(*t));
}

/*
 * One case. With `busy` the main thread never sleeps: it and the reader are both
 * CPU-bound and the timer preempts either at any point, so the reader also runs while a
 * kill is half done (BUSY_TIME_LIMIT bounds those rounds instead of ROUNDS).
 */
static void race(enum target_kind kind, bool busy) {
    g_stop = false;
    g_calls = g_ok_reads = 0;
    g_violations = 0;
    g_target = ZX_HANDLE_INVALID;
    tu_thread_t rt;
    ASSERT_OK(tu_thread_create(&rt));
    ASSERT_OK(tu_thread_start(&rt, reader, kind != TARGET_ORDINARY, 0));
    zx_time_t end = zx_deadline_after(busy ? BUSY_TIME_LIMIT : CASE_TIME_LIMIT);
    fresh_t fresh = {0};
    target_t old = {0};
    int rounds = 0, fresh_hit = 0;
    for (; (busy || rounds < ROUNDS) && zx_clock_get_monotonic() < end; rounds++) {
        target_t t;
        zx_status_t st = target_create(&t, kind);
        EXPECT_OK(st);
        if (st != ZX_OK) {
            target_close(&t);
            break;
        }
        g_target = t.proc;
        /* The previous round's target (already dead) and fresh processes go now, after
         * the reader had a whole round to trip over them. */
        target_close(&old);
        if (!fresh_destroy(&fresh))
            fresh_hit++;
        /* Let the reader run; our wake-up preempts it in the middle of a call. */
        if (!busy)
            zx_nanosleep(zx_deadline_after(ROUND_SLEEP));
        target_kill(&t, kind);
        EXPECT_OK(fresh_create(&fresh));
        old = t;
    }
    zx_nanosleep(zx_deadline_after(ROUND_SLEEP));
    g_stop = true;
    EXPECT_OK(tu_thread_join(&rt, 10 * TU_SEC));
    tu_thread_destroy(&rt);
    g_target = ZX_HANDLE_INVALID;
    target_close(&old);
    if (!fresh_destroy(&fresh))
        fresh_hit++;
    EXPECT_EQ(fresh_hit, 0);
    EXPECT_EQ(g_violations, 0u);
    if (g_violations)
        beryl_test_fail(__FILE__, __LINE__, "first violation: op %u, status %d", g_bad_op,
                        g_bad_status);
    EXPECT_GT(rounds, 2);
    EXPECT_GT(g_calls, (uint64_t)rounds);
    if (!busy)
        EXPECT_GT(g_ok_reads, 0u); /* the reader did see live targets */
}

TEST(TeardownRace, OrdinaryProcess) { race(TARGET_ORDINARY, false); }
TEST(TeardownRace, SharedFamilyMember) { race(TARGET_MEMBER, false); }
TEST(TeardownRace, LastFamilyMember) { race(TARGET_LAST_MEMBER, false); }
TEST(TeardownRace, OrdinaryProcessBusyKiller) { race(TARGET_ORDINARY, true); }
TEST(TeardownRace, SharedFamilyMemberBusyKiller) { race(TARGET_MEMBER, true); }
TEST(TeardownRace, LastFamilyMemberBusyKiller) { race(TARGET_LAST_MEMBER, true); }
