/*
 * userboot: the first user process. Runs every boot module named "test/..." (in name
 * order) as its own process, collects each program's beryl_test_report_t from a results
 * channel, checks that the kernel's free memory is back where it was once the program
 * and all handles to it are gone, and exits with the number of failures. The kernel
 * prints that status and powers off.
 */
#include <beryl/kernel_info.h>
#include <beryl/launch.h>
#include <beryl/startup.h>
#include <beryl/test_report.h>
#include <stdio.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/processargs.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#define MAX_PROGRAMS 256
#define PROGRAM_TIMEOUT_NS ((zx_time_t)120 * 1000 * 1000 * 1000)
/* Pages the kernel may legitimately still hold after a program (none so far). */
#define LEAK_TOLERANCE_PAGES 0
/* Freed memory can come back a little after the process dies (deferred frees): the
 * after-measurement is retried this many times, LEAK_RETRY_NS apart. */
#define LEAK_RETRIES 50
#define LEAK_RETRY_NS ((zx_time_t)10 * 1000 * 1000)

typedef struct {
    const char *name;
    zx_handle_t vmo;
} program_t;

static program_t programs[MAX_PROGRAMS];

/* Kernel memory figures for the leak check. */
typedef struct {
    int64_t free_pages; /* -1 when they cannot be read (no resource handle) */
    int64_t heap_pages;
    int64_t heap_used; /* bytes */
    int64_t vmo_pages, mmu_pages, other_pages;
} mem_t;

static mem_t mem_now(void) {
    zx_info_kmem_stats_t st;
    mem_t m = {-1, 0, 0};
    if (zx_object_get_info(beryl_resource(), ZX_INFO_KMEM_STATS, &st, sizeof(st), NULL,
                           NULL) != ZX_OK)
        return m;
    m.free_pages = (int64_t)(st.free_bytes / 4096);
    m.heap_pages = (int64_t)(st.total_heap_bytes / 4096);
    m.heap_used = (int64_t)(st.total_heap_bytes - st.free_heap_bytes);
    m.vmo_pages = (int64_t)(st.vmo_bytes / 4096);
    m.mmu_pages = (int64_t)(st.mmu_overhead_bytes / 4096);
    m.other_pages = (int64_t)(st.other_bytes / 4096);
    return m;
}

/*
 * Pages a program left behind. While the kernel heap's bytes in use did not grow, its
 * slab pages are left out: a slab page is held exactly while some object lives on it, so
 * the same live objects can take one page more or less after a program made the kernel
 * reallocate a long-lived one (e.g. page-tree nodes of a program's executable VMO, moved
 * when a copy-on-write child of it goes away) without anything leaking.
 */
static int64_t leaked_pages(const mem_t *before, const mem_t *after) {
    int64_t lost = before->free_pages - after->free_pages;
    if (after->heap_used <= before->heap_used)
        lost -= after->heap_pages - before->heap_pages;
    return lost;
}

/* The kernel's longest interrupts-off stretch so far, in ns (0 if it cannot be read). */
static uint64_t irqoff_ns(void) {
    beryl_info_irqoff_t io;
    if (zx_object_get_info(beryl_resource(), BERYL_INFO_IRQOFF, &io, sizeof(io), NULL,
                           NULL) != ZX_OK)
        return 0;
    return io.max_ns;
}

/* Handles userboot may hold at once beyond the ones it starts with: a launched
 * program's process handle and results channel, and the launcher's temporaries. */
#define HANDLE_HEADROOM 16

/*
 * Grows userboot's own handle table to room for HANDLE_HEADROOM more handles. A table
 * grows in chunks it keeps until the process dies, so the chunk userboot's handles
 * happened to cross into while a program ran would look like that program's leak.
 */
static void grow_handle_table(void) {
    zx_handle_t spare[HANDLE_HEADROOM];
    uint32_t n = 0;
    while (n < HANDLE_HEADROOM &&
           zx_handle_duplicate(beryl_resource(), ZX_RIGHT_SAME_RIGHTS, &spare[n]) == ZX_OK)
        n++;
    zx_handle_close_many(spare, n);
}

/* Touches the stack userboot will use while measuring, so that its own first-touch
 * page faults never show up as a program's leak. */
static __attribute__((noinline)) void prefault_stack(void) {
    volatile char buf[32 * 1024];
    for (size_t i = 0; i < sizeof(buf); i += 1024)
        buf[i] = 0;
}

typedef struct {
    uint32_t passed;
    uint32_t failed;
} tally_t;

/* Launches one program and waits for it; fills *t with its cases. */
static void run_program(const program_t *p, tally_t *t) {
    zx_handle_t results_rx, results_tx;
    zx_status_t st = zx_channel_create(0, &results_rx, &results_tx);
    if (st != ZX_OK) {
        printf("FAIL %s: zx_channel_create: %d\n", p->name, st);
        t->failed++;
        return;
    }
    zx_handle_t extra[2] = {results_tx, ZX_HANDLE_INVALID};
    uint32_t infos[2] = {PA_HND(PA_USER0, 0), PA_HND(PA_RESOURCE, 0)};
    uint32_t nextra = 1;
    if (beryl_resource() != ZX_HANDLE_INVALID &&
        zx_handle_duplicate(beryl_resource(), ZX_RIGHT_SAME_RIGHTS, &extra[1]) == ZX_OK)
        nextra = 2;
    const char *argv[] = {p->name};
    beryl_launch_args_t a = {
        .job = zx_job_default(),
        .name = p->name,
        .exe_vmo = p->vmo,
        .argc = 1,
        .argv = argv,
        .handles = extra,
        .handle_infos = infos,
        .num_handles = nextra,
    };
    zx_handle_t proc;
    zx_time_t start = zx_clock_get_monotonic();
    st = beryl_launch(&a, &proc);
    if (st != ZX_OK) {
        zx_handle_close(results_rx);
        printf("FAIL %s: launch failed: %d\n", p->name, st);
        t->failed++;
        return;
    }
    int64_t rc = 0;
    st = beryl_wait_exit(proc, zx_clock_get_monotonic() + PROGRAM_TIMEOUT_NS, &rc);
    bool timed_out = st == ZX_ERR_TIMED_OUT;
    if (timed_out) {
        zx_task_kill(proc);
        zx_object_wait_one(proc, ZX_PROCESS_TERMINATED, ZX_TIME_INFINITE, NULL);
    }
    zx_handle_close(proc);
    long long ms = (long long)((zx_clock_get_monotonic() - start) / 1000000);

    beryl_test_report_t r;
    uint32_t nb = 0, nh = 0;
    zx_status_t rst = zx_channel_read(results_rx, 0, &r, NULL, sizeof(r), 0, &nb, &nh);
    zx_handle_close(results_rx);
    bool have_report = rst == ZX_OK && nb == sizeof(r) && r.magic == BERYL_TEST_REPORT_MAGIC;

    if (timed_out || st != ZX_OK) {
        printf("FAIL %s: %s (%d)\n", p->name, timed_out ? "timed out, killed" : "wait failed",
               st);
        t->failed++;
        return;
    }
    if (!have_report) {
        if (rc == 0)
            t->passed++;
        else
            t->failed++;
        printf("%s %s: exit code %lld, no report (%lld ms)\n", rc == 0 ? "PASS" : "FAIL",
               p->name, (long long)rc, ms);
        return;
    }
    t->passed += r.passed;
    t->failed += r.failed;
    bool bad_exit = rc != 0 && r.failed == 0; /* died after reporting success */
    if (bad_exit)
        t->failed++;
    printf("%s %s: %u passed, %u failed, exit code %lld (%lld ms)\n",
           r.failed == 0 && !bad_exit ? "PASS" : "FAIL", p->name, r.passed, r.failed,
           (long long)rc, ms);
}

/* Program names sort with a plain insertion sort: there are few of them. */
static void sort_programs(uint32_t n) {
    for (uint32_t i = 1; i < n; i++) {
        program_t p = programs[i];
        uint32_t j = i;
        while (j > 0 && strcmp(programs[j - 1].name, p.name) > 0) {
            programs[j] = programs[j - 1];
            j--;
        }
        programs[j] = p;
    }
}

/* Modules run when the kernel command line names no userboot.prefix. */
#define DEFAULT_PREFIX "test/"

int main(int argc, char **argv) {
    /* Launched as a warm-up child of userboot itself: exit at once. */
    if (argc >= 2 && strcmp(argv[1], "--warmup") == 0)
        return 0;

    /* Which modules to run: the kernel passes userboot.prefix=P as argv[1]. */
    const char *prefix = argc >= 2 ? argv[1] : DEFAULT_PREFIX;
    size_t prefix_len = strlen(prefix);
    uint32_t n = 0;
    zx_handle_t self_vmo = ZX_HANDLE_INVALID;
    for (uint32_t i = 0; i < beryl_startup_name_count(); i++) {
        const char *name = beryl_startup_name(i);
        if (strcmp(name, "userboot") == 0)
            self_vmo = beryl_get_startup_handle(PA_HND(PA_VMO_BOOTFS, i));
        if (strncmp(name, prefix, prefix_len) != 0 || strcmp(name, "userboot") == 0 ||
            n == MAX_PROGRAMS)
            continue;
        zx_handle_t vmo = beryl_take_startup_handle(PA_HND(PA_VMO_BOOTFS, i));
        if (vmo == ZX_HANDLE_INVALID)
            continue;
        programs[n].name = name;
        programs[n].vmo = vmo;
        n++;
    }
    sort_programs(n);
    prefault_stack();
    grow_handle_table();
    printf("userboot: %u test programs\n", n);

    /* The first process a kernel creates may grow its object caches for good: one
     * throw-away launch of userboot itself keeps that out of the first test's leak check. */
    if (self_vmo != ZX_HANDLE_INVALID) {
        const char *wargv[] = {"userboot", "--warmup"};
        beryl_launch_args_t w = {.job = zx_job_default(), .name = "warmup",
                                 .exe_vmo = self_vmo, .argc = 2, .argv = wargv};
        zx_handle_t proc;
        int64_t rc;
        if (beryl_launch(&w, &proc) == ZX_OK) {
            beryl_wait_exit(proc, ZX_TIME_INFINITE, &rc);
            zx_handle_close(proc);
        }
    }

    tally_t total = {0, 0};
    uint64_t irqoff_max = irqoff_ns();
    for (uint32_t i = 0; i < n; i++) {
        mem_t before = mem_now();
        run_program(&programs[i], &total);
        /* Which program set the kernel's longest interrupts-off stretch (the kernel
         * prints where in its code at the end; docs/architecture.md, bounded latency). */
        uint64_t irqoff = irqoff_ns();
        if (irqoff > irqoff_max) {
            printf("irqoff: %s raised the longest interrupts-off stretch to %llu ns\n",
                   programs[i].name, (unsigned long long)irqoff);
            irqoff_max = irqoff;
        }
        if (before.free_pages < 0)
            continue;
        mem_t after = mem_now();
        for (int r = 0; r < LEAK_RETRIES && leaked_pages(&before, &after) > LEAK_TOLERANCE_PAGES;
             r++) {
            zx_nanosleep(zx_clock_get_monotonic() + LEAK_RETRY_NS);
            after = mem_now();
        }
        int64_t lost = leaked_pages(&before, &after);
        if (lost > LEAK_TOLERANCE_PAGES) {
            /* Where they went, for whoever has to find the leak. */
            printf("LEAK %s: %lld pages (VMO pages %+lld, page tables %+lld, heap pages %+lld "
                   "with %+lld bytes in use, other %+lld)\n",
                   programs[i].name, (long long)lost,
                   (long long)(after.vmo_pages - before.vmo_pages),
                   (long long)(after.mmu_pages - before.mmu_pages),
                   (long long)(after.heap_pages - before.heap_pages),
                   (long long)(after.heap_used - before.heap_used),
                   (long long)(after.other_pages - before.other_pages));
            total.failed++;
        }
    }
    printf("userboot: %u passed, %u failed\n", total.passed, total.failed);
    return (int)total.failed;
}
