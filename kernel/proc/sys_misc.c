/*
 * Small syscalls: the null syscall, console output, the monotonic clock, the tick
 * counter and sleeping.
 */
#include <arch/timer.h>
#include <kernel/console.h>
#include <kernel/syscall_impl.h>
#include <kernel/thread.h>
#include <kernel/user_copy.h>
#include <zircon/syscalls/object.h>
#include "proc_priv.h"

/* zx_debug_write copies the text in chunks of this size (bounded kernel stack use). */
#define DEBUG_WRITE_CHUNK 256u
/* And never more than this per call (Zircon's debuglog record limit is similar). */
#define DEBUG_WRITE_MAX 4096u

zx_status_t sys_syscall_test_0(void) { return ZX_OK; }

zx_status_t sys_debug_write(user_addr_t buffer, size_t buffer_size) {
    if (buffer_size > DEBUG_WRITE_MAX)
        buffer_size = DEBUG_WRITE_MAX;
    if (!user_range_ok(buffer, buffer_size))
        return ZX_ERR_INVALID_ARGS;
    char chunk[DEBUG_WRITE_CHUNK];
    for (size_t done = 0; done < buffer_size;) {
        size_t n = buffer_size - done < sizeof(chunk) ? buffer_size - done : sizeof(chunk);
        if (user_copy_from(chunk, buffer + done, n) != ZX_OK)
            return ZX_ERR_INVALID_ARGS;
        console_write(chunk, n);
        done += n;
    }
    return ZX_OK;
}

zx_time_t sys_clock_get_monotonic(void) { return current_time(); }

zx_ticks_t sys_ticks_get(void) { return current_ticks(); }

zx_ticks_t sys_ticks_per_second(void) { return ticks_per_second(); }

/* A kill while sleeping is acted on by the return-to-user check; the status is moot. */
zx_status_t sys_nanosleep(zx_time_t deadline) {
    uthread_set_block_reason(ZX_THREAD_STATE_BLOCKED_SLEEPING);
    zx_status_t st = thread_sleep_until(deadline);
    uthread_set_block_reason(ZX_THREAD_STATE_BLOCKED);
    return st == ZX_ERR_INTERNAL_INTR_KILLED ? st : ZX_OK;
}
