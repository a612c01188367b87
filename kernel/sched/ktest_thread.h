/*
 * Kernel threads for in-kernel tests (sched_ktest.c, mutex_ktest.c): start one, and wait
 * until the reaper is done with it, so a test's leak check sees its stack freed.
 */
#ifndef SCHED_KTEST_THREAD_H
#define SCHED_KTEST_THREAD_H

#include <kernel/thread.h>
#include <lib/string.h>

#define KT_MS 1000000ll

struct kt_thread {
    thread_t t; /* first: kt_reaped casts */
    volatile bool reaped;
};

static inline void kt_reaped(thread_t *t) { ((struct kt_thread *)t)->reaped = true; }

/* Starts fn(arg) on s, on the CPUs of `cpus` (online ones; CPU_MASK_ALL: anywhere).
 * Returns false only when out of memory (pmm.fail_* runs): the thread then counts as
 * reaped, and the test ends quietly. */
static inline bool kt_spawn_on(struct kt_thread *s, const char *name, thread_entry_t fn,
                               void *arg, cpu_mask_t cpus) {
    memset(s, 0, sizeof(*s));
    if (thread_init(&s->t, name, fn, arg) != ZX_OK) {
        s->reaped = true;
        return false;
    }
    s->t.on_reaped = kt_reaped;
    ASSERT(thread_set_affinity(&s->t, cpus) == ZX_OK);
    thread_start(&s->t);
    return true;
}

static inline bool kt_spawn(struct kt_thread *s, const char *name, thread_entry_t fn,
                            void *arg) {
    return kt_spawn_on(s, name, fn, arg, CPU_MASK_ALL);
}

/* Waits (sleeping a millisecond at a time) until s has exited and been reaped. */
static inline void kt_join(struct kt_thread *s) {
    while (!s->reaped)
        thread_sleep_until(current_time() + KT_MS);
}

#endif
