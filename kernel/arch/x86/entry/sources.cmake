# Sources of the entry layer, kernel/arch/x86/entry (relative to kernel/): exception,
# interrupt and syscall entry, user copies. Calls up only through <kernel/trap.h>.
list(APPEND KERNEL_SOURCES
  arch/x86/entry/exceptions.S
  arch/x86/entry/exception.c
  arch/x86/entry/idt.c
  arch/x86/entry/irq.c
  arch/x86/entry/syscall_entry.S
  arch/x86/entry/syscall.c
  arch/x86/entry/syscall_init.c
  arch/x86/entry/user_copy.S
  arch/x86/entry/user_copy.c
)
