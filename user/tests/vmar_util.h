/*
 * Helpers shared by the VMAR test programs (vmar_alloc.c, vmar_map.c, vmar_protect.c,
 * vmar_op.c, vmar_unmap.c, vmar_vmo.c ...). Header-only; every program includes it once.
 *
 * Effective permissions are probed without faulting the test process: the kernel's own
 * user copies obey the page protections (CR0.WP is set), so
 *   - zx_vmo_write(probe, addr, ...) succeeds only if addr is readable,
 *   - zx_vmo_read(probe, addr, ...) succeeds only if addr is writable,
 * and a failed copy is ZX_ERR_NOT_FOUND (decisions.md) instead of an exception.
 * zx_process_read_memory reads through the VMO whatever the protection is, so it tells
 * only whether an address is mapped at all (Zircon answers ZX_ERR_NO_MEMORY otherwise).
 */
#ifndef VMAR_UTIL_H
#define VMAR_UTIL_H

#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#define PG ((size_t)TU_PAGE)
#define VU_R ZX_VM_PERM_READ
#define VU_RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)
#define VU_RX (ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE)
#define VU_CAN_R ZX_VM_CAN_MAP_READ
#define VU_CAN_RW (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE)
#define VU_CAN_RWX (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE)
/* A sub-VMAR the tests can place things in at known offsets. */
#define VU_CAN_RWS (VU_CAN_RW | ZX_VM_CAN_MAP_SPECIFIC)

/* Pointers the kernel must refuse to write through. */
#define VU_UNMAPPED_PTR ((void *)0x1000)
#define VU_KERNEL_PTR ((void *)0xffffffff80000000ull)

/* A new VMO of size bytes (0 if creation failed). */
static inline zx_handle_t vu_vmo(size_t size) {
    zx_handle_t h = ZX_HANDLE_INVALID;
    if (zx_vmo_create(size, 0, &h) != ZX_OK)
        return ZX_HANDLE_INVALID;
    return h;
}

/* A VMO of npages pages whose page i starts with byte seed + i (0 on failure). */
static inline zx_handle_t vu_vmo_pattern(size_t npages, uint8_t seed) {
    zx_handle_t h = vu_vmo(npages * PG);
    for (size_t i = 0; h && i < npages; i++) {
        uint8_t b = (uint8_t)(seed + i);
        if (zx_vmo_write(h, &b, i * PG, 1) != ZX_OK) {
            zx_handle_close(h);
            h = ZX_HANDLE_INVALID;
        }
    }
    return h;
}

/* A sub-VMAR of the root VMAR anywhere (status of the allocate). */
static inline zx_status_t vu_sub(zx_vm_option_t opts, size_t size, zx_handle_t *h,
                                 zx_vaddr_t *addr) {
    return zx_vmar_allocate(zx_vmar_root_self(), opts, 0, size, h, addr);
}

/* Destroys and closes a VMAR handle (best effort: cleanup after the checks). */
static inline void vu_drop(zx_handle_t vmar) {
    zx_vmar_destroy(vmar);
    zx_handle_close(vmar);
}

/* The first byte at addr read through the mapped VMO, ignoring the protection:
 * ZX_ERR_NO_MEMORY when nothing is mapped there. */
static inline zx_status_t vu_peek(zx_vaddr_t addr, uint8_t *out) {
    size_t actual = 0;
    return zx_process_read_memory(zx_process_self(), addr, out, 1, &actual);
}

static inline bool vu_mapped(zx_vaddr_t addr) {
    uint8_t b;
    return vu_peek(addr, &b) == ZX_OK;
}

/* True if page addr is mapped and its first byte is want. */
static inline bool vu_holds(zx_vaddr_t addr, uint8_t want) {
    uint8_t b = (uint8_t)~want;
    return vu_peek(addr, &b) == ZX_OK && b == want;
}

/* One page-sized scratch VMO for the probes below (lives until the process exits). */
static inline zx_handle_t vu_probe_vmo(void) {
    static zx_handle_t probe;
    if (!probe)
        probe = vu_vmo(PG);
    return probe;
}

/* True if user code could read the byte at addr (see the comment at the top). */
static inline bool vu_can_read(zx_vaddr_t addr) {
    return zx_vmo_write(vu_probe_vmo(), (const void *)addr, 0, 1) == ZX_OK;
}

/* True if user code could write the byte at addr; the byte keeps its value (it is
 * written back as it was). Writing commits the page, as a user write would. */
static inline bool vu_can_write(zx_vaddr_t addr) {
    uint8_t b;
    if (vu_peek(addr, &b) != ZX_OK || zx_vmo_write(vu_probe_vmo(), &b, 0, 1) != ZX_OK)
        return false;
    return zx_vmo_read(vu_probe_vmo(), (void *)addr, 0, 1) == ZX_OK;
}

/* Maps vmo (from offset 0) at vmar_offset of vmar with ZX_VM_SPECIFIC. */
static inline zx_status_t vu_map_at(zx_handle_t vmar, zx_vm_option_t perms, size_t vmar_offset,
                                    zx_handle_t vmo, size_t len, zx_vaddr_t *addr) {
    return zx_vmar_map(vmar, perms | ZX_VM_SPECIFIC, vmar_offset, vmo, 0, len, addr);
}

/* The root VMAR of this process (short name for the many calls that use it). */
static inline zx_handle_t vu_root(void) { return zx_vmar_root_self(); }

/* An executable VMO of size bytes (READ|WRITE|EXECUTE|MAP...; invalid on failure). */
static inline zx_handle_t vu_exec_vmo(size_t size) {
    zx_handle_t vmo = vu_vmo(size), exec = ZX_HANDLE_INVALID;
    if (zx_vmo_replace_as_executable(vmo, ZX_HANDLE_INVALID, &exec) != ZX_OK)
        return ZX_HANDLE_INVALID;
    return exec;
}

/* A sub-VMAR of the root (R/W/specific) with one VMO mapped RW over all of it. */
typedef struct vu_fixture {
    zx_handle_t vmar;
    zx_handle_t vmo;
    zx_vaddr_t base;
} vu_fixture_t;

/* The sub-VMAR of f: npages, allocated anywhere in the root VMAR. */
static inline zx_status_t vu_fixture_sub_(vu_fixture_t *f, size_t npages) {
    memset(f, 0, sizeof(*f));
    return vu_sub(VU_CAN_RWS, npages * PG, &f->vmar, &f->base);
}

/* Maps f->vmo RW over all of f's sub-VMAR (ZX_ERR_NO_MEMORY if there is no VMO). */
static inline zx_status_t vu_fixture_map_(vu_fixture_t *f, size_t npages) {
    if (!f->vmo)
        return ZX_ERR_NO_MEMORY;
    zx_vaddr_t addr;
    return vu_map_at(f->vmar, VU_RW, 0, f->vmo, npages * PG, &addr);
}

/* The fixture over a pattern VMO: page i starts with seed + i. */
static inline zx_status_t vu_fixture_init(vu_fixture_t *f, size_t npages, uint8_t seed) {
    zx_status_t st = vu_fixture_sub_(f, npages);
    if (st != ZX_OK)
        return st;
    f->vmo = vu_vmo_pattern(npages, seed);
    return vu_fixture_map_(f, npages);
}

/* The fixture over a fresh (uncommitted) VMO. */
static inline zx_status_t vu_fixture_init_fresh(vu_fixture_t *f, size_t npages) {
    zx_status_t st = vu_fixture_sub_(f, npages);
    if (st != ZX_OK)
        return st;
    f->vmo = vu_vmo(npages * PG);
    return vu_fixture_map_(f, npages);
}

/* Destroys the sub-VMAR and closes both handles (best effort: cleanup after the checks). */
static inline void vu_fixture_fini(vu_fixture_t *f) {
    vu_drop(f->vmar);
    zx_handle_close(f->vmo);
}

#endif
