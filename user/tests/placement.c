/*
 * CPU placement from user space: zx_system_get_num_cpus, zx_profile_create,
 * zx_object_set_profile and ZX_INFO_THREAD_STATS (docs/syscalls.md). The pinning cases
 * loop over every CPU that runs threads, so they hold for any number of CPUs.
 *
 * The program prints "placement: zx_system_get_num_cpus() = N"; qemu.user_tests checks
 * that N is the count of the kernel's "sched: threads run on N CPU(s)" boot line.
 */
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>
#include <zircon/syscalls/profile.h>

/* The CPUs a thread may be placed on: bits 0 .. num_cpus-1. */
static uint64_t online_mask(void) {
    uint32_t n = zx_system_get_num_cpus();
    return n >= 64 ? ~0ull : (1ull << n) - 1;
}

static zx_status_t make_profile(uint32_t flags, int32_t priority, uint64_t mask0,
                                zx_handle_t *out) {
    zx_profile_info_t info;
    memset(&info, 0, sizeof(info));
    info.flags = flags;
    info.priority = priority;
    info.cpu_affinity_mask.mask[0] = mask0;
    return zx_profile_create(beryl_resource(), 0, &info, out);
}

static zx_status_t create_info(const zx_profile_info_t *info) {
    zx_handle_t h = ZX_HANDLE_INVALID;
    zx_status_t st = zx_profile_create(beryl_resource(), 0, info, &h);
    if (st == ZX_OK)
        zx_handle_close(h);
    return st;
}

static zx_info_thread_stats_t thread_stats(zx_handle_t thread) {
    zx_info_thread_stats_t s;
    memset(&s, 0xa5, sizeof(s));
    if (zx_object_get_info(thread, ZX_INFO_THREAD_STATS, &s, sizeof(s), NULL, NULL) != ZX_OK)
        memset(&s, 0xa5, sizeof(s));
    return s;
}

static uint64_t thread_affinity(zx_handle_t thread) {
    zx_info_thread_t ti;
    memset(&ti, 0, sizeof(ti));
    zx_object_get_info(thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL);
    return ti.cpu_affinity_mask.mask[0];
}

TEST(Placement, NumCpus) {
    uint32_t n = zx_system_get_num_cpus();
    printf("placement: zx_system_get_num_cpus() = %u\n", n);
    EXPECT_GE(n, 1u);
    EXPECT_LE(n, 64u);
    /* An unpinned thread may run on every CPU that runs threads, and only those. */
    EXPECT_EQ(thread_affinity(zx_thread_self()), online_mask());
}

TEST(Profile, CreateGivesProfileHandle) {
    zx_handle_t p;
    ASSERT_OK(make_profile(ZX_PROFILE_INFO_FLAG_CPU_MASK, 0, 1, &p));
    zx_info_handle_basic_t b = tu_basic(p);
    EXPECT_EQ(b.type, ZX_OBJ_TYPE_PROFILE);
    EXPECT_EQ(b.rights, ZX_DEFAULT_PROFILE_RIGHTS);
    EXPECT_NE(b.koid, 0u);
    EXPECT_OK(zx_handle_close(p));
    /* No right on the resource is needed. */
    zx_handle_t bare = tu_dup(beryl_resource(), ZX_RIGHT_NONE);
    zx_profile_info_t info;
    memset(&info, 0, sizeof(info));
    info.flags = ZX_PROFILE_INFO_FLAG_PRIORITY;
    info.priority = ZX_PRIORITY_HIGH;
    EXPECT_OK(zx_profile_create(bare, 0, &info, &p));
    EXPECT_OK(zx_handle_close(p));
    EXPECT_OK(zx_handle_close(bare));
}

TEST(Profile, CreateBadHandles) {
    zx_profile_info_t info;
    memset(&info, 0, sizeof(info));
    info.flags = ZX_PROFILE_INFO_FLAG_CPU_MASK;
    info.cpu_affinity_mask.mask[0] = 1;
    zx_handle_t p, vmo;
    EXPECT_STATUS(zx_profile_create(ZX_HANDLE_INVALID, 0, &info, &p), ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_profile_create(0x7ffffff3u, 0, &info, &p), ZX_ERR_BAD_HANDLE);
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    EXPECT_STATUS(zx_profile_create(vmo, 0, &info, &p), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_profile_create(zx_job_default(), 0, &info, &p), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_profile_create(zx_thread_self(), 0, &info, &p), ZX_ERR_WRONG_TYPE);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(Profile, CreateBadPointersAndOptions) {
    zx_profile_info_t info;
    memset(&info, 0, sizeof(info));
    info.flags = ZX_PROFILE_INFO_FLAG_CPU_MASK;
    info.cpu_affinity_mask.mask[0] = 1;
    zx_handle_t p;
    EXPECT_STATUS(zx_profile_create(beryl_resource(), 1, &info, &p), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_profile_create(beryl_resource(), 0x80000000u, &info, &p),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_profile_create(beryl_resource(), 0, NULL, &p), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_profile_create(beryl_resource(), 0, (const zx_profile_info_t *)0x1000, &p),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(
        zx_profile_create(beryl_resource(), 0, (const zx_profile_info_t *)0xffff800000000000ull,
                          &p),
        ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_profile_create(beryl_resource(), 0, &info, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_profile_create(beryl_resource(), 0, &info, (zx_handle_t *)0x1000),
                  ZX_ERR_INVALID_ARGS);
    /* A read-only out: the handle made before the write is taken back. */
    zx_vaddr_t ro = tu_map_new(TU_PAGE, ZX_VM_PERM_READ, NULL);
    ASSERT_NE(ro, 0u);
    EXPECT_STATUS(zx_profile_create(beryl_resource(), 0, &info, (zx_handle_t *)ro),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), ro, TU_PAGE));
    /* The info straddling into unmapped memory. */
    zx_vaddr_t two = tu_map_new(2 * TU_PAGE, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, NULL);
    ASSERT_NE(two, 0u);
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), two + TU_PAGE, TU_PAGE));
    zx_profile_info_t *tail = (zx_profile_info_t *)(two + TU_PAGE - 16);
    memset(tail, 0, 16);
    tail->flags = ZX_PROFILE_INFO_FLAG_PRIORITY;
    EXPECT_STATUS(zx_profile_create(beryl_resource(), 0, tail, &p), ZX_ERR_INVALID_ARGS);
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), two, TU_PAGE));
}

TEST(Profile, CreateFlagRules) {
    zx_profile_info_t info;
    memset(&info, 0, sizeof(info));
    /* Nothing set, or only options. */
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
    info.flags = ZX_PROFILE_INFO_FLAG_NO_INHERIT;
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
    /* Unknown flags, alone or beside valid ones. */
    info.flags = 1u << 4;
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
    info.flags = ZX_PROFILE_INFO_FLAG_PRIORITY | (1u << 31);
    info.priority = ZX_PRIORITY_DEFAULT;
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
    /* Two disciplines. */
    info.flags = ZX_PROFILE_INFO_FLAG_PRIORITY | ZX_PROFILE_INFO_FLAG_DEADLINE;
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
    /* Priorities: the ends of the range are fine, one past them is not. */
    info.flags = ZX_PROFILE_INFO_FLAG_PRIORITY;
    info.priority = ZX_PRIORITY_LOWEST;
    EXPECT_OK(create_info(&info));
    info.priority = ZX_PRIORITY_HIGHEST;
    EXPECT_OK(create_info(&info));
    info.priority = ZX_PRIORITY_LOWEST - 1;
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
    info.priority = ZX_PRIORITY_HIGHEST + 1;
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
    info.priority = INT32_MIN;
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
    /* A priority is only read with its flag. */
    info.flags = ZX_PROFILE_INFO_FLAG_CPU_MASK;
    info.cpu_affinity_mask.mask[0] = 1;
    EXPECT_OK(create_info(&info));
    info.flags = ZX_PROFILE_INFO_FLAG_PRIORITY | ZX_PROFILE_INFO_FLAG_NO_INHERIT;
    info.priority = ZX_PRIORITY_LOW;
    EXPECT_OK(create_info(&info));
    info.flags = ZX_PROFILE_INFO_FLAG_PRIORITY | ZX_PROFILE_INFO_FLAG_CPU_MASK;
    EXPECT_OK(create_info(&info));
}

TEST(Profile, CreateDeadline) {
    zx_profile_info_t info;
    memset(&info, 0, sizeof(info));
    info.flags = ZX_PROFILE_INFO_FLAG_DEADLINE;
    info.deadline_params.capacity = 1 * TU_MS;
    info.deadline_params.relative_deadline = 2 * TU_MS;
    info.deadline_params.period = 4 * TU_MS;
    /* Admissible, but the scheduler has no deadline discipline. */
    EXPECT_STATUS(create_info(&info), ZX_ERR_NOT_SUPPORTED);
    info.flags = ZX_PROFILE_INFO_FLAG_DEADLINE | ZX_PROFILE_INFO_FLAG_NO_INHERIT;
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
    info.flags = ZX_PROFILE_INFO_FLAG_DEADLINE;
    info.deadline_params.capacity = 0;
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
    info.deadline_params.capacity = 3 * TU_MS; /* > relative_deadline */
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
    info.deadline_params.capacity = 1 * TU_MS;
    info.deadline_params.relative_deadline = 5 * TU_MS; /* > period */
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
}

TEST(Profile, CreateCpuMask) {
    zx_profile_info_t info;
    memset(&info, 0, sizeof(info));
    info.flags = ZX_PROFILE_INFO_FLAG_CPU_MASK;
    /* No CPU at all, or only CPUs beyond the 64 the scheduler places on. */
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
    info.cpu_affinity_mask.mask[1] = 1;
    info.cpu_affinity_mask.mask[7] = 1ull << 63;
    EXPECT_STATUS(create_info(&info), ZX_ERR_INVALID_ARGS);
    /* Any CPU below 64 makes a profile, online or not (set_profile checks that). */
    info.cpu_affinity_mask.mask[0] = 1ull << 63;
    EXPECT_OK(create_info(&info));
    info.cpu_affinity_mask.mask[0] = ~0ull;
    EXPECT_OK(create_info(&info));
}

TEST(Profile, SetBadHandlesAndRights) {
    zx_handle_t p, vmo;
    ASSERT_OK(make_profile(ZX_PROFILE_INFO_FLAG_CPU_MASK, 0, online_mask(), &p));
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    zx_handle_t self = zx_thread_self();
    /* The thread handle. */
    EXPECT_STATUS(zx_object_set_profile(ZX_HANDLE_INVALID, p, 0), ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_object_set_profile(0x7ffffff3u, p, 0), ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_object_set_profile(vmo, p, 0), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_object_set_profile(zx_process_self(), p, 0), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_object_set_profile(p, p, 0), ZX_ERR_WRONG_TYPE);
    zx_handle_t weak = tu_dup(self, ZX_DEFAULT_THREAD_RIGHTS & ~ZX_RIGHT_MANAGE_THREAD);
    ASSERT_NE(weak, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_object_set_profile(weak, p, 0), ZX_ERR_ACCESS_DENIED);
    /* The thread is checked before the profile. */
    EXPECT_STATUS(zx_object_set_profile(weak, ZX_HANDLE_INVALID, 0), ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_object_set_profile(vmo, ZX_HANDLE_INVALID, 0), ZX_ERR_WRONG_TYPE);
    /* The profile handle. */
    EXPECT_STATUS(zx_object_set_profile(self, ZX_HANDLE_INVALID, 0), ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_object_set_profile(self, vmo, 0), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_object_set_profile(self, beryl_resource(), 0), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_object_set_profile(self, self, 0), ZX_ERR_WRONG_TYPE);
    zx_handle_t noapply = tu_dup(p, ZX_DEFAULT_PROFILE_RIGHTS & ~ZX_RIGHT_APPLY_PROFILE);
    ASSERT_NE(noapply, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_object_set_profile(self, noapply, 0), ZX_ERR_ACCESS_DENIED);
    /* With both rights it works; options are ignored, as in Zircon. */
    EXPECT_OK(zx_object_set_profile(self, p, 0));
    EXPECT_OK(zx_object_set_profile(self, p, 0xffffffffu));
    EXPECT_EQ(thread_affinity(self), online_mask());
    EXPECT_OK(zx_handle_close(noapply));
    EXPECT_OK(zx_handle_close(weak));
    EXPECT_OK(zx_handle_close(vmo));
    EXPECT_OK(zx_handle_close(p));
}

/* A mask without any CPU that runs threads is refused and changes nothing. */
TEST(Profile, SetMaskWithoutOnlineCpu) {
    uint64_t online = online_mask();
    if (online == ~0ull) {
        printf("placement: all 64 CPUs run threads, no offline CPU to name\n");
        return;
    }
    zx_handle_t off, one;
    ASSERT_OK(make_profile(ZX_PROFILE_INFO_FLAG_CPU_MASK, 0, ~online, &off));
    ASSERT_OK(make_profile(ZX_PROFILE_INFO_FLAG_CPU_MASK | ZX_PROFILE_INFO_FLAG_PRIORITY,
                           ZX_PRIORITY_HIGH, ~online, &one));
    EXPECT_STATUS(zx_object_set_profile(zx_thread_self(), off, 0), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_object_set_profile(zx_thread_self(), one, 0), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(thread_affinity(zx_thread_self()), online);
    /* Also for a thread not started yet, which then runs as before. */
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    EXPECT_STATUS(zx_object_set_profile(t.thread, off, 0), ZX_ERR_INVALID_ARGS);
    EXPECT_EQ(thread_affinity(t.thread), online);
    tu_thread_destroy(&t);
    EXPECT_OK(zx_handle_close(off));
    EXPECT_OK(zx_handle_close(one));
}

static void exit_at_once(uintptr_t a, uintptr_t b) {
    (void)a, (void)b;
    zx_thread_exit();
}

TEST(Profile, SetOnDeadThreadIsBadState) {
    zx_handle_t p;
    ASSERT_OK(make_profile(ZX_PROFILE_INFO_FLAG_CPU_MASK, 0, 1, &p));
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, exit_at_once, 0, 0));
    ASSERT_OK(tu_thread_join(&t, 10 * TU_SEC));
    EXPECT_STATUS(zx_object_set_profile(t.thread, p, 0), ZX_ERR_BAD_STATE);
    tu_thread_destroy(&t);
    EXPECT_OK(zx_handle_close(p));
}

/* What a pinned worker saw of itself while it ran. zx_thread_self() names the process's
 * first thread in this libc, so the worker is handed its own handle. */
typedef struct {
    zx_handle_t self;
    volatile uint32_t cpu_seen;
    volatile uint64_t affinity_seen;
} worker_report_t;

static void report_self(uintptr_t arg1, uintptr_t arg2) {
    (void)arg2;
    worker_report_t *r = (worker_report_t *)arg1;
    for (int i = 0; i < 3; i++)
        zx_nanosleep(0); /* switch away and back: it must come back on its CPU */
    r->cpu_seen = thread_stats(r->self).last_scheduled_cpu;
    r->affinity_seen = thread_affinity(r->self);
    zx_thread_exit();
}

/* A worker pinned (before it starts) to each CPU in turn runs there and says so. */
TEST(Placement, WorkerPinnedToEachCpu) {
    uint32_t n = zx_system_get_num_cpus();
    for (uint32_t cpu = 0; cpu < n; cpu++) {
        zx_handle_t p;
        ASSERT_OK(make_profile(ZX_PROFILE_INFO_FLAG_CPU_MASK, 0, 1ull << cpu, &p));
        tu_thread_t t;
        ASSERT_OK(tu_thread_create(&t));
        zx_info_thread_stats_t s = thread_stats(t.thread);
        EXPECT_EQ(s.last_scheduled_cpu, ZX_INFO_INVALID_CPU); /* never ran */
        EXPECT_EQ(s.total_runtime, 0);
        ASSERT_OK(zx_object_set_profile(t.thread, p, 0));
        EXPECT_EQ(thread_affinity(t.thread), 1ull << cpu);
        worker_report_t r = {.self = t.thread, .cpu_seen = 0xdead, .affinity_seen = 0};
        ASSERT_OK(tu_thread_start(&t, report_self, (uintptr_t)&r, 0));
        ASSERT_OK(tu_thread_join(&t, 10 * TU_SEC));
        EXPECT_EQ(r.cpu_seen, cpu);
        EXPECT_EQ(r.affinity_seen, 1ull << cpu);
        s = thread_stats(t.thread);
        EXPECT_EQ(s.last_scheduled_cpu, cpu);
        EXPECT_GT(s.total_runtime, 0);
        tu_thread_destroy(&t);
        EXPECT_OK(zx_handle_close(p));
    }
}

/* The calling thread pins itself to each CPU in turn, then is unpinned again. */
TEST(Placement, SelfPinnedToEachCpu) {
    uint32_t n = zx_system_get_num_cpus();
    zx_handle_t self = zx_thread_self();
    for (uint32_t cpu = 0; cpu < n; cpu++) {
        zx_handle_t p;
        ASSERT_OK(make_profile(ZX_PROFILE_INFO_FLAG_CPU_MASK, 0, 1ull << cpu, &p));
        ASSERT_OK(zx_object_set_profile(self, p, 0));
        EXPECT_EQ(thread_stats(self).last_scheduled_cpu, cpu);
        zx_nanosleep(0);
        EXPECT_EQ(thread_stats(self).last_scheduled_cpu, cpu);
        EXPECT_EQ(thread_affinity(self), 1ull << cpu);
        EXPECT_OK(zx_handle_close(p));
    }
    zx_handle_t all;
    ASSERT_OK(make_profile(ZX_PROFILE_INFO_FLAG_CPU_MASK, 0, ~0ull, &all));
    EXPECT_OK(zx_object_set_profile(self, all, 0));
    EXPECT_EQ(thread_affinity(self), online_mask());
    EXPECT_OK(zx_handle_close(all));
}

/* A new thread gets the default placement, whatever its creator's. */
TEST(Placement, NewThreadDoesNotInherit) {
    zx_handle_t self = zx_thread_self();
    zx_handle_t p, all;
    ASSERT_OK(make_profile(ZX_PROFILE_INFO_FLAG_CPU_MASK, 0, 1, &p));
    ASSERT_OK(make_profile(ZX_PROFILE_INFO_FLAG_CPU_MASK, 0, ~0ull, &all));
    ASSERT_OK(zx_object_set_profile(self, p, 0));
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    EXPECT_EQ(thread_affinity(t.thread), online_mask());
    tu_thread_destroy(&t);
    EXPECT_OK(zx_object_set_profile(self, all, 0));
    EXPECT_OK(zx_handle_close(p));
    EXPECT_OK(zx_handle_close(all));
}

TEST(ThreadStats, Refusals) {
    zx_info_thread_stats_t s;
    size_t actual = 7, avail = 7;
    zx_handle_t self = zx_thread_self();
    EXPECT_OK(zx_object_get_info(self, ZX_INFO_THREAD_STATS, &s, sizeof(s), &actual, &avail));
    EXPECT_EQ(actual, 1u);
    EXPECT_EQ(avail, 1u);
    zx_handle_t blind = tu_dup(self, ZX_DEFAULT_THREAD_RIGHTS & ~ZX_RIGHT_INSPECT);
    ASSERT_NE(blind, ZX_HANDLE_INVALID);
    EXPECT_STATUS(zx_object_get_info(blind, ZX_INFO_THREAD_STATS, &s, sizeof(s), NULL, NULL),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_handle_close(blind));
    EXPECT_STATUS(
        zx_object_get_info(zx_process_self(), ZX_INFO_THREAD_STATS, &s, sizeof(s), NULL, NULL),
        ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_object_get_info(ZX_HANDLE_INVALID, ZX_INFO_THREAD_STATS, &s, sizeof(s),
                                     NULL, NULL),
                  ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_object_get_info(self, ZX_INFO_THREAD_STATS, &s, sizeof(s) - 1, NULL, NULL),
                  ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_STATUS(zx_object_get_info(self, ZX_INFO_THREAD_STATS, NULL, 0, NULL, NULL),
                  ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_STATUS(zx_object_get_info(self, ZX_INFO_THREAD_STATS, (void *)0x1000, sizeof(s), NULL,
                                     NULL),
                  ZX_ERR_INVALID_ARGS);
}

/* Run time grows while the thread runs, by no more than the time that passed. */
TEST(ThreadStats, RuntimeGrowsWhileRunning) {
    zx_handle_t self = zx_thread_self();
    zx_time_t w0 = zx_clock_get_monotonic();
    zx_duration_t r0 = thread_stats(self).total_runtime;
    while (zx_clock_get_monotonic() < w0 + 2 * TU_MS) {
    }
    zx_duration_t r1 = thread_stats(self).total_runtime;
    zx_time_t w1 = zx_clock_get_monotonic();
    EXPECT_GT(r1, r0);
    EXPECT_LE(r1 - r0, w1 - w0 + 1000); /* rounding of two conversions */
}

static void sleep_forever(uintptr_t a, uintptr_t b) {
    (void)a, (void)b;
    zx_nanosleep(ZX_TIME_INFINITE);
    zx_thread_exit();
}

/* A blocked thread's run time stands still (it is not wall time). */
TEST(ThreadStats, RuntimeStandsStillWhileBlocked) {
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, sleep_forever, 0, 0));
    zx_info_thread_t ti;
    do {
        zx_nanosleep(0);
        ASSERT_OK(zx_object_get_info(t.thread, ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL));
    } while (ti.state != ZX_THREAD_STATE_BLOCKED_SLEEPING);
    zx_info_thread_stats_t s0 = thread_stats(t.thread);
    zx_nanosleep(zx_deadline_after(5 * TU_MS));
    zx_info_thread_stats_t s1 = thread_stats(t.thread);
    EXPECT_GT(s0.total_runtime, 0);
    EXPECT_EQ(s1.total_runtime, s0.total_runtime);
    EXPECT_EQ(s1.last_scheduled_cpu, s0.last_scheduled_cpu);
    EXPECT_LT(s0.last_scheduled_cpu, zx_system_get_num_cpus());
    tu_task_kill_wait(t.thread);
    tu_thread_destroy(&t);
}
