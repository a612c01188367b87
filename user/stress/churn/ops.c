/*
 * The SMP stress test's operations (what each does: user/stress/churn.c) and the child a
 * launch starts. Every operation cleans up after itself before it returns, on success
 * and on failure alike, except for what it puts into the pool.
 */
#include <beryl/launch.h>
#include <beryl/startup.h>
#include <stdio.h>
#include <string.h>
#include <zircon/processargs.h>
#include <zircon/syscalls.h>
#include "stress_priv.h"

#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)

static void count(uint32_t *counter, uint32_t n) {
    __atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

/* ---- vmo ----------------------------------------------------------------------------- */

/* Checks and touches a mapping of `vmo` (pages long) at addr; then, maybe, a
 * copy-on-write child: it must see what the parent holds and keep its own writes. */
static bool vmo_touch(worker_t *w, zx_handle_t vmo, zx_vaddr_t addr, uint32_t pages) {
    uint32_t touches = 1 + stress_below(&w->rng, pages);
    for (uint32_t i = 0; i < touches; i++) {
        uint32_t p = stress_below(&w->rng, pages);
        volatile uint64_t *word = (volatile uint64_t *)(addr + (zx_vaddr_t)p * TU_PAGE);
        uint64_t v = stress_rand(&w->rng) | 1;
        *word = v;
        STRESS_CHECK(w, *word == v);
        uint64_t seen = 0;
        STRESS_OK(w, zx_vmo_read(vmo, &seen, (uint64_t)p * TU_PAGE, sizeof(seen)));
        STRESS_CHECK(w, seen == v);
        if (stress_below(&w->rng, 4) == 0) {
            zx_handle_t child;
            STRESS_OK(w, zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0,
                                             (uint64_t)pages * TU_PAGE, &child));
            uint64_t mine = ~v, in_child = 0;
            zx_status_t st = zx_vmo_read(child, &in_child, (uint64_t)p * TU_PAGE, 8);
            if (st == ZX_OK)
                st = zx_vmo_write(child, &mine, (uint64_t)p * TU_PAGE, 8);
            zx_handle_close(child);
            STRESS_OK(w, st);
            STRESS_CHECK(w, in_child == v);
            STRESS_CHECK(w, *word == v); /* the child's write stayed its own */
        }
    }
    count(&g_stress.pages, touches);
    return true;
}

static bool op_vmo(worker_t *w) {
    uint32_t pages = 1 + stress_below(&w->rng, STRESS_MAX_VMO_PAGES);
    size_t size = (size_t)pages * TU_PAGE;
    zx_handle_t vmo;
    STRESS_OK(w, zx_vmo_create(size, 0, &vmo));
    zx_vaddr_t addr = 0;
    zx_status_t st = zx_vmar_map(zx_vmar_root_self(), RW, 0, vmo, 0, size, &addr);
    bool ok = st == ZX_OK ? vmo_touch(w, vmo, addr, pages)
                          : stress_fail(w, __LINE__, "zx_vmar_map", st);
    if (ok && stress_below(&w->rng, 4) == 0)
        ok = (st = zx_vmo_op_range(vmo, ZX_VMO_OP_DECOMMIT, 0, size, NULL, 0)) == ZX_OK ||
             stress_fail(w, __LINE__, "decommit", st);
    if (addr && (st = zx_vmar_unmap(zx_vmar_root_self(), addr, size)) != ZX_OK && ok)
        ok = stress_fail(w, __LINE__, "zx_vmar_unmap", st);
    zx_handle_close(vmo);
    return ok;
}

/* ---- channel ------------------------------------------------------------------------- */

/* Up to STRESS_MSG_HANDLES new handles for a message: VMOs and ends of new channels
 * (their peers closed, or sent along). Returns how many it made. */
static uint32_t make_handles(worker_t *w, zx_handle_t *h) {
    uint32_t n = stress_below(&w->rng, STRESS_MSG_HANDLES + 1), made = 0;
    while (made < n) {
        if (stress_below(&w->rng, 2) == 0) {
            if (zx_vmo_create(TU_PAGE * (1 + stress_below(&w->rng, 4)), 0, &h[made]) != ZX_OK)
                break;
            made++;
        } else {
            zx_handle_t a, b;
            if (zx_channel_create(0, &a, &b) != ZX_OK)
                break;
            h[made++] = a;
            if (made < n && stress_below(&w->rng, 2) == 0)
                h[made++] = b;
            else
                zx_handle_close(b);
        }
    }
    return made;
}

/* Fills a message's bytes from the worker's stream; its length (1..STRESS_MSG_BYTES). */
static uint32_t make_bytes(worker_t *w, uint8_t *b) {
    uint32_t n = 1 + stress_below(&w->rng, STRESS_MSG_BYTES);
    uint8_t x = (uint8_t)stress_rand(&w->rng);
    for (uint32_t i = 0; i < n; i++)
        b[i] = (uint8_t)(x + i);
    return n;
}

static bool op_channel(worker_t *w) {
    zx_handle_t a, b;
    STRESS_OK(w, zx_channel_create(0, &a, &b));
    uint32_t msgs = 1 + stress_below(&w->rng, 4), reads = stress_below(&w->rng, msgs + 1);
    uint8_t sent[4][STRESS_MSG_BYTES];
    uint32_t sent_len[4], sent_handles[4];
    bool ok = true;
    for (uint32_t i = 0; i < msgs && ok; i++) {
        zx_handle_t h[STRESS_MSG_HANDLES];
        sent_len[i] = make_bytes(w, sent[i]);
        sent_handles[i] = make_handles(w, h);
        zx_status_t st = zx_channel_write(a, 0, sent[i], sent_len[i], h, sent_handles[i]);
        ok = st == ZX_OK || stress_fail(w, __LINE__, "zx_channel_write", st);
    }
    for (uint32_t i = 0; i < reads && ok; i++) {
        uint8_t got[STRESS_MSG_BYTES];
        zx_handle_t h[STRESS_MSG_HANDLES];
        uint32_t nb = 0, nh = 0;
        zx_status_t st = zx_channel_read(b, 0, got, h, sizeof(got), STRESS_MSG_HANDLES, &nb, &nh);
        if (st != ZX_OK) {
            ok = stress_fail(w, __LINE__, "zx_channel_read", st);
            break;
        }
        zx_handle_close_many(h, nh);
        ok = (nb == sent_len[i] && nh == sent_handles[i] && memcmp(got, sent[i], nb) == 0) ||
             stress_fail(w, __LINE__, "message read back differs", ZX_OK);
    }
    count(&g_stress.messages, msgs);
    /* The unread messages, and the handles in them, go with the channel. */
    zx_handle_close(a);
    zx_handle_close(b);
    return ok;
}

/* ---- thread -------------------------------------------------------------------------- */

/* A short-lived thread: `rounds` VMOs made and closed, then one message on ch. */
static void thread_body(uintptr_t ch, uintptr_t rounds) {
    for (uintptr_t i = 0; i < rounds; i++) {
        zx_handle_t vmo;
        if (zx_vmo_create(TU_PAGE, 0, &vmo) == ZX_OK) {
            zx_vmo_write(vmo, &i, 0, sizeof(i));
            zx_handle_close(vmo);
        }
        zx_nanosleep(0);
    }
    zx_channel_write((zx_handle_t)ch, 0, &rounds, sizeof(rounds), NULL, 0);
    zx_thread_exit();
}

static bool op_thread(worker_t *w) {
    zx_handle_t mine, theirs;
    STRESS_OK(w, zx_channel_create(0, &mine, &theirs));
    tu_thread_t t;
    zx_status_t st = tu_thread_create(&t);
    uint32_t cpu = stress_below(&w->rng, g_stress.ncpus);
    uintptr_t rounds = stress_below(&w->rng, 8);
    uint32_t how = stress_below(&w->rng, 3); /* 0: join, 1: kill at once, 2: kill after */
    if (st == ZX_OK)
        st = stress_pin(t.thread, cpu);
    if (st == ZX_OK)
        st = tu_thread_start(&t, thread_body, theirs, rounds);
    bool ok = st == ZX_OK || stress_fail(w, __LINE__, "starting a thread", st);
    if (ok && how == 2)
        zx_object_wait_one(mine, ZX_CHANNEL_READABLE, zx_deadline_after(STRESS_WAIT_NS),
                           NULL);
    if (ok && how != 0 && (st = zx_task_kill(t.thread)) != ZX_OK)
        ok = stress_fail(w, __LINE__, "zx_task_kill(thread)", st);
    if (ok && (st = tu_thread_join(&t, STRESS_WAIT_NS)) != ZX_OK)
        ok = stress_fail(w, __LINE__, "thread did not end", st);
    if (ok && how == 0) {
        uintptr_t got = ~(uintptr_t)0;
        st = zx_channel_read(mine, 0, &got, NULL, sizeof(got), 0, NULL, NULL);
        ok = (st == ZX_OK && got == rounds) ||
             stress_fail(w, __LINE__, "the thread's message", st);
    }
    if (!ok && t.thread)
        tu_task_kill_wait(t.thread);
    tu_thread_destroy(&t);
    zx_handle_close(mine);
    zx_handle_close(theirs);
    count(&g_stress.threads, 1);
    return ok;
}

/* ---- process (never started) --------------------------------------------------------- */

static bool op_process(worker_t *w) {
    zx_handle_t proc, vmar, thread = ZX_HANDLE_INVALID, vmo = ZX_HANDLE_INVALID;
    STRESS_OK(w, zx_process_create(zx_job_default(), "stress-p", 8, 0, &proc, &vmar));
    zx_status_t st = zx_thread_create(proc, "stress-t", 8, 0, &thread);
    uint32_t pages = 1 + stress_below(&w->rng, STRESS_MAX_VMO_PAGES);
    if (st == ZX_OK)
        st = zx_vmo_create((uint64_t)pages * TU_PAGE, 0, &vmo);
    zx_vaddr_t addr;
    if (st == ZX_OK)
        st = zx_vmar_map(vmar, RW, 0, vmo, 0, (size_t)pages * TU_PAGE, &addr);
    if (st == ZX_OK && stress_below(&w->rng, 2) == 0)
        st = zx_task_kill(proc);
    zx_handle_t all[] = {thread, vmo, vmar, proc};
    for (int i = 0; i < 4; i++)
        if (all[i] != ZX_HANDLE_INVALID)
            zx_handle_close(all[i]);
    STRESS_OK(w, st);
    return true;
}

/* ---- launch -------------------------------------------------------------------------- */

/* The child: answers each message (a value and a VMO) by writing the value into the VMO
 * through a mapping and sending the VMO back with value + 1; a value of 0 ends it. */
int stress_child_main(void) {
    zx_handle_t ch = beryl_take_startup_handle(PA_HND(PA_USER0, 0));
    for (;;) {
        zx_signals_t seen = 0;
        zx_object_wait_one(ch, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, ZX_TIME_INFINITE,
                           &seen);
        uint64_t v = 0;
        zx_handle_t vmo = ZX_HANDLE_INVALID;
        uint32_t nb = 0, nh = 0;
        if (zx_channel_read(ch, 0, &v, &vmo, sizeof(v), 1, &nb, &nh) != ZX_OK)
            return 2;
        if (v == 0)
            return 0;
        zx_vaddr_t addr;
        if (nh != 1 || zx_vmar_map(zx_vmar_root_self(), RW, 0, vmo, 0, TU_PAGE, &addr) != ZX_OK)
            return 3;
        *(volatile uint64_t *)addr = v;
        zx_vmar_unmap(zx_vmar_root_self(), addr, TU_PAGE);
        v++;
        if (zx_channel_write(ch, 0, &v, sizeof(v), &vmo, 1) != ZX_OK)
            return 4;
    }
}

/* One exchange with the child: a VMO and a value out, the VMO holding it back. */
static bool launch_exchange(worker_t *w, zx_handle_t ch) {
    uint64_t v = (stress_rand(&w->rng) | 2) & ~1ull, back = 0;
    zx_handle_t vmo, got = ZX_HANDLE_INVALID;
    STRESS_OK(w, zx_vmo_create(TU_PAGE, 0, &vmo));
    STRESS_OK(w, zx_channel_write(ch, 0, &v, sizeof(v), &vmo, 1));
    STRESS_OK(w, zx_object_wait_one(ch, ZX_CHANNEL_READABLE, zx_deadline_after(STRESS_WAIT_NS),
                                    NULL));
    uint32_t nb = 0, nh = 0;
    STRESS_OK(w, zx_channel_read(ch, 0, &back, &got, sizeof(back), 1, &nb, &nh));
    uint64_t in_vmo = 0;
    zx_status_t st = nh == 1 ? zx_vmo_read(got, &in_vmo, 0, sizeof(in_vmo)) : ZX_ERR_IO;
    if (nh == 1)
        zx_handle_close(got);
    STRESS_OK(w, st);
    STRESS_CHECK(w, back == v + 1 && in_vmo == v);
    count(&g_stress.messages, 2);
    return true;
}

static bool op_launch(worker_t *w) {
    zx_handle_t mine, theirs, proc;
    STRESS_OK(w, zx_channel_create(0, &mine, &theirs));
    const char *argv[] = {"churn", STRESS_CHILD_ARG};
    zx_status_t st = tu_launch_self_handles("stress-child", 2, argv, &theirs, 1,
                                            ZX_HANDLE_INVALID, ZX_HANDLE_INVALID, &proc);
    if (st != ZX_OK) {
        zx_handle_close(mine);
        return stress_fail(w, __LINE__, "launching a child", st);
    }
    count(&g_stress.launches, 1);
    uint32_t rounds = stress_below(&w->rng, 4);
    uint32_t kill_at = stress_below(&w->rng, rounds + 2); /* rounds + 1: no kill */
    bool ok = true, killed = false;
    for (uint32_t i = 0; i <= rounds && ok && !killed; i++) {
        if (i == kill_at) {
            ok = (st = zx_task_kill(proc)) == ZX_OK ||
                 stress_fail(w, __LINE__, "zx_task_kill(process)", st);
            killed = true;
        } else if (i < rounds) {
            ok = launch_exchange(w, mine);
        }
    }
    if (ok && !killed) {
        uint64_t zero = 0;
        ok = (st = zx_channel_write(mine, 0, &zero, sizeof(zero), NULL, 0)) == ZX_OK ||
             stress_fail(w, __LINE__, "asking the child to exit", st);
    }
    int64_t rc = -1;
    if (ok && (st = beryl_wait_exit(proc, zx_deadline_after(STRESS_WAIT_NS), &rc)) != ZX_OK)
        ok = stress_fail(w, __LINE__, "the child did not end", st);
    if (ok && rc != (killed ? ZX_TASK_RETCODE_SYSCALL_KILL : 0)) {
        printf("stress: child return code %lld\n", (long long)rc);
        ok = stress_fail(w, __LINE__, "the child's return code", ZX_OK);
    }
    tu_task_kill_wait(proc);
    zx_handle_close(proc);
    zx_handle_close(mine);
    return ok;
}

/* ---- the pool ------------------------------------------------------------------------ */

/* Slot s's end, or a new channel whose other end goes to a random slot. */
static zx_handle_t pool_end(worker_t *w, uint32_t s) {
    zx_handle_t h = stress_pool_take(s);
    if (h != ZX_HANDLE_INVALID)
        return h;
    zx_handle_t other;
    if (zx_channel_create(0, &h, &other) != ZX_OK)
        return ZX_HANDLE_INVALID;
    stress_pool_put(stress_below(&w->rng, STRESS_POOL_SLOTS), other);
    return h;
}

static bool op_pool_write(worker_t *w) {
    uint32_t s = stress_below(&w->rng, STRESS_POOL_SLOTS);
    zx_handle_t h = pool_end(w, s);
    STRESS_CHECK(w, h != ZX_HANDLE_INVALID);
    zx_handle_t hs[STRESS_MSG_HANDLES];
    uint32_t nh = make_handles(w, hs);
    /* Maybe an end out of the pool too (possibly h's own peer: a cycle to collect). */
    if (nh < STRESS_MSG_HANDLES && stress_below(&w->rng, 2) == 0) {
        zx_handle_t e = stress_pool_take(stress_below(&w->rng, STRESS_POOL_SLOTS));
        if (e != ZX_HANDLE_INVALID)
            hs[nh++] = e;
    }
    uint8_t b[STRESS_MSG_BYTES];
    uint32_t nb = make_bytes(w, b);
    zx_status_t st = zx_channel_write(h, 0, b, nb, hs, nh);
    stress_pool_put(s, h);
    STRESS_CHECK(w, st == ZX_OK || st == ZX_ERR_PEER_CLOSED);
    count(&g_stress.messages, 1);
    return true;
}

static bool op_pool_read(worker_t *w) {
    uint32_t s = stress_below(&w->rng, STRESS_POOL_SLOTS);
    zx_handle_t h = stress_pool_take(s);
    if (h == ZX_HANDLE_INVALID)
        return true;
    uint8_t b[STRESS_MSG_BYTES];
    zx_handle_t hs[STRESS_MSG_HANDLES + 1];
    uint32_t nb = 0, nh = 0;
    zx_status_t st = zx_channel_read(h, 0, b, hs, sizeof(b), STRESS_MSG_HANDLES + 1, &nb, &nh);
    if (st == ZX_OK) {
        /* Ends go back into the pool, the rest is closed. */
        for (uint32_t i = 0; i < nh; i++) {
            if (tu_basic(hs[i]).type == ZX_OBJ_TYPE_CHANNEL)
                stress_pool_put(stress_below(&w->rng, STRESS_POOL_SLOTS), hs[i]);
            else
                zx_handle_close(hs[i]);
        }
    }
    if (st == ZX_ERR_PEER_CLOSED)
        zx_handle_close(h); /* a dead end: nothing will ever arrive */
    else
        stress_pool_put(s, h);
    STRESS_CHECK(w, st == ZX_OK || st == ZX_ERR_SHOULD_WAIT || st == ZX_ERR_PEER_CLOSED);
    return true;
}

static bool op_pool_replace(worker_t *w) {
    uint32_t s = stress_below(&w->rng, STRESS_POOL_SLOTS);
    zx_handle_t h = stress_pool_take(s);
    if (h != ZX_HANDLE_INVALID)
        zx_handle_close(h);
    zx_handle_t a, b;
    STRESS_OK(w, zx_channel_create(0, &a, &b));
    stress_pool_put(s, a);
    stress_pool_put(stress_below(&w->rng, STRESS_POOL_SLOTS), b);
    return true;
}

/* ---- choosing ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    bool (*fn)(worker_t *w);
    uint32_t weight;
} op_t;

/* The mix: launches are the dearest by far, so they are rare. */
static const op_t ops[] = {
    {"vmo", op_vmo, 22},           {"channel", op_channel, 16},
    {"thread", op_thread, 12},     {"process", op_process, 8},
    {"launch", op_launch, 3},      {"pool write", op_pool_write, 17},
    {"pool read", op_pool_read, 17}, {"pool replace", op_pool_replace, 5},
};

bool stress_run_op(worker_t *w) {
    uint32_t total = 0;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        total += ops[i].weight;
    uint32_t x = stress_below(&w->rng, total);
    size_t i = 0;
    while (x >= ops[i].weight)
        x -= ops[i++].weight;
    w->op_name = ops[i].name;
    return ops[i].fn(w);
}

bool stress_run_each_op(worker_t *w) {
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        w->op_name = ops[i].name;
        if (!ops[i].fn(w))
            return false;
    }
    return true;
}
