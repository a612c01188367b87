# Sources of kernel/object (relative to kernel/).
list(APPEND KERNEL_SOURCES
  object/kobject.c
  object/handle_table.c
  object/channel.c
  object/gc.c
  object/sys_handle.c
  object/sys_channel.c
  object/sys_object.c
  object/event.c
  object/sys_event.c
  object/sys_wait.c
  object/port.c
  object/sys_port.c
  object/timer.c
  object/sys_timer.c
  object/object_ktest.c
  object/handle_table_ktest.c
)
