/*
 * Shared by the user/crash programs: each dies of one deliberate user exception so that
 * a boot test (tests/runner/CMakeLists.txt, qemu.user_fault_report_*) can check the
 * kernel's user fault report line by line. The fault happens two calls below main
 * (crash_outer -> crash_inner) so the report's backtrace has frames to show.
 */
#ifndef USER_CRASH_CRASH_H
#define USER_CRASH_CRASH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#define CRASH_PAGE 4096u

/* Maps a new VMO of `pages` pages named name read-write into the root VMAR; exits with
 * status 2 (a setup failure, not the expected death) when that fails. */
static inline uintptr_t crash_map_named(const char *name, size_t pages) {
    zx_handle_t vmo;
    uintptr_t a = 0;
    if (zx_vmo_create(pages * CRASH_PAGE, 0, &vmo) != ZX_OK ||
        zx_object_set_property(vmo, ZX_PROP_NAME, name, strlen(name)) != ZX_OK ||
        zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0,
                    pages * CRASH_PAGE, &a) != ZX_OK) {
        printf("crash: setup failed\n");
        exit(2);
    }
    zx_handle_close(vmo);
    return a;
}

/* Between two looks of crash_wait_stopped at the faulting thread. */
#define CRASH_POLL_NS (1000 * 1000)

/* For the debug console's programs (crash/console_*): returns once *faulting is set and
 * `thread` is blocked. The faulting thread sets *faulting just before its fault and
 * blocks nowhere after it but in the kernel's fault path, where it waits for the debug
 * console's session to end. */
static inline void crash_wait_stopped(volatile int *faulting, zx_handle_t thread) {
    for (;;) {
        zx_info_thread_t info;
        if (*faulting &&
            zx_object_get_info(thread, ZX_INFO_THREAD, &info, sizeof(info), NULL, NULL) ==
                ZX_OK &&
            info.state == ZX_THREAD_STATE_BLOCKED)
            return;
        zx_nanosleep(zx_clock_get_monotonic() + CRASH_POLL_NS);
    }
}

#endif
