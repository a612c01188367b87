/*
 * The kernel debug console's switch and its gate (debug_console.h; the files are
 * described in debug_console_priv.h).
 *
 * The gate serves session requests one at a time: a requester (kmain after the suite, a
 * faulting user thread) waits until no other request is pending, posts its own, wakes
 * the console's thread and waits, uninterruptibly, until that session is done. Two
 * threads of a process that fault together thus get one session each, in turn.
 *
 * Locking: gate_lock (a spinlock, irqsave) guards gate_pending and every request's
 * `done`, and is the guarding lock of both wait queues. gate_open and gate_at_faults are
 * written once, before user space exists, and only read afterwards.
 */
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/spinlock.h>
#include <kernel/wait.h>
#include <lib/string.h>
#include "debug_console.h"
#include "debug_console_priv.h"
#include "proc_priv.h"

/* The values of kernel.debug-console besides the booleans (cmdline_get_bool's). */
#define DEBUG_CONSOLE_VALUE_FAULT "fault"

static spinlock_t gate_lock = SPIN_LOCK_INIT_CLASS(DEBUG_CONSOLE_GATE);
static wait_queue_t gate_requests; /* the console's thread, while nothing is pending */
static wait_queue_t gate_done;     /* requesters: for their turn, then for their end */
/* The request being served or about to be; NULL when the console is idle. */
static struct debug_console_request *gate_pending TA_GUARDED(gate_lock);
static bool gate_is_open;
static bool gate_at_faults;

/* Whether the value [v, v + len) is one of the words in the NULL-terminated list. */
static bool value_is(const char *v, size_t len, const char *const *words) {
    for (; *words; words++)
        if (len == strlen(*words) && memcmp(v, *words, len) == 0)
            return true;
    return false;
}

bool debug_console_parse_switch(bool *at_faults) {
    static const char *const off[] = {"false", "0", "off", NULL};
    static const char *const on[] = {"", "true", "1", "on", NULL};
    static const char *const fault[] = {DEBUG_CONSOLE_VALUE_FAULT, NULL};
    size_t len;
    const char *v = cmdline_get(DEBUG_CONSOLE_OPTION, &len);
    *at_faults = v && value_is(v, len, fault);
    if (!v || value_is(v, len, off))
        return false;
    if (value_is(v, len, on) || value_is(v, len, fault))
        return true;
    printf("debug console: unknown value %s=\"%.*s\" (known: true, fault, false); the "
           "console stays off\n", DEBUG_CONSOLE_OPTION, (int)len, v);
    return false;
}

void debug_console_gate_open(bool at_faults) {
    wait_queue_init(&gate_requests);
    wait_queue_init(&gate_done);
    gate_at_faults = at_faults;
    gate_is_open = true;
}

/* Posts r, waits until its session has ended. Interrupts on, no lock held. */
static void gate_serve(struct debug_console_request *r) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&gate_lock, &s);
    while (gate_pending)
        wait_queue_block_uninterruptible(&gate_done, &gate_lock, false);
    r->done = false;
    gate_pending = r;
    wait_queue_wake_one(&gate_requests, ZX_OK);
    while (!r->done)
        wait_queue_block_uninterruptible(&gate_done, &gate_lock, false);
    spin_unlock_irqrestore(&gate_lock, s);
}

struct debug_console_request *debug_console_next_request(void) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&gate_lock, &s);
    while (!gate_pending)
        wait_queue_block_uninterruptible(&gate_requests, &gate_lock, false);
    struct debug_console_request *r = gate_pending;
    spin_unlock_irqrestore(&gate_lock, s);
    return r;
}

void debug_console_request_done(struct debug_console_request *r) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&gate_lock, &s);
    r->done = true;
    gate_pending = NULL;
    wait_queue_wake_all(&gate_done, ZX_OK);
    spin_unlock_irqrestore(&gate_lock, s);
}

void debug_console_after_suite(int64_t rc) {
    if (!gate_is_open)
        return;
    struct debug_console_request r = {.reason = DEBUG_CONSOLE_AFTER_SUITE, .rc = rc};
    gate_serve(&r);
}

void debug_console_at_fault(void) {
    if (!gate_is_open || !gate_at_faults)
        return;
    uthread_t *ut = uthread_current();
    struct debug_console_request r = {.reason = DEBUG_CONSOLE_AT_FAULT,
                                      .process_koid = ut->proc->obj.koid,
                                      .thread = &ut->thread};
    task_copy_name(&ut->proc->obj, ut->proc->name, r.process_name);
    gate_serve(&r);
}
