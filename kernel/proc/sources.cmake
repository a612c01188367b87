# Sources of kernel/proc (relative to kernel/): tasks, user mode entry, userboot.
list(APPEND KERNEL_SOURCES
  proc/user_copy.S
  proc/user_copy.c
  proc/user_entry.S
  proc/syscall.c
  proc/process.c
  proc/process_shared.c
  proc/restricted.c
  proc/uthread.c
  proc/job.c
  proc/sys_task.c
  proc/sys_info.c
  proc/sys_info_vm.c
  proc/sys_misc.c
  proc/userboot.c
  proc/user_copy_ktest.c
)
