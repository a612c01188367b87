/*
 * Extended CPU state (floating-point and vector registers) of user threads.
 *
 * The kernel itself never uses these registers, so only user threads own a state area,
 * a buffer their creator allocates (arch_fpu_state_size() bytes at an
 * ARCH_FPU_STATE_ALIGN boundary), fills with arch_fpu_state_init, and names in its
 * struct arch_thread (arch_thread_set_fpu). Policy: eager restore, deferred save. The
 * registers always hold the state of the last user thread that ran; arch_thread_switch
 * to a different user thread saves them into that thread's area and loads the next's.
 * Switching to a kernel thread, or back to the thread whose state is loaded, costs
 * nothing. Details of the x86-64 formats: kernel/arch/x86/fpu.c.
 */
#ifndef ARCH_FPU_H
#define ARCH_FPU_H

#include <stddef.h>
#include <arch/arch_impl.h>

/* Alignment every state area needs (XSAVE's 64 bytes on x86-64). */
#define ARCH_FPU_STATE_ALIGN 64u

/* Bytes of a state area; fixed after boot (arch_early_init). */
size_t arch_fpu_state_size(void);

/* Writes the clean initial state (every register at its reset value) into area, which
 * holds arch_fpu_state_size() bytes at an ARCH_FPU_STATE_ALIGN boundary. */
void arch_fpu_state_init(void *area);

/* Makes area (initialised, or NULL for none) the state loaded for thread a from its
 * next switch on. Set before the thread first runs. */
void arch_thread_set_fpu(struct arch_thread *a, void *area);

/*
 * The owner is about to free area (its thread never runs user code again): if area is
 * the loaded state it stops being so, without a save. Any interrupt state. The owner
 * may free area on return.
 */
void arch_fpu_state_release(void *area);

#endif
