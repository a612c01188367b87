/*
 * Per-thread x87 / SSE / AVX state. Every thread loads its own register image (fpu_util.h)
 * and must find it intact after blocking (zx_nanosleep, zx_object_wait_one on a channel
 * whose writer is another thread or another process), after being preempted (spinning
 * for several time slices against other spinners), while "churn" threads keep loading
 * garbage into the same registers. A new thread starts from the documented clean state
 * whatever the thread that ran before it left behind. Unmasked SSE and x87 exceptions kill
 * only the faulting process. Restricted mode's side (one state for both modes) is in
 * restricted.c.
 *
 * With `--child SEED CHANNEL_INDEX` this program is the other process of
 * Fpu.ProcessesKeepTheirRegisters: it runs the same worker and exits with the number of
 * mismatches it saw.
 */
#include <beryl/launch.h>
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/processargs.h>
#include <zircon/syscalls.h>
#include "fpu_util.h"

#define ROUNDS 2u
#define SPIN_MS 21u      /* past two 10 ms time slices */
#define SLEEP_MS 2u
#define WAIT_TIMEOUT (10 * TU_SEC)
#define CHILD_ARG "--child"

static bool g_avx;

static uint64_t g_tsc_per_ms;

/* ---- workers ---------------------------------------------------------------------- */

typedef struct worker {
    uint32_t seed;
    zx_handle_t channel; /* talks to a peer worker, or ZX_HANDLE_INVALID */
    uint32_t holds;      /* checks made */
    uint32_t mismatches; /* checks that found a register changed */
    zx_status_t status;  /* first syscall failure, if any */
} worker_t;

/* Loads the image for (seed, n), runs fn(args) under it and checks the registers. */
static void check_hold(worker_t *w, uint32_t n, fpu_call_t fn, const uint64_t args[6]) {
    fpu_image_t want, got;
    fpu_pattern(&want, w->seed * 64 + n, g_avx);
    uint64_t r = fpu_hold(&want, &got, fn, args);
    if (fn != (fpu_call_t)fpu_spin_until && r != ZX_OK && w->status == ZX_OK)
        w->status = (zx_status_t)r;
    w->holds++;
    if (!fpu_equal(&got, &want)) {
        w->mismatches++;
        printf("fpu: worker %u hold %u: registers changed\n", w->seed, n);
    }
}

/* ROUNDS of: sleep, spin past several slices, and (with a channel) a ping-pong wait. */
static void worker_run(worker_t *w) {
    uint32_t n = 0;
    for (uint32_t round = 0; round < ROUNDS; round++) {
        uint64_t sleep_args[6] = {(uint64_t)zx_deadline_after(SLEEP_MS * TU_MS)};
        check_hold(w, n++, (fpu_call_t)zx_nanosleep, sleep_args);
        uint64_t spin_args[6] = {__builtin_ia32_rdtsc() + SPIN_MS * g_tsc_per_ms};
        check_hold(w, n++, (fpu_call_t)fpu_spin_until, spin_args);
        if (w->channel == ZX_HANDLE_INVALID)
            continue;
        /* Both ends write, then wait: whoever waits first blocks until the other wrote. */
        uint8_t b = (uint8_t)round;
        zx_status_t st = zx_channel_write(w->channel, 0, &b, 1, NULL, 0);
        uint64_t wait_args[6] = {w->channel, ZX_CHANNEL_READABLE,
                                 (uint64_t)zx_deadline_after(WAIT_TIMEOUT), 0};
        check_hold(w, n++, (fpu_call_t)zx_object_wait_one, wait_args);
        uint32_t nb, nh;
        if (st == ZX_OK)
            st = zx_channel_read(w->channel, 0, &b, NULL, 1, 0, &nb, &nh);
        if (st != ZX_OK && w->status == ZX_OK)
            w->status = st;
    }
}

static void worker_thread(uintptr_t arg, uintptr_t unused) {
    (void)unused;
    worker_run((worker_t *)arg);
    zx_thread_exit();
}

/* A thread that keeps loading a garbage image until *stop is set. */
static void churn_thread(uintptr_t stop, uintptr_t seed) {
    fpu_image_t junk;
    fpu_pattern(&junk, (uint32_t)seed, g_avx);
    while (!*(volatile bool *)stop)
        fpu_load(&junk);
    zx_thread_exit();
}

typedef struct churn {
    tu_thread_t t;
    volatile bool stop;
} churn_t;

static zx_status_t churn_start(churn_t *c, uint32_t seed) {
    c->stop = false;
    zx_status_t st = tu_thread_create(&c->t);
    if (st == ZX_OK)
        st = tu_thread_start(&c->t, churn_thread, (uintptr_t)&c->stop, seed);
    return st;
}

static void churn_stop(churn_t *c) {
    c->stop = true;
    tu_thread_join(&c->t, WAIT_TIMEOUT);
    tu_thread_destroy(&c->t);
}

/* ---- tests ---------------------------------------------------------------------------- */

TEST(Fpu, AvxStateIsEnabledWhenTheCpuHasIt) {
    uint32_t r[4];
    fpu_cpuid(1, r);
    bool cpu_avx = r[2] & (1u << 28);
    EXPECT_EQ(g_avx, cpu_avx);
    if (cpu_avx)
        printf("fpu: the CPU has AVX: YMM upper halves are checked\n");
    else
        printf("fpu: the CPU has no AVX: x87 and SSE are checked\n");
}

/* The main thread still has the state it started with, except what C code changed:
 * the runtime never touches FCW or MXCSR, and plain SSE arithmetic works. */
TEST(Fpu, ProcessStartsWithTheInitialControlWords) {
    uint16_t fcw = 0;
    uint32_t mxcsr = 0;
    __asm__ volatile("fnstcw %0" : "=m"(fcw));
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    EXPECT_EQ(fcw, FPU_INITIAL_FCW);
    EXPECT_EQ(mxcsr & ~0x3fu, FPU_INITIAL_MXCSR); /* sticky flags may be set by now */
    volatile double x = 1.5, y = 2.25;
    EXPECT_TRUE(x * x == y);
    volatile float v[8];
    for (int i = 0; i < 8; i++)
        v[i] = (float)i * 0.5f;
    float s = 0;
    for (int i = 0; i < 8; i++)
        s += v[i];
    EXPECT_TRUE(s == 14.0f);
}

/* What a new thread finds in its registers before running any compiled code. */
static struct {
    fpu_image_t regs;
    uint32_t env[7]; /* fnstenv: FCW, FSW, FTW, ... (32-bit format) */
} g_probe;

void fpu_probe_entry(void);
__asm__(".text\n"
        ".globl fpu_probe_entry\n"
        "fpu_probe_entry:\n"
        "    leaq g_probe(%rip), %rdi\n"
        "    fnstcw 644(%rdi)\n"
        "    stmxcsr 640(%rdi)\n"
        "    fnstenv 656(%rdi)\n" FPU_EACH16(FPU_STORE_XMM)
        "    movq g_avx_word(%rip), %rax\n"
        "    testq %rax, %rax\n"
        "    je 1f\n" FPU_EACH16(FPU_STORE_YMM)
        "1:  andq $-16, %rsp\n"
        "    callq zx_thread_exit\n"
        "    ud2\n");
uint64_t g_avx_word;
_Static_assert(offsetof(__typeof__(g_probe), env) == 656, "fpu_probe_entry's offset");

TEST(Fpu, NewThreadStartsClean) {
    g_avx_word = g_avx;
    memset(&g_probe, 0xcc, sizeof(g_probe));
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(zx_thread_start(t.thread, (zx_vaddr_t)fpu_probe_entry, t.stack + TU_STACK_SIZE,
                              0, 0));
    /* Block with a full dirty image loaded: the new thread runs right after. */
    fpu_image_t dirt, after;
    fpu_pattern(&dirt, 0xd1a7, g_avx);
    uint64_t args[6] = {t.thread, ZX_THREAD_TERMINATED, (uint64_t)zx_deadline_after(WAIT_TIMEOUT),
                        0};
    EXPECT_OK((zx_status_t)fpu_hold(&dirt, &after, (fpu_call_t)zx_object_wait_one, args));
    EXPECT_TRUE(fpu_equal(&after, &dirt));
    tu_thread_destroy(&t);

    static const uint8_t zero[FPU_NREGS][16];
    EXPECT_EQ(g_probe.regs.fcw, FPU_INITIAL_FCW);
    EXPECT_EQ(g_probe.regs.mxcsr, FPU_INITIAL_MXCSR);
    EXPECT_EQ(g_probe.env[1] & 0xffffu, 0u);      /* FSW: no flags, TOP 0 */
    EXPECT_EQ(g_probe.env[2] & 0xffffu, 0xffffu); /* FTW: every x87 register empty */
    EXPECT_EQ(memcmp(g_probe.regs.xmm, zero, sizeof(zero)), 0);
    if (g_avx)
        EXPECT_EQ(memcmp(g_probe.regs.ymm_hi, zero, sizeof(zero)), 0);
}

/* Two threads of this process ping-pong over a channel, sleep and spin, each with its
 * own image, while a churn thread loads garbage whenever it gets the CPU. */
TEST(Fpu, ThreadsKeepTheirRegisters) {
    zx_handle_t ch[2];
    ASSERT_OK(zx_channel_create(0, &ch[0], &ch[1]));
    static worker_t w[2];
    tu_thread_t t[2];
    churn_t churn;
    ASSERT_OK(churn_start(&churn, 0xbad));
    for (int i = 0; i < 2; i++) {
        w[i] = (worker_t){.seed = 1 + (uint32_t)i, .channel = ch[i]};
        ASSERT_OK(tu_thread_create(&t[i]));
        ASSERT_OK(tu_thread_start(&t[i], worker_thread, (uintptr_t)&w[i], 0));
    }
    for (int i = 0; i < 2; i++) {
        EXPECT_OK(tu_thread_join(&t[i], WAIT_TIMEOUT));
        tu_thread_destroy(&t[i]);
    }
    churn_stop(&churn);
    for (int i = 0; i < 2; i++) {
        EXPECT_OK(w[i].status);
        EXPECT_EQ(w[i].holds, ROUNDS * 3);
        EXPECT_EQ(w[i].mismatches, 0u);
    }
    zx_handle_close_many(ch, 2);
}

/* The same across two processes: this one and a copy of the program, each with a worker
 * and a churn thread, ping-ponging over a channel between them. */
TEST(Fpu, ProcessesKeepTheirRegisters) {
    zx_handle_t ch[2];
    ASSERT_OK(zx_channel_create(0, &ch[0], &ch[1]));
    const char *argv[] = {"fpu", CHILD_ARG, "7"};
    zx_handle_t child;
    ASSERT_OK(tu_launch_self("fpu-child", 3, argv, ch[1], &child));
    churn_t churn;
    ASSERT_OK(churn_start(&churn, 0xbad2));
    worker_t w = {.seed = 3, .channel = ch[0]};
    worker_run(&w);
    churn_stop(&churn);
    int64_t rc = -1;
    EXPECT_OK(beryl_wait_exit(child, zx_deadline_after(WAIT_TIMEOUT), &rc));
    EXPECT_EQ(rc, 0);
    EXPECT_OK(w.status);
    EXPECT_EQ(w.holds, ROUNDS * 3);
    EXPECT_EQ(w.mismatches, 0u);
    zx_handle_close(child);
    zx_handle_close(ch[0]);
}

#define XM_NOT_RAISED 0x58 /* the death child's code when the division completed */

/* MXCSR with the divide-by-zero exception unmasked, then 1.0f / 0.0f: #XM. If the CPU
 * does not trap, exits with XM_NOT_RAISED once it has checked that the division did
 * happen (ZE set). */
static void divide_by_zero_sse(void) {
    uint32_t mxcsr = 0;
    __asm__ volatile("pushq $0x1d80\n"
                     "ldmxcsr (%%rsp)\n"
                     "addq $8, %%rsp\n"
                     "movl $1, %%eax\n"
                     "cvtsi2ss %%eax, %%xmm0\n"
                     "xorps %%xmm1, %%xmm1\n"
                     "divss %%xmm1, %%xmm0\n"
                     "stmxcsr %0\n"
                     : "=m"(mxcsr)::"rax", "xmm0", "xmm1", "memory");
    if (mxcsr & 0x4u)
        zx_process_exit(XM_NOT_RAISED);
}

static void divide_by_zero_x87(void) {
    /* FCW with ZM clear, st0 = 1.0 / st1 = 0.0 (the exception is now pending), then
     * fwait: #MF. */
    uint16_t fcw = 0x037b;
    __asm__ volatile("fldcw %0\n"
                     "fldz\n"
                     "fld1\n"
                     "fdiv %%st(1), %%st\n"
                     "fwait\n" ::"m"(fcw)
                     : "memory");
}

/* Bochs (bochs.user_fpu) and hardware raise #XM; QEMU's TCG does not, so there the
 * child must see the division complete instead. */
TEST(Fpu, UnmaskedSseExceptionKillsTheProcess) {
    bool tcg = fpu_under_qemu_tcg();
    if (tcg && !beryl_test_in_death_child())
        printf("fpu: QEMU TCG raises no #XM: the division must complete instead\n");
    EXPECT_DEATH(divide_by_zero_sse(), tcg ? XM_NOT_RAISED : ZX_TASK_RETCODE_EXCEPTION_KILL);
}

TEST(Fpu, UnmaskedX87ExceptionKillsTheProcess) {
    EXPECT_DEATH(divide_by_zero_x87(), ZX_TASK_RETCODE_EXCEPTION_KILL);
}

/* The control of the two above: the same divisions with the exceptions masked only set
 * the sticky flags. */
TEST(Fpu, MaskedExceptionsOnlySetFlags) {
    volatile float one = 1.0f, zero = 0.0f;
    volatile float q = one / zero;
    uint32_t mxcsr = 0;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    EXPECT_TRUE(q > 1e30f);
    EXPECT_NE(mxcsr & 0x4u, 0u); /* ZE */
    fpu_reset();
}

static int child_main(uint32_t seed) {
    g_tsc_per_ms = tu_tsc_per_ms();
    churn_t churn;
    if (churn_start(&churn, seed * 977) != ZX_OK)
        return 100;
    worker_t w = {.seed = seed, .channel = beryl_take_startup_handle(PA_HND(PA_USER0, 0))};
    worker_run(&w);
    churn_stop(&churn);
    if (w.status != ZX_OK)
        return 101;
    return (int)w.mismatches;
}

int main(int argc, char **argv) {
    g_avx = fpu_has_avx();
    if (argc >= 3 && strcmp(argv[1], CHILD_ARG) == 0)
        return child_main((uint32_t)strtoul(argv[2], NULL, 10));
    g_tsc_per_ms = tu_tsc_per_ms();
    return beryl_test_run_all(argc, argv);
}
