# Sources of kernel/syscall (relative to kernel/, or absolute for generated files).
list(APPEND KERNEL_SOURCES
  ${BERYL_SYSCALL_TABLE_C}
)
