/*
 * Small helpers shared by the user test programs (every user/tests program): deadlines,
 * handle and object queries, killing a task, running this program again, worker threads
 * in the calling process, one-VMO mappings and code pages, and the TSC rate. Header-only
 * (static inline) so a test program needs nothing but this include; a helper that fails
 * returns a status, 0 ("no address"), ZX_HANDLE_INVALID, a sentinel or an all-zero
 * struct, and leaves nothing behind.
 */
#ifndef BERYL_TEST_UTIL_H
#define BERYL_TEST_UTIL_H

#include <beryl/launch.h>
#include <beryl/startup.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/processargs.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>
#include <zircon/syscalls/profile.h>

#define TU_PAGE 4096u
#define TU_SEC 1000000000ll
#define TU_MS 1000000ll
#define TU_STACK_SIZE (64u * 1024u)

/* The handle's basic info (all-zero if the handle is not valid). */
static inline zx_info_handle_basic_t tu_basic(zx_handle_t h) {
    zx_info_handle_basic_t info;
    memset(&info, 0, sizeof(info));
    zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &info, sizeof(info), NULL, NULL);
    return info;
}

/* The handle's rights (0 if the handle is not valid). */
static inline zx_rights_t tu_rights(zx_handle_t h) { return tu_basic(h).rights; }

/* True if h names a handle of this process (ZX_INFO_HANDLE_VALID). */
static inline bool tu_handle_valid(zx_handle_t h) {
    return zx_object_get_info(h, ZX_INFO_HANDLE_VALID, NULL, 0, NULL, NULL) == ZX_OK;
}

/* A duplicate of h with exactly `rights` (ZX_HANDLE_INVALID on failure). */
static inline zx_handle_t tu_dup(zx_handle_t h, zx_rights_t rights) {
    zx_handle_t d = ZX_HANDLE_INVALID;
    if (zx_handle_duplicate(h, rights, &d) != ZX_OK)
        return ZX_HANDLE_INVALID;
    return d;
}

/* The VMO's ZX_INFO_VMO (all-zero if the query fails). */
static inline zx_info_vmo_t tu_vmo_info(zx_handle_t vmo) {
    zx_info_vmo_t info;
    memset(&info, 0, sizeof(info));
    zx_object_get_info(vmo, ZX_INFO_VMO, &info, sizeof(info), NULL, NULL);
    return info;
}

/* The VMAR's ZX_INFO_VMAR (all-zero if the query fails). */
static inline zx_info_vmar_t tu_vmar_info(zx_handle_t vmar) {
    zx_info_vmar_t info;
    memset(&info, 0, sizeof(info));
    zx_object_get_info(vmar, ZX_INFO_VMAR, &info, sizeof(info), NULL, NULL);
    return info;
}

/* Restricts thread to the CPUs of mask (bit n: CPU n) through a profile made with
 * resource (the root resource, beryl_resource()); the status of the first call that
 * failed. */
static inline zx_status_t tu_pin_mask(zx_handle_t resource, zx_handle_t thread,
                                      uint64_t mask) {
    zx_profile_info_t info;
    memset(&info, 0, sizeof(info));
    info.flags = ZX_PROFILE_INFO_FLAG_CPU_MASK;
    info.cpu_affinity_mask.mask[0] = mask;
    zx_handle_t p;
    zx_status_t st = zx_profile_create(resource, 0, &info, &p);
    if (st != ZX_OK)
        return st;
    st = zx_object_set_profile(thread, p, 0);
    zx_handle_close(p);
    return st;
}

/* Free kernel memory in bytes (needs the root resource: beryl_resource()). */
static inline uint64_t tu_kmem_free(zx_handle_t resource) {
    zx_info_kmem_stats_t k;
    memset(&k, 0, sizeof(k));
    zx_object_get_info(resource, ZX_INFO_KMEM_STATS, &k, sizeof(k), NULL, NULL);
    return k.free_bytes;
}

/* tu_kmem_free once it holds still: the teardown of a process that just exited (its
 * threads' stacks, its objects) may still run on another CPU, so this reads until two
 * readings 10 ms apart agree (at most 100 times) and returns the last one. */
static inline uint64_t tu_kmem_free_settled(zx_handle_t resource) {
    uint64_t prev = tu_kmem_free(resource);
    for (int i = 0; i < 100; i++) {
        zx_nanosleep(zx_deadline_after(10 * TU_MS));
        uint64_t now = tu_kmem_free(resource);
        if (now == prev)
            break;
        prev = now;
    }
    return prev;
}

/* Bytes of the kernel heap in use (total minus free heap bytes; needs the root
 * resource). Objects and messages are heap blocks, so this moves byte for byte. */
static inline uint64_t tu_kmem_heap_used(zx_handle_t resource) {
    zx_info_kmem_stats_t k;
    memset(&k, 0, sizeof(k));
    zx_object_get_info(resource, ZX_INFO_KMEM_STATS, &k, sizeof(k), NULL, NULL);
    return k.total_heap_bytes - k.free_heap_bytes;
}

/* The process's ZX_INFO_PROCESS in *info (all-zero if the query fails); the query's status. */
static inline zx_status_t tu_process_info(zx_handle_t proc, zx_info_process_t *info) {
    memset(info, 0, sizeof(*info));
    return zx_object_get_info(proc, ZX_INFO_PROCESS, info, sizeof(*info), NULL, NULL);
}

/* Kills the task and waits (up to 10 s) until it has terminated; cleanup, so best effort. */
static inline void tu_task_kill_wait(zx_handle_t task) {
    zx_task_kill(task);
    zx_object_wait_one(task, ZX_TASK_TERMINATED, zx_deadline_after(10 * TU_SEC), NULL);
}

/* The most handles one launch of this program (below) passes. */
#define TU_LAUNCH_MAX_HANDLES 8u

/*
 * The launch of this program that the helpers below make: named `name`, with the
 * arguments argv[0..argc) (argv[0] is the program name; a program's own main() tells such
 * a run by them) and handles[0..n) as PA_USER0, PA_USER0 + 1, ... (consumed in every
 * case; n above TU_LAUNCH_MAX_HANDLES is ZX_ERR_OUT_OF_RANGE). into_proc / into_vmar as
 * in beryl_launch_args_t (ZX_HANDLE_INVALID: a new process in the default job). On ZX_OK
 * *proc is the launched process. Returns beryl_launch's status.
 */
static inline zx_status_t tu_launch_self_handles(const char *name, int argc,
                                                 const char *const *argv,
                                                 const zx_handle_t *handles, uint32_t n,
                                                 zx_handle_t into_proc, zx_handle_t into_vmar,
                                                 zx_handle_t *proc) {
    if (n > TU_LAUNCH_MAX_HANDLES) {
        zx_handle_close_many(handles, n);
        return ZX_ERR_OUT_OF_RANGE;
    }
    uint32_t info[TU_LAUNCH_MAX_HANDLES];
    for (uint32_t k = 0; k < n; k++)
        info[k] = PA_HND(PA_USER0, k);
    beryl_launch_args_t a = {
        .job = zx_job_default(),
        .name = name,
        .exe_vmo = beryl_get_startup_handle(PA_HND(PA_VMO_EXECUTABLE, 0)),
        .argc = argc,
        .argv = argv,
        .handles = handles,
        .handle_infos = info,
        .num_handles = n,
        .into_proc = into_proc,
        .into_vmar = into_vmar,
    };
    return beryl_launch(&a, proc);
}

/*
 * Starts this program again as a new process named `name` with the arguments
 * argv[0..argc) and `extra` (ZX_HANDLE_INVALID for none; always consumed) as its PA_USER0
 * handle. On ZX_OK *proc is the running process (the caller waits for it and closes it).
 */
static inline zx_status_t tu_launch_self(const char *name, int argc, const char *const *argv,
                                         zx_handle_t extra, zx_handle_t *proc) {
    return tu_launch_self_handles(name, argc, argv, &extra, extra != ZX_HANDLE_INVALID ? 1 : 0,
                                  ZX_HANDLE_INVALID, ZX_HANDLE_INVALID, proc);
}

/* What tu_run_self returns when the program did not run to its end. */
#define TU_RUN_NOT_LAUNCHED (-9997)
#define TU_RUN_TIMED_OUT (-9998)

/*
 * Runs this program again (tu_launch_self with no handle) and waits up to `timeout` ns
 * for it to end. Returns its return code, TU_RUN_NOT_LAUNCHED if the launch failed, or
 * TU_RUN_TIMED_OUT if it did not end in time (it is killed then). Nothing is left behind.
 */
static inline int64_t tu_run_self(const char *name, int argc, const char *const *argv,
                                  zx_duration_t timeout) {
    zx_handle_t proc;
    if (tu_launch_self(name, argc, argv, ZX_HANDLE_INVALID, &proc) != ZX_OK)
        return TU_RUN_NOT_LAUNCHED;
    int64_t rc = TU_RUN_TIMED_OUT;
    if (beryl_wait_exit(proc, zx_deadline_after(timeout), &rc) != ZX_OK) {
        rc = TU_RUN_TIMED_OUT;
        tu_task_kill_wait(proc);
    }
    zx_handle_close(proc);
    return rc;
}

/*
 * Starts this program again (tu_launch_self_handles) in `proc`: an unstarted process made
 * by zx_process_create_shared, whose root VMAR is `vmar` (both borrowed). The launch's own
 * handle to the process (a duplicate of proc) is closed: the caller waits on proc.
 */
static inline zx_status_t tu_launch_self_into(zx_handle_t proc, zx_handle_t vmar,
                                              const char *name, int argc,
                                              const char *const *argv,
                                              const zx_handle_t *handles, uint32_t n) {
    zx_handle_t dup;
    zx_status_t st = tu_launch_self_handles(name, argc, argv, handles, n, proc, vmar, &dup);
    if (st == ZX_OK)
        zx_handle_close(dup);
    return st;
}

/* TSC ticks per millisecond, measured across a 10 ms sleep; 0 if the monotonic clock did
 * not advance (then nothing can be timed by the TSC). */
static inline uint64_t tu_tsc_per_ms(void) {
    uint64_t t0 = __builtin_ia32_rdtsc();
    zx_time_t c0 = zx_clock_get_monotonic();
    zx_nanosleep(c0 + 10 * TU_MS);
    uint64_t dt = __builtin_ia32_rdtsc() - t0;
    zx_duration_t dc = zx_clock_get_monotonic() - c0;
    return dc > 0 ? dt * (uint64_t)TU_MS / (uint64_t)dc : 0;
}

/*
 * Maps a new VMO of `size` bytes into the root VMAR with perms; the VMO handle is
 * returned in *vmo_out if that is non-NULL (else closed: the mapping keeps the VMO).
 * Returns the address, or 0 on failure.
 */
static inline zx_vaddr_t tu_map_new(size_t size, zx_vm_option_t perms, zx_handle_t *vmo_out) {
    zx_handle_t vmo;
    zx_vaddr_t addr = 0;
    if (zx_vmo_create(size, 0, &vmo) != ZX_OK)
        return 0;
    if (zx_vmar_map(zx_vmar_root_self(), perms, 0, vmo, 0, size, &addr) != ZX_OK)
        addr = 0;
    if (vmo_out && addr)
        *vmo_out = vmo;
    else
        zx_handle_close(vmo);
    return addr;
}

/* A one-page executable VMO holding code[0..len) (len <= TU_PAGE; the rest of the page is
 * zero); ZX_HANDLE_INVALID on failure. */
static inline zx_handle_t tu_code_vmo(const void *code, size_t len) {
    zx_handle_t vmo, xvmo;
    if (len > TU_PAGE || zx_vmo_create(TU_PAGE, 0, &vmo) != ZX_OK)
        return ZX_HANDLE_INVALID;
    if (zx_vmo_write(vmo, code, 0, len) != ZX_OK) {
        zx_handle_close(vmo);
        return ZX_HANDLE_INVALID;
    }
    /* Consumes vmo whatever it returns. */
    if (zx_vmo_replace_as_executable(vmo, ZX_HANDLE_INVALID, &xvmo) != ZX_OK)
        return ZX_HANDLE_INVALID;
    return xvmo;
}

/* tu_code_vmo(code, len) mapped read + execute anywhere in the root VMAR (the mapping keeps
 * the VMO); its address, or 0 on failure. */
static inline zx_vaddr_t tu_map_code(const void *code, size_t len) {
    zx_handle_t xvmo = tu_code_vmo(code, len);
    zx_vaddr_t a = 0;
    if (xvmo == ZX_HANDLE_INVALID)
        return 0;
    if (zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE, 0, xvmo, 0,
                    TU_PAGE, &a) != ZX_OK)
        a = 0;
    zx_handle_close(xvmo);
    return a;
}

/* A worker thread of the calling process with its own mapped stack. */
typedef struct tu_thread {
    zx_handle_t thread;
    zx_vaddr_t stack;
} tu_thread_t;

/* Creates (does not start) a thread with a TU_STACK_SIZE stack. */
static inline zx_status_t tu_thread_create(tu_thread_t *t) {
    memset(t, 0, sizeof(*t));
    t->stack = tu_map_new(TU_STACK_SIZE, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, NULL);
    if (!t->stack)
        return ZX_ERR_NO_MEMORY;
    zx_status_t st = zx_thread_create(zx_process_self(), "tu-worker", 9, 0, &t->thread);
    if (st != ZX_OK) {
        zx_vmar_unmap(zx_vmar_root_self(), t->stack, TU_STACK_SIZE);
        t->stack = 0;
    }
    return st;
}

/* Starts fn(arg1, arg2); fn must end with zx_thread_exit() (it cannot return). */
static inline zx_status_t tu_thread_start(tu_thread_t *t, void (*fn)(uintptr_t, uintptr_t),
                                          uintptr_t arg1, uintptr_t arg2) {
    /* rsp = top - 8: the alignment a called C function expects. */
    return zx_thread_start(t->thread, (zx_vaddr_t)fn, t->stack + TU_STACK_SIZE - 8, arg1, arg2);
}

/* Waits for the thread to terminate (ZX_ERR_TIMED_OUT after timeout ns). */
static inline zx_status_t tu_thread_join(tu_thread_t *t, zx_duration_t timeout) {
    return zx_object_wait_one(t->thread, ZX_THREAD_TERMINATED, zx_deadline_after(timeout), NULL);
}

/* Only after the thread has terminated (or was never started). */
static inline void tu_thread_destroy(tu_thread_t *t) {
    if (t->thread)
        zx_handle_close(t->thread);
    if (t->stack)
        zx_vmar_unmap(zx_vmar_root_self(), t->stack, TU_STACK_SIZE);
    memset(t, 0, sizeof(*t));
}

#endif
