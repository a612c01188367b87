/*
 * Per-thread state of the kobject layer's deferred release (object/kobject.c): whether
 * the thread is running an object's teardown, and the objects whose teardown waits for
 * it. Embedded in every thread_t (kernel/thread.h), so teardown never recurses however
 * deeply user space nested the objects. Only object/kobject.c touches the fields.
 */
#ifndef OBJECT_KOBJECT_RELEASE_H
#define OBJECT_KOBJECT_RELEASE_H

#include <stdbool.h>

struct kobject;

struct kobject_release_queue {
    struct kobject *head; /* oldest first, linked through kobject.release_next */
    struct kobject *tail;
    bool draining;        /* an outermost release runs on this thread */
};

#endif
