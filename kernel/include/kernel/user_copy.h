/*
 * Copying between the kernel and the current process's user memory.
 *
 * A user address is a plain user_addr_t (never dereferenced directly). Each copy checks
 * that [addr, addr + len) lies entirely inside the user half (below USER_ASPACE_TOP,
 * no wrap), then copies with fault recovery: a page that is not mapped, or not
 * accessible (read: readable, write: writable), ends the copy with an error instead of a
 * kernel fault. Page faults the VM can resolve (first touch, copy-on-write) are resolved
 * on the way. With SMAP, RFLAGS.AC is set only for the duration of the copy.
 *
 * Every function returns ZX_OK or ZX_ERR_INVALID_ARGS (bad range or faulting access;
 * part of the data may have been copied). len == 0 always succeeds, whatever addr is.
 * A null addr with len > 0 is ZX_ERR_INVALID_ARGS.
 */
#ifndef KERNEL_USER_COPY_H
#define KERNEL_USER_COPY_H

#include <stddef.h>
#include <stdint.h>
#include <zircon/types.h>

typedef uintptr_t user_addr_t;

/* Exclusive top of the user half: 2^47 - 4 KiB (Zircon excludes the last page). */
#define USER_ASPACE_BASE ((uintptr_t)0x200000u)
#define USER_ASPACE_TOP ((uintptr_t)0x7ffffffff000ull)

/* True if [addr, addr + len) is a non-wrapping range inside [0, USER_ASPACE_TOP). */
bool user_range_ok(user_addr_t addr, size_t len);

zx_status_t user_copy_from(void *dst, user_addr_t src, size_t len);
zx_status_t user_copy_to(user_addr_t dst, const void *src, size_t len);

/* Typed conveniences for scalar out-parameters. */
static inline zx_status_t user_put_u32(user_addr_t dst, uint32_t v) {
    return user_copy_to(dst, &v, sizeof(v));
}
static inline zx_status_t user_put_u64(user_addr_t dst, uint64_t v) {
    return user_copy_to(dst, &v, sizeof(v));
}

#endif
