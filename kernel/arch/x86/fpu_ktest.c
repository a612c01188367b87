/*
 * In-kernel tests of the extended-state primitives (<arch/x86/fpu.h>): a new state is
 * clean, x86_fpu_switch keeps each state's registers (x87 stack and control word, XMM0-15,
 * MXCSR, and the YMM upper halves when AVX is on), and a forgotten state is not saved.
 * They run with interrupts off and start with x86_fpu_flush, so no user thread's state is
 * disturbed; they are the only kernel code that touches these registers, through
 * assembly (the kernel is compiled -mgeneral-regs-only). The boots of the suite cover the
 * three save paths: XSAVEOPT (QEMU -cpu max), XSAVE (Bochs) and FXSAVE (QEMU -cpu qemu64).
 */
#include <arch/fpu.h>
#include <arch/x86/cpu.h>
#include <arch/x86/fpu.h>
#include <kernel/ktest.h>
#include <kernel/spinlock.h>
#include <lib/string.h>
#include <phys/heap.h>

#define NREGS 16
#define NX87 8
#define X87_BYTES 10

struct fpu_regs {
    uint8_t xmm[NREGS][16];
    uint8_t ymm_hi[NREGS][16]; /* compared only with AVX */
    uint8_t st[NX87][16];      /* ST0..ST7, 10 bytes each used */
    uint16_t fcw;
    uint32_t mxcsr;
};

#define FOR_EACH_REG(X) \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

/* A state area as a user thread's owner makes one (kernel/proc/uthread.c): a heap block
 * with room to align the area; the block's address sits just below the area. NULL when
 * out of memory. */
static x86_fpu_state_t *state_create(void) {
    uint8_t *block = kmalloc(arch_fpu_state_size() + ARCH_FPU_STATE_ALIGN + sizeof(void *));
    if (!block)
        return NULL;
    uintptr_t a = ((uintptr_t)block + sizeof(void *) + ARCH_FPU_STATE_ALIGN - 1) &
                  ~(uintptr_t)(ARCH_FPU_STATE_ALIGN - 1);
    ((void **)a)[-1] = block;
    arch_fpu_state_init((void *)a);
    return (x86_fpu_state_t *)a;
}

static void state_destroy(x86_fpu_state_t *st) {
    if (!st)
        return;
    arch_fpu_state_release(st);
    kfree(((void **)st)[-1]);
}

static bool has_avx(void) { return x86_fpu_info.xcr0 & X86_XSTATE_AVX; }

/* Loads r into the registers: the x87 stack gets eight values (ST0 = r->st[0]). */
static void regs_write(const struct fpu_regs *r) {
    __asm__ volatile("fninit" ::: "memory");
    for (int i = NX87 - 1; i >= 0; i--)
        __asm__ volatile("fldt (%0)" ::"r"(r->st[i]) : "memory");
#define WRITE_XMM(n) __asm__ volatile("movdqu (%0), %%xmm" #n ::"r"(r->xmm[n]) : "memory");
    FOR_EACH_REG(WRITE_XMM)
#undef WRITE_XMM
    if (has_avx()) {
#define WRITE_YMM(n)                                                                       \
    __asm__ volatile("vinsertf128 $1, (%0), %%ymm" #n ", %%ymm" #n ::"r"(r->ymm_hi[n]) \
                     : "memory");
        FOR_EACH_REG(WRITE_YMM)
#undef WRITE_YMM
    }
    __asm__ volatile("fldcw (%0)" ::"r"(&r->fcw) : "memory");
    __asm__ volatile("ldmxcsr (%0)" ::"r"(&r->mxcsr) : "memory");
}

/* Reads the registers into *r; pops the whole x87 stack (it is empty afterwards). */
static void regs_read(struct fpu_regs *r) {
    memset(r, 0, sizeof(*r));
    __asm__ volatile("fnstcw (%0)" ::"r"(&r->fcw) : "memory");
    __asm__ volatile("stmxcsr (%0)" ::"r"(&r->mxcsr) : "memory");
#define READ_XMM(n) __asm__ volatile("movdqu %%xmm" #n ", (%0)" ::"r"(r->xmm[n]) : "memory");
    FOR_EACH_REG(READ_XMM)
#undef READ_XMM
    if (has_avx()) {
#define READ_YMM(n) \
    __asm__ volatile("vextractf128 $1, %%ymm" #n ", (%0)" ::"r"(r->ymm_hi[n]) : "memory");
        FOR_EACH_REG(READ_YMM)
#undef READ_YMM
    }
    for (int i = 0; i < NX87; i++)
        __asm__ volatile("fstpt (%0)" ::"r"(r->st[i]) : "memory");
}

/* A register image derived from seed; x87 values are normal extended-precision numbers
 * (integer bit set, small exponent), so loading and storing them raises nothing. */
static void regs_pattern(struct fpu_regs *r, uint8_t seed) {
    memset(r, 0, sizeof(*r));
    for (int i = 0; i < NREGS; i++)
        for (int j = 0; j < 16; j++) {
            r->xmm[i][j] = (uint8_t)(seed + i * 16 + j);
            r->ymm_hi[i][j] = (uint8_t)(seed ^ (i * 16 + j + 0x80));
        }
    for (int i = 0; i < NX87; i++) {
        for (int j = 0; j < 7; j++)
            r->st[i][j] = (uint8_t)(seed * 3 + i * 7 + j);
        r->st[i][7] = 0x80;                              /* explicit integer bit */
        r->st[i][8] = (uint8_t)(0xff - i - (seed & 0xf)); /* exponent 0x3fxx */
        r->st[i][9] = 0x3f;
    }
    r->fcw = (seed & 1) ? 0x0b7f : 0x077f;   /* rounding control up / down, all masked */
    r->mxcsr = (seed & 1) ? 0x3f81 : 0xdf82; /* rounding, flush-to-zero, a sticky flag */
}

/* Compares what regs_read got with what regs_write loaded. */
static bool regs_equal(const struct fpu_regs *a, const struct fpu_regs *b) {
    if (a->fcw != b->fcw || a->mxcsr != b->mxcsr || memcmp(a->xmm, b->xmm, sizeof(a->xmm)))
        return false;
    if (has_avx() && memcmp(a->ymm_hi, b->ymm_hi, sizeof(a->ymm_hi)))
        return false;
    for (int i = 0; i < NX87; i++)
        if (memcmp(a->st[i], b->st[i], X87_BYTES))
            return false;
    return true;
}

/* True if the registers hold the documented initial state. Reads FCW, MXCSR and the
 * x87 environment without popping (fnstenv masks x87 exceptions afterwards, which is the
 * initial FCW anyway). */
static bool regs_clean(void) {
    struct fpu_regs r;
    uint32_t env[7];
    memset(&r, 0, sizeof(r));
    __asm__ volatile("fnstcw (%0)" ::"r"(&r.fcw) : "memory");
    __asm__ volatile("stmxcsr (%0)" ::"r"(&r.mxcsr) : "memory");
    __asm__ volatile("fnstenv (%0)" ::"r"(env) : "memory");
#define READ_XMM(n) __asm__ volatile("movdqu %%xmm" #n ", (%0)" ::"r"(r.xmm[n]) : "memory");
    FOR_EACH_REG(READ_XMM)
#undef READ_XMM
    if (has_avx()) {
#define READ_YMM(n) \
    __asm__ volatile("vextractf128 $1, %%ymm" #n ", (%0)" ::"r"(r.ymm_hi[n]) : "memory");
        FOR_EACH_REG(READ_YMM)
#undef READ_YMM
    }
    static const uint8_t zero[NREGS][16];
    uint16_t fsw = (uint16_t)env[1], ftw = (uint16_t)env[2];
    return r.fcw == X86_FPU_INITIAL_FCW && r.mxcsr == X86_FPU_INITIAL_MXCSR && fsw == 0 &&
           ftw == 0xffff && !memcmp(r.xmm, zero, sizeof(zero)) &&
           (!has_avx() || !memcmp(r.ymm_hi, zero, sizeof(zero)));
}

KTEST(fpu, extended_state_enabled) {
    EXPECT_TRUE(x86_get_cr4() & X86_CR4_OSFXSR);
    EXPECT_EQ(x86_fpu_info.xcr0 & (X86_XSTATE_X87 | X86_XSTATE_SSE),
              X86_XSTATE_X87 | X86_XSTATE_SSE);
    EXPECT_GE(x86_fpu_info.size, 512u);
    if (x86_fpu_info.xsave) {
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        EXPECT_EQ(((uint64_t)hi << 32) | lo, x86_fpu_info.xcr0);
    }
}

KTEST(fpu, new_state_is_clean) {
    x86_fpu_state_t *st = state_create();
    if (!st)
        return; /* PMM fault injection */
    spin_lock_saved_state_t s = arch_irq_save();
    x86_fpu_flush();
    struct fpu_regs dirt;
    regs_pattern(&dirt, 0x31);
    regs_write(&dirt); /* leftovers the load must wipe */
    x86_fpu_switch(st);
    EXPECT_TRUE(regs_clean());
    arch_irq_restore(s);
    state_destroy(st);
}

/* Two states through x86_fpu_switch with the save instruction in use. */
static void switch_round_trip(struct ktest_ctx *ktx) {
    x86_fpu_state_t *a = state_create(), *b = state_create();
    if (!a || !b) {
        state_destroy(a);
        state_destroy(b);
        return; /* PMM fault injection */
    }
    struct fpu_regs pa, pb, got;
    regs_pattern(&pa, 0x10);
    regs_pattern(&pb, 0x67);
    spin_lock_saved_state_t s = arch_irq_save();
    x86_fpu_flush();
    x86_fpu_switch(a);
    regs_write(&pa);
    x86_fpu_switch(b); /* saves a */
    EXPECT_TRUE(regs_clean());
    regs_write(&pb);
    /* Switches that change nothing in between (XSAVEOPT may then skip the save). */
    x86_fpu_switch(a);
    x86_fpu_switch(b);
    x86_fpu_switch(a);
    regs_read(&got);
    EXPECT_TRUE(regs_equal(&got, &pa));
    x86_fpu_switch(b);
    regs_read(&got);
    EXPECT_TRUE(regs_equal(&got, &pb));
    arch_irq_restore(s);
    state_destroy(a);
    state_destroy(b);
}

/* On a CPU with XSAVEOPT the round trip also runs with plain XSAVE, the path of CPUs
 * without it (no boot of the suite has such a CPU). */
KTEST(fpu, switch_keeps_each_states_registers) {
    switch_round_trip(ktx);
    if (x86_fpu_info.xsaveopt) {
        x86_fpu_info.xsaveopt = false;
        switch_round_trip(ktx);
        x86_fpu_info.xsaveopt = true;
    }
}

KTEST(fpu, forgotten_state_is_not_saved) {
    x86_fpu_state_t *a = state_create(), *b = state_create();
    if (!a || !b) {
        state_destroy(a);
        state_destroy(b);
        return;
    }
    struct fpu_regs pa;
    regs_pattern(&pa, 0x42);
    spin_lock_saved_state_t s = arch_irq_save();
    x86_fpu_flush();
    x86_fpu_switch(a);
    regs_write(&pa);
    x86_fpu_forget(a);
    x86_fpu_switch(b); /* must not write pa into a */
    EXPECT_TRUE(regs_clean());
    x86_fpu_switch(a);
    EXPECT_TRUE(regs_clean());
    arch_irq_restore(s);
    state_destroy(a);
    state_destroy(b);
}
