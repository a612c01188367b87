/* Dies writing two calls deep into a page it protected read-only and never touched:
 * the report must say "write to a read-only mapping ... not yet populated". */
#include "crash.h"

__attribute__((noinline)) static void crash_inner(volatile uint8_t *p) {
    *p = 1;
    __asm__ volatile("" ::: "memory"); /* no tail call: keep this frame */
}

__attribute__((noinline)) static void crash_outer(volatile uint8_t *p) {
    crash_inner(p);
    __asm__ volatile("" ::: "memory");
}

int main(void) {
    uintptr_t a = crash_map_named("crash-write-ro", 2);
    if (zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a + CRASH_PAGE, CRASH_PAGE) !=
        ZX_OK)
        return 2;
    printf("crash: writing to 0x%lx\n", (unsigned long)(a + CRASH_PAGE + 0x10));
    crash_outer((volatile uint8_t *)(a + CRASH_PAGE + 0x10));
    return 0; /* not reached: the write kills the process */
}
