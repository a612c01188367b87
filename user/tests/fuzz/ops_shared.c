/*
 * Fuzz operations for shared processes and restricted mode (docs/user-tests.md,
 * "Syscall fuzzer"); the rest are in ops.c, the table of all of them too.
 */
#include <zircon/syscalls.h>
#include "fuzz.h"

/* zx_process_create_shared from pool processes (some are shared prototypes or members). */
void op_process_create_shared(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t proto = typed_handle(r, ZX_OBJ_TYPE_PROCESS, true);
    uintptr_t name = in_ptr(t);
    size_t len = chance(r, 70) ? rnd_below(r, 48) : (size_t)buf_size(r);
    uint32_t opt = chance(r, 80) ? 0 : any_bits32(r);
    bool v1, v2;
    uintptr_t o1 = scalar_out(t, &v1);
    uintptr_t o2 = scalar_out(t, &v2);
    if (o2 == o1)
        o2 += 8;
    CALL(t, "process_create_shared", proto, opt, name, len, o1, o2);
    zx_status_t st = check(t, zx_process_create_shared(proto, opt, (const char *)name, len,
                                                       (zx_handle_t *)o1, (zx_handle_t *)o2),
                           S_OK | S_H | S_ARGS | S(ZX_ERR_BAD_STATE) | S_MEM);
    check_not_ok(t, st, v1 && v2);
    if (st == ZX_OK && v1 && v2) {
        pool_add(r, read_handle(o1));
        pool_add(r, read_handle(o2));
    }
}

/*
 * Restricted mode from an ordinary process: bind / unbind may succeed, enter never can
 * (no restricted region: BAD_STATE, or INVALID_ARGS for bad options or vectors), and
 * kicks only leave a pending flag on the pool's threads (or the fuzzer's own).
 */
void op_restricted(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    uint32_t opt = chance(r, 80) ? 0 : any_bits32(r);
    switch (rnd_below(r, 4)) {
    case 0: {
        bool valid;
        uintptr_t out = scalar_out(t, &valid);
        CALL(t, "restricted_bind_state", opt, out);
        zx_status_t st = check(t, zx_restricted_bind_state(opt, (zx_handle_t *)out),
                               S_OK | S_ARGS | S_MEM);
        check_not_ok(t, st, valid);
        if (st == ZX_OK && valid)
            pool_add(r, read_handle(out));
        break;
    }
    case 1:
        CALL(t, "restricted_unbind_state", opt);
        check(t, zx_restricted_unbind_state(opt), S_OK | S_ARGS);
        break;
    case 2: {
        uintptr_t vector = chance(r, 50) ? (uintptr_t)op_restricted : (uintptr_t)rnd(r);
        uintptr_t ctx = (uintptr_t)rnd(r);
        CALL(t, "restricted_enter", opt, vector, ctx);
        check(t, zx_restricted_enter(opt, vector, ctx), S_ARGS | S(ZX_ERR_BAD_STATE));
        break;
    }
    default: {
        zx_handle_t th = chance(r, 20) ? zx_thread_self() : typed_handle(r, ZX_OBJ_TYPE_THREAD, true);
        CALL(t, "restricted_kick", th, opt);
        check(t, zx_restricted_kick(th, opt), S_OK | S_H | S_ARGS | S(ZX_ERR_BAD_STATE));
        break;
    }
    }
}


/*
 * zx_process_start of pool processes (ordinary ones, shared prototypes and members) with
 * pool threads, passing as the argument any pool handle: often the process being started
 * itself, which ends up in its own table before the start can fail. A start that
 * succeeded would run a process with nothing mapped at its entry (it dies of a page fault
 * at once, with a console line each time), so the thread is killed first and every start
 * here must fail: its thread is dead (BAD_STATE), belongs to another process
 * (ACCESS_DENIED) or the handles are bad. The argument is consumed in every case.
 */
void op_process_start(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t p = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_PROCESS, false) : any_handle(r, false);
    zx_handle_t th = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_THREAD, false) : any_handle(r, false);
    zx_info_handle_basic_t tb = tu_basic(th);
    if (tb.type == ZX_OBJ_TYPE_THREAD) {
        CALL(t, "process_start: task_kill the thread", th);
        if (zx_task_kill(th) != ZX_OK)
            return; /* a thread we cannot kill could start */
    }
    zx_handle_t arg = chance(r, 30) ? p : chance(r, 60) ? pool_take(r) : any_handle(r, false);
    uintptr_t entry = chance(r, 80) ? LOW_UNMAPPED + TU_PAGE * rnd_below(r, 1024) : (uintptr_t)rnd(r);
    uintptr_t stack = chance(r, 80) ? entry + TU_PAGE : (uintptr_t)rnd(r);
    CALL(t, "process_start", p, th, entry, stack, arg);
    check(t, zx_process_start(p, th, entry, stack, arg, rnd(r)),
          S_H | S_ARGS | S(ZX_ERR_BAD_STATE));
}

/*
 * A member that really runs: a new member of a pool process's family (create_shared) is
 * started with this program (`--member-exit`, which returns at once) and up to three pool
 * handles, sometimes a handle to the member itself or to its restricted VMAR, as extra
 * startup handles: its runtime takes them into the family's table and it exits. The
 * table then holds whatever the pool gave it while no member runs, a container of the
 * kernel's handle-cycle collector, so the run builds cycles through family tables too
 * (the member's handle in its own table, endpoints whose queues hold members, families
 * holding each other); the leak check after the run covers them.
 */
void op_member_run(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t proto = typed_handle(r, ZX_OBJ_TYPE_PROCESS, false);
    zx_handle_t member, rvmar;
    CALL(t, "member_run: process_create_shared", proto);
    if (check(t, zx_process_create_shared(proto, 0, "fuzz-member", 11, &member, &rvmar),
              S_OK | S_H | S_ARGS | S(ZX_ERR_BAD_STATE) | S_MEM) != ZX_OK)
        return;
    zx_handle_t extra[FUZZ_MEMBER_EXTRA];
    uint32_t n = (uint32_t)rnd_below(r, FUZZ_MEMBER_EXTRA + 1);
    for (uint32_t i = 0; i < n; i++) {
        extra[i] = chance(r, 15)   ? tu_dup(member, ZX_RIGHT_SAME_RIGHTS)
                   : chance(r, 10) ? tu_dup(rvmar, ZX_RIGHT_SAME_RIGHTS)
                                   : pool_take(r);
    }
    const char *argv[] = {"fuzz", "--member-exit"};
    CALL(t, "member_run: launch into the member", member, n);
    /* Any extra handle may be stale or lack TRANSFER (the bootstrap write fails); a
     * concurrent kill of the family's other members does not stop this one. */
    check(t, tu_launch_self_into(member, rvmar, "fuzz-member", 2, argv, extra, n),
          S_OK | S_H | S_MEM | S(ZX_ERR_BAD_STATE));
    zx_handle_close(rvmar);
    if (chance(r, 50))
        pool_add(r, member);
    else
        zx_handle_close(member);
}
