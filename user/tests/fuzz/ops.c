/*
 * The syscall fuzzer's operations: one function per syscall (or group), each drawing its
 * arguments from the generators of gen.c and checking the result against the syscall's
 * documented status set (docs/syscalls.md; syscall-abi/decisions.md where noted).
 */
#include "fuzz.h"

/* ---- The operations ---- */


/* After a call that may or may not have consumed h: a handle still valid is still ours
 * (back into the pool unless it is there), one that is gone is remembered as closed. */
static void settle(rng_t *r, zx_handle_t h) {
    if (h == ZX_HANDLE_INVALID)
        return;
    if (!tu_handle_valid(h)) {
        note_closed(h);
        return;
    }
    lock();
    bool pooled = false;
    for (uint32_t i = 0; i < POOL_SIZE && !pooled; i++)
        pooled = pool[i] == h;
    unlock();
    if (!pooled)
        pool_add(r, h);
}

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
    for (size_t i = 0; i < n; i++)
        settle(r, a[i]); /* an unreadable array closes nothing */
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
    ZX_INFO_VMO, ZX_INFO_VMO_V1, ZX_INFO_JOB, ZX_INFO_VMAR_MAPS, ZX_INFO_THREAD_STATS, 37, 41,
    0x7fffffff,
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
            topic = chance(r, 50) ? ZX_INFO_THREAD : ZX_INFO_THREAD_STATS;
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
    /* Sometimes the prototype of a shared family, for op_process_create_shared. */
    uint32_t opt = chance(r, 70) ? 0 : chance(r, 50) ? ZX_PROCESS_SHARED : any_bits32(r);
    bool v1, v2;
    uintptr_t o1 = scalar_out(t, &v1);
    uintptr_t o2 = scalar_out(t, &v2);
    if (o2 == o1)
        o2 += 8;
    CALL(t, "process_create", job, name, len, opt, o1, o2);
    zx_status_t st = check(t, zx_process_create(job, (const char *)name, len, opt,
                                                (zx_handle_t *)o1, (zx_handle_t *)o2),
                           S_OK | S_H | S_ARGS | S(ZX_ERR_BAD_STATE) | S_MEM);
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
    check(t, st, S_OK | S_H | S_ARGS | S(ZX_ERR_NOT_FOUND) | S(ZX_ERR_BAD_STATE) | S_MEM |
                     S(ZX_ERR_OUT_OF_RANGE) /* a mapped page past its VMO's end */);
}

static void op_task_kill(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    /* Never the fuzzer's own process or its running threads. */
    zx_handle_t h = SANE(t) ? typed_handle(r, chance(r, 50) ? ZX_OBJ_TYPE_THREAD : ZX_OBJ_TYPE_PROCESS, false)
                            : any_handle(r, false);
    CALL(t, "task_kill", h);
    check(t, zx_task_kill(h), S_OK | S_H | S(ZX_ERR_NOT_SUPPORTED) /* jobs */);
}

void op_pair_create(fuzz_thread_t *t, const char *name,
                    zx_status_t (*create)(uint32_t, zx_handle_t *, zx_handle_t *)) {
    rng_t *r = &t->rng;
    uint32_t opt = chance(r, 85) ? 0 : any_bits32(r);
    bool v1, v2;
    uintptr_t o1 = scalar_out(t, &v1);
    uintptr_t o2 = scalar_out(t, &v2);
    if (o2 == o1)
        o2 += 8;
    CALL(t, name, opt, o1, o2);
    zx_status_t st = check(t, create(opt, (zx_handle_t *)o1, (zx_handle_t *)o2),
                           S_OK | S_ARGS | S_MEM);
    check_not_ok(t, st, v1 && v2);
    if (st == ZX_OK && v1 && v2) {
        pool_add(r, read_handle(o1));
        pool_add(r, read_handle(o2));
    }
}

static void op_channel_create(fuzz_thread_t *t) {
    op_pair_create(t, "channel_create", zx_channel_create);
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
        /* Endpoints travel too: one that ends up in a queue nothing outside reaches (its
         * own, or a cycle with others) is closed by the kernel's cycle collector, so the
         * leak check after the run covers those cycles. (The channel being written is
         * refused with NOT_SUPPORTED, which drops the whole message.) */
        hv[i] = chance(r, 70) ? pool_take(r) : any_handle(r, false);
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
    /* Moved or closed, except what the kernel did not read (an unreadable array, or a
     * count below the number of values). */
    for (uint32_t i = 0; i < nh; i++)
        settle(r, hv[i]);
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
    uint32_t opt = chance(r, 50)   ? 0
                   : chance(r, 50) ? ZX_VMO_RESIZABLE
                   : chance(r, 50) ? ZX_VMO_DISCARDABLE
                                   : any_bits32(r);
    bool valid;
    uintptr_t out = scalar_out(t, &valid);
    CALL(t, "vmo_create", size, opt, out);
    zx_status_t st = check(t, zx_vmo_create(size, opt, (zx_handle_t *)out),
                           S_OK | S_ARGS | S(ZX_ERR_OUT_OF_RANGE) | S_MEM |
                               S(ZX_ERR_NOT_SUPPORTED) /* DISCARDABLE | RESIZABLE */);
    check_not_ok(t, st, valid);
    if (st == ZX_OK && valid)
        pool_add(r, read_handle(out));
}

/* VMO offsets: small ones, and page-aligned ones just below 2^64 and the largest VMO
 * size, where a child's offset into its family's root may overflow. */
static uint64_t vmo_offset(rng_t *r) {
    if (chance(r, 60))
        return TU_PAGE * rnd_below(r, 8);
    if (chance(r, 50))
        return rnd_below(r, 8 * TU_PAGE);
    if (chance(r, 30))
        return (chance(r, 50) ? 0 : 0xfffffffffffe0000ull) - TU_PAGE * (1 + rnd_below(r, 16));
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
              S_MEM | S_ARGS /* a snapshot's end past 2^64 in its family's root */);
}

static void op_vmo_op_range(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    zx_handle_t h = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_VMO, false) : any_handle(r, false);
    uint32_t op = chance(r, 85) ? (uint32_t)rnd_below(r, 16) : any_bits32(r);
    uint64_t off = SANE(t) ? TU_PAGE * rnd_below(r, 4) : vmo_offset(r);
    /* COMMIT sizes that could commit a lot are cut to 64 KiB (an UNBOUNDED VMO is the
     * largest, 2^64 - 2^17 bytes, so only sizes larger than any VMO stay huge): memory
     * stays bounded. Every other op keeps huge sizes: their cost follows the pages that
     * exist. */
    uint64_t size = chance(r, 70) ? rnd_below(r, 16 * TU_PAGE) : any_size(r);
    if (op == ZX_VMO_OP_COMMIT && size > (1ull << 20) && size <= UINT64_MAX - (1ull << 16))
        size &= 0xffff;
    uintptr_t buf = chance(r, 50) ? 0 : out_ptr(t);
    size_t bs = chance(r, 50) ? 0 : (size_t)rnd_below(r, 64);
    bool lock_op = op == ZX_VMO_OP_LOCK || op == ZX_VMO_OP_TRY_LOCK || op == ZX_VMO_OP_UNLOCK;
    if (lock_op && chance(r, 60)) { /* discardable locks take the whole VMO */
        off = 0;
        zx_vmo_get_size(h, &size); /* a bad handle keeps the size drawn */
    }
    CALL(t, "vmo_op_range", h, op, off, size, buf, bs);
    /* UNAVAILABLE: TRY_LOCK of a discarded VMO; NOT_FOUND: a commit of one. */
    check(t, zx_vmo_op_range(h, op, off, size, (void *)buf, bs),
          S_OK | S_H | S_ARGS | S(ZX_ERR_OUT_OF_RANGE) | S(ZX_ERR_NOT_SUPPORTED) |
              S(ZX_ERR_BAD_STATE) | S(ZX_ERR_UNAVAILABLE) | S(ZX_ERR_NOT_FOUND) | S_MEM);
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
        if ((opt & ZX_VM_ALLOW_FAULTS) && chance(r, 50))
            opt |= ZX_VM_FAULT_BEYOND_STREAM_SIZE;
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
    if (t->sane && chance(r, 3)) {
        /* Now and then everything goes: the mappings (and the VMOs they keep alive) and
         * sub-VMARs of the fuzz VMAR would otherwise only accumulate. */
        v = fuzz_vmar;
        addr = fuzz_base;
        len = FUZZ_VMAR_SIZE;
    }
    CALL(t, "vmar_unmap", v, addr, len);
    check(t, zx_vmar_unmap(v, addr, len),
          S_OK | S(ZX_ERR_BAD_HANDLE) | S(ZX_ERR_WRONG_TYPE) | S_ARGS | S(ZX_ERR_BAD_STATE) |
              S(ZX_ERR_ACCESS_DENIED) | S_MEM /* splitting a mapping */);
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
    static const uint32_t vmar_ops[] = {ZX_VMAR_OP_COMMIT,    ZX_VMAR_OP_DECOMMIT,
                                        ZX_VMAR_OP_MAP_RANGE, ZX_VMAR_OP_ZERO,
                                        ZX_VMAR_OP_DONT_NEED, ZX_VMAR_OP_ALWAYS_NEED,
                                        ZX_VMAR_OP_PREFETCH};
    zx_handle_t v = vmar_handle(r);
    uint32_t op = SANE(t) ? vmar_ops[rnd_below(r, sizeof(vmar_ops) / sizeof(vmar_ops[0]))]
                  : chance(r, 85) ? (uint32_t)rnd_below(r, 16) : any_bits32(r);
    uint64_t addr = vmar_addr(t);
    uint64_t len = vmar_len(r);
    uintptr_t buf = chance(r, 80) ? 0 : out_ptr(t);
    size_t bs = chance(r, 80) ? 0 : (size_t)rnd_below(r, 64);
    CALL(t, "vmar_op_range", v, op, addr, len, buf, bs);
    check(t, zx_vmar_op_range(v, op, addr, len, (void *)buf, bs),
          S_OK | S_H | S_ARGS | S(ZX_ERR_OUT_OF_RANGE) | S(ZX_ERR_BAD_STATE) | S_MEM |
              S(ZX_ERR_NOT_SUPPORTED) /* DECOMMIT / ZERO of a VMO that cannot */);
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

/*
 * Placement: zx_system_get_num_cpus, zx_profile_create with random or plausible info
 * (often a CPU mask, the pool keeps the profiles made) and zx_object_set_profile of pool
 * profiles on pool threads or on this thread. A thread may end up pinned to any CPU
 * that runs threads, which changes nothing it may do.
 */
static void op_profile(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    switch (rnd_below(r, 3)) {
    case 0: {
        CALL(t, "system_get_num_cpus", 0);
        t->nargs = 0;
        uint32_t n = zx_system_get_num_cpus();
        check(t, ZX_OK, S_OK);
        if (n < 1 || n > 64)
            report(t, (zx_status_t)n, "system_get_num_cpus out of range");
        break;
    }
    case 1: {
        zx_handle_t rsrc = SANE(t) ? beryl_resource() : any_handle(r, true);
        uint32_t opt = SANE(t) ? 0 : any_bits32(r);
        uintptr_t info = SANE(t) ? scratch_at(t, sizeof(zx_profile_info_t)) : in_ptr(t);
        if (info >= (uintptr_t)t->scratch && info < GUARD(t)) {
            /* Inside the scratch pages: fill in something near valid. */
            zx_profile_info_t pi;
            memset(&pi, 0, sizeof(pi));
            pi.flags = chance(r, 70) ? (uint32_t)rnd_below(r, 16) : any_bits32(r);
            pi.priority = chance(r, 70) ? (int32_t)rnd_below(r, 34) - 1 : (int32_t)rnd(r);
            pi.cpu_affinity_mask.mask[0] = chance(r, 50) ? 1ull << rnd_below(r, 64) : rnd(r);
            pi.deadline_params.capacity = (zx_duration_t)rnd_below(r, 4);
            pi.deadline_params.relative_deadline = (zx_duration_t)rnd_below(r, 4);
            pi.deadline_params.period = (zx_duration_t)rnd_below(r, 4);
            if (GUARD(t) - info >= sizeof(pi))
                memcpy((void *)info, &pi, sizeof(pi));
        }
        bool valid;
        uintptr_t out = scalar_out(t, &valid);
        CALL(t, "profile_create", rsrc, opt, info, out);
        zx_status_t st = check(t, zx_profile_create(rsrc, opt, (const zx_profile_info_t *)info,
                                                    (zx_handle_t *)out),
                               S_OK | S_H | S_ARGS | S(ZX_ERR_NOT_SUPPORTED) | S_MEM);
        check_not_ok(t, st, valid);
        if (st == ZX_OK && valid)
            pool_add(r, read_handle(out));
        break;
    }
    default: {
        zx_handle_t th = SANE(t) ? (chance(r, 30) ? zx_thread_self()
                                                  : typed_handle(r, ZX_OBJ_TYPE_THREAD, true))
                                 : any_handle(r, true);
        zx_handle_t p = SANE(t) ? typed_handle(r, ZX_OBJ_TYPE_PROFILE, true) : any_handle(r, true);
        uint32_t opt = chance(r, 80) ? 0 : any_bits32(r);
        CALL(t, "object_set_profile", th, p, opt);
        check(t, zx_object_set_profile(th, p, opt),
              S_OK | S_H | S_ARGS | S(ZX_ERR_BAD_STATE));
        break;
    }
    }
}

static void op_read_memory(fuzz_thread_t *t) { op_process_memory(t, false); }
static void op_write_memory(fuzz_thread_t *t) { op_process_memory(t, true); }
static void op_vmo_read(fuzz_thread_t *t) { op_vmo_rw(t, false); }
static void op_vmo_write(fuzz_thread_t *t) { op_vmo_rw(t, true); }

/* Weights: creators a little more often, so the pool holds live objects of every type. */
const fuzz_op_t fuzz_ops[] = {
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
    {op_process_create_shared, 1},                     {op_restricted, 2},
    {op_misc, 5},            {op_shape_channels, 1},   {op_shape_vmars, 1},
    {op_shape_vmo_chain, 1}, {op_process_start, 2},    {op_member_run, 1},
    {op_profile, 3},         {op_time, 2},
    {op_event, 4},           {op_wait_many, 3},
    {op_port, 6},            {op_timer, 3},
};
const size_t fuzz_num_ops = sizeof(fuzz_ops) / sizeof(fuzz_ops[0]);

