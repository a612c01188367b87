/* TEMPORARY stand-in for syscall-abi's <zircon/vmo_vmar.h> (wip-vmsys; see ../README.md). */
#ifndef ZIRCON_VMO_VMAR_H
#define ZIRCON_VMO_VMAR_H

#include <zircon/types.h>

#ifndef ZX_VMO_RESIZABLE
#define ZX_VMO_RESIZABLE ((uint32_t)1u << 1)
#endif
#ifndef ZX_VMO_CHILD_SNAPSHOT
#define ZX_VMO_CHILD_SNAPSHOT ((uint32_t)1u << 0)
#define ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE ((uint32_t)1u << 4)
#endif

#endif
