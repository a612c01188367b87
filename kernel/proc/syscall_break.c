/*
 * debug.break=syscall:NAME's stop (<kernel/debug_break.h>): on entry to the named
 * syscall, the calling process and thread are named on the console and the debugger
 * stops on the calling thread, in its address space, before the syscall runs.
 */
#include <kernel/debug_break.h>
#include <kernel/trap.h>
#include "proc_priv.h"

/* Contract in <kernel/trap.h>. Interrupts are on (syscall entry). */
void trap_syscall_break(uint64_t num, uintptr_t user_pc) {
    if (!debug_break_syscall_armed(num))
        return;
    uthread_t *ut = uthread_current();
    char pname[ZX_MAX_NAME_LEN] = "?", tname[ZX_MAX_NAME_LEN] = "?";
    if (ut) {
        task_copy_name(&ut->proc->obj, ut->proc->name, pname);
        task_copy_name(&ut->obj, ut->name, tname);
    }
    debug_break_stop(user_pc,
                     "syscall %s from process \"%s\" thread \"%s\", returning to pc 0x%lx",
                     debug_break_syscall_name(num), pname, tname, user_pc);
}
