/*
 * Extended-register images for the tests that check each thread keeps its own x87, SSE
 * and AVX state (fpu.c, restricted.c). An image is the x87 stack (8 values) and control
 * word, XMM0-15, MXCSR and, when the CPU has AVX, the upper halves of YMM0-15.
 *
 * The point of every check is that the registers hold the image while the thread blocks,
 * is preempted or leaves for restricted mode; compiled C code may use XMM registers at
 * any time, so loading, holding and storing are assembly: fpu_hold loads an image, calls a
 * function that must not touch these registers itself (a syscall stub, fpu_spin_until,
 * zx_restricted_enter's stub) and stores the registers right after it returns.
 * Header-only with top-level assembly: include it from one file per program.
 */
#ifndef BERYL_TESTS_FPU_UTIL_H
#define BERYL_TESTS_FPU_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FPU_NREGS 16
#define FPU_NX87 8
#define FPU_X87_BYTES 10 /* an extended-precision value; each slot has 16 */
#define FPU_INITIAL_FCW 0x037fu
#define FPU_INITIAL_MXCSR 0x1f80u

typedef struct fpu_image {
    uint8_t xmm[FPU_NREGS][16];
    uint8_t ymm_hi[FPU_NREGS][16];
    uint8_t st[FPU_NX87][16]; /* ST0..ST7 */
    uint32_t mxcsr;
    uint16_t fcw;
    uint16_t pad;
    uint64_t avx; /* non-zero: load / store the YMM upper halves too */
} fpu_image_t;

_Static_assert(offsetof(fpu_image_t, ymm_hi) == 256 && offsetof(fpu_image_t, st) == 512 &&
                   offsetof(fpu_image_t, mxcsr) == 640 && offsetof(fpu_image_t, fcw) == 644 &&
                   offsetof(fpu_image_t, avx) == 648,
               "the assembly below hard-codes these offsets");

typedef uint64_t (*fpu_call_t)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

/* Loads *in into the registers (x87 stack reset first, then 8 values: ST0 = in->st[0]). */
void fpu_load(const fpu_image_t *in);
/* Stores the registers into *out (YMM upper halves if flags->avx); pops the x87 stack. */
void fpu_store(fpu_image_t *out, const fpu_image_t *flags);
/* fpu_load(in), fn(args[0..5]), fpu_store(out, in); returns what fn returned. */
uint64_t fpu_hold(const fpu_image_t *in, fpu_image_t *out, fpu_call_t fn,
                  const uint64_t args[6]);
/* Spins until the TSC reaches tsc (touches rax and rdx only); returns 0. */
uint64_t fpu_spin_until(uint64_t tsc);
/* The initial state: empty x87 stack, FCW 0x37f, MXCSR 0x1f80 (XMM registers untouched). */
void fpu_reset(void);

#define FPU_LOAD_X87(i) "    fldt " #i "*16+512(%rdi)\n"
#define FPU_STORE_X87(i) "    fstpt " #i "*16+512(%rdi)\n"
#define FPU_LOAD_XMM(n) "    movdqu " #n "*16(%rdi), %xmm" #n "\n"
#define FPU_STORE_XMM(n) "    movdqu %xmm" #n ", " #n "*16(%rdi)\n"
#define FPU_LOAD_YMM(n) "    vinsertf128 $1, 256+" #n "*16(%rdi), %ymm" #n ", %ymm" #n "\n"
#define FPU_STORE_YMM(n) "    vextractf128 $1, %ymm" #n ", 256+" #n "*16(%rdi)\n"
#define FPU_EACH8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define FPU_EACH8_REV(X) X(7) X(6) X(5) X(4) X(3) X(2) X(1) X(0)
#define FPU_EACH16(X) FPU_EACH8(X) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

__asm__(".text\n"
        ".globl fpu_load\n"
        "fpu_load:\n"
        "    fninit\n" FPU_EACH8_REV(FPU_LOAD_X87) FPU_EACH16(FPU_LOAD_XMM)
        "    cmpq $0, 648(%rdi)\n"
        "    je 1f\n" FPU_EACH16(FPU_LOAD_YMM)
        "1:  fldcw 644(%rdi)\n"
        "    ldmxcsr 640(%rdi)\n"
        "    ret\n"
        ".globl fpu_store\n"
        "fpu_store:\n"
        "    fnstcw 644(%rdi)\n"
        "    stmxcsr 640(%rdi)\n" FPU_EACH16(FPU_STORE_XMM)
        "    cmpq $0, 648(%rsi)\n"
        "    je 1f\n" FPU_EACH16(FPU_STORE_YMM)
        "1:\n" FPU_EACH8(FPU_STORE_X87)
        "    ret\n"
        ".globl fpu_hold\n"
        "fpu_hold:\n"
        "    pushq %rbp\n"
        "    movq %rsp, %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n" /* rsp is 16-byte aligned at the calls below */
        "    movq %rdi, %rbx\n"
        "    movq %rsi, %r12\n"
        "    movq %rdx, %r13\n"
        "    movq %rcx, %r14\n"
        "    callq fpu_load\n"
        "    movq 0(%r14), %rdi\n"
        "    movq 8(%r14), %rsi\n"
        "    movq 16(%r14), %rdx\n"
        "    movq 24(%r14), %rcx\n"
        "    movq 32(%r14), %r8\n"
        "    movq 40(%r14), %r9\n"
        "    callq *%r13\n"
        "    movq %rax, %r14\n"
        "    movq %r12, %rdi\n"
        "    movq %rbx, %rsi\n"
        "    callq fpu_store\n"
        "    movq %r14, %rax\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".globl fpu_spin_until\n"
        "fpu_spin_until:\n"
        "1:  rdtsc\n"
        "    shlq $32, %rdx\n"
        "    orq %rdx, %rax\n"
        "    cmpq %rdi, %rax\n"
        "    jb 1b\n"
        "    xorl %eax, %eax\n"
        "    ret\n"
        ".globl fpu_reset\n"
        "fpu_reset:\n"
        "    fninit\n"
        "    pushq $0x1f80\n"
        "    ldmxcsr (%rsp)\n"
        "    addq $8, %rsp\n"
        "    ret\n");

static inline void fpu_cpuid(uint32_t leaf, uint32_t r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

/* True if the CPU has AVX and the kernel enabled its state (CPUID OSXSAVE, XCR0). */
static inline bool fpu_has_avx(void) {
    uint32_t r[4];
    fpu_cpuid(1, r);
    const uint32_t osxsave = 1u << 27, avx = 1u << 28;
    if ((r[2] & (osxsave | avx)) != (osxsave | avx))
        return false;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6u) == 6u; /* SSE and AVX state enabled */
}

/* True under QEMU's TCG emulator (CPUID hypervisor leaf "TCGTCGTCGTCG"), which does not
 * raise #XM for unmasked SSE exceptions: the instruction just sets the flag in MXCSR. */
static inline bool fpu_under_qemu_tcg(void) {
    uint32_t r[4];
    fpu_cpuid(1, r);
    if (!(r[2] & (1u << 31))) /* no hypervisor */
        return false;
    fpu_cpuid(0x40000000u, r);
    char sig[12];
    memcpy(sig, &r[1], 4);
    memcpy(sig + 4, &r[2], 4);
    memcpy(sig + 8, &r[3], 4);
    return memcmp(sig, "TCGTCGTCGTCG", sizeof(sig)) == 0;
}

/* An image derived from seed (distinct seeds give images that differ in every register).
 * x87 values are normal extended-precision numbers, so loading them raises nothing;
 * FCW and MXCSR keep every exception masked. */
static inline void fpu_pattern(fpu_image_t *im, uint32_t seed, bool avx) {
    memset(im, 0, sizeof(*im));
    uint32_t x = seed * 2654435761u + 0x9e3779b9u;
    for (int i = 0; i < FPU_NREGS; i++)
        for (int j = 0; j < 16; j++) {
            x = x * 1103515245u + 12345u;
            im->xmm[i][j] = (uint8_t)(x >> 16);
            im->ymm_hi[i][j] = (uint8_t)(x >> 24);
        }
    for (int i = 0; i < FPU_NX87; i++) {
        for (int j = 0; j < 7; j++) {
            x = x * 1103515245u + 12345u;
            im->st[i][j] = (uint8_t)(x >> 16);
        }
        im->st[i][7] = 0x80;                          /* explicit integer bit */
        im->st[i][8] = (uint8_t)(0xf0 + ((seed + i) & 0xf)); /* exponent 0x3ffx */
        im->st[i][9] = 0x3f;
    }
    /* Rounding and precision control from the seed; all exceptions masked. */
    im->fcw = (uint16_t)(0x007f | ((seed & 3u) << 10) | (((seed >> 2) & 1u) ? 0x200 : 0x300));
    im->mxcsr = 0x1f80u | ((seed & 3u) << 13) | ((seed >> 3) & 1u ? 0x8000u : 0) | (seed & 0x3fu);
    im->avx = avx;
}

/* Whether got holds exactly what want describes (YMM upper halves only if want->avx). */
static inline bool fpu_equal(const fpu_image_t *got, const fpu_image_t *want) {
    if (got->fcw != want->fcw || got->mxcsr != want->mxcsr ||
        memcmp(got->xmm, want->xmm, sizeof(want->xmm)) != 0)
        return false;
    if (want->avx && memcmp(got->ymm_hi, want->ymm_hi, sizeof(want->ymm_hi)) != 0)
        return false;
    for (int i = 0; i < FPU_NX87; i++)
        if (memcmp(got->st[i], want->st[i], FPU_X87_BYTES) != 0)
            return false;
    return true;
}

#endif
