/*
 * Ports (kernel/object/port.c): queues of zx_port_packet_t that threads wait on. User
 * packets come from zx_port_queue (at most PORT_MAX_USER_PACKETS queued per port);
 * signal packets from bindings made with zx_object_wait_async, which are observers
 * (object/kobject.h) on the waited object carrying their packet inside, so a signal
 * change never allocates.
 */
#ifndef OBJECT_PORT_H
#define OBJECT_PORT_H

#include <object/kobject.h>
#include <zircon/syscalls/port.h>

/* User packets one port holds at once before zx_port_queue says ZX_ERR_SHOULD_WAIT
 * (Zircon's per-port allowance). */
#define PORT_MAX_USER_PACKETS 2048u

/* Cancelled signal packets a zx_port_cancel looks at per hold of the port's lock. */
#define PORT_CANCEL_BATCH 64u

/* The options zx_object_wait_async accepts. */
#define PORT_WAIT_ASYNC_OPTIONS                                                           \
    (ZX_WAIT_ASYNC_TIMESTAMP | ZX_WAIT_ASYNC_EDGE | ZX_WAIT_ASYNC_BOOT_TIMESTAMP)

/* Creates an empty port; *out holds the one reference. ZX_ERR_NO_MEMORY. */
zx_status_t port_create(kobject_t **out);

/* Queues a copy of *packet as a user packet (type forced to ZX_PKT_TYPE_USER). Returns
 * ZX_OK, ZX_ERR_SHOULD_WAIT (PORT_MAX_USER_PACKETS queued) or ZX_ERR_NO_MEMORY. */
zx_status_t port_queue_user(kobject_t *port, const zx_port_packet_t *packet);

/* Takes the oldest packet into *out, blocking until deadline. Returns ZX_OK,
 * ZX_ERR_TIMED_OUT or ZX_ERR_INTERNAL_INTR_KILLED. */
zx_status_t port_wait(kobject_t *port, zx_time_t deadline, zx_port_packet_t *out);

/*
 * Binds target's signals to port: when any of `signals` is asserted (now, unless options
 * has ZX_WAIT_ASYNC_EDGE; else on a later rise) one ZX_PKT_TYPE_SIGNAL_ONE packet with
 * `key` is queued and the binding ends. The binding is tied to handle `value` of table
 * ht (the handle target was looked up through): removing it cancels the binding.
 * Returns ZX_OK, ZX_ERR_NO_MEMORY, ZX_ERR_NO_RESOURCES (target has
 * KOBJECT_MAX_OBSERVERS) or ZX_ERR_BAD_HANDLE (the port's last handle went meanwhile).
 */
zx_status_t port_wait_async(kobject_t *port, kobject_t *target, struct handle_table *ht,
                            zx_handle_t value, uint64_t key, zx_signals_t signals,
                            uint32_t options);

/* Removes the bindings of port on target made through handle (ht, value) with `key`,
 * and their queued packets. Returns ZX_OK, or ZX_ERR_NOT_FOUND when there was none. */
zx_status_t port_cancel(kobject_t *port, kobject_t *target, struct handle_table *ht,
                        zx_handle_t value, uint64_t key);

#endif
