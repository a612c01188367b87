/*
 * The syscall dispatcher (generated into the build tree as gen/kernel/syscall_table.c by
 * tools/gen_syscalls.py from syscall-abi/syscalls.def).
 */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include <stdint.h>
#include <beryl/syscall_numbers.h>

/*
 * Runs syscall num with the raw 64-bit register values args[0..7] (rdi, rsi, rdx, r10,
 * r8, r9, r12, r13 of the caller) and returns the value for the caller's rax.
 *
 * num >= ZX_SYS_COUNT returns ZX_ERR_BAD_SYSCALL. Otherwise each raw value is converted
 * to the declared argument type as a C cast does (32-bit arguments keep their low 32
 * bits, so garbage in the upper half is ignored; pointers become user_addr_t, unchecked)
 * and sys_NAME (<kernel/syscall_impl.h>) is called with them. args[i] beyond the
 * syscall's argument count is never read. A zx_status_t result is sign-extended; a
 * zx_time_t result is returned as is. Noreturn syscalls never come back here.
 *
 * Must be called with interrupts enabled or disabled as the implementations expect (the
 * syscall entry path decides); the dispatcher itself touches no shared state.
 */
int64_t syscall_dispatch(uint64_t num, const uint64_t args[8]);

/* syscall_names[num] is "vmo_create" etc., for logs; valid for num < ZX_SYS_COUNT. */
extern const char *const syscall_names[ZX_SYS_COUNT];

#endif
