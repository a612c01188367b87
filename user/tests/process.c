/* Processes: zx_process_create / start / exit / kill / read_memory / write_memory. */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <beryl/syscall_numbers.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#define PAGE 4096u

/* Machine code for the children (Beryl syscall numbers; args in rdi...). */
static const uint8_t code_exit42[] = {
    0xb8, ZX_SYS_PROCESS_EXIT, 0, 0, 0, /* mov $PROCESS_EXIT,%eax */
    0xbf, 42, 0, 0, 0,                  /* mov $42,%edi */
    0x0f, 0x05,                         /* syscall */
    0xeb, 0xfe,                         /* jmp . */
};
static const uint8_t code_spin[] = {0xeb, 0xfe};
static const uint8_t code_fault[] = {
    0xc7, 0x04, 0x25, 0, 0, 0, 0, 1, 0, 0, 0, /* movl $1, 0x0 */
    0xeb, 0xfe,
};
static const uint8_t code_sleep_forever[] = {
    0xb8, ZX_SYS_NANOSLEEP, 0, 0, 0,                        /* mov $NANOSLEEP,%eax */
    0x48, 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, /* movabs $INT64_MAX,%rdi */
    0x0f, 0x05,                                             /* syscall */
    0xeb, 0xec,                                             /* jmp back to start */
};

typedef struct child {
    zx_handle_t proc, vmar, thread;
    zx_vaddr_t code, data;
} child_t;

/* Creates a process with the code mapped R+X and one RW data page; not started. */
static zx_status_t child_create(child_t *c, const uint8_t *code, size_t len) {
    memset(c, 0, sizeof(*c));
    static const char name[] = "utest-child";
    zx_status_t st = zx_process_create(zx_job_default(), name, sizeof(name) - 1, 0, &c->proc,
                                       &c->vmar);
    if (st != ZX_OK)
        return st;
    zx_handle_t vmo, xvmo;
    if ((st = zx_vmo_create(PAGE, 0, &vmo)) != ZX_OK)
        return st;
    if ((st = zx_vmo_write(vmo, code, 0, len)) != ZX_OK) {
        zx_handle_close(vmo);
        return st;
    }
    if ((st = zx_vmo_replace_as_executable(vmo, ZX_HANDLE_INVALID, &xvmo)) != ZX_OK)
        return st;
    st = zx_vmar_map(c->vmar, ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE, 0, xvmo, 0, PAGE, &c->code);
    zx_handle_close(xvmo);
    if (st != ZX_OK)
        return st;
    if ((st = zx_vmo_create(PAGE, 0, &vmo)) != ZX_OK)
        return st;
    st = zx_vmar_map(c->vmar, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0, PAGE, &c->data);
    zx_handle_close(vmo);
    if (st != ZX_OK)
        return st;
    return zx_thread_create(c->proc, "t", 1, 0, &c->thread);
}

static zx_status_t child_start(child_t *c) {
    return zx_process_start(c->proc, c->thread, c->code, c->data + PAGE, ZX_HANDLE_INVALID, 0);
}

static void child_destroy(child_t *c) {
    if (c->proc)
        tu_task_kill_wait(c->proc);
    zx_handle_close(c->thread);
    zx_handle_close(c->vmar);
    zx_handle_close(c->proc);
    memset(c, 0, sizeof(*c));
}

TEST(Process, CreateNameRightsAndVmar) {
    zx_handle_t p, v;
    ASSERT_OK(zx_process_create(zx_job_default(), "named-proc", 10, 0, &p, &v));
    zx_info_handle_basic_t b;
    EXPECT_OK(zx_object_get_info(p, ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL));
    EXPECT_EQ(b.type, ZX_OBJ_TYPE_PROCESS);
    EXPECT_EQ(b.rights, 0x6D3CFu);
    char name[ZX_MAX_NAME_LEN] = {0};
    EXPECT_OK(zx_object_get_property(p, ZX_PROP_NAME, name, sizeof(name)));
    EXPECT_STR_EQ(name, "named-proc");
    zx_info_vmar_t vi;
    EXPECT_OK(zx_object_get_info(v, ZX_INFO_VMAR, &vi, sizeof(vi), NULL, NULL));
    EXPECT_EQ(vi.base, 0x200000u);
    EXPECT_GT(vi.len, 0u);
    zx_info_process_t pi;
    EXPECT_OK(tu_process_info(p, &pi));
    EXPECT_EQ(pi.flags, 0u);
    EXPECT_OK(zx_handle_close(v));
    EXPECT_OK(zx_handle_close(p));
}

TEST(Process, CreateBadOptions) {
    zx_handle_t p = 0, v = 0;
    EXPECT_STATUS(zx_process_create(zx_job_default(), "x", 1, 2, &p, &v), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_process_create(zx_job_default(), "x", 1, 0x80000000u, &p, &v),
                  ZX_ERR_INVALID_ARGS);
}

TEST(Process, CreateBadJobHandle) {
    zx_handle_t p, v;
    EXPECT_STATUS(zx_process_create(ZX_HANDLE_INVALID, "x", 1, 0, &p, &v), ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_process_create(0x7ffffff3u, "x", 1, 0, &p, &v), ZX_ERR_BAD_HANDLE);
}

TEST(Process, CreateWrongType) {
    zx_handle_t p, v, vmo;
    ASSERT_OK(zx_vmo_create(PAGE, 0, &vmo));
    EXPECT_STATUS(zx_process_create(vmo, "x", 1, 0, &p, &v), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_process_create(zx_process_self(), "x", 1, 0, &p, &v), ZX_ERR_WRONG_TYPE);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(Process, CreateWithoutManageProcess) {
    zx_handle_t job, p, v;
    ASSERT_OK(zx_handle_duplicate(zx_job_default(), ZX_RIGHTS_BASIC | ZX_RIGHT_READ, &job));
    EXPECT_STATUS(zx_process_create(job, "x", 1, 0, &p, &v), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_handle_close(job));
}

TEST(Process, CreateBadOutPointers) {
    zx_handle_t p, v;
    EXPECT_STATUS(zx_process_create(zx_job_default(), "x", 1, 0, NULL, &v), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_process_create(zx_job_default(), "x", 1, 0, &p, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_process_create(zx_job_default(), "x", 1, 0, (zx_handle_t *)0x1000, &v),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_process_create(zx_job_default(), "x", 1, 0, &p,
                                    (zx_handle_t *)0xffffffff80000000ull),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_process_create(zx_job_default(), (const char *)0x1000, 4, 0, &p, &v),
                  ZX_ERR_INVALID_ARGS);
}

TEST(Process, NeverStartedClosesCleanly) {
    child_t c;
    ASSERT_OK(child_create(&c, code_exit42, sizeof(code_exit42)));
    EXPECT_OK(zx_handle_close(c.thread));
    EXPECT_OK(zx_handle_close(c.vmar));
    EXPECT_OK(zx_handle_close(c.proc));
}

TEST(Process, ExitReturnCode) {
    child_t c;
    ASSERT_OK(child_create(&c, code_exit42, sizeof(code_exit42)));
    zx_info_process_t pi;
    EXPECT_OK(child_start(&c));
    zx_signals_t obs = 0;
    EXPECT_OK(zx_object_wait_one(c.proc, ZX_PROCESS_TERMINATED, zx_deadline_after(10 * TU_SEC),
                                 &obs));
    EXPECT_TRUE(obs & ZX_PROCESS_TERMINATED);
    EXPECT_OK(tu_process_info(c.proc, &pi));
    EXPECT_EQ(pi.return_code, 42);
    EXPECT_EQ(pi.flags, ZX_INFO_PROCESS_FLAG_STARTED | ZX_INFO_PROCESS_FLAG_EXITED);
    EXPECT_OK(zx_object_wait_one(c.thread, ZX_THREAD_TERMINATED, zx_deadline_after(10 * TU_SEC),
                                 NULL));
    child_destroy(&c);
}

TEST(Process, KillRunningChild) {
    child_t c;
    ASSERT_OK(child_create(&c, code_spin, sizeof(code_spin)));
    EXPECT_OK(child_start(&c));
    zx_nanosleep(zx_deadline_after(10000000));
    zx_info_process_t pi;
    EXPECT_OK(tu_process_info(c.proc, &pi));
    EXPECT_EQ(pi.flags, ZX_INFO_PROCESS_FLAG_STARTED);
    EXPECT_OK(zx_task_kill(c.proc));
    EXPECT_OK(zx_object_wait_one(c.proc, ZX_PROCESS_TERMINATED, zx_deadline_after(10 * TU_SEC),
                                 NULL));
    EXPECT_OK(tu_process_info(c.proc, &pi));
    EXPECT_EQ(pi.return_code, ZX_TASK_RETCODE_SYSCALL_KILL);
    EXPECT_EQ(pi.flags, ZX_INFO_PROCESS_FLAG_STARTED | ZX_INFO_PROCESS_FLAG_EXITED);
    /* Killing again is harmless. */
    EXPECT_OK(zx_task_kill(c.proc));
    child_destroy(&c);
}

TEST(Process, KillSleepingChild) {
    child_t c;
    ASSERT_OK(child_create(&c, code_sleep_forever, sizeof(code_sleep_forever)));
    EXPECT_OK(child_start(&c));
    zx_nanosleep(zx_deadline_after(10000000));
    EXPECT_OK(zx_task_kill(c.proc));
    EXPECT_OK(zx_object_wait_one(c.proc, ZX_PROCESS_TERMINATED, zx_deadline_after(10 * TU_SEC),
                                 NULL));
    EXPECT_OK(zx_object_wait_one(c.thread, ZX_THREAD_TERMINATED, zx_deadline_after(10 * TU_SEC),
                                 NULL));
    zx_info_process_t pi;
    EXPECT_OK(tu_process_info(c.proc, &pi));
    EXPECT_EQ(pi.return_code, ZX_TASK_RETCODE_SYSCALL_KILL);
    child_destroy(&c);
}

TEST(Process, FaultingChild) {
    child_t c;
    ASSERT_OK(child_create(&c, code_fault, sizeof(code_fault)));
    EXPECT_OK(child_start(&c));
    EXPECT_OK(zx_object_wait_one(c.proc, ZX_PROCESS_TERMINATED, zx_deadline_after(10 * TU_SEC),
                                 NULL));
    zx_info_process_t pi;
    EXPECT_OK(tu_process_info(c.proc, &pi));
    EXPECT_EQ(pi.return_code, ZX_TASK_RETCODE_EXCEPTION_KILL);
    child_destroy(&c);
}

TEST(Process, StartWithThreadOfOtherProcess) {
    child_t a, b;
    ASSERT_OK(child_create(&a, code_exit42, sizeof(code_exit42)));
    zx_status_t st = child_create(&b, code_exit42, sizeof(code_exit42));
    EXPECT_OK(st);
    if (st == ZX_OK) {
        EXPECT_STATUS(zx_process_start(a.proc, b.thread, a.code, 0, ZX_HANDLE_INVALID, 0),
                      ZX_ERR_ACCESS_DENIED);
        EXPECT_STATUS(zx_process_start(a.proc, zx_thread_self(), a.code, 0, ZX_HANDLE_INVALID,
                                       0),
                      ZX_ERR_ACCESS_DENIED);
    }
    child_destroy(&b);
    child_destroy(&a);
}

TEST(Process, StartTwice) {
    child_t c;
    ASSERT_OK(child_create(&c, code_spin, sizeof(code_spin)));
    EXPECT_OK(child_start(&c));
    zx_handle_t t2;
    ASSERT_OK(zx_thread_create(c.proc, "t2", 2, 0, &t2));
    EXPECT_STATUS(zx_process_start(c.proc, t2, c.code, 0, ZX_HANDLE_INVALID, 0),
                  ZX_ERR_BAD_STATE);
    EXPECT_STATUS(child_start(&c), ZX_ERR_BAD_STATE);
    child_destroy(&c);
    EXPECT_OK(zx_handle_close(t2));
}

TEST(Process, StartBadEntry) {
    child_t c;
    ASSERT_OK(child_create(&c, code_exit42, sizeof(code_exit42)));
    EXPECT_STATUS(zx_process_start(c.proc, c.thread, 0, 0, ZX_HANDLE_INVALID, 0),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_process_start(c.proc, c.thread, 0xffffffff80000000ull, 0,
                                   ZX_HANDLE_INVALID, 0),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_process_start(c.proc, c.thread, 0x0000900000000000ull, 0,
                                   ZX_HANDLE_INVALID, 0),
                  ZX_ERR_INVALID_ARGS);
    /* Still startable after the failures. */
    EXPECT_OK(child_start(&c));
    EXPECT_OK(zx_object_wait_one(c.proc, ZX_PROCESS_TERMINATED, zx_deadline_after(10 * TU_SEC),
                                 NULL));
    child_destroy(&c);
}

TEST(Process, StartBadHandles) {
    child_t c;
    ASSERT_OK(child_create(&c, code_exit42, sizeof(code_exit42)));
    EXPECT_STATUS(zx_process_start(ZX_HANDLE_INVALID, c.thread, c.code, 0, ZX_HANDLE_INVALID, 0),
                  ZX_ERR_BAD_HANDLE);
    EXPECT_STATUS(zx_process_start(c.thread, c.thread, c.code, 0, ZX_HANDLE_INVALID, 0),
                  ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_process_start(c.proc, c.proc, c.code, 0, ZX_HANDLE_INVALID, 0),
                  ZX_ERR_WRONG_TYPE);
    child_destroy(&c);
}

TEST(Process, ReadWriteMemoryRoundTrip) {
    child_t c;
    ASSERT_OK(child_create(&c, code_spin, sizeof(code_spin)));
    char out[64], in[64] = {0};
    for (int i = 0; i < 64; i++)
        out[i] = (char)(i * 3 + 1);
    size_t actual = 0;
    EXPECT_OK(zx_process_write_memory(c.proc, c.data + 100, out, sizeof(out), &actual));
    EXPECT_EQ(actual, sizeof(out));
    actual = 0;
    EXPECT_OK(zx_process_read_memory(c.proc, c.data + 100, in, sizeof(in), &actual));
    EXPECT_EQ(actual, sizeof(in));
    EXPECT_EQ(memcmp(in, out, sizeof(in)), 0);
    /* The code page is readable too. */
    uint8_t code[2];
    EXPECT_OK(zx_process_read_memory(c.proc, c.code, code, 2, &actual));
    EXPECT_EQ(code[0], 0xeb);
    /* Works on a running child as well. */
    EXPECT_OK(child_start(&c));
    EXPECT_OK(zx_process_read_memory(c.proc, c.data + 100, in, sizeof(in), &actual));
    EXPECT_EQ(memcmp(in, out, sizeof(in)), 0);
    child_destroy(&c);
}

TEST(Process, ReadWriteMemoryErrors) {
    child_t c;
    ASSERT_OK(child_create(&c, code_spin, sizeof(code_spin)));
    char buf[16] = {0};
    size_t actual;
    /* Unmapped address in the child. */
    EXPECT_NE(zx_process_read_memory(c.proc, 0x1000, buf, sizeof(buf), &actual), ZX_OK);
    EXPECT_NE(zx_process_write_memory(c.proc, 0x1000, buf, sizeof(buf), &actual), ZX_OK);
    /* Size 0. */
    EXPECT_STATUS(zx_process_read_memory(c.proc, c.data, buf, 0, &actual), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_process_write_memory(c.proc, c.data, buf, 0, &actual),
                  ZX_ERR_INVALID_ARGS);
    /* Bad local buffer. */
    EXPECT_STATUS(zx_process_read_memory(c.proc, c.data, (void *)0x1000, 8, &actual),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_process_write_memory(c.proc, c.data, (void *)0xffffffff80000000ull, 8,
                                          &actual),
                  ZX_ERR_INVALID_ARGS);
    /* Wrong type / bad handle. */
    EXPECT_STATUS(zx_process_read_memory(c.thread, c.data, buf, 8, &actual), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_process_read_memory(ZX_HANDLE_INVALID, c.data, buf, 8, &actual),
                  ZX_ERR_BAD_HANDLE);
    child_destroy(&c);
}

TEST(Process, ReadMemoryNeedsRights) {
    child_t c;
    ASSERT_OK(child_create(&c, code_spin, sizeof(code_spin)));
    zx_handle_t ro;
    ASSERT_OK(zx_handle_duplicate(c.proc, ZX_RIGHTS_BASIC | ZX_RIGHT_READ, &ro));
    char buf[8] = {0};
    size_t actual;
    EXPECT_STATUS(zx_process_write_memory(ro, c.data, buf, 8, &actual), ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_handle_close(ro));
    child_destroy(&c);
}

/*
 * One code page with three entry points for a multi-threaded child: a thread blocked in
 * zx_object_wait_one on its bootstrap handle (rdi), one asleep forever, one spinning.
 */
#define WAITER_OFF 0
#define SLEEPER_OFF 32
#define SPINNER_OFF 64
static const uint8_t code_waiter[] = {
    0xbe, 0, 0, 0, 1,                                       /* mov $USER_SIGNAL_0,%esi */
    0x48, 0xba, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, /* movabs $INT64_MAX,%rdx */
    0x45, 0x31, 0xd2,                                       /* xor %r10d,%r10d */
    0xb8, ZX_SYS_OBJECT_WAIT_ONE, 0, 0, 0,                  /* mov $WAIT_ONE,%eax */
    0x0f, 0x05,                                             /* syscall */
    0xeb, 0xfe,                                             /* jmp . */
};

/* A process killed while its threads wait: every thread ends (whatever it was blocked
 * in), the process reports SYSCALL_KILL, and what it held is released (its channel end
 * closes; userboot's free-page check covers the rest). */
TEST(Process, KillWhileThreadsWait) {
    uint8_t code[96];
    memset(code, 0xcc, sizeof(code));
    memcpy(code + WAITER_OFF, code_waiter, sizeof(code_waiter));
    memcpy(code + SLEEPER_OFF, code_sleep_forever, sizeof(code_sleep_forever));
    memcpy(code + SPINNER_OFF, code_spin, sizeof(code_spin));
    child_t c;
    ASSERT_OK(child_create(&c, code, sizeof(code)));
    zx_handle_t mine, theirs;
    ASSERT_OK(zx_channel_create(0, &mine, &theirs));
    zx_handle_t t2, t3;
    ASSERT_OK(zx_thread_create(c.proc, "sleeper", 7, 0, &t2));
    ASSERT_OK(zx_thread_create(c.proc, "spinner", 7, 0, &t3));
    ASSERT_OK(zx_process_start(c.proc, c.thread, c.code + WAITER_OFF, c.data + PAGE, theirs, 0));
    ASSERT_OK(zx_thread_start(t2, c.code + SLEEPER_OFF, c.data + PAGE, 0, 0));
    ASSERT_OK(zx_thread_start(t3, c.code + SPINNER_OFF, c.data + PAGE, 0, 0));

    /* Until both blockers have blocked (bounded: 1 s). */
    zx_info_thread_t i1, i2;
    for (int i = 0; i < 500; i++) {
        zx_nanosleep(zx_deadline_after(2000000));
        ASSERT_OK(zx_object_get_info(c.thread, ZX_INFO_THREAD, &i1, sizeof(i1), NULL, NULL));
        ASSERT_OK(zx_object_get_info(t2, ZX_INFO_THREAD, &i2, sizeof(i2), NULL, NULL));
        if (i1.state != ZX_THREAD_STATE_RUNNING && i2.state != ZX_THREAD_STATE_RUNNING)
            break;
    }
    EXPECT_EQ(i1.state, ZX_THREAD_STATE_BLOCKED_WAIT_ONE);
    EXPECT_EQ(i2.state, ZX_THREAD_STATE_BLOCKED_SLEEPING);
    EXPECT_STATUS(zx_object_wait_one(mine, ZX_CHANNEL_PEER_CLOSED, 0, NULL), ZX_ERR_TIMED_OUT);

    EXPECT_OK(zx_task_kill(c.proc));
    EXPECT_OK(zx_object_wait_one(c.proc, ZX_PROCESS_TERMINATED, zx_deadline_after(10 * TU_SEC),
                                 NULL));
    zx_handle_t threads[3] = {c.thread, t2, t3};
    for (int i = 0; i < 3; i++) {
        EXPECT_OK(zx_object_wait_one(threads[i], ZX_THREAD_TERMINATED,
                                     zx_deadline_after(10 * TU_SEC), NULL));
        zx_info_thread_t ti;
        EXPECT_OK(zx_object_get_info(threads[i], ZX_INFO_THREAD, &ti, sizeof(ti), NULL, NULL));
        EXPECT_EQ(ti.state, ZX_THREAD_STATE_DEAD);
    }
    zx_info_process_t pi;
    EXPECT_OK(tu_process_info(c.proc, &pi));
    EXPECT_EQ(pi.return_code, ZX_TASK_RETCODE_SYSCALL_KILL);
    EXPECT_OK(zx_object_wait_one(mine, ZX_CHANNEL_PEER_CLOSED, zx_deadline_after(10 * TU_SEC),
                                 NULL));
    zx_handle_close(t2);
    zx_handle_close(t3);
    zx_handle_close(mine);
    child_destroy(&c);
}
