/*
 * zx_port_create, zx_port_queue, zx_port_wait, zx_object_wait_async and zx_port_cancel
 * (the port object is kernel/object/port.c).
 */
#include <kernel/syscall_impl.h>
#include <object/handle_user.h>
#include <object/port.h>
#include <object/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls/object.h>

/* options must be 0: ZX_PORT_BIND_TO_INTERRUPT is NOT_SUPPORTED (Beryl has no interrupt
 * objects to bind), anything else INVALID_ARGS. */
zx_status_t sys_port_create(uint32_t options, user_addr_t out) {
    if (options == ZX_PORT_BIND_TO_INTERRUPT)
        return ZX_ERR_NOT_SUPPORTED;
    if (options != 0)
        return ZX_ERR_INVALID_ARGS;
    kobject_t *port;
    zx_status_t st = port_create(&port);
    if (st != ZX_OK)
        return st;
    st = handle_table_publish(process_current_handles(), port, ZX_DEFAULT_PORT_RIGHTS, out, NULL);
    kobject_unref(port); /* the handle holds it now, or nothing does */
    return st;
}

/* Needs WRITE on a port; reads the packet after the handle checks. */
zx_status_t sys_port_queue(zx_handle_t handle, user_addr_t packet) {
    kobject_t *port;
    zx_status_t st = handle_table_get(process_current_handles(), handle, ZX_OBJ_TYPE_PORT,
                                      ZX_RIGHT_WRITE, &port, NULL);
    if (st != ZX_OK)
        return st;
    zx_port_packet_t pk;
    if (user_copy_from(&pk, packet, sizeof(pk)) != ZX_OK)
        st = ZX_ERR_INVALID_ARGS;
    else
        st = port_queue_user(port, &pk);
    kobject_unref(port);
    return st;
}

/* Needs READ on a port. The out pointer is checked before anything is dequeued, so a bad
 * pointer loses no packet; a fault in the copy itself (memory unmapped meanwhile) does. */
zx_status_t sys_port_wait(zx_handle_t handle, zx_time_t deadline, user_addr_t packet) {
    kobject_t *port;
    zx_status_t st = handle_table_get(process_current_handles(), handle, ZX_OBJ_TYPE_PORT,
                                      ZX_RIGHT_READ, &port, NULL);
    if (st != ZX_OK)
        return st;
    if (!user_range_ok(packet, sizeof(zx_port_packet_t))) {
        kobject_unref(port);
        return ZX_ERR_INVALID_ARGS;
    }
    zx_port_packet_t pk;
    uthread_set_block_reason(ZX_THREAD_STATE_BLOCKED_PORT);
    st = port_wait(port, deadline, &pk);
    uthread_set_block_reason(ZX_THREAD_STATE_BLOCKED);
    kobject_unref(port);
    if (st == ZX_OK && user_copy_to(packet, &pk, sizeof(pk)) != ZX_OK)
        st = ZX_ERR_INVALID_ARGS;
    return st;
}

/* Checks in order: options, the port (WRITE), the handle (WAIT). */
zx_status_t sys_object_wait_async(zx_handle_t handle, zx_handle_t port, uint64_t key,
                                  zx_signals_t signals, uint32_t options) {
    if ((options & ~(uint32_t)PORT_WAIT_ASYNC_OPTIONS) != 0 ||
        (options & ZX_WAIT_ASYNC_TIMESTAMP && options & ZX_WAIT_ASYNC_BOOT_TIMESTAMP))
        return ZX_ERR_INVALID_ARGS;
    handle_table_t *ht = process_current_handles();
    struct handle_get g[2] = {
        {.value = port, .type = ZX_OBJ_TYPE_PORT, .required = ZX_RIGHT_WRITE},
        {.value = handle, .type = ZX_OBJ_TYPE_NONE, .required = ZX_RIGHT_WAIT},
    };
    zx_status_t st = handle_table_get2(ht, g);
    if (st != ZX_OK)
        return st;
    st = port_wait_async(g[0].obj, g[1].obj, ht, handle, key, signals, options);
    if (st == ZX_OK) {
        /* A close that came before the binding was added found nothing to cancel: the
         * binding must not outlive the handle, so cancel it now. */
        kobject_t *now;
        bool same = handle_table_get(ht, handle, ZX_OBJ_TYPE_NONE, 0, &now, NULL) == ZX_OK;
        if (same) {
            same = now == g[1].obj;
            kobject_unref(now);
        }
        if (!same)
            kobject_cancel_handle(g[1].obj, ht, handle);
    }
    kobject_unref(g[0].obj);
    kobject_unref(g[1].obj);
    return st;
}

/* Needs WRITE on the port; source is named only to pick the bindings (no right). */
zx_status_t sys_port_cancel(zx_handle_t handle, zx_handle_t source, uint64_t key) {
    handle_table_t *ht = process_current_handles();
    struct handle_get g[2] = {
        {.value = handle, .type = ZX_OBJ_TYPE_PORT, .required = ZX_RIGHT_WRITE},
        {.value = source, .type = ZX_OBJ_TYPE_NONE, .required = ZX_RIGHT_NONE},
    };
    zx_status_t st = handle_table_get2(ht, g);
    if (st != ZX_OK)
        return st;
    st = port_cancel(g[0].obj, g[1].obj, ht, source, key);
    kobject_unref(g[0].obj);
    kobject_unref(g[1].obj);
    return st;
}
