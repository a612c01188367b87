/*
 * zx_timer_create, zx_timer_set and zx_timer_cancel (the timer object is
 * kernel/object/timer.c).
 */
#include <kernel/syscall_impl.h>
#include <object/handle_user.h>
#include <object/process.h>
#include <object/timer.h>
#include <zircon/rights.h>

/* Checks in order: options (a ZX_TIMER_SLACK_* value), clock_id (ZX_CLOCK_MONOTONIC). */
zx_status_t sys_timer_create(uint32_t options, zx_clock_t clock_id, user_addr_t out) {
    if (options > TIMER_SLACK_OPTIONS_MAX || clock_id != ZX_CLOCK_MONOTONIC)
        return ZX_ERR_INVALID_ARGS;
    kobject_t *timer;
    zx_status_t st = timer_create(options, &timer);
    if (st != ZX_OK)
        return st;
    st = handle_table_publish(process_current_handles(), timer, ZX_DEFAULT_TIMER_RIGHTS, out,
                              NULL);
    kobject_unref(timer); /* the handle holds it now, or nothing does */
    return st;
}

/* Needs WRITE on a timer; slack must not be negative. */
zx_status_t sys_timer_set(zx_handle_t handle, zx_time_t deadline, zx_duration_t slack) {
    kobject_t *timer;
    zx_status_t st = handle_table_get(process_current_handles(), handle, ZX_OBJ_TYPE_TIMER,
                                      ZX_RIGHT_WRITE, &timer, NULL);
    if (st != ZX_OK)
        return st;
    if (slack < 0)
        st = ZX_ERR_OUT_OF_RANGE;
    else
        timer_set(timer, deadline, slack);
    kobject_unref(timer);
    return st;
}

/* Needs WRITE on a timer. */
zx_status_t sys_timer_cancel(zx_handle_t handle) {
    kobject_t *timer;
    zx_status_t st = handle_table_get(process_current_handles(), handle, ZX_OBJ_TYPE_TIMER,
                                      ZX_RIGHT_WRITE, &timer, NULL);
    if (st != ZX_OK)
        return st;
    timer_cancel(timer);
    kobject_unref(timer);
    return ZX_OK;
}
