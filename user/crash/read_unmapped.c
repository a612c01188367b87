/* Dies reading, two calls deep, a page it mapped and then unmapped: the report must say
 * "read of an unmapped address". */
#include "crash.h"

__attribute__((noinline)) static uint8_t crash_inner(volatile uint8_t *p) {
    uint8_t v = *p;
    __asm__ volatile("" ::: "memory");
    return v;
}

__attribute__((noinline)) static uint8_t crash_outer(volatile uint8_t *p) {
    uint8_t v = crash_inner(p);
    __asm__ volatile("" ::: "memory");
    return v;
}

int main(void) {
    uintptr_t a = crash_map_named("crash-unmapped", 1);
    if (zx_vmar_unmap(zx_vmar_root_self(), a, CRASH_PAGE) != ZX_OK)
        return 2;
    printf("crash: reading 0x%lx\n", (unsigned long)(a + 0x20));
    return crash_outer((volatile uint8_t *)(a + 0x20));
}
