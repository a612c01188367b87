/* Process creation from user space (beryl_launch, beryl_wait_exit; <beryl/launch.h>). */
#include <beryl/launch.h>
#include <string.h>
#include <zircon/processargs.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#include "processargs_priv.h"

/* Handles beryl_launch itself puts in every startup message, before the caller's extras. */
enum { FIXED_PROC, FIXED_VMAR, FIXED_THREAD, FIXED_JOB, FIXED_EXE, NUM_FIXED };

static void close_all(const zx_handle_t *h, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        if (h[i] != ZX_HANDLE_INVALID)
            zx_handle_close(h[i]);
    }
}

/* The child's PA_VMO_EXECUTABLE: exe with its rights cut to BERYL_LAUNCH_EXE_RIGHTS. */
static zx_status_t dup_exe(zx_handle_t exe, zx_handle_t *out) {
    zx_info_handle_basic_t info;
    zx_status_t st = zx_object_get_info(exe, ZX_INFO_HANDLE_BASIC, &info, sizeof(info), NULL,
                                        NULL);
    if (st != ZX_OK)
        return st;
    return zx_handle_duplicate(exe, info.rights & BERYL_LAUNCH_EXE_RIGHTS, out);
}

/* Maps a fresh stack VMO anywhere in vmar; *sp is its 16-byte aligned top. */
static zx_status_t map_stack(zx_handle_t vmar, zx_vaddr_t *sp) {
    zx_handle_t vmo;
    zx_status_t st = zx_vmo_create(BERYL_LAUNCH_STACK_SIZE, 0, &vmo);
    if (st != ZX_OK)
        return st;
    zx_vaddr_t base;
    st = zx_vmar_map(vmar, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0,
                     BERYL_LAUNCH_STACK_SIZE, &base);
    zx_handle_close(vmo);
    if (st == ZX_OK)
        *sp = base + BERYL_LAUNCH_STACK_SIZE;
    return st;
}

zx_status_t beryl_launch(const beryl_launch_args_t *a, zx_handle_t *proc_out) {
    zx_handle_t handles[BERYL_PA_MAX_HANDLES];
    uint32_t infos[BERYL_PA_MAX_HANDLES];
    zx_handle_t proc = ZX_HANDLE_INVALID, vmar = ZX_HANDLE_INVALID;
    zx_handle_t thread = ZX_HANDLE_INVALID, ch0 = ZX_HANDLE_INVALID, ch1 = ZX_HANDLE_INVALID;
    uint32_t nh = NUM_FIXED + a->num_handles;
    zx_status_t st = ZX_OK;

    if (a->num_handles > BERYL_PA_MAX_HANDLES - NUM_FIXED || a->argc < 0) {
        close_all(a->handles, a->num_handles > BERYL_PA_MAX_HANDLES ? BERYL_PA_MAX_HANDLES
                                                                     : a->num_handles);
        return ZX_ERR_OUT_OF_RANGE;
    }
    for (uint32_t i = 0; i < NUM_FIXED; i++)
        handles[i] = ZX_HANDLE_INVALID;
    for (uint32_t i = 0; i < a->num_handles; i++) {
        handles[NUM_FIXED + i] = a->handles[i];
        infos[NUM_FIXED + i] = a->handle_infos[i];
    }
    infos[FIXED_PROC] = PA_HND(PA_PROC_SELF, 0);
    infos[FIXED_VMAR] = PA_HND(PA_VMAR_ROOT, 0);
    infos[FIXED_THREAD] = PA_HND(PA_THREAD_SELF, 0);
    infos[FIXED_JOB] = PA_HND(PA_JOB_DEFAULT, 0);
    infos[FIXED_EXE] = PA_HND(PA_VMO_EXECUTABLE, 0);

    /* The message goes first into a buffer: a bad argv then fails before any syscall. */
    static char msg_buf[8192];
    static volatile int msg_lock;
    while (__atomic_exchange_n(&msg_lock, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
    uint32_t msg_len;
    st = beryl_pa_build(msg_buf, sizeof(msg_buf), infos, nh, a->argv, (uint32_t)a->argc,
                        a->names, a->num_names, &msg_len);

    const char *name = a->name != NULL ? a->name : "";
    zx_vaddr_t entry = 0, sp = 0;
    if (st == ZX_OK && a->into_proc != ZX_HANDLE_INVALID) {
        st = zx_handle_duplicate(a->into_proc, ZX_RIGHT_SAME_RIGHTS, &proc);
        if (st == ZX_OK)
            st = zx_handle_duplicate(a->into_vmar, ZX_RIGHT_SAME_RIGHTS, &vmar);
    } else if (st == ZX_OK) {
        st = zx_process_create(a->job, name, strlen(name), 0, &proc, &vmar);
    }
    if (st == ZX_OK)
        st = beryl_elf_load(vmar, a->exe_vmo, &entry);
    if (st == ZX_OK)
        st = map_stack(vmar, &sp);
    if (st == ZX_OK)
        st = zx_thread_create(proc, "main", 4, 0, &thread);
    if (st == ZX_OK)
        st = zx_channel_create(0, &ch0, &ch1);
    if (st == ZX_OK)
        st = zx_handle_duplicate(proc, ZX_RIGHT_SAME_RIGHTS, &handles[FIXED_PROC]);
    if (st == ZX_OK)
        st = zx_handle_duplicate(vmar, ZX_RIGHT_SAME_RIGHTS, &handles[FIXED_VMAR]);
    if (st == ZX_OK)
        st = zx_handle_duplicate(thread, ZX_RIGHT_SAME_RIGHTS, &handles[FIXED_THREAD]);
    if (st == ZX_OK)
        st = zx_handle_duplicate(a->job, ZX_RIGHT_SAME_RIGHTS, &handles[FIXED_JOB]);
    if (st == ZX_OK)
        st = dup_exe(a->exe_vmo, &handles[FIXED_EXE]);
    if (st == ZX_OK) {
        /* zx_channel_write consumes the handles whether or not it succeeds. */
        st = zx_channel_write(ch0, 0, msg_buf, msg_len, handles, nh);
        nh = 0;
    }
    __atomic_store_n(&msg_lock, 0, __ATOMIC_RELEASE);
    if (st == ZX_OK) {
        /* zx_process_start takes ch1 in all cases. */
        st = zx_process_start(proc, thread, entry, sp, ch1, 0);
        ch1 = ZX_HANDLE_INVALID;
    }

    close_all(handles, nh);
    zx_handle_t mine[] = {ch0, ch1, thread, vmar};
    close_all(mine, 4);
    if (st != ZX_OK) {
        /* The process never ran; dropping its only handle destroys it (into_proc: the
         * caller still holds it). */
        if (proc != ZX_HANDLE_INVALID)
            zx_handle_close(proc);
        return st;
    }
    *proc_out = proc;
    return ZX_OK;
}

zx_status_t beryl_wait_exit(zx_handle_t proc, zx_time_t deadline, int64_t *retcode) {
    zx_signals_t observed = 0;
    zx_status_t st = zx_object_wait_one(proc, ZX_PROCESS_TERMINATED, deadline, &observed);
    if (st != ZX_OK)
        return st;
    zx_info_process_t info;
    st = zx_object_get_info(proc, ZX_INFO_PROCESS, &info, sizeof(info), NULL, NULL);
    if (st != ZX_OK)
        return st;
    *retcode = info.return_code;
    return ZX_OK;
}
