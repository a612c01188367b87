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

#endif
