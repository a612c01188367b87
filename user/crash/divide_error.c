/* Dies dividing by zero (a #DE) two calls deep, the divisor in ecx: the report has the
 * vector's name, registers (rcx 0) and a backtrace with names and file:line, but no
 * mapping line and no walk. */
#include "crash.h"

__attribute__((noinline)) static uint32_t crash_inner(uint32_t divisor) {
    uint32_t lo = 1, hi = 0;
    __asm__ volatile("divl %2" : "+a"(lo), "+d"(hi) : "c"(divisor));
    return lo;
}

__attribute__((noinline)) static uint32_t crash_outer(uint32_t divisor) {
    uint32_t q = crash_inner(divisor);
    __asm__ volatile("" ::: "memory");
    return q;
}

int main(void) {
    printf("crash: dividing by zero\n");
    uint32_t q = crash_outer(0);
    __asm__ volatile("" ::: "memory"); /* no tail call: keep main's frame */
    return (int)q;
}
