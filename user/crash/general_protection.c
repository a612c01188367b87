/* Dies loading, two calls deep, from a non-canonical address (a #GP, not a page fault):
 * the report has registers and a backtrace but no mapping line. */
#include "crash.h"

#define CRASH_NON_CANONICAL 0x8000000000000000ull

__attribute__((noinline)) static uint64_t crash_inner(volatile uint64_t *p) {
    uint64_t v = *p;
    __asm__ volatile("" ::: "memory");
    return v;
}

__attribute__((noinline)) static uint64_t crash_outer(volatile uint64_t *p) {
    uint64_t v = crash_inner(p);
    __asm__ volatile("" ::: "memory");
    return v;
}

int main(void) {
    printf("crash: loading from 0x%llx\n", CRASH_NON_CANONICAL);
    return (int)crash_outer((volatile uint64_t *)(uintptr_t)CRASH_NON_CANONICAL);
}
