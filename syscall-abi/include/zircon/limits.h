/*
 * Page-size limits, as Zircon's public <zircon/limits.h> names them (<zircon/types.h>
 * includes this header). The page size a program should use at run time is
 * zx_system_get_page_size(); on x86-64 it is always ZX_PAGE_SIZE.
 */
#ifndef ZIRCON_LIMITS_H
#define ZIRCON_LIMITS_H

#include <stdint.h>

#define ZX_PAGE_SHIFT ((uint32_t)12u)
#define ZX_PAGE_SIZE ((uintptr_t)(1u << ZX_PAGE_SHIFT))
#define ZX_PAGE_MASK (ZX_PAGE_SIZE - 1u)

/* The range of page sizes the architecture may use (x86-64: 4 KiB .. 2 MiB). */
#define ZX_MIN_PAGE_SHIFT ((uint32_t)12u)
#define ZX_MAX_PAGE_SHIFT ((uint32_t)21u)
#define ZX_MIN_PAGE_SIZE ((uintptr_t)(1u << ZX_MIN_PAGE_SHIFT))
#define ZX_MAX_PAGE_SIZE ((uintptr_t)(1u << ZX_MAX_PAGE_SHIFT))

#endif
