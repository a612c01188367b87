/*
 * Helpers shared by the VMO test programs (vmo.c, vmo_ops.c, vmo_child.c): the VMO rights
 * and size limit as numbers (so a wrong constant in a header cannot hide a wrong answer)
 * and small queries that return a value (a failed query returns a value no check
 * expects, so the calling case fails).
 */
#ifndef BERYL_TESTS_VMO_UTIL_H
#define BERYL_TESTS_VMO_UTIL_H

#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#define P TU_PAGE
#define KERNEL_PTR ((void *)0xffffffff80000000ull)
#define NONCANON_PTR ((void *)0x0000900000000000ull)
#define VMO_RIGHTS 0xD0EFu          /* ZX_DEFAULT_VMO_RIGHTS */
#define VMO_RESIZE_RIGHTS 0x40D0EFu /* ... plus ZX_RIGHT_RESIZE */
#define BERYL_VMO_SIZE_MAX (1ull << 63) /* decisions.md: Beryl's largest VMO */

/* Unlike tu_vmo_info, the buffer starts as 0xA5 bytes, so a field the kernel leaves
 * unwritten on success shows as a wrong value (all-zero if the query fails). */
static inline zx_info_vmo_t vmo_info(zx_handle_t h) {
    zx_info_vmo_t info;
    memset(&info, 0xA5, sizeof(info));
    if (zx_object_get_info(h, ZX_INFO_VMO, &info, sizeof(info), NULL, NULL) != ZX_OK)
        memset(&info, 0, sizeof(info));
    return info;
}

static inline uint64_t vmo_size(zx_handle_t h) {
    uint64_t size = 0xdeadbeef;
    zx_vmo_get_size(h, &size);
    return size;
}

static inline uint64_t content_size(zx_handle_t h) {
    uint64_t size = 0xdeadbeef;
    zx_object_get_property(h, ZX_PROP_VMO_CONTENT_SIZE, &size, sizeof(size));
    return size;
}

/* The byte at offset (0xA5 if the read fails). */
static inline uint8_t byte_at(zx_handle_t vmo, uint64_t offset) {
    uint8_t b = 0xA5;
    zx_vmo_read(vmo, &b, offset, 1);
    return b;
}

/* True if every byte of buf[0..n) is c. */
static inline bool all_bytes(const void *buf, size_t n, uint8_t c) {
    const uint8_t *p = buf;
    for (size_t i = 0; i < n; i++)
        if (p[i] != c)
            return false;
    return true;
}

/* Kernel heap bytes in use: a handle or VMO object that outlived a failed call shows here. */
static inline uint64_t heap_used(void) {
    zx_info_kmem_stats_t k;
    memset(&k, 0, sizeof(k));
    zx_object_get_info(beryl_resource(), ZX_INFO_KMEM_STATS, &k, sizeof(k), NULL, NULL);
    return k.total_heap_bytes - k.free_heap_bytes;
}

#endif
