/*
 * Handing a new handle to user space: add it to the caller's table, then write its value
 * to a user out-pointer. The write can fault only after the handle exists, so a fault
 * removes and releases it again: a syscall that fails leaves no handle behind.
 *
 * handle_table_publish(ht, obj, rights, out, value): takes its own reference on obj (the
 * caller keeps its reference). handle_table_publish_ref(ht, h, out, value): consumes *h
 * in every case. Both write the new value to *value too (if not NULL) and return ZX_OK,
 * ZX_ERR_NO_MEMORY (the table cannot grow) or ZX_ERR_INVALID_ARGS (out faulted).
 * handle_table_close(ht, value): removes and releases one handle (ZX_ERR_BAD_HANDLE).
 *
 * Inline: these sit on every handle-creating syscall (zx_handle_duplicate + close cost
 * 36 instructions more as out-of-line calls). Kernel only (uses user copies).
 */
#ifndef OBJECT_HANDLE_USER_H
#define OBJECT_HANDLE_USER_H

#include <kernel/user_copy.h>
#include <object/handle.h>

static inline zx_status_t handle_table_close(handle_table_t *ht, zx_handle_t value) {
    handle_ref_t h;
    zx_status_t st = handle_table_remove(ht, value, &h);
    if (st == ZX_OK)
        handle_ref_release(&h);
    return st;
}

/* Writes the new handle's value out, or takes the handle back if that faults. */
static inline zx_status_t handle_publish_value_(handle_table_t *ht, zx_handle_t v,
                                                user_addr_t out, zx_handle_t *value) {
    if (user_put_u32(out, v) != ZX_OK) {
        handle_table_close(ht, v);
        return ZX_ERR_INVALID_ARGS;
    }
    if (value)
        *value = v;
    return ZX_OK;
}

static inline zx_status_t handle_table_publish_ref(handle_table_t *ht, handle_ref_t *h,
                                                   user_addr_t out, zx_handle_t *value) {
    zx_handle_t v;
    zx_status_t st = handle_table_add_ref(ht, h, &v);
    if (st != ZX_OK) {
        handle_ref_release(h);
        return st;
    }
    return handle_publish_value_(ht, v, out, value);
}

/*
 * The two ends of a new pair (a channel, an event pair) as two handles with `rights`,
 * added in one batch and written to out0 and out1. Consumes the caller's reference on
 * each end in every case: from the moment they are handle references, a failure releases
 * them as closed handles (so a pair torn down half-made goes through its on_zero_handles,
 * which unlinks it). ZX_ERR_NO_MEMORY or ZX_ERR_INVALID_ARGS (an out faulted: both handles
 * are taken back, except one the process closed meanwhile).
 */
static inline zx_status_t handle_table_publish_pair(handle_table_t *ht, kobject_t *end[2],
                                                    zx_rights_t rights, user_addr_t out0,
                                                    user_addr_t out1) {
    handle_ref_t h[2];
    zx_handle_t value[2];
    for (int i = 0; i < 2; i++) {
        handle_ref_init(&h[i], end[i], rights);
        kobject_unref(end[i]);
    }
    zx_status_t status = handle_table_add_many(ht, h, 2, value);
    if (status == ZX_OK && (user_copy_to(out0, &value[0], sizeof(zx_handle_t)) != ZX_OK ||
                            user_copy_to(out1, &value[1], sizeof(zx_handle_t)) != ZX_OK)) {
        status = ZX_ERR_INVALID_ARGS;
        handle_table_remove_many(ht, value, 2, h); /* those closed meanwhile are gone */
    }
    if (status != ZX_OK) {
        for (int i = 0; i < 2; i++)
            handle_ref_release(&h[i]);
    }
    return status;
}

static inline zx_status_t handle_table_publish(handle_table_t *ht, kobject_t *obj,
                                               zx_rights_t rights, user_addr_t out,
                                               zx_handle_t *value) {
    zx_handle_t v;
    zx_status_t st = handle_table_add(ht, obj, rights, &v);
    if (st != ZX_OK)
        return st;
    return handle_publish_value_(ht, v, out, value);
}

#endif
