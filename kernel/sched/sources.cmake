# Sources of kernel/sched (relative to kernel/): threads, scheduler, timer. The core
# (sched.c, and mutex.c on it) sits below kernel/vm; thread.c, which owns kernel stacks,
# above it.
list(APPEND KERNEL_SOURCES
  sched/sched.c
  sched/wait.c
  sched/thread.c
  sched/mutex.c
  sched/rw_mutex.c
  sched/lockdep.c
  sched/mutex_ktest.c
  sched/rw_mutex_ktest.c
  sched/sched_ktest.c
  sched/lockdep_ktest.c
  sched/smp_ktest.c
  sched/smp_bench.c
  arch/x86/context_switch.S
  arch/x86/lapic.c
  arch/x86/tsc.c
)
