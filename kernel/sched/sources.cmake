# Sources of kernel/sched (relative to kernel/): threads, scheduler, timer.
list(APPEND KERNEL_SOURCES
  sched/sched.c
  sched/mutex.c
  sched/mutex_ktest.c
  sched/sched_ktest.c
  arch/x86/context_switch.S
  arch/x86/lapic.c
  arch/x86/tsc.c
)
