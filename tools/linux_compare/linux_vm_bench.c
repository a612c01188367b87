/*
 * Linux counterpart of Beryl's user/bench/vm_bench.c and syscall_bench.c, for the table in
 * docs/benchmarks.md ("Linux under the same emulator"). Built static and run as /init of
 * a small initramfs under Debian's kernel by tools/linux_compare/linux_compare.py, in
 * QEMU with -icount shift=0,align=off,sleep=off: the TSC then advances one per guest
 * instruction, so rdtsc deltas are instruction counts (user and kernel together).
 *
 * Not part of Beryl and not built by CMake: the host's gcc builds it (gcc -static -O2).
 *
 * Every figure is the median of a few rounds after one warm-up round, like Beryl's
 * benchmarks: 64 MiB workloads BIG_RUNS rounds, one-page workloads SMALL_RUNS runs of
 * SMALL_ITERS operations, the syscalls SMALL_RUNS runs of SYSCALL_ITERS. Each line also
 * gives the minor faults (getrusage ru_minflt) of the last round, divided per unit, so
 * the output shows whether the faults it claims to measure happened.
 *
 * The 64 MiB workloads run twice: with transparent huge pages off for the process
 * (prctl PR_SET_THP_DISABLE, and madvise(MADV_NOHUGEPAGE) on the faulted mapping) and on
 * (madvise(MADV_HUGEPAGE), with THP set to "always" as Debian's config does). Every 64 MiB
 * mapping lands at one fixed 2 MiB-aligned address (MAP_FIXED_NOREPLACE on a hole found
 * once), so each round covers the same 32 page tables / 32 huge-page slots.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096ul
#define HUGE_PAGE (2ul << 20)
#define BIG_SIZE (64ul << 20)
#define BIG_PAGES (BIG_SIZE / PAGE)
#define BIG_RUNS 3
#define SMALL_ITERS 1000
#define SMALL_RUNS 5
#define SYSCALL_ITERS 10000
#define MAX_RUNS 8
/* A syscall number no kernel implements: the entry path and the range check only. */
#define BAD_SYSCALL 100000l

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

/* A raw syscall with no arguments: no libc wrapper between the loop and the kernel. */
static inline long raw_syscall0(long nr) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
    return ret;
}

static long minflt(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * Prints "linux: NAME: UNITS UNITs, MEDIAN instructions, X.Y per UNIT (median of N, min A,
 * max B; minflt F, F.F per UNIT)". Sorts runs; faults are those of the last round.
 */
static void report(const char *name, const char *unit, uint64_t units, uint64_t *runs,
                   unsigned nruns, long faults) {
    qsort(runs, nruns, sizeof runs[0], cmp_u64);
    uint64_t m = runs[nruns / 2];
    uint64_t tenths = (m * 10 + units / 2) / units;
    uint64_t ftenths = ((uint64_t)faults * 10 + units / 2) / units;
    printf("linux: %s: %lu %ss, %lu instructions, %lu.%lu per %s (median of %u, min %lu, "
           "max %lu; minflt %ld, %lu.%lu per %s)\n",
           name, units, unit, m, tenths / 10, tenths % 10, unit, nruns, runs[0],
           runs[nruns - 1], faults, ftenths / 10, ftenths % 10, unit);
}

static void die(const char *what) {
    printf("linux: FAILED: %s: %s\n", what, strerror(errno));
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);
    _exit(1);
}

static uintptr_t big_addr; /* the fixed 2 MiB-aligned hole every 64 MiB mapping uses */

static void *map_big(int prot, int flags, int fd) {
    void *p = mmap((void *)big_addr, BIG_SIZE, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);
    if (p == MAP_FAILED || (uintptr_t)p != big_addr)
        die("mmap 64MiB");
    return p;
}

#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW (PROT_READ | PROT_WRITE)

/*
 * The anonymous 64 MiB workloads, with THP off (huge == 0) or on. Names carry the mode.
 */
static void anon_big(int huge) {
    const char *mode = huge ? "thp" : "4k";
    int advice = huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE;
    uint64_t fault[MAX_RUNS], unmap[MAX_RUNS], zread[MAX_RUNS], pop[MAX_RUNS],
        prot[MAX_RUNS], unmap_pop[MAX_RUNS];
    long f_fault = 0, f_zread = 0, f_pop = 0;
    char name[96];
    if (prctl(PR_SET_THP_DISABLE, huge ? 0 : 1, 0, 0, 0) != 0)
        die("prctl PR_SET_THP_DISABLE");
    for (int r = -1; r < BIG_RUNS; r++) {
        unsigned i = r < 0 ? 0 : (unsigned)r;
        /* map + one byte written per page (demand write faults) */
        long f0 = minflt();
        uint64_t t0 = rdtsc();
        volatile uint8_t *p = map_big(RW, ANON, -1);
        madvise((void *)p, BIG_SIZE, advice);
        for (unsigned long k = 0; k < BIG_PAGES; k++)
            p[k * PAGE] = 1;
        uint64_t t1 = rdtsc();
        munmap((void *)p, BIG_SIZE);
        uint64_t t2 = rdtsc();
        f_fault = minflt() - f0;
        fault[i] = t1 - t0;
        unmap[i] = t2 - t1;

        /* map + one byte read per page of never-written memory (the zero page) */
        f0 = minflt();
        t0 = rdtsc();
        p = map_big(RW, ANON, -1);
        madvise((void *)p, BIG_SIZE, advice);
        uint8_t sum = 0;
        for (unsigned long k = 0; k < BIG_PAGES; k++)
            sum += p[k * PAGE];
        t1 = rdtsc();
        f_zread = minflt() - f0;
        if (sum != 0)
            die("zero page not zero");
        munmap((void *)p, BIG_SIZE);
        zread[i] = t1 - t0;

        /* MAP_POPULATE (allocates and zeroes every page), mprotect RW->R, munmap */
        f0 = minflt();
        t0 = rdtsc();
        p = map_big(RW, ANON | MAP_POPULATE, -1);
        t1 = rdtsc();
        f_pop = minflt() - f0;
        if (mprotect((void *)p, BIG_SIZE, PROT_READ) != 0)
            die("mprotect");
        t2 = rdtsc();
        munmap((void *)p, BIG_SIZE);
        uint64_t t3 = rdtsc();
        pop[i] = t1 - t0;
        prot[i] = t2 - t1;
        unmap_pop[i] = t3 - t2;
    }
    snprintf(name, sizeof name, "anon %s map+fault 64MiB", mode);
    report(name, "page", BIG_PAGES, fault, BIG_RUNS, f_fault);
    snprintf(name, sizeof name, "anon %s munmap touched 64MiB", mode);
    report(name, "page", BIG_PAGES, unmap, BIG_RUNS, 0);
    snprintf(name, sizeof name, "anon %s map+read-fault (zero page) 64MiB", mode);
    report(name, "page", BIG_PAGES, zread, BIG_RUNS, f_zread);
    snprintf(name, sizeof name, "anon %s mmap MAP_POPULATE 64MiB", mode);
    report(name, "page", BIG_PAGES, pop, BIG_RUNS, f_pop);
    snprintf(name, sizeof name, "anon %s mprotect RW->R populated 64MiB", mode);
    report(name, "page", BIG_PAGES, prot, BIG_RUNS, 0);
    snprintf(name, sizeof name, "anon %s munmap populated 64MiB", mode);
    report(name, "page", BIG_PAGES, unmap_pop, BIG_RUNS, 0);
}

/*
 * The 64 MiB workloads on a memfd (shmem, 4 KiB pages: Debian leaves shmem THP "never"),
 * the closest Linux has to a VMO: pages live in the file and stay when a mapping goes.
 *   map+fault     mmap(MAP_SHARED) of a fresh 64 MiB memfd + one byte written per page:
 *                 each fault allocates a zeroed page into the file and maps it.
 *   munmap        of that mapping; the pages stay in the file (freed at close, untimed).
 *   populate      mmap(MAP_SHARED | MAP_POPULATE) of a memfd whose pages all exist
 *                 (fallocate beforehand, untimed): Beryl's MAP_RANGE of a committed VMO.
 *   mprotect      RW->R of that populated mapping; then its munmap.
 */
static void memfd_big(void) {
    uint64_t fault[MAX_RUNS], unmap[MAX_RUNS], pop[MAX_RUNS], prot[MAX_RUNS],
        unmap_pop[MAX_RUNS];
    long f_fault = 0, f_pop = 0;
    int full = memfd_create("full", 0);
    if (full < 0 || fallocate(full, 0, 0, BIG_SIZE) != 0)
        die("memfd fallocate 64MiB");
    for (int r = -1; r < BIG_RUNS; r++) {
        unsigned i = r < 0 ? 0 : (unsigned)r;
        int fd = memfd_create("fresh", 0);
        if (fd < 0 || ftruncate(fd, BIG_SIZE) != 0)
            die("memfd ftruncate 64MiB");
        long f0 = minflt();
        uint64_t t0 = rdtsc();
        volatile uint8_t *p = map_big(RW, MAP_SHARED, fd);
        for (unsigned long k = 0; k < BIG_PAGES; k++)
            p[k * PAGE] = 1;
        uint64_t t1 = rdtsc();
        munmap((void *)p, BIG_SIZE);
        uint64_t t2 = rdtsc();
        f_fault = minflt() - f0;
        close(fd);
        fault[i] = t1 - t0;
        unmap[i] = t2 - t1;

        f0 = minflt();
        t0 = rdtsc();
        p = map_big(RW, MAP_SHARED | MAP_POPULATE, full);
        t1 = rdtsc();
        f_pop = minflt() - f0;
        if (mprotect((void *)p, BIG_SIZE, PROT_READ) != 0)
            die("mprotect memfd");
        t2 = rdtsc();
        munmap((void *)p, BIG_SIZE);
        uint64_t t3 = rdtsc();
        pop[i] = t1 - t0;
        prot[i] = t2 - t1;
        unmap_pop[i] = t3 - t2;
    }
    close(full);
    report("memfd map+fault 64MiB", "page", BIG_PAGES, fault, BIG_RUNS, f_fault);
    report("memfd munmap touched 64MiB", "page", BIG_PAGES, unmap, BIG_RUNS, 0);
    report("memfd mmap MAP_POPULATE committed 64MiB", "page", BIG_PAGES, pop, BIG_RUNS, f_pop);
    report("memfd mprotect RW->R populated 64MiB", "page", BIG_PAGES, prot, BIG_RUNS, 0);
    report("memfd munmap populated 64MiB", "page", BIG_PAGES, unmap_pop, BIG_RUNS, 0);
}

enum small_op {
    OP_ANON_MAP_UNMAP,
    OP_ANON_MAP_TOUCH_UNMAP,
    OP_MEMFD_MAP_UNMAP,
    OP_MEMFD_MAP_TOUCH_UNMAP,
    OP_MEMFD_CREATE_MAP_TOUCH_UNMAP_CLOSE,
};

static uint64_t map_part; /* instructions spent in mmap, summed over small_once calls */

/* One operation on one page; fd is a one-page memfd whose page exists. */
static void small_once(enum small_op op, int fd) {
    int map_fd = -1, flags = ANON, own = 0;
    if (op == OP_MEMFD_MAP_UNMAP || op == OP_MEMFD_MAP_TOUCH_UNMAP) {
        map_fd = fd;
        flags = MAP_SHARED;
    } else if (op == OP_MEMFD_CREATE_MAP_TOUCH_UNMAP_CLOSE) {
        map_fd = memfd_create("page", 0);
        if (map_fd < 0 || ftruncate(map_fd, PAGE) != 0)
            die("memfd_create one page");
        flags = MAP_SHARED;
        own = 1;
    }
    uint64_t t0 = rdtsc();
    volatile uint8_t *p = mmap(NULL, PAGE, RW, flags, map_fd, 0);
    map_part += rdtsc() - t0;
    if (p == MAP_FAILED)
        die("mmap one page");
    if (op != OP_ANON_MAP_UNMAP && op != OP_MEMFD_MAP_UNMAP)
        *p = 1;
    munmap((void *)p, PAGE);
    if (own)
        close(map_fd);
}

/*
 * SMALL_RUNS runs of SMALL_ITERS operations; also reports the mmap calls' share (the
 * timed run includes the two extra rdtsc around each mmap, 3 instructions or so).
 */
static void small_bench(const char *name, enum small_op op, int fd) {
    uint64_t runs[MAX_RUNS], maps[MAX_RUNS];
    long faults = 0;
    char map_name[128];
    for (int r = -1; r < SMALL_RUNS; r++) {
        long f0 = minflt();
        map_part = 0;
        uint64_t t0 = rdtsc();
        for (unsigned k = 0; k < SMALL_ITERS; k++)
            small_once(op, fd);
        uint64_t t1 = rdtsc();
        faults = minflt() - f0;
        if (r >= 0) {
            runs[r] = t1 - t0;
            maps[r] = map_part;
        }
    }
    report(name, "op", SMALL_ITERS, runs, SMALL_RUNS, faults);
    snprintf(map_name, sizeof map_name, "  of which mmap (%s)", name);
    report(map_name, "op", SMALL_ITERS, maps, SMALL_RUNS, 0);
}

/* Empty loop, two syscalls, and rep stos of one page (what zeroing costs under icount). */
static void basic_bench(void) {
    uint64_t runs[MAX_RUNS];
    uint64_t a = rdtsc(), b = rdtsc();
    printf("linux: rdtsc back-to-back: %lu\n", b - a);
    for (int r = -1; r < SMALL_RUNS; r++) {
        uint64_t t0 = rdtsc();
        for (unsigned k = 0; k < SYSCALL_ITERS; k++)
            __asm__ volatile("" ::: "memory");
        uint64_t t1 = rdtsc();
        if (r >= 0)
            runs[r] = t1 - t0;
    }
    report("loop overhead", "iteration", SYSCALL_ITERS, runs, SMALL_RUNS, 0);
    for (int r = -1; r < SMALL_RUNS; r++) {
        uint64_t t0 = rdtsc();
        for (unsigned k = 0; k < SYSCALL_ITERS; k++)
            raw_syscall0(SYS_getppid);
        uint64_t t1 = rdtsc();
        if (r >= 0)
            runs[r] = t1 - t0;
    }
    report("syscall getppid", "op", SYSCALL_ITERS, runs, SMALL_RUNS, 0);
    for (int r = -1; r < SMALL_RUNS; r++) {
        uint64_t t0 = rdtsc();
        for (unsigned k = 0; k < SYSCALL_ITERS; k++)
            raw_syscall0(BAD_SYSCALL);
        uint64_t t1 = rdtsc();
        if (r >= 0)
            runs[r] = t1 - t0;
    }
    report("syscall invalid number (ENOSYS)", "op", SYSCALL_ITERS, runs, SMALL_RUNS, 0);

    static uint8_t buf[PAGE] __attribute__((aligned(PAGE)));
    for (int r = -1; r < SMALL_RUNS; r++) {
        void *d = buf;
        unsigned long n = PAGE;
        uint64_t t0 = rdtsc();
        __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(0) : "memory");
        uint64_t t1 = rdtsc();
        if (r >= 0)
            runs[r] = t1 - t0;
    }
    report("rep stosb 4KiB", "page", 1, runs, SMALL_RUNS, 0);
    for (int r = -1; r < SMALL_RUNS; r++) {
        void *d = buf;
        unsigned long n = PAGE / 8;
        uint64_t t0 = rdtsc();
        __asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(0) : "memory");
        uint64_t t1 = rdtsc();
        if (r >= 0)
            runs[r] = t1 - t0;
    }
    report("rep stosq 4KiB", "page", 1, runs, SMALL_RUNS, 0);
}

/* Prints the first line of a file, prefixed, or nothing when it cannot be read. */
static void show_file(const char *label, const char *path) {
    char line[512];
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        printf("linux: %s: %s\n", label, line);
    }
    fclose(f);
}

/* Writes text to a sysfs file; says so when it cannot. */
static void set_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, text, strlen(text)) < 0)
        printf("linux: cannot write %s to %s: %s\n", text, path, strerror(errno));
    if (fd >= 0)
        close(fd);
}

/* Finds a free 2 MiB-aligned 64 MiB hole for every 64 MiB mapping to use. */
static void find_big_hole(void) {
    void *p = mmap(NULL, BIG_SIZE + HUGE_PAGE, PROT_NONE, ANON | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        die("mmap reservation");
    big_addr = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    munmap(p, BIG_SIZE + HUGE_PAGE);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    show_file("kernel", "/proc/version");
    show_file("cmdline", "/proc/cmdline");
    /* The kernel turns THP off on machines with under 512 MiB of RAM (a 512 MiB guest
     * has a little less), zero page included; set what Debian's config gives a larger
     * one. */
    show_file("thp enabled at boot", "/sys/kernel/mm/transparent_hugepage/enabled");
    set_file("/sys/kernel/mm/transparent_hugepage/enabled", "always");
    set_file("/sys/kernel/mm/transparent_hugepage/defrag", "madvise");
    set_file("/sys/kernel/mm/transparent_hugepage/use_zero_page", "1");
    set_file("/sys/kernel/mm/transparent_hugepage/khugepaged/defrag", "1");
    show_file("thp enabled", "/sys/kernel/mm/transparent_hugepage/enabled");
    show_file("thp defrag", "/sys/kernel/mm/transparent_hugepage/defrag");
    show_file("thp use_zero_page", "/sys/kernel/mm/transparent_hugepage/use_zero_page");
    show_file("shmem thp", "/sys/kernel/mm/transparent_hugepage/shmem_enabled");
    show_file("meltdown", "/sys/devices/system/cpu/vulnerabilities/meltdown");
    show_file("spectre_v2", "/sys/devices/system/cpu/vulnerabilities/spectre_v2");
    show_file("clocksource", "/sys/devices/system/clocksource/clocksource0/current_clocksource");

    find_big_hole();
    basic_bench();
    anon_big(0);
    anon_big(1);
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
    memfd_big();

    int fd = memfd_create("one", 0);
    if (fd < 0 || ftruncate(fd, PAGE) != 0)
        die("memfd one page");
    small_bench("anon map+unmap 4KiB", OP_ANON_MAP_UNMAP, fd);
    small_bench("anon map+touch+unmap 4KiB (fresh zeroed page)", OP_ANON_MAP_TOUCH_UNMAP, fd);
    small_bench("memfd map+unmap 4KiB", OP_MEMFD_MAP_UNMAP, fd);
    small_bench("memfd map+touch+unmap 4KiB (page resident)", OP_MEMFD_MAP_TOUCH_UNMAP, fd);
    small_bench("memfd_create+ftruncate+map+touch+unmap+close 4KiB",
                OP_MEMFD_CREATE_MAP_TOUCH_UNMAP_CLOSE, fd);
    close(fd);

    printf("linux: done\n");
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
