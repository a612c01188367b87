/*
 * Restricted mode: zx_restricted_bind_state / unbind_state / enter / kick. A thread of a
 * create_shared process runs small code pages in its restricted region with registers
 * from its state VMO, and comes back at its vector on `syscall` (SYSCALL), on an
 * exception such as touching the shared region (EXCEPTION), or when kicked (KICK); the
 * tests check the reason, the context, and the registers saved in the state VMO.
 *
 * The x87 / SSE / AVX registers are one state for both modes, as in Zircon: restricted
 * code starts with what normal mode had at zx_restricted_enter, normal mode gets back what
 * restricted code left, and other threads running meanwhile never show through. Restricted
 * code that sets RFLAGS.AC and DF and takes interrupts keeps them (the kernel clears them
 * for itself on each entry).
 *
 * Everything that must run inside a sharer is this program launched into one with
 * `--sharer SCENARIO SHARED_ADDR`; the scenario returns 0, or the line of the first
 * check that failed (printed too).
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
#include "fpu_util.h"

#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)
#define RESTRICTED_TOP 0x400000000000ull
#define CONTEXT 0xc0ffee5eedull

/* The vector: records what restricted mode handed back, then returns from
 * zx_restricted_enter's stub (Beryl restores the normal-mode registers of the enter call,
 * so a bare `ret` resumes the caller; the reason is also in rax). */
extern char restricted_vector[];
uint64_t vector_context, vector_reason;
__asm__(".text\n"
        ".globl restricted_vector\n"
        "restricted_vector:\n"
        "    movq %rdi, vector_context(%rip)\n"
        "    movq %rsi, vector_reason(%rip)\n"
        "    ret\n");

/* Restricted-mode code (machine code, copied into an executable page). */
static const uint8_t code_compute[] = {
    0x48, 0xc7, 0xc0, 0x07, 0, 0, 0, /* mov $7,%rax */
    0x48, 0x83, 0xc0, 0x05,          /* add $5,%rax */
    0x48, 0xc7, 0xc3, 0x34, 0x12, 0, 0, /* mov $0x1234,%rbx */
    0x0f, 0x05,                      /* syscall */
    0xeb, 0xfe,                      /* jmp . */
};
#define COMPUTE_AFTER_SYSCALL 20
static const uint8_t code_load_rdi[] = {
    0x48, 0x8b, 0x07, /* mov (%rdi),%rax */
    0x0f, 0x05,       /* syscall */
    0xeb, 0xfe,
};
static const uint8_t code_load_fs[] = {
    0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0, /* mov %fs:0,%rax */
    0x0f, 0x05,
    0xeb, 0xfe,
};
static const uint8_t code_ud2[] = {0x0f, 0x0b, 0xeb, 0xfe};
/* Reads XMM3's low half into rax, sets every bit of XMM5 (legacy SSE encoding: the
 * upper half of YMM5 stays), then syscall. */
static const uint8_t code_fpu_touch[] = {
    0x66, 0x48, 0x0f, 0x7e, 0xd8, /* movq %xmm3,%rax */
    0x66, 0x0f, 0x76, 0xed,       /* pcmpeqd %xmm5,%xmm5 */
    0x0f, 0x05,                   /* syscall */
    0xeb, 0xfe,
};
/* 1.0f / 0.0f in SSE (an #XM if MXCSR unmasks divide-by-zero), then syscall. */
static const uint8_t code_sse_divide_by_zero[] = {
    0xb8, 0x01, 0, 0, 0,          /* mov $1,%eax */
    0xf3, 0x0f, 0x2a, 0xc0,       /* cvtsi2ss %eax,%xmm0 */
    0x0f, 0x57, 0xc9,             /* xorps %xmm1,%xmm1 */
    0xf3, 0x0f, 0x5e, 0xc1,       /* divss %xmm1,%xmm0 */
    0x0f, 0x05,                   /* syscall */
    0xeb, 0xfe,
};
#define SSE_DIVIDE_AT 12
/* Sets AC and DF, spins until the TSC reaches rdi (timer interrupts arrive meanwhile),
 * then syscall. Needs a stack (rsp). */
static const uint8_t code_ac_df_spin[] = {
    0x9c,                                           /* pushfq */
    0x48, 0x81, 0x0c, 0x24, 0x00, 0x04, 0x04, 0x00, /* orq $0x40400,(%rsp) */
    0x9d,                                           /* popfq */
    0x0f, 0x31,                                     /* rdtsc */
    0x48, 0xc1, 0xe2, 0x20,                         /* shl $32,%rdx */
    0x48, 0x09, 0xd0,                               /* or %rdx,%rax */
    0x48, 0x39, 0xf8,                               /* cmp %rdi,%rax */
    0x72, 0xf2,                                     /* jb rdtsc */
    0x0f, 0x05,                                     /* syscall */
    0xeb, 0xfe,
};
static const uint8_t code_spin[] = {0xeb, 0xfe};
static const uint8_t code_syscall[] = {0x0f, 0x05, 0xeb, 0xfe};

/* ---- the sharer side ---------------------------------------------------------------- */

#define SCHECK(c)                                                                     \
    do {                                                                              \
        if (!(c)) {                                                                   \
            printf("restricted sharer: check failed at line %d: %s\n", __LINE__, #c); \
            return __LINE__;                                                          \
        }                                                                             \
    } while (0)

static zx_handle_t g_state;

/* The exception report of the last enter() (after an EXCEPTION exit; else stale). */
static zx_exception_report_t g_report;

/* Writes *st to the bound state, enters, reads the saved state (and what follows it, the
 * report of an exception exit) back; returns what zx_restricted_enter returned (the
 * reason, or an error status). */
static int64_t enter(zx_restricted_state_t *st) {
    if (zx_vmo_write(g_state, st, 0, sizeof(*st)) != ZX_OK)
        return -1000;
    vector_context = vector_reason = ~0ull;
    int64_t r = zx_restricted_enter(0, (uintptr_t)restricted_vector, CONTEXT);
    zx_restricted_exception_t exc;
    if (zx_vmo_read(g_state, &exc, 0, sizeof(exc)) != ZX_OK)
        return -1001;
    *st = exc.state;
    g_report = exc.exception;
    return r;
}

static zx_restricted_state_t state_at(zx_vaddr_t ip) {
    zx_restricted_state_t st;
    memset(&st, 0, sizeof(st));
    st.ip = ip;
    st.flags = 0x202;
    return st;
}

static int scenario_syscall(void) {
    zx_vaddr_t code = tu_map_code(code_compute, sizeof(code_compute));
    SCHECK(code != 0);
    zx_restricted_state_t st = state_at(code);
    st.rsp = 0x123450;
    st.r12 = 0xabcdef;
    st.r15 = 0xf15;
    st.rdi = 0xd1;
    SCHECK(enter(&st) == ZX_RESTRICTED_REASON_SYSCALL);
    SCHECK(vector_reason == ZX_RESTRICTED_REASON_SYSCALL);
    SCHECK(vector_context == CONTEXT);
    SCHECK(st.rax == 12);
    SCHECK(st.rbx == 0x1234);
    SCHECK(st.ip == code + COMPUTE_AFTER_SYSCALL);
    SCHECK(st.rcx == st.ip); /* what `syscall` put there */
    SCHECK(st.rsp == 0x123450);
    SCHECK(st.r12 == 0xabcdef && st.r15 == 0xf15 && st.rdi == 0xd1);
    SCHECK(st.flags & 0x200); /* IF */
    /* A second round trip from the saved state, restarted at the top. */
    st.ip = code;
    st.rax = 0;
    SCHECK(enter(&st) == ZX_RESTRICTED_REASON_SYSCALL);
    SCHECK(st.rax == 12 && st.ip == code + COMPUTE_AFTER_SYSCALL);
    return 0;
}

/* Only user-settable flags survive; IF is forced on. */
static int scenario_flags(void) {
    zx_vaddr_t code = tu_map_code(code_syscall, sizeof(code_syscall));
    SCHECK(code != 0);
    zx_restricted_state_t st = state_at(code);
    st.flags = 0x3000 | 0x40000 | 0x4000 | 0x1 | 0x80; /* IOPL 3, AC, NT, CF, SF; no IF */
    SCHECK(enter(&st) == ZX_RESTRICTED_REASON_SYSCALL);
    SCHECK((st.flags & (0x3000 | 0x40000 | 0x4000)) == 0);
    SCHECK((st.flags & (0x1 | 0x80 | 0x200)) == (0x1 | 0x80 | 0x200));
    return 0;
}

/* Restricted code sees its own region, not the shared one (an exception at the load). */
static int scenario_regions(uint64_t shared_addr) {
    volatile uint64_t *shared = (volatile uint64_t *)(uintptr_t)shared_addr;
    SCHECK(*shared == 0x5a5a); /* normal mode sees the shared page */
    zx_vaddr_t code = tu_map_code(code_load_rdi, sizeof(code_load_rdi));
    zx_vaddr_t data = tu_map_new(TU_PAGE, RW, NULL);
    SCHECK(code != 0 && data != 0);
    *(volatile uint64_t *)data = 0x55;
    zx_restricted_state_t st = state_at(code);
    st.rdi = data;
    SCHECK(enter(&st) == ZX_RESTRICTED_REASON_SYSCALL);
    SCHECK(st.rax == 0x55);
    st = state_at(code);
    st.rdi = shared_addr;
    st.rax = 0x99;
    SCHECK(enter(&st) == ZX_RESTRICTED_REASON_EXCEPTION);
    SCHECK(vector_reason == ZX_RESTRICTED_REASON_EXCEPTION);
    SCHECK(vector_context == CONTEXT);
    SCHECK(st.ip == code); /* the faulting instruction */
    SCHECK(st.rdi == shared_addr && st.rax == 0x99);
    /* The report: a read of a not-present page in user mode, at the shared address. */
    SCHECK(g_report.header.size == sizeof(zx_exception_report_t));
    SCHECK(g_report.header.type == ZX_EXCP_FATAL_PAGE_FAULT);
    SCHECK(g_report.context.arch.u.x86_64.vector == 14);
    SCHECK(g_report.context.arch.u.x86_64.err_code == 0x4);
    SCHECK(g_report.context.arch.u.x86_64.cr2 == shared_addr);
    SCHECK(g_report.context.synth_code == (uint32_t)ZX_ERR_NOT_FOUND);
    /* Back in normal mode the shared region is there again. */
    SCHECK(*shared == 0x5a5a);
    return 0;
}

static int scenario_ud2(void) {
    zx_vaddr_t code = tu_map_code(code_ud2, sizeof(code_ud2));
    SCHECK(code != 0);
    zx_restricted_state_t st = state_at(code);
    SCHECK(enter(&st) == ZX_RESTRICTED_REASON_EXCEPTION);
    SCHECK(st.ip == code);
    SCHECK(g_report.header.size == sizeof(zx_exception_report_t));
    SCHECK(g_report.header.type == ZX_EXCP_UNDEFINED_INSTRUCTION);
    SCHECK(g_report.context.arch.u.x86_64.vector == 6);
    SCHECK(g_report.context.arch.u.x86_64.err_code == 0);
    SCHECK(g_report.context.arch.u.x86_64.cr2 == 0);
    SCHECK(g_report.context.synth_code == 0);
    return 0;
}

static int scenario_fs_base(void) {
    zx_vaddr_t code = tu_map_code(code_load_fs, sizeof(code_load_fs));
    zx_vaddr_t data = tu_map_new(TU_PAGE, RW, NULL);
    SCHECK(code != 0 && data != 0);
    *(volatile uint64_t *)data = 0x77;
    zx_restricted_state_t st = state_at(code);
    st.fs_base = data;
    st.gs_base = 0x1000;
    SCHECK(enter(&st) == ZX_RESTRICTED_REASON_SYSCALL);
    SCHECK(st.rax == 0x77);
    SCHECK(st.fs_base == data && st.gs_base == 0x1000);
    return 0;
}

static zx_handle_t g_main_thread;

static void kicker(uintptr_t delay_ms, uintptr_t unused) {
    (void)unused;
    zx_nanosleep(zx_deadline_after((zx_duration_t)delay_ms * TU_MS));
    zx_restricted_kick(g_main_thread, 0);
    zx_thread_exit();
}

static int scenario_kick(void) {
    zx_vaddr_t code = tu_map_code(code_spin, sizeof(code_spin));
    SCHECK(code != 0);
    g_main_thread = zx_thread_self();
    tu_thread_t t;
    SCHECK(tu_thread_create(&t) == ZX_OK);
    SCHECK(tu_thread_start(&t, kicker, 20, 0) == ZX_OK);
    zx_restricted_state_t st = state_at(code);
    st.rbx = 0xb0b;
    SCHECK(enter(&st) == ZX_RESTRICTED_REASON_KICK);
    SCHECK(vector_reason == ZX_RESTRICTED_REASON_KICK);
    SCHECK(st.ip == code && st.rbx == 0xb0b); /* still spinning where it was */
    SCHECK(tu_thread_join(&t, 10 * TU_SEC) == ZX_OK);
    tu_thread_destroy(&t);
    return 0;
}

/* A kick before enter makes it return at once; several merge into one. */
static int scenario_pending_kick(void) {
    zx_vaddr_t code = tu_map_code(code_compute, sizeof(code_compute));
    SCHECK(code != 0);
    SCHECK(zx_restricted_kick(zx_thread_self(), 0) == ZX_OK);
    SCHECK(zx_restricted_kick(zx_thread_self(), 0) == ZX_OK);
    zx_restricted_state_t st = state_at(code);
    SCHECK(enter(&st) == ZX_RESTRICTED_REASON_KICK);
    SCHECK(vector_context == CONTEXT);
    SCHECK(st.ip == code && st.rax == 0); /* never ran */
    SCHECK(enter(&st) == ZX_RESTRICTED_REASON_SYSCALL); /* the two kicks were one */
    SCHECK(st.rax == 12);
    return 0;
}

static int scenario_errors(uint64_t shared_addr) {
    zx_vaddr_t code = tu_map_code(code_syscall, sizeof(code_syscall));
    SCHECK(code != 0);
    zx_restricted_state_t st = state_at(code);
    SCHECK(zx_vmo_write(g_state, &st, 0, sizeof(st)) == ZX_OK);
    uintptr_t v = (uintptr_t)restricted_vector;
    SCHECK(zx_restricted_enter(1, v, 0) == ZX_ERR_INVALID_ARGS);
    SCHECK(zx_restricted_enter(0, 0, 0) == ZX_ERR_INVALID_ARGS);
    SCHECK(zx_restricted_enter(0, 0xffffffff80001000ull, 0) == ZX_ERR_INVALID_ARGS);
    SCHECK(zx_restricted_enter(0, 0x0000800000000000ull, 0) == ZX_ERR_INVALID_ARGS);
    /* States that cannot run. */
    zx_restricted_state_t bad = st;
    bad.ip = shared_addr;
    SCHECK(enter(&bad) == ZX_ERR_BAD_STATE);
    bad.ip = RESTRICTED_TOP;
    SCHECK(enter(&bad) == ZX_ERR_BAD_STATE);
    bad.ip = 0;
    SCHECK(enter(&bad) == ZX_ERR_BAD_STATE);
    bad = st;
    bad.fs_base = 0x0000800000000000ull;
    SCHECK(enter(&bad) == ZX_ERR_BAD_STATE);
    bad = st;
    bad.gs_base = 0xffff800000000000ull;
    SCHECK(enter(&bad) == ZX_ERR_BAD_STATE);
    /* Bind / unbind arguments. */
    zx_handle_t other;
    SCHECK(zx_restricted_bind_state(1, &other) == ZX_ERR_INVALID_ARGS);
    SCHECK(zx_restricted_bind_state(0, NULL) == ZX_ERR_INVALID_ARGS);
    SCHECK(zx_restricted_bind_state(0, (zx_handle_t *)0xffffffff80000000ull) ==
           ZX_ERR_INVALID_ARGS);
    SCHECK(zx_restricted_unbind_state(1) == ZX_ERR_INVALID_ARGS);
    /* The failed binds left the old binding in place. */
    SCHECK(enter(&st) == ZX_RESTRICTED_REASON_SYSCALL);
    SCHECK(zx_restricted_unbind_state(0) == ZX_OK);
    SCHECK(zx_restricted_unbind_state(0) == ZX_OK);
    SCHECK(zx_restricted_enter(0, v, 0) == ZX_ERR_BAD_STATE);
    /* A new binding is a new VMO; the old handle stays usable as a plain VMO. */
    SCHECK(zx_restricted_bind_state(0, &other) == ZX_OK);
    SCHECK(tu_basic(other).koid != tu_basic(g_state).koid);
    zx_handle_close(g_state);
    g_state = other;
    st = state_at(code); /* the last exit left ip after the syscall */
    SCHECK(enter(&st) == ZX_RESTRICTED_REASON_SYSCALL);
    return 0;
}

/* ---- extended state and flags across the modes ---- */

static bool g_avx;

/* Enters restricted mode (state already written) with *in loaded in the x87/SSE/AVX
 * registers; *out gets them as normal mode finds them at the vector. Returns the reason
 * (or an error status). */
static int64_t enter_holding(const fpu_image_t *in, fpu_image_t *out) {
    vector_context = vector_reason = ~0ull;
    uint64_t args[6] = {0, (uint64_t)(uintptr_t)restricted_vector, CONTEXT};
    return (int64_t)fpu_hold(in, out, (fpu_call_t)zx_restricted_enter, args);
}

/* Restricted code sees normal mode's registers, and what it changes is what normal mode
 * gets back. */
static int scenario_fpu_shared(void) {
    zx_vaddr_t code = tu_map_code(code_fpu_touch, sizeof(code_fpu_touch));
    SCHECK(code != 0);
    zx_restricted_state_t st = state_at(code);
    SCHECK(zx_vmo_write(g_state, &st, 0, sizeof(st)) == ZX_OK);
    fpu_image_t in, out;
    fpu_pattern(&in, 11, g_avx);
    SCHECK(enter_holding(&in, &out) == ZX_RESTRICTED_REASON_SYSCALL);
    SCHECK(zx_vmo_read(g_state, &st, 0, sizeof(st)) == ZX_OK);
    uint64_t xmm3_low;
    memcpy(&xmm3_low, in.xmm[3], sizeof(xmm3_low));
    SCHECK(st.rax == xmm3_low);
    fpu_image_t want = in;
    memset(want.xmm[5], 0xff, sizeof(want.xmm[5]));
    SCHECK(fpu_equal(&out, &want));
    return 0;
}

/* Loads its own image, spins (preempting the restricted spinner and being preempted by
 * it), checks its registers, then kicks the main thread out of restricted mode. */
static void fpu_kicker(uintptr_t ok, uintptr_t tsc_per_ms) {
    fpu_image_t in, out;
    fpu_pattern(&in, 12, g_avx);
    uint64_t args[6] = {__builtin_ia32_rdtsc() + 25 * tsc_per_ms};
    fpu_hold(&in, &out, (fpu_call_t)fpu_spin_until, args);
    *(volatile bool *)ok = fpu_equal(&out, &in);
    zx_restricted_kick(g_main_thread, 0);
    zx_thread_exit();
}

/* A thread spinning in restricted mode is preempted by another thread of the process
 * with other register contents; both keep their own. */
static int scenario_fpu_preempt(void) {
    zx_vaddr_t code = tu_map_code(code_spin, sizeof(code_spin));
    SCHECK(code != 0);
    zx_restricted_state_t st = state_at(code);
    SCHECK(zx_vmo_write(g_state, &st, 0, sizeof(st)) == ZX_OK);
    g_main_thread = zx_thread_self();
    static volatile bool kicker_ok;
    kicker_ok = false;
    tu_thread_t t;
    SCHECK(tu_thread_create(&t) == ZX_OK);
    SCHECK(tu_thread_start(&t, fpu_kicker, (uintptr_t)&kicker_ok, tu_tsc_per_ms()) == ZX_OK);
    fpu_image_t in, out;
    fpu_pattern(&in, 13, g_avx);
    SCHECK(enter_holding(&in, &out) == ZX_RESTRICTED_REASON_KICK);
    SCHECK(fpu_equal(&out, &in));
    SCHECK(tu_thread_join(&t, 10 * TU_SEC) == ZX_OK);
    tu_thread_destroy(&t);
    SCHECK(kicker_ok);
    return 0;
}

/* An unmasked SSE exception in restricted mode is reported like any other exception
 * (QEMU's TCG raises none: there the division completes and sets the flag). */
static int scenario_fpu_exception(void) {
    zx_vaddr_t code = tu_map_code(code_sse_divide_by_zero, sizeof(code_sse_divide_by_zero));
    SCHECK(code != 0);
    zx_restricted_state_t st = state_at(code);
    SCHECK(zx_vmo_write(g_state, &st, 0, sizeof(st)) == ZX_OK);
    fpu_image_t in, out;
    fpu_pattern(&in, 14, g_avx);
    in.mxcsr = 0x1d80; /* divide-by-zero unmasked */
    int64_t reason = enter_holding(&in, &out);
    fpu_reset();
    zx_restricted_exception_t exc;
    SCHECK(zx_vmo_read(g_state, &exc, 0, sizeof(exc)) == ZX_OK);
    if (fpu_under_qemu_tcg()) {
        SCHECK(reason == ZX_RESTRICTED_REASON_SYSCALL);
        SCHECK(out.mxcsr == (0x1d80u | 0x4u)); /* ZE */
        return 0;
    }
    SCHECK(reason == ZX_RESTRICTED_REASON_EXCEPTION);
    SCHECK(exc.state.ip == code + SSE_DIVIDE_AT);
    SCHECK(exc.exception.header.type == ZX_EXCP_GENERAL);
    SCHECK(exc.exception.context.arch.u.x86_64.vector == 19);
    SCHECK(exc.exception.context.arch.u.x86_64.cr2 == 0);
    SCHECK(out.mxcsr == (0x1d80u | 0x4u)); /* normal mode sees the flag too */
    return 0;
}

/* Restricted code that sets AC and DF keeps them across timer interrupts, up to its
 * syscall, which saves them in the state. */
static int scenario_flags_ac_df(void) {
    zx_vaddr_t code = tu_map_code(code_ac_df_spin, sizeof(code_ac_df_spin));
    zx_vaddr_t stack = tu_map_new(TU_PAGE, RW, NULL);
    SCHECK(code != 0 && stack != 0);
    zx_restricted_state_t st = state_at(code);
    st.rsp = stack + TU_PAGE;
    st.rdi = __builtin_ia32_rdtsc() + 25 * tu_tsc_per_ms();
    SCHECK(enter(&st) == ZX_RESTRICTED_REASON_SYSCALL);
    SCHECK((st.flags & 0x40400) == 0x40400);
    SCHECK(st.ip == code + sizeof(code_ac_df_spin) - 2);
    return 0;
}

/* Spins in restricted mode until the process is killed. */
static int scenario_spin_forever(void) {
    zx_vaddr_t code = tu_map_code(code_spin, sizeof(code_spin));
    SCHECK(code != 0);
    zx_restricted_state_t st = state_at(code);
    enter(&st);
    return 1; /* only a kick could get here */
}

static int sharer_main(const char *scenario, uint64_t shared_addr) {
    g_avx = fpu_has_avx();
    if (zx_restricted_bind_state(0, &g_state) != ZX_OK)
        return 1000;
    struct {
        const char *name;
        int (*fn)(void);
    } plain[] = {
        {"syscall", scenario_syscall},     {"flags", scenario_flags},
        {"ud2", scenario_ud2},             {"fs_base", scenario_fs_base},
        {"kick", scenario_kick},           {"pending_kick", scenario_pending_kick},
        {"spin_forever", scenario_spin_forever},
        {"fpu_shared", scenario_fpu_shared}, {"fpu_preempt", scenario_fpu_preempt},
        {"fpu_exception", scenario_fpu_exception}, {"flags_ac_df", scenario_flags_ac_df},
    };
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (strcmp(scenario, plain[i].name) == 0)
            return plain[i].fn();
    if (strcmp(scenario, "regions") == 0)
        return scenario_regions(shared_addr);
    if (strcmp(scenario, "errors") == 0)
        return scenario_errors(shared_addr);
    printf("restricted sharer: unknown scenario %s\n", scenario);
    return 999;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "--sharer") == 0)
        return sharer_main(argv[2], strtoul(argv[3], NULL, 16));
    return beryl_test_run_all(argc, argv);
}

/* ---- the parent side ---------------------------------------------------------------- */

typedef struct sharer {
    zx_handle_t proto, shared_vmar, proc, rvmar;
    zx_vaddr_t shared_page; /* holds 0x5a5a */
} sharer_t;

static zx_status_t sharer_create(sharer_t *s) {
    memset(s, 0, sizeof(*s));
    zx_status_t st = zx_process_create(zx_job_default(), "rproto", 6, ZX_PROCESS_SHARED,
                                       &s->proto, &s->shared_vmar);
    if (st == ZX_OK)
        st = zx_process_create_shared(s->proto, 0, "rsharer", 7, &s->proc, &s->rvmar);
    zx_handle_t vmo;
    if (st == ZX_OK)
        st = zx_vmo_create(TU_PAGE, 0, &vmo);
    if (st == ZX_OK) {
        uint64_t v = 0x5a5a;
        st = zx_vmo_write(vmo, &v, 0, sizeof(v));
        if (st == ZX_OK)
            st = zx_vmar_map(s->shared_vmar, RW, 0, vmo, 0, TU_PAGE, &s->shared_page);
        zx_handle_close(vmo);
    }
    return st;
}

static void sharer_destroy(sharer_t *s) {
    zx_handle_t procs[] = {s->proc, s->proto};
    for (int i = 0; i < 2; i++) {
        if (!procs[i])
            continue;
        tu_task_kill_wait(procs[i]);
    }
    zx_handle_t all[] = {s->proc, s->rvmar, s->proto, s->shared_vmar};
    zx_handle_close_many(all, 4);
    memset(s, 0, sizeof(*s));
}

static zx_status_t sharer_start(sharer_t *s, const char *scenario) {
    char hex[24];
    snprintf(hex, sizeof(hex), "%lx", (unsigned long)s->shared_page);
    const char *argv[] = {"restricted", "--sharer", scenario, hex};
    return tu_launch_self_into(s->proc, s->rvmar, "rsharer", 4, argv, NULL, 0);
}

/* Runs one sharer scenario to its end; its return code (0 = every check passed). */
static int64_t run_scenario(const char *scenario) {
    sharer_t s;
    int64_t rc = -9999;
    if (sharer_create(&s) == ZX_OK && sharer_start(&s, scenario) == ZX_OK &&
        beryl_wait_exit(s.proc, zx_deadline_after(20 * TU_SEC), &rc) != ZX_OK)
        rc = -9998;
    sharer_destroy(&s);
    return rc;
}

TEST(Restricted, SyscallReturnsToVectorWithState) { EXPECT_EQ(run_scenario("syscall"), 0); }
TEST(Restricted, FlagsAreSanitized) { EXPECT_EQ(run_scenario("flags"), 0); }
TEST(Restricted, SharedRegionFaultsInRestrictedMode) { EXPECT_EQ(run_scenario("regions"), 0); }
TEST(Restricted, UndefinedInstructionIsAnException) { EXPECT_EQ(run_scenario("ud2"), 0); }
TEST(Restricted, FsAndGsBase) { EXPECT_EQ(run_scenario("fs_base"), 0); }
TEST(Restricted, KickFromAnotherThread) { EXPECT_EQ(run_scenario("kick"), 0); }
TEST(Restricted, PendingKickReturnsAtOnce) { EXPECT_EQ(run_scenario("pending_kick"), 0); }
TEST(Restricted, EnterAndBindErrors) { EXPECT_EQ(run_scenario("errors"), 0); }
TEST(Restricted, ExtendedStateIsSharedWithNormalMode) {
    EXPECT_EQ(run_scenario("fpu_shared"), 0);
}
TEST(Restricted, ExtendedStateSurvivesPreemption) { EXPECT_EQ(run_scenario("fpu_preempt"), 0); }
TEST(Restricted, SseExceptionIsReported) { EXPECT_EQ(run_scenario("fpu_exception"), 0); }
TEST(Restricted, AcAndDfSurviveInterrupts) { EXPECT_EQ(run_scenario("flags_ac_df"), 0); }

/* A process killed while its thread runs restricted code ends normally. */
TEST(Restricted, KillWhileInRestrictedMode) {
    sharer_t s;
    ASSERT_OK(sharer_create(&s));
    ASSERT_OK(sharer_start(&s, "spin_forever"));
    zx_nanosleep(zx_deadline_after(30 * TU_MS));
    zx_info_process_t pi;
    ASSERT_OK(zx_object_get_info(s.proc, ZX_INFO_PROCESS, &pi, sizeof(pi), NULL, NULL));
    EXPECT_EQ(pi.flags & ZX_INFO_PROCESS_FLAG_EXITED, 0u);
    EXPECT_OK(zx_task_kill(s.proc));
    int64_t rc = 0;
    EXPECT_OK(beryl_wait_exit(s.proc, zx_deadline_after(10 * TU_SEC), &rc));
    EXPECT_EQ(rc, ZX_TASK_RETCODE_SYSCALL_KILL);
    sharer_destroy(&s);
}

/* Outside a create_shared process there is no restricted region to enter. */
TEST(Restricted, EnterInOrdinaryProcessIsBadState) {
    zx_handle_t vmo;
    ASSERT_OK(zx_restricted_bind_state(0, &vmo));
    zx_info_vmo_t info;
    ASSERT_OK(zx_object_get_info(vmo, ZX_INFO_VMO, &info, sizeof(info), NULL, NULL));
    EXPECT_GE(info.size_bytes, sizeof(zx_restricted_state_t));
    EXPECT_EQ(tu_rights(vmo), ZX_DEFAULT_VMO_RIGHTS);
    EXPECT_STATUS(zx_restricted_enter(0, (uintptr_t)restricted_vector, 0), ZX_ERR_BAD_STATE);
    EXPECT_OK(zx_restricted_unbind_state(0));
    zx_handle_close(vmo);
}

static void exit_now(uintptr_t a, uintptr_t b) {
    (void)a;
    (void)b;
    zx_thread_exit();
}

TEST(Restricted, KickErrors) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    EXPECT_STATUS(zx_restricted_kick(vmo, 0), ZX_ERR_WRONG_TYPE);
    zx_handle_close(vmo);
    EXPECT_STATUS(zx_restricted_kick(vmo, 0), ZX_ERR_BAD_HANDLE);
    tu_thread_t t;
    ASSERT_OK(tu_thread_create(&t));
    EXPECT_STATUS(zx_restricted_kick(t.thread, 1), ZX_ERR_INVALID_ARGS);
    zx_handle_t weak;
    ASSERT_OK(zx_handle_duplicate(t.thread, ZX_RIGHTS_BASIC, &weak));
    EXPECT_STATUS(zx_restricted_kick(weak, 0), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(weak);
    EXPECT_OK(zx_restricted_kick(t.thread, 0)); /* not started: stays pending */
    ASSERT_OK(tu_thread_start(&t, exit_now, 0, 0));
    ASSERT_OK(tu_thread_join(&t, 10 * TU_SEC));
    EXPECT_STATUS(zx_restricted_kick(t.thread, 0), ZX_ERR_BAD_STATE);
    tu_thread_destroy(&t);
}
