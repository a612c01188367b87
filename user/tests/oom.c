/*
 * Out of memory: one process commits every free page of the machine, and then the kernel
 * must keep working. Every syscall that needs memory fails with its documented status
 * (ZX_ERR_NO_MEMORY, or a fault that kills the faulting process), nothing panics, and once
 * the hog lets go the memory is all back (userboot's leak check) and everything works
 * again.
 *
 * The hog is always a child process (the framework's death-test child), so that what the
 * test itself needs (its stack, heap, the framework's report) was committed before memory
 * ran out and the exhaustion ends, whatever happens, when the child does.
 */
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdlib.h>

#include "oom_util.h"

/* The death child's exit codes: what it checked went as expected / did not. */
#define OOM_OK 0x40
#define OOM_BAD 0x41

/* The status of a call made with no memory left: OK (some callers find a free page or
 * heap slot left over) or NO_MEMORY; anything else is a bug. */
static bool ok_or_no_memory(zx_status_t st) { return st == ZX_OK || st == ZX_ERR_NO_MEMORY; }

/* Death-child body: with memory gone, every kind of allocation fails cleanly. */
static void syscalls_without_memory(void) {
    zx_handle_t hog = oom_exhaust_memory();
    if (hog == ZX_HANDLE_INVALID || tu_kmem_free(beryl_resource()) >= 16 * TU_PAGE)
        zx_process_exit(OOM_BAD);
    bool good = true;
    zx_handle_t h, h2;
    zx_vaddr_t a;
    /* Paged VMOs cost a heap object; committing needs pages. */
    zx_status_t st = zx_vmo_create(64 * TU_PAGE, 0, &h);
    good &= ok_or_no_memory(st);
    if (st == ZX_OK) {
        good &= zx_vmo_op_range(h, ZX_VMO_OP_COMMIT, 0, 64 * TU_PAGE, NULL, 0) ==
                ZX_ERR_NO_MEMORY;
        char buf[64] = {1};
        good &= ok_or_no_memory(zx_vmo_write(h, buf, 0, sizeof(buf)));
        zx_handle_close(h);
    }
    /* Channels and big messages. */
    st = zx_channel_create(0, &h, &h2);
    good &= ok_or_no_memory(st);
    if (st == ZX_OK) {
        static char msg[ZX_CHANNEL_MAX_MSG_BYTES];
        for (int i = 0; i < 64; i++) {
            zx_status_t w = zx_channel_write(h, 0, msg, sizeof(msg), NULL, 0);
            good &= ok_or_no_memory(w);
            if (w != ZX_OK)
                break;
        }
        zx_handle_close(h);
        zx_handle_close(h2);
    }
    /* Processes and threads. */
    zx_handle_t p, vmar;
    st = zx_process_create(zx_job_default(), "oom-child", 9, 0, &p, &vmar);
    good &= ok_or_no_memory(st);
    if (st == ZX_OK) {
        zx_handle_close(vmar);
        zx_handle_close(p);
    }
    st = zx_thread_create(zx_process_self(), "oom-thread", 10, 0, &h);
    good &= ok_or_no_memory(st);
    if (st == ZX_OK)
        zx_handle_close(h);
    /* Handles: the table needs a new chunk every 64. */
    for (int i = 0; i < 256; i++) {
        st = zx_handle_duplicate(hog, ZX_RIGHT_SAME_RIGHTS, &h);
        good &= ok_or_no_memory(st);
        if (st != ZX_OK)
            break;
    }
    /* VMARs and mappings. */
    st = zx_vmar_allocate(zx_vmar_root_self(), ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE, 0,
                          1 << 20, &h, &a);
    good &= ok_or_no_memory(st);
    if (st == ZX_OK) {
        zx_vmar_destroy(h);
        zx_handle_close(h);
    }
    /* Mapping the hog itself costs page tables only at fault time. */
    st = zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_MAP_RANGE, 0, hog, 0,
                     16 << 20, &a);
    good &= ok_or_no_memory(st);
    zx_process_exit(good ? OOM_OK : OOM_BAD);
}

TEST(Oom, EverySyscallFailsCleanlyWithNoMemoryLeft) {
    EXPECT_DEATH(syscalls_without_memory(), OOM_OK);
}

/* Death-child body: a write fault on a fresh page with no page left kills the process
 * (ZX_TASK_RETCODE_EXCEPTION_KILL), it does not hang or panic. */
static void fault_without_memory(void) {
    zx_handle_t vmo;
    zx_vaddr_t a;
    if (zx_vmo_create(64 * TU_PAGE, 0, &vmo) != ZX_OK ||
        zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0,
                    64 * TU_PAGE, &a) != ZX_OK)
        zx_process_exit(OOM_BAD);
    if (oom_exhaust_memory() == ZX_HANDLE_INVALID)
        zx_process_exit(OOM_BAD);
    for (size_t i = 0; i < 64; i++)
        *(volatile uint8_t *)(a + i * TU_PAGE) = 1; /* some page has no memory behind it */
    zx_process_exit(OOM_BAD);
}

TEST(Oom, AFaultWithNoMemoryLeftKillsTheFaultingProcess) {
    EXPECT_DEATH(fault_without_memory(), ZX_TASK_RETCODE_EXCEPTION_KILL);
}

TEST(Oom, EverythingWorksAgainAfterwards) {
    /* The hogs above are gone: a big commit and a process launch work again. */
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(16 << 20, 0, &vmo));
    EXPECT_OK(zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, 0, 16 << 20, NULL, 0));
    zx_handle_close(vmo);
    EXPECT_DEATH(zx_process_exit(OOM_OK), OOM_OK);
}
