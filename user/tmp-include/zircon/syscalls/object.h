/* TEMPORARY stand-in for <zircon/syscalls/object.h> (see ../../README.md): only what the runtime uses. */
#ifndef ZIRCON_SYSCALLS_OBJECT_H
#define ZIRCON_SYSCALLS_OBJECT_H

#include <zircon/types.h>

#define ZX_INFO_PROCESS ((uint32_t)0x10000003u)
#define ZX_INFO_VMAR ((uint32_t)7u)
#define ZX_INFO_KMEM_STATS ((uint32_t)0x10000011u)

#define ZX_INFO_PROCESS_FLAG_STARTED ((uint32_t)(1u << 0))
#define ZX_INFO_PROCESS_FLAG_EXITED ((uint32_t)(1u << 1))

typedef struct zx_info_process {
    int64_t return_code;
    zx_time_t start_time;
    uint32_t flags;
    uint8_t padding1[4];
} zx_info_process_t;

typedef struct zx_info_vmar {
    uintptr_t base;
    size_t len;
} zx_info_vmar_t;

typedef struct zx_info_kmem_stats {
    uint64_t total_bytes;
    uint64_t free_bytes;
    uint64_t free_loaned_bytes;
    uint64_t wired_bytes;
    uint64_t total_heap_bytes;
    uint64_t free_heap_bytes;
    uint64_t vmo_bytes;
    uint64_t mmu_overhead_bytes;
    uint64_t ipc_bytes;
    uint64_t cache_bytes;
    uint64_t slab_bytes;
    uint64_t zram_bytes;
    uint64_t other_bytes;
    uint64_t vmo_reclaim_total_bytes;
    uint64_t vmo_reclaim_newest_bytes;
    uint64_t vmo_reclaim_oldest_bytes;
    uint64_t vmo_reclaim_disabled_bytes;
    uint64_t vmo_discardable_locked_bytes;
    uint64_t vmo_discardable_unlocked_bytes;
} zx_info_kmem_stats_t;

#endif
