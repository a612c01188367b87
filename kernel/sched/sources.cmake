# Sources of kernel/sched (relative to kernel/).
list(APPEND KERNEL_SOURCES
)
