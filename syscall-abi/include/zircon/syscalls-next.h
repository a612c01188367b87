/*
 * Restricted mode (Zircon's syscalls-next.h; not in the stable ABI): the register state
 * a thread runs with in restricted mode and the reasons it comes back to normal mode.
 */
#ifndef ZIRCON_SYSCALLS_NEXT_H
#define ZIRCON_SYSCALLS_NEXT_H

#include <stdint.h>
#include <zircon/syscalls/exception.h>

/* The second argument (rsi) at the vector when restricted mode ends. */
typedef uint64_t zx_restricted_reason_t;
#define ZX_RESTRICTED_REASON_SYSCALL ((zx_restricted_reason_t)0)
#define ZX_RESTRICTED_REASON_EXCEPTION ((zx_restricted_reason_t)1)
#define ZX_RESTRICTED_REASON_KICK ((zx_restricted_reason_t)2)

/*
 * x86-64 restricted-mode registers, the content of the state VMO. On entry the thread
 * runs with these; on exit they hold where it stopped (after a syscall instruction, ip
 * is the instruction after it, as rcx would be; rflags as r11 would be).
 */
typedef struct zx_restricted_state {
    uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax, rsp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t ip, flags;
    uint64_t fs_base, gs_base;
} zx_restricted_state_t;

_Static_assert(sizeof(zx_restricted_state_t) == 160, "zx_restricted_state_t layout");

/*
 * What the state VMO holds after an exit with ZX_RESTRICTED_REASON_EXCEPTION: the
 * registers where the exception happened (ip at the faulting instruction), followed by
 * the report (type, vector, error code, the fault address for a page fault). After the
 * other exits only the state part is written.
 */
typedef struct zx_restricted_exception {
    zx_restricted_state_t state; /* must be first */
    zx_exception_report_t exception;
} zx_restricted_exception_t;

_Static_assert(sizeof(zx_restricted_exception_t) == 200, "zx_restricted_exception_t layout");

#endif
