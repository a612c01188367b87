# Sources of kernel/syscall (relative to kernel/, or absolute for generated files).
list(APPEND KERNEL_SOURCES
  ${BERYL_SYSCALL_TABLE_C}
  # TEMPORARY: weak sys_* placeholders until every syscall is implemented.
  syscall/sys_stubs_tmp.c
)
