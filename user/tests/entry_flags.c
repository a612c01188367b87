/*
 * RFLAGS across kernel entries. User code may set RFLAGS.AC (alignment check; in the
 * kernel it means "SMAP off") and RFLAGS.DF (string instructions run backwards). The
 * kernel must clear both on every entry, whatever the way in (timer interrupt, page
 * fault, other exceptions, syscall), since its C code assumes them clear and AC would
 * silently lift SMAP; the kernel checks that on the C side of every entry and panics
 * otherwise. On the way back out the user's own flags must be restored as they were.
 *
 * The loops that run with AC and DF set are assembly: compiled C code may assume DF is
 * clear at every call.
 */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <zircon/syscalls.h>

#define FLAGS_DF 0x400ull
#define FLAGS_AC 0x40000ull

/*
 * uint64_t ef_spin(uint64_t tsc_until, uint64_t *iterations)
 * Sets AC and DF, spins until the TSC passes tsc_until checking after every iteration
 * that both are still set, clears them; returns the number of iterations that found one
 * missing (*iterations gets the total).
 *
 * uint64_t ef_touch(uint64_t base, uint64_t pages)
 * Sets AC and DF, stores one byte into each of `pages` pages from base (each store takes
 * a page fault on a fresh mapping), checking after each; returns the number of checks
 * that found a flag missing.
 *
 * uint64_t ef_call(uint64_t (*fn)(uint64_t), uint64_t arg, uint64_t times)
 * Sets AC and DF and calls fn(arg) `times` times (fn must be a syscall stub: it runs with
 * DF set), checking after each call; returns the number of checks that failed.
 *
 * void ef_ud2(void), void ef_int3(void): set AC and DF and execute ud2 / int3 (both kill
 * the process: #UD, and #GP for an int3 from ring 3 since the #BP gate is kernel-only).
 */
uint64_t ef_spin(uint64_t tsc_until, uint64_t *iterations);
uint64_t ef_touch(uint64_t base, uint64_t pages);
uint64_t ef_call(uint64_t (*fn)(uint64_t), uint64_t arg, uint64_t times);
void ef_ud2(void);
void ef_int3(void);

__asm__(".text\n"
        ".macro EF_SET\n"
        "    pushfq\n"
        "    orq $0x40400, (%rsp)\n"
        "    popfq\n"
        ".endm\n"
        ".macro EF_CLEAR\n"
        "    pushfq\n"
        "    andq $~0x40400, (%rsp)\n"
        "    popfq\n"
        ".endm\n"
        /* Adds 1 to \\counter unless AC and DF are both set (clobbers rax). */
        ".macro EF_CHECK counter\n"
        "    pushfq\n"
        "    popq %rax\n"
        "    andl $0x40400, %eax\n"
        "    cmpl $0x40400, %eax\n"
        "    je 9f\n"
        "    incq \\counter\n"
        "9:\n"
        ".endm\n"
        ".globl ef_spin\n"
        "ef_spin:\n"
        "    xorl %r8d, %r8d\n"
        "    xorl %r9d, %r9d\n"
        "    EF_SET\n"
        "1:  EF_CHECK %r8\n"
        "    incq %r9\n"
        "    rdtsc\n"
        "    shlq $32, %rdx\n"
        "    orq %rdx, %rax\n"
        "    cmpq %rdi, %rax\n"
        "    jb 1b\n"
        "    EF_CLEAR\n"
        "    movq %r9, (%rsi)\n"
        "    movq %r8, %rax\n"
        "    ret\n"
        ".globl ef_touch\n"
        "ef_touch:\n"
        "    xorl %r8d, %r8d\n"
        "    EF_SET\n"
        "1:  movb $1, (%rdi)\n"
        "    EF_CHECK %r8\n"
        "    addq $4096, %rdi\n"
        "    decq %rsi\n"
        "    jnz 1b\n"
        "    EF_CLEAR\n"
        "    movq %r8, %rax\n"
        "    ret\n"
        ".globl ef_call\n"
        "ef_call:\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    subq $8, %rsp\n" /* 16-byte alignment at the calls */
        "    movq %rdi, %rbx\n"
        "    movq %rsi, %r12\n"
        "    movq %rdx, %r13\n"
        "    xorl %r14d, %r14d\n"
        "    EF_SET\n"
        "1:  movq %r12, %rdi\n"
        "    callq *%rbx\n"
        "    EF_CHECK %r14\n"
        "    decq %r13\n"
        "    jnz 1b\n"
        "    EF_CLEAR\n"
        "    movq %r14, %rax\n"
        "    addq $8, %rsp\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    ret\n"
        ".globl ef_ud2\n"
        "ef_ud2:\n"
        "    EF_SET\n"
        "    ud2\n"
        ".globl ef_int3\n"
        "ef_int3:\n"
        "    EF_SET\n"
        "    int3\n"
        "    ud2\n");

/* Spins for ms milliseconds with AC and DF set; the number of failed checks. */
static uint64_t spin_ms(uint64_t ms, uint64_t *iterations) {
    uint64_t per_ms = tu_tsc_per_ms();
    if (per_ms == 0)
        return ~0ull;
    return ef_spin(__builtin_ia32_rdtsc() + ms * per_ms, iterations);
}

/* Timer interrupts (the tick is 1 ms, so 25 ms of spinning takes about 25 of them). */
TEST(EntryFlags, AcAndDfSurviveTimerInterrupts) {
    uint64_t iterations = 0;
    EXPECT_EQ(spin_ms(25, &iterations), 0u);
    EXPECT_GT(iterations, 0u);
}

static void spinner(uintptr_t ms, uintptr_t lost) {
    uint64_t iterations;
    *(volatile uint64_t *)lost = spin_ms(ms, &iterations);
    zx_thread_exit();
}

/* Two threads spinning with AC and DF set preempt each other: every switch in and out
 * of a thread must keep its flags. */
TEST(EntryFlags, AcAndDfSurvivePreemption) {
    tu_thread_t t;
    volatile uint64_t lost_other = ~0ull;
    ASSERT_OK(tu_thread_create(&t));
    ASSERT_OK(tu_thread_start(&t, spinner, 25, (uintptr_t)&lost_other));
    uint64_t iterations = 0;
    EXPECT_EQ(spin_ms(25, &iterations), 0u);
    ASSERT_OK(tu_thread_join(&t, 10 * TU_SEC));
    EXPECT_EQ(lost_other, 0u);
    tu_thread_destroy(&t);
}

TEST(EntryFlags, AcAndDfSurvivePageFaults) {
    enum { PAGES = 16 };
    zx_vaddr_t a = tu_map_new(PAGES * TU_PAGE, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, NULL);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(ef_touch(a, PAGES), 0u);
    for (int i = 0; i < PAGES; i++)
        EXPECT_EQ(((volatile uint8_t *)a)[i * TU_PAGE], 1u);
    zx_vmar_unmap(zx_vmar_root_self(), a, PAGES * TU_PAGE);
}

/* A syscall that returns at once (sysret) and one that blocks (the thread is switched
 * out and back in before sysret). */
TEST(EntryFlags, AcAndDfSurviveSyscalls) {
    EXPECT_EQ(ef_call((uint64_t(*)(uint64_t))zx_syscall_test_0, 0, 100), 0u);
    EXPECT_EQ(ef_call((uint64_t(*)(uint64_t))zx_nanosleep, (uint64_t)zx_deadline_after(TU_MS),
                      3),
              0u);
}

/* Exceptions nobody resolves kill the process; the kernel must get there without
 * tripping over the flags. */
TEST(EntryFlags, FatalExceptionsWithAcAndDfKillOnlyTheProcess) {
    EXPECT_DEATH(ef_ud2(), ZX_TASK_RETCODE_EXCEPTION_KILL);
    EXPECT_DEATH(ef_int3(), ZX_TASK_RETCODE_EXCEPTION_KILL);
    EXPECT_DEATH(ef_touch(0x1000, 1), ZX_TASK_RETCODE_EXCEPTION_KILL);
}
