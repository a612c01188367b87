/*
 * Processes (ZX_OBJ_TYPE_PROCESS): a handle table, a user aspace with its root VMAR, and
 * threads. Full interface in kernel/proc; this part is what other subsystems need.
 */
#ifndef OBJECT_PROCESS_H
#define OBJECT_PROCESS_H

#include <stdint.h>
#include <object/handle.h>

typedef struct process process_t;

/* The process of the calling user thread (NULL on a pure kernel thread). The pointer is
 * valid for the duration of the syscall. */
process_t *process_current(void);

/* The calling process's handle table (syscalls only). */
handle_table_t *process_current_handles(void);

handle_table_t *process_handles(process_t *p);

/*
 * Records why the calling user thread is about to block (a ZX_THREAD_STATE_BLOCKED_*
 * value), for ZX_INFO_THREAD; pass ZX_THREAD_STATE_BLOCKED again once it is awake. No-op
 * on a pure kernel thread.
 */
void uthread_set_block_reason(uint32_t state);

#endif
