/*
 * Per-CPU data (<arch/cpu.h>). One CPU today: its struct arch_percpu is this global,
 * which the inline accessors and the syscall entry stub address directly. On SMP each
 * CPU gets its own struct and GS base points at it while the CPU runs kernel code.
 */
#include <stddef.h>
#include <arch/cpu.h>
#include <arch/x86/arch.h>
#include <arch/x86/percpu.h>

struct arch_percpu arch_boot_percpu;

_Static_assert(offsetof(struct arch_percpu, syscall_user_rsp) == X86_PERCPU_SYSCALL_USER_RSP,
               "percpu.h offsets follow struct arch_percpu");
_Static_assert(offsetof(struct arch_percpu, kstack_top) == X86_PERCPU_KSTACK_TOP,
               "percpu.h offsets follow struct arch_percpu");

/* Everything else starts zero (.bss): no stretch open, no state loaded, the normal
 * syscall entry, bases 0 as the CPU resets them. */
void x86_percpu_init(void) { arch_boot_percpu.cpu_num = 0; }
