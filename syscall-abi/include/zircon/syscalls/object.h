/*
 * zx_object_get_info / property ABI: MINIMAL VERSION written by the VMO/VMAR work
 * (wip-vmsys) with only what that work needs. Another part of the project owns the full
 * header; when both exist, keep the full one and check the two structs below against it
 * (layouts follow the newest Zircon syscalls/object.h).
 */
#ifndef ZIRCON_SYSCALLS_OBJECT_H
#define ZIRCON_SYSCALLS_OBJECT_H

#include <stddef.h>
#include <stdint.h>
#include <zircon/types.h>

#define ZX_INFO_VMAR ((uint32_t)7u)
#define ZX_INFO_VMO ((uint32_t)(23u | (3u << 28)))

#define ZX_PROP_NAME ((uint32_t)3u)
#define ZX_PROP_VMO_CONTENT_SIZE ((uint32_t)17u)

/* zx_info_vmo_t.flags */
#define ZX_INFO_VMO_TYPE_PAGED (1u << 0)
#define ZX_INFO_VMO_TYPE_PHYSICAL (0u << 0)
#define ZX_INFO_VMO_TYPE(flags) ((flags) & (1u << 0))
#define ZX_INFO_VMO_RESIZABLE (1u << 1)
#define ZX_INFO_VMO_IS_COW_CLONE (1u << 2)
#define ZX_INFO_VMO_VIA_HANDLE (1u << 3)
#define ZX_INFO_VMO_VIA_MAPPING (1u << 4)
#define ZX_INFO_VMO_PAGER_BACKED (1u << 5)
#define ZX_INFO_VMO_CONTIGUOUS (1u << 6)
#define ZX_INFO_VMO_DISCARDABLE (1u << 7)
#define ZX_INFO_VMO_IMMUTABLE (1u << 8)
#define ZX_INFO_VMO_VIA_IOB_HANDLE (1u << 9)

typedef struct zx_info_vmar {
    uintptr_t base;
    size_t len;
} zx_info_vmar_t;

/* ZX_INFO_VMO (version 3 of the topic, newest layout). */
typedef struct zx_info_vmo {
    zx_koid_t koid;
    char name[ZX_MAX_NAME_LEN];
    uint64_t size_bytes;
    zx_koid_t parent_koid;
    size_t num_children;
    size_t num_mappings;
    size_t share_count;
    uint32_t flags;
    uint8_t padding1[4];
    uint64_t committed_bytes;
    zx_rights_t handle_rights;
    uint32_t cache_policy;
    uint64_t metadata_bytes;
    uint64_t committed_change_events;
    uint64_t populated_bytes;
    uint64_t committed_private_bytes;
    uint64_t populated_private_bytes;
    uint64_t committed_scaled_bytes;
    uint64_t populated_scaled_bytes;
    uint64_t committed_fractional_scaled_bytes;
    uint64_t populated_fractional_scaled_bytes;
} zx_info_vmo_t;

_Static_assert(sizeof(zx_info_vmo_t) == 176, "zx_info_vmo_t layout");
_Static_assert(sizeof(zx_info_vmar_t) == 16, "zx_info_vmar_t layout");

#endif
