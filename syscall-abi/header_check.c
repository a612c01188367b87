/*
 * Compiled into beryl_syscalls with the user flags so that a broken public header fails
 * the build even before a program includes it. Defines nothing that gets linked.
 */
#include <zircon/processargs.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls-next.h>
#include <zircon/syscalls/exception.h>
#include <zircon/syscalls/object.h>
#include <zircon/syscalls/profile.h>
#include <zircon/types.h>

/* Constants of the placement syscalls, as Zircon defines them (the layouts are asserted
 * in the headers themselves). */
_Static_assert(ZX_OBJ_TYPE_PROFILE == 25u, "ZX_OBJ_TYPE_PROFILE");
_Static_assert(ZX_DEFAULT_PROFILE_RIGHTS == 0x88003u, "ZX_DEFAULT_PROFILE_RIGHTS");
_Static_assert(ZX_INFO_THREAD_STATS == 15u, "ZX_INFO_THREAD_STATS");
_Static_assert(ZX_INFO_INVALID_CPU == 0xFFFFFFFFu, "ZX_INFO_INVALID_CPU");
_Static_assert(ZX_PROFILE_INFO_FLAG_PRIORITY == 1 && ZX_PROFILE_INFO_FLAG_CPU_MASK == 2 &&
                   ZX_PROFILE_INFO_FLAG_DEADLINE == 4 && ZX_PROFILE_INFO_FLAG_NO_INHERIT == 8,
               "ZX_PROFILE_INFO_FLAG_*");
_Static_assert(ZX_PRIORITY_LOWEST == 0 && ZX_PRIORITY_DEFAULT == 16 && ZX_PRIORITY_HIGHEST == 31,
               "ZX_PRIORITY_*");
_Static_assert(ZX_CPU_SET_MAX_CPUS == 512 && ZX_CPU_SET_BITS_PER_WORD == 64, "zx_cpu_set_t");
_Static_assert(__builtin_offsetof(zx_info_thread_stats_t, last_scheduled_cpu) == 8,
               "zx_info_thread_stats_t.last_scheduled_cpu offset");
