/* An exception in restricted mode: a create_shared process (this program again, with
 * --sharer, loaded into its restricted region) enters restricted mode at crash_outer,
 * which writes two calls deep into a page it protected read-only. The exception goes
 * back to normal mode (ZX_RESTRICTED_REASON_EXCEPTION), which checks the report in the
 * state VMO and exits 0. With fault.report_restricted=true the kernel first prints the
 * full user fault report "in restricted mode": the restricted registers, the mapping in
 * the restricted aspace, and this program's names and lines for the restricted frames
 * (qemu.user_fault_report_restricted; without the switch, no report:
 * qemu.user_fault_report_restricted_off). */
#include <beryl/test_util.h>
#include <zircon/syscalls-next.h>
#include "crash.h"

#define CRASH_STACK_PAGES 4
#define CRASH_RFLAGS_IF 0x202
#define CRASH_PF_VECTOR 14
#define CRASH_SETUP_FAILED 10
#define CRASH_WRONG_EXIT 11
/* Where in the read-only page the restricted code writes (the report's VMO offset). */
#define CRASH_WRITE_OFFSET 0x20

/* Normal mode's vector: a bare `ret` makes zx_restricted_enter return the reason. */
extern char crash_vector[];
__asm__(".text\n"
        ".globl crash_vector\n"
        "crash_vector:\n"
        "    ret\n");

/* Run in restricted mode, entered directly (no caller): the write faults, so neither
 * returns. */
__attribute__((noinline)) void crash_inner(volatile uint8_t *p);
__attribute__((noinline)) void crash_outer(volatile uint8_t *p);

__attribute__((noinline)) void crash_inner(volatile uint8_t *p) {
    *p = 1;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void crash_outer(volatile uint8_t *p) {
    crash_inner(p);
    __asm__ volatile("" ::: "memory");
}

/* The sharer: sets up a stack and a read-only page in the restricted region (its root
 * VMAR), enters restricted mode at crash_outer, and checks what comes back. */
static int sharer_main(void) {
    zx_handle_t state;
    if (zx_restricted_bind_state(0, &state) != ZX_OK)
        return CRASH_SETUP_FAILED;
    uintptr_t stack = crash_map_named("crash-restricted-stack", CRASH_STACK_PAGES);
    uintptr_t ro = crash_map_named("crash-restricted-ro", 1);
    if (zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, ro, CRASH_PAGE) != ZX_OK)
        return CRASH_SETUP_FAILED;
    /* As if called: rsp + 8 is 16-aligned, and the return address 0 ends the backtrace. */
    uintptr_t top = stack + CRASH_STACK_PAGES * CRASH_PAGE - sizeof(uint64_t);
    *(volatile uint64_t *)top = 0;
    zx_restricted_state_t st;
    memset(&st, 0, sizeof(st));
    st.ip = (uintptr_t)crash_outer;
    st.rsp = top;
    st.rdi = ro + CRASH_WRITE_OFFSET;
    st.flags = CRASH_RFLAGS_IF;
    if (zx_vmo_write(state, &st, 0, sizeof(st)) != ZX_OK)
        return CRASH_SETUP_FAILED;
    printf("crash: entering restricted mode at 0x%lx, writing to 0x%lx\n",
           (unsigned long)st.ip, (unsigned long)st.rdi);
    int64_t reason = zx_restricted_enter(0, (uintptr_t)crash_vector, 0);
    zx_restricted_exception_t exc;
    if (zx_vmo_read(state, &exc, 0, sizeof(exc)) != ZX_OK)
        return CRASH_SETUP_FAILED;
    const zx_x86_64_exc_data_t *x = &exc.exception.context.arch.u.x86_64;
    printf("crash: back in normal mode: reason %lld, vector %lu, cr2 0x%lx\n",
           (long long)reason, (unsigned long)x->vector, (unsigned long)x->cr2);
    return reason == ZX_RESTRICTED_REASON_EXCEPTION && x->vector == CRASH_PF_VECTOR &&
                   x->cr2 == ro + CRASH_WRITE_OFFSET
               ? 0
               : CRASH_WRONG_EXIT;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--sharer") == 0)
        return sharer_main();
    zx_handle_t proto, shared_vmar, proc, rvmar;
    if (zx_process_create(zx_job_default(), "crash-proto", 11, ZX_PROCESS_SHARED, &proto,
                          &shared_vmar) != ZX_OK ||
        zx_process_create_shared(proto, 0, "crash-sharer", 12, &proc, &rvmar) != ZX_OK)
        return CRASH_SETUP_FAILED;
    const char *args[] = {"crash/restricted", "--sharer"};
    int64_t rc = -1;
    if (tu_launch_self_into(proc, rvmar, "crash-sharer", 2, args, NULL, 0) != ZX_OK ||
        beryl_wait_exit(proc, zx_deadline_after(20 * TU_SEC), &rc) != ZX_OK)
        return CRASH_SETUP_FAILED;
    printf("crash: the sharer exited with %lld\n", (long long)rc);
    return (int)rc;
}
