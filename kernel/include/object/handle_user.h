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
