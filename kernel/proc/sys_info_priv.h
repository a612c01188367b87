/* zx_object_get_info topics implemented outside sys_info.c (kernel/proc). */
#ifndef PROC_SYS_INFO_PRIV_H
#define PROC_SYS_INFO_PRIV_H

#include <kernel/user_copy.h>
#include "proc_priv.h"

/*
 * ZX_INFO_PROCESS_MAPS / ZX_INFO_PROCESS_VMOS: write as many records as fit in
 * buffer_size bytes at buffer; *actual = records written, *avail = records there were.
 * BAD_STATE for a dead process, NO_MEMORY, INVALID_ARGS if buffer cannot be written.
 */
zx_status_t info_process_maps(process_t *p, user_addr_t buffer, size_t buffer_size,
                              size_t *actual, size_t *avail);
zx_status_t info_process_vmos(process_t *p, user_addr_t buffer, size_t buffer_size,
                              size_t *actual, size_t *avail);

#endif
