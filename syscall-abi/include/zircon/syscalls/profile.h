/*
 * Scheduler profiles: what zx_profile_create reads (zx_profile_info_t) and the constants
 * around it. Values, field names and the layout follow Zircon's newest public
 * <zircon/syscalls/profile.h> (checked by the _Static_asserts at the end), so a caller
 * written for Zircon fills the same bytes. What Beryl does with each field is in
 * docs/syscalls.md (zx_profile_create, zx_object_set_profile and the decisions at its
 * end). Shared by the kernel and user space (freestanding).
 */
#ifndef ZIRCON_SYSCALLS_PROFILE_H
#define ZIRCON_SYSCALLS_PROFILE_H

#include <zircon/syscalls/object.h>
#include <zircon/types.h>

/* Fair-scheduling priorities (ZX_PROFILE_INFO_FLAG_PRIORITY): LOWEST .. HIGHEST. */
#define ZX_PRIORITY_LOWEST 0
#define ZX_PRIORITY_LOW 8
#define ZX_PRIORITY_DEFAULT 16
#define ZX_PRIORITY_HIGH 24
#define ZX_PRIORITY_HIGHEST 31

/* zx_profile_info_t.flags: which fields are set, and options. */
#define ZX_PROFILE_INFO_FLAG_PRIORITY (1 << 0)
#define ZX_PROFILE_INFO_FLAG_CPU_MASK (1 << 1)
#define ZX_PROFILE_INFO_FLAG_DEADLINE (1 << 2)
#define ZX_PROFILE_INFO_FLAG_NO_INHERIT (1 << 3)

/* zx_cpu_set_t (a set of CPUs) is <zircon/types.h>'s, as in Zircon. */

/* Deadline scheduling parameters (ZX_PROFILE_INFO_FLAG_DEADLINE), in nanoseconds. */
typedef struct zx_sched_deadline_params {
    zx_duration_t capacity;          /* worst-case run time per period */
    zx_duration_t relative_deadline; /* from the period's start */
    zx_duration_t period;
} zx_sched_deadline_params_t;

typedef struct zx_profile_info {
    uint32_t flags; /* ZX_PROFILE_INFO_FLAG_*: fields without their flag are ignored */
    uint8_t padding1[4];
    union {
        struct {
            int32_t priority; /* ZX_PROFILE_INFO_FLAG_PRIORITY */
            uint8_t padding2[20];
        };
        zx_sched_deadline_params_t deadline_params; /* ZX_PROFILE_INFO_FLAG_DEADLINE */
    };
    zx_cpu_set_t cpu_affinity_mask; /* ZX_PROFILE_INFO_FLAG_CPU_MASK */
} zx_profile_info_t;

/* Layouts must match Zircon's byte for byte (x86-64). */
_Static_assert(sizeof(zx_cpu_set_t) == 64, "zx_cpu_set_t layout");
_Static_assert(sizeof(zx_sched_deadline_params_t) == 24, "zx_sched_deadline_params_t layout");
_Static_assert(sizeof(zx_profile_info_t) == 96, "zx_profile_info_t layout");
_Static_assert(__builtin_offsetof(zx_profile_info_t, priority) == 8, "priority offset");
_Static_assert(__builtin_offsetof(zx_profile_info_t, deadline_params) == 8, "deadline offset");
_Static_assert(__builtin_offsetof(zx_profile_info_t, cpu_affinity_mask) == 32, "mask offset");

#endif
