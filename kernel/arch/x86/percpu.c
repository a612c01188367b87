/*
 * Per-CPU data (<arch/cpu.h>). The boot CPU's struct arch_percpu is the global
 * arch_boot_percpu (boot/start.S points GS base at it before kmain); the other CPUs'
 * structs are x86_other_percpu[], and each of those CPUs points GS base at its own
 * (boot/smp.c). Kernel code reaches the running CPU's through GS (arch_get_percpu).
 */
#include <stddef.h>
#include <arch/cpu.h>
#include <arch/x86/arch.h>
#include <arch/x86/percpu.h>
#include <arch/x86/cpu.h>
#include <kernel/assert.h>
#include <kernel/smp.h>

#define X86_MSR_KERNEL_GS_BASE 0xc0000102u

struct arch_percpu arch_boot_percpu = {.cpu_num = 0, .self = &arch_boot_percpu};
static struct arch_percpu x86_other_percpu[SMP_MAX_CPUS - 1];
static uint32_t cpus_running = 1;
/* CPUID's hypervisor bit (arch_cpus_virtual), set by x86_cpu_features_init. Kept here,
 * with the other per-machine CPU facts the lock paths read, rather than beside the code
 * that prints the features, which sits above the console and so above every lock. */
bool x86_cpus_virtual;

_Static_assert(offsetof(struct arch_percpu, syscall_user_rsp) == X86_PERCPU_SYSCALL_USER_RSP,
               "percpu.h offsets follow struct arch_percpu");
_Static_assert(offsetof(struct arch_percpu, kstack_top) == X86_PERCPU_KSTACK_TOP,
               "percpu.h offsets follow struct arch_percpu");
_Static_assert(offsetof(struct arch_percpu, self) == X86_PERCPU_SELF,
               "percpu.h offsets follow struct arch_percpu");

/* Everything but the number and self pointer starts zero: no stretch open, no state
 * loaded, the normal syscall entry, bases 0 as the CPU resets them. The user GS base
 * (KERNEL_GS_BASE while in the kernel) starts 0 too. */
void x86_percpu_init(void) {
    ASSERT(arch_get_percpu() == &arch_boot_percpu);
    arch_boot_percpu.apic_id = UINT32_MAX; /* set when the local APIC is mapped */
    x86_wrmsr(X86_MSR_KERNEL_GS_BASE, 0);
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
