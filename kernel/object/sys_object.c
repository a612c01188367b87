/*
 * zx_object_wait_one and zx_object_signal.
 */
#include "object_syscalls.h"

#include <object/handle.h>
#include <object/process.h>
#include <zircon/syscalls/object.h>

struct wait_one_ctx {
    handle_table_t *ht;
    zx_handle_t value;
    kobject_t *obj;
};

/* The wait stays valid while `value` still names the same object: a close, or a close
 * followed by a new handle landing on the same value, both cancel it. */
static bool wait_one_still_valid(void *arg) {
    struct wait_one_ctx *ctx = arg;
    kobject_t *obj;
    if (handle_table_get(ctx->ht, ctx->value, ZX_OBJ_TYPE_NONE, 0, &obj, NULL) != ZX_OK)
        return false;
    bool same = obj == ctx->obj;
    kobject_unref(obj); /* never the last: the waiter holds its own reference */
    return same;
}

/*
 * Waits for any of `signals` on the handle's object until `deadline`. Needs WAIT.
 * `observed` may be 0 (NULL); otherwise it receives the signal state at return (also on
 * TIMED_OUT and CANCELED), and a faulting write turns the result into INVALID_ARGS.
 */
zx_status_t sys_object_wait_one(zx_handle_t handle, zx_signals_t signals, zx_time_t deadline,
                                user_addr_t observed) {
    struct wait_one_ctx ctx = {process_current_handles(), handle, NULL};
    zx_status_t status =
        handle_table_get(ctx.ht, handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_WAIT, &ctx.obj, NULL);
    if (status != ZX_OK)
        return status;
    zx_signals_t state = 0;
    uthread_set_block_reason(ZX_THREAD_STATE_BLOCKED_WAIT_ONE);
    status = kobject_wait(ctx.obj, signals, deadline, wait_one_still_valid, &ctx, &state);
    uthread_set_block_reason(ZX_THREAD_STATE_BLOCKED);
    kobject_unref(ctx.obj);
    if (status == ZX_ERR_INTERNAL_INTR_KILLED)
        return status;
    if (status == ZX_ERR_CANCELED)
        state |= ZX_SIGNAL_HANDLE_CLOSED;
    if (observed != 0 && user_copy_to(observed, &state, sizeof(state)) != ZX_OK)
        return ZX_ERR_INVALID_ARGS;
    return status;
}

/* Sets and clears user signals (ZX_USER_SIGNAL_ALL and the kind's own ops->user_signals,
 * e.g. ZX_EVENT_SIGNALED) on the handle's object. Needs SIGNAL; the right is checked
 * before the masks, as in Zircon. */
zx_status_t sys_object_signal(zx_handle_t handle, uint32_t clear_mask, uint32_t set_mask) {
    kobject_t *obj;
    zx_status_t status = handle_table_get(process_current_handles(), handle, ZX_OBJ_TYPE_NONE,
                                          ZX_RIGHT_SIGNAL, &obj, NULL);
    if (status != ZX_OK)
        return status;
    if (((clear_mask | set_mask) & ~(ZX_USER_SIGNAL_ALL | obj->ops->user_signals)) != 0)
        status = ZX_ERR_INVALID_ARGS;
    else
        kobject_signal(obj, clear_mask, set_mask);
    kobject_unref(obj);
    return status;
}
