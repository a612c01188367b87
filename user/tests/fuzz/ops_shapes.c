/*
 * Fuzz operations that build hostile shapes rather than make one call (docs/user-tests.md,
 * "Syscall fuzzer"): channel endpoints nested in each other's messages (sometimes closed
 * into a cycle), VMARs nested inside each other, chains of VMO slices and snapshots, each
 * of a random depth (mostly small, rarely a couple of thousand), then torn down from a
 * random end or by a random means. Each step's status is checked like any other call; the
 * run's end-of-fuzz checks (no panic, no hang, free memory back) cover the teardown.
 */
#include "fuzz.h"

#define SHAPE_DEPTH_MAX 2048u
/* The fuzz VMAR is 4 MiB; nesting happens in a region of this many pages inside it. */
#define NEST_PAGES 4u

/* Mostly shallow, sometimes deeper, rarely as deep as SHAPE_DEPTH_MAX (the depths that
 * once overflowed the kernel stack are a few hundred). */
static uint32_t shape_depth(rng_t *r) {
    uint64_t k = rnd_below(r, 100);
    if (k < 90)
        return 1 + (uint32_t)rnd_below(r, 16);
    if (k < 99)
        return 17 + (uint32_t)rnd_below(r, 240);
    return 257 + (uint32_t)rnd_below(r, SHAPE_DEPTH_MAX - 256);
}

/*
 * Channel pairs (a_i, b_i); a_i goes into a message on a_{i+1}, so it sits in b_{i+1}'s
 * queue: reaching a_0 takes reading down the whole chain. Sometimes the last b also goes
 * in (a cycle of everything, garbage at once) or a_0's peer is kept open until the end.
 * Then the head (or the tail first) is closed.
 */
void op_shape_channels(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    uint32_t depth = shape_depth(r);
    bool cycle = chance(r, 30), tail_first = chance(r, 50);
    zx_handle_t prev_a = ZX_HANDLE_INVALID, first_b = ZX_HANDLE_INVALID, last_b;
    uint32_t i = 0;
    for (; i < depth; i++) {
        zx_handle_t a, b;
        CALL(t, "shape_channels: channel_create", i, depth);
        if (check(t, zx_channel_create(0, &a, &b), S_OK | S_MEM) != ZX_OK)
            break;
        if (prev_a != ZX_HANDLE_INVALID) {
            CALL(t, "shape_channels: channel_write", a, prev_a, i);
            check(t, zx_channel_write(a, 0, &i, sizeof(i), &prev_a, 1), S_OK | S_MEM);
            /* Consumed either way. */
        }
        if (first_b == ZX_HANDLE_INVALID)
            first_b = b;
        else
            zx_handle_close(b);
        prev_a = a;
    }
    if (prev_a == ZX_HANDLE_INVALID)
        return;
    last_b = ZX_HANDLE_INVALID;
    if (cycle && first_b != ZX_HANDLE_INVALID) {
        /* The first pair's b rides in a message on the last a: nothing outside holds
         * any of it once prev_a closes. */
        CALL(t, "shape_channels: close the cycle", prev_a, first_b);
        check(t, zx_channel_write(prev_a, 0, NULL, 0, &first_b, 1),
              S_OK | S_MEM | S(ZX_ERR_PEER_CLOSED));
        first_b = ZX_HANDLE_INVALID;
    }
    if (tail_first) {
        zx_handle_close(prev_a);
        zx_handle_close(first_b);
    } else {
        zx_handle_close(first_b);
        zx_handle_close(prev_a);
    }
    (void)last_b;
}

/*
 * VMARs nested `depth` deep, each as large as its parent, with a mapping at the bottom;
 * then ZX_INFO_PROCESS_MAPS through all of it, and the whole nest goes by destroy of the
 * top, unmap of its range, or destroy of a middle one first.
 */
void op_shape_vmars(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    uint32_t depth = shape_depth(r);
    const size_t size = NEST_PAGES * TU_PAGE;
    const zx_vm_option_t caps = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE |
                                ZX_VM_CAN_MAP_SPECIFIC;
    zx_handle_t top, v, mid = ZX_HANDLE_INVALID;
    zx_vaddr_t base, a;
    CALL(t, "shape_vmars: vmar_allocate", fuzz_vmar, size);
    if (check(t, zx_vmar_allocate(fuzz_vmar, caps, 0, size, &top, &base),
              S_OK | S_MEM | S(ZX_ERR_NO_RESOURCES)) != ZX_OK)
        return;
    v = top;
    uint32_t made = 1;
    for (; made < depth; made++) {
        zx_handle_t child;
        CALL(t, "shape_vmars: nested vmar_allocate", v, made, depth);
        /* BAD_STATE: another thread's unmap or destroy in the fuzz VMAR took the nest. */
        if (check(t, zx_vmar_allocate(v, caps | ZX_VM_SPECIFIC, 0, size, &child, &a),
                  S_OK | S_MEM | S(ZX_ERR_BAD_STATE)) != ZX_OK)
            break;
        if (v != top && v != mid)
            zx_handle_close(v); /* the parent's tree keeps it */
        if (made == depth / 2 && mid == ZX_HANDLE_INVALID)
            mid = child;
        v = child;
    }
    zx_handle_t vmo;
    if (zx_vmo_create(TU_PAGE, 0, &vmo) == ZX_OK) {
        CALL(t, "shape_vmars: vmar_map at the bottom", v, made);
        check(t, zx_vmar_map(v, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0, TU_PAGE, &a),
              S_OK | S_MEM | S(ZX_ERR_BAD_STATE));
        zx_handle_close(vmo);
    }
    if (v != top && v != mid)
        zx_handle_close(v);
    size_t actual = 0, avail = 0;
    CALL(t, "shape_vmars: get_info PROCESS_MAPS", made);
    check(t, zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_MAPS, t->scratch,
                                SCRATCH_PAGES * TU_PAGE, &actual, &avail),
          S_OK | S_MEM);
    switch (rnd_below(r, 3)) {
    case 0:
        CALL(t, "shape_vmars: vmar_destroy top", made);
        check(t, zx_vmar_destroy(top), S_OK | S(ZX_ERR_BAD_STATE));
        break;
    case 1:
        CALL(t, "shape_vmars: vmar_unmap the nest", base, size, made);
        check(t, zx_vmar_unmap(fuzz_vmar, base, size), S_OK | S_ARGS);
        CALL(t, "shape_vmars: vmar_destroy top after unmap", made);
        check(t, zx_vmar_destroy(top), S_OK | S(ZX_ERR_BAD_STATE));
        break;
    default:
        if (mid != ZX_HANDLE_INVALID) {
            CALL(t, "shape_vmars: vmar_destroy middle", made);
            check(t, zx_vmar_destroy(mid), S_OK | S(ZX_ERR_BAD_STATE));
        }
        CALL(t, "shape_vmars: vmar_destroy top after middle", made);
        check(t, zx_vmar_destroy(top), S_OK | S(ZX_ERR_BAD_STATE));
        break;
    }
    if (mid != ZX_HANDLE_INVALID)
        zx_handle_close(mid);
    zx_handle_close(top);
}

/*
 * A chain of slices or snapshots where each link's handle closes as the next is made (the
 * children keep their parents alive), deep enough at times to reach the copy-on-write
 * depth cap (OUT_OF_RANGE), then huge operations on the tail and its close.
 */
void op_shape_vmo_chain(fuzz_thread_t *t) {
    rng_t *r = &t->rng;
    uint32_t depth = shape_depth(r);
    bool slices = chance(r, 40);
    zx_handle_t v;
    CALL(t, "shape_vmo_chain: vmo_create", depth);
    if (check(t, zx_vmo_create(4 * TU_PAGE, 0, &v), S_OK | S_MEM) != ZX_OK)
        return;
    uint64_t x = rnd(r);
    zx_vmo_write(v, &x, 0, sizeof(x));
    for (uint32_t i = 0; i < depth; i++) {
        zx_handle_t c;
        uint32_t opt = slices ? ZX_VMO_CHILD_SLICE : ZX_VMO_CHILD_SNAPSHOT;
        CALL(t, "shape_vmo_chain: vmo_create_child", v, opt, i, depth);
        zx_status_t st = check(t, zx_vmo_create_child(v, opt, 0, 4 * TU_PAGE, &c),
                               S_OK | S_MEM | S(ZX_ERR_OUT_OF_RANGE));
        if (st != ZX_OK)
            break;
        if (!slices && chance(r, 10))
            zx_vmo_write(c, &x, TU_PAGE, sizeof(x)); /* a private page part way down */
        zx_handle_close(v);
        v = c;
    }
    uint64_t back = 0;
    CALL(t, "shape_vmo_chain: vmo_read the tail", v);
    if (check(t, zx_vmo_read(v, &back, 0, sizeof(back)), S_OK | S_MEM) == ZX_OK &&
        back != x)
        report(t, ZX_OK, "a chain's tail does not read its head's content");
    static const uint32_t ops[] = {ZX_VMO_OP_ZERO, ZX_VMO_OP_DECOMMIT, ZX_VMO_OP_COMMIT};
    uint32_t op = ops[rnd_below(r, 3)];
    uint64_t len = op == ZX_VMO_OP_COMMIT ? 4 * TU_PAGE : UINT64_MAX - TU_PAGE;
    CALL(t, "shape_vmo_chain: vmo_op_range", v, op, len);
    check(t, zx_vmo_op_range(v, op, 0, len, NULL, 0),
          S_OK | S_MEM | S(ZX_ERR_OUT_OF_RANGE) | S(ZX_ERR_NOT_SUPPORTED));
    zx_handle_close(v);
}
