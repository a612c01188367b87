/*
 * Events and event pairs (kernel/object/event.c): objects with nothing but signals. An
 * event pair's two sides are peers: zx_object_signal_peer reaches the other side, and a
 * side whose last handle goes asserts ZX_EVENTPAIR_PEER_CLOSED on the other.
 */
#ifndef OBJECT_EVENT_H
#define OBJECT_EVENT_H

#include <object/kobject.h>

/* Creates an event with no signals; *out holds the one reference. ZX_ERR_NO_MEMORY. */
zx_status_t event_create(kobject_t **out);

/* Creates a linked pair; out[0] and out[1] each hold one reference (the caller's). The
 * link is cut when either side's last handle goes, so the caller must make handles of
 * both (or release them as handles) for the pair to come apart. ZX_ERR_NO_MEMORY. */
zx_status_t eventpair_create(kobject_t *out[2]);

#endif
