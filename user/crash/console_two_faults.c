/* Two faults of one process at the kernel debug console (qemu.debug_console_two_faults):
 * the main thread dies writing into a page it protected read-only; while it is stopped at
 * the console (kernel.debug-console=fault), a second thread unmaps that region and then
 * faults reading it. The second fault's report prints at once and its session waits for
 * the first one's `exit`, after which the kernel kills the process; the second session
 * then describes a process that is dying, and its `exit` lets the process end. */
#include <beryl/test_util.h>
#include "crash.h"

static zx_handle_t main_thread;
static uintptr_t region;
static volatile int faulting; /* set by main just before the faulting write */

__attribute__((noinline)) static void crash_inner(volatile uint8_t *p) {
    *p = 1;
    __asm__ volatile("" ::: "memory"); /* no tail call: keep this frame */
}

__attribute__((noinline)) static void crash_outer(volatile uint8_t *p) {
    crash_inner(p);
    __asm__ volatile("" ::: "memory");
}

static void second(uintptr_t arg1, uintptr_t arg2) {
    (void)arg1;
    (void)arg2;
    crash_wait_stopped(&faulting, main_thread);
    zx_status_t st = zx_vmar_unmap(zx_vmar_root_self(), region, 2 * CRASH_PAGE);
    printf("crash: second thread: unmapped the faulting region (status %d); reading it\n", st);
    printf("crash: read %u\n", *(volatile uint8_t *)(region + CRASH_PAGE)); /* faults */
    zx_thread_exit();
}

int main(void) {
    region = crash_map_named("crash-two-ro", 2);
    if (zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, region + CRASH_PAGE,
                        CRASH_PAGE) != ZX_OK ||
        zx_handle_duplicate(zx_thread_self(), ZX_RIGHT_SAME_RIGHTS, &main_thread) != ZX_OK)
        return 2;
    tu_thread_t t;
    if (tu_thread_create(&t) != ZX_OK ||
        zx_object_set_property(t.thread, ZX_PROP_NAME, "second", 6) != ZX_OK ||
        tu_thread_start(&t, second, 0, 0) != ZX_OK)
        return 2;
    printf("crash: writing to 0x%lx\n", (unsigned long)(region + CRASH_PAGE + 0x10));
    faulting = 1;
    crash_outer((volatile uint8_t *)(region + CRASH_PAGE + 0x10));
    return 0; /* not reached: the write kills the process */
}
