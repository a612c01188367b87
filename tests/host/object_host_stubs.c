/* Host stand-ins for kernel/object: see object_host_stubs.h. */
#include "object_host_stubs.h"

#include <stdlib.h>
#include <string.h>

#include <kernel/wait.h>
#include <phys/heap.h>

static size_t live;
static size_t fail_countdown;

/* kobject.c's release queue lives in the current thread; the host runs one at a time. */
static thread_t host_main_thread;
static thread_t *host_current = &host_main_thread;

thread_t *thread_current(void) { return host_current; }

thread_t *host_set_current_thread(thread_t *t) {
    thread_t *old = host_current;
    host_current = t != NULL ? t : &host_main_thread;
    return old;
}

size_t host_kmalloc_live(void) { return live; }

void host_kmalloc_fail_nth(size_t n) { fail_countdown = n; }

void *kmalloc(size_t size) {
    if (size == 0)
        return NULL;
    if (fail_countdown != 0 && --fail_countdown == 0)
        return NULL;
    void *p = malloc(size);
    if (p != NULL)
        live++;
    return p;
}

void *kzalloc(size_t size) {
    void *p = kmalloc(size);
    if (p != NULL)
        memset(p, 0, size);
    return p;
}

void kfree(void *ptr) {
    if (ptr == NULL)
        return;
    live--;
    free(ptr);
}

void wait_queue_init(wait_queue_t *wq) {
    list_init(&wq->threads);
    wq->count = 0;
    wq->pending_wakes = 0;
    wq->pending_status = ZX_OK;
}

zx_status_t wait_queue_block(wait_queue_t *wq, spinlock_t *lock, zx_time_t deadline) {
    /* Nobody else runs on the host: a wait can only time out. */
    (void)wq;
    (void)lock;
    (void)deadline;
    return ZX_ERR_TIMED_OUT;
}

int wait_queue_wake_one(wait_queue_t *wq, zx_status_t status) { return 0; }
int wait_queue_wake_all(wait_queue_t *wq, zx_status_t status) { return 0; }
