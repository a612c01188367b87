/* Dies of an undefined opcode (ud2, a #UD) two calls deep: the report has the vector's
 * name, registers and a backtrace with names and file:line, but no mapping line and no
 * walk (those are a page fault's). */
#include "crash.h"

__attribute__((noinline)) static void crash_inner(void) {
    __asm__ volatile("ud2");
}

__attribute__((noinline)) static void crash_outer(void) {
    crash_inner();
    __asm__ volatile("" ::: "memory");
}

int main(void) {
    printf("crash: executing ud2\n");
    crash_outer();
    return 0;
}
