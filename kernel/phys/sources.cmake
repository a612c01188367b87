# Sources of kernel/phys (relative to kernel/): the vm_page array, boot memory ranges, the
# PMM and the kernel heap.
list(APPEND KERNEL_SOURCES
  phys/vm_page.c
  phys/memrange.c
  phys/pmm.c
  phys/heap.c
  phys/pmm_ktest.c
  phys/heap_ktest.c
)
