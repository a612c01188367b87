/* Dies calling, two calls deep, into a read-write page holding a `ret`: the report must
 * say "instruction fetch from a non-executable mapping ... populated". */
#include "crash.h"

typedef void (*crash_fn_t)(void);

__attribute__((noinline)) static void crash_inner(crash_fn_t fn) {
    fn();
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void crash_outer(crash_fn_t fn) {
    crash_inner(fn);
    __asm__ volatile("" ::: "memory");
}

#define X86_RET 0xc3

int main(void) {
    uintptr_t a = crash_map_named("crash-exec-nx", 1);
    *(volatile uint8_t *)a = X86_RET; /* populates the page */
    printf("crash: calling 0x%lx\n", (unsigned long)a);
    crash_outer((crash_fn_t)a);
    return 0;
}
