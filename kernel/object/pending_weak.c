/*
 * TEMPORARY weak stand-ins for interfaces implemented on other branches (wait queues:
 * kernel/sched; user copy and process_current_handles: kernel/proc), so that this
 * branch links and its ktests boot on its own. The real definitions are strong and
 * replace these at link time; delete this file (and its line in sources.cmake) once
 * they are merged.
 */
#include <kernel/panic.h>
#include <kernel/user_copy.h>
#include <kernel/wait.h>
#include <object/process.h>

#define WEAK __attribute__((weak))

WEAK void wait_queue_init(wait_queue_t *wq) {
    list_init(&wq->threads);
    wq->count = 0;
}

WEAK zx_status_t wait_queue_block(wait_queue_t *wq, spinlock_t *lock, zx_time_t deadline) {
    panic("wait_queue_block: scheduler not merged yet");
}

WEAK int wait_queue_wake_one(wait_queue_t *wq, zx_status_t status) {
    return 0;
}

WEAK int wait_queue_wake_all(wait_queue_t *wq, zx_status_t status) {
    return 0;
}

WEAK bool user_range_ok(user_addr_t addr, size_t len) {
    return false;
}

WEAK zx_status_t user_copy_from(void *dst, user_addr_t src, size_t len) {
    return len == 0 ? ZX_OK : ZX_ERR_INVALID_ARGS;
}

WEAK zx_status_t user_copy_to(user_addr_t dst, const void *src, size_t len) {
    return len == 0 ? ZX_OK : ZX_ERR_INVALID_ARGS;
}

WEAK handle_table_t *process_current_handles(void) {
    panic("process_current_handles: kernel/proc not merged yet");
}
