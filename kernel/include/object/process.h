/*
 * Processes (ZX_OBJ_TYPE_PROCESS): a handle table, a user aspace with its root VMAR, and
 * threads. Full interface in kernel/proc; this part is what other subsystems need.
 */
#ifndef OBJECT_PROCESS_H
#define OBJECT_PROCESS_H

#include <object/handle.h>

typedef struct process process_t;

/* The process of the calling user thread (NULL on a pure kernel thread). The pointer is
 * valid for the duration of the syscall. */
process_t *process_current(void);

/* The calling process's handle table (syscalls only). */
handle_table_t *process_current_handles(void);

handle_table_t *process_handles(process_t *p);

#endif
