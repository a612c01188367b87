/*
 * Per-CPU data (<arch/cpu.h>). The boot CPU's struct arch_percpu is the global
 * arch_boot_percpu, which the inline accessors and the syscall entry stub address
 * directly (only the boot CPU runs threads). The other CPUs' structs are
 * x86_other_percpu[]; each of those CPUs points GS base at its own
 * (kernel/arch/x86/boot/smp.c) and reaches it with x86_percpu_gs_self().
 */
#include <stddef.h>
#include <arch/cpu.h>
#include <arch/x86/arch.h>
#include <arch/x86/percpu.h>
#include <kernel/smp.h>

struct arch_percpu arch_boot_percpu;
static struct arch_percpu x86_other_percpu[SMP_MAX_CPUS - 1];
static uint32_t cpus_running = 1;

_Static_assert(offsetof(struct arch_percpu, syscall_user_rsp) == X86_PERCPU_SYSCALL_USER_RSP,
               "percpu.h offsets follow struct arch_percpu");
_Static_assert(offsetof(struct arch_percpu, kstack_top) == X86_PERCPU_KSTACK_TOP,
               "percpu.h offsets follow struct arch_percpu");
_Static_assert(offsetof(struct arch_percpu, self) == X86_PERCPU_SELF,
               "percpu.h offsets follow struct arch_percpu");

/* Everything else starts zero (.bss): no stretch open, no state loaded, the normal
 * syscall entry, bases 0 as the CPU resets them. */
void x86_percpu_init(void) {
    arch_boot_percpu.cpu_num = 0;
    arch_boot_percpu.self = &arch_boot_percpu;
}

struct arch_percpu *x86_percpu_of(uint32_t cpu_num) {
    if (cpu_num == 0)
        return &arch_boot_percpu;
    if (cpu_num >= SMP_MAX_CPUS)
        return NULL;
    struct arch_percpu *c = &x86_other_percpu[cpu_num - 1];
    c->cpu_num = cpu_num;
    c->self = c;
    return c;
}

void x86_percpu_set_running(uint32_t count) { __atomic_store_n(&cpus_running, count, __ATOMIC_RELEASE); }

uint32_t arch_cpu_count(void) { return __atomic_load_n(&cpus_running, __ATOMIC_ACQUIRE); }
