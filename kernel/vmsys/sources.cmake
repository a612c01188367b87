# Sources of kernel/vmsys: the VMO and VMAR dispatchers (their kernel objects) and syscalls
# 25-39 (relative to kernel/).
list(APPEND KERNEL_SOURCES
  vmsys/vmsys_rules.c
  vmsys/vmo_dispatcher.c
  vmsys/vmar_dispatcher.c
  vmsys/sys_vmo.c
  vmsys/sys_vmar.c
  vmsys/vmsys_ktest.c
)
