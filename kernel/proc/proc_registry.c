/*
 * The process registry (contracts in proc_priv.h): a list of every published process,
 * kept only while the kernel debug console is enabled, so that the console can list
 * processes and find one by koid (a job here does not track its processes).
 *
 * Locking: registry_lock, a mutex, guards the list, the count and every registry_node.
 * A mutex rather than a spinlock because a reader walks the whole list (its length is
 * user space's choice), which must not run with interrupts off; joining and leaving
 * happen in thread context (process_publish, process_destroy), where blocking is
 * allowed. The list holds no reference: process_destroy leaves it before the memory is
 * freed, so under the lock every node is valid memory, and kobject_try_ref tells whether
 * the process may still be used.
 */
#include "proc_priv.h"
#include <kernel/mutex.h>

static mutex_t registry_lock = MUTEX_INITIAL_VALUE_CLASS(registry_lock, PROC_REGISTRY);
static struct list_node registry TA_GUARDED(registry_lock) = LIST_INITIAL_VALUE(registry);
static size_t registry_count TA_GUARDED(registry_lock);
/* Set once at boot, before the first process exists; read without the lock after. */
static bool registry_enabled;

void proc_registry_enable(void) { registry_enabled = true; }

void proc_registry_add(process_t *p) {
    if (!registry_enabled)
        return;
    mutex_acquire(&registry_lock);
    list_add_tail(&registry, &p->registry_node);
    registry_count++;
    mutex_release(&registry_lock);
}

void proc_registry_remove(process_t *p) {
    if (!registry_enabled)
        return;
    mutex_acquire(&registry_lock);
    if (list_in_list(&p->registry_node)) {
        list_delete(&p->registry_node);
        registry_count--;
    }
    mutex_release(&registry_lock);
}

size_t proc_registry_snapshot(process_t **out, size_t cap, size_t *total) {
    size_t n = 0;
    mutex_acquire(&registry_lock);
    *total = registry_count;
    for (struct list_node *node = registry.next; node != &registry && n < cap;
         node = node->next) {
        process_t *p = containerof(node, process_t, registry_node);
        if (kobject_try_ref(&p->obj))
            out[n++] = p;
    }
    mutex_release(&registry_lock);
    return n;
}

process_t *proc_registry_find(zx_koid_t koid) {
    process_t *found = NULL;
    mutex_acquire(&registry_lock);
    for (struct list_node *node = registry.next; node != &registry; node = node->next) {
        process_t *p = containerof(node, process_t, registry_node);
        if (p->obj.koid == koid) {
            if (kobject_try_ref(&p->obj))
                found = p;
            break;
        }
    }
    mutex_release(&registry_lock);
    return found;
}
