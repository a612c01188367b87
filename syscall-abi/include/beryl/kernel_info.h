/*
 * Beryl's own zx_object_get_info topics: kernel measurements Zircon has no topic for.
 * Their numbers sit far from Zircon's topic space (which grows from 1), so a Zircon
 * program never asks for one by accident. Like ZX_INFO_KMEM_STATS they take the root
 * resource (ZX_OBJ_TYPE_RESOURCE).
 */
#ifndef BERYL_KERNEL_INFO_H
#define BERYL_KERNEL_INFO_H

#include <stdint.h>
#include <zircon/types.h>

/*
 * The longest stretch the CPU has run with interrupts disabled since boot
 * (docs/architecture.md, "Bounded latency"): its length and the kernel code addresses
 * where it started and ended (symbolise them with the kernel's symbol table).
 */
#define BERYL_INFO_IRQOFF ((zx_object_info_topic_t)0x0b000001u) /* beryl_info_irqoff_t[1] */

typedef struct beryl_info_irqoff {
    uint64_t max_ns;    /* nanoseconds (guest instructions under -icount shift=0) */
    uint64_t max_ticks; /* the same in TSC ticks */
    uint64_t start_pc;
    uint64_t end_pc;
} beryl_info_irqoff_t;

#endif
