/*
 * Extended CPU state of user threads: detection and enabling at boot, the state areas'
 * initial contents, and the save / load done on context switch (policy and rules in
 * <arch/fpu.h> and <arch/x86/fpu.h>). The areas belong to the threads' owners
 * (kernel/proc allocates and frees them); nothing here allocates.
 *
 * Formats (Intel SDM Vol. 1, 10.5 and 13.4): the first 512 bytes are the legacy FXSAVE
 * region (FCW at 0, MXCSR at 24, ST0-7 from 32, XMM0-15 from 160); with XSAVE the
 * 64-byte XSAVE header follows (XSTATE_BV at 512), then the components enabled in XCR0 at
 * the offsets CPUID leaf 0xD gives. Only the standard (non-compacted) format is used.
 */
#include <arch/cpu.h>
#include <arch/fpu.h>
#include <arch/irq.h>
#include <arch/x86/arch.h>
#include <arch/x86/cpu.h>
#include <arch/x86/fpu.h>
#include <kernel/assert.h>
#include <kernel/console.h>
#include <lib/string.h>

#define CPUID_FEATURES 0x1u
#define CPUID1_EDX_FXSR (1u << 24)
#define CPUID1_EDX_SSE (1u << 25)
#define CPUID1_EDX_SSE2 (1u << 26)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_AVX (1u << 28)
#define CPUID_XSTATE 0xdu
#define CPUID_XSTATE_MAIN 0u  /* eax/edx: XCR0 bits supported; ebx: size for current XCR0 */
#define CPUID_XSTATE_EXT 1u   /* eax bit 0: XSAVEOPT */
#define CPUIDD1_EAX_XSAVEOPT (1u << 0)

#define X86_CR0_MP (1ull << 1)
#define X86_CR0_EM (1ull << 2)
#define X86_CR0_TS (1ull << 3)
#define X86_CR0_NE (1ull << 5)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_CR4_OSXSAVE (1ull << 18)

#define FXSAVE_AREA_SIZE 512u
#define XSAVE_HEADER_SIZE 64u
_Static_assert(ARCH_FPU_STATE_ALIGN == 64u, "XSAVE's requirement (FXSAVE needs 16)");
#define FXSAVE_FCW_OFFSET 0u
#define FXSAVE_MXCSR_OFFSET 24u
/* Largest area accepted: x87 + SSE + AVX + AVX-512 take 2,696 bytes (2,688 rounded). */
#define FPU_AREA_MAX 4096u

struct x86_fpu_info x86_fpu_info;


static void xsetbv(uint32_t reg, uint64_t v) {
    __asm__ volatile("xsetbv" ::"c"(reg), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
                     : "memory");
}

static const char *const component_names[] = {"x87", "sse", "avx"};

/* CR0 / CR4 for the extended state, on the calling CPU: x87 errors as #MF (NE), WAIT
 * honours TS (MP); no emulation, no lazy switching; SSE on, XSAVE when in use. */
static void fpu_control_bits(bool xsave) {
    x86_set_cr0((x86_get_cr0() | X86_CR0_MP | X86_CR0_NE) & ~(X86_CR0_EM | X86_CR0_TS));
    uint64_t cr4 = x86_get_cr4() | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    if (xsave)
        cr4 |= X86_CR4_OSXSAVE;
    x86_set_cr4(cr4);
}

void x86_fpu_init_other_cpu(void) {
    fpu_control_bits(x86_fpu_info.xsave);
    if (x86_fpu_info.xsave)
        xsetbv(0, x86_fpu_info.xcr0);
}

void x86_fpu_init(void) {
    struct x86_fpu_info *fi = &x86_fpu_info;
    uint32_t a, b, c, d;
    x86_cpuid(CPUID_FEATURES, 0, &a, &b, &c, &d);
    uint32_t need = CPUID1_EDX_FXSR | CPUID1_EDX_SSE | CPUID1_EDX_SSE2;
    ASSERT_MSG((d & need) == need, "CPU without FXSR / SSE2 (cpuid 1 edx 0x%x)", d);
    bool has_xsave = c & CPUID1_ECX_XSAVE;
    bool has_avx = c & CPUID1_ECX_AVX;

    fpu_control_bits(has_xsave);

    fi->xcr0 = X86_XSTATE_X87 | X86_XSTATE_SSE;
    fi->size = FXSAVE_AREA_SIZE;
    if (has_xsave) {
        x86_cpuid(CPUID_XSTATE, CPUID_XSTATE_MAIN, &a, &b, &c, &d);
        uint64_t supported = ((uint64_t)d << 32) | a;
        ASSERT_MSG((supported & fi->xcr0) == fi->xcr0, "XSAVE without x87/SSE state");
        if (has_avx && (supported & X86_XSTATE_AVX)) {
            fi->xcr0 |= X86_XSTATE_AVX;
            /* AVX-512 state is all three components or none (XCR0 rule). */
            if ((supported & X86_XSTATE_AVX512) == X86_XSTATE_AVX512)
                fi->xcr0 |= X86_XSTATE_AVX512;
        }
        xsetbv(0, fi->xcr0);
        x86_cpuid(CPUID_XSTATE, CPUID_XSTATE_MAIN, &a, &b, &c, &d); /* ebx: for this XCR0 */
        fi->size = b;
        x86_cpuid(CPUID_XSTATE, CPUID_XSTATE_EXT, &a, &b, &c, &d);
        fi->xsave = true;
        fi->xsaveopt = a & CPUIDD1_EAX_XSAVEOPT;
    }
    ASSERT_MSG(fi->size >= FXSAVE_AREA_SIZE && fi->size <= FPU_AREA_MAX,
               "extended state area of %u bytes", fi->size);

    printf("cpu: extended state:");
    for (unsigned i = 0; i < sizeof(component_names) / sizeof(component_names[0]); i++)
        if (fi->xcr0 & (1ull << i))
            printf(" %s", component_names[i]);
    if (fi->xcr0 & X86_XSTATE_AVX512)
        printf(" avx512");
    printf(", %s, %u-byte area per user thread\n",
           fi->xsaveopt ? "xsaveopt/xrstor" : fi->xsave ? "xsave/xrstor" : "fxsave/fxrstor",
           fi->size);
}

size_t arch_fpu_state_size(void) { return x86_fpu_info.size; }

void arch_fpu_state_init(void *state) {
    uint8_t *area = state;
    DEBUG_ASSERT(((uintptr_t)area & (ARCH_FPU_STATE_ALIGN - 1)) == 0);
    /* All zero: with XSAVE, XSTATE_BV = 0 puts every component in its initial state on
     * XRSTOR, which still loads MXCSR from the legacy region; with FXRSTOR the legacy
     * region is loaded as it is (abridged tag word 0: the x87 stack is empty). */
    memset(area, 0, x86_fpu_info.size);
    uint16_t fcw = X86_FPU_INITIAL_FCW;
    uint32_t mxcsr = X86_FPU_INITIAL_MXCSR;
    memcpy(area + FXSAVE_FCW_OFFSET, &fcw, sizeof(fcw));
    memcpy(area + FXSAVE_MXCSR_OFFSET, &mxcsr, sizeof(mxcsr));
}

void arch_thread_set_fpu(struct arch_thread *a, void *area) { a->fpu = area; }

void arch_fpu_state_release(void *area) {
    if (!area)
        return;
    arch_irq_state_t s = arch_irq_save();
    x86_fpu_forget(area);
    arch_irq_restore(s);
}

/* Every enabled component (the mask is ANDed with XCR0). */
#define XSTATE_ALL_LO 0xffffffffu
#define XSTATE_ALL_HI 0xffffffffu

static void save(x86_fpu_state_t *st) {
    if (x86_fpu_info.xsaveopt)
        __asm__ volatile("xsaveopt64 (%0)" ::"r"(st), "a"(XSTATE_ALL_LO), "d"(XSTATE_ALL_HI)
                         : "memory");
    else if (x86_fpu_info.xsave)
        __asm__ volatile("xsave64 (%0)" ::"r"(st), "a"(XSTATE_ALL_LO), "d"(XSTATE_ALL_HI)
                         : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" ::"r"(st) : "memory");
}

/* XRSTOR / FXRSTOR cannot fault here: every area was written by the kernel's
 * initialisation or by a save, never by user space. */
static void load(const x86_fpu_state_t *st) {
    if (x86_fpu_info.xsave)
        __asm__ volatile("xrstor64 (%0)" ::"r"(st), "a"(XSTATE_ALL_LO), "d"(XSTATE_ALL_HI)
                         : "memory");
    else
        __asm__ volatile("fxrstor64 (%0)" ::"r"(st) : "memory");
}

/* The registers hold the state in the CPU's fpu_loaded (struct arch_percpu), or nobody's
 * (NULL: stale values at most). */
void x86_fpu_switch(x86_fpu_state_t *to) {
    DEBUG_ASSERT(arch_irqs_disabled());
    struct arch_percpu *cpu = arch_get_percpu();
    if (to == cpu->fpu_loaded)
        return;
    /* XSAVEOPT may skip components unmodified since the last XRSTOR, which is safe here:
     * that XRSTOR was of this same area (only the loaded state is ever saved). */
    if (cpu->fpu_loaded)
        save(cpu->fpu_loaded);
    load(to);
    cpu->fpu_loaded = to;
}

void x86_fpu_forget(x86_fpu_state_t *st) {
    DEBUG_ASSERT(arch_irqs_disabled());
    struct arch_percpu *cpu = arch_get_percpu();
    if (cpu->fpu_loaded == st)
        cpu->fpu_loaded = NULL;
}

void x86_fpu_flush(void) {
    DEBUG_ASSERT(arch_irqs_disabled());
    struct arch_percpu *cpu = arch_get_percpu();
    if (cpu->fpu_loaded)
        save(cpu->fpu_loaded);
    cpu->fpu_loaded = NULL;
}
