/*
 * Tasks: jobs, processes and user threads, and the root resource (kernel/proc).
 *
 * Lifetimes:
 *  - A process lives while anything references it: handles, its user threads (each holds
 *    a reference), in-flight syscalls. Its *contents* (handle table, aspace) die earlier,
 *    in process_finish, when it is killed or its last thread exits: then it is DEAD and
 *    ZX_TASK_TERMINATED is asserted.
 *  - A user thread (uthread) embeds its scheduler thread_t. References: handles, the
 *    process's thread list (until the thread exits or is torn down unstarted) and the
 *    scheduler (from start until the stack is reaped, on_reaped).
 *
 * Locking (docs/architecture.md, "Locks"): the process lock, process->obj.lock, guards
 * the fields of struct process marked "process lock" below and, in each of its threads,
 * the uthread's state, kill_sent and proc_node. A thread's own lock, uthread->obj.lock,
 * guards its name and its restricted-mode binding. Fields under the gc lock carry
 * TA_GUARDED(gc_lock); clang cannot attach a per-object lock to a field in C
 * (<kernel/compiler.h>), so the others say it in comments. Order: process before uthread
 * (no path holds both today). Neither is held across handle_table_destroy /
 * vm_aspace_destroy.
 */
#ifndef PROC_PRIV_H
#define PROC_PRIV_H

#include <arch/user.h>
#include <kernel/thread.h>
#include <kernel/trap.h>
#include <lib/list.h>
#include <lib/string.h>
#include <object/gc.h>
#include <object/handle.h>
#include <object/process.h>
#include <vm/vmo.h>
#include <zircon/syscalls-next.h>
#include <zircon/types.h>

typedef struct uthread uthread_t;
typedef struct proc_shared proc_shared_t;

/* Address layout of shared processes (docs/syscalls.md, zx_process_create and
 * zx_process_create_shared): a create_shared process owns the restricted region; the
 * shared region is the family's; one page apart, so the two never share a PML4 entry. */
#define USER_RESTRICTED_BASE ((uintptr_t)0x200000u)
#define USER_RESTRICTED_TOP ((uintptr_t)0x400000000000ull)
#define USER_RESTRICTED_SIZE (USER_RESTRICTED_TOP - USER_RESTRICTED_BASE)
#define USER_SHARED_BASE ((uintptr_t)0x400000001000ull)
#define USER_SHARED_TOP ((uintptr_t)0x7ffffffff000ull)
#define USER_SHARED_SIZE (USER_SHARED_TOP - USER_SHARED_BASE)

/* Names of children whose count a process remembers for ASLR seeding (the most recent
 * ones, round robin). */
#define PROC_ASLR_NAME_SLOTS 16

enum process_state {
    PROCESS_INITIAL, /* created, no thread started */
    PROCESS_RUNNING, /* zx_process_start succeeded */
    PROCESS_DYING,   /* killed or exiting; threads are being stopped */
    PROCESS_DEAD,    /* handle table and aspace gone; TERMINATED asserted */
};

struct process {
    kobject_t obj; /* obj.lock is the process lock */
    /* Process lock: name, state, retcode, start_time, handles, aspace, restricted,
     * aslr_names, aslr_next_slot, threads, live_threads, finishing. The process's own
     * threads read handles, aspace and restricted without it: those change only in
     * process_finish, once no thread of the process runs. */
    char name[ZX_MAX_NAME_LEN];
    enum process_state state;
    int64_t retcode;
    zx_time_t start_time;
    handle_table_t *handles;  /* NULL once dead; a shared family's table is the family's */
    /* What the threads load in normal mode (NULL once dead): an ordinary process's own
     * aspace; for a ZX_PROCESS_SHARED prototype the family's shared aspace (a
     * reference); for a create_shared process its unified aspace. */
    vm_aspace_t *aspace;
    vm_aspace_t *restricted;  /* create_shared processes: the restricted region; else NULL */
    proc_shared_t *shared;    /* shared families: a reference (immutable); else NULL */
    bool restricted_owner;    /* created by zx_process_create_shared (immutable) */
    /* ASLR (<vm/vm_aslr.h>): this process's seed, which seeds the aspace it creates
     * (its own, a prototype's shared one, or a create_shared member's restricted one) and
     * its children's seeds (process_child_aslr_seed). */
    uint64_t aslr_seed;       /* immutable */
    struct proc_aslr_name {   /* process lock: children made per name */
        uint64_t hash;
        uint64_t made;        /* 0: free slot */
    } aslr_names[PROC_ASLR_NAME_SLOTS];
    uint32_t aslr_next_slot;  /* process lock: slot the next new name takes */
    kobject_t *job;           /* a reference */
    struct list_node threads; /* uthreads not yet exited */
    uint32_t live_threads;    /* started and not yet exited */
    bool finishing;           /* process_finish has begun */
    /* Shared family members only (process_shared.c): the collector's node (its one
     * child is the family), and, under the gc lock, whether the member counts among the
     * family's holders (until its last handle goes) and among its running members (from
     * a successful start until it finishes). */
    gc_node_t gc;
    bool gc_holder TA_GUARDED(gc_lock);
    bool gc_started TA_GUARDED(gc_lock);
    /* proc_registry.c: the process's node in the registry (its lock); self-linked when
     * not registered. */
    struct list_node registry_node;
};

enum uthread_state { UTHREAD_INITIAL, UTHREAD_RUNNING, UTHREAD_DEAD };

struct uthread {
    kobject_t obj;
    thread_t thread;
    process_t *proc;          /* a reference */
    enum uthread_state state; /* proc's process lock */
    char name[ZX_MAX_NAME_LEN]; /* obj.lock */
    struct list_node proc_node; /* in proc->threads (process lock) */
    uintptr_t entry, stack, arg1, arg2;
    uint32_t block_reason;    /* ZX_THREAD_STATE_BLOCKED_* while in a blocking syscall */
    bool kill_sent;           /* process_kill has asked it to die (process lock) */
    /* The user FS / GS bases of the mode it runs in live in thread.arch (<arch/user.h>).
     * Extended state (<arch/fpu.h>): the area named in thread.arch, inside the heap block
     * fpu_block; one state for normal and restricted mode alike (Zircon's rule:
     * restricted mode switches only the general registers and FS / GS). Owned; freed
     * with the thread. */
    void *fpu_area;
    void *fpu_block;
    struct uthread_restricted {
        /* The bound state: a one-page contiguous VMO (a reference), so its page never
         * moves and the kernel reads and writes it through the physmap at `state`.
         * Changed only by the thread itself (bind / unbind), under obj.lock. */
        vmo_t *state_vmo;
        zx_restricted_state_t *state;
        bool active;              /* in restricted mode; changed only by the thread */
        uintptr_t vector, context; /* normal-mode resume point (while active) */
        arch_iframe_t normal;     /* normal-mode registers at zx_restricted_enter */
        uint64_t normal_fs_base, normal_gs_base;
    } restricted;
};

/* The root job and root resource (created by proc_init). */
kobject_t *job_root(void);
kobject_t *resource_root(void);
zx_status_t job_create(kobject_t *parent, kobject_t **out);
void proc_init(void);

static inline process_t *to_process(kobject_t *o) { return (process_t *)o; }
static inline uthread_t *to_uthread(kobject_t *o) { return (uthread_t *)o; }

/*
 * Creates a process in `job` with a fresh user aspace [USER_ASPACE_BASE, USER_ASPACE_TOP)
 * and its root VMAR object; with `shared` (ZX_PROCESS_SHARED) instead the prototype of a
 * new shared family, whose root VMAR is the shared region and whose handle table is the
 * family's. *proc and *root_vmar hold one reference each; *vmar_rights receives the root
 * VMAR's handle rights. ZX_ERR_NO_MEMORY leaves nothing behind.
 */
zx_status_t process_create(kobject_t *job, const char *name, size_t name_len, bool shared,
                           process_t **proc, kobject_t **root_vmar, zx_rights_t *vmar_rights);

/*
 * zx_process_create_shared: a new process in proto's job that shares proto's family
 * (handle table, shared aspace) and owns a restricted region, returned as
 * *restricted_vmar; its threads run on the unified aspace. ZX_ERR_INVALID_ARGS if proto
 * is not a shared family member, ZX_ERR_BAD_STATE if every member has finished,
 * ZX_ERR_NO_MEMORY (nothing left behind).
 */
zx_status_t process_create_shared(process_t *proto, const char *name, size_t name_len,
                                  process_t **proc, kobject_t **restricted_vmar,
                                  zx_rights_t *vmar_rights);

/*
 * Shared families (process_shared.c). A family's state lives while any member process
 * references it (proc_shared_unref); its handle table and shared aspace live while any
 * member has not finished (join / leave; the last leave destroys them). While no member
 * runs, the table is a container of the handle-cycle collector (object/gc.h).
 */
/* One member; the shared aspace's placement starts at aslr_seed. */
zx_status_t proc_shared_create(const char *name, uint64_t aslr_seed, proc_shared_t **out);
/* Adds a member (and a holder, for its handle to come); false (nothing taken) once all
 * have left or the family was collected. */
bool proc_shared_join(proc_shared_t *sh);
/* The member whose `holder` flag this is has no handle left: clears the flag (once) and
 * lets the collector look at the family. */
void proc_shared_drop_holder(proc_shared_t *sh, bool *holder);
/* A member finished; *started (its gc_started) says whether it was a running one
 * (cleared here). The last leave destroys the table and the shared aspace. */
void proc_shared_leave(proc_shared_t *sh, bool *started);
/* zx_process_start of a member, gc lock held: the table becomes a root (begin;
 * ZX_ERR_BAD_STATE if the family is gone or collected) or, if the start failed, may
 * become a container again (undo). */
zx_status_t proc_shared_start_begin(proc_shared_t *sh) TA_REQ(gc_lock);
void proc_shared_start_undo(proc_shared_t *sh) TA_REQ(gc_lock);
void proc_shared_unref(proc_shared_t *sh);
handle_table_t *proc_shared_handles(proc_shared_t *sh); /* valid while a member is in */
vm_aspace_t *proc_shared_aspace(proc_shared_t *sh);
gc_node_t *proc_shared_gc_node(proc_shared_t *sh);

int64_t process_retcode(process_t *p) TA_EXCL(p->obj.lock);

/* p's aspace with a new reference (vm_aspace_unref when done), or NULL once p has begun
 * to finish. The aspace may still be destroyed while the caller holds it: its calls then
 * return ZX_ERR_BAD_STATE (for a unified aspace its parts stay reachable, destroyed). */
vm_aspace_t *process_aspace_get(process_t *p) TA_EXCL(p->obj.lock);

/* p's handle table with a reference on the struct (handle_table_unref when done), for
 * walking it (handle_table_visit_chunk) without the process lock; NULL once p has begun
 * to finish. If p finishes during the walk, the walk sees the table emptied. */
handle_table_t *process_handles_ref(process_t *p) TA_EXCL(p->obj.lock);

/* uthread_exit_current's half of process bookkeeping (process.c): returns true if the
 * caller was the last live thread; that caller then calls process_finish once it has
 * left the aspace. */
bool process_thread_exited(process_t *p) TA_EXCL(p->obj.lock);

/* Tears down what a dead process owns (threads never started, handle table, aspace) and
 * asserts ZX_TASK_TERMINATED. Runs once, on the thread that saw the last thread go (or
 * on the killer when none was running), never with the aspace loaded. */
void process_finish(process_t *p) TA_EXCL(p->obj.lock);

/*
 * The process dumps the kernel command line asks for (process_dump.c; docs/debugging.md,
 * "Page-table and VM dumps"). process_dump_at_exit: dump.aspace=process:SEL with
 * dump.at=exit (the default), called by process_finish before anything is torn down.
 * process_dump_on_fault: dump.on_fault=SEL|all, and dump.aspace=process:SEL with
 * dump.at=fault, called by uthread_exception_kill after the user fault report of a
 * fault that kills p (not for restricted mode's reports, which kill nothing).
 * Both print nothing unless a switch selects p; they take the VM's locks and may block
 * (interrupts on, no lock held). process_dump_check_cmdline reads the switches and
 * reports unknown values; call it once at boot, before any process ends.
 */
void process_dump_at_exit(process_t *p) TA_EXCL(p->obj.lock);
void process_dump_on_fault(process_t *p) TA_EXCL(p->obj.lock);
void process_dump_check_cmdline(void);

/*
 * zx_process_start once the handles are checked: moves *arg1 (if its obj is set) into
 * p's table and starts ut as p's first thread with rdi = that handle's value, rsi =
 * arg2. A family member starts under the gc lock (its table stops being a container).
 * ZX_ERR_BAD_STATE if p is not INITIAL (or its family was collected), ZX_ERR_NO_MEMORY;
 * on failure *arg1 is still the caller's to release.
 */
zx_status_t process_start(process_t *p, uthread_t *ut, uintptr_t entry, uintptr_t stack,
                          handle_ref_t *arg1, uintptr_t arg2) TA_EXCL(p->obj.lock);

/* Kills p with retcode (the first kill or exit decides the code). Threads are asked to
 * die; once none runs, the process finishes. Idempotent. */
void process_kill(process_t *p, int64_t retcode) TA_EXCL(p->obj.lock);

/* Creates an unstarted user thread in p (ZX_ERR_BAD_STATE if p is dying or dead). */
zx_status_t uthread_create(process_t *p, const char *name, size_t name_len, uthread_t **out)
    TA_EXCL(p->obj.lock);

/*
 * Starts ut in user mode at entry with stack, rdi = arg1, rsi = arg2. If first is set,
 * the process must be INITIAL and becomes RUNNING; else it must be RUNNING.
 * ZX_ERR_BAD_STATE (thread not INITIAL, or process state wrong).
 */
zx_status_t uthread_start(uthread_t *ut, uintptr_t entry, uintptr_t stack, uintptr_t arg1,
                          uintptr_t arg2, bool first) TA_EXCL(ut->proc->obj.lock);

/* zx_task_kill on a thread. */
void uthread_kill(uthread_t *ut) TA_EXCL(ut->proc->obj.lock);

/* The calling thread's user thread, or NULL for a kernel thread. */
static inline uthread_t *uthread_current(void) {
    thread_t *t = thread_current();
    return t ? (uthread_t *)t->user_ctx : NULL;
}

/* Ends the calling user thread (and its process, if it was the last). */
__noreturn void uthread_exit_current(void);

/* A user-mode fault nobody could resolve (vm_status: the VM's reason for a page fault,
 * ZX_OK when the VM was not asked): logs it with the full report, kills the process
 * with ZX_TASK_RETCODE_EXCEPTION_KILL and ends the calling thread. Any interrupt state;
 * they are on from the report on. */
__noreturn void uthread_exception_kill(const arch_iframe_t *f, zx_status_t vm_status,
                                       const char *what);

/*
 * The lines of the user fault report after its first one (kernel/proc/fault_report.c):
 * for a page fault the decoded error, the mapping at the fault address and the
 * page-table walk (only when the VM was asked: vm_status != ZX_OK); for every exception
 * the registers and the user backtrace, each frame named from the boot module mapped
 * there, else from the one called process_name (NULL: none, for restricted mode, whose
 * code is not the process's program). ut is the calling thread, f its user frame; the
 * thread's current aspace (the restricted one in restricted mode) is the one looked at.
 * Takes the VM's locks and may block: interrupts on, no lock held.
 */
void uthread_fault_report(uthread_t *ut, const arch_iframe_t *f, zx_status_t vm_status,
                          const char *process_name);

/* Copies the name of a process or thread (its `name` field, which obj's lock guards:
 * ZX_PROP_NAME may change it at any time) into out. */
static inline void task_copy_name(kobject_t *obj, const char name[ZX_MAX_NAME_LEN],
                                  char out[ZX_MAX_NAME_LEN]) TA_EXCL(obj->lock) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&obj->lock, &s);
    memcpy(out, name, ZX_MAX_NAME_LEN);
    spin_unlock_irqrestore(&obj->lock, s);
}

struct boot_info;
/* Sets the fault report up, once, before the first user thread runs: the boot modules
 * whose symbols name user backtrace frames (bi lives as long as the kernel: the modules'
 * memory is never freed), and FAULT_REPORT_RESTRICTED_OPTION from the command line. */
void fault_report_init(const struct boot_info *bi);

/* Kernel command-line switch (default off): print the full user fault report for every
 * exception in restricted mode too, as it goes back to normal mode (restricted.c). */
#define FAULT_REPORT_RESTRICTED_OPTION "fault.report_restricted"
bool fault_report_restricted_enabled(void);

struct boot_module;
/* The origin tag (vm/vmo.h) userboot gives the VMO of boot module m of bi, by which the
 * fault report finds m from a mapping of that VMO or of any child of it. */
uint32_t fault_report_module_tag(const struct boot_info *bi, const struct boot_module *m);

/*
 * Restricted mode's mechanism (restricted_mode.c; the syscalls are restricted.c's). The
 * frame is the thread's user frame, at the top of its kernel stack, and ut the calling
 * thread unless stated.
 *
 * restricted_switch_mode: loads the aspace `to` and the syscall entry of the mode
 * (active: restricted), and records the mode, all with interrupts off.
 * restricted_resume_normal: rewrites f as the normal-mode frame at the vector (reason
 * in rsi and rax, context in rdi, every other register as it was at zx_restricted_enter).
 * restricted_exit: saves the restricted registers of f to the state VMO, switches back
 * to the normal-mode aspace and FS / GS bases, and resumes normal mode at the vector.
 * restricted_rebind: swaps ut's state VMO binding for new_vmo (NULL: none; else a
 * contiguous VMO whose page is at state_pa, a reference the binding takes over) and
 * drops the old one; takes ut's lock.
 * restricted_thread_destroy: drops the binding of ut, a thread being destroyed (any
 * caller).
 */
void restricted_switch_mode(uthread_t *ut, vm_aspace_t *to, bool active);
void restricted_resume_normal(uthread_t *ut, arch_iframe_t *f, uint64_t reason);
void restricted_exit(uthread_t *ut, arch_iframe_t *f, uint64_t reason);
void restricted_rebind(uthread_t *ut, vmo_t *new_vmo, paddr_t state_pa);
void restricted_thread_destroy(uthread_t *ut);

/* restricted.c: called for a user exception nobody resolved (vm_status: why the VM did
 * not, for a #PF; what: the exception's name); true if the thread was in restricted mode
 * and has left it (the exception is then reported in the state VMO, a
 * zx_restricted_exception_t, not fatal; and on the console first when
 * FAULT_REPORT_RESTRICTED_OPTION is on). */
bool restricted_exception(arch_iframe_t *f, zx_status_t vm_status, const char *what);

/* zx_restricted_enter's status when it has replaced the whole user frame:
 * ZX_ERR_INTERNAL_FRAME_REPLACED (<kernel/trap.h>). */

/*
 * Zircon's boot option that enables the debugging syscalls (zx_process_read_memory and
 * zx_process_write_memory here); without it they return ZX_ERR_NOT_SUPPORTED before any
 * other check. debugging_syscalls_init reads it once at boot (kmain, after proc_init).
 */
#define DEBUGGING_SYSCALLS_OPTION "kernel.enable-debugging-syscalls"
void debugging_syscalls_init(void);
bool debugging_syscalls_enabled(void);

/*
 * The process registry (proc_registry.c), which the kernel debug console lists processes
 * from and finds them in by koid. Only while it is enabled (proc_registry_enable, once at
 * boot before the first process, when the console is switched on: ordinary boots pay
 * nothing) does every process join it as it is published and leave it as its destroy
 * begins. The list holds no reference: a reader takes one under the registry lock with
 * kobject_try_ref, which fails for a process whose last reference has gone.
 */
void proc_registry_enable(void);
void proc_registry_add(process_t *p);
void proc_registry_remove(process_t *p);
/* Up to cap registered processes in the order they joined, each with a new reference (the caller
 * drops them with kobject_unref); *total gets how many there were. Returns how many were
 * stored. */
size_t proc_registry_snapshot(process_t **out, size_t cap, size_t *total);
/* The registered process with this koid, with a new reference; NULL when there is none. */
process_t *proc_registry_find(zx_koid_t koid);

/* Handles in p's table (a shared family's: the family's); 0 once p has begun to finish. */
size_t process_handle_count(process_t *p) TA_EXCL(p->obj.lock);

/* userboot: loads the "userboot" module as the first process and starts it; *out is a
 * reference to the process. ZX_ERR_NOT_FOUND when the module is missing. */
struct boot_info;
zx_status_t userboot_start_from(const struct boot_info *bi, process_t **out);

#endif
