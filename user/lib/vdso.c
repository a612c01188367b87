/*
 * The calls Zircon's vDSO answers without entering the kernel, implemented here in the
 * user runtime (Beryl maps no vDSO). They are declared in <zircon/syscalls.h> with the
 * real syscalls (syscalls.def marks them `vdso`); what each returns is in
 * docs/syscalls.md.
 */
#include <zircon/features.h>
#include <zircon/syscalls.h>
#include <zircon/types.h>

/* Reads the clock (a syscall) and adds the duration with Zircon's saturation. */
zx_time_t zx_deadline_after(zx_duration_t nanoseconds) {
    return zx_time_add_duration(zx_clock_get_monotonic(), nanoseconds);
}

/* x86-64 has one page size for VMOs and mappings. */
uint32_t zx_system_get_page_size(void) { return (uint32_t)ZX_PAGE_SIZE; }

/*
 * Beryl's answers on x86-64: no debug registers for user threads, no address tagging,
 * no execute-only mappings; CPU features come from cpuid, so that kind is unsupported.
 * Writes *features only on success (a bad pointer faults here, as in Zircon's vDSO).
 */
zx_status_t zx_system_get_features(uint32_t kind, uint32_t *features) {
    switch (kind) {
    case ZX_FEATURE_KIND_HW_BREAKPOINT_COUNT:
    case ZX_FEATURE_KIND_HW_WATCHPOINT_COUNT:
    case ZX_FEATURE_KIND_ADDRESS_TAGGING:
    case ZX_FEATURE_KIND_VM:
        *features = 0;
        return ZX_OK;
    default:
        return ZX_ERR_NOT_SUPPORTED;
    }
}
