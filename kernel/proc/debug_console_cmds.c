/*
 * The kernel debug console's commands (debug_console_priv.h; what each prints:
 * docs/debugging.md, "The kernel debug console"). They run on the console's thread, with
 * interrupts on and no lock held, one at a time, so the snapshot arrays below are the
 * console's alone.
 *
 * Every process a command looks at is held by a reference (from the registry) while it
 * prints, and its aspace by another (process_aspace_get), so a process that ends
 * meanwhile stays valid memory; its aspace may be destroyed, and the VM's calls then
 * answer ZX_ERR_BAD_STATE (the VM dump says "destroyed"). Locks are held only to copy a
 * few fields, never while printing, except the VM's own: the aspace lock (a mutex) for
 * the whole of `vmar` (the VM dump: the process's faults wait meanwhile) and of `walk`;
 * `aspace` takes the page-table lock in short batches (arch_mmu_dump).
 */
#include <kernel/console.h>
#include <kernel/irqoff.h>
#include <lib/string.h>
#include <phys/heap.h>
#include <phys/pmm.h>
#include <phys/vm_page.h>
#include <vm/vm_aspace.h>
#include <vm/vmar.h>
#include <vm/vmo.h>
#include <zircon/syscalls/object.h>
#include "debug_console_priv.h"
#include "proc_priv.h"

/* Bounds of one listing (the rest is counted, not shown). */
#define DEBUG_CONSOLE_MAX_PROCESSES 128
#define DEBUG_CONSOLE_MAX_THREADS 64 /* per process */
#define BYTES_PER_KIB 1024

static process_t *procs[DEBUG_CONSOLE_MAX_PROCESSES];

struct thread_row {
    uthread_t *ut; /* a reference */
    const char *state;
};
static struct thread_row thread_rows[DEBUG_CONSOLE_MAX_THREADS];

static const char *process_state_name(enum process_state s) {
    switch (s) {
    case PROCESS_INITIAL:
        return "new";
    case PROCESS_RUNNING:
        return "running";
    case PROCESS_DYING:
        return "dying";
    case PROCESS_DEAD:
        return "dead";
    }
    return "?";
}

/* What a blocked user thread waits in (its ZX_THREAD_STATE_BLOCKED_* reason). */
static const char *blocked_name(uint32_t reason) {
    switch (reason) {
    case ZX_THREAD_STATE_BLOCKED_EXCEPTION:
        return "blocked (exception)";
    case ZX_THREAD_STATE_BLOCKED_SLEEPING:
        return "blocked (sleeping)";
    case ZX_THREAD_STATE_BLOCKED_FUTEX:
        return "blocked (futex)";
    case ZX_THREAD_STATE_BLOCKED_PORT:
        return "blocked (port)";
    case ZX_THREAD_STATE_BLOCKED_CHANNEL:
        return "blocked (channel)";
    case ZX_THREAD_STATE_BLOCKED_WAIT_ONE:
        return "blocked (wait_one)";
    case ZX_THREAD_STATE_BLOCKED_WAIT_MANY:
        return "blocked (wait_many)";
    default:
        return "blocked";
    }
}

/* ut's state in words; the caller holds ut's process lock (ut->state and, with
 * interrupts off on this one CPU, the scheduler's view of it hold still). */
static const char *uthread_state_name(const uthread_t *ut, const thread_t *stopped) {
    if (&ut->thread == stopped)
        return "stopped (debug console)";
    if (ut->state == UTHREAD_INITIAL)
        return "new";
    if (ut->state == UTHREAD_DEAD)
        return "dead";
    switch (ut->thread.state) {
    case THREAD_READY:
        return "ready";
    case THREAD_RUNNING:
        return "running";
    case THREAD_BLOCKED:
        return blocked_name(ut->block_reason);
    case THREAD_DEAD:
        return "exiting";
    case THREAD_INITIAL:
        return "new";
    }
    return "?";
}

/* The process whose koid is the text s, with a reference; NULL (after saying why) when
 * s is not a number or no process has that koid. */
static process_t *process_arg(const char *s) {
    uint64_t koid;
    if (!kparse_u64(s, strlen(s), &koid)) {
        printf("bad koid \"%s\": want a number (ps lists them)\n", s);
        return NULL;
    }
    process_t *p = proc_registry_find(koid);
    if (!p)
        printf("no process with koid %lu\n", koid);
    return p;
}

/* The process whose koid is the text s, and its aspace, each with a reference (the caller
 * drops both with put_process_aspace); false, after saying why, when there is no such
 * process or it has begun to finish (its aspace is gone). */
static bool process_aspace_arg(const char *s, process_t **p, vm_aspace_t **as) {
    *p = process_arg(s);
    if (!*p)
        return false;
    *as = process_aspace_get(*p);
    if (*as)
        return true;
    printf("process %lu has ended: its address space is gone\n", (*p)->obj.koid);
    kobject_unref(&(*p)->obj);
    return false;
}

static void put_process_aspace(process_t *p, vm_aspace_t *as) {
    vm_aspace_unref(as);
    kobject_unref(&p->obj);
}

void debug_console_cmd_ps(void) {
    size_t total;
    size_t n = proc_registry_snapshot(procs, DEBUG_CONSOLE_MAX_PROCESSES, &total);
    printf("  KOID STATE   THREADS HANDLES NAME\n");
    for (size_t i = 0; i < n; i++) {
        process_t *p = procs[i];
        char name[ZX_MAX_NAME_LEN];
        task_copy_name(&p->obj, p->name, name);
        spin_lock_saved_state_t s;
        spin_lock_irqsave(&p->obj.lock, &s);
        enum process_state state = p->state;
        uint32_t threads = p->live_threads;
        spin_unlock_irqrestore(&p->obj.lock, s);
        printf("%6lu %-7s %7u %7zu %s\n", p->obj.koid, process_state_name(state), threads,
               process_handle_count(p), name);
        kobject_unref(&p->obj);
    }
    printf("%zu processes", n);
    if (total > n)
        printf(" (%zu more not shown)", total - n);
    printf("\n");
}

/* Copies p's threads (at most DEBUG_CONSOLE_MAX_THREADS, each with a reference) with
 * their states into thread_rows; returns how many, and in *more how many were left out. */
static size_t snapshot_threads(process_t *p, const thread_t *stopped, size_t *more) {
    size_t n = 0;
    *more = 0;
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&p->obj.lock, &s);
    for (struct list_node *node = p->threads.next; node != &p->threads; node = node->next) {
        uthread_t *ut = containerof(node, uthread_t, proc_node);
        if (n == DEBUG_CONSOLE_MAX_THREADS) {
            (*more)++;
            continue;
        }
        kobject_ref(&ut->obj); /* the thread list holds one: never the last */
        thread_rows[n].ut = ut;
        thread_rows[n].state = uthread_state_name(ut, stopped);
        n++;
    }
    spin_unlock_irqrestore(&p->obj.lock, s);
    return n;
}

void debug_console_cmd_threads(const thread_t *stopped) {
    size_t total;
    size_t np = proc_registry_snapshot(procs, DEBUG_CONSOLE_MAX_PROCESSES, &total);
    size_t shown = 0;
    printf("  KOID STATE                    PKOID PROCESS                         NAME\n");
    for (size_t i = 0; i < np; i++) {
        process_t *p = procs[i];
        char pname[ZX_MAX_NAME_LEN];
        task_copy_name(&p->obj, p->name, pname);
        size_t more;
        size_t n = snapshot_threads(p, stopped, &more);
        for (size_t k = 0; k < n; k++) {
            uthread_t *ut = thread_rows[k].ut;
            char tname[ZX_MAX_NAME_LEN];
            task_copy_name(&ut->obj, ut->name, tname);
            printf("%6lu %-24s %6lu %-31s %s\n", ut->obj.koid, thread_rows[k].state,
                   p->obj.koid, pname, tname);
            kobject_unref(&ut->obj);
        }
        if (more)
            printf("       (%zu more threads of process %lu not shown)\n", more, p->obj.koid);
        shown += n;
        kobject_unref(&p->obj);
    }
    printf("%zu user threads in %zu processes", shown, np);
    if (total > np)
        printf(" (%zu more processes not shown)", total - np);
    printf("\n");
}

void debug_console_cmd_vmar(int argc, char **args) {
    (void)argc;
    process_t *p;
    vm_aspace_t *as;
    if (!process_aspace_arg(args[0], &p, &as))
        return;
    /* The VM dump of dump.aspace= and dump.on_fault= (it says "destroyed" for an aspace
     * that went meanwhile). */
    printf("process %lu: VM dump\n", p->obj.koid);
    vm_aspace_dump(as);
    put_process_aspace(p, as);
}

void debug_console_cmd_aspace(int argc, char **args) {
    (void)argc;
    process_t *p;
    vm_aspace_t *as;
    if (!process_aspace_arg(args[0], &p, &as))
        return;
    printf("process %lu: page tables\n", p->obj.koid);
    if (vm_aspace_dump_mmu(as) != ZX_OK)
        printf("process %lu: its address space is destroyed\n", p->obj.koid);
    put_process_aspace(p, as);
}

/* The mapping at va for `walk`, and whether the VMO itself holds a page there (a
 * copy-on-write child that holds none shows its parent's page, or zeroes). */
static void print_mapping_at(vm_aspace_t *as, vaddr_t va) {
    vm_map_entry_t e;
    zx_status_t st = vm_aspace_mapping_at(as, va, &e);
    if (st == ZX_ERR_NOT_FOUND) {
        printf("mapping: none at 0x%lx\n", va);
        return;
    }
    if (st != ZX_OK) {
        printf("mapping: the address space is destroyed\n");
        return;
    }
    char name[VMO_NAME_LEN], perms[VM_PERMS_STRING_LEN];
    vmo_get_name(e.vmo, name);
    vm_perms_string(e.perms, perms);
    printf("mapping: 0x%016lx-0x%016lx %s vmo '%s' koid %lu offset 0x%lx at 0x%lx, %s\n",
           e.base, e.base + e.size - 1, perms, name, vmo_koid(e.vmo),
           e.vmo_offset + (va - e.base), va, e.committed_pages ? "committed" : "not committed");
    vmo_unref(e.vmo);
}

void debug_console_cmd_walk(int argc, char **args) {
    (void)argc;
    uint64_t va;
    if (!kparse_u64(args[1], strlen(args[1]), &va)) {
        printf("bad address \"%s\": want a number (0x... for hex)\n", args[1]);
        return;
    }
    process_t *p;
    vm_aspace_t *as;
    if (!process_aspace_arg(args[0], &p, &as))
        return;
    print_mapping_at(as, (vaddr_t)va);
    if (vm_aspace_dump_walk(as, (vaddr_t)va) != ZX_OK)
        printf("process %lu: its address space is destroyed\n", p->obj.koid);
    put_process_aspace(p, as);
}

void debug_console_cmd_pmm(void) {
    size_t free = pmm_count_free_pages(), total = pmm_count_total_pages();
    size_t by_state[VM_PAGE_STATE_COUNT];
    pmm_count_by_state(by_state);
    printf("pmm: %zu of %zu pages free (%zu KiB of %zu KiB)\n", free, total,
           free * PAGE_SIZE / BYTES_PER_KIB, total * PAGE_SIZE / BYTES_PER_KIB);
    printf("pmm: in use: %zu heap, %zu page tables, %zu VMO pages, %zu wired, %zu other\n",
           by_state[VM_PAGE_STATE_HEAP], by_state[VM_PAGE_STATE_MMU],
           by_state[VM_PAGE_STATE_OBJECT], by_state[VM_PAGE_STATE_WIRED],
           by_state[VM_PAGE_STATE_ALLOC]);
    printf("pmm: %lu allocation failures injected\n", pmm_fault_injected_count());
}

void debug_console_cmd_heap(void) {
    size_t pages = heap_pages(), used = heap_bytes_in_use();
    size_t bytes = pages * PAGE_SIZE;
    printf("heap: %zu pages (%zu KiB), %zu bytes in use, %zu bytes free in them\n", pages,
           bytes / BYTES_PER_KIB, used, bytes > used ? bytes - used : 0);
}

void debug_console_cmd_irqoff(void) { irqoff_print("since boot"); }
