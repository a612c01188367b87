/*
 * Zircon source compatibility: the Zircon-header program of
 * syscall-abi/zircon_headers_check.c, run for real, and the small calls Zircon programs
 * use everywhere: zx_deadline_after, zx_ticks_get, zx_ticks_per_second,
 * zx_system_get_page_size, zx_system_get_features, and <zircon/time.h>'s arithmetic.
 */
#include <beryl/test.h>
#include <zircon/features.h>
#include <zircon/process.h>
#include <zircon/processargs.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>
#include <zircon/types.h>

zx_status_t zircon_headers_check_program(void);

/* Nanoseconds of a non-negative tick count at the reported rate, without overflow for any
 * rate below 9 GHz (whole seconds, then the remainder). */
static int64_t ticks_to_ns(zx_ticks_t ticks, zx_ticks_t per_second) {
    return ticks / per_second * ZX_SEC(1) + ticks % per_second * ZX_SEC(1) / per_second;
}

TEST(ZirconAbi, HeadersProgramRuns) {
    EXPECT_OK(zircon_headers_check_program());
}

TEST(ZirconAbi, DeadlineAfterIsNowPlusDuration) {
    const zx_duration_t durations[] = {0, 1, ZX_MSEC(5), ZX_SEC(3600), -ZX_SEC(1)};
    for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
        zx_time_t before = zx_clock_get_monotonic();
        zx_time_t d = zx_deadline_after(durations[i]);
        zx_time_t after = zx_clock_get_monotonic();
        EXPECT_GE(d - durations[i], before);
        EXPECT_LE(d - durations[i], after);
    }
}

TEST(ZirconAbi, DeadlineAfterSaturates) {
    /* Zircon clamps an overflowing sum to ZX_TIME_INFINITE. */
    EXPECT_EQ(zx_deadline_after(ZX_TIME_INFINITE), ZX_TIME_INFINITE);
    EXPECT_EQ(zx_deadline_after(ZX_TIME_INFINITE - 1), ZX_TIME_INFINITE);
    /* The clock is positive, so the most negative duration cannot underflow: the result is
     * the plain sum, far in the past. */
    zx_time_t before = zx_clock_get_monotonic();
    zx_time_t past = zx_deadline_after(ZX_TIME_INFINITE_PAST);
    zx_time_t after = zx_clock_get_monotonic();
    EXPECT_GE(past, ZX_TIME_INFINITE_PAST + before);
    EXPECT_LE(past, ZX_TIME_INFINITE_PAST + after);
}

TEST(ZirconAbi, DeadlineAfterWorksAsADeadline) {
    zx_handle_t a, b;
    ASSERT_OK(zx_channel_create(0, &a, &b));
    zx_time_t start = zx_clock_get_monotonic();
    EXPECT_STATUS(zx_object_wait_one(a, ZX_CHANNEL_READABLE, zx_deadline_after(ZX_MSEC(2)),
                                     NULL),
                  ZX_ERR_TIMED_OUT);
    EXPECT_GE(zx_clock_get_monotonic() - start, ZX_MSEC(2));
    EXPECT_STATUS(zx_object_wait_one(a, ZX_CHANNEL_READABLE, zx_deadline_after(0), NULL),
                  ZX_ERR_TIMED_OUT);
    zx_handle_close(a);
    zx_handle_close(b);
    start = zx_clock_get_monotonic();
    EXPECT_OK(zx_nanosleep(zx_deadline_after(ZX_MSEC(3))));
    EXPECT_GE(zx_clock_get_monotonic() - start, ZX_MSEC(3));
}

TEST(ZirconAbi, TicksPerSecondIsConstant) {
    zx_ticks_t tps = zx_ticks_per_second();
    /* Any real tick source runs at 1 MHz or more; an x86 TSC at hundreds of MHz. */
    EXPECT_GE(tps, 1000000);
    for (int i = 0; i < 100; i++)
        EXPECT_EQ(zx_ticks_per_second(), tps);
}

TEST(ZirconAbi, TicksNeverGoBackwards) {
    zx_ticks_t prev = zx_ticks_get();
    EXPECT_GT(prev, 0);
    for (int i = 0; i < 2000; i++) {
        zx_ticks_t now = zx_ticks_get();
        EXPECT_GE(now, prev);
        prev = now;
        if (i % 500 == 0)
            zx_nanosleep(zx_deadline_after(ZX_USEC(100))); /* may run on another CPU */
    }
}

TEST(ZirconAbi, TicksAgreeWithTheMonotonicClock) {
    zx_ticks_t tps = zx_ticks_per_second();
    ASSERT_GT(tps, 0);
    /* The clock is the same counter in nanoseconds: read between two tick readings, it
     * lies between their conversions (1 us of slack for the kernel's fixed-point scale). */
    for (int i = 0; i < 50; i++) {
        zx_ticks_t t0 = zx_ticks_get();
        zx_time_t mono = zx_clock_get_monotonic();
        zx_ticks_t t1 = zx_ticks_get();
        EXPECT_GE(mono, ticks_to_ns(t0, tps) - ZX_USEC(1));
        EXPECT_LE(mono, ticks_to_ns(t1, tps) + ZX_USEC(1));
    }
    /* And a 5 ms sleep moves the ticks by at least 5 ms worth. */
    zx_ticks_t t0 = zx_ticks_get();
    EXPECT_OK(zx_nanosleep(zx_deadline_after(ZX_MSEC(5))));
    EXPECT_GE(ticks_to_ns(zx_ticks_get() - t0, tps), ZX_MSEC(5) - ZX_USEC(1));
}

TEST(ZirconAbi, PageSize) {
    uint32_t page = zx_system_get_page_size();
    EXPECT_EQ(page, 4096u);
    EXPECT_EQ(page, (uint32_t)ZX_PAGE_SIZE);
    /* It is the unit VMO sizes round to. */
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(1, 0, &vmo));
    uint64_t size = 0;
    EXPECT_OK(zx_vmo_get_size(vmo, &size));
    EXPECT_EQ(size, (uint64_t)page);
    zx_handle_close(vmo);
}

TEST(ZirconAbi, SystemGetFeatures) {
    const uint32_t zero_kinds[] = {ZX_FEATURE_KIND_HW_BREAKPOINT_COUNT,
                                   ZX_FEATURE_KIND_HW_WATCHPOINT_COUNT,
                                   ZX_FEATURE_KIND_ADDRESS_TAGGING, ZX_FEATURE_KIND_VM};
    for (size_t i = 0; i < sizeof(zero_kinds) / sizeof(zero_kinds[0]); i++) {
        uint32_t f = 0xdeadbeef;
        EXPECT_OK(zx_system_get_features(zero_kinds[i], &f));
        EXPECT_EQ(f, 0u);
    }
    /* x86-64: CPU features come from cpuid; unknown kinds are unsupported too. Nothing is
     * written on failure. */
    const uint32_t unsupported[] = {ZX_FEATURE_KIND_CPU, 5, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
        uint32_t f = 0xdeadbeef;
        EXPECT_STATUS(zx_system_get_features(unsupported[i], &f), ZX_ERR_NOT_SUPPORTED);
        EXPECT_EQ(f, 0xdeadbeefu);
    }
}

TEST(ZirconAbi, TimeArithmeticSaturates) {
    EXPECT_EQ(zx_time_add_duration(ZX_TIME_INFINITE - 5, 10), ZX_TIME_INFINITE);
    EXPECT_EQ(zx_time_add_duration(ZX_TIME_INFINITE_PAST + 5, -10), ZX_TIME_INFINITE_PAST);
    EXPECT_EQ(zx_time_add_duration(100, -30), 70);
    EXPECT_EQ(zx_time_sub_duration(ZX_TIME_INFINITE_PAST + 5, 10), ZX_TIME_INFINITE_PAST);
    EXPECT_EQ(zx_time_sub_duration(ZX_TIME_INFINITE - 5, -10), ZX_TIME_INFINITE);
    EXPECT_EQ(zx_time_sub_time(ZX_TIME_INFINITE, -1), ZX_TIME_INFINITE);
    EXPECT_EQ(zx_time_sub_time(ZX_TIME_INFINITE_PAST, 1), ZX_TIME_INFINITE_PAST);
    EXPECT_EQ(zx_duration_add_duration(ZX_SEC(1), ZX_MSEC(1)), 1001000000);
    EXPECT_EQ(zx_duration_mul_int64(ZX_TIME_INFINITE / 2 + 1, 2), ZX_TIME_INFINITE);
    EXPECT_EQ(zx_duration_mul_int64(ZX_TIME_INFINITE / 2 + 1, -2), ZX_TIME_INFINITE_PAST);
    EXPECT_EQ(zx_duration_mul_int64(-ZX_SEC(3), -2), ZX_SEC(6));
    EXPECT_EQ(zx_ticks_add_ticks(ZX_TIME_INFINITE, 1), ZX_TIME_INFINITE);
    EXPECT_EQ(zx_ticks_sub_ticks(10, 3), 7);
    /* The unit macros saturate for run-time arguments too. */
    volatile int64_t big = INT64_MAX / 1000;
    EXPECT_EQ(ZX_SEC(big), ZX_TIME_INFINITE);
    EXPECT_EQ(ZX_MSEC(-big), ZX_TIME_INFINITE_PAST);
    EXPECT_EQ(ZX_USEC(big / 1000), (big / 1000) * 1000);
}

TEST(ZirconAbi, TakeStartupHandleOfAbsentType) {
    EXPECT_EQ(zx_take_startup_handle(PA_HND(PA_USER2, 7)), ZX_HANDLE_INVALID);
    /* The runtime's own handles are still there for the accessors. */
    EXPECT_NE(zx_process_self(), ZX_HANDLE_INVALID);
    EXPECT_NE(zx_vmar_root_self(), ZX_HANDLE_INVALID);
}
