/*
 * User context: what generic code (kernel/proc) may do with a user thread's registers.
 *
 * The user frame. Every way into the kernel from ring 3 (syscall, exception, interrupt)
 * saves the user registers in one frame at the top of the thread's kernel stack, and
 * the way back restores them from there. Its layout belongs to the architecture
 * (arch_iframe_t, complete so that generic code can keep a copy); generic code reads and
 * writes it only through the functions below.
 *
 * The user bases. FS and GS base are the user's thread-pointer registers; a thread's
 * values live in its struct arch_thread and are loaded on every switch to it.
 *
 * The syscall entry. A thread in restricted mode (kernel/proc/restricted_mode.c) has its
 * own syscall entry point, selected per thread, so the normal syscall path never tests
 * for restricted mode.
 *
 * The functions restricted mode calls on every enter and exit are static inline (bodies
 * in <arch/arch_impl.h>).
 */
#ifndef ARCH_USER_H
#define ARCH_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arch/arch_impl.h>
#include <kernel/compiler.h>
#include <zircon/syscalls-next.h>
#include <zircon/types.h>

/* arch_iframe_t, the user frame: defined by <arch/arch_impl.h>. */
typedef struct zx_exception_report zx_exception_report_t;

/* The user frame of the thread whose kernel stack ends at kstack_top (valid while that
 * thread is in the kernel on behalf of user mode). */
static inline arch_iframe_t *arch_user_frame(uintptr_t kstack_top);

/* Fills *f for a thread's first entry to user mode: at pc with stack sp, arg1 and arg2
 * in the first two argument registers, interrupts on, every other register zero. */
void arch_iframe_init_user(arch_iframe_t *f, uintptr_t pc, uintptr_t sp, uintptr_t arg1,
                           uintptr_t arg2);

/* The user address execution resumes at when *f is restored. */
static inline uintptr_t arch_iframe_pc(const arch_iframe_t *f);

/*
 * Turns *f into a call of pc as Beryl's restricted-mode vector convention has it:
 * context in the first argument register, reason in the second and in the return-value
 * register (so a vector that is a bare `ret` looks like a call that returned reason).
 */
static inline void arch_iframe_set_vector_call(arch_iframe_t *f, uintptr_t pc,
                                               uint64_t context, uint64_t reason);

/* Writes the general registers, pc and flags of *f and the user bases of thread a into
 * *st, every other field zero. */
static inline void arch_restricted_state_save(zx_restricted_state_t *st,
                                              const arch_iframe_t *f,
                                              const struct arch_thread *a);

/* Loads *f from *st (general registers, pc; flags masked to what user code may set).
 * fs_base / gs_base are left to the caller. */
static inline void arch_restricted_state_load(arch_iframe_t *f,
                                              const zx_restricted_state_t *st);

/* True if every user base register value in *st is one user mode may hold. */
static inline bool arch_restricted_state_bases_ok(const zx_restricted_state_t *st);

/*
 * Fills *out, a Zircon exception report, for the user-mode exception in f: its type
 * (ZX_EXCP_*), the architecture's details (vector, error code, fault address); for a
 * fatal page fault synth_code is vm_status, the VM's reason for not resolving it.
 */
void arch_exception_report(const arch_iframe_t *f, zx_status_t vm_status,
                           zx_exception_report_t *out);

/* Writes a one-line description of where and how the exception in f happened ("rip
 * 0x... (vector N, error 0x..., cr2 0x...)" on x86-64) into buf (NUL-terminated,
 * truncated to len). */
void arch_iframe_describe(const arch_iframe_t *f, char *buf, size_t len);

/* A user page fault as the architecture's error code tells it (arch_iframe_page_fault). */
typedef struct arch_page_fault_info {
    uintptr_t addr; /* the faulting address */
    bool present;   /* a translation existed: a protection fault (else not present) */
    bool write;     /* a write (else a read or an instruction fetch) */
    bool fetch;     /* an instruction fetch */
    bool user;      /* from user mode (else supervisor) */
    bool reserved;  /* a paging entry had a reserved bit set */
} arch_page_fault_info_t;

/* True if f is a page fault; then *out is its decoded error and address. */
bool arch_iframe_page_fault(const arch_iframe_t *f, arch_page_fault_info_t *out);

/*
 * The user fault report's register block, one line at a time: writes line i of the
 * registers of *f (pc, stack and frame pointers, flags, every general register,
 * segment selectors, fault address and error code) into buf (NUL-terminated, truncated
 * to len; ARCH_IFRAME_REG_LINE_MAX bytes always suffice) and returns true, or returns
 * false when there is no line i. One line at a time keeps the caller's buffer small.
 */
#define ARCH_IFRAME_REG_LINE_MAX 96
bool arch_iframe_register_line(const arch_iframe_t *f, unsigned i, char *buf, size_t len);

/*
 * The user frame pointer of *f, where a frame-pointer walk of the user stack starts.
 * Each frame record at a frame pointer fp is two words: the caller's frame pointer at
 * fp, the return address at fp + sizeof(uintptr_t) (the layout frame-pointer builds of
 * Beryl's user programs have).
 */
uintptr_t arch_iframe_frame_pointer(const arch_iframe_t *f);

/*
 * Enters user mode with every register from *f (cs / ss must be user selectors); the
 * kernel stack is reset to f. Interrupts any; never returns.
 */
__noreturn void arch_enter_user(const arch_iframe_t *f);

/* The user FS / GS bases of thread a (the running thread, any interrupt state): stored
 * in a and loaded into the CPU at once. */
static inline void arch_set_user_bases(struct arch_thread *a, uint64_t fs_base,
                                       uint64_t gs_base);
static inline void arch_get_user_bases(const struct arch_thread *a, uint64_t *fs_base,
                                       uint64_t *gs_base);

/* Selects a's syscall entry: restricted mode's or the normal one (a is the running
 * thread, interrupts off; the choice follows a across switches). */
static inline void arch_set_syscall_entry(struct arch_thread *a, bool restricted);

#endif
