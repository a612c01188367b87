/*
 * Restricted-mode kicks across CPUs (issue 15's user tests): a thread pinned to one CPU
 * spins in restricted mode (a loop that only counts in memory, no syscall) while a thread
 * of the same process pinned to another CPU kicks it with zx_restricted_kick; the spinner
 * must come back to its vector with ZX_RESTRICTED_REASON_KICK, where it stopped.
 *
 * Restricted mode needs a shared process, so the case runs this program again in one
 * (`smp_restricted --kick CPU`, the root resource as its PA_USER0 handle); the child
 * returns 0 or the line of the first check that failed (printed too). With fewer than two
 * CPUs the case prints a skip line and checks nothing.
 */
#include <beryl/launch.h>
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/processargs.h>
#include <zircon/syscalls-next.h>
#include "smp_util.h"

#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)
#define CONTEXT 0x5e5e5e5eull
/* Kicks per pair of CPUs. */
#define KICK_ROUNDS 5u

/* The vector: records what restricted mode handed back and returns from
 * zx_restricted_enter's stub (the normal-mode registers of the enter call are restored,
 * so a bare `ret` resumes the caller). */
extern char smp_restricted_vector[];
uint64_t smp_vector_context, smp_vector_reason;
__asm__(".text\n"
        ".globl smp_restricted_vector\n"
        "smp_restricted_vector:\n"
        "    movq %rdi, smp_vector_context(%rip)\n"
        "    movq %rsi, smp_vector_reason(%rip)\n"
        "    ret\n");

/* Restricted code: increments the counter at rdi forever. */
static const uint8_t code_count[] = {
    0x48, 0xff, 0x07, /* 1: incq (%rdi) */
    0xeb, 0xfb,       /*    jmp 1b */
};

#define SCHECK(c)                                                                      \
    do {                                                                               \
        if (!(c)) {                                                                    \
            printf("smp_restricted child: check failed at line %d: %s\n", __LINE__, #c); \
            return __LINE__;                                                           \
        }                                                                              \
    } while (0)

/* Shared between the spinner (the child's main thread) and its kicker. */
static struct {
    zx_handle_t spinner;           /* the main thread */
    zx_handle_t kicker;            /* the kicker's own thread (zx_thread_self() is the
                                    * main thread's handle in every thread) */
    uint32_t spinner_cpu, kicker_cpu;
    volatile uint64_t *counter;    /* what the restricted code increments */
    uint32_t armed;                /* round the spinner is about to enter (atomic) */
    uint32_t returned;             /* round whose enter returned (atomic) */
    volatile int kicker_line;      /* 0, or the line of the kicker's failed check */
    uint32_t abort;                /* set (atomic) when the kicker gave up */
} g;

/* The kicker's rounds; returns 0 or the line of the first failed check. */
static int kicker_rounds(void) {
    for (uint32_t r = 1; r <= KICK_ROUNDS; r++) {
        zx_time_t deadline = zx_deadline_after(SMP_DEADLINE_NS);
        while (__atomic_load_n(&g.armed, __ATOMIC_ACQUIRE) != r &&
               zx_clock_get_monotonic() < deadline)
            zx_nanosleep(zx_deadline_after(SMP_POLL_NS));
        SCHECK(__atomic_load_n(&g.armed, __ATOMIC_ACQUIRE) == r);
        /* The spinner counts in restricted mode on its CPU: kick it from ours. */
        SCHECK(smp_wait_running_on(g.spinner, g.spinner_cpu, g.counter));
        SCHECK(smp_last_cpu(g.kicker) == g.kicker_cpu);
        zx_time_t t0 = zx_clock_get_monotonic();
        SCHECK(zx_restricted_kick(g.spinner, 0) == ZX_OK);
        deadline = zx_deadline_after(SMP_DEADLINE_NS);
        while (__atomic_load_n(&g.returned, __ATOMIC_ACQUIRE) != r &&
               zx_clock_get_monotonic() < deadline)
            zx_nanosleep(zx_deadline_after(SMP_POLL_NS));
        SCHECK(__atomic_load_n(&g.returned, __ATOMIC_ACQUIRE) == r);
        if (r == 1)
            printf("smp_restricted: kick from CPU %u to CPU %u answered within %lld us\n",
                   g.kicker_cpu, g.spinner_cpu,
                   (long long)((zx_clock_get_monotonic() - t0) / 1000));
    }
    return 0;
}

/* Runs the rounds; if one fails, lets the spinner go (a kick with abort set: it stops
 * after the enter that kick ends, or before the next one) so the child ends at once. */
static void kicker_main(uintptr_t unused1, uintptr_t unused2) {
    (void)unused1, (void)unused2;
    g.kicker_line = kicker_rounds();
    if (g.kicker_line != 0) {
        __atomic_store_n(&g.abort, 1, __ATOMIC_RELEASE);
        zx_restricted_kick(g.spinner, 0);
    }
    zx_thread_exit();
}

/*
 * The child: pins itself to spinner_cpu and a kicker thread to another CPU, then
 * KICK_ROUNDS times enters restricted mode to count until kicked, checking each time how
 * it came back. Returns 0 or the line of the first failed check.
 */
static int kick_child(uint32_t spinner_cpu) {
    zx_handle_t resource = beryl_take_startup_handle(PA_HND(PA_USER0, 0));
    zx_handle_t state;
    SCHECK(zx_restricted_bind_state(0, &state) == ZX_OK);
    zx_vaddr_t counter = tu_map_new(TU_PAGE, RW, NULL);
    zx_vaddr_t code = tu_map_code(code_count, sizeof(code_count));
    SCHECK(counter != 0 && code != 0);
    g.spinner = zx_thread_self();
    g.spinner_cpu = spinner_cpu;
    g.kicker_cpu = spinner_cpu == 0 ? 1 : 0;
    g.counter = (volatile uint64_t *)counter;
    SCHECK(smp_pin(resource, g.spinner, g.spinner_cpu) == ZX_OK);
    tu_thread_t t;
    SCHECK(tu_thread_create(&t) == ZX_OK);
    SCHECK(smp_pin(resource, t.thread, g.kicker_cpu) == ZX_OK);
    g.kicker = t.thread;
    SCHECK(tu_thread_start(&t, kicker_main, 0, 0) == ZX_OK);
    for (uint32_t r = 1; r <= KICK_ROUNDS && !__atomic_load_n(&g.abort, __ATOMIC_ACQUIRE);
         r++) {
        *g.counter = 0;
        zx_restricted_state_t st;
        memset(&st, 0, sizeof(st));
        st.ip = code;
        st.flags = 0x202; /* IF, and the always-one bit */
        st.rdi = counter;
        SCHECK(zx_vmo_write(state, &st, 0, sizeof(st)) == ZX_OK);
        smp_vector_reason = smp_vector_context = ~0ull;
        __atomic_store_n(&g.armed, r, __ATOMIC_RELEASE);
        int64_t reason = zx_restricted_enter(0, (uintptr_t)smp_restricted_vector, CONTEXT);
        __atomic_store_n(&g.returned, r, __ATOMIC_RELEASE);
        if (__atomic_load_n(&g.abort, __ATOMIC_ACQUIRE))
            break;
        SCHECK(zx_vmo_read(state, &st, 0, sizeof(st)) == ZX_OK);
        SCHECK(reason == ZX_RESTRICTED_REASON_KICK);
        SCHECK(smp_vector_reason == ZX_RESTRICTED_REASON_KICK);
        SCHECK(smp_vector_context == CONTEXT);
        SCHECK(st.ip >= code && st.ip < code + sizeof(code_count)); /* still in its loop */
        SCHECK(st.rdi == counter);
        SCHECK(*g.counter != 0);
        SCHECK(smp_last_cpu(g.spinner) == g.spinner_cpu);
    }
    SCHECK(tu_thread_join(&t, SMP_DEADLINE_NS) == ZX_OK);
    SCHECK(g.kicker_line == 0);
    tu_thread_destroy(&t);
    zx_handle_close(resource);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--kick") == 0)
        return kick_child((uint32_t)strtoul(argv[2], NULL, 10));
    return beryl_test_run_all(argc, argv);
}

/* Runs the kick child with its spinner on `cpu` in a new shared process; its return
 * code (0: every check passed). */
static int64_t run_kick_child(uint32_t cpu) {
    zx_handle_t proto = ZX_HANDLE_INVALID, shared_vmar = ZX_HANDLE_INVALID;
    zx_handle_t proc = ZX_HANDLE_INVALID, rvmar = ZX_HANDLE_INVALID, res;
    int64_t rc = -9999;
    zx_status_t st = zx_process_create(zx_job_default(), "smp-rproto", 10, ZX_PROCESS_SHARED,
                                       &proto, &shared_vmar);
    if (st == ZX_OK)
        st = zx_process_create_shared(proto, 0, "smp-rsharer", 11, &proc, &rvmar);
    if (st == ZX_OK)
        st = zx_handle_duplicate(beryl_resource(), ZX_RIGHT_SAME_RIGHTS, &res);
    if (st == ZX_OK) {
        char arg[12];
        snprintf(arg, sizeof(arg), "%u", cpu);
        const char *argv[] = {"smp_restricted", "--kick", arg};
        st = tu_launch_self_into(proc, rvmar, "smp-rsharer", 3, argv, &res, 1);
    }
    if (st == ZX_OK && beryl_wait_exit(proc, zx_deadline_after(2 * SMP_DEADLINE_NS), &rc) !=
                           ZX_OK)
        rc = -9998;
    if (st != ZX_OK)
        printf("smp_restricted: setting up the child failed: %d\n", st);
    zx_handle_t procs[] = {proc, proto};
    for (int i = 0; i < 2; i++)
        if (procs[i] != ZX_HANDLE_INVALID)
            tu_task_kill_wait(procs[i]);
    zx_handle_t all[] = {proc, rvmar, proto, shared_vmar};
    for (int i = 0; i < 4; i++)
        if (all[i] != ZX_HANDLE_INVALID)
            zx_handle_close(all[i]);
    return rc;
}

/* A spinner on each CPU in turn, kicked from CPU 0 (CPU 0's from CPU 1). */
TEST(SmpRestricted, KickSpinnerOnAnotherCpu) {
    if (smp_skip("SmpRestricted.KickSpinnerOnAnotherCpu"))
        return;
    uint32_t n = smp_cpus();
    for (uint32_t cpu = 0; cpu < n; cpu++)
        EXPECT_EQ(run_kick_child(cpu), 0);
}
