# Sources of kernel/syscall (relative to kernel/).
list(APPEND KERNEL_SOURCES
)
