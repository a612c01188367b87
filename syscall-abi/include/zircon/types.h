/* Basic Zircon types shared by the kernel and user space. */
#ifndef ZIRCON_TYPES_H
#define ZIRCON_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <zircon/errors.h>

typedef int32_t zx_status_t;
typedef uint32_t zx_handle_t;
typedef uint32_t zx_rights_t;
typedef uint64_t zx_koid_t;
typedef uint32_t zx_vm_option_t;
typedef uintptr_t zx_vaddr_t;
typedef uint64_t zx_paddr_t;
typedef int64_t zx_time_t;
typedef int64_t zx_duration_t;
typedef uint32_t zx_obj_type_t;
typedef uint32_t zx_signals_t;

#define ZX_HANDLE_INVALID ((zx_handle_t)0)
#define ZX_HANDLE_FIXED_BITS_MASK ((zx_handle_t)0x3)
#define ZX_KOID_INVALID ((zx_koid_t)0)
#define ZX_KOID_KERNEL ((zx_koid_t)1)
#define ZX_KOID_FIRST ((zx_koid_t)1024)
#define ZX_MAX_NAME_LEN ((size_t)32u)

#endif
