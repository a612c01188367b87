/*
 * Kernel memory probes: one access that may fault, turned into an error return. In-kernel
 * tests use them to check that an access faults (an unmapped page, a read-only page
 * written, a no-execute page executed). How a fault becomes a return:
 * the exception table of kernel/arch/x86 (probe.S) on x86-64.
 *
 * Probes are supervisor accesses: where the CPU prevents supervisor access to user pages
 * (SMAP on x86-64), a probe of a user page faults, and so reports ZX_ERR_NOT_FOUND,
 * unless it runs between arch_user_access_begin and arch_user_access_end.
 */
#ifndef ARCH_PROBE_H
#define ARCH_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <zircon/types.h>

/*
 * Reads the 8 bytes at addr into *out. Returns ZX_OK, or ZX_ERR_NOT_FOUND (and leaves
 * *out untouched) if the read faulted: not mapped, non-canonical, or forbidden by SMAP.
 */
zx_status_t arch_probe_read64(uintptr_t addr, uint64_t *out);

/* Writes value to the 8 bytes at addr. Returns ZX_OK, or ZX_ERR_NOT_FOUND if it faulted
 * (not mapped, read-only under CR0.WP, non-canonical, or forbidden by SMAP). */
zx_status_t arch_probe_write64(uintptr_t addr, uint64_t value);

/*
 * Calls addr, which must hold code that returns at once (a `ret`, byte 0xC3). Returns
 * ZX_OK after it returned, or ZX_ERR_NOT_FOUND if fetching its first instruction faulted
 * (not mapped, NX, SMEP, non-canonical). A fault inside the target's code after its first
 * instruction is not recovered.
 */
zx_status_t arch_probe_exec(uintptr_t addr);

/* True when the CPU forbids supervisor access to user pages outside a user-access
 * window (SMAP enabled). */
bool arch_user_access_guarded(void);

/* Opens / closes a window in which kernel code may touch user pages (no-ops when
 * arch_user_access_guarded() is false). Never open across anything that blocks. */
void arch_user_access_begin(void);
void arch_user_access_end(void);

#endif
