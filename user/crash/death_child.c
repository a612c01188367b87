/* A death test whose child dies writing, two calls deep, into a read-only page: the
 * child is a process named "death:CrashDeath.ChildFaults" started from this program's
 * boot module, so its report finds the program's symbols through the VMO mapped at each
 * frame, not through its name (qemu.user_fault_report_death_child). The case passes. */
#include <beryl/test.h>
#include "crash.h"

__attribute__((noinline)) static void crash_inner(volatile uint8_t *p) {
    *p = 1;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void crash_outer(volatile uint8_t *p) {
    crash_inner(p);
    __asm__ volatile("" ::: "memory");
}

/* A page mapped read-only (never written), for the child to write to. */
static volatile uint8_t *read_only_page(void) {
    uintptr_t a = crash_map_named("crash-death-ro", 1);
    if (zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a, CRASH_PAGE) != ZX_OK)
        exit(2);
    return (volatile uint8_t *)a;
}

TEST(CrashDeath, ChildFaults) {
    EXPECT_DEATH(crash_outer(read_only_page()), ZX_TASK_RETCODE_EXCEPTION_KILL);
}
