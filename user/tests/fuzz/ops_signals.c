/*
 * Fuzzer operations for the signalling objects: events and event pairs
 * (zx_event_create, zx_eventpair_create, zx_object_signal_peer).
 */
#include "fuzz.h"

void op_event(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    switch (rnd_below(r, 3)) {
    case 0: {
        uint32_t opt = chance(r, 85) ? 0 : any_bits32(r);
        bool valid;
        uintptr_t out = scalar_out(t, &valid);
        CALL(t, "event_create", opt, out);
        zx_status_t st = check(t, zx_event_create(opt, (zx_handle_t *)out), S_OK | S_ARGS | S_MEM);
        check_not_ok(t, st, valid);
        if (st == ZX_OK && valid)
            pool_add(r, read_handle(out));
        break;
    }
    case 1:
        op_pair_create(t, "eventpair_create", zx_eventpair_create);
        break;
    default: {
        zx_handle_t h = SANE(t) ? typed_handle(r, chance(r, 70) ? ZX_OBJ_TYPE_EVENTPAIR
                                                                : ZX_OBJ_TYPE_CHANNEL, true)
                                : any_handle(r, true);
        uint32_t clear = chance(r, 70) ? any_bits32(r) & ZX_USER_SIGNAL_ALL : any_bits32(r);
        uint32_t set = chance(r, 70) ? any_bits32(r) & ZX_USER_SIGNAL_ALL : any_bits32(r);
        CALL(t, "object_signal_peer", h, clear, set);
        check(t, zx_object_signal_peer(h, clear, set),
              S_OK | S_H | S_ARGS | S(ZX_ERR_PEER_CLOSED) | S(ZX_ERR_NOT_SUPPORTED));
        break;
    }
    }
}

/* A short zx_object_wait_many over pool handles, made-up values and bad arrays. */
void op_wait_many(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    size_t count = chance(r, 90) ? rnd_below(r, 6) : chance(r, 50) ? ZX_WAIT_MANY_MAX_ITEMS + 1
                                                                    : (size_t)any_size(r);
    uintptr_t items = SANE(t) ? scratch_at(t, 8 * sizeof(zx_wait_item_t)) : in_ptr(t);
    if (items >= (uintptr_t)t->scratch && items < GUARD(t) && count <= 8) {
        for (size_t i = 0; i < count && items + (i + 1) * sizeof(zx_wait_item_t) <= GUARD(t);
             i++) {
            zx_wait_item_t *it = (zx_wait_item_t *)items + i;
            it->handle = chance(r, 80) ? pool_peek(r) : any_handle(r, true);
            it->waitfor = any_bits32(r);
            it->pending = 0;
        }
    }
    zx_time_t dl = chance(r, 50) ? 0 : zx_clock_get_monotonic() + (zx_time_t)rnd_below(r, 200000);
    CALL(t, "object_wait_many", items, count, (uint64_t)dl);
    check(t, zx_object_wait_many((zx_wait_item_t *)items, count, dl),
          S_OK | S(ZX_ERR_TIMED_OUT) | S(ZX_ERR_CANCELED) | S(ZX_ERR_BAD_HANDLE) |
              S(ZX_ERR_ACCESS_DENIED) | S_ARGS | S(ZX_ERR_OUT_OF_RANGE) |
              S(ZX_ERR_NO_RESOURCES) | S_MEM);
}

/* Ports: create, queue, wait (never blocking long), bindings and cancels over pool
 * handles, so bindings outlive handles, ports and whole processes at random. */
void op_port(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    switch (rnd_below(r, 5)) {
    case 0: {
        uint32_t opt = chance(r, 85) ? 0 : chance(r, 50) ? ZX_PORT_BIND_TO_INTERRUPT : any_bits32(r);
        bool valid;
        uintptr_t out = scalar_out(t, &valid);
        CALL(t, "port_create", opt, out);
        zx_status_t st = check(t, zx_port_create(opt, (zx_handle_t *)out),
                               S_OK | S_ARGS | S(ZX_ERR_NOT_SUPPORTED) | S_MEM);
        check_not_ok(t, st, valid);
        if (st == ZX_OK && valid)
            pool_add(r, read_handle(out));
        break;
    }
    case 1: {
        zx_handle_t p = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_PORT, true) : any_handle(r, true);
        uintptr_t pk = SANE(t) ? scratch_at(t, sizeof(zx_port_packet_t)) : in_ptr(t);
        CALL(t, "port_queue", p, pk);
        check(t, zx_port_queue(p, (const zx_port_packet_t *)pk),
              S_OK | S_H | S_ARGS | S(ZX_ERR_SHOULD_WAIT) | S_MEM);
        break;
    }
    case 2: {
        zx_handle_t p = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_PORT, true) : any_handle(r, true);
        uintptr_t pk = SANE(t) ? scratch_at(t, sizeof(zx_port_packet_t)) : out_ptr(t);
        zx_time_t dl = chance(r, 70) ? 0 : zx_clock_get_monotonic() + (zx_time_t)rnd_below(r, 200000);
        CALL(t, "port_wait", p, (uint64_t)dl, pk);
        check(t, zx_port_wait(p, dl, (zx_port_packet_t *)pk),
              S_OK | S_H | S_ARGS | S(ZX_ERR_TIMED_OUT));
        break;
    }
    case 3: {
        zx_handle_t h = chance(r, 80) ? pool_peek(r) : any_handle(r, true);
        zx_handle_t p = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_PORT, true) : any_handle(r, true);
        uint64_t key = rnd_below(r, 4);
        zx_signals_t sig = any_bits32(r);
        uint32_t opt = chance(r, 80) ? (uint32_t)rnd_below(r, 8) : any_bits32(r);
        CALL(t, "object_wait_async", h, p, key, sig, opt);
        check(t, zx_object_wait_async(h, p, key, sig, opt),
              S_OK | S_H | S_ARGS | S(ZX_ERR_NO_RESOURCES) | S_MEM);
        break;
    }
    default: {
        zx_handle_t p = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_PORT, true) : any_handle(r, true);
        zx_handle_t src = chance(r, 80) ? pool_peek(r) : any_handle(r, true);
        uint64_t key = rnd_below(r, 4);
        CALL(t, "port_cancel", p, src, key);
        check(t, zx_port_cancel(p, src, key), S_OK | S_H | S(ZX_ERR_NOT_FOUND));
        break;
    }
    }
}

/* Timers: create with any options and clock, set with near, past and far deadlines and
 * any slack, cancel; timers in the pool fire (or are closed armed) at random. */
void op_timer(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    switch (rnd_below(r, 3)) {
    case 0: {
        uint32_t opt = chance(r, 85) ? (uint32_t)rnd_below(r, 3) : any_bits32(r);
        uint32_t clock = chance(r, 85) ? ZX_CLOCK_MONOTONIC : any_bits32(r);
        bool valid;
        uintptr_t out = scalar_out(t, &valid);
        CALL(t, "timer_create", opt, clock, out);
        zx_status_t st = check(t, zx_timer_create(opt, clock, (zx_handle_t *)out),
                               S_OK | S_ARGS | S_MEM);
        check_not_ok(t, st, valid);
        if (st == ZX_OK && valid)
            pool_add(r, read_handle(out));
        break;
    }
    case 1: {
        zx_handle_t h = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_TIMER, true) : any_handle(r, true);
        zx_time_t dl;
        switch (rnd_below(r, 4)) {
        case 0:
            dl = (zx_time_t)rnd(r);
            break;
        case 1:
            dl = 0;
            break;
        default:
            dl = zx_clock_get_monotonic() + (zx_time_t)rnd_below(r, 2 * TU_MS);
            break;
        }
        zx_duration_t slack = chance(r, 80) ? (zx_duration_t)rnd_below(r, TU_MS) : (zx_duration_t)rnd(r);
        CALL(t, "timer_set", h, (uint64_t)dl, (uint64_t)slack);
        check(t, zx_timer_set(h, dl, slack), S_OK | S_H | S(ZX_ERR_OUT_OF_RANGE));
        break;
    }
    default: {
        zx_handle_t h = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_TIMER, true) : any_handle(r, true);
        CALL(t, "timer_cancel", h);
        check(t, zx_timer_cancel(h), S_OK | S_H);
        break;
    }
    }
}
