/*
 * Booted without kernel.enable-debugging-syscalls (qemu.debugging_syscalls_off runs
 * userboot.prefix=nodebug/): zx_process_read_memory and zx_process_write_memory return
 * ZX_ERR_NOT_SUPPORTED before any other check, and memory is untouched. This program is
 * not in the default test/ suite, which boots with the switch.
 */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>

#define WORD 0x0ddba11c0ffee000ull

TEST(DebuggingSyscallsOff, ReadMemoryNotSupported) {
    zx_handle_t vmo;
    zx_vaddr_t a = tu_map_new(TU_PAGE, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, &vmo);
    ASSERT_NE(a, 0u);
    *(volatile uint64_t *)a = WORD;
    uint64_t got = 0;
    size_t actual = 77;
    EXPECT_STATUS(zx_process_read_memory(zx_process_self(), a, &got, sizeof(got), &actual),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_EQ(got, 0u);
    EXPECT_EQ(actual, 77u);
    /* The switch comes before every other check: bad handle, size, buffer. */
    EXPECT_STATUS(zx_process_read_memory(ZX_HANDLE_INVALID, a, &got, sizeof(got), &actual),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_process_read_memory(zx_process_self(), a, &got, 0, &actual),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_process_read_memory(zx_process_self(), a, NULL, 8, NULL),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_process_read_memory(zx_vmar_root_self(), 0, &got, sizeof(got), &actual),
                  ZX_ERR_NOT_SUPPORTED);
    zx_vmar_unmap(zx_vmar_root_self(), a, TU_PAGE);
    zx_handle_close(vmo);
}

TEST(DebuggingSyscallsOff, WriteMemoryNotSupported) {
    zx_handle_t vmo;
    zx_vaddr_t a = tu_map_new(TU_PAGE, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, &vmo);
    ASSERT_NE(a, 0u);
    *(volatile uint64_t *)a = WORD;
    uint64_t v = ~WORD;
    size_t actual = 77;
    EXPECT_STATUS(zx_process_write_memory(zx_process_self(), a, &v, sizeof(v), &actual),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_EQ(*(volatile uint64_t *)a, WORD);
    EXPECT_EQ(actual, 77u);
    EXPECT_STATUS(zx_process_write_memory(ZX_HANDLE_INVALID, a, &v, sizeof(v), &actual),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_process_write_memory(zx_process_self(), a, &v, 0, &actual),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_process_write_memory(zx_process_self(), a, NULL, 8, NULL),
                  ZX_ERR_NOT_SUPPORTED);
    /* Another process (a child with a handle carrying every right) is no different. */
    zx_handle_t proc, vmar;
    ASSERT_OK(zx_process_create(zx_job_default(), "nodebug-child", 13, 0, &proc, &vmar));
    zx_vaddr_t ca;
    ASSERT_OK(zx_vmar_map(vmar, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0, TU_PAGE, &ca));
    EXPECT_STATUS(zx_process_write_memory(proc, ca, &v, sizeof(v), &actual),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_process_read_memory(proc, ca, &v, sizeof(v), &actual),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_EQ(*(volatile uint64_t *)a, WORD);
    zx_handle_close(vmar);
    zx_handle_close(proc);
    zx_vmar_unmap(zx_vmar_root_self(), a, TU_PAGE);
    zx_handle_close(vmo);
}

TEST(DebuggingSyscallsOff, OtherInfoStillWorks) {
    /* Only the debugging syscalls are switched off: the memory info topics are not. */
    zx_info_maps_t maps[4];
    size_t actual = 0, avail = 0;
    EXPECT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_MAPS, maps, sizeof(maps),
                                 &actual, &avail));
    EXPECT_GT(avail, 2u);
}
