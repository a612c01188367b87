# Sources of kernel/proc (relative to kernel/).
list(APPEND KERNEL_SOURCES
)
