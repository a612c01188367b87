/*
 * What the cross-CPU test programs (test/smp, test/smp_restricted) share: the CPU count,
 * the skip rule for a machine with one CPU, pinning a thread to one CPU through a
 * profile, and where a thread last ran. Header-only, like test_util.h.
 */
#ifndef USER_TESTS_SMP_UTIL_H
#define USER_TESTS_SMP_UTIL_H

#include <beryl/test_util.h>
#include <stdio.h>
#include <string.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>
#include <zircon/syscalls/profile.h>

/* The cases pin to at most this many CPUs (a process's threads' handles then fit one
 * message with room to spare). */
#define SMP_MAX_CPUS 16u
/* Every wait for a cross-CPU event: far longer than any of them takes, so that a slow
 * host never fails a case; only a lost wake-up, kick or kill does. */
#define SMP_DEADLINE_NS (10 * TU_SEC)
/* How often a poll loop looks again. */
#define SMP_POLL_NS (1 * TU_MS)

/* The CPUs that run threads, capped at SMP_MAX_CPUS. */
static inline uint32_t smp_cpus(void) {
    uint32_t n = zx_system_get_num_cpus();
    return n > SMP_MAX_CPUS ? SMP_MAX_CPUS : n;
}

/* True (after printing the skip line "smp: <what>: skipped, ...") if fewer than two
 * CPUs run threads: the case then checks nothing. */
static inline bool smp_skip(const char *what) {
    uint32_t n = zx_system_get_num_cpus();
    if (n >= 2)
        return false;
    printf("smp: %s: skipped, needs 2 CPUs, zx_system_get_num_cpus() = %u\n", what, n);
    return true;
}

/* tu_pin_mask with CPU `cpu` alone. */
static inline zx_status_t smp_pin(zx_handle_t resource, zx_handle_t thread, uint32_t cpu) {
    return tu_pin_mask(resource, thread, 1ull << cpu);
}

/* The CPU the thread last ran on (ZX_INFO_INVALID_CPU if it never ran or the query
 * failed). */
static inline uint32_t smp_last_cpu(zx_handle_t thread) {
    zx_info_thread_stats_t s;
    if (zx_object_get_info(thread, ZX_INFO_THREAD_STATS, &s, sizeof(s), NULL, NULL) != ZX_OK)
        return ZX_INFO_INVALID_CPU;
    return s.last_scheduled_cpu;
}

/* The thread's ZX_INFO_THREAD state (ZX_THREAD_STATE_DEAD if the query failed). */
static inline zx_thread_state_t smp_thread_state(zx_handle_t thread) {
    zx_info_thread_t ti;
    if (zx_object_get_info(thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL) != ZX_OK)
        return ZX_THREAD_STATE_DEAD;
    return ti.state;
}

/* True once `thread` runs (ZX_THREAD_STATE_RUNNING) on `cpu` and *counter, which it
 * increments while it runs, is non-zero; false after SMP_DEADLINE_NS. */
static inline bool smp_wait_running_on(zx_handle_t thread, uint32_t cpu,
                                       const volatile uint64_t *counter) {
    zx_time_t deadline = zx_deadline_after(SMP_DEADLINE_NS);
    while (zx_clock_get_monotonic() < deadline) {
        if (*counter != 0 && smp_last_cpu(thread) == cpu &&
            smp_thread_state(thread) == ZX_THREAD_STATE_RUNNING)
            return true;
        zx_nanosleep(zx_deadline_after(SMP_POLL_NS));
    }
    return false;
}

#endif
