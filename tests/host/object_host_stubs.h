/*
 * Host stand-ins for the kernel services under kernel/object (object_host_stubs.c):
 * kmalloc/kfree over malloc with a live-allocation counter, and wait queues that never
 * block (blocking is not exercised on the host).
 */
#ifndef OBJECT_HOST_STUBS_H
#define OBJECT_HOST_STUBS_H

#include <stddef.h>

/* Number of kmalloc'ed blocks not yet kfree'd. */
size_t host_kmalloc_live(void);

/* Makes the n-th kmalloc from now (1 = the next one) return NULL; 0 turns it off. */
void host_kmalloc_fail_nth(size_t n);

#endif
