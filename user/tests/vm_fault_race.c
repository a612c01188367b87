/*
 * Page faults of two threads racing each other: the kernel must resolve each fault at the
 * address of the thread that took it. One thread write-faults fresh pages of a read-write
 * mapping while another read-faults fresh pages of a read-only mapping, each decommitting
 * its VMO and starting over. If a fault handler read the fault address (CR2) only after
 * interrupts were back on, a preemption in between would let the other thread's fault
 * overwrite it, and a write would be resolved at the read-only address: the process
 * would die with ZX_TASK_RETCODE_EXCEPTION_KILL. The race runs in a death-test child for
 * a fixed time and must end with the child's own exit code. (Against a kernel with the
 * bug, the child died within 40-120 ms of racing in most boots, and in the others not at
 * all even in 8 s: whether the timer ever preempts the writer in the window depends on
 * how the two threads' faults interleave. Half a second is enough to tell.)
 */
#include <stdio.h>
#include "vm_util.h"

#define RACE_PAGES 32u
#define RACE_TIME (500 * TU_MS)
#define RACE_SURVIVED 0x5c   /* the child's exit code when both threads ran to the end */
#define RACE_NO_PROGRESS 0x5d /* a thread could not be joined or made too few rounds */
#define RACE_SETUP_FAILED 0x5e
#define RACE_MIN_ROUNDS 4u

typedef struct racer {
    zx_handle_t vmo;
    zx_vaddr_t base;
    bool write;
    zx_time_t deadline;
    volatile uint64_t rounds;
    volatile bool failed; /* a decommit failed */
} racer_t;

/* Touches every page once (each access faults), then decommits; until the deadline, and
 * at least RACE_MIN_ROUNDS times whatever the clock says (the clock runs on while the
 * host deschedules the emulator, so a deadline alone can leave a thread no rounds). */
static void racer_fn(uintptr_t arg, uintptr_t unused) {
    (void)unused;
    racer_t *r = (racer_t *)arg;
    while (r->rounds < RACE_MIN_ROUNDS || zx_clock_get_monotonic() < r->deadline) {
        for (size_t i = 0; i < RACE_PAGES; i++) {
            zx_vaddr_t a = r->base + i * PAGE + (i % 8) * 8;
            if (r->write)
                wr64(a, i);
            else
                (void)rd64(a);
        }
        if (zx_vmo_op_range(r->vmo, ZX_VMO_OP_DECOMMIT, 0, RACE_PAGES * PAGE, NULL, 0) != ZX_OK)
            r->failed = true;
        r->rounds = r->rounds + 1;
    }
    zx_thread_exit();
}

/* The death-child body: both racers to the end; exits with RACE_SURVIVED if all went well. */
static void race_writer_against_reader(void) {
    static racer_t rs[2];
    static tu_thread_t ts[2];
    zx_time_t deadline = zx_deadline_after(RACE_TIME);
    for (int i = 0; i < 2; i++) {
        rs[i].write = i == 0;
        rs[i].deadline = deadline;
        if (zx_vmo_create(RACE_PAGES * PAGE, 0, &rs[i].vmo) != ZX_OK)
            zx_process_exit(RACE_SETUP_FAILED);
        rs[i].base = map(rs[i].vmo, rs[i].write ? RW : ZX_VM_PERM_READ, RACE_PAGES * PAGE);
        if (!rs[i].base)
            zx_process_exit(RACE_SETUP_FAILED);
    }
    for (int i = 0; i < 2; i++)
        if (tu_thread_create(&ts[i]) != ZX_OK ||
            tu_thread_start(&ts[i], racer_fn, (uintptr_t)&rs[i], 0) != ZX_OK)
            zx_process_exit(RACE_SETUP_FAILED);
    for (int i = 0; i < 2; i++)
        if (tu_thread_join(&ts[i], 100 * TU_SEC) != ZX_OK) /* the death test ends sooner */
            zx_process_exit(RACE_NO_PROGRESS);
    for (int i = 0; i < 2; i++) {
        printf("vm_fault_race: %s thread made %lu rounds of %u faults\n",
               rs[i].write ? "writer" : "reader", (unsigned long)rs[i].rounds, RACE_PAGES);
        if (rs[i].failed)
            zx_process_exit(RACE_SETUP_FAILED);
        if (rs[i].rounds < RACE_MIN_ROUNDS)
            zx_process_exit(RACE_NO_PROGRESS);
    }
    zx_process_exit(RACE_SURVIVED);
}

TEST(VmFaultRace, EachThreadsFaultIsResolvedAtItsOwnAddress) {
    EXPECT_DEATH(race_writer_against_reader(), RACE_SURVIVED);
}
