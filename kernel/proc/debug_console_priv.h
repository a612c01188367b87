/*
 * Inside the kernel debug console (kernel/proc/debug_console*.c; the switch and the
 * hooks are in debug_console.h). Three files, layered so that the hooks other code calls
 * never call back up into the commands:
 *   debug_console.c          the switch, and the gate: sessions are requested (kmain,
 *                            faulting threads) and served one at a time
 *   debug_console_session.c  the console's thread: serves each request, reads command
 *                            lines from the serial port and dispatches them
 *   debug_console_cmds.c     the commands
 */
#ifndef PROC_DEBUG_CONSOLE_PRIV_H
#define PROC_DEBUG_CONSOLE_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <kernel/thread.h>
#include <zircon/types.h>

/* Why a session opens. */
enum debug_console_reason {
    DEBUG_CONSOLE_AFTER_SUITE, /* the user suite ended (status in rc) */
    DEBUG_CONSOLE_AT_FAULT,    /* a user thread faulted (process, thread) */
};

/* One request for a session: on the requester's stack while it waits. */
struct debug_console_request {
    enum debug_console_reason reason;
    int64_t rc;                 /* AFTER_SUITE: userboot's status */
    zx_koid_t process_koid;     /* AT_FAULT: the faulting thread's process */
    char process_name[ZX_MAX_NAME_LEN];
    const thread_t *thread;     /* AT_FAULT: the faulting thread (it waits in the gate) */
    bool done;                  /* the gate's lock: the session has ended */
};

/* debug_console.c: whether the command line switches the console on (a value it does
 * not understand leaves it off, with a message), and in *at_faults whether it also
 * stops at user faults. */
bool debug_console_parse_switch(bool *at_faults);
/* debug_console.c: opens the gate (called once the console's thread runs). */
void debug_console_gate_open(bool at_faults);
/* debug_console.c: blocks the console's thread until a session is requested; returns
 * the request (the requester waits until debug_console_request_done). */
struct debug_console_request *debug_console_next_request(void);
void debug_console_request_done(struct debug_console_request *r);

/* debug_console_cmds.c: the commands; args are the command line's words after the
 * command's name (argc of them), each NUL-terminated. `stopped` is the thread the
 * session's requester stopped (NULL: none), which `threads` marks. */
void debug_console_cmd_ps(void);
void debug_console_cmd_threads(const thread_t *stopped);
void debug_console_cmd_vmar(int argc, char **args);
void debug_console_cmd_aspace(int argc, char **args);
void debug_console_cmd_walk(int argc, char **args);
void debug_console_cmd_pmm(void);
void debug_console_cmd_heap(void);
void debug_console_cmd_irqoff(void);

#endif
