# Sources of kernel/vm: VMOs, VMARs, mappings and aspaces (relative to kernel/). Bottom
# up: the page tree and VMOs (vmo.c, copy-on-write children on it in vmo_child.c, the
# operations in vmo_ops.c, large blocks in vmo_blocks.c), then one mapping, the VMAR tree and the aspace
# (docs/architecture.md, "VMOs, VMARs, mappings and page faults").
list(APPEND KERNEL_SOURCES
  vm/page_tree.c
  vm/vmo.c
  vm/vmo_ops.c
  vm/vmo_blocks.c
  vm/vmo_attr.c
  vm/vmo_discard.c
  vm/vmo_ktest.c
  vm/vmar_place.c
  vm/vmar.c
  vm/vmar_protect.c
  vm/vmar_op_range.c
  vm/vm_aspace_info.c
  vm/vm_aspace_dump.c
  vm/vm_mapping.c
  vm/vm_aspace_ref.c
  vm/vm_aspace.c
  vm/vm_aslr.c
  vm/vm_aslr_ktest.c
  vm/vmar_ktest.c
  vm/vm_large_ktest.c
  vm/vmo_child.c
  vm/vmo_child_ktest.c
  vm/vm_kernel.c
  vm/vm_kernel_ktest.c
  vm/vm_bench.c
  vm/vm_smp_ktest.c
)
