/*
 * Helpers shared by the page-fault and shared-mapping test programs (vm_fault.c,
 * vm_fault_cow.c, vm_fault_edges.c, vm_shared.c, vm_shared_threads.c): direct loads and
 * stores through mappings, patterned VMOs, and root-VMAR map / unmap. Header-only; a
 * failed helper returns a value no check expects (0, ZX_HANDLE_INVALID, ~0), so the
 * calling case fails.
 */
#ifndef BERYL_TESTS_VM_UTIL_H
#define BERYL_TESTS_VM_UTIL_H

#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#define PAGE TU_PAGE
#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)
#define KILLED ZX_TASK_RETCODE_EXCEPTION_KILL

/* Hides the address from the optimiser, so that no access through a constant (null, say)
 * is turned into a trap instruction, which would die for the wrong reason. */
static inline zx_vaddr_t launder(zx_vaddr_t a) {
    __asm__ volatile("" : "+r"(a));
    return a;
}

/* One real 64-bit load / store at a (it faults if the mapping forbids it). */
static inline uint64_t rd64(zx_vaddr_t a) { return *(volatile uint64_t *)launder(a); }
static inline void wr64(zx_vaddr_t a, uint64_t v) { *(volatile uint64_t *)launder(a) = v; }

/* A VMO of `pages` pages; the first word of page i is 0x1000 + i (invalid on failure). */
static inline zx_handle_t patterned_vmo(size_t pages, uint32_t options) {
    zx_handle_t vmo = ZX_HANDLE_INVALID;
    if (zx_vmo_create(pages * PAGE, options, &vmo) != ZX_OK)
        return ZX_HANDLE_INVALID;
    for (size_t i = 0; i < pages; i++) {
        uint64_t v = 0x1000 + i;
        zx_vmo_write(vmo, &v, i * PAGE, sizeof(v));
    }
    return vmo;
}

/* Maps len bytes of vmo (from offset 0) anywhere in the root VMAR; 0 on failure. */
static inline zx_vaddr_t map(zx_handle_t vmo, zx_vm_option_t options, size_t len) {
    zx_vaddr_t a = 0;
    if (zx_vmar_map(zx_vmar_root_self(), options, 0, vmo, 0, len, &a) != ZX_OK)
        return 0;
    return a;
}

/* Unmaps [a, a + len) from the root VMAR (cleanup: the status is not checked). */
static inline void unmap(zx_vaddr_t a, size_t len) {
    zx_vmar_unmap(zx_vmar_root_self(), a, len);
}

/* The word at off read through the VMO (not a mapping); ~0 if the read fails. */
static inline uint64_t vmo_word(zx_handle_t vmo, uint64_t off) {
    uint64_t v = ~0ull;
    zx_vmo_read(vmo, &v, off, sizeof(v));
    return v;
}

/* The VMO's committed bytes (0 if the query fails). */
static inline uint64_t committed(zx_handle_t vmo) { return tu_vmo_info(vmo).committed_bytes; }

#endif
