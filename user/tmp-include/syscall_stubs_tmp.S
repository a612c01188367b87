/* TEMPORARY stand-in for the generated user stubs (see README.md). Numbers = order in
 * /work/plan/syscalls.txt; args in rdi, rsi, rdx, r10, r8, r9, r12, r13; result in rax. */
.text
.globl zx_syscall_test_0
.type zx_syscall_test_0,@function
zx_syscall_test_0:
    movq %rcx, %r10
    movl $0, %eax
    syscall
    ret
.size zx_syscall_test_0, .-zx_syscall_test_0
.globl zx_debug_write
.type zx_debug_write,@function
zx_debug_write:
    movq %rcx, %r10
    movl $1, %eax
    syscall
    ret
.size zx_debug_write, .-zx_debug_write
.globl zx_clock_get_monotonic
.type zx_clock_get_monotonic,@function
zx_clock_get_monotonic:
    movq %rcx, %r10
    movl $2, %eax
    syscall
    ret
.size zx_clock_get_monotonic, .-zx_clock_get_monotonic
.globl zx_nanosleep
.type zx_nanosleep,@function
zx_nanosleep:
    movq %rcx, %r10
    movl $3, %eax
    syscall
    ret
.size zx_nanosleep, .-zx_nanosleep
.globl zx_handle_close
.type zx_handle_close,@function
zx_handle_close:
    movq %rcx, %r10
    movl $4, %eax
    syscall
    ret
.size zx_handle_close, .-zx_handle_close
.globl zx_handle_close_many
.type zx_handle_close_many,@function
zx_handle_close_many:
    movq %rcx, %r10
    movl $5, %eax
    syscall
    ret
.size zx_handle_close_many, .-zx_handle_close_many
.globl zx_handle_duplicate
.type zx_handle_duplicate,@function
zx_handle_duplicate:
    movq %rcx, %r10
    movl $6, %eax
    syscall
    ret
.size zx_handle_duplicate, .-zx_handle_duplicate
.globl zx_handle_replace
.type zx_handle_replace,@function
zx_handle_replace:
    movq %rcx, %r10
    movl $7, %eax
    syscall
    ret
.size zx_handle_replace, .-zx_handle_replace
.globl zx_object_get_info
.type zx_object_get_info,@function
zx_object_get_info:
    movq %rcx, %r10
    movl $8, %eax
    syscall
    ret
.size zx_object_get_info, .-zx_object_get_info
.globl zx_object_get_property
.type zx_object_get_property,@function
zx_object_get_property:
    movq %rcx, %r10
    movl $9, %eax
    syscall
    ret
.size zx_object_get_property, .-zx_object_get_property
.globl zx_object_set_property
.type zx_object_set_property,@function
zx_object_set_property:
    movq %rcx, %r10
    movl $10, %eax
    syscall
    ret
.size zx_object_set_property, .-zx_object_set_property
.globl zx_object_wait_one
.type zx_object_wait_one,@function
zx_object_wait_one:
    movq %rcx, %r10
    movl $11, %eax
    syscall
    ret
.size zx_object_wait_one, .-zx_object_wait_one
.globl zx_object_signal
.type zx_object_signal,@function
zx_object_signal:
    movq %rcx, %r10
    movl $12, %eax
    syscall
    ret
.size zx_object_signal, .-zx_object_signal
.globl zx_thread_create
.type zx_thread_create,@function
zx_thread_create:
    movq %rcx, %r10
    movl $13, %eax
    syscall
    ret
.size zx_thread_create, .-zx_thread_create
.globl zx_thread_start
.type zx_thread_start,@function
zx_thread_start:
    movq %rcx, %r10
    movl $14, %eax
    syscall
    ret
.size zx_thread_start, .-zx_thread_start
.globl zx_thread_exit
.type zx_thread_exit,@function
zx_thread_exit:
    movq %rcx, %r10
    movl $15, %eax
    syscall
    ret
.size zx_thread_exit, .-zx_thread_exit
.globl zx_process_create
.type zx_process_create,@function
zx_process_create:
    movq %rcx, %r10
    movl $16, %eax
    syscall
    ret
.size zx_process_create, .-zx_process_create
.globl zx_process_start
.type zx_process_start,@function
zx_process_start:
    movq %rcx, %r10
    movl $17, %eax
    syscall
    ret
.size zx_process_start, .-zx_process_start
.globl zx_process_exit
.type zx_process_exit,@function
zx_process_exit:
    movq %rcx, %r10
    movl $18, %eax
    syscall
    ret
.size zx_process_exit, .-zx_process_exit
.globl zx_process_read_memory
.type zx_process_read_memory,@function
zx_process_read_memory:
    movq %rcx, %r10
    movl $19, %eax
    syscall
    ret
.size zx_process_read_memory, .-zx_process_read_memory
.globl zx_process_write_memory
.type zx_process_write_memory,@function
zx_process_write_memory:
    movq %rcx, %r10
    movl $20, %eax
    syscall
    ret
.size zx_process_write_memory, .-zx_process_write_memory
.globl zx_task_kill
.type zx_task_kill,@function
zx_task_kill:
    movq %rcx, %r10
    movl $21, %eax
    syscall
    ret
.size zx_task_kill, .-zx_task_kill
.globl zx_channel_create
.type zx_channel_create,@function
zx_channel_create:
    movq %rcx, %r10
    movl $22, %eax
    syscall
    ret
.size zx_channel_create, .-zx_channel_create
.globl zx_channel_write
.type zx_channel_write,@function
zx_channel_write:
    movq %rcx, %r10
    movl $23, %eax
    syscall
    ret
.size zx_channel_write, .-zx_channel_write
.globl zx_channel_read
.type zx_channel_read,@function
zx_channel_read:
    pushq %r12
    pushq %r13
    movq 24(%rsp), %r12
    movq 32(%rsp), %r13
    movq %rcx, %r10
    movl $24, %eax
    syscall
    popq %r13
    popq %r12
    ret
.size zx_channel_read, .-zx_channel_read
.globl zx_vmo_create
.type zx_vmo_create,@function
zx_vmo_create:
    movq %rcx, %r10
    movl $25, %eax
    syscall
    ret
.size zx_vmo_create, .-zx_vmo_create
.globl zx_vmo_read
.type zx_vmo_read,@function
zx_vmo_read:
    movq %rcx, %r10
    movl $26, %eax
    syscall
    ret
.size zx_vmo_read, .-zx_vmo_read
.globl zx_vmo_write
.type zx_vmo_write,@function
zx_vmo_write:
    movq %rcx, %r10
    movl $27, %eax
    syscall
    ret
.size zx_vmo_write, .-zx_vmo_write
.globl zx_vmo_get_size
.type zx_vmo_get_size,@function
zx_vmo_get_size:
    movq %rcx, %r10
    movl $28, %eax
    syscall
    ret
.size zx_vmo_get_size, .-zx_vmo_get_size
.globl zx_vmo_set_size
.type zx_vmo_set_size,@function
zx_vmo_set_size:
    movq %rcx, %r10
    movl $29, %eax
    syscall
    ret
.size zx_vmo_set_size, .-zx_vmo_set_size
.globl zx_vmo_op_range
.type zx_vmo_op_range,@function
zx_vmo_op_range:
    movq %rcx, %r10
    movl $30, %eax
    syscall
    ret
.size zx_vmo_op_range, .-zx_vmo_op_range
.globl zx_vmo_create_child
.type zx_vmo_create_child,@function
zx_vmo_create_child:
    movq %rcx, %r10
    movl $31, %eax
    syscall
    ret
.size zx_vmo_create_child, .-zx_vmo_create_child
.globl zx_vmo_replace_as_executable
.type zx_vmo_replace_as_executable,@function
zx_vmo_replace_as_executable:
    movq %rcx, %r10
    movl $32, %eax
    syscall
    ret
.size zx_vmo_replace_as_executable, .-zx_vmo_replace_as_executable
.globl zx_vmo_set_cache_policy
.type zx_vmo_set_cache_policy,@function
zx_vmo_set_cache_policy:
    movq %rcx, %r10
    movl $33, %eax
    syscall
    ret
.size zx_vmo_set_cache_policy, .-zx_vmo_set_cache_policy
.globl zx_vmar_allocate
.type zx_vmar_allocate,@function
zx_vmar_allocate:
    movq %rcx, %r10
    movl $34, %eax
    syscall
    ret
.size zx_vmar_allocate, .-zx_vmar_allocate
.globl zx_vmar_map
.type zx_vmar_map,@function
zx_vmar_map:
    pushq %r12
    pushq %r13
    movq 24(%rsp), %r12
    movq 32(%rsp), %r13
    movq %rcx, %r10
    movl $35, %eax
    syscall
    popq %r13
    popq %r12
    ret
.size zx_vmar_map, .-zx_vmar_map
.globl zx_vmar_unmap
.type zx_vmar_unmap,@function
zx_vmar_unmap:
    movq %rcx, %r10
    movl $36, %eax
    syscall
    ret
.size zx_vmar_unmap, .-zx_vmar_unmap
.globl zx_vmar_protect
.type zx_vmar_protect,@function
zx_vmar_protect:
    movq %rcx, %r10
    movl $37, %eax
    syscall
    ret
.size zx_vmar_protect, .-zx_vmar_protect
.globl zx_vmar_op_range
.type zx_vmar_op_range,@function
zx_vmar_op_range:
    movq %rcx, %r10
    movl $38, %eax
    syscall
    ret
.size zx_vmar_op_range, .-zx_vmar_op_range
.globl zx_vmar_destroy
.type zx_vmar_destroy,@function
zx_vmar_destroy:
    movq %rcx, %r10
    movl $39, %eax
    syscall
    ret
.size zx_vmar_destroy, .-zx_vmar_destroy
