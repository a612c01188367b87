/*
 * Port packets (zx_port_queue, zx_port_wait, zx_object_wait_async), with Zircon's names,
 * values and layout: every packet is 48 bytes, a 16-byte header (key, type, status)
 * followed by a 32-byte payload whose meaning depends on the type.
 */
#ifndef ZIRCON_SYSCALLS_PORT_H
#define ZIRCON_SYSCALLS_PORT_H

#include <stdint.h>
#include <zircon/types.h>

/* zx_port_create options. */
#define ZX_PORT_BIND_TO_INTERRUPT ((uint32_t)(1u << 0))

/* zx_object_wait_async options. */
#define ZX_WAIT_ASYNC_ONCE ((uint32_t)0u)
#define ZX_WAIT_ASYNC_TIMESTAMP ((uint32_t)1u)
#define ZX_WAIT_ASYNC_EDGE ((uint32_t)2u)
#define ZX_WAIT_ASYNC_BOOT_TIMESTAMP ((uint32_t)4u)

/* Packet types. */
#define ZX_PKT_TYPE_USER ((uint8_t)0x00u)
#define ZX_PKT_TYPE_SIGNAL_ONE ((uint8_t)0x01u)
#define ZX_PKT_TYPE_GUEST_BELL ((uint8_t)0x03u)
#define ZX_PKT_TYPE_GUEST_MEM ((uint8_t)0x04u)
#define ZX_PKT_TYPE_GUEST_IO ((uint8_t)0x05u)
#define ZX_PKT_TYPE_GUEST_VCPU ((uint8_t)0x06u)
#define ZX_PKT_TYPE_INTERRUPT ((uint8_t)0x07u)
#define ZX_PKT_TYPE_PAGE_REQUEST ((uint8_t)0x09u)

#define ZX_PKT_IS_USER(type) ((type) == ZX_PKT_TYPE_USER)
#define ZX_PKT_IS_SIGNAL_ONE(type) ((type) == ZX_PKT_TYPE_SIGNAL_ONE)
#define ZX_PKT_IS_INTERRUPT(type) ((type) == ZX_PKT_TYPE_INTERRUPT)

/* A user packet's payload: 32 bytes the queuer chooses, seen through four views. */
typedef union zx_packet_user {
    uint64_t u64[4];
    uint32_t u32[8];
    uint16_t u16[16];
    uint8_t c8[32];
} zx_packet_user_t;

/* A ZX_PKT_TYPE_SIGNAL_ONE payload: the signals waited for, those asserted when the wait
 * was satisfied, a count (always 1) and, with ZX_WAIT_ASYNC_TIMESTAMP, when. */
typedef struct zx_packet_signal {
    zx_signals_t trigger;
    zx_signals_t observed;
    uint64_t count;
    zx_time_t timestamp;
    uint64_t reserved1;
} zx_packet_signal_t;

/* A ZX_PKT_TYPE_INTERRUPT payload (Beryl queues none: no interrupt objects). */
typedef struct zx_packet_interrupt {
    zx_time_t timestamp;
    uint64_t reserved0;
    uint64_t reserved1;
    uint64_t reserved2;
} zx_packet_interrupt_t;

typedef struct zx_port_packet {
    uint64_t key;
    uint32_t type;
    zx_status_t status;
    union {
        zx_packet_user_t user;
        zx_packet_signal_t signal;
        zx_packet_interrupt_t interrupt;
    };
} zx_port_packet_t;

_Static_assert(sizeof(zx_port_packet_t) == 48, "Zircon's port packets are 48 bytes");

#endif
