/*
 * VMO and VMAR ABI constants, with Zircon's values. In Zircon these live in
 * zircon/types.h and zircon/rights.h; each is guarded so that whichever copy is included
 * first wins and the lead can move them there without breaking anything.
 */
#ifndef ZIRCON_VMO_VMAR_H
#define ZIRCON_VMO_VMAR_H

#include <zircon/rights.h>
#include <zircon/types.h>

/* zx_vmo_create options. */
#ifndef ZX_VMO_RESIZABLE
#define ZX_VMO_RESIZABLE ((uint32_t)1u << 1)
#define ZX_VMO_DISCARDABLE ((uint32_t)1u << 2)
#define ZX_VMO_TRAP_DIRTY ((uint32_t)1u << 3)
#define ZX_VMO_UNBOUNDED ((uint32_t)1u << 4)
#endif

/* zx_vmo_create_child options. */
#ifndef ZX_VMO_CHILD_SNAPSHOT
#define ZX_VMO_CHILD_SNAPSHOT ((uint32_t)1u << 0)
#define ZX_VMO_CHILD_RESIZABLE ((uint32_t)1u << 2)
#define ZX_VMO_CHILD_SLICE ((uint32_t)1u << 3)
#define ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE ((uint32_t)1u << 4)
#define ZX_VMO_CHILD_NO_WRITE ((uint32_t)1u << 5)
#define ZX_VMO_CHILD_REFERENCE ((uint32_t)1u << 6)
#define ZX_VMO_CHILD_SNAPSHOT_MODIFIED ((uint32_t)1u << 7)
#define ZX_VMO_CHILD_COPY_ON_WRITE ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE
#define ZX_VMO_CHILD_PRIVATE_PAGER_COPY ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE
#endif

/* zx_vmo_op_range ops. */
#ifndef ZX_VMO_OP_COMMIT
#define ZX_VMO_OP_COMMIT 1u
#define ZX_VMO_OP_DECOMMIT 2u
#define ZX_VMO_OP_LOCK 3u
#define ZX_VMO_OP_UNLOCK 4u
#define ZX_VMO_OP_CACHE_SYNC 6u
#define ZX_VMO_OP_CACHE_INVALIDATE 7u
#define ZX_VMO_OP_CACHE_CLEAN 8u
#define ZX_VMO_OP_CACHE_CLEAN_INVALIDATE 9u
#define ZX_VMO_OP_ZERO 10u
#define ZX_VMO_OP_TRY_LOCK 11u
#define ZX_VMO_OP_DONT_NEED 12u
#define ZX_VMO_OP_ALWAYS_NEED 13u
#define ZX_VMO_OP_PREFETCH 14u
#endif

/* zx_vmar_op_range ops (kept equal to the VMO ops). */
#ifndef ZX_VMAR_OP_COMMIT
#define ZX_VMAR_OP_COMMIT 1u
#define ZX_VMAR_OP_DECOMMIT 2u
#define ZX_VMAR_OP_MAP_RANGE 3u
#define ZX_VMAR_OP_ZERO 10u
#define ZX_VMAR_OP_DONT_NEED 12u
#define ZX_VMAR_OP_ALWAYS_NEED 13u
#define ZX_VMAR_OP_PREFETCH 14u
#endif

/* Buffer of ZX_VMO_OP_LOCK / TRY_LOCK. */
#ifndef ZX_VMO_LOCK_STATE_DEFINED
#define ZX_VMO_LOCK_STATE_DEFINED
typedef struct zx_vmo_lock_state {
    uint64_t offset;
    uint64_t size;
    uint64_t discarded_offset;
    uint64_t discarded_size;
} zx_vmo_lock_state_t;
#endif

/* Cache policies. */
#ifndef ZX_CACHE_POLICY_CACHED
#define ZX_CACHE_POLICY_CACHED 0u
#define ZX_CACHE_POLICY_UNCACHED 1u
#define ZX_CACHE_POLICY_UNCACHED_DEVICE 2u
#define ZX_CACHE_POLICY_WRITE_COMBINING 3u
#define ZX_CACHE_POLICY_MASK 3u
#endif

/* Default rights (newest Zircon). */
#ifndef ZX_DEFAULT_VMO_RIGHTS
#define ZX_DEFAULT_VMO_RIGHTS \
    (ZX_RIGHTS_BASIC | ZX_RIGHTS_IO | ZX_RIGHTS_PROPERTY | ZX_RIGHT_MAP | ZX_RIGHT_SIGNAL)
#endif
#ifndef ZX_DEFAULT_VMAR_RIGHTS
#define ZX_DEFAULT_VMAR_RIGHTS ((ZX_RIGHTS_BASIC & ~ZX_RIGHT_WAIT) | ZX_RIGHT_OP_CHILDREN)
#endif

#endif
