/*
 * Kernel implementations of the handle, object and channel syscalls (numbering and
 * Zircon signatures in plan/syscalls.txt; every user pointer is a user_addr_t).
 * The syscall generator's dispatch table calls these.
 */
#ifndef OBJECT_OBJECT_SYSCALLS_H
#define OBJECT_OBJECT_SYSCALLS_H

#include <kernel/user_copy.h>
#include <zircon/types.h>

zx_status_t sys_handle_close(zx_handle_t handle);
zx_status_t sys_handle_close_many(user_addr_t handles, size_t num_handles);
zx_status_t sys_handle_duplicate(zx_handle_t handle, zx_rights_t rights, user_addr_t out);
zx_status_t sys_handle_replace(zx_handle_t handle, zx_rights_t rights, user_addr_t out);

zx_status_t sys_object_wait_one(zx_handle_t handle, zx_signals_t signals, zx_time_t deadline,
                                user_addr_t observed);
zx_status_t sys_object_signal(zx_handle_t handle, uint32_t clear_mask, uint32_t set_mask);

zx_status_t sys_channel_create(uint32_t options, user_addr_t out0, user_addr_t out1);
zx_status_t sys_channel_write(zx_handle_t handle, uint32_t options, user_addr_t bytes,
                              uint32_t num_bytes, user_addr_t handles, uint32_t num_handles);
zx_status_t sys_channel_read(zx_handle_t handle, uint32_t options, user_addr_t bytes,
                             user_addr_t handles, uint32_t num_bytes, uint32_t num_handles,
                             user_addr_t actual_bytes, user_addr_t actual_handles);

#endif
