/*
 * Channels: a pair of endpoints carrying messages of bytes and handles (Zircon channel
 * semantics). Each endpoint is a kobject (ZX_OBJ_TYPE_CHANNEL); a message written to
 * one end is queued on its peer. Signals: READABLE while the queue is non-empty,
 * PEER_CLOSED once the other end's last handle is closed (then writes fail with
 * ZX_ERR_PEER_CLOSED; reads drain what is queued and then return PEER_CLOSED).
 * ZX_CHANNEL_WRITABLE is set while the peer is open.
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

#endif
