/*
 * zx_event_create, zx_eventpair_create and zx_object_signal_peer (the objects are in
 * kernel/object/event.c).
 */
#include <kernel/syscall_impl.h>
#include <object/event.h>
#include <object/handle_user.h>
#include <object/process.h>
#include <zircon/rights.h>

/* Creates an event (no signals) and gives the caller a handle with the default rights. */
zx_status_t sys_event_create(uint32_t options, user_addr_t out) {
    if (options != 0)
        return ZX_ERR_INVALID_ARGS;
    kobject_t *ev;
    zx_status_t st = event_create(&ev);
    if (st != ZX_OK)
        return st;
    st =
        handle_table_publish(process_current_handles(), ev, ZX_DEFAULT_EVENT_RIGHTS, out, NULL);
    kobject_unref(ev); /* the handle holds it now, or nothing does */
    return st;
}

/*
 * Creates a linked pair and gives the caller one handle to each side (default rights).
 * Both values are written or neither handle stays: a faulting out pointer closes both,
 * which unlinks the pair.
 */
zx_status_t sys_eventpair_create(uint32_t options, user_addr_t out0, user_addr_t out1) {
    if (options != 0)
        return ZX_ERR_INVALID_ARGS;
    if (!user_range_ok(out0, sizeof(zx_handle_t)) || !user_range_ok(out1, sizeof(zx_handle_t)))
        return ZX_ERR_INVALID_ARGS;
    kobject_t *e[2];
    zx_status_t status = eventpair_create(e);
    if (status != ZX_OK)
        return status;
    return handle_table_publish_pair(process_current_handles(), e, ZX_DEFAULT_EVENTPAIR_RIGHTS,
                                     out0, out1);
}

/*
 * Clears then sets signals on the peer of the handle's object. Needs SIGNAL_PEER; the
 * masks may hold user signals and the object kind's own (ops->user_signals). Checks in
 * order: handle, right, whether the kind has peers, masks, peer alive.
 */
zx_status_t sys_object_signal_peer(zx_handle_t handle, uint32_t clear_mask, uint32_t set_mask) {
    kobject_t *obj;
    zx_status_t status = handle_table_get(process_current_handles(), handle, ZX_OBJ_TYPE_NONE,
                                          ZX_RIGHT_SIGNAL_PEER, &obj, NULL);
    if (status != ZX_OK)
        return status;
    zx_signals_t allowed = ZX_USER_SIGNAL_ALL | obj->ops->user_signals;
    if (obj->ops->signal_peer == NULL)
        status = ZX_ERR_NOT_SUPPORTED;
    else if (((clear_mask | set_mask) & ~allowed) != 0)
        status = ZX_ERR_INVALID_ARGS;
    else
        status = obj->ops->signal_peer(obj, clear_mask, set_mask);
    kobject_unref(obj);
    return status;
}
