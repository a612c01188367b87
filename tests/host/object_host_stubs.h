/*
 * Host stand-ins for the kernel services under kernel/object (object_host_stubs.c):
 * kmalloc/kfree over malloc with a live-allocation counter, wait queues that never
 * block (blocking is not exercised on the host), and thread_current(), whose thread_t
 * carries kobject.c's release queue.
 */
#ifndef OBJECT_HOST_STUBS_H
#define OBJECT_HOST_STUBS_H

#include <stddef.h>
#include <kernel/thread.h>

/* Number of kmalloc'ed blocks not yet kfree'd. */
size_t host_kmalloc_live(void);

/* Makes the n-th kmalloc from now (1 = the next one) return NULL; 0 turns it off. */
void host_kmalloc_fail_nth(size_t n);

/* Makes t the thread thread_current() returns (NULL: the default one); returns the
 * previous one. Tests use it to act "from another thread". */
thread_t *host_set_current_thread(thread_t *t);

#endif
