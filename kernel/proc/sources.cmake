# Sources of kernel/proc (relative to kernel/): tasks, their side of traps, userboot.
list(APPEND KERNEL_SOURCES
  proc/trap.c
  proc/process.c
  proc/process_dump.c
  proc/process_shared.c
  proc/restricted_mode.c
  proc/restricted.c
  proc/uthread.c
  proc/fault_report.c
  proc/syscall_break.c
  proc/job.c
  proc/sys_task.c
  proc/sys_info.c
  proc/sys_info_vm.c
  proc/sys_misc.c
  proc/sys_profile.c
  proc/userboot.c
  proc/proc_registry.c
  proc/debug_console.c
  proc/debug_console_session.c
  proc/debug_console_cmds.c
  proc/proc_registry_ktest.c
  proc/user_copy_ktest.c
)
