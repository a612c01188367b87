/*
 * Host tests for the generated dispatcher (gen/kernel/syscall_table.c): range check,
 * argument narrowing, result sign extension (zero extension of a uint32_t result),
 * registers 7 and 8, and the weak placeholders (generated at build time,
 * BERYL_SYSCALL_PLACEHOLDERS_C) standing in for missing syscalls.
 */
#include "htest.h"

#include <kernel/syscall.h>
#include <kernel/syscall_impl.h>

static uint64_t seen[8];

zx_status_t sys_syscall_test_0(void) {
    return ZX_ERR_INVALID_ARGS;
}

zx_time_t sys_clock_get_monotonic(void) {
    return INT64_MIN + 5;
}

uint32_t sys_system_get_num_cpus(void) {
    return 0xfffffffeu;
}

zx_status_t sys_vmo_create(uint64_t size, uint32_t options, user_addr_t out) {
    seen[0] = size;
    seen[1] = options;
    seen[2] = out;
    return ZX_OK;
}

zx_status_t sys_channel_read(zx_handle_t handle, uint32_t options, user_addr_t bytes,
                             user_addr_t handles, uint32_t num_bytes, uint32_t num_handles,
                             user_addr_t actual_bytes, user_addr_t actual_handles) {
    uint64_t v[8] = {handle, options, bytes, handles, num_bytes, num_handles, actual_bytes,
                     actual_handles};
    memcpy(seen, v, sizeof(seen));
    return ZX_ERR_BUFFER_TOO_SMALL;
}

HTEST(syscall_dispatch, bad_numbers) {
    const uint64_t args[8] = {0};
    EXPECT_EQ(syscall_dispatch(ZX_SYS_COUNT, args), (int64_t)ZX_ERR_BAD_SYSCALL);
    EXPECT_EQ(syscall_dispatch(UINT64_MAX, args), (int64_t)ZX_ERR_BAD_SYSCALL);
    EXPECT_EQ(syscall_dispatch(1ull << 32, args), (int64_t)ZX_ERR_BAD_SYSCALL);
}

HTEST(syscall_dispatch, status_is_sign_extended) {
    const uint64_t args[8] = {0};
    EXPECT_EQ(syscall_dispatch(ZX_SYS_SYSCALL_TEST_0, args), (int64_t)ZX_ERR_INVALID_ARGS);
}

HTEST(syscall_dispatch, time_is_returned_whole) {
    const uint64_t args[8] = {0};
    EXPECT_EQ(syscall_dispatch(ZX_SYS_CLOCK_GET_MONOTONIC, args), INT64_MIN + 5);
}

HTEST(syscall_dispatch, uint32_result_is_zero_extended) {
    const uint64_t args[8] = {0};
    EXPECT_EQ(syscall_dispatch(ZX_SYS_SYSTEM_GET_NUM_CPUS, args), (int64_t)0xfffffffeu);
}

HTEST(syscall_dispatch, narrow_args_drop_upper_bits) {
    const uint64_t args[8] = {0xfedcba9876543210ull, 0xffffffff00000005ull, 0x7fff1000, 1, 2,
                              3, 4, 5};
    memset(seen, 0, sizeof(seen));
    EXPECT_EQ(syscall_dispatch(ZX_SYS_VMO_CREATE, args), (int64_t)ZX_OK);
    EXPECT_EQ(seen[0], 0xfedcba9876543210ull);
    EXPECT_EQ(seen[1], 5ull);
    EXPECT_EQ(seen[2], 0x7fff1000ull);
}

HTEST(syscall_dispatch, eight_args_in_order) {
    const uint64_t args[8] = {0xaaaaaaaa00000013ull, 0x100000000ull, 0x1000, 0x2000,
                              0xbbbbbbbb00000040ull, 0x0000000100000002ull, 0x3000, 0x4000};
    memset(seen, 0, sizeof(seen));
    EXPECT_EQ(syscall_dispatch(ZX_SYS_CHANNEL_READ, args), (int64_t)ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_EQ(seen[0], 0x13ull);
    EXPECT_EQ(seen[1], 0ull);
    EXPECT_EQ(seen[2], 0x1000ull);
    EXPECT_EQ(seen[3], 0x2000ull);
    EXPECT_EQ(seen[4], 0x40ull);
    EXPECT_EQ(seen[5], 2ull);
    EXPECT_EQ(seen[6], 0x3000ull);
    EXPECT_EQ(seen[7], 0x4000ull);
}

HTEST(syscall_dispatch, placeholders_are_not_supported) {
    const uint64_t args[8] = {0};
    EXPECT_EQ(syscall_dispatch(ZX_SYS_VMAR_DESTROY, args), (int64_t)ZX_ERR_NOT_SUPPORTED);
}

HTEST(syscall_dispatch, names) {
    EXPECT_TRUE(strcmp(syscall_names[ZX_SYS_VMO_CREATE], "vmo_create") == 0);
    EXPECT_TRUE(strcmp(syscall_names[ZX_SYS_OBJECT_SET_PROFILE], "object_set_profile") == 0);
    EXPECT_TRUE(strcmp(syscall_names[ZX_SYS_TICKS_GET], "ticks_get") == 0);
    for (uint64_t n = 0; n < ZX_SYS_COUNT; n++)
        EXPECT_TRUE(syscall_names[n] != NULL);
}
