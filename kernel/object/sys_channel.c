/*
 * zx_channel_create, zx_channel_write, zx_channel_read.
 */
#include <object/handle_user.h>
#include "object_syscalls.h"

#include <lib/string.h>
#include <object/process.h>

#include "channel_priv.h"

/* A message's handles move in and out of a table in one batch. */
_Static_assert(ZX_CHANNEL_MAX_MSG_HANDLES <= HANDLE_TABLE_BATCH_MAX,
               "a message carries more handles than one table batch");

zx_status_t sys_channel_create(uint32_t options, user_addr_t out0, user_addr_t out1) {
    if (options != 0)
        return ZX_ERR_INVALID_ARGS;
    if (!user_range_ok(out0, sizeof(zx_handle_t)) || !user_range_ok(out1, sizeof(zx_handle_t)))
        return ZX_ERR_INVALID_ARGS;
    handle_table_t *ht = process_current_handles();
    channel_t *c[2];
    zx_status_t status = channel_create(&c[0], &c[1]);
    if (status != ZX_OK)
        return status;

    kobject_t *end[2] = {channel_kobj(c[0]), channel_kobj(c[1])};
    return handle_table_publish_pair(ht, end, ZX_DEFAULT_CHANNEL_RIGHTS, out0, out1);
}

/* Removes (and closes) the handles named by the user array, as far as it can be read:
 * Zircon consumes the handles of a failed write. A chunk of the array at a time, each in
 * one hold of the table lock. */
static void remove_user_handles(handle_table_t *ht, user_addr_t handles, uint32_t num_handles) {
    zx_handle_t chunk[HANDLE_TABLE_CLOSE_BATCH];
    handle_ref_t refs[HANDLE_TABLE_CLOSE_BATCH];
    for (uint32_t done = 0; done < num_handles;) {
        uint32_t n = num_handles - done;
        if (n > HANDLE_TABLE_CLOSE_BATCH)
            n = HANDLE_TABLE_CLOSE_BATCH;
        if (user_copy_from(chunk, handles + (size_t)done * sizeof(zx_handle_t),
                           n * sizeof(zx_handle_t)) != ZX_OK)
            return;
        handle_table_remove_many(ht, chunk, n, refs);
        for (uint32_t i = 0; i < n; i++)
            handle_ref_release(&refs[i]);
        done += n;
    }
}

/*
 * Moves the caller's handles named in values[] into m->handles, all in one hold of the
 * table lock (another thread closing or transferring the same values gets each one
 * either before the whole write or not at all). Every value is removed from the table
 * whatever happens; the first problem found, in array order, is the result: BAD_HANDLE
 * (not in the table, which includes a value repeated in the list), ACCESS_DENIED (no
 * TRANSFER), NOT_SUPPORTED (a handle to the channel being written). On failure m's
 * handles are left for channel_msg_free to release.
 */
static zx_status_t take_handles(handle_table_t *ht, const zx_handle_t *values, uint32_t n,
                                kobject_t *self, channel_msg_t *m) {
    if (n == 0)
        return ZX_OK; /* the common case: no call at all */
    handle_table_remove_many(ht, values, n, m->handles);
    for (uint32_t i = 0; i < n; i++) {
        const handle_ref_t *h = &m->handles[i];
        if (h->obj == NULL)
            return ZX_ERR_BAD_HANDLE;
        if (!(h->rights & ZX_RIGHT_TRANSFER))
            return ZX_ERR_ACCESS_DENIED;
        if (h->obj == self)
            return ZX_ERR_NOT_SUPPORTED;
    }
    return ZX_OK;
}

/*
 * Check order (Zircon): options, handle count, the channel handle (BAD_HANDLE /
 * WRONG_TYPE / ACCESS_DENIED without WRITE), byte count, reading bytes and handle
 * values (INVALID_ARGS), the handles themselves, then the peer (PEER_CLOSED). In every
 * case the passed handles leave the caller's table (closed on failure).
 */
zx_status_t sys_channel_write(zx_handle_t handle, uint32_t options, user_addr_t bytes,
                              uint32_t num_bytes, user_addr_t handles, uint32_t num_handles) {
    handle_table_t *ht = process_current_handles();
    kobject_t *obj = NULL;
    channel_msg_t *m = NULL;
    zx_handle_t values[ZX_CHANNEL_MAX_MSG_HANDLES];
    zx_status_t status = ZX_OK;

    if (options != 0)
        status = ZX_ERR_INVALID_ARGS;
    else if (num_handles > ZX_CHANNEL_MAX_MSG_HANDLES)
        status = ZX_ERR_OUT_OF_RANGE;
    if (status == ZX_OK)
        status = handle_table_get(ht, handle, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_WRITE, &obj, NULL);
    if (status == ZX_OK && num_bytes > ZX_CHANNEL_MAX_MSG_BYTES)
        status = ZX_ERR_OUT_OF_RANGE;
    if (status == ZX_OK && (m = channel_msg_alloc(num_bytes, num_handles)) == NULL)
        status = ZX_ERR_NO_MEMORY;
    if (status == ZX_OK && user_copy_from(m->bytes, bytes, num_bytes) != ZX_OK)
        status = ZX_ERR_INVALID_ARGS;
    if (status != ZX_OK) {
        channel_msg_free(m);
        if (obj != NULL)
            kobject_unref(obj);
        remove_user_handles(ht, handles, num_handles);
        return status;
    }
    /* Unreadable values cannot be removed; like Zircon, the table is left as it is. */
    if (user_copy_from(values, handles, (size_t)num_handles * sizeof(zx_handle_t)) != ZX_OK)
        status = ZX_ERR_INVALID_ARGS;
    if (status == ZX_OK)
        status = take_handles(ht, values, num_handles, obj, m);
    if (status == ZX_OK) {
        status = channel_write_msg((channel_t *)obj, m); /* consumes m */
        m = NULL;
    }
    channel_msg_free(m);
    kobject_unref(obj);
    return status;
}

/*
 * Gives the caller the handles of m: adds them all to the table in one hold of its lock
 * (m's slots emptied) and copies the values to user `handles`. On failure m is whole
 * again: an add that cannot grow the table added nothing, and after a faulting copy
 * every handle is taken back out of the table into m in one hold of the lock (a handle
 * the caller closed in the meantime is simply gone and m is compacted), so m can be
 * requeued.
 */
static zx_status_t publish_handles(handle_table_t *ht, channel_msg_t *m, user_addr_t handles) {
    zx_handle_t values[ZX_CHANNEL_MAX_MSG_HANDLES];
    if (m->num_handles == 0)
        return ZX_OK; /* the common case: no call at all */
    zx_status_t status = handle_table_add_many(ht, m->handles, m->num_handles, values);
    if (status != ZX_OK)
        return status;
    if (user_copy_to(handles, values, (size_t)m->num_handles * sizeof(zx_handle_t)) == ZX_OK)
        return ZX_OK;

    handle_table_remove_many(ht, values, m->num_handles, m->handles);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < m->num_handles; i++) {
        if (m->handles[i].obj != NULL)
            m->handles[kept++] = m->handles[i];
    }
    m->num_handles = kept;
    return ZX_ERR_INVALID_ARGS;
}

/*
 * Options: 0 or ZX_CHANNEL_READ_MAY_DISCARD. BUFFER_TOO_SMALL writes actual_bytes /
 * actual_handles (if given) and leaves the message queued (dropped with
 * MAY_DISCARD).
 *
 * Faulting output pointers: Zircon dequeues the message first and, if a copy-out then
 * faults, returns INVALID_ARGS with the message consumed and its handles closed.
 * Beryl deliberately does better without changing any result code: the message is
 * copied out whole (bytes, the actual counts, then handles added to the table and
 * their values written) and on any fault every handle is taken back out of the caller's table
 * and the message goes back to the head of the queue, so it is neither lost nor
 * leaked. The caller sees INVALID_ARGS either way. (A handle value the caller closes
 * from another thread during that window is closed, not restored.)
 */
zx_status_t sys_channel_read(zx_handle_t handle, uint32_t options, user_addr_t bytes,
                             user_addr_t handles, uint32_t num_bytes, uint32_t num_handles,
                             user_addr_t actual_bytes, user_addr_t actual_handles) {
    if ((options & ~ZX_CHANNEL_READ_MAY_DISCARD) != 0)
        return ZX_ERR_INVALID_ARGS;
    handle_table_t *ht = process_current_handles();
    kobject_t *obj;
    zx_status_t status = handle_table_get(ht, handle, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_READ, &obj,
                                          NULL);
    if (status != ZX_OK)
        return status;
    channel_t *c = (channel_t *)obj;

    channel_msg_t *m = NULL;
    uint32_t nb = 0, nh = 0;
    status = channel_dequeue(c, num_bytes, num_handles,
                             (options & ZX_CHANNEL_READ_MAY_DISCARD) != 0, &m, &nb, &nh);
    if (status == ZX_ERR_BUFFER_TOO_SMALL) {
        if ((actual_bytes != 0 && user_put_u32(actual_bytes, nb) != ZX_OK) ||
            (actual_handles != 0 && user_put_u32(actual_handles, nh) != ZX_OK))
            status = ZX_ERR_INVALID_ARGS;
    }
    if (status != ZX_OK) {
        kobject_unref(obj);
        return status;
    }

    if (user_copy_to(bytes, m->bytes, m->num_bytes) != ZX_OK ||
        (actual_bytes != 0 && user_put_u32(actual_bytes, nb) != ZX_OK) ||
        (actual_handles != 0 && user_put_u32(actual_handles, nh) != ZX_OK))
        status = ZX_ERR_INVALID_ARGS;
    if (status == ZX_OK)
        status = publish_handles(ht, m, handles); /* last: it undoes itself on failure */
    if (status != ZX_OK)
        channel_requeue_front(c, m);
    else
        channel_msg_free(m); /* every handle slot is empty now: just frees */
    kobject_unref(obj);
    return status;
}
