/*
 * No stale translation survives a VM call (issue 16's tests on emulated CPUs). A spinner
 * pinned to one CPU reads and writes one page through its mapping A in a loop (each round
 * checks that the read shows its own last write, then writes the next sequence number and
 * publishes it as its progress), while the operation runs on another CPU:
 *
 * - unmap A, protect A to read-only, or shrink the VMO under A to 0: the spinner's next
 *   access must fault;
 * - decommit the page: the spinner must read zero once and then write into the VMO's new
 *   page;
 * - map another VMO over A (ZX_VM_SPECIFIC_OVERWRITE): the spinner must read that VMO's
 *   marker once and then write into its page.
 *
 * The check cannot pass by luck. Right after the call returns, the caller snapshots the
 * spinner's progress P and the old page's contents (zx_vmo_read: a view through the
 * physmap that no translation of A affects). A write that landed through the old
 * translation after that changes the old page; a completed access moves the progress
 * past P + 1 (the one access the spinner may have completed before the invalidation but
 * not yet published). For the fault cases the spinner's process must die of the fault
 * (ZX_TASK_RETCODE_EXCEPTION_KILL) with its progress at most P + 1 and the old page
 * unchanged; for decommit and replace, once the progress reaches P + 3 the VMO's current
 * page (the new one) must hold at least P + 3.
 *
 * Who runs the operation (each a case per operation):
 * - Thread: another thread of the spinner's process (its aspace is active on both CPUs);
 * - Process: this test's process on the spinner process's VMAR or VMO (the spinner's
 *   aspace is not active on the caller's CPU);
 * - Member: another member of the spinner's shared-process family, on the shared region
 *   (two unified aspaces over one shared aspace);
 * - Unified: this test's process, on the restricted (private) region of a shared-process
 *   member whose thread spins there in normal mode (its unified aspace is live on the
 *   spinner's CPU; the change is in the restricted aspace under it);
 * - Restricted: this test's process, on the restricted region of a shared-process member
 *   whose thread spins in restricted mode (a fault there comes back to normal mode as a
 *   ZX_RESTRICTED_REASON_EXCEPTION exit with the address, which the member reports).
 *
 * Every spinner and caller is this program run again: `smp_tlb --spin ...` (a C loop),
 * `--rspin ...` (machine code in restricted mode) and `--op ...` (a family member that
 * runs the operation). They talk through a status page (tlb_status_t) that every process
 * involved maps. Each case runs TLB_ROUNDS_PER_CPU rounds per CPU, moving the spinner
 * over every CPU and the caller to the next one. With fewer than two CPUs every case
 * prints `smp: <case>: skipped, ...` and checks nothing.
 */
#include <beryl/launch.h>
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/processargs.h>
#include <zircon/syscalls-next.h>
#include "family_util.h"
#include "smp_util.h"

#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)
/* Rounds of each case per CPU that runs threads (spinner on CPU r % n). */
#define TLB_ROUNDS_PER_CPU 2u
/* What the data page holds before the spinner starts (its first read must show it). */
#define TLB_INITIAL 1000u
/* What the replacement VMO holds: no sequence number the spinner can reach. */
#define TLB_MARKER 0x8badf00d00000000ull
/* Progress beyond the snapshot after which decommit and replace check the new page: the
 * access in flight at the snapshot, the one that saw the new page, and one more. */
#define TLB_SETTLE 3u
/* The return codes of the children when their own setup failed or the restricted spinner
 * came back from restricted mode (with the reason in the status page). */
#define TLB_CHILD_SETUP_FAILED 77
#define TLB_RSPIN_RETURNED 78
/* The op member's return code once it ran the operation. */
#define TLB_OP_DONE 0

/* The page every process of a round maps: the spinner's progress, the caller's
 * snapshot. */
typedef struct {
    volatile uint64_t progress;   /* spinner: last sequence number written through A */
    volatile uint64_t mismatches; /* spinner: reads through A that did not show it */
    volatile uint64_t seen;       /* spinner: the value the last such read showed */
    volatile uint64_t snap_progress; /* caller: progress right after the call returned */
    volatile uint64_t snap_value;    /* caller: the old page's word 0 just after */
    volatile uint64_t rreason;       /* restricted spinner: zx_restricted_enter's return */
    volatile uint64_t rfault_addr;   /* restricted spinner: cr2 of the exception exit */
    volatile uint32_t ready;      /* spinner: pinned and running (atomic) */
    volatile uint32_t wrong_cpu;  /* spinner or caller: not where it was pinned */
    volatile uint32_t go;         /* test -> caller in the spinner's family or process */
    volatile uint32_t done;       /* caller: the call returned, snapshot taken (atomic) */
    volatile int32_t op_status;   /* caller: the call's status */
} tlb_status_t;

typedef enum { OP_UNMAP, OP_PROTECT, OP_SHRINK, OP_DECOMMIT, OP_REPLACE } tlb_op_t;
typedef enum { BY_THREAD, BY_PROCESS, BY_MEMBER, BY_UNIFIED, BY_RESTRICTED } tlb_by_t;

static const char *const op_names[] = {"unmap", "protect", "shrink", "decommit", "replace"};
static const char *const by_names[] = {"thread", "process", "member", "unified",
                                       "restricted"};

/* True for the operations after which the spinner's next access must fault. */
static bool op_faults(tlb_op_t op) {
    return op == OP_UNMAP || op == OP_PROTECT || op == OP_SHRINK;
}

/* ---- the caller's side (any process) ------------------------------------------------- */

/* Runs `op` on the page mapped at `a` in `vmar` (data VMO v, replacement w); its status. */
static zx_status_t op_run(tlb_op_t op, zx_handle_t vmar, zx_vaddr_t a, zx_handle_t v,
                          zx_handle_t w) {
    switch (op) {
    case OP_UNMAP:
        return zx_vmar_unmap(vmar, a, TU_PAGE);
    case OP_PROTECT:
        return zx_vmar_protect(vmar, ZX_VM_PERM_READ, a, TU_PAGE);
    case OP_SHRINK:
        return zx_vmo_set_size(v, 0);
    case OP_DECOMMIT:
        return zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, TU_PAGE, NULL, 0);
    case OP_REPLACE: {
        zx_vaddr_t out;
        zx_info_vmar_t vi = tu_vmar_info(vmar);
        return zx_vmar_map(vmar, RW | ZX_VM_SPECIFIC_OVERWRITE, a - vi.base, w, 0, TU_PAGE,
                           &out);
    }
    }
    return ZX_ERR_INVALID_ARGS;
}

/* Runs op and, the moment it returns, records the spinner's progress and the old page's
 * word 0 (read through the VMO, not through any mapping), then sets done. */
static void op_and_snapshot(tlb_status_t *s, tlb_op_t op, zx_handle_t vmar, zx_vaddr_t a,
                            zx_handle_t v, zx_handle_t w) {
    zx_status_t st = op_run(op, vmar, a, v, w);
    uint64_t p = s->progress, val = 0;
    if (op != OP_SHRINK && op != OP_DECOMMIT)
        zx_vmo_read(v, &val, 0, sizeof(val));
    s->snap_progress = p;
    s->snap_value = val;
    s->op_status = st;
    __atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
}

/* Waits (SMP_DEADLINE_NS) for s->go; false if it never came. */
static bool wait_go(const tlb_status_t *s) {
    zx_time_t deadline = zx_deadline_after(SMP_DEADLINE_NS);
    while (!__atomic_load_n(&s->go, __ATOMIC_ACQUIRE)) {
        if (zx_clock_get_monotonic() > deadline)
            return false;
        zx_nanosleep(zx_deadline_after(SMP_POLL_NS));
    }
    return true;
}

/* Pins the calling thread (handle `self`) to cpu and checks it got there (after a short
 * sleep, so the move has happened); counts a miss in s->wrong_cpu. */
static void pin_and_check(zx_handle_t resource, zx_handle_t self, uint32_t cpu,
                          tlb_status_t *s) {
    if (smp_pin(resource, self, cpu) != ZX_OK)
        s->wrong_cpu++;
    zx_nanosleep(zx_deadline_after(SMP_POLL_NS));
    if (smp_last_cpu(self) != cpu)
        s->wrong_cpu++;
}

/* ---- the children --------------------------------------------------------------------- */

/* What the children get on their command line after the mode. */
typedef struct {
    zx_vaddr_t a;      /* the data page's address */
    tlb_status_t *s;   /* the status page */
    uint32_t cpu;      /* where the spinner (or op member) is pinned */
    tlb_op_t op;       /* --spin with an op thread, --op */
    uint32_t op_cpu;   /* --spin with an op thread: where it is pinned */
    bool with_op;
    bool reader;       /* --read: the read-only spinner */
} child_args_t;

/* The spinner loop: never returns (a fault or a kill ends the process). */
static __attribute__((noreturn)) void spin_loop(volatile uint64_t *a, tlb_status_t *s) {
    uint64_t last = *a;
    for (;;) {
        uint64_t v = *a;
        if (v != last) {
            s->seen = v;
            s->mismatches++;
        }
        last++;
        *a = last;
        s->progress = last;
    }
}

/* The read-only spinner: reads A and publishes the value and a count of reads, forever. */
static __attribute__((noreturn)) void read_loop(volatile uint64_t *a, tlb_status_t *s) {
    for (uint64_t n = TLB_INITIAL;;) {
        s->seen = *a;
        s->progress = ++n;
    }
}

static child_args_t g_args;
static zx_handle_t g_resource, g_v, g_w;

/* The op thread of a --spin child with an operation: pins itself, waits for go, runs it on
 * the process's own root VMAR. */
static void op_thread(uintptr_t self, uintptr_t unused) {
    (void)unused;
    pin_and_check(g_resource, (zx_handle_t)self, g_args.op_cpu, g_args.s);
    if (wait_go(g_args.s))
        op_and_snapshot(g_args.s, g_args.op, zx_vmar_root_self(), g_args.a, g_v, g_w);
    zx_thread_exit();
}

/* `--spin A S CPU [OP OPCPU]`: handles resource [, V, W]. Pins the main thread to CPU,
 * starts the op thread if asked, and spins on A. */
static int spin_child(void) {
    child_args_t *c = &g_args;
    g_resource = beryl_take_startup_handle(PA_HND(PA_USER0, 0));
    if (c->with_op) {
        g_v = beryl_take_startup_handle(PA_HND(PA_USER0, 1));
        g_w = beryl_take_startup_handle(PA_HND(PA_USER0, 2));
        static tu_thread_t t;
        if (tu_thread_create(&t) != ZX_OK ||
            tu_thread_start(&t, op_thread, (uintptr_t)t.thread, 0) != ZX_OK)
            return TLB_CHILD_SETUP_FAILED;
    }
    pin_and_check(g_resource, zx_thread_self(), c->cpu, c->s);
    __atomic_store_n(&c->s->ready, 1, __ATOMIC_RELEASE);
    if (c->reader)
        read_loop((volatile uint64_t *)c->a, c->s);
    spin_loop((volatile uint64_t *)c->a, c->s);
}

/* `--op A S CPU OP`: a family member that runs the operation on the shared region;
 * handles resource, V, W, the shared VMAR. */
static int op_member(void) {
    child_args_t *c = &g_args;
    zx_handle_t resource = beryl_take_startup_handle(PA_HND(PA_USER0, 0));
    zx_handle_t v = beryl_take_startup_handle(PA_HND(PA_USER0, 1));
    zx_handle_t w = beryl_take_startup_handle(PA_HND(PA_USER0, 2));
    zx_handle_t shared = beryl_take_startup_handle(PA_HND(PA_USER0, 3));
    pin_and_check(resource, zx_thread_self(), c->cpu, c->s);
    if (!wait_go(c->s))
        return TLB_CHILD_SETUP_FAILED;
    op_and_snapshot(c->s, c->op, shared, c->a, v, w);
    return TLB_OP_DONE;
}

/* Restricted code: rdi = A, rsi = &progress, rbx = the page's value. Reads A, writes the
 * next number to A, publishes it, forever (an exception exit ends it). */
static const uint8_t rspin_code[] = {
    0x48, 0x8b, 0x07, /* 1: mov (%rdi),%rax */
    0x48, 0xff, 0xc3, /*    inc %rbx */
    0x48, 0x89, 0x1f, /*    mov %rbx,(%rdi) */
    0x48, 0x89, 0x1e, /*    mov %rbx,(%rsi) */
    0xeb, 0xf2,       /*    jmp 1b */
};

/* The vector: returns from zx_restricted_enter's stub (the normal-mode registers of the
 * enter call are restored, so a bare `ret` resumes the caller; the reason is in rax). */
extern char smp_tlb_vector[];
__asm__(".text\n"
        ".globl smp_tlb_vector\n"
        "smp_tlb_vector:\n"
        "    ret\n");

/* `--rspin A S CPU`, a shared-process member: handle resource. Spins on A in restricted
 * mode; when that ends, records the reason and the fault address in the status page and
 * returns TLB_RSPIN_RETURNED. */
static int rspin_member(void) {
    child_args_t *c = &g_args;
    zx_handle_t resource = beryl_take_startup_handle(PA_HND(PA_USER0, 0));
    zx_handle_t state;
    if (zx_restricted_bind_state(0, &state) != ZX_OK)
        return TLB_CHILD_SETUP_FAILED;
    zx_vaddr_t code = tu_map_code(rspin_code, sizeof(rspin_code));
    if (code == 0)
        return TLB_CHILD_SETUP_FAILED;
    pin_and_check(resource, zx_thread_self(), c->cpu, c->s);
    zx_restricted_state_t st;
    memset(&st, 0, sizeof(st));
    st.ip = code;
    st.flags = 0x202; /* IF, and the always-one bit */
    st.rdi = c->a;
    st.rsi = (uintptr_t)&c->s->progress;
    st.rbx = *(volatile uint64_t *)c->a;
    if (zx_vmo_write(state, &st, 0, sizeof(st)) != ZX_OK)
        return TLB_CHILD_SETUP_FAILED;
    __atomic_store_n(&c->s->ready, 1, __ATOMIC_RELEASE);
    int64_t r = zx_restricted_enter(0, (uintptr_t)smp_tlb_vector, 0);
    zx_restricted_exception_t exc;
    memset(&exc, 0, sizeof(exc));
    zx_vmo_read(state, &exc, 0, sizeof(exc));
    c->s->rfault_addr = exc.exception.context.arch.u.x86_64.cr2;
    c->s->rreason = (uint64_t)r;
    return TLB_RSPIN_RETURNED;
}

int main(int argc, char **argv) {
    bool reader = argc >= 2 && strcmp(argv[1], "--read") == 0;
    if (argc >= 5 && (strcmp(argv[1], "--spin") == 0 || strcmp(argv[1], "--op") == 0 ||
                      strcmp(argv[1], "--rspin") == 0 || reader)) {
        g_args.reader = reader;
        g_args.a = strtoul(argv[2], NULL, 16);
        g_args.s = (tlb_status_t *)(uintptr_t)strtoul(argv[3], NULL, 16);
        g_args.cpu = (uint32_t)strtoul(argv[4], NULL, 10);
        if (argc >= 6)
            g_args.op = (tlb_op_t)strtoul(argv[5], NULL, 10);
        if (argc >= 7) {
            g_args.op_cpu = (uint32_t)strtoul(argv[6], NULL, 10);
            g_args.with_op = true;
        }
        if (strcmp(argv[1], "--spin") == 0 || reader)
            return spin_child();
        if (strcmp(argv[1], "--op") == 0)
            return op_member();
        return rspin_member();
    }
    return beryl_test_run_all(argc, argv);
}

/* ---- the test's side ---------------------------------------------------------------- */

/* One round's objects. */
typedef struct {
    tlb_by_t by;
    tlb_op_t op;
    bool reader;             /* the spinner only reads (--read) */
    uint32_t spin_cpu, op_cpu;
    zx_handle_t v, w, svmo;  /* data, replacement, status VMOs */
    tlb_status_t *s;         /* the status page in this process */
    zx_handle_t proc, vmar;  /* ordinary spinner process (thread, process) */
    family_t fam;            /* member, unified, restricted: spinner member 0, op member 1 */
    zx_handle_t spinner;     /* the spinner's process (borrowed from proc or fam) */
    zx_handle_t target_vmar; /* where A is mapped (borrowed) */
    zx_vaddr_t a, sa;        /* A and the status page in the spinner's process */
    char what[64];           /* "by/op, spinner CPU s, caller CPU o" */
} round_t;

/* True once the process has terminated. */
static bool proc_ended(zx_handle_t proc) {
    zx_signals_t seen = 0;
    zx_object_wait_one(proc, ZX_TASK_TERMINATED, 0, &seen);
    return (seen & ZX_TASK_TERMINATED) != 0;
}

/* A duplicate of h with the same rights (ZX_HANDLE_INVALID if that fails, which the
 * launch taking it then reports). */
static zx_handle_t dup(zx_handle_t h) {
    zx_handle_t d = ZX_HANDLE_INVALID;
    zx_handle_duplicate(h, ZX_RIGHT_SAME_RIGHTS, &d);
    return d;
}

/* Starts `prog --MODE A S CPU [OP [OPCPU]]` in proc (root VMAR vmar) with handles. */
static zx_status_t start_child(zx_handle_t proc, zx_handle_t vmar, const char *mode,
                               const round_t *r, uint32_t cpu, int nargs, zx_handle_t *h,
                               uint32_t nh) {
    char a[24], s[24], c[12], op[12], oc[12];
    snprintf(a, sizeof(a), "%lx", (unsigned long)r->a);
    snprintf(s, sizeof(s), "%lx", (unsigned long)r->sa);
    snprintf(c, sizeof(c), "%u", cpu);
    snprintf(op, sizeof(op), "%u", (unsigned)r->op);
    snprintf(oc, sizeof(oc), "%u", r->op_cpu);
    const char *argv[] = {"smp_tlb", mode, a, s, c, op, oc};
    return tu_launch_self_into(proc, vmar, "smp_tlb-child", 5 + nargs, argv, h, nh);
}

/* In round_setup: a failing call fails the case (its status printed) and the setup. */
#define SETUP(call)                                                                    \
    do {                                                                               \
        zx_status_t setup_st_ = (call);                                                \
        EXPECT_OK(setup_st_);                                                          \
        if (setup_st_ != ZX_OK)                                                        \
            return false;                                                              \
    } while (0)

/* Creates the round's VMOs, the spinner's process (and the op member) with A and the
 * status page mapped, and starts them. false (after failing the case) on any error. */
static bool round_setup(round_t *r) {
    uint64_t init = TLB_INITIAL, marker = TLB_MARKER;
    SETUP(zx_vmo_create(TU_PAGE, ZX_VMO_RESIZABLE, &r->v));
    SETUP(zx_vmo_write(r->v, &init, 0, sizeof(init)));
    SETUP(zx_vmo_create(TU_PAGE, 0, &r->w));
    SETUP(zx_vmo_write(r->w, &marker, 0, sizeof(marker)));
    SETUP(zx_vmo_create(TU_PAGE, 0, &r->svmo));
    zx_vaddr_t mine;
    SETUP(zx_vmar_map(zx_vmar_root_self(), RW, 0, r->svmo, 0, TU_PAGE, &mine));
    r->s = (tlb_status_t *)mine;
    if (r->by == BY_THREAD || r->by == BY_PROCESS) {
        SETUP(zx_process_create(zx_job_default(), "smp_tlb-spin", 12, 0, &r->proc,
                                    &r->vmar));
        r->spinner = r->proc;
        r->target_vmar = r->vmar;
    } else {
        SETUP(family_create(&r->fam, r->by == BY_MEMBER ? 2 : 1));
        r->spinner = r->fam.proc[0];
        r->target_vmar = r->by == BY_MEMBER ? r->fam.shared_vmar : r->fam.rvmar[0];
        /* (BY_UNIFIED and BY_RESTRICTED: the member's restricted region) */
    }
    SETUP(zx_vmar_map(r->target_vmar, RW, 0, r->v, 0, TU_PAGE, &r->a));
    SETUP(zx_vmar_map(r->target_vmar, RW, 0, r->svmo, 0, TU_PAGE, &r->sa));
    zx_handle_t h[4] = {dup(beryl_resource()), dup(r->v), dup(r->w), ZX_HANDLE_INVALID};
    const char *spin = r->reader ? "--read" : "--spin";
    switch (r->by) {
    case BY_THREAD:
        SETUP(start_child(r->proc, r->vmar, spin, r, r->spin_cpu, 2, h, 3));
        break;
    case BY_PROCESS:
        zx_handle_close_many(&h[1], 2);
        SETUP(start_child(r->proc, r->vmar, spin, r, r->spin_cpu, 0, h, 1));
        break;
    case BY_MEMBER: {
        /* The caller first: a failed start consumes its handles. */
        h[3] = dup(r->fam.shared_vmar);
        SETUP(start_child(r->fam.proc[1], r->fam.rvmar[1], "--op", r, r->op_cpu, 1, h, 4));
        zx_handle_t r0 = dup(beryl_resource());
        SETUP(start_child(r->fam.proc[0], r->fam.rvmar[0], spin, r, r->spin_cpu, 0,
                          &r0, 1));
        break;
    }
    case BY_UNIFIED:
    case BY_RESTRICTED:
        zx_handle_close_many(&h[1], 2);
        SETUP(start_child(r->fam.proc[0], r->fam.rvmar[0],
                          r->by == BY_RESTRICTED ? "--rspin" : spin, r, r->spin_cpu, 0, h, 1));
        break;
    }
    return true;
}

/* Kills and closes everything the round made. */
static void round_teardown(round_t *r) {
    if (r->proc != ZX_HANDLE_INVALID)
        tu_task_kill_wait(r->proc);
    zx_handle_close(r->proc);
    zx_handle_close(r->vmar);
    family_destroy(&r->fam);
    zx_handle_close(r->v);
    zx_handle_close(r->w);
    zx_handle_close(r->svmo);
    if (r->s)
        zx_vmar_unmap(zx_vmar_root_self(), (zx_vaddr_t)r->s, TU_PAGE);
}

/* Waits until the spinner is ready and has moved its progress twice (it is running its
 * loop on its CPU); false after SMP_DEADLINE_NS. */
static bool wait_spinning(const round_t *r) {
    zx_time_t deadline = zx_deadline_after(SMP_DEADLINE_NS);
    uint64_t first = 0;
    int moves = 0;
    while (zx_clock_get_monotonic() < deadline && !proc_ended(r->spinner)) {
        if (__atomic_load_n(&r->s->ready, __ATOMIC_ACQUIRE)) {
            uint64_t p = r->s->progress;
            if (p > TLB_INITIAL && p != first) {
                first = p;
                if (++moves == 2)
                    return true;
            }
        }
        zx_nanosleep(zx_deadline_after(SMP_POLL_NS));
    }
    return false;
}

/* Waits until cond(r) or the spinner ended or SMP_DEADLINE_NS passed; returns cond. */
static bool wait_for(const round_t *r, bool (*cond)(const round_t *)) {
    zx_time_t deadline = zx_deadline_after(SMP_DEADLINE_NS);
    while (!cond(r) && !proc_ended(r->spinner) && zx_clock_get_monotonic() < deadline)
        zx_nanosleep(zx_deadline_after(SMP_POLL_NS));
    return cond(r);
}

/* The caller took its snapshot. */
static bool is_done(const round_t *r) { return __atomic_load_n(&r->s->done, __ATOMIC_ACQUIRE); }
/* A completed access through the old translation after the snapshot. */
static bool went_past(const round_t *r) {
    return is_done(r) && r->s->progress > r->s->snap_progress + 1;
}
/* The spinner went TLB_SETTLE past the snapshot (decommit and replace). */
static bool settled(const round_t *r) {
    return is_done(r) && r->s->progress >= r->s->snap_progress + TLB_SETTLE;
}

/* Prints the one line of a round that caught a stale access (tests of this test count
 * them). */
static void report_stale(const round_t *r, const char *how, uint64_t got, uint64_t want) {
    printf("smp_tlb: %s: STALE: %s (%llu, snapshot %llu)\n", r->what, how,
           (unsigned long long)got, (unsigned long long)want);
}

/* The checks after an unmap, protect or shrink: the spinner dies of the fault (or, in
 * restricted mode, comes back with an exception at A) with no access completed after the
 * snapshot and the old page unchanged. */
static void check_fault(round_t *r) {
    tlb_status_t *s = r->s;
    if (wait_for(r, went_past)) {
        report_stale(r, "the spinner went on after the call returned", s->progress,
                     s->snap_progress);
        EXPECT_FALSE(true);
        return;
    }
    int64_t rc = -9999;
    EXPECT_OK(beryl_wait_exit(r->spinner, zx_deadline_after(SMP_DEADLINE_NS), &rc));
    if (r->by == BY_MEMBER) /* the snapshot is final once the caller has ended */
        EXPECT_EQ(fam_wait(&r->fam, 1), TLB_OP_DONE);
    if (r->by == BY_RESTRICTED) {
        EXPECT_EQ(rc, TLB_RSPIN_RETURNED);
        EXPECT_EQ(s->rreason, (uint64_t)ZX_RESTRICTED_REASON_EXCEPTION);
        EXPECT_EQ(s->rfault_addr, r->a);
    } else {
        EXPECT_EQ(rc, ZX_TASK_RETCODE_EXCEPTION_KILL);
    }
    /* A thread of the dying process may be killed before it took the snapshot; only
     * then is there nothing more to compare. */
    if (!is_done(r)) {
        EXPECT_EQ(r->by, BY_THREAD);
        return;
    }
    EXPECT_OK(s->op_status);
    EXPECT_LE(s->progress, s->snap_progress + 1);
    if (r->op != OP_SHRINK && !r->reader) {
        uint64_t now = 0;
        EXPECT_OK(zx_vmo_read(r->v, &now, 0, sizeof(now)));
        if (now != s->snap_value)
            report_stale(r, "the old page changed after the call returned", now,
                         s->snap_value);
        EXPECT_EQ(now, s->snap_value);
    }
}

/* The checks after a decommit or replace: the spinner keeps running, and once it has
 * moved TLB_SETTLE past the snapshot the current page (V's new one, or W's) holds its
 * latest writes, or the reader's latest read shows the current page; after replace the
 * old page did not change. */
static void check_move(round_t *r) {
    tlb_status_t *s = r->s;
    bool ok = wait_for(r, settled);
    EXPECT_TRUE(ok);
    EXPECT_FALSE(proc_ended(r->spinner));
    if (!ok) {
        printf("smp_tlb: %s: the spinner did not go on: done %u, progress %llu\n", r->what,
               s->done, (unsigned long long)s->progress);
        return;
    }
    EXPECT_OK(s->op_status);
    uint64_t cur = 0, old = 0;
    EXPECT_OK(zx_vmo_read(r->op == OP_DECOMMIT ? r->v : r->w, &cur, 0, sizeof(cur)));
    if (r->op == OP_REPLACE)
        EXPECT_OK(zx_vmo_read(r->v, &old, 0, sizeof(old)));
    /* What a read through A shows now: zero after decommit, W's marker after replace.
     * The reader's latest read must show it; the writer may have written first (under
     * TCG an interrupt comes at the top of its loop, before the write), but if one of its
     * reads showed something other than its own last write, it was that. */
    uint64_t fresh = r->op == OP_DECOMMIT ? 0 : TLB_MARKER;
    bool stale = true;
    if (r->reader && s->seen != fresh)
        report_stale(r, "the reader still sees the old page", s->seen, s->snap_progress);
    else if (!r->reader && cur < s->snap_progress + TLB_SETTLE)
        report_stale(r, "the spinner's writes miss the new page", cur, s->snap_progress);
    else if (r->op == OP_REPLACE && old != s->snap_value)
        report_stale(r, "the old page changed after the call returned", old, s->snap_value);
    else
        stale = false;
    EXPECT_FALSE(stale);
    if (!r->reader && r->by != BY_RESTRICTED) {
        EXPECT_LE(s->mismatches, 1u);
        if (s->mismatches)
            EXPECT_EQ(s->seen, fresh);
    }
}

/* One round: the spinner on spin_cpu, the call from op_cpu. */
static void tlb_round(tlb_by_t by, tlb_op_t op, bool reader, uint32_t spin_cpu,
                      uint32_t op_cpu) {
    static round_t r;
    memset(&r, 0, sizeof(r));
    r.by = by;
    r.op = op;
    r.reader = reader;
    r.spin_cpu = spin_cpu;
    r.op_cpu = op_cpu;
    snprintf(r.what, sizeof(r.what), "%s/%s, %s CPU %u, caller CPU %u", by_names[by],
             op_names[op], reader ? "reader" : "spinner", spin_cpu, op_cpu);
    zx_handle_t self = zx_thread_self();
    /* This thread waits on the caller's CPU, never on the spinner's. */
    EXPECT_OK(smp_pin(beryl_resource(), self, op_cpu));
    if (round_setup(&r)) {
        bool spinning = wait_spinning(&r);
        EXPECT_TRUE(spinning);
        if (!spinning) {
            printf("smp_tlb: %s: the spinner did not start\n", r.what);
        } else {
            if (by == BY_PROCESS || by == BY_UNIFIED || by == BY_RESTRICTED)
                op_and_snapshot(r.s, op, r.target_vmar, r.a, r.v, r.w);
            else
                __atomic_store_n(&r.s->go, 1, __ATOMIC_RELEASE);
            if (op_faults(op))
                check_fault(&r);
            else
                check_move(&r);
            EXPECT_EQ(r.s->wrong_cpu, 0u);
            if (by == BY_MEMBER && !op_faults(op))
                EXPECT_EQ(fam_wait(&r.fam, 1), TLB_OP_DONE);
        }
    }
    round_teardown(&r);
    EXPECT_OK(tu_pin_mask(beryl_resource(), self, ~0ull));
}

/* TLB_ROUNDS_PER_CPU rounds per CPU: the spinner on each CPU in turn, the caller on the
 * next one, then the one after (so every distance between the two CPUs occurs). */
static void tlb_case(const char *name, tlb_by_t by, tlb_op_t op) {
    if (smp_skip(name))
        return;
    uint32_t n = smp_cpus();
    uint32_t rounds = TLB_ROUNDS_PER_CPU * n;
    for (uint32_t i = 0; i < rounds; i++) {
        /* Every other round the spinner only reads (not for protect, which reads allow;
         * the restricted spinner always writes). */
        bool reader = (i & 1) && op != OP_PROTECT && by != BY_RESTRICTED;
        tlb_round(by, op, reader, i % n, (i % n + 1 + (i / n) % (n - 1)) % n);
    }
    /* What a boot test expects to see when the case really ran. */
    printf("smp_tlb: %s: %u rounds on %u CPUs\n", name, rounds, n);
}

#define TLB_CASE(By, Op, by, op)                                         \
    TEST(SmpTlb, By##Op) { tlb_case("SmpTlb." #By #Op, by, op); }

TLB_CASE(Thread, Unmap, BY_THREAD, OP_UNMAP)
TLB_CASE(Thread, Protect, BY_THREAD, OP_PROTECT)
TLB_CASE(Thread, Shrink, BY_THREAD, OP_SHRINK)
TLB_CASE(Thread, Decommit, BY_THREAD, OP_DECOMMIT)
TLB_CASE(Thread, Replace, BY_THREAD, OP_REPLACE)
TLB_CASE(Process, Unmap, BY_PROCESS, OP_UNMAP)
TLB_CASE(Process, Protect, BY_PROCESS, OP_PROTECT)
TLB_CASE(Process, Shrink, BY_PROCESS, OP_SHRINK)
TLB_CASE(Process, Decommit, BY_PROCESS, OP_DECOMMIT)
TLB_CASE(Process, Replace, BY_PROCESS, OP_REPLACE)
TLB_CASE(Member, Unmap, BY_MEMBER, OP_UNMAP)
TLB_CASE(Member, Protect, BY_MEMBER, OP_PROTECT)
TLB_CASE(Member, Shrink, BY_MEMBER, OP_SHRINK)
TLB_CASE(Member, Decommit, BY_MEMBER, OP_DECOMMIT)
TLB_CASE(Member, Replace, BY_MEMBER, OP_REPLACE)
TLB_CASE(Unified, Unmap, BY_UNIFIED, OP_UNMAP)
TLB_CASE(Unified, Protect, BY_UNIFIED, OP_PROTECT)
TLB_CASE(Unified, Shrink, BY_UNIFIED, OP_SHRINK)
TLB_CASE(Unified, Decommit, BY_UNIFIED, OP_DECOMMIT)
TLB_CASE(Unified, Replace, BY_UNIFIED, OP_REPLACE)
TLB_CASE(Restricted, Unmap, BY_RESTRICTED, OP_UNMAP)
TLB_CASE(Restricted, Protect, BY_RESTRICTED, OP_PROTECT)
TLB_CASE(Restricted, Shrink, BY_RESTRICTED, OP_SHRINK)
TLB_CASE(Restricted, Decommit, BY_RESTRICTED, OP_DECOMMIT)
TLB_CASE(Restricted, Replace, BY_RESTRICTED, OP_REPLACE)
