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
    case 1: {
        uint32_t opt = chance(r, 85) ? 0 : any_bits32(r);
        bool v1, v2;
        uintptr_t o1 = scalar_out(t, &v1);
        uintptr_t o2 = scalar_out(t, &v2);
        if (o2 == o1)
            o2 += 8;
        CALL(t, "eventpair_create", opt, o1, o2);
        zx_status_t st = check(t, zx_eventpair_create(opt, (zx_handle_t *)o1, (zx_handle_t *)o2),
                               S_OK | S_ARGS | S_MEM);
        check_not_ok(t, st, v1 && v2);
        if (st == ZX_OK && v1 && v2) {
            pool_add(r, read_handle(o1));
            pool_add(r, read_handle(o2));
        }
        break;
    }
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
