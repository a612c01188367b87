/*
 * Handles a process received at startup (Zircon's <zircon/process.h>). Each returns the
 * handle from the bootstrap message, still owned by the runtime (do not close it), or
 * ZX_HANDLE_INVALID if the creator did not send one or it was taken with
 * beryl_take_startup_handle().
 */
#ifndef ZIRCON_PROCESS_H
#define ZIRCON_PROCESS_H

#include <zircon/types.h>

zx_handle_t zx_process_self(void);
zx_handle_t zx_vmar_root_self(void);
zx_handle_t zx_thread_self(void);
zx_handle_t zx_job_default(void);

/* Returns the handle sent with info value hnd_info (PA_HND(type, arg)) and forgets it:
 * the caller owns it from now on. ZX_HANDLE_INVALID if absent or already taken. */
zx_handle_t zx_take_startup_handle(uint32_t hnd_info);

#endif
