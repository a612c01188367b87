/*
 * Thread lifecycle above the VM (contracts in <kernel/thread.h>): every thread's guarded
 * kernel stack comes from the kernel VMAR here and goes back here, in thread_init,
 * thread_destroy_unstarted and the reaper; the scheduler core below (sched.c) runs
 * threads on stacks it is given and never calls the VM. This file also brings the
 * scheduler up (the idle and reaper threads need stacks).
 *
 * The reaper frees what a dead thread cannot free itself: the core queues each thread
 * once the CPU has left it, and the reaper, a kernel thread that the dying thread hands
 * the CPU to, takes them one at a time in the order they died (sched_reap_next).
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <kernel/assert.h>
#include <kernel/thread.h>
#include <lib/string.h>
#include <vm/vm_kernel.h>
#include "sched_priv.h"

#define KERNEL_STACK_SIZE ((size_t)16 << 10)

static thread_t idle_storage;
static thread_t reaper_storage;

zx_status_t thread_init(thread_t *t, const char *name, thread_entry_t entry, void *arg) {
    struct vm_kernel_stack ks;
    vaddr_t top;
    zx_status_t st = vm_kernel_stack_alloc(KERNEL_STACK_SIZE, &top, &ks);
    if (st != ZX_OK) {
        memset(t, 0, sizeof(*t));
        return st == ZX_ERR_NO_RESOURCES ? ZX_ERR_NO_MEMORY : st;
    }
    sched_thread_init(t, name, entry, arg, ks.base, top);
    t->kstack = ks;
    return ZX_OK;
}

void thread_destroy_unstarted(thread_t *t) {
    DEBUG_ASSERT(t->state == THREAD_INITIAL);
    vm_kernel_stack_free(&t->kstack);
    t->state = THREAD_DEAD;
}

static int idle_loop(void *arg) {
    (void)arg;
    for (;;)
        arch_idle();
}

/* Frees the stacks of dead threads and calls their owners' on_reaped, with interrupts
 * on, one thread at a time in the order they died. It runs right after each death
 * (the core lets it run next), so a thread's memory comes back about as soon as it has
 * exited. */
static int reaper_loop(void *arg) {
    (void)arg;
    for (;;) {
        thread_t *d = sched_reap_next();
        vm_kernel_stack_free(&d->kstack);
        if (d->on_reaped)
            d->on_reaped(d); /* may free d */
    }
}

void sched_init(void) {
    sched_bootstrap();
    ASSERT(thread_init(&idle_storage, "idle", idle_loop, NULL) == ZX_OK);
    ASSERT(thread_init(&reaper_storage, "reaper", reaper_loop, NULL) == ZX_OK);
    sched_start(&idle_storage, &reaper_storage);
}
