/*
 * Kernel entry points of syscalls 25-39 (syscall-abi/syscalls.def): every user pointer is
 * a user_addr_t. The syscall table's generated header declares the same prototypes.
 */
#ifndef VMSYS_SYS_VM_H
#define VMSYS_SYS_VM_H

#include <kernel/user_copy.h>
#include <zircon/types.h>

zx_status_t sys_vmo_create(uint64_t size, uint32_t options, user_addr_t out);
zx_status_t sys_vmo_read(zx_handle_t handle, user_addr_t buffer, uint64_t offset,
                         size_t buffer_size);
zx_status_t sys_vmo_write(zx_handle_t handle, user_addr_t buffer, uint64_t offset,
                          size_t buffer_size);
zx_status_t sys_vmo_get_size(zx_handle_t handle, user_addr_t size);
zx_status_t sys_vmo_set_size(zx_handle_t handle, uint64_t size);
zx_status_t sys_vmo_op_range(zx_handle_t handle, uint32_t op, uint64_t offset, uint64_t size,
                             user_addr_t buffer, size_t buffer_size);
zx_status_t sys_vmo_create_child(zx_handle_t handle, uint32_t options, uint64_t offset,
                                 uint64_t size, user_addr_t out);
zx_status_t sys_vmo_replace_as_executable(zx_handle_t handle, zx_handle_t vmex,
                                          user_addr_t out);
zx_status_t sys_vmo_set_cache_policy(zx_handle_t handle, uint32_t cache_policy);
zx_status_t sys_vmar_allocate(zx_handle_t parent_vmar, zx_vm_option_t options, size_t offset,
                              size_t size, user_addr_t child_vmar, user_addr_t child_addr);
zx_status_t sys_vmar_map(zx_handle_t handle, zx_vm_option_t options, size_t vmar_offset,
                         zx_handle_t vmo, uint64_t vmo_offset, size_t len,
                         user_addr_t mapped_addr);
zx_status_t sys_vmar_unmap(zx_handle_t handle, zx_vaddr_t addr, size_t len);
zx_status_t sys_vmar_protect(zx_handle_t handle, zx_vm_option_t options, zx_vaddr_t addr,
                             size_t len);
zx_status_t sys_vmar_op_range(zx_handle_t handle, uint32_t op, zx_vaddr_t address, size_t size,
                              user_addr_t buffer, size_t buffer_size);
zx_status_t sys_vmar_destroy(zx_handle_t handle);

#endif
