/* In-kernel test of the CPU bring-up (kernel/arch/x86/boot/smp.c). */
#include <arch/cpu.h>
#include <arch/x86/arch.h>
#include <arch/x86/smp.h>
#include <kernel/cmdline.h>
#include <kernel/ktest.h>
#include <kernel/thread.h>

/*
 * Every CPU the MADT lists (up to smp.max_cpus) came up, each with a distinct CPU number
 * and APIC ID, its own struct arch_percpu reached through its own GS base, and its own
 * stack; the boot CPU is CPU 0.
 */
KTEST(smp, bringup) {
    uint32_t found = x86_smp_cpus_found(), running = arch_cpu_count();
    uint64_t max;
    uint32_t want = found;
    if (cmdline_get_u64("smp.max_cpus", &max) && max >= 1 && max < want)
        want = (uint32_t)max;
    /* A CPU made not to answer (smp.test_silent_cpu=N) ends the bring-up before it. */
    if (cmdline_get_u64("smp.test_silent_cpu", &max) && max >= 1 && max < want)
        want = (uint32_t)max;
    EXPECT_EQ(running, want);
    /* On the boot CPU for the comparisons below (the test thread may run anywhere). */
    thread_stats_t mine;
    thread_get_stats(thread_current(), &mine);
    ASSERT(thread_set_affinity(thread_current(), CPU_MASK_BIT(0)) == ZX_OK);
    EXPECT_EQ(arch_curr_cpu_num(), 0u);
    const struct x86_smp_cpu *boot = x86_smp_cpu(0);
    ASSERT_TRUE(boot != NULL);
    EXPECT_EQ(boot->apic_id, x86_lapic_id());
    EXPECT_TRUE(boot->percpu == arch_get_percpu());
    for (uint32_t n = 1; n < running; n++) {
        const struct x86_smp_cpu *c = x86_smp_cpu(n);
        ASSERT_TRUE(c != NULL);
        EXPECT_TRUE(c->online);
        EXPECT_EQ(c->seen_cpu_num, n);
        EXPECT_TRUE(c->seen_self == c->percpu);
        EXPECT_TRUE(c->percpu != arch_get_percpu());
        EXPECT_EQ(c->seen_apic_id, c->apic_id);
        EXPECT_TRUE(c->seen_sp > c->stack_base && c->seen_sp <= c->stack_top);
        for (uint32_t m = 0; m < n; m++) {
            const struct x86_smp_cpu *o = x86_smp_cpu(m);
            EXPECT_NE(o->apic_id, c->apic_id);
            EXPECT_TRUE(o->percpu != c->percpu);
            if (m > 0)
                EXPECT_TRUE(c->seen_sp < o->stack_base || c->seen_sp > o->stack_top);
        }
    }
    /* CPUs past the running ones never reported in. */
    for (uint32_t n = running; n < SMP_MAX_CPUS; n++)
        EXPECT_FALSE(x86_smp_cpu(n)->online);
    /* Every running CPU schedules threads. */
    EXPECT_EQ(sched_num_cpus(), running);
    thread_set_affinity(thread_current(), mine.affinity);
}
