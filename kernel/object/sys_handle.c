/*
 * zx_handle_close, zx_handle_close_many, zx_handle_duplicate, zx_handle_replace.
 */
#include <object/handle_user.h>
#include "object_syscalls.h"

#include <object/handle.h>
#include <object/process.h>

/* Values read, and removed in one hold of the table lock, at a time. */
#define CLOSE_MANY_CHUNK HANDLE_TABLE_CLOSE_BATCH

zx_status_t sys_handle_close(zx_handle_t handle) {
    if (handle == ZX_HANDLE_INVALID)
        return ZX_OK;
    return handle_table_close(process_current_handles(), handle);
}

/* Closes every valid value (ZX_HANDLE_INVALID entries are skipped); BAD_HANDLE if any
 * value (including a repeat of an earlier one) was not valid. The array is read in
 * chunks, each removed from the table in one hold of its lock and released after; a
 * faulting read returns INVALID_ARGS with the earlier chunks closed. */
zx_status_t sys_handle_close_many(user_addr_t handles, size_t num_handles) {
    handle_table_t *ht = process_current_handles();
    zx_handle_t chunk[CLOSE_MANY_CHUNK];
    handle_ref_t refs[CLOSE_MANY_CHUNK];
    zx_status_t result = ZX_OK;

    if (num_handles > SIZE_MAX / sizeof(zx_handle_t) ||
        !user_range_ok(handles, num_handles * sizeof(zx_handle_t)))
        return ZX_ERR_INVALID_ARGS;
    for (size_t done = 0; done < num_handles;) {
        size_t n = num_handles - done;
        if (n > CLOSE_MANY_CHUNK)
            n = CLOSE_MANY_CHUNK;
        if (user_copy_from(chunk, handles + done * sizeof(zx_handle_t),
                           n * sizeof(zx_handle_t)) != ZX_OK)
            return ZX_ERR_INVALID_ARGS;
        size_t skipped = 0;
        for (size_t i = 0; i < n; i++)
            skipped += chunk[i] == ZX_HANDLE_INVALID;
        if (handle_table_remove_many(ht, chunk, (uint32_t)n, refs) != n - skipped)
            result = ZX_ERR_BAD_HANDLE;
        for (size_t i = 0; i < n; i++)
            handle_ref_release(&refs[i]);
        done += n;
    }
    return result;
}

/* Resolves ZX_RIGHT_SAME_RIGHTS and checks that `requested` only drops rights. */
static zx_status_t derive_rights(zx_rights_t have, zx_rights_t requested, zx_rights_t *out) {
    if (requested == ZX_RIGHT_SAME_RIGHTS) {
        *out = have;
        return ZX_OK;
    }
    if ((requested & ~have) != 0)
        return ZX_ERR_INVALID_ARGS;
    *out = requested;
    return ZX_OK;
}

zx_status_t sys_handle_duplicate(zx_handle_t handle, zx_rights_t rights, user_addr_t out) {
    handle_table_t *ht = process_current_handles();
    kobject_t *obj;
    zx_rights_t have, new_rights;
    zx_status_t status =
        handle_table_get(ht, handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_DUPLICATE, &obj, &have);
    if (status != ZX_OK)
        return status;
    status = derive_rights(have, rights, &new_rights);
    if (status == ZX_OK && !user_range_ok(out, sizeof(zx_handle_t)))
        status = ZX_ERR_INVALID_ARGS;
    if (status == ZX_OK) {
        handle_ref_t h;
        handle_ref_init(&h, obj, new_rights);
        status = handle_table_publish_ref(ht, &h, out, NULL);
    }
    kobject_unref(obj);
    return status;
}

/* The input handle is gone after every outcome except BAD_HANDLE (Zircon). */
zx_status_t sys_handle_replace(zx_handle_t handle, zx_rights_t rights, user_addr_t out) {
    handle_table_t *ht = process_current_handles();
    handle_ref_t h;
    zx_status_t status = handle_table_remove(ht, handle, &h);
    if (status != ZX_OK)
        return status;
    zx_rights_t new_rights;
    status = derive_rights(h.rights, rights, &new_rights);
    if (status == ZX_OK && !user_range_ok(out, sizeof(zx_handle_t)))
        status = ZX_ERR_INVALID_ARGS;
    if (status != ZX_OK) {
        handle_ref_release(&h);
        return status;
    }
    h.rights = new_rights;
    return handle_table_publish_ref(ht, &h, out, NULL);
}
