/*
 * Basic Zircon types and constants, shared by the kernel and user space. Like Zircon's
 * public <zircon/types.h> it holds handles, koids, object types, signals, the VMO and
 * VMAR options, op codes and cache policies, and the zx_vm_option_t bits, and it includes
 * <zircon/errors.h>, <zircon/limits.h>, <zircon/rights.h> and <zircon/time.h>. Names and
 * values are Zircon's (checked by syscall-abi/zircon_headers_check.c).
 */
#ifndef ZIRCON_TYPES_H
#define ZIRCON_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <zircon/errors.h>
#include <zircon/limits.h>
#include <zircon/rights.h>
#include <zircon/time.h>

typedef int32_t zx_status_t;
typedef uint32_t zx_handle_t;
typedef uint64_t zx_koid_t;
typedef uint32_t zx_vm_option_t;
typedef uintptr_t zx_vaddr_t;
typedef uint64_t zx_paddr_t;
typedef uint64_t zx_off_t;
typedef uint32_t zx_obj_type_t;
typedef uint32_t zx_signals_t;

#define ZX_HANDLE_INVALID ((zx_handle_t)0)
#define ZX_HANDLE_FIXED_BITS_MASK ((zx_handle_t)0x3)
#define ZX_KOID_INVALID ((zx_koid_t)0)
#define ZX_KOID_KERNEL ((zx_koid_t)1)
#define ZX_KOID_FIRST ((zx_koid_t)1024)
#define ZX_MAX_NAME_LEN ((size_t)32u)

/* Object types (zx_obj_type_t). */
#define ZX_OBJ_TYPE_NONE ((zx_obj_type_t)0u)
#define ZX_OBJ_TYPE_PROCESS ((zx_obj_type_t)1u)
#define ZX_OBJ_TYPE_THREAD ((zx_obj_type_t)2u)
#define ZX_OBJ_TYPE_VMO ((zx_obj_type_t)3u)
#define ZX_OBJ_TYPE_CHANNEL ((zx_obj_type_t)4u)
#define ZX_OBJ_TYPE_EVENT ((zx_obj_type_t)5u)
#define ZX_OBJ_TYPE_PORT ((zx_obj_type_t)6u)
#define ZX_OBJ_TYPE_RESOURCE ((zx_obj_type_t)15u)
#define ZX_OBJ_TYPE_EVENTPAIR ((zx_obj_type_t)16u)
#define ZX_OBJ_TYPE_JOB ((zx_obj_type_t)17u)
#define ZX_OBJ_TYPE_VMAR ((zx_obj_type_t)18u)
#define ZX_OBJ_TYPE_TIMER ((zx_obj_type_t)22u)
#define ZX_OBJ_TYPE_PROFILE ((zx_obj_type_t)25u)
#define ZX_OBJ_TYPE_UPPER_BOUND ((zx_obj_type_t)64u)

/* Signals. */
#define ZX_SIGNAL_NONE ((zx_signals_t)0u)
#define ZX_USER_SIGNAL_ALL ((zx_signals_t)0xff000000u)
#define ZX_USER_SIGNAL_0 ((zx_signals_t)(1u << 24))
#define ZX_USER_SIGNAL_1 ((zx_signals_t)(1u << 25))
#define ZX_USER_SIGNAL_2 ((zx_signals_t)(1u << 26))
#define ZX_USER_SIGNAL_3 ((zx_signals_t)(1u << 27))
#define ZX_USER_SIGNAL_4 ((zx_signals_t)(1u << 28))
#define ZX_USER_SIGNAL_5 ((zx_signals_t)(1u << 29))
#define ZX_USER_SIGNAL_6 ((zx_signals_t)(1u << 30))
#define ZX_USER_SIGNAL_7 ((zx_signals_t)(1u << 31))
/* Reported (in zx_wait_item_t.pending, a wait's observed signals) when the handle waited
 * through was closed during the wait; never asserted on an object. */
#define ZX_SIGNAL_HANDLE_CLOSED ((zx_signals_t)(1u << 23))
/* Events, event pairs and timers. */
#define ZX_EVENT_SIGNALED ((zx_signals_t)(1u << 3))
#define ZX_EVENTPAIR_SIGNALED ((zx_signals_t)(1u << 3))
#define ZX_EVENTPAIR_PEER_CLOSED ((zx_signals_t)(1u << 2))
#define ZX_TIMER_SIGNALED ((zx_signals_t)(1u << 3))
#define ZX_CHANNEL_READABLE ((zx_signals_t)(1u << 0))
#define ZX_CHANNEL_WRITABLE ((zx_signals_t)(1u << 1))
#define ZX_CHANNEL_PEER_CLOSED ((zx_signals_t)(1u << 2))
#define ZX_TASK_TERMINATED ((zx_signals_t)(1u << 3))
#define ZX_PROCESS_TERMINATED ZX_TASK_TERMINATED
#define ZX_THREAD_TERMINATED ZX_TASK_TERMINATED
#define ZX_THREAD_RUNNING ((zx_signals_t)(1u << 4))
#define ZX_THREAD_SUSPENDED ((zx_signals_t)(1u << 5))
#define ZX_JOB_TERMINATED ZX_TASK_TERMINATED
#define ZX_VMO_ZERO_CHILDREN ((zx_signals_t)(1u << 3))

/* zx_object_wait_many: one handle to wait on, the signals wanted, and (written back) the
 * signals pending at return. */
typedef struct zx_wait_item {
    zx_handle_t handle;
    zx_signals_t waitfor;
    zx_signals_t pending;
} zx_wait_item_t;
#define ZX_WAIT_MANY_MAX_ITEMS ((size_t)64)

/* Clocks (zx_timer_create's clock_id). */
typedef uint32_t zx_clock_t;
#define ZX_CLOCK_MONOTONIC ((zx_clock_t)0u)
#define ZX_CLOCK_BOOT ((zx_clock_t)1u)

/* zx_timer_create options: where in [deadline - slack, deadline + slack] it may fire. */
#define ZX_TIMER_SLACK_CENTER ((uint32_t)0u)
#define ZX_TIMER_SLACK_EARLY ((uint32_t)1u)
#define ZX_TIMER_SLACK_LATE ((uint32_t)2u)

/* Channel limits. */
#define ZX_CHANNEL_MAX_MSG_BYTES ((uint32_t)65536u)
#define ZX_CHANNEL_MAX_MSG_HANDLES ((uint32_t)64u)
#define ZX_CHANNEL_READ_MAY_DISCARD ((uint32_t)1u)

/* Process options. */
#define ZX_PROCESS_SHARED ((uint32_t)(1u << 0))

/* zx_vmo_create options. */
#define ZX_VMO_RESIZABLE ((uint32_t)1u << 1)
#define ZX_VMO_DISCARDABLE ((uint32_t)1u << 2)
#define ZX_VMO_TRAP_DIRTY ((uint32_t)1u << 3)
#define ZX_VMO_UNBOUNDED ((uint32_t)1u << 4)

/* zx_vmo_op_range ops (COMMIT, DECOMMIT, ZERO, DONT_NEED, ALWAYS_NEED and PREFETCH have
 * the values of the zx_vmar_op_range ops of the same name). */
#define ZX_VMO_OP_COMMIT ((uint32_t)1u)
#define ZX_VMO_OP_DECOMMIT ((uint32_t)2u)
#define ZX_VMO_OP_LOCK ((uint32_t)3u)
#define ZX_VMO_OP_UNLOCK ((uint32_t)4u)
#define ZX_VMO_OP_CACHE_SYNC ((uint32_t)6u)
#define ZX_VMO_OP_CACHE_INVALIDATE ((uint32_t)7u)
#define ZX_VMO_OP_CACHE_CLEAN ((uint32_t)8u)
#define ZX_VMO_OP_CACHE_CLEAN_INVALIDATE ((uint32_t)9u)
#define ZX_VMO_OP_ZERO ((uint32_t)10u)
#define ZX_VMO_OP_TRY_LOCK ((uint32_t)11u)
#define ZX_VMO_OP_DONT_NEED ((uint32_t)12u)
#define ZX_VMO_OP_ALWAYS_NEED ((uint32_t)13u)
#define ZX_VMO_OP_PREFETCH ((uint32_t)14u)

/* The buffer of ZX_VMO_OP_LOCK / ZX_VMO_OP_TRY_LOCK: the range now locked, and the part
 * of it whose pages were discarded before the lock (both 0 when nothing was). */
typedef struct zx_vmo_lock_state {
    uint64_t offset;
    uint64_t size;
    uint64_t discarded_offset;
    uint64_t discarded_size;
} zx_vmo_lock_state_t;

/* zx_vmar_op_range ops. */
#define ZX_VMAR_OP_COMMIT ((uint32_t)1u)
#define ZX_VMAR_OP_DECOMMIT ((uint32_t)2u)
#define ZX_VMAR_OP_MAP_RANGE ((uint32_t)3u)
#define ZX_VMAR_OP_ZERO ((uint32_t)10u)
#define ZX_VMAR_OP_DONT_NEED ((uint32_t)12u)
#define ZX_VMAR_OP_ALWAYS_NEED ((uint32_t)13u)
#define ZX_VMAR_OP_PREFETCH ((uint32_t)14u)

/* zx_vmo_create_child options. */
#define ZX_VMO_CHILD_SNAPSHOT ((uint32_t)1u << 0)
#define ZX_VMO_CHILD_RESIZABLE ((uint32_t)1u << 2)
#define ZX_VMO_CHILD_SLICE ((uint32_t)1u << 3)
#define ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE ((uint32_t)1u << 4)
#define ZX_VMO_CHILD_NO_WRITE ((uint32_t)1u << 5)
#define ZX_VMO_CHILD_REFERENCE ((uint32_t)1u << 6)
#define ZX_VMO_CHILD_SNAPSHOT_MODIFIED ((uint32_t)1u << 7)

/* Cache policies (zx_vmo_set_cache_policy, zx_info_vmo_t.cache_policy). */
#define ZX_CACHE_POLICY_CACHED ((uint32_t)0u)
#define ZX_CACHE_POLICY_UNCACHED ((uint32_t)1u)
#define ZX_CACHE_POLICY_UNCACHED_DEVICE ((uint32_t)2u)
#define ZX_CACHE_POLICY_WRITE_COMBINING ((uint32_t)3u)
#define ZX_CACHE_POLICY_MASK ((uint32_t)3u)

/* A set of CPUs: CPU n is in it when bit (n % 64) of mask[n / 64] is set. */
#define ZX_CPU_SET_MAX_CPUS 512
#define ZX_CPU_SET_BITS_PER_WORD 64
typedef struct zx_cpu_set {
    uint64_t mask[ZX_CPU_SET_MAX_CPUS / ZX_CPU_SET_BITS_PER_WORD];
} zx_cpu_set_t;

/* zx_vm_option_t bits (zx_vmar_map, zx_vmar_allocate, zx_vmar_protect). */
#define ZX_VM_PERM_READ ((zx_vm_option_t)(1u << 0))
#define ZX_VM_PERM_WRITE ((zx_vm_option_t)(1u << 1))
#define ZX_VM_PERM_EXECUTE ((zx_vm_option_t)(1u << 2))
#define ZX_VM_COMPACT ((zx_vm_option_t)(1u << 3))
#define ZX_VM_SPECIFIC ((zx_vm_option_t)(1u << 4))
#define ZX_VM_SPECIFIC_OVERWRITE ((zx_vm_option_t)(1u << 5))
#define ZX_VM_CAN_MAP_SPECIFIC ((zx_vm_option_t)(1u << 6))
#define ZX_VM_CAN_MAP_READ ((zx_vm_option_t)(1u << 7))
#define ZX_VM_CAN_MAP_WRITE ((zx_vm_option_t)(1u << 8))
#define ZX_VM_CAN_MAP_EXECUTE ((zx_vm_option_t)(1u << 9))
#define ZX_VM_MAP_RANGE ((zx_vm_option_t)(1u << 10))
#define ZX_VM_REQUIRE_NON_RESIZABLE ((zx_vm_option_t)(1u << 11))
#define ZX_VM_ALLOW_FAULTS ((zx_vm_option_t)(1u << 12))
#define ZX_VM_OFFSET_IS_UPPER_LIMIT ((zx_vm_option_t)(1u << 13))
#define ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED ((zx_vm_option_t)(1u << 14))
#define ZX_VM_FAULT_BEYOND_STREAM_SIZE ((zx_vm_option_t)(1u << 15))

/* The top byte of the options is log2 of the alignment (0, or 10 .. 32: 1 KiB .. 4 GiB). */
#define ZX_VM_ALIGN_BASE 24
#define ZX_VM_ALIGN_1KB ((zx_vm_option_t)(10u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_2KB ((zx_vm_option_t)(11u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_4KB ((zx_vm_option_t)(12u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_8KB ((zx_vm_option_t)(13u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_16KB ((zx_vm_option_t)(14u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_32KB ((zx_vm_option_t)(15u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_64KB ((zx_vm_option_t)(16u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_128KB ((zx_vm_option_t)(17u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_256KB ((zx_vm_option_t)(18u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_512KB ((zx_vm_option_t)(19u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_1MB ((zx_vm_option_t)(20u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_2MB ((zx_vm_option_t)(21u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_4MB ((zx_vm_option_t)(22u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_8MB ((zx_vm_option_t)(23u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_16MB ((zx_vm_option_t)(24u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_32MB ((zx_vm_option_t)(25u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_64MB ((zx_vm_option_t)(26u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_128MB ((zx_vm_option_t)(27u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_256MB ((zx_vm_option_t)(28u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_512MB ((zx_vm_option_t)(29u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_1GB ((zx_vm_option_t)(30u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_2GB ((zx_vm_option_t)(31u << ZX_VM_ALIGN_BASE))
#define ZX_VM_ALIGN_4GB ((zx_vm_option_t)(32u << ZX_VM_ALIGN_BASE))

#endif
