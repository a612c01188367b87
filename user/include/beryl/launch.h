/*
 * ELF loading and process launching from user space.
 *
 * Executables are static x86-64 ELF files (ET_EXEC) in a VMO that has READ, MAP,
 * DUPLICATE and, for executable segments, EXECUTE rights.
 */
#ifndef BERYL_LAUNCH_H
#define BERYL_LAUNCH_H

#include <zircon/types.h>

#include <zircon/rights.h>

/* Size of the main-thread stack beryl_launch() maps for a new process. */
#define BERYL_LAUNCH_STACK_SIZE ((size_t)64 * 1024)

/* The most a launched process gets of its executable VMO (PA_VMO_EXECUTABLE): enough to
 * read it, map it and launch it again (copy-on-write children need DUPLICATE | READ),
 * never to change it for the other processes started from it. */
#define BERYL_LAUNCH_EXE_RIGHTS \
    (ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_MAP | ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_EXECUTE)

/*
 * Maps every PT_LOAD segment of the ELF in exe_vmo into vmar at its link address with
 * exactly its permissions. Every segment's file pages come from a private copy-on-write
 * child of exe_vmo (ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE; made executable again for a
 * code segment), so writes to them, a debugger's included, never reach exe_vmo or another
 * process; the bss comes from a fresh VMO. exe_vmo needs no WRITE right. On success
 * *entry is the ELF entry point. Errors:
 * ZX_ERR_NOT_SUPPORTED for a valid ELF Beryl cannot run (not x86-64 / ET_EXEC / 64-bit),
 * ZX_ERR_INVALID_ARGS for a malformed file, or the failing syscall's status; on failure
 * everything mapped so far is unmapped again. Borrows both handles.
 */
zx_status_t beryl_elf_load(zx_handle_t vmar, zx_handle_t exe_vmo, zx_vaddr_t *entry);

typedef struct beryl_launch_args {
    zx_handle_t job;              /* borrowed; needs MANAGE_PROCESS and DUPLICATE */
    const char *name;             /* process name */
    zx_handle_t exe_vmo;          /* borrowed; the ELF; a duplicate with at most
                                   * BERYL_LAUNCH_EXE_RIGHTS goes as PA_VMO_EXECUTABLE */
    int argc;
    const char *const *argv;      /* argc strings */
    /* Extra handles with their PA_HND() info values. ALWAYS consumed (closed on failure). */
    const zx_handle_t *handles;
    const uint32_t *handle_infos;
    uint32_t num_handles;
    const char *const *names;     /* optional names table (PA_VMO_BOOTFS args index it) */
    uint32_t num_names;
    /* Optional: load into this existing, unstarted process (borrowed; e.g. one made by
     * zx_process_create_shared) and its VMAR `into_vmar` (borrowed) instead of creating
     * a process in job. The new process's PA_VMAR_ROOT is then into_vmar. */
    zx_handle_t into_proc;
    zx_handle_t into_vmar;
} beryl_launch_args_t;

/*
 * Creates a process in a->job (or takes a->into_proc), loads the ELF, maps a BERYL_LAUNCH_STACK_SIZE stack,
 * sends the processargs message (PA_PROC_SELF, PA_VMAR_ROOT, PA_THREAD_SELF,
 * PA_JOB_DEFAULT, PA_VMO_EXECUTABLE, then a->handles) and starts its first thread at the
 * entry point with the bootstrap channel in %rdi. On success *proc_out is the process
 * handle (caller owns it). On failure nothing created survives and the extra handles are
 * closed.
 */
zx_status_t beryl_launch(const beryl_launch_args_t *a, zx_handle_t *proc_out);

/*
 * Waits until proc terminates or the monotonic deadline passes (ZX_ERR_TIMED_OUT), then
 * stores its return code in *retcode. Borrows proc.
 */
zx_status_t beryl_wait_exit(zx_handle_t proc, zx_time_t deadline, int64_t *retcode);

#endif
