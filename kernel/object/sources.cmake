# Sources of kernel/object (relative to kernel/).
list(APPEND KERNEL_SOURCES
)
