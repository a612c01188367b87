/*
 * Running out of memory on purpose, shared by the programs that test what the kernel
 * does then (oom.c, vmo_discardable.c). Header-only; meant for death-test children, so
 * that the exhaustion ends when the child does.
 */
#ifndef BERYL_TESTS_OOM_UTIL_H
#define BERYL_TESTS_OOM_UTIL_H

#include <beryl/test_util.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#define OOM_CHUNK ((size_t)1 << 20)
#define OOM_HOG_MAX ((uint64_t)1 << 40) /* the hog VMO's size: far more than any RAM */

/* Commits a hog VMO chunk by chunk, then page by page, until nothing is left. Returns
 * the VMO (never closed: it goes with the process) or ZX_HANDLE_INVALID. */
static inline zx_handle_t oom_exhaust_memory(void) {
    zx_handle_t hog;
    if (zx_vmo_create(OOM_HOG_MAX, 0, &hog) != ZX_OK)
        return ZX_HANDLE_INVALID;
    uint64_t off = 0;
    while (zx_vmo_op_range(hog, ZX_VMO_OP_COMMIT, off, OOM_CHUNK, NULL, 0) == ZX_OK)
        off += OOM_CHUNK;
    /* A failed commit keeps what it committed; go on a page at a time from there. */
    off = tu_vmo_info(hog).committed_bytes;
    while (zx_vmo_op_range(hog, ZX_VMO_OP_COMMIT, off, TU_PAGE, NULL, 0) == ZX_OK)
        off += TU_PAGE;
    return hog;
}

#endif
