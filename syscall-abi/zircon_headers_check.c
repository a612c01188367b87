/*
 * The Zircon compile check (ctest abi.zircon_headers_compile, docs/architecture.md,
 * "Public headers"): what a program written against Zircon's public C headers for VMOs,
 * VMARs, processes, threads, channels and handles uses, reached through Zircon's usual
 * includes only, with Zircon's values and record layouts. Compiled with the user
 * programs' flags (-Werror), so a name that is missing, misplaced (only in some other
 * header), or has a different value, type or layout fails the build.
 *
 * zircon_headers_check_program() is that program's body: the user test test/zircon_abi
 * runs it, so the same source also links and behaves on Beryl.
 */
#include <zircon/errors.h>
#include <zircon/features.h>
#include <zircon/process.h>
#include <zircon/processargs.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>
#include <zircon/syscalls/port.h>
#include <zircon/types.h>

#define ZHC_EQ(expr, value) _Static_assert((expr) == (value), #expr " == " #value)
#define ZHC_OFF(type, field, off) \
    _Static_assert(__builtin_offsetof(type, field) == (off), #type "." #field " offset")
#define ZHC_SIZE(type, size) _Static_assert(sizeof(type) == (size), "sizeof " #type)
#define ZHC_PROTO(fn, type) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&fn), type), #fn " prototype")
#define ZHC_TYPE(type, base) \
    _Static_assert(__builtin_types_compatible_p(type, base), #type " is " #base)

/* Basic types. */
ZHC_TYPE(zx_status_t, int32_t);
ZHC_TYPE(zx_handle_t, uint32_t);
ZHC_TYPE(zx_rights_t, uint32_t);
ZHC_TYPE(zx_koid_t, uint64_t);
ZHC_TYPE(zx_signals_t, uint32_t);
ZHC_TYPE(zx_obj_type_t, uint32_t);
ZHC_TYPE(zx_vm_option_t, uint32_t);
ZHC_TYPE(zx_vaddr_t, uintptr_t);
ZHC_TYPE(zx_off_t, uint64_t);
ZHC_TYPE(zx_time_t, int64_t);
ZHC_TYPE(zx_duration_t, int64_t);
ZHC_TYPE(zx_ticks_t, int64_t);
ZHC_TYPE(zx_object_info_topic_t, uint32_t);
ZHC_EQ(ZX_HANDLE_INVALID, 0u);
ZHC_EQ(ZX_HANDLE_FIXED_BITS_MASK, 3u);
ZHC_EQ(ZX_KOID_INVALID, 0u);
ZHC_EQ(ZX_KOID_KERNEL, 1u);
ZHC_EQ(ZX_KOID_FIRST, 1024u);
ZHC_EQ(ZX_MAX_NAME_LEN, 32u);
ZHC_EQ(ZX_TIME_INFINITE, INT64_MAX);
ZHC_EQ(ZX_TIME_INFINITE_PAST, INT64_MIN);
ZHC_EQ(ZX_NSEC(7), 7);
ZHC_EQ(ZX_USEC(7), 7000);
ZHC_EQ(ZX_MSEC(7), 7000000);
ZHC_EQ(ZX_SEC(7), 7000000000);
ZHC_EQ(ZX_MIN(2), 120000000000);
ZHC_EQ(ZX_HOUR(1), 3600000000000);
ZHC_EQ(ZX_PAGE_SIZE, 4096u);
ZHC_EQ(ZX_PAGE_SHIFT, 12u);
ZHC_EQ(ZX_PAGE_MASK, 4095u);
ZHC_EQ(ZX_CHANNEL_MAX_MSG_BYTES, 65536u);
ZHC_EQ(ZX_CHANNEL_MAX_MSG_HANDLES, 64u);
ZHC_EQ(ZX_CHANNEL_READ_MAY_DISCARD, 1u);
ZHC_EQ(ZX_PROCESS_SHARED, 1u);

/* Status codes. */
ZHC_EQ(ZX_OK, 0);
ZHC_EQ(ZX_ERR_INTERNAL, -1);
ZHC_EQ(ZX_ERR_NOT_SUPPORTED, -2);
ZHC_EQ(ZX_ERR_NO_RESOURCES, -3);
ZHC_EQ(ZX_ERR_NO_MEMORY, -4);
ZHC_EQ(ZX_ERR_INVALID_ARGS, -10);
ZHC_EQ(ZX_ERR_BAD_HANDLE, -11);
ZHC_EQ(ZX_ERR_WRONG_TYPE, -12);
ZHC_EQ(ZX_ERR_BAD_SYSCALL, -13);
ZHC_EQ(ZX_ERR_OUT_OF_RANGE, -14);
ZHC_EQ(ZX_ERR_BUFFER_TOO_SMALL, -15);
ZHC_EQ(ZX_ERR_BAD_STATE, -20);
ZHC_EQ(ZX_ERR_TIMED_OUT, -21);
ZHC_EQ(ZX_ERR_SHOULD_WAIT, -22);
ZHC_EQ(ZX_ERR_CANCELED, -23);
ZHC_EQ(ZX_ERR_PEER_CLOSED, -24);
ZHC_EQ(ZX_ERR_NOT_FOUND, -25);
ZHC_EQ(ZX_ERR_ALREADY_EXISTS, -26);
ZHC_EQ(ZX_ERR_ALREADY_BOUND, -27);
ZHC_EQ(ZX_ERR_UNAVAILABLE, -28);
ZHC_EQ(ZX_ERR_ACCESS_DENIED, -30);

/* Object types and the signals of the objects a VM test uses. */
ZHC_EQ(ZX_OBJ_TYPE_NONE, 0u);
ZHC_EQ(ZX_OBJ_TYPE_PROCESS, 1u);
ZHC_EQ(ZX_OBJ_TYPE_THREAD, 2u);
ZHC_EQ(ZX_OBJ_TYPE_VMO, 3u);
ZHC_EQ(ZX_OBJ_TYPE_CHANNEL, 4u);
ZHC_EQ(ZX_OBJ_TYPE_RESOURCE, 15u);
ZHC_EQ(ZX_OBJ_TYPE_JOB, 17u);
ZHC_EQ(ZX_OBJ_TYPE_VMAR, 18u);
ZHC_EQ(ZX_OBJ_TYPE_PROFILE, 25u);
ZHC_EQ(ZX_OBJ_TYPE_UPPER_BOUND, 64u);
ZHC_EQ(ZX_SIGNAL_NONE, 0u);
ZHC_EQ(ZX_USER_SIGNAL_ALL, 0xff000000u);
ZHC_EQ(ZX_USER_SIGNAL_0, 1u << 24);
ZHC_EQ(ZX_CHANNEL_READABLE, 1u << 0);
ZHC_EQ(ZX_CHANNEL_WRITABLE, 1u << 1);
ZHC_EQ(ZX_CHANNEL_PEER_CLOSED, 1u << 2);
ZHC_EQ(ZX_TASK_TERMINATED, 1u << 3);
ZHC_EQ(ZX_PROCESS_TERMINATED, 1u << 3);
ZHC_EQ(ZX_THREAD_TERMINATED, 1u << 3);
ZHC_EQ(ZX_THREAD_RUNNING, 1u << 4);
ZHC_EQ(ZX_THREAD_SUSPENDED, 1u << 5);
ZHC_EQ(ZX_JOB_TERMINATED, 1u << 3);
ZHC_EQ(ZX_VMO_ZERO_CHILDREN, 1u << 3);

/* VMO options, child options, ops and cache policies. */
ZHC_EQ(ZX_VMO_RESIZABLE, 1u << 1);
ZHC_EQ(ZX_VMO_DISCARDABLE, 1u << 2);
ZHC_EQ(ZX_VMO_TRAP_DIRTY, 1u << 3);
ZHC_EQ(ZX_VMO_UNBOUNDED, 1u << 4);
ZHC_EQ(ZX_VMO_CHILD_SNAPSHOT, 1u << 0);
ZHC_EQ(ZX_VMO_CHILD_RESIZABLE, 1u << 2);
ZHC_EQ(ZX_VMO_CHILD_SLICE, 1u << 3);
ZHC_EQ(ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 1u << 4);
ZHC_EQ(ZX_VMO_CHILD_NO_WRITE, 1u << 5);
ZHC_EQ(ZX_VMO_CHILD_REFERENCE, 1u << 6);
ZHC_EQ(ZX_VMO_CHILD_SNAPSHOT_MODIFIED, 1u << 7);
ZHC_EQ(ZX_VMO_OP_COMMIT, 1u);
ZHC_EQ(ZX_VMO_OP_DECOMMIT, 2u);
ZHC_EQ(ZX_VMO_OP_LOCK, 3u);
ZHC_EQ(ZX_VMO_OP_UNLOCK, 4u);
ZHC_EQ(ZX_VMO_OP_CACHE_SYNC, 6u);
ZHC_EQ(ZX_VMO_OP_CACHE_INVALIDATE, 7u);
ZHC_EQ(ZX_VMO_OP_CACHE_CLEAN, 8u);
ZHC_EQ(ZX_VMO_OP_CACHE_CLEAN_INVALIDATE, 9u);
ZHC_EQ(ZX_VMO_OP_ZERO, 10u);
ZHC_EQ(ZX_VMO_OP_TRY_LOCK, 11u);
ZHC_EQ(ZX_VMO_OP_DONT_NEED, 12u);
ZHC_EQ(ZX_VMO_OP_ALWAYS_NEED, 13u);
ZHC_EQ(ZX_VMO_OP_PREFETCH, 14u);
ZHC_EQ(ZX_VMAR_OP_COMMIT, 1u);
ZHC_EQ(ZX_VMAR_OP_DECOMMIT, 2u);
ZHC_EQ(ZX_VMAR_OP_MAP_RANGE, 3u);
ZHC_EQ(ZX_VMAR_OP_ZERO, 10u);
ZHC_EQ(ZX_VMAR_OP_DONT_NEED, 12u);
ZHC_EQ(ZX_VMAR_OP_ALWAYS_NEED, 13u);
ZHC_EQ(ZX_VMAR_OP_PREFETCH, 14u);
ZHC_EQ(ZX_CACHE_POLICY_CACHED, 0u);
ZHC_EQ(ZX_CACHE_POLICY_UNCACHED, 1u);
ZHC_EQ(ZX_CACHE_POLICY_UNCACHED_DEVICE, 2u);
ZHC_EQ(ZX_CACHE_POLICY_WRITE_COMBINING, 3u);
ZHC_EQ(ZX_CACHE_POLICY_MASK, 3u);
ZHC_SIZE(zx_vmo_lock_state_t, 32);
ZHC_OFF(zx_vmo_lock_state_t, offset, 0);
ZHC_OFF(zx_vmo_lock_state_t, size, 8);
ZHC_OFF(zx_vmo_lock_state_t, discarded_offset, 16);
ZHC_OFF(zx_vmo_lock_state_t, discarded_size, 24);

/* zx_vm_option_t bits. */
ZHC_EQ(ZX_VM_PERM_READ, 1u << 0);
ZHC_EQ(ZX_VM_PERM_WRITE, 1u << 1);
ZHC_EQ(ZX_VM_PERM_EXECUTE, 1u << 2);
ZHC_EQ(ZX_VM_COMPACT, 1u << 3);
ZHC_EQ(ZX_VM_SPECIFIC, 1u << 4);
ZHC_EQ(ZX_VM_SPECIFIC_OVERWRITE, 1u << 5);
ZHC_EQ(ZX_VM_CAN_MAP_SPECIFIC, 1u << 6);
ZHC_EQ(ZX_VM_CAN_MAP_READ, 1u << 7);
ZHC_EQ(ZX_VM_CAN_MAP_WRITE, 1u << 8);
ZHC_EQ(ZX_VM_CAN_MAP_EXECUTE, 1u << 9);
ZHC_EQ(ZX_VM_MAP_RANGE, 1u << 10);
ZHC_EQ(ZX_VM_REQUIRE_NON_RESIZABLE, 1u << 11);
ZHC_EQ(ZX_VM_ALLOW_FAULTS, 1u << 12);
ZHC_EQ(ZX_VM_OFFSET_IS_UPPER_LIMIT, 1u << 13);
ZHC_EQ(ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED, 1u << 14);
ZHC_EQ(ZX_VM_FAULT_BEYOND_STREAM_SIZE, 1u << 15);
ZHC_EQ(ZX_VM_ALIGN_BASE, 24);
ZHC_EQ(ZX_VM_ALIGN_1KB, 10u << 24);
ZHC_EQ(ZX_VM_ALIGN_2KB, 11u << 24);
ZHC_EQ(ZX_VM_ALIGN_4KB, 12u << 24);
ZHC_EQ(ZX_VM_ALIGN_8KB, 13u << 24);
ZHC_EQ(ZX_VM_ALIGN_16KB, 14u << 24);
ZHC_EQ(ZX_VM_ALIGN_32KB, 15u << 24);
ZHC_EQ(ZX_VM_ALIGN_64KB, 16u << 24);
ZHC_EQ(ZX_VM_ALIGN_128KB, 17u << 24);
ZHC_EQ(ZX_VM_ALIGN_256KB, 18u << 24);
ZHC_EQ(ZX_VM_ALIGN_512KB, 19u << 24);
ZHC_EQ(ZX_VM_ALIGN_1MB, 20u << 24);
ZHC_EQ(ZX_VM_ALIGN_2MB, 21u << 24);
ZHC_EQ(ZX_VM_ALIGN_4MB, 22u << 24);
ZHC_EQ(ZX_VM_ALIGN_8MB, 23u << 24);
ZHC_EQ(ZX_VM_ALIGN_16MB, 24u << 24);
ZHC_EQ(ZX_VM_ALIGN_32MB, 25u << 24);
ZHC_EQ(ZX_VM_ALIGN_64MB, 26u << 24);
ZHC_EQ(ZX_VM_ALIGN_128MB, 27u << 24);
ZHC_EQ(ZX_VM_ALIGN_256MB, 28u << 24);
ZHC_EQ(ZX_VM_ALIGN_512MB, 29u << 24);
ZHC_EQ(ZX_VM_ALIGN_1GB, 30u << 24);
ZHC_EQ(ZX_VM_ALIGN_2GB, 31u << 24);
ZHC_EQ(ZX_VM_ALIGN_4GB, 32u << 24);

/* Rights and default rights. */
ZHC_EQ(ZX_RIGHT_NONE, 0u);
ZHC_EQ(ZX_RIGHT_DUPLICATE, 1u << 0);
ZHC_EQ(ZX_RIGHT_TRANSFER, 1u << 1);
ZHC_EQ(ZX_RIGHT_READ, 1u << 2);
ZHC_EQ(ZX_RIGHT_WRITE, 1u << 3);
ZHC_EQ(ZX_RIGHT_EXECUTE, 1u << 4);
ZHC_EQ(ZX_RIGHT_MAP, 1u << 5);
ZHC_EQ(ZX_RIGHT_GET_PROPERTY, 1u << 6);
ZHC_EQ(ZX_RIGHT_SET_PROPERTY, 1u << 7);
ZHC_EQ(ZX_RIGHT_ENUMERATE, 1u << 8);
ZHC_EQ(ZX_RIGHT_DESTROY, 1u << 9);
ZHC_EQ(ZX_RIGHT_SET_POLICY, 1u << 10);
ZHC_EQ(ZX_RIGHT_GET_POLICY, 1u << 11);
ZHC_EQ(ZX_RIGHT_SIGNAL, 1u << 12);
ZHC_EQ(ZX_RIGHT_SIGNAL_PEER, 1u << 13);
ZHC_EQ(ZX_RIGHT_WAIT, 1u << 14);
ZHC_EQ(ZX_RIGHT_INSPECT, 1u << 15);
ZHC_EQ(ZX_RIGHT_MANAGE_JOB, 1u << 16);
ZHC_EQ(ZX_RIGHT_MANAGE_PROCESS, 1u << 17);
ZHC_EQ(ZX_RIGHT_MANAGE_THREAD, 1u << 18);
ZHC_EQ(ZX_RIGHT_APPLY_PROFILE, 1u << 19);
ZHC_EQ(ZX_RIGHT_MANAGE_SOCKET, 1u << 20);
ZHC_EQ(ZX_RIGHT_OP_CHILDREN, 1u << 21);
ZHC_EQ(ZX_RIGHT_RESIZE, 1u << 22);
ZHC_EQ(ZX_RIGHT_ATTACH_VMO, 1u << 23);
ZHC_EQ(ZX_RIGHT_MANAGE_VMO, 1u << 24);
ZHC_EQ(ZX_RIGHT_SAME_RIGHTS, 1u << 31);
ZHC_EQ(ZX_RIGHTS_BASIC, 0xC003u);
ZHC_EQ(ZX_RIGHTS_IO, 0xCu);
ZHC_EQ(ZX_RIGHTS_PROPERTY, 0xC0u);
ZHC_EQ(ZX_RIGHTS_POLICY, 0xC00u);
ZHC_EQ(ZX_DEFAULT_VMO_RIGHTS, 0xD0EFu);
ZHC_EQ(ZX_DEFAULT_VMAR_RIGHTS, 0x208003u);
ZHC_EQ(ZX_DEFAULT_CHANNEL_RIGHTS, 0xF00Eu);
ZHC_EQ(ZX_DEFAULT_PROCESS_RIGHTS, 0x6D3CFu);
ZHC_EQ(ZX_DEFAULT_THREAD_RIGHTS, 0x4D2CFu);
ZHC_EQ(ZX_DEFAULT_JOB_RIGHTS, 0x7DFCFu);
ZHC_EQ(ZX_DEFAULT_RESOURCE_RIGHTS, 0x800Bu);
ZHC_EQ(ZX_DEFAULT_PROFILE_RIGHTS, 0x88003u);

/* Info topics, properties and task return codes. */
ZHC_EQ(ZX_INFO_NONE, 0u);
ZHC_EQ(ZX_INFO_HANDLE_VALID, 1u);
ZHC_EQ(ZX_INFO_HANDLE_BASIC, 2u);
ZHC_EQ(ZX_INFO_PROCESS, 0x10000003u);
ZHC_EQ(ZX_INFO_PROCESS_THREADS, 4u);
ZHC_EQ(ZX_INFO_VMAR, 7u);
ZHC_EQ(ZX_INFO_JOB_CHILDREN, 8u);
ZHC_EQ(ZX_INFO_JOB_PROCESSES, 9u);
ZHC_EQ(ZX_INFO_THREAD, 10u);
ZHC_EQ(ZX_INFO_THREAD_EXCEPTION_REPORT, 0x1000000Bu);
ZHC_EQ(ZX_INFO_TASK_STATS, 0x1000000Cu);
ZHC_EQ(ZX_INFO_PROCESS_MAPS, 0x2000000Du);
ZHC_EQ(ZX_INFO_PROCESS_VMOS, 0x3000000Eu);
ZHC_EQ(ZX_INFO_THREAD_STATS, 15u);
ZHC_EQ(ZX_INFO_CPU_STATS, 16u);
ZHC_EQ(ZX_INFO_KMEM_STATS, 0x10000011u);
ZHC_EQ(ZX_INFO_RESOURCE, 18u);
ZHC_EQ(ZX_INFO_HANDLE_COUNT, 19u);
ZHC_EQ(ZX_INFO_PROCESS_HANDLE_STATS, 21u);
ZHC_EQ(ZX_INFO_VMO, 0x30000017u);
ZHC_EQ(ZX_INFO_JOB, 24u);
ZHC_EQ(ZX_INFO_HANDLE_TABLE, 27u);
ZHC_EQ(ZX_INFO_TASK_RUNTIME, 0x1000001Eu);
ZHC_EQ(ZX_INFO_VMAR_MAPS, 36u);
ZHC_EQ(ZX_INFO_INVALID_CPU, 0xFFFFFFFFu);
ZHC_EQ(ZX_PROP_REGISTER_GS, 2u);
ZHC_EQ(ZX_PROP_NAME, 3u);
ZHC_EQ(ZX_PROP_REGISTER_FS, 4u);
ZHC_EQ(ZX_PROP_PROCESS_DEBUG_ADDR, 5u);
ZHC_EQ(ZX_PROP_PROCESS_VDSO_BASE_ADDRESS, 6u);
ZHC_EQ(ZX_PROP_PROCESS_BREAK_ON_LOAD, 7u);
ZHC_EQ(ZX_PROP_JOB_KILL_ON_OOM, 15u);
ZHC_EQ(ZX_PROP_VMO_CONTENT_SIZE, 17u);
ZHC_EQ(ZX_TASK_RETCODE_SYSCALL_KILL, -1024);
ZHC_EQ(ZX_TASK_RETCODE_OOM_KILL, -1025);
ZHC_EQ(ZX_TASK_RETCODE_POLICY_KILL, -1026);
ZHC_EQ(ZX_TASK_RETCODE_VDSO_KILL, -1027);
ZHC_EQ(ZX_TASK_RETCODE_EXCEPTION_KILL, -1028);
ZHC_EQ(ZX_TASK_RETCODE_CRITICAL_PROCESS_KILL, -1029);
ZHC_EQ(ZX_INFO_PROCESS_FLAG_STARTED, 1u);
ZHC_EQ(ZX_INFO_PROCESS_FLAG_EXITED, 2u);
ZHC_EQ(ZX_INFO_PROCESS_FLAG_DEBUGGER_ATTACHED, 4u);
ZHC_EQ(ZX_THREAD_STATE_NEW, 0u);
ZHC_EQ(ZX_THREAD_STATE_RUNNING, 1u);
ZHC_EQ(ZX_THREAD_STATE_SUSPENDED, 2u);
ZHC_EQ(ZX_THREAD_STATE_BLOCKED, 3u);
ZHC_EQ(ZX_THREAD_STATE_DYING, 4u);
ZHC_EQ(ZX_THREAD_STATE_DEAD, 5u);
ZHC_EQ(ZX_THREAD_STATE_BLOCKED_SLEEPING, 0x203u);
ZHC_EQ(ZX_THREAD_STATE_BLOCKED_WAIT_ONE, 0x603u);
ZHC_EQ(ZX_THREAD_STATE_BASIC(0x603u), 3u);
ZHC_EQ(ZX_INFO_VMO_TYPE_PAGED, 1u);
ZHC_EQ(ZX_INFO_VMO_TYPE_PHYSICAL, 0u);
ZHC_EQ(ZX_INFO_VMO_TYPE(0x3u), 1u);
ZHC_EQ(ZX_INFO_VMO_RESIZABLE, 1u << 1);
ZHC_EQ(ZX_INFO_VMO_IS_COW_CLONE, 1u << 2);
ZHC_EQ(ZX_INFO_VMO_VIA_HANDLE, 1u << 3);
ZHC_EQ(ZX_INFO_VMO_VIA_MAPPING, 1u << 4);
ZHC_EQ(ZX_INFO_VMO_PAGER_BACKED, 1u << 5);
ZHC_EQ(ZX_INFO_VMO_CONTIGUOUS, 1u << 6);
ZHC_EQ(ZX_INFO_VMO_DISCARDABLE, 1u << 7);
ZHC_EQ(ZX_INFO_VMO_IMMUTABLE, 1u << 8);
ZHC_EQ(ZX_INFO_VMO_VIA_IOB_HANDLE, 1u << 9);
ZHC_EQ(ZX_INFO_MAPS_TYPE_NONE, 0u);
ZHC_EQ(ZX_INFO_MAPS_TYPE_ASPACE, 1u);
ZHC_EQ(ZX_INFO_MAPS_TYPE_VMAR, 2u);
ZHC_EQ(ZX_INFO_MAPS_TYPE_MAPPING, 3u);

/* Info records: sizes and field offsets (x86-64). */
ZHC_SIZE(zx_info_handle_basic_t, 32);
ZHC_OFF(zx_info_handle_basic_t, koid, 0);
ZHC_OFF(zx_info_handle_basic_t, rights, 8);
ZHC_OFF(zx_info_handle_basic_t, type, 12);
ZHC_OFF(zx_info_handle_basic_t, related_koid, 16);
ZHC_OFF(zx_info_handle_basic_t, reserved, 24);
ZHC_SIZE(zx_info_handle_count_t, 4);
ZHC_SIZE(zx_info_process_t, 24);
ZHC_OFF(zx_info_process_t, return_code, 0);
ZHC_OFF(zx_info_process_t, start_time, 8);
ZHC_OFF(zx_info_process_t, flags, 16);
ZHC_SIZE(zx_cpu_set_t, 64);
ZHC_EQ(ZX_CPU_SET_MAX_CPUS, 512);
ZHC_EQ(ZX_CPU_SET_BITS_PER_WORD, 64);
ZHC_SIZE(zx_info_thread_t, 72);
ZHC_OFF(zx_info_thread_t, state, 0);
ZHC_OFF(zx_info_thread_t, wait_exception_channel_type, 4);
ZHC_OFF(zx_info_thread_t, cpu_affinity_mask, 8);
ZHC_SIZE(zx_info_thread_stats_t, 16);
ZHC_OFF(zx_info_thread_stats_t, total_runtime, 0);
ZHC_OFF(zx_info_thread_stats_t, last_scheduled_cpu, 8);
ZHC_SIZE(zx_info_task_stats_t, 40);
ZHC_OFF(zx_info_task_stats_t, mem_mapped_bytes, 0);
ZHC_OFF(zx_info_task_stats_t, mem_private_bytes, 8);
ZHC_OFF(zx_info_task_stats_t, mem_shared_bytes, 16);
ZHC_OFF(zx_info_task_stats_t, mem_scaled_shared_bytes, 24);
ZHC_OFF(zx_info_task_stats_t, mem_fractional_scaled_shared_bytes, 32);
ZHC_SIZE(zx_info_vmar_t, 16);
ZHC_OFF(zx_info_vmar_t, base, 0);
ZHC_OFF(zx_info_vmar_t, len, 8);
ZHC_SIZE(zx_info_vmo_t, 176);
ZHC_OFF(zx_info_vmo_t, koid, 0);
ZHC_OFF(zx_info_vmo_t, name, 8);
ZHC_OFF(zx_info_vmo_t, size_bytes, 40);
ZHC_OFF(zx_info_vmo_t, parent_koid, 48);
ZHC_OFF(zx_info_vmo_t, num_children, 56);
ZHC_OFF(zx_info_vmo_t, num_mappings, 64);
ZHC_OFF(zx_info_vmo_t, share_count, 72);
ZHC_OFF(zx_info_vmo_t, flags, 80);
ZHC_OFF(zx_info_vmo_t, committed_bytes, 88);
ZHC_OFF(zx_info_vmo_t, handle_rights, 96);
ZHC_OFF(zx_info_vmo_t, cache_policy, 100);
ZHC_OFF(zx_info_vmo_t, metadata_bytes, 104);
ZHC_OFF(zx_info_vmo_t, committed_change_events, 112);
ZHC_OFF(zx_info_vmo_t, populated_bytes, 120);
ZHC_OFF(zx_info_vmo_t, committed_private_bytes, 128);
ZHC_OFF(zx_info_vmo_t, populated_private_bytes, 136);
ZHC_OFF(zx_info_vmo_t, committed_scaled_bytes, 144);
ZHC_OFF(zx_info_vmo_t, populated_scaled_bytes, 152);
ZHC_OFF(zx_info_vmo_t, committed_fractional_scaled_bytes, 160);
ZHC_OFF(zx_info_vmo_t, populated_fractional_scaled_bytes, 168);
ZHC_SIZE(zx_info_maps_mapping_t, 88);
ZHC_OFF(zx_info_maps_mapping_t, mmu_flags, 0);
ZHC_OFF(zx_info_maps_mapping_t, vmo_koid, 8);
ZHC_OFF(zx_info_maps_mapping_t, vmo_offset, 16);
ZHC_OFF(zx_info_maps_mapping_t, committed_bytes, 24);
ZHC_OFF(zx_info_maps_mapping_t, populated_bytes, 32);
ZHC_OFF(zx_info_maps_mapping_t, committed_private_bytes, 40);
ZHC_OFF(zx_info_maps_mapping_t, populated_private_bytes, 48);
ZHC_OFF(zx_info_maps_mapping_t, committed_scaled_bytes, 56);
ZHC_OFF(zx_info_maps_mapping_t, populated_scaled_bytes, 64);
ZHC_OFF(zx_info_maps_mapping_t, committed_fractional_scaled_bytes, 72);
ZHC_OFF(zx_info_maps_mapping_t, populated_fractional_scaled_bytes, 80);
ZHC_SIZE(zx_info_maps_t, 152);
ZHC_OFF(zx_info_maps_t, name, 0);
ZHC_OFF(zx_info_maps_t, base, 32);
ZHC_OFF(zx_info_maps_t, size, 40);
ZHC_OFF(zx_info_maps_t, depth, 48);
ZHC_OFF(zx_info_maps_t, type, 56);
ZHC_OFF(zx_info_maps_t, u.mapping, 64);
ZHC_SIZE(zx_info_kmem_stats_t, 152);
ZHC_OFF(zx_info_kmem_stats_t, total_bytes, 0);
ZHC_OFF(zx_info_kmem_stats_t, free_bytes, 8);
ZHC_OFF(zx_info_kmem_stats_t, free_loaned_bytes, 16);
ZHC_OFF(zx_info_kmem_stats_t, wired_bytes, 24);
ZHC_OFF(zx_info_kmem_stats_t, total_heap_bytes, 32);
ZHC_OFF(zx_info_kmem_stats_t, free_heap_bytes, 40);
ZHC_OFF(zx_info_kmem_stats_t, vmo_bytes, 48);
ZHC_OFF(zx_info_kmem_stats_t, mmu_overhead_bytes, 56);
ZHC_OFF(zx_info_kmem_stats_t, ipc_bytes, 64);
ZHC_OFF(zx_info_kmem_stats_t, cache_bytes, 72);
ZHC_OFF(zx_info_kmem_stats_t, slab_bytes, 80);
ZHC_OFF(zx_info_kmem_stats_t, zram_bytes, 88);
ZHC_OFF(zx_info_kmem_stats_t, other_bytes, 96);
ZHC_OFF(zx_info_kmem_stats_t, vmo_reclaim_total_bytes, 104);
ZHC_OFF(zx_info_kmem_stats_t, vmo_reclaim_newest_bytes, 112);
ZHC_OFF(zx_info_kmem_stats_t, vmo_reclaim_oldest_bytes, 120);
ZHC_OFF(zx_info_kmem_stats_t, vmo_reclaim_disabled_bytes, 128);
ZHC_OFF(zx_info_kmem_stats_t, vmo_discardable_locked_bytes, 136);
ZHC_OFF(zx_info_kmem_stats_t, vmo_discardable_unlocked_bytes, 144);

/* Process startup: processargs. */
ZHC_EQ(ZX_PROCARGS_PROTOCOL, 0x4150585du);
ZHC_EQ(ZX_PROCARGS_VERSION, 0x0001000u);
ZHC_SIZE(zx_proc_args_t, 36);
ZHC_OFF(zx_proc_args_t, handle_info_off, 8);
ZHC_OFF(zx_proc_args_t, names_num, 32);
ZHC_EQ(PA_HND(PA_USER1, 3), 0x300F1u);
ZHC_EQ(PA_HND_TYPE(0x300F1u), PA_USER1);
ZHC_EQ(PA_HND_ARG(0x300F1u), 3u);
ZHC_EQ(PA_PROC_SELF, 0x01u);
ZHC_EQ(PA_THREAD_SELF, 0x02u);
ZHC_EQ(PA_JOB_DEFAULT, 0x03u);
ZHC_EQ(PA_VMAR_ROOT, 0x04u);
ZHC_EQ(PA_VMAR_LOADED, 0x05u);
ZHC_EQ(PA_VMO_STACK, 0x13u);
ZHC_EQ(PA_VMO_EXECUTABLE, 0x14u);
ZHC_EQ(PA_VMO_BOOTFS, 0x1Bu);
ZHC_EQ(PA_RESOURCE, 0x3Fu);
ZHC_EQ(PA_USER0, 0xF0u);

/* zx_system_get_features kinds. */
ZHC_EQ(ZX_FEATURE_KIND_CPU, 0u);
ZHC_EQ(ZX_FEATURE_KIND_HW_BREAKPOINT_COUNT, 1u);
ZHC_EQ(ZX_FEATURE_KIND_HW_WATCHPOINT_COUNT, 2u);
ZHC_EQ(ZX_FEATURE_KIND_ADDRESS_TAGGING, 3u);
ZHC_EQ(ZX_FEATURE_KIND_VM, 4u);
ZHC_EQ(ZX_HAS_CPU_FEATURES, 1u);
ZHC_EQ(ZX_VM_FEATURE_CAN_MAP_XOM, 1u);

/* The calls, with Zircon's exact prototypes. */
ZHC_PROTO(zx_handle_close, zx_status_t (*)(zx_handle_t));
ZHC_PROTO(zx_handle_close_many, zx_status_t (*)(const zx_handle_t *, size_t));
ZHC_PROTO(zx_handle_duplicate, zx_status_t (*)(zx_handle_t, zx_rights_t, zx_handle_t *));
ZHC_PROTO(zx_handle_replace, zx_status_t (*)(zx_handle_t, zx_rights_t, zx_handle_t *));
ZHC_PROTO(zx_object_get_info,
          zx_status_t (*)(zx_handle_t, uint32_t, void *, size_t, size_t *, size_t *));
ZHC_PROTO(zx_object_get_property, zx_status_t (*)(zx_handle_t, uint32_t, void *, size_t));
ZHC_PROTO(zx_object_set_property,
          zx_status_t (*)(zx_handle_t, uint32_t, const void *, size_t));
ZHC_PROTO(zx_object_wait_one,
          zx_status_t (*)(zx_handle_t, zx_signals_t, zx_time_t, zx_signals_t *));
ZHC_PROTO(zx_object_signal, zx_status_t (*)(zx_handle_t, uint32_t, uint32_t));
ZHC_PROTO(zx_vmo_create, zx_status_t (*)(uint64_t, uint32_t, zx_handle_t *));
ZHC_PROTO(zx_vmo_read, zx_status_t (*)(zx_handle_t, void *, uint64_t, size_t));
ZHC_PROTO(zx_vmo_write, zx_status_t (*)(zx_handle_t, const void *, uint64_t, size_t));
ZHC_PROTO(zx_vmo_get_size, zx_status_t (*)(zx_handle_t, uint64_t *));
ZHC_PROTO(zx_vmo_set_size, zx_status_t (*)(zx_handle_t, uint64_t));
ZHC_PROTO(zx_vmo_op_range,
          zx_status_t (*)(zx_handle_t, uint32_t, uint64_t, uint64_t, void *, size_t));
ZHC_PROTO(zx_vmo_create_child,
          zx_status_t (*)(zx_handle_t, uint32_t, uint64_t, uint64_t, zx_handle_t *));
ZHC_PROTO(zx_vmo_replace_as_executable, zx_status_t (*)(zx_handle_t, zx_handle_t, zx_handle_t *));
ZHC_PROTO(zx_vmo_set_cache_policy, zx_status_t (*)(zx_handle_t, uint32_t));
ZHC_PROTO(zx_vmar_allocate, zx_status_t (*)(zx_handle_t, zx_vm_option_t, size_t, size_t,
                                            zx_handle_t *, zx_vaddr_t *));
ZHC_PROTO(zx_vmar_map, zx_status_t (*)(zx_handle_t, zx_vm_option_t, size_t, zx_handle_t,
                                       uint64_t, size_t, zx_vaddr_t *));
ZHC_PROTO(zx_vmar_unmap, zx_status_t (*)(zx_handle_t, zx_vaddr_t, size_t));
ZHC_PROTO(zx_vmar_protect, zx_status_t (*)(zx_handle_t, zx_vm_option_t, zx_vaddr_t, size_t));
ZHC_PROTO(zx_vmar_op_range,
          zx_status_t (*)(zx_handle_t, uint32_t, zx_vaddr_t, size_t, void *, size_t));
ZHC_PROTO(zx_vmar_destroy, zx_status_t (*)(zx_handle_t));
ZHC_PROTO(zx_process_create, zx_status_t (*)(zx_handle_t, const char *, size_t, uint32_t,
                                             zx_handle_t *, zx_handle_t *));
ZHC_PROTO(zx_process_start, zx_status_t (*)(zx_handle_t, zx_handle_t, zx_vaddr_t, zx_vaddr_t,
                                            zx_handle_t, uintptr_t));
ZHC_PROTO(zx_process_exit, void (*)(int64_t));
ZHC_PROTO(zx_process_read_memory,
          zx_status_t (*)(zx_handle_t, zx_vaddr_t, void *, size_t, size_t *));
ZHC_PROTO(zx_process_write_memory,
          zx_status_t (*)(zx_handle_t, zx_vaddr_t, const void *, size_t, size_t *));
ZHC_PROTO(zx_thread_create,
          zx_status_t (*)(zx_handle_t, const char *, size_t, uint32_t, zx_handle_t *));
ZHC_PROTO(zx_thread_start,
          zx_status_t (*)(zx_handle_t, zx_vaddr_t, zx_vaddr_t, uintptr_t, uintptr_t));
ZHC_PROTO(zx_thread_exit, void (*)(void));
ZHC_PROTO(zx_task_kill, zx_status_t (*)(zx_handle_t));
ZHC_PROTO(zx_channel_create, zx_status_t (*)(uint32_t, zx_handle_t *, zx_handle_t *));
ZHC_PROTO(zx_channel_write, zx_status_t (*)(zx_handle_t, uint32_t, const void *, uint32_t,
                                            const zx_handle_t *, uint32_t));
ZHC_PROTO(zx_channel_read, zx_status_t (*)(zx_handle_t, uint32_t, void *, zx_handle_t *,
                                           uint32_t, uint32_t, uint32_t *, uint32_t *));
ZHC_PROTO(zx_clock_get_monotonic, zx_time_t (*)(void));
ZHC_PROTO(zx_nanosleep, zx_status_t (*)(zx_time_t));
ZHC_PROTO(zx_deadline_after, zx_time_t (*)(zx_duration_t));
ZHC_PROTO(zx_ticks_get, zx_ticks_t (*)(void));
ZHC_PROTO(zx_ticks_per_second, zx_ticks_t (*)(void));
ZHC_PROTO(zx_system_get_page_size, uint32_t (*)(void));
ZHC_PROTO(zx_system_get_num_cpus, uint32_t (*)(void));
ZHC_PROTO(zx_system_get_features, zx_status_t (*)(uint32_t, uint32_t *));
ZHC_PROTO(zx_debug_write, zx_status_t (*)(const char *, size_t));
ZHC_PROTO(zx_process_self, zx_handle_t (*)(void));
ZHC_PROTO(zx_vmar_root_self, zx_handle_t (*)(void));
ZHC_PROTO(zx_thread_self, zx_handle_t (*)(void));
ZHC_PROTO(zx_job_default, zx_handle_t (*)(void));
ZHC_PROTO(zx_take_startup_handle, zx_handle_t (*)(uint32_t));
ZHC_PROTO(zx_time_add_duration, zx_time_t (*)(zx_time_t, zx_duration_t));
ZHC_PROTO(zx_time_sub_time, zx_duration_t (*)(zx_time_t, zx_time_t));

/* Signalling objects: events, event pairs, ports, waits and timers. */
ZHC_EQ(ZX_OBJ_TYPE_EVENT, 5u);
ZHC_EQ(ZX_OBJ_TYPE_PORT, 6u);
ZHC_EQ(ZX_OBJ_TYPE_EVENTPAIR, 16u);
ZHC_EQ(ZX_OBJ_TYPE_TIMER, 22u);
ZHC_EQ(ZX_USER_SIGNAL_0, 1u << 24);
ZHC_EQ(ZX_USER_SIGNAL_7, 1u << 31);
ZHC_EQ(ZX_EVENT_SIGNALED, 1u << 3);
ZHC_EQ(ZX_EVENTPAIR_SIGNALED, 1u << 3);
ZHC_EQ(ZX_EVENTPAIR_PEER_CLOSED, 1u << 2);
ZHC_EQ(ZX_TIMER_SIGNALED, 1u << 3);
ZHC_EQ(ZX_WAIT_MANY_MAX_ITEMS, 64u);
ZHC_EQ(ZX_WAIT_ASYNC_ONCE, 0u);
ZHC_EQ(ZX_WAIT_ASYNC_TIMESTAMP, 1u);
ZHC_EQ(ZX_WAIT_ASYNC_EDGE, 2u);
ZHC_EQ(ZX_CLOCK_MONOTONIC, 0u);
ZHC_EQ(ZX_TIMER_SLACK_CENTER, 0u);
ZHC_EQ(ZX_TIMER_SLACK_EARLY, 1u);
ZHC_EQ(ZX_TIMER_SLACK_LATE, 2u);
ZHC_EQ(ZX_PKT_TYPE_USER, 0u);
ZHC_EQ(ZX_PKT_TYPE_SIGNAL_ONE, 1u);
ZHC_SIZE(zx_wait_item_t, 12);
ZHC_OFF(zx_wait_item_t, waitfor, 4);
ZHC_OFF(zx_wait_item_t, pending, 8);
ZHC_SIZE(zx_port_packet_t, 48);
ZHC_OFF(zx_port_packet_t, key, 0);
ZHC_OFF(zx_port_packet_t, type, 8);
ZHC_OFF(zx_port_packet_t, status, 12);
ZHC_OFF(zx_port_packet_t, user, 16);
ZHC_OFF(zx_port_packet_t, signal, 16);
ZHC_OFF(zx_packet_signal_t, observed, 4);
ZHC_OFF(zx_packet_signal_t, count, 8);
ZHC_OFF(zx_packet_signal_t, timestamp, 16);
ZHC_PROTO(zx_event_create, zx_status_t (*)(uint32_t, zx_handle_t *));
ZHC_PROTO(zx_eventpair_create, zx_status_t (*)(uint32_t, zx_handle_t *, zx_handle_t *));
ZHC_PROTO(zx_object_signal_peer, zx_status_t (*)(zx_handle_t, uint32_t, uint32_t));
ZHC_PROTO(zx_object_wait_many, zx_status_t (*)(zx_wait_item_t *, size_t, zx_time_t));
ZHC_PROTO(zx_object_wait_async,
          zx_status_t (*)(zx_handle_t, zx_handle_t, uint64_t, zx_signals_t, uint32_t));
ZHC_PROTO(zx_port_create, zx_status_t (*)(uint32_t, zx_handle_t *));
ZHC_PROTO(zx_port_queue, zx_status_t (*)(zx_handle_t, const zx_port_packet_t *));
ZHC_PROTO(zx_port_wait, zx_status_t (*)(zx_handle_t, zx_time_t, zx_port_packet_t *));
ZHC_PROTO(zx_port_cancel, zx_status_t (*)(zx_handle_t, zx_handle_t, uint64_t));
ZHC_PROTO(zx_timer_create, zx_status_t (*)(uint32_t, zx_clock_t, zx_handle_t *));
ZHC_PROTO(zx_timer_set, zx_status_t (*)(zx_handle_t, zx_time_t, zx_duration_t));
ZHC_PROTO(zx_timer_cancel, zx_status_t (*)(zx_handle_t));

zx_status_t zircon_headers_check_program(void);

/*
 * A small VMO/VMAR/channel program as a Zircon test would write it: returns ZX_OK when
 * every step gave Zircon's documented result, else the first unexpected status (or
 * ZX_ERR_INTERNAL for a wrong value). Frees everything it made.
 */
zx_status_t zircon_headers_check_program(void) {
    const uint64_t page = zx_system_get_page_size();
    zx_handle_t vmo = ZX_HANDLE_INVALID, child = ZX_HANDLE_INVALID;
    zx_handle_t ch0 = ZX_HANDLE_INVALID, ch1 = ZX_HANDLE_INVALID;
    zx_vaddr_t addr = 0;
    zx_status_t st = zx_vmo_create(4 * page, ZX_VMO_RESIZABLE, &vmo);
    if (st != ZX_OK)
        goto out;
    st = zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, 0, 2 * page, NULL, 0);
    if (st != ZX_OK)
        goto out;
    zx_info_vmo_t info;
    st = zx_object_get_info(vmo, ZX_INFO_VMO, &info, sizeof(info), NULL, NULL);
    if (st != ZX_OK)
        goto out;
    if (info.size_bytes != 4 * page || info.committed_bytes != 2 * page ||
        !(info.flags & ZX_INFO_VMO_RESIZABLE) || info.handle_rights != (ZX_DEFAULT_VMO_RIGHTS |
                                                                        ZX_RIGHT_RESIZE) ||
        info.cache_policy != ZX_CACHE_POLICY_CACHED) {
        st = ZX_ERR_INTERNAL;
        goto out;
    }
    st = zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0,
                     4 * page, &addr);
    if (st != ZX_OK)
        goto out;
    ((volatile uint8_t *)addr)[3 * page] = 0x5a;
    st = zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_DECOMMIT, addr + 3 * page, page,
                          NULL, 0);
    if (st != ZX_OK)
        goto out;
    if (((volatile uint8_t *)addr)[3 * page] != 0) {
        st = ZX_ERR_INTERNAL;
        goto out;
    }
    st = zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE, 0, page,
                             &child);
    if (st != ZX_OK)
        goto out;
    st = zx_channel_create(0, &ch0, &ch1);
    if (st != ZX_OK)
        goto out;
    st = zx_channel_write(ch0, 0, "zx", 2, &child, 1); /* consumes child */
    child = ZX_HANDLE_INVALID;
    if (st != ZX_OK)
        goto out;
    char bytes[2];
    uint32_t nb = 0, nh = 0;
    st = zx_object_wait_one(ch1, ZX_CHANNEL_READABLE, zx_deadline_after(ZX_SEC(10)), NULL);
    if (st == ZX_OK)
        st = zx_channel_read(ch1, 0, bytes, &child, sizeof(bytes), 1, &nb, &nh);
    if (st != ZX_OK)
        goto out;
    zx_info_handle_basic_t basic;
    st = zx_object_get_info(child, ZX_INFO_HANDLE_BASIC, &basic, sizeof(basic), NULL, NULL);
    if (st != ZX_OK)
        goto out;
    if (nb != 2 || nh != 1 || basic.type != ZX_OBJ_TYPE_VMO ||
        !(basic.rights & ZX_RIGHT_RESIZE)) {
        st = ZX_ERR_INTERNAL;
        goto out;
    }
    zx_info_process_t proc;
    st = zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS, &proc, sizeof(proc), NULL,
                            NULL);
    if (st == ZX_OK && !(proc.flags & ZX_INFO_PROCESS_FLAG_STARTED))
        st = ZX_ERR_INTERNAL;
out:
    if (addr)
        zx_vmar_unmap(zx_vmar_root_self(), addr, 4 * page);
    zx_handle_t all[] = {vmo, child, ch0, ch1};
    zx_handle_close_many(all, sizeof(all) / sizeof(all[0]));
    return st;
}
