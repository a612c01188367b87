/*
 * What user code can throw at the CPU: software interrupts to every kind of vector (the
 * IDT's gates are all DPL 0, so each is a #GP), privileged and I/O instructions, invalid
 * opcodes, a divide error, single-stepping with RFLAGS.TF, a jump to a non-canonical or
 * kernel address. Each kills only the process that did it, with
 * ZX_TASK_RETCODE_EXCEPTION_KILL; the kernel carries on (the next case runs).
 */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <beryl/syscall_numbers.h>

#define KILLED ZX_TASK_RETCODE_EXCEPTION_KILL

/* Maps a fresh executable page holding `code` (then `ret`) and returns its address, or 0. */
static zx_vaddr_t code_page(const uint8_t *code, size_t len) {
    uint8_t page[TU_PAGE];
    memset(page, 0xc3, sizeof(page)); /* ret */
    memcpy(page, code, len);
    return tu_map_code(page, sizeof(page));
}

/* Runs `code` (followed by ret) in the calling process. */
static void run_code(const uint8_t *code, size_t len) {
    zx_vaddr_t a = code_page(code, len);
    if (a == 0)
        zx_process_exit(1);
    ((void (*)(void))a)();
}

static void run_int(uint8_t vector) {
    uint8_t code[] = {0xcd, vector}; /* int $vector */
    run_code(code, sizeof(code));
}

TEST(CpuTraps, SoftwareInterruptsToEveryKindOfVector) {
    /* Exceptions with and without an error code, #DF, the timer, the spurious vector and
     * vectors nothing uses: a software interrupt from ring 3 through a DPL 0 gate is a
     * #GP, whatever the vector would expect on the stack. */
    static const uint8_t vectors[] = {0, 1, 2, 3, 4, 6, 8, 13, 14, 18, 32, 33, 128, 254, 255};
    for (size_t i = 0; i < sizeof(vectors); i++)
        EXPECT_DEATH(run_int(vectors[i]), KILLED);
    static const uint8_t int3[] = {0xcc}, into_[] = {0xce}, int1[] = {0xf1};
    EXPECT_DEATH(run_code(int3, sizeof(int3)), KILLED);
    EXPECT_DEATH(run_code(int1, sizeof(int1)), KILLED);
    (void)into_; /* into is invalid in 64-bit mode: #UD, covered below */
}

TEST(CpuTraps, PrivilegedAndIoInstructions) {
    static const uint8_t hlt[] = {0xf4}, cli[] = {0xfa}, sti[] = {0xfb},
                         rdmsr[] = {0x31, 0xc9, 0x0f, 0x32},          /* xor ecx,ecx; rdmsr */
                         wrcr3[] = {0x0f, 0x22, 0xd8},                 /* mov %rax, %cr3 */
                         rdcr0[] = {0x0f, 0x20, 0xc0},                 /* mov %cr0, %rax */
                         lgdt[] = {0x0f, 0x01, 0x10},                  /* lgdt (%rax) */
                         outb[] = {0xe6, 0x80},                        /* out %al, $0x80 */
                         inb[] = {0xe4, 0x60},                         /* in $0x60, %al */
                         clts[] = {0x0f, 0x06}, invd[] = {0x0f, 0x08}, wbinvd[] = {0x0f, 0x09},
                         sysret[] = {0x48, 0x0f, 0x07},                /* sysretq */
                         swapgs[] = {0x0f, 0x01, 0xf8};
    EXPECT_DEATH(run_code(hlt, sizeof(hlt)), KILLED);
    EXPECT_DEATH(run_code(cli, sizeof(cli)), KILLED);
    EXPECT_DEATH(run_code(sti, sizeof(sti)), KILLED);
    EXPECT_DEATH(run_code(rdmsr, sizeof(rdmsr)), KILLED);
    EXPECT_DEATH(run_code(wrcr3, sizeof(wrcr3)), KILLED);
    EXPECT_DEATH(run_code(rdcr0, sizeof(rdcr0)), KILLED);
    EXPECT_DEATH(run_code(lgdt, sizeof(lgdt)), KILLED);
    EXPECT_DEATH(run_code(outb, sizeof(outb)), KILLED);
    EXPECT_DEATH(run_code(inb, sizeof(inb)), KILLED);
    EXPECT_DEATH(run_code(clts, sizeof(clts)), KILLED);
    EXPECT_DEATH(run_code(invd, sizeof(invd)), KILLED);
    EXPECT_DEATH(run_code(wbinvd, sizeof(wbinvd)), KILLED);
    EXPECT_DEATH(run_code(sysret, sizeof(sysret)), KILLED);
    EXPECT_DEATH(run_code(swapgs, sizeof(swapgs)), KILLED);
}

TEST(CpuTraps, InvalidOpcodesAndArithmetic) {
    static const uint8_t ud2[] = {0x0f, 0x0b}, into_[] = {0xce},
                         div0[] = {0x31, 0xc9, 0x31, 0xd2, 0xf7, 0xf1}, /* ecx=0; edx=0; div ecx */
                         idivmin[] = {0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x80,  /* rax = INT64_MIN */
                                      0x48, 0x99,                             /* cqo */
                                      0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff, /* rcx = -1 */
                                      0x48, 0xf7, 0xf9};                      /* idiv rcx */
    EXPECT_DEATH(run_code(ud2, sizeof(ud2)), KILLED);
    EXPECT_DEATH(run_code(into_, sizeof(into_)), KILLED);
    EXPECT_DEATH(run_code(div0, sizeof(div0)), KILLED);
    EXPECT_DEATH(run_code(idivmin, sizeof(idivmin)), KILLED);
}

TEST(CpuTraps, SingleStepAndBadJumps) {
    /* pushf; orl $0x100,(%rsp); popf; nop: TF set, the next instruction traps (#DB). */
    static const uint8_t tf[] = {0x9c, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x90};
    EXPECT_DEATH(run_code(tf, sizeof(tf)), KILLED);
    /* mov $SYSCALL_TEST_0,%eax; pushf; orl $0x100,(%rsp); popf; syscall; nop: the syscall
     * starts with TF set. FMASK clears it on entry, so the kernel is never single-stepped
     * (a #DB in kernel mode would be a panic); sysret gives TF back, and the trap comes
     * in user mode, after the syscall returns. The same across a zx_nanosleep whose
     * deadline (1, in rdi) is long past, so it yields to other threads first. */
    static const uint8_t tf_syscall[] = {0xb8, ZX_SYS_SYSCALL_TEST_0, 0, 0, 0, 0x9c, 0x81,
                                         0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x0f,
                                         0x05, 0x90};
    EXPECT_DEATH(run_code(tf_syscall, sizeof(tf_syscall)), KILLED);
    static const uint8_t tf_sleep[] = {0xbf, 1, 0, 0, 0, 0xb8, ZX_SYS_NANOSLEEP, 0, 0, 0,
                                       0x9c, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d,
                                       0x0f, 0x05, 0x90};
    EXPECT_DEATH(run_code(tf_sleep, sizeof(tf_sleep)), KILLED);
    /* movabs $addr, %rax; jmp *%rax: non-canonical, kernel half, the excluded top page. */
    uint8_t jmp[] = {0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xe0};
    static const uint64_t targets[] = {0x0000800000000000ull, 0xffffffff80100000ull,
                                       0xffff800000000000ull, 0x00007ffffffff000ull, 0x1000ull};
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        memcpy(jmp + 2, &targets[i], sizeof(targets[i]));
        EXPECT_DEATH(run_code(jmp, sizeof(jmp)), KILLED);
    }
    /* A stack pointer in the kernel half, then a push: the fault is the process's. */
    static const uint8_t badstack[] = {0x48, 0xbc, 0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0xff, /* rsp */
                                       0x50};                                             /* push */
    EXPECT_DEATH(run_code(badstack, sizeof(badstack)), KILLED);
}

TEST(CpuTraps, TheKernelIsStillFine) {
    /* After all of the above in children, this process and the kernel work on. */
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    uint64_t v = 0x1234;
    EXPECT_OK(zx_vmo_write(vmo, &v, 0, sizeof(v)));
    v = 0;
    EXPECT_OK(zx_vmo_read(vmo, &v, 0, sizeof(v)));
    EXPECT_EQ(v, 0x1234u);
    zx_handle_close(vmo);
}
