/*
 * Compiled into beryl_syscalls with the user flags so that a broken public header fails
 * the build even before a program includes it: every header of syscall-abi/include.
 * Defines nothing that gets linked. The Zircon-program check (names reached through Zircon's usual includes,
 * with Zircon's values and layouts) is zircon_headers_check.c.
 */
#include <beryl/kernel_info.h>
#include <zircon/errors.h>
#include <zircon/features.h>
#include <zircon/limits.h>
#include <zircon/processargs.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls-next.h>
#include <zircon/syscalls/exception.h>
#include <zircon/syscalls/object.h>
#include <zircon/syscalls/profile.h>
#include <zircon/time.h>
#include <zircon/types.h>

/* Constants of the placement syscalls, as Zircon defines them (the layouts are asserted
 * in the headers themselves). */
_Static_assert(ZX_PROFILE_INFO_FLAG_PRIORITY == 1 && ZX_PROFILE_INFO_FLAG_CPU_MASK == 2 &&
                   ZX_PROFILE_INFO_FLAG_DEADLINE == 4 && ZX_PROFILE_INFO_FLAG_NO_INHERIT == 8,
               "ZX_PROFILE_INFO_FLAG_*");
_Static_assert(ZX_PRIORITY_LOWEST == 0 && ZX_PRIORITY_DEFAULT == 16 && ZX_PRIORITY_HIGHEST == 31,
               "ZX_PRIORITY_*");
_Static_assert(ZX_EXCEPTION_CHANNEL_TYPE_NONE == 0 && ZX_EXCEPTION_CHANNEL_TYPE_JOB_DEBUGGER == 5,
               "ZX_EXCEPTION_CHANNEL_TYPE_*");
