/*
 * What zx_system_get_features() reports, with Zircon's names and values (Zircon's public
 * <zircon/features.h>). What Beryl answers for each kind is in docs/syscalls.md.
 */
#ifndef ZIRCON_FEATURES_H
#define ZIRCON_FEATURES_H

#include <stdint.h>

/* The kind argument of zx_system_get_features(). */
#define ZX_FEATURE_KIND_CPU ((uint32_t)0)
#define ZX_FEATURE_KIND_HW_BREAKPOINT_COUNT ((uint32_t)1)
#define ZX_FEATURE_KIND_HW_WATCHPOINT_COUNT ((uint32_t)2)
#define ZX_FEATURE_KIND_ADDRESS_TAGGING ((uint32_t)3)
#define ZX_FEATURE_KIND_VM ((uint32_t)4)

/* Set in a ZX_FEATURE_KIND_CPU answer on architectures that report CPU features this way
 * (never on x86-64, where programs use cpuid). */
#define ZX_HAS_CPU_FEATURES ((uint32_t)(1u << 0))

/* ZX_FEATURE_KIND_VM: the system can map pages execute-only. */
#define ZX_VM_FEATURE_CAN_MAP_XOM ((uint32_t)(1u << 0))

#endif
