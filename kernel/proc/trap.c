/*
 * The generic side of exceptions from user mode and of user-copy faults
 * (<kernel/trap.h>): page faults go to the VM of the calling thread's user aspace; what
 * nothing resolves goes to restricted mode or kills the process.
 */
#include <kernel/trap.h>
#include <vm/vm_aspace.h>
#include "proc_priv.h"

/* trap.h's fault flags are the VM's, bit for bit, so nothing is translated. */
_Static_assert(TRAP_PF_WRITE == VM_PF_WRITE && TRAP_PF_EXECUTE == VM_PF_EXECUTE &&
                   TRAP_PF_USER == VM_PF_USER && TRAP_PF_NOT_PRESENT == VM_PF_NOT_PRESENT,
               "TRAP_PF_* and VM_PF_* agree");

zx_status_t trap_page_fault(uintptr_t va, uint32_t flags) {
    thread_t *t = thread_current(); /* NULL before the scheduler starts */
    vm_aspace_t *as = t ? t->aspace : NULL;
    if (!as)
        return ZX_ERR_NOT_FOUND;
    return vm_aspace_page_fault(as, va, flags);
}

void trap_user_exception(arch_iframe_t *f, zx_status_t vm_status, const char *what) {
    if (!restricted_exception(f, vm_status, what))
        uthread_exception_kill(f, vm_status, what);
}
