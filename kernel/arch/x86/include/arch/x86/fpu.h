/*
 * Extended CPU state (x87, MMX, SSE, AVX, AVX-512) of user threads (kernel/arch/x86/fpu.c):
 * the x86-64 side of <arch/fpu.h>. A state area (x86_fpu_state_t) is a buffer of
 * arch_fpu_state_size() bytes owned by the thread's creator.
 *
 * The kernel itself is compiled -mgeneral-regs-only and never touches these registers, so
 * only user threads own a state area. Policy: eager save, eager restore. A switch away
 * from a user thread saves its registers into its area (XSAVEOPT, XSAVE, or FXSAVE) and
 * leaves nothing loaded, because the thread may run next on another CPU, which can only
 * read the area; a switch to a user thread loads its area (XRSTOR or FXRSTOR). So a
 * CPU's "loaded" state is always the running thread's, and no CPU ever holds a pointer
 * to the area of a thread it does not run. CR0.TS is never set, so there is no #NM trap
 * and no window where one thread's registers are live while another runs user code.
 *
 * Locking: per CPU (struct arch_percpu's fpu_loaded); x86_fpu_switch and x86_fpu_forget
 * run with interrupts off.
 */
#ifndef ARCH_X86_FPU_H
#define ARCH_X86_FPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct x86_fpu_state x86_fpu_state_t;

/* XCR0 / XSTATE_BV component bits. */
#define X86_XSTATE_X87 (1ull << 0)
#define X86_XSTATE_SSE (1ull << 1)
#define X86_XSTATE_AVX (1ull << 2)
#define X86_XSTATE_OPMASK (1ull << 5)
#define X86_XSTATE_ZMM_HI256 (1ull << 6)
#define X86_XSTATE_HI16_ZMM (1ull << 7)
#define X86_XSTATE_AVX512 (X86_XSTATE_OPMASK | X86_XSTATE_ZMM_HI256 | X86_XSTATE_HI16_ZMM)

/* The clean state every new user thread starts from (the x87 and SSE reset values; all
 * data registers zero, the x87 stack empty). */
#define X86_FPU_INITIAL_FCW 0x037fu
#define X86_FPU_INITIAL_MXCSR 0x1f80u

/* What x86_fpu_init found and enabled. */
struct x86_fpu_info {
    bool xsave;      /* XSAVE / XRSTOR in use (else FXSAVE / FXRSTOR) */
    bool xsaveopt;   /* XSAVEOPT used for saves */
    uint64_t xcr0;   /* enabled components (X86_XSTATE_*); x87 | SSE without XSAVE */
    uint32_t size;   /* bytes of state area the instructions read and write */
};
extern struct x86_fpu_info x86_fpu_info;

/*
 * Boot, from x86_cpu_features_init (arch_early_init): detects FXSR, XSAVE, XSAVEOPT and
 * the XCR0 components with CPUID; sets CR0.MP|NE (x87 errors as #MF), clears CR0.EM|TS, sets
 * CR4.OSFXSR|OSXMMEXCPT (SSE on, SIMD errors as #XM), and with XSAVE CR4.OSXSAVE and
 * XCR0 = x87 | SSE [| AVX [| AVX-512]]; prints one "cpu: extended state" line. Panics on a
 * CPU without FXSR and SSE2 (every x86-64 has them).
 */
void x86_fpu_init(void);
/* The same control register and XCR0 settings on another CPU, from what x86_fpu_init
 * found (x86_fpu_info). */
void x86_fpu_init_other_cpu(void);

/* Makes `to` the loaded state: if another state is loaded, saves the registers into it,
 * then loads `to`. Does nothing when `to` is already loaded. Interrupts off. */
void x86_fpu_switch(x86_fpu_state_t *to);

/* The thread owning st is gone (or about to be): if st is loaded, it stops being so,
 * without a save; the registers keep stale values until the next x86_fpu_switch loads a
 * whole state over them. Interrupts off. */
void x86_fpu_forget(x86_fpu_state_t *st);

/* Saves the loaded state (if any) into its area and leaves nothing loaded: at every
 * switch away from a user thread, and in in-kernel tests that use the registers freely
 * until the next x86_fpu_switch. Interrupts off. */
void x86_fpu_flush(void);

#endif
