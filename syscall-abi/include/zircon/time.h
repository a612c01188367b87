/*
 * Time types, the infinite deadlines, unit macros and saturating time arithmetic, as
 * Zircon's public <zircon/time.h> names them (<zircon/types.h> includes this header).
 * Shared by the kernel and user space (freestanding: only <stdint.h> is needed).
 */
#ifndef ZIRCON_TIME_H
#define ZIRCON_TIME_H

#include <stdint.h>

/* Points in time and durations in nanoseconds; ticks in the units of zx_ticks_get(). */
typedef int64_t zx_time_t;
typedef int64_t zx_duration_t;
typedef int64_t zx_ticks_t;

/* Timeline-specific names (Beryl has one timeline: monotonic and boot time are equal). */
typedef int64_t zx_instant_mono_t;
typedef int64_t zx_instant_mono_ticks_t;
typedef int64_t zx_duration_mono_t;
typedef int64_t zx_duration_mono_ticks_t;
typedef int64_t zx_instant_boot_t;
typedef int64_t zx_instant_boot_ticks_t;
typedef int64_t zx_duration_boot_t;
typedef int64_t zx_duration_boot_ticks_t;

#define ZX_TIME_INFINITE INT64_MAX
#define ZX_TIME_INFINITE_PAST INT64_MIN

/*
 * Saturating arithmetic: a result that does not fit in 64 bits becomes ZX_TIME_INFINITE
 * when the true value is too large and ZX_TIME_INFINITE_PAST when it is too small.
 */
static inline int64_t zx_time_saturate_sum_(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? ZX_TIME_INFINITE : ZX_TIME_INFINITE_PAST;
    return r;
}

static inline int64_t zx_time_saturate_difference_(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? ZX_TIME_INFINITE : ZX_TIME_INFINITE_PAST;
    return r;
}

static inline int64_t zx_time_saturate_product_(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return (a < 0) == (b < 0) ? ZX_TIME_INFINITE : ZX_TIME_INFINITE_PAST;
    return r;
}

static inline zx_time_t zx_time_add_duration(zx_time_t time, zx_duration_t duration) {
    return zx_time_saturate_sum_(time, duration);
}

static inline zx_time_t zx_time_sub_duration(zx_time_t time, zx_duration_t duration) {
    return zx_time_saturate_difference_(time, duration);
}

static inline zx_duration_t zx_time_sub_time(zx_time_t time1, zx_time_t time2) {
    return zx_time_saturate_difference_(time1, time2);
}

static inline zx_duration_t zx_duration_add_duration(zx_duration_t dur1, zx_duration_t dur2) {
    return zx_time_saturate_sum_(dur1, dur2);
}

static inline zx_duration_t zx_duration_sub_duration(zx_duration_t dur1, zx_duration_t dur2) {
    return zx_time_saturate_difference_(dur1, dur2);
}

static inline zx_duration_t zx_duration_mul_int64(zx_duration_t duration, int64_t multiplier) {
    return zx_time_saturate_product_(duration, multiplier);
}

static inline zx_ticks_t zx_ticks_add_ticks(zx_ticks_t ticks1, zx_ticks_t ticks2) {
    return zx_time_saturate_sum_(ticks1, ticks2);
}

static inline zx_ticks_t zx_ticks_sub_ticks(zx_ticks_t ticks1, zx_ticks_t ticks2) {
    return zx_time_saturate_difference_(ticks1, ticks2);
}

static inline zx_ticks_t zx_ticks_mul_int64(zx_ticks_t ticks, int64_t multiplier) {
    return zx_time_saturate_product_(ticks, multiplier);
}

static inline int64_t zx_nsec_from_duration(zx_duration_t n) { return n; }
static inline zx_duration_t zx_duration_from_nsec(int64_t n) { return n; }
static inline zx_duration_t zx_duration_from_usec(int64_t n) {
    return zx_time_saturate_product_(n, 1000);
}
static inline zx_duration_t zx_duration_from_msec(int64_t n) {
    return zx_time_saturate_product_(n, 1000000);
}
static inline zx_duration_t zx_duration_from_sec(int64_t n) {
    return zx_time_saturate_product_(n, 1000000000);
}
static inline zx_duration_t zx_duration_from_min(int64_t n) {
    return zx_time_saturate_product_(n, 60ll * 1000000000);
}
static inline zx_duration_t zx_duration_from_hour(int64_t n) {
    return zx_time_saturate_product_(n, 3600ll * 1000000000);
}

/*
 * Durations from units. With a constant argument each is a constant expression (usable
 * in initialisers and _Static_assert); otherwise it saturates like the functions above.
 */
#define ZX_TIME_UNIT_(n, scale, fn) \
    (__builtin_constant_p(n) ? (zx_duration_t)((scale) * (n)) : fn(n))
#define ZX_NSEC(n) ZX_TIME_UNIT_(n, 1ll, zx_duration_from_nsec)
#define ZX_USEC(n) ZX_TIME_UNIT_(n, 1000ll, zx_duration_from_usec)
#define ZX_MSEC(n) ZX_TIME_UNIT_(n, 1000000ll, zx_duration_from_msec)
#define ZX_SEC(n) ZX_TIME_UNIT_(n, 1000000000ll, zx_duration_from_sec)
#define ZX_MIN(n) ZX_TIME_UNIT_(n, 60ll * 1000000000ll, zx_duration_from_min)
#define ZX_HOUR(n) ZX_TIME_UNIT_(n, 3600ll * 1000000000ll, zx_duration_from_hour)

#endif
