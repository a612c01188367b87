/*
 * Channel internals shared by channel.c and the channel syscalls (sys_channel.c): the
 * message type and the queue operations the syscalls build on.
 */
#ifndef OBJECT_CHANNEL_PRIV_H
#define OBJECT_CHANNEL_PRIV_H

#include <lib/list.h>
#include <object/channel.h>

/* One message: a single kmalloc'ed block holding this header, the handles, the bytes. */
typedef struct channel_msg {
    struct list_node node;    /* in its endpoint's queue */
    struct list_node gc_link; /* in its endpoint's gc_msgs while queued, if counted > 0 */
    uint32_t counted;         /* handles the collector counts (object/gc.h), set when queued */
    uint32_t num_bytes;
    uint32_t num_handles;
    handle_ref_t *handles; /* num_handles entries; an entry with obj == NULL is empty */
    uint8_t *bytes;        /* num_bytes bytes */
} channel_msg_t;

/* Allocates a message with room for the given sizes (handles all empty). Sizes must be
 * within the channel limits. Returns NULL when out of memory. */
channel_msg_t *channel_msg_alloc(uint32_t num_bytes, uint32_t num_handles);

/* Releases every handle left in m and frees it. Call with no lock held: releasing a
 * handle may close another channel. NULL is ignored. */
void channel_msg_free(channel_msg_t *m);

/* Queues m on the peer of c. Consumes m on success and on failure
 * (ZX_ERR_PEER_CLOSED: m is freed and its handles released). No lock held: a message
 * carrying handles the collector tracks is queued under the gc lock, and whatever it
 * made unreachable is collected before this returns. */
zx_status_t channel_write_msg(channel_t *c, channel_msg_t *m);

/*
 * Takes the oldest message off c's queue if it fits in byte_cap / handle_cap.
 * *actual_bytes / *actual_handles receive its sizes on ZX_OK and ZX_ERR_BUFFER_TOO_SMALL.
 * BUFFER_TOO_SMALL leaves it queued unless may_discard, which drops it (handles
 * released). ZX_ERR_SHOULD_WAIT / ZX_ERR_PEER_CLOSED when the queue is empty.
 */
zx_status_t channel_dequeue(channel_t *c, uint32_t byte_cap, uint32_t handle_cap,
                            bool may_discard, channel_msg_t **out, uint32_t *actual_bytes,
                            uint32_t *actual_handles);

/* Puts a message taken by channel_dequeue back at the head of c's queue (used when the
 * copy to the reader failed), so it is read again next; if c was closed meanwhile (its
 * last handle went, or the collector closed it) the message is freed instead. */
void channel_requeue_front(channel_t *c, channel_msg_t *m);

#endif
