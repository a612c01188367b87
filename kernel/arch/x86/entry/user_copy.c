/*
 * User copies (contract in <kernel/user_copy.h>). The range check keeps every access
 * inside the user half; the exception table turns a fault the VM cannot resolve into an
 * error return; SMAP is lifted (stac/clac) for exactly the duration of the copy.
 */
#include <arch/x86/arch.h>
#include <arch/x86/cpu.h>
#include <kernel/user_copy.h>

size_t x86_user_copy_raw(void *dst, const void *src, size_t len);

bool user_range_ok(user_addr_t addr, size_t len) {
    if (len == 0)
        return true;
    if (addr == 0)
        return false;
    user_addr_t end = addr + len;
    return end > addr && end <= USER_ASPACE_TOP;
}

static inline void user_access_begin(void) {
    if (x86_features.smap)
        x86_stac();
}

static inline void user_access_end(void) {
    if (x86_features.smap)
        x86_clac();
}

zx_status_t user_copy_from(void *dst, user_addr_t src, size_t len) {
    if (len == 0)
        return ZX_OK;
    if (!user_range_ok(src, len))
        return ZX_ERR_INVALID_ARGS;
    user_access_begin();
    size_t left = x86_user_copy_raw(dst, (const void *)src, len);
    user_access_end();
    return left == 0 ? ZX_OK : ZX_ERR_INVALID_ARGS;
}

zx_status_t user_copy_to(user_addr_t dst, const void *src, size_t len) {
    if (len == 0)
        return ZX_OK;
    if (!user_range_ok(dst, len))
        return ZX_ERR_INVALID_ARGS;
    user_access_begin();
    size_t left = x86_user_copy_raw((void *)dst, src, len);
    user_access_end();
    return left == 0 ? ZX_OK : ZX_ERR_INVALID_ARGS;
}
