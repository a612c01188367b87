/*
 * zx_object_get_info topics and records, and zx_object_{get,set}_property keys.
 * Values, field names and layouts follow Zircon's newest public
 * <zircon/syscalls/object.h>, so a record Beryl writes reads the same as Zircon's. The
 * layouts are checked by the _Static_asserts at the end. Shared by the kernel and user
 * space (freestanding: only <zircon/types.h> is needed).
 */
#ifndef ZIRCON_SYSCALLS_OBJECT_H
#define ZIRCON_SYSCALLS_OBJECT_H

#include <zircon/types.h>

/* A versioned topic keeps its version in the top 4 bits. */
#define __ZX_INFO_TOPIC(t, v) ((zx_object_info_topic_t)((t) | ((v) << 28)))

typedef uint32_t zx_object_info_topic_t;

/* Topics; the comment gives the record type and whether it is one record or an array. */
#define ZX_INFO_NONE ((zx_object_info_topic_t)0u)
#define ZX_INFO_HANDLE_VALID ((zx_object_info_topic_t)1u)
#define ZX_INFO_HANDLE_BASIC ((zx_object_info_topic_t)2u)              /* zx_info_handle_basic_t[1] */
#define ZX_INFO_PROCESS __ZX_INFO_TOPIC(3u, 1u)                 /* zx_info_process_t[1] */
#define ZX_INFO_PROCESS_THREADS ((zx_object_info_topic_t)4u)            /* zx_koid_t[n] */
#define ZX_INFO_VMAR ((zx_object_info_topic_t)7u)                       /* zx_info_vmar_t[1] */
#define ZX_INFO_JOB_CHILDREN ((zx_object_info_topic_t)8u)               /* zx_koid_t[n] */
#define ZX_INFO_JOB_PROCESSES ((zx_object_info_topic_t)9u)              /* zx_koid_t[n] */
#define ZX_INFO_THREAD ((zx_object_info_topic_t)10u)                    /* zx_info_thread_t[1] */
#define ZX_INFO_THREAD_EXCEPTION_REPORT_V1 __ZX_INFO_TOPIC(11u, 0u)
#define ZX_INFO_THREAD_EXCEPTION_REPORT __ZX_INFO_TOPIC(11u, 1u)
#define ZX_INFO_TASK_STATS_V1 __ZX_INFO_TOPIC(12u, 0u)
#define ZX_INFO_TASK_STATS __ZX_INFO_TOPIC(12u, 1u)                     /* zx_info_task_stats_t[1] */
#define ZX_INFO_PROCESS_MAPS_V1 __ZX_INFO_TOPIC(13u, 0u)
#define ZX_INFO_PROCESS_MAPS_V2 __ZX_INFO_TOPIC(13u, 1u)
#define ZX_INFO_PROCESS_MAPS __ZX_INFO_TOPIC(13u, 2u)           /* zx_info_maps_t[n] */
#define ZX_INFO_PROCESS_VMOS_V1 __ZX_INFO_TOPIC(14u, 0u)
#define ZX_INFO_PROCESS_VMOS_V2 __ZX_INFO_TOPIC(14u, 1u)
#define ZX_INFO_PROCESS_VMOS_V3 __ZX_INFO_TOPIC(14u, 2u)
#define ZX_INFO_PROCESS_VMOS __ZX_INFO_TOPIC(14u, 3u)           /* zx_info_vmo_t[n] */
#define ZX_INFO_THREAD_STATS ((zx_object_info_topic_t)15u)              /* zx_info_thread_stats_t[1] */
#define ZX_INFO_CPU_STATS ((zx_object_info_topic_t)16u)
#define ZX_INFO_KMEM_STATS_V1 __ZX_INFO_TOPIC(17u, 0u)
#define ZX_INFO_KMEM_STATS __ZX_INFO_TOPIC(17u, 1u)             /* zx_info_kmem_stats_t[1] */
#define ZX_INFO_RESOURCE ((zx_object_info_topic_t)18u)
#define ZX_INFO_HANDLE_COUNT ((zx_object_info_topic_t)19u)            /* zx_info_handle_count_t[1] */
#define ZX_INFO_BTI ((zx_object_info_topic_t)20u)
#define ZX_INFO_PROCESS_HANDLE_STATS ((zx_object_info_topic_t)21u)    /* zx_info_process_handle_stats_t[1] */
#define ZX_INFO_SOCKET ((zx_object_info_topic_t)22u)
#define ZX_INFO_VMO_V1 __ZX_INFO_TOPIC(23u, 0u)
#define ZX_INFO_VMO_V2 __ZX_INFO_TOPIC(23u, 1u)
#define ZX_INFO_VMO_V3 __ZX_INFO_TOPIC(23u, 2u)
#define ZX_INFO_VMO __ZX_INFO_TOPIC(23u, 3u)                    /* zx_info_vmo_t[1] */
#define ZX_INFO_JOB ((zx_object_info_topic_t)24u)                     /* zx_info_job_t[1] */
#define ZX_INFO_TIMER ((zx_object_info_topic_t)25u)
#define ZX_INFO_STREAM ((zx_object_info_topic_t)26u)
#define ZX_INFO_HANDLE_TABLE ((zx_object_info_topic_t)27u)            /* zx_info_handle_extended_t[n] */
#define ZX_INFO_MSI ((zx_object_info_topic_t)28u)
#define ZX_INFO_GUEST_STATS ((zx_object_info_topic_t)29u)
#define ZX_INFO_TASK_RUNTIME_V1 __ZX_INFO_TOPIC(30u, 0u)
#define ZX_INFO_TASK_RUNTIME __ZX_INFO_TOPIC(30u, 1u)                   /* zx_info_task_runtime_t[1] */
#define ZX_INFO_KMEM_STATS_EXTENDED ((zx_object_info_topic_t)31u)
#define ZX_INFO_VCPU ((zx_object_info_topic_t)32u)
#define ZX_INFO_KMEM_STATS_COMPRESSION ((zx_object_info_topic_t)33u)
#define ZX_INFO_IOB ((zx_object_info_topic_t)34u)
#define ZX_INFO_IOB_REGIONS ((zx_object_info_topic_t)35u)
#define ZX_INFO_VMAR_MAPS ((zx_object_info_topic_t)36u)                 /* zx_info_maps_t[n] */
#define ZX_INFO_MEMORY_STALL ((zx_object_info_topic_t)38u)
#define ZX_INFO_INTERRUPT ((zx_object_info_topic_t)39u)
#define ZX_INFO_CLOCK_MAPPED_SIZE ((zx_object_info_topic_t)40u)

/* The return code of a task that was killed rather than exiting by itself. */
#define ZX_TASK_RETCODE_SYSCALL_KILL ((int64_t)-1024)          /* zx_task_kill */
#define ZX_TASK_RETCODE_OOM_KILL ((int64_t)-1025)              /* out of memory */
#define ZX_TASK_RETCODE_POLICY_KILL ((int64_t)-1026)           /* a job policy */
#define ZX_TASK_RETCODE_VDSO_KILL ((int64_t)-1027)             /* the vDSO */
#define ZX_TASK_RETCODE_EXCEPTION_KILL ((int64_t)-1028)        /* an unhandled exception */
#define ZX_TASK_RETCODE_CRITICAL_PROCESS_KILL ((int64_t)-1029) /* a critical process died */

/* Property keys (zx_object_get_property / zx_object_set_property). */
#define ZX_PROP_REGISTER_GS ((uint32_t)2u)                  /* uintptr_t (thread) */
#define ZX_PROP_NAME ((uint32_t)3u)                         /* char[ZX_MAX_NAME_LEN] */
#define ZX_PROP_REGISTER_FS ((uint32_t)4u)                  /* uintptr_t (thread) */
#define ZX_PROP_PROCESS_DEBUG_ADDR ((uint32_t)5u)           /* uintptr_t */
#define ZX_PROP_PROCESS_VDSO_BASE_ADDRESS ((uint32_t)6u)    /* uintptr_t */
#define ZX_PROP_PROCESS_BREAK_ON_LOAD ((uint32_t)7u)        /* uintptr_t */
#define ZX_PROP_PROCESS_HW_TRACE_CONTEXT_ID ((uint32_t)8u)  /* uintptr_t */
#define ZX_PROP_SOCKET_RX_THRESHOLD 12u                     /* size_t */
#define ZX_PROP_SOCKET_TX_THRESHOLD 13u                     /* size_t */
#define ZX_PROP_JOB_KILL_ON_OOM 15u                         /* size_t */
#define ZX_PROP_EXCEPTION_STATE 16u                         /* uint32_t */
#define ZX_PROP_VMO_CONTENT_SIZE 17u                        /* uint64_t */
#define ZX_PROP_EXCEPTION_STRATEGY 18u                      /* uint32_t */
#define ZX_PROP_STREAM_MODE_APPEND 19u                      /* uint8_t */

/* ZX_PROP_EXCEPTION_STATE and ZX_PROP_EXCEPTION_STRATEGY values. */
#define ZX_EXCEPTION_STATE_TRY_NEXT 0u
#define ZX_EXCEPTION_STATE_HANDLED 1u
#define ZX_EXCEPTION_STATE_THREAD_EXIT 2u
#define ZX_EXCEPTION_STRATEGY_FIRST_CHANCE 0u
#define ZX_EXCEPTION_STRATEGY_SECOND_CHANCE 1u

/* ZX_INFO_HANDLE_BASIC */
typedef struct zx_info_handle_basic {
    zx_koid_t koid;          /* the object's koid */
    zx_rights_t rights;      /* the handle's rights */
    zx_obj_type_t type;      /* ZX_OBJ_TYPE_* */
    zx_koid_t related_koid;  /* e.g. the channel peer or a thread's process; else 0 */
    uint32_t reserved;
    uint8_t padding1[4];
} zx_info_handle_basic_t;

/* ZX_INFO_PROCESS */
typedef uint32_t zx_info_process_flags_t;
#define ZX_INFO_PROCESS_FLAG_STARTED ((zx_info_process_flags_t)(1u << 0))
#define ZX_INFO_PROCESS_FLAG_EXITED ((zx_info_process_flags_t)(1u << 1))
#define ZX_INFO_PROCESS_FLAG_DEBUGGER_ATTACHED ((zx_info_process_flags_t)(1u << 2))

typedef struct zx_info_process {
    int64_t return_code;           /* valid once ZX_INFO_PROCESS_FLAG_EXITED is set */
    zx_time_t start_time;          /* monotonic time of zx_process_start, if STARTED */
    zx_info_process_flags_t flags; /* ZX_INFO_PROCESS_FLAG_* */
    uint8_t padding1[4];
} zx_info_process_t;

/* ZX_INFO_HANDLE_TABLE: one record per handle of the process. */
typedef struct zx_info_handle_extended {
    zx_obj_type_t type;
    zx_handle_t handle_value;   /* meaningful only in the process asked about */
    zx_rights_t rights;
    uint32_t reserved;
    zx_koid_t koid;
    zx_koid_t related_koid;
    zx_koid_t peer_owner_koid;
} zx_info_handle_extended_t;

/* ZX_INFO_HANDLE_COUNT */
typedef struct zx_info_handle_count {
    uint32_t handle_count;      /* handles to the object, in any process */
} zx_info_handle_count_t;

/* ZX_INFO_PROCESS_HANDLE_STATS: the process's handles counted by object type. */
typedef struct zx_info_process_handle_stats {
    uint32_t handle_count[ZX_OBJ_TYPE_UPPER_BOUND];
} zx_info_process_handle_stats_t;

/* ZX_INFO_JOB */
typedef struct zx_info_job {
    int64_t return_code;        /* valid once exited */
    bool exited;
    bool kill_on_oom;
    bool debugger_attached;
    uint8_t padding1[5];
} zx_info_job_t;

/* ZX_INFO_TASK_STATS (version 1, the newest): memory mapped into a process. */
typedef struct zx_info_task_stats {
    size_t mem_mapped_bytes;              /* all mapped ranges, committed or not */
    size_t mem_private_bytes;             /* committed, reachable by this task alone */
    size_t mem_shared_bytes;              /* committed, shared with other tasks or VMOs */
    size_t mem_scaled_shared_bytes;       /* each shared byte divided by its sharers */
    uint64_t mem_fractional_scaled_shared_bytes; /* truncated fraction, 63-bit fixed point */
} zx_info_task_stats_t;

/* ZX_INFO_TASK_RUNTIME (version 1, the newest). */
typedef struct zx_info_task_runtime {
    zx_duration_t cpu_time;
    zx_duration_t queue_time;
    zx_duration_t page_fault_time;
    zx_duration_t lock_contention_time;
} zx_info_task_runtime_t;

/* ZX_INFO_THREAD */
typedef uint32_t zx_thread_state_t;

typedef struct zx_info_thread {
    zx_thread_state_t state;               /* ZX_THREAD_STATE_* */
    uint32_t wait_exception_channel_type;  /* ZX_EXCEPTION_CHANNEL_TYPE_* (exception.h) */
    zx_cpu_set_t cpu_affinity_mask;
} zx_info_thread_t;

#define ZX_THREAD_STATE_NEW ((zx_thread_state_t)0x0000u)
#define ZX_THREAD_STATE_RUNNING ((zx_thread_state_t)0x0001u)
#define ZX_THREAD_STATE_SUSPENDED ((zx_thread_state_t)0x0002u)
/* BLOCKED is only ever reported with a reason in bits 8..15 (below). */
#define ZX_THREAD_STATE_BLOCKED ((zx_thread_state_t)0x0003u)
#define ZX_THREAD_STATE_DYING ((zx_thread_state_t)0x0004u)
#define ZX_THREAD_STATE_DEAD ((zx_thread_state_t)0x0005u)
#define ZX_THREAD_STATE_BLOCKED_EXCEPTION ((zx_thread_state_t)0x0103u)
#define ZX_THREAD_STATE_BLOCKED_SLEEPING ((zx_thread_state_t)0x0203u)
#define ZX_THREAD_STATE_BLOCKED_FUTEX ((zx_thread_state_t)0x0303u)
#define ZX_THREAD_STATE_BLOCKED_PORT ((zx_thread_state_t)0x0403u)
#define ZX_THREAD_STATE_BLOCKED_CHANNEL ((zx_thread_state_t)0x0503u)
#define ZX_THREAD_STATE_BLOCKED_WAIT_ONE ((zx_thread_state_t)0x0603u)
#define ZX_THREAD_STATE_BLOCKED_WAIT_MANY ((zx_thread_state_t)0x0703u)
#define ZX_THREAD_STATE_BLOCKED_INTERRUPT ((zx_thread_state_t)0x0803u)
#define ZX_THREAD_STATE_BLOCKED_PAGER ((zx_thread_state_t)0x0903u)
/* The basic state (NEW .. DEAD) of a possibly more precise one. */
#define ZX_THREAD_STATE_BASIC(n) ((n) & 0xffu)

/* ZX_INFO_THREAD_STATS */
typedef struct zx_info_thread_stats {
    zx_duration_t total_runtime;  /* nanoseconds the thread has run on any CPU */
    uint32_t last_scheduled_cpu;  /* the CPU it last ran on, or ZX_INFO_INVALID_CPU */
    uint8_t padding1[4];
} zx_info_thread_stats_t;

/* last_scheduled_cpu of a thread that has never run. */
#define ZX_INFO_INVALID_CPU ((uint32_t)0xFFFFFFFFu)

/* ZX_INFO_VMAR */
typedef struct zx_info_vmar {
    uintptr_t base;  /* absolute base address of the region */
    size_t len;      /* its length in bytes */
} zx_info_vmar_t;

/* ZX_INFO_VMO / ZX_INFO_PROCESS_VMOS: flags. The type is bit 0 (paged = 1, physical = 0). */
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

/* ZX_INFO_VMO (version 3, the newest). Byte counts are undefined for physical VMOs. */
typedef struct zx_info_vmo {
    zx_koid_t koid;
    char name[ZX_MAX_NAME_LEN];
    uint64_t size_bytes;             /* page-rounded size */
    zx_koid_t parent_koid;           /* 0 unless a child */
    size_t num_children;
    size_t num_mappings;             /* mappings in any VMAR, counted one by one */
    size_t share_count;              /* estimate of distinct address spaces mapping it */
    uint32_t flags;                  /* ZX_INFO_VMO_* */
    uint8_t padding1[4];
    uint64_t committed_bytes;        /* includes pages shared with COW relatives */
    zx_rights_t handle_rights;       /* valid with ZX_INFO_VMO_VIA_HANDLE */
    uint32_t cache_policy;           /* ZX_CACHE_POLICY_* */
    uint64_t metadata_bytes;         /* kernel memory used to track it */
    uint64_t committed_change_events;
    uint64_t populated_bytes;
    uint64_t committed_private_bytes;
    uint64_t populated_private_bytes;
    uint64_t committed_scaled_bytes; /* each shared byte counts 1 / number of sharers */
    uint64_t populated_scaled_bytes;
    uint64_t committed_fractional_scaled_bytes; /* truncated fraction, 63-bit fixed point */
    uint64_t populated_fractional_scaled_bytes;
} zx_info_vmo_t;

/* ZX_INFO_PROCESS_MAPS / ZX_INFO_VMAR_MAPS */
typedef uint32_t zx_info_maps_type_t;
#define ZX_INFO_MAPS_TYPE_NONE ((zx_info_maps_type_t)0u)
#define ZX_INFO_MAPS_TYPE_ASPACE ((zx_info_maps_type_t)1u)
#define ZX_INFO_MAPS_TYPE_VMAR ((zx_info_maps_type_t)2u)
#define ZX_INFO_MAPS_TYPE_MAPPING ((zx_info_maps_type_t)3u)

typedef struct zx_info_maps_mapping {
    zx_vm_option_t mmu_flags;        /* ZX_VM_PERM_* of the mapping */
    uint8_t padding1[4];
    zx_koid_t vmo_koid;
    uint64_t vmo_offset;
    size_t committed_bytes;
    size_t populated_bytes;
    size_t committed_private_bytes;
    size_t populated_private_bytes;
    size_t committed_scaled_bytes;
    size_t populated_scaled_bytes;
    uint64_t committed_fractional_scaled_bytes;
    uint64_t populated_fractional_scaled_bytes;
} zx_info_maps_mapping_t;

/*
 * One node of the aspace / VMAR / mapping tree. Records come in depth-first pre-order:
 * depth 0 is the aspace, 1 the root VMAR, 2 and more its children.
 */
typedef struct zx_info_maps {
    char name[ZX_MAX_NAME_LEN];
    zx_vaddr_t base;
    size_t size;
    size_t depth;
    zx_info_maps_type_t type;        /* ZX_INFO_MAPS_TYPE_*; selects the union member */
    uint8_t padding1[4];
    union {
        zx_info_maps_mapping_t mapping;
    } u;
} zx_info_maps_t;

/* ZX_INFO_KMEM_STATS (version 1, the newest). Every field is a subset of total_bytes. */
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

/* Layouts must match Zircon's byte for byte (x86-64). */
_Static_assert(sizeof(zx_info_handle_basic_t) == 32, "zx_info_handle_basic_t layout");
_Static_assert(sizeof(zx_info_handle_extended_t) == 40, "zx_info_handle_extended_t layout");
_Static_assert(sizeof(zx_info_process_handle_stats_t) == 256, "handle stats layout");
_Static_assert(sizeof(zx_info_job_t) == 16, "zx_info_job_t layout");
_Static_assert(sizeof(zx_info_task_stats_t) == 40, "zx_info_task_stats_t layout");
_Static_assert(sizeof(zx_info_task_runtime_t) == 32, "zx_info_task_runtime_t layout");
_Static_assert(sizeof(zx_info_process_t) == 24, "zx_info_process_t layout");
_Static_assert(sizeof(zx_info_thread_t) == 72, "zx_info_thread_t layout");
_Static_assert(sizeof(zx_info_thread_stats_t) == 16, "zx_info_thread_stats_t layout");
_Static_assert(sizeof(zx_info_vmar_t) == 16, "zx_info_vmar_t layout");
_Static_assert(sizeof(zx_info_vmo_t) == 176, "zx_info_vmo_t layout");
_Static_assert(sizeof(zx_info_maps_mapping_t) == 88, "zx_info_maps_mapping_t layout");
_Static_assert(sizeof(zx_info_maps_t) == 152, "zx_info_maps_t layout");
_Static_assert(sizeof(zx_info_kmem_stats_t) == 152, "zx_info_kmem_stats_t layout");

#endif
