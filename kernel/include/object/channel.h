/*
 * Channels: a pair of endpoints carrying messages of bytes and handles (Zircon channel
 * semantics). Each endpoint is a kobject (ZX_OBJ_TYPE_CHANNEL); a message written to
 * one end is queued on its peer. Signals: READABLE while the queue is non-empty,
 * PEER_CLOSED once the other end's last handle is closed (then writes fail with
 * ZX_ERR_PEER_CLOSED; reads drain what is queued and then return PEER_CLOSED).
 * ZX_CHANNEL_WRITABLE is set while the peer is open. An endpoint whose handles all sit
 * in containers nothing outside reaches (its own queue, a cycle of queues, the table of
 * a family nobody can start) is closed by the handle-cycle collector (object/gc.h) as if
 * its last handle had been closed.
 */
#ifndef OBJECT_CHANNEL_H
#define OBJECT_CHANNEL_H

#include <object/handle.h>

typedef struct channel channel_t;

/* Creates both endpoints; each *out holds one reference (no handles yet). */
zx_status_t channel_create(channel_t **out0, channel_t **out1);

static inline kobject_t *channel_kobj(channel_t *c) { return (kobject_t *)c; }

/*
 * Queues a message on the peer of `c`. Bytes are copied from kernel memory; the handles
 * are consumed (ownership moves into the message) on success AND on failure (failure
 * releases them). Errors: ZX_ERR_OUT_OF_RANGE (more than ZX_CHANNEL_MAX_MSG_BYTES /
 * _HANDLES), ZX_ERR_PEER_CLOSED, ZX_ERR_NO_MEMORY.
 */
zx_status_t channel_write_kernel(channel_t *c, const void *bytes, uint32_t num_bytes,
                                 handle_ref_t *handles, uint32_t num_handles);

/*
 * Reads the oldest message queued on `c` into kernel memory. *num_bytes / *num_handles
 * give the capacities of bytes / handles on entry and receive the message's sizes on
 * ZX_OK and on ZX_ERR_BUFFER_TOO_SMALL (the message then stays queued). On ZX_OK the
 * message is dequeued and its handles move to handles[] (the caller owns them and
 * eventually adds them to a table or handle_ref_release's them). Errors:
 * ZX_ERR_SHOULD_WAIT (queue empty, peer open), ZX_ERR_PEER_CLOSED (queue empty, peer
 * closed), ZX_ERR_BUFFER_TOO_SMALL.
 */
zx_status_t channel_read_kernel(channel_t *c, void *bytes, uint32_t *num_bytes,
                                handle_ref_t *handles, uint32_t *num_handles);

/*
 * Lifetime note: the two endpoints hold references to each other until the last handle
 * (handle_ref, in a table or in flight) of either one is closed. An endpoint that never
 * gets a handle therefore stays alive until its peer's handles are all gone; kernel code
 * that owns an endpoint should hold it as a handle_ref_t (handle_ref_init) and drop it
 * with handle_ref_release, which also tells the peer PEER_CLOSED.
 */

#endif
