/*
 * Helpers for test programs that build shared process families (shared_process.c,
 * handle_cycles_family.c). Header-only; every program includes it once.
 *
 * A family is a ZX_PROCESS_SHARED prototype plus up to FAM_MAX_MEMBERS members made
 * with zx_process_create_shared. Code that must run inside a member is the test program
 * itself, launched into the member with `<argv0> --member SCENARIO ARG` (each program
 * dispatches that in its own main); its return code says how it went.
 */
#ifndef FAMILY_UTIL_H
#define FAMILY_UTIL_H

#include <beryl/launch.h>
#include <beryl/startup.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <string.h>
#include <zircon/processargs.h>
#include <zircon/syscalls.h>

#define FAM_MAX_MEMBERS 4
#define FAM_SHARED_BASE 0x400000001000ull
#define FAM_SHARED_SIZE 0x3FFFFFFFE000ull
#define FAM_RESTRICTED_BASE 0x200000ull
#define FAM_RESTRICTED_SIZE 0x3FFFFFE00000ull
#define FAM_RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)

typedef struct family {
    zx_handle_t proto, shared_vmar;
    zx_handle_t proc[FAM_MAX_MEMBERS], rvmar[FAM_MAX_MEMBERS];
} family_t;

/* A prototype and `members` members (all unstarted). The status of the first failing
 * call; whatever was made is in *f (family_destroy cleans up). */
static inline zx_status_t family_create(family_t *f, int members) {
    memset(f, 0, sizeof(*f));
    zx_status_t st = zx_process_create(zx_job_default(), "proto", 5, ZX_PROCESS_SHARED,
                                       &f->proto, &f->shared_vmar);
    for (int i = 0; st == ZX_OK && i < members; i++)
        st = zx_process_create_shared(f->proto, 0, "member", 6, &f->proc[i], &f->rvmar[i]);
    return st;
}

/* Kills the process, waits for it to end, closes the handle (nothing if invalid). */
static inline void fam_kill_and_close(zx_handle_t *proc) {
    if (*proc == ZX_HANDLE_INVALID)
        return;
    tu_task_kill_wait(*proc);
    zx_handle_close(*proc);
    *proc = ZX_HANDLE_INVALID;
}

/* Closes without killing (a handle already given away is ZX_HANDLE_INVALID). */
static inline void fam_close(zx_handle_t *h) {
    if (*h != ZX_HANDLE_INVALID)
        zx_handle_close(*h);
    *h = ZX_HANDLE_INVALID;
}

static inline void family_destroy(family_t *f) {
    for (int i = 0; i < FAM_MAX_MEMBERS; i++) {
        fam_kill_and_close(&f->proc[i]);
        fam_close(&f->rvmar[i]);
    }
    fam_kill_and_close(&f->proto);
    fam_close(&f->shared_vmar);
}

/*
 * Starts this program (argv[0] = prog) in member i of f with `--member scenario arg`.
 * extra[0..n) (n <= TU_LAUNCH_MAX_HANDLES) go as PA_USER0, PA_USER0+1, ...
 * (PA_HND(PA_USER0, k)); they are consumed in every case and, once the member has read
 * its bootstrap message, sit in the family's handle table.
 */
static inline zx_status_t fam_start(family_t *f, int i, const char *prog, const char *scenario,
                                    uint64_t arg, const zx_handle_t *extra, uint32_t n) {
    char hex[24];
    snprintf(hex, sizeof(hex), "%lx", (unsigned long)arg);
    const char *argv[] = {prog, "--member", scenario, hex};
    return tu_launch_self_into(f->proc[i], f->rvmar[i], "member", 4, argv, extra, n);
}

/* Waits up to 20 s for member i to end; its return code (-9998 on timeout). */
static inline int64_t fam_wait(family_t *f, int i) {
    int64_t rc = -9999;
    if (beryl_wait_exit(f->proc[i], zx_deadline_after(20 * TU_SEC), &rc) != ZX_OK)
        return -9998;
    return rc;
}

/* One page of a new VMO mapped in the shared region (0 on failure); the VMO handle goes
 * to *vmo_out if that is not NULL (else it is closed). */
static inline zx_vaddr_t fam_map_shared_page(family_t *f, zx_handle_t *vmo_out) {
    zx_handle_t vmo;
    zx_vaddr_t a = 0;
    if (zx_vmo_create(TU_PAGE, 0, &vmo) != ZX_OK)
        return 0;
    if (zx_vmar_map(f->shared_vmar, FAM_RW, 0, vmo, 0, TU_PAGE, &a) != ZX_OK)
        a = 0;
    if (vmo_out && a)
        *vmo_out = vmo;
    else
        zx_handle_close(vmo);
    return a;
}

#endif
