/*
 * TEMPORARY: weak placeholders for every sys_* so the kernel links while the
 * real implementations are being written. A strong definition elsewhere
 * replaces each one. Delete this file once every syscall is implemented.
 * (Regenerate with tools/gen_syscalls.py --write-weak-stubs.)
 */
#include <kernel/syscall_impl.h>

__attribute__((weak)) zx_status_t sys_syscall_test_0(void) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_debug_write(user_addr_t buffer, size_t buffer_size) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_time_t sys_clock_get_monotonic(void) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_nanosleep(zx_time_t deadline) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_handle_close(zx_handle_t handle) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_handle_close_many(user_addr_t handles, size_t num_handles) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_handle_duplicate(zx_handle_t handle, zx_rights_t rights, user_addr_t out) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_handle_replace(zx_handle_t handle, zx_rights_t rights, user_addr_t out) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_object_get_info(zx_handle_t handle, uint32_t topic, user_addr_t buffer, size_t buffer_size, user_addr_t actual, user_addr_t avail) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_object_get_property(zx_handle_t handle, uint32_t property, user_addr_t value, size_t value_size) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_object_set_property(zx_handle_t handle, uint32_t property, user_addr_t value, size_t value_size) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_object_wait_one(zx_handle_t handle, zx_signals_t signals, zx_time_t deadline, user_addr_t observed) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_object_signal(zx_handle_t handle, uint32_t clear_mask, uint32_t set_mask) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_thread_create(zx_handle_t process, user_addr_t name, size_t name_size, uint32_t options, user_addr_t out) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_thread_start(zx_handle_t handle, zx_vaddr_t thread_entry, zx_vaddr_t stack, uintptr_t arg1, uintptr_t arg2) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) void sys_thread_exit(void) {
    for (;;) {
    }
}

__attribute__((weak)) zx_status_t sys_process_create(zx_handle_t job, user_addr_t name, size_t name_size, uint32_t options, user_addr_t proc_handle, user_addr_t vmar_handle) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_process_start(zx_handle_t handle, zx_handle_t thread, zx_vaddr_t entry, zx_vaddr_t stack, zx_handle_t arg1, uintptr_t arg2) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) void sys_process_exit(int64_t retcode) {
    for (;;) {
    }
}

__attribute__((weak)) zx_status_t sys_process_read_memory(zx_handle_t handle, zx_vaddr_t vaddr, user_addr_t buffer, size_t buffer_size, user_addr_t actual) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_process_write_memory(zx_handle_t handle, zx_vaddr_t vaddr, user_addr_t buffer, size_t buffer_size, user_addr_t actual) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_task_kill(zx_handle_t handle) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_channel_create(uint32_t options, user_addr_t out0, user_addr_t out1) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_channel_write(zx_handle_t handle, uint32_t options, user_addr_t bytes, uint32_t num_bytes, user_addr_t handles, uint32_t num_handles) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_channel_read(zx_handle_t handle, uint32_t options, user_addr_t bytes, user_addr_t handles, uint32_t num_bytes, uint32_t num_handles, user_addr_t actual_bytes, user_addr_t actual_handles) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmo_create(uint64_t size, uint32_t options, user_addr_t out) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmo_read(zx_handle_t handle, user_addr_t buffer, uint64_t offset, size_t buffer_size) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmo_write(zx_handle_t handle, user_addr_t buffer, uint64_t offset, size_t buffer_size) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmo_get_size(zx_handle_t handle, user_addr_t size) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmo_set_size(zx_handle_t handle, uint64_t size) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmo_op_range(zx_handle_t handle, uint32_t op, uint64_t offset, uint64_t size, user_addr_t buffer, size_t buffer_size) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmo_create_child(zx_handle_t handle, uint32_t options, uint64_t offset, uint64_t size, user_addr_t out) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmo_replace_as_executable(zx_handle_t handle, zx_handle_t vmex, user_addr_t out) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmo_set_cache_policy(zx_handle_t handle, uint32_t cache_policy) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmar_allocate(zx_handle_t parent_vmar, zx_vm_option_t options, size_t offset, size_t size, user_addr_t child_vmar, user_addr_t child_addr) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmar_map(zx_handle_t handle, zx_vm_option_t options, size_t vmar_offset, zx_handle_t vmo, uint64_t vmo_offset, size_t len, user_addr_t mapped_addr) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmar_unmap(zx_handle_t handle, zx_vaddr_t addr, size_t len) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmar_protect(zx_handle_t handle, zx_vm_option_t options, zx_vaddr_t addr, size_t len) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmar_op_range(zx_handle_t handle, uint32_t op, zx_vaddr_t address, size_t size, user_addr_t buffer, size_t buffer_size) {
    return ZX_ERR_NOT_SUPPORTED;
}

__attribute__((weak)) zx_status_t sys_vmar_destroy(zx_handle_t handle) {
    return ZX_ERR_NOT_SUPPORTED;
}
