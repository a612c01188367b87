/*
 * Startup: read the processargs message, keep its handles, run main(), exit.
 *
 * A sender with more handles than one message can carry (the kernel starting userboot
 * with one VMO per boot module) queues continuation messages behind the first: each is a
 * processargs message with handle info only (no args, no names). They are read at once,
 * and their handles join the first message's in one table.
 */
#include <beryl/startup.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/processargs.h>
#include <zircon/syscalls.h>

#include "processargs_priv.h"

int main(int argc, char **argv);
__attribute__((noreturn)) void __beryl_start(zx_handle_t bootstrap, uintptr_t arg2);

/* The message stays here for the whole run: argv and the names point into it. */
static char msg_bytes[16384] __attribute__((aligned(8)));
static beryl_pa_msg_t msg;
/* Every startup handle with its info value: the first message's, then continuations'. */
static zx_handle_t startup_handles[BERYL_STARTUP_MAX_HANDLES];
static uint32_t startup_info[BERYL_STARTUP_MAX_HANDLES];
static uint32_t startup_count;
static volatile int handles_lock;

static void lock(void) {
    while (__atomic_exchange_n(&handles_lock, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
}

static void unlock(void) {
    __atomic_store_n(&handles_lock, 0, __ATOMIC_RELEASE);
}

static zx_handle_t find(uint32_t pa_info, bool take) {
    zx_handle_t h = ZX_HANDLE_INVALID;
    lock();
    for (uint32_t i = 0; i < startup_count; i++) {
        if (startup_info[i] == pa_info && startup_handles[i] != ZX_HANDLE_INVALID) {
            h = startup_handles[i];
            if (take)
                startup_handles[i] = ZX_HANDLE_INVALID;
            break;
        }
    }
    unlock();
    return h;
}

zx_handle_t beryl_take_startup_handle(uint32_t pa_info) { return find(pa_info, true); }
zx_handle_t zx_take_startup_handle(uint32_t hnd_info) { return find(hnd_info, true); }
zx_handle_t beryl_get_startup_handle(uint32_t pa_info) { return find(pa_info, false); }
zx_handle_t zx_process_self(void) { return find(PA_HND(PA_PROC_SELF, 0), false); }
zx_handle_t zx_vmar_root_self(void) { return find(PA_HND(PA_VMAR_ROOT, 0), false); }
zx_handle_t zx_thread_self(void) { return find(PA_HND(PA_THREAD_SELF, 0), false); }
zx_handle_t zx_job_default(void) { return find(PA_HND(PA_JOB_DEFAULT, 0), false); }
zx_handle_t beryl_resource(void) { return find(PA_HND(PA_RESOURCE, 0), false); }

const char *beryl_startup_name(uint32_t arg) {
    return arg < msg.num_names ? msg.names[arg] : NULL;
}

uint32_t beryl_startup_name_count(void) { return msg.num_names; }

const char *beryl_program_name(void) { return msg.argc > 0 ? msg.argv[0] : ""; }

/* Reports a broken start on the debug log and exits; nothing else works without it. */
static __attribute__((noreturn)) void start_failed(const char *what, zx_status_t st) {
    static const char prefix[] = "beryl runtime: bad startup message: ";
    zx_debug_write(prefix, sizeof(prefix) - 1);
    zx_debug_write(what, strlen(what));
    zx_debug_write("\n", 1);
    zx_process_exit(st < 0 ? st : -1);
}

/* Reads the continuation messages queued behind the first (see the file comment). */
static void read_continuations(zx_handle_t bootstrap) {
    static char cont_bytes[sizeof(zx_proc_args_t) + BERYL_PA_MAX_HANDLES * 4u]
        __attribute__((aligned(8)));
    static beryl_pa_msg_t cont;
    zx_handle_t hs[BERYL_PA_MAX_HANDLES];
    for (;;) {
        uint32_t nbytes = 0, nhandles = 0;
        zx_status_t st = zx_channel_read(bootstrap, 0, cont_bytes, hs, sizeof(cont_bytes),
                                         BERYL_PA_MAX_HANDLES, &nbytes, &nhandles);
        if (st == ZX_ERR_SHOULD_WAIT || st == ZX_ERR_PEER_CLOSED)
            return;
        if (st != ZX_OK)
            start_failed("zx_channel_read of a continuation failed", st);
        st = beryl_pa_parse(cont_bytes, nbytes, nhandles, &cont);
        if (st == ZX_OK && (cont.argc != 0 || cont.num_names != 0))
            st = ZX_ERR_INVALID_ARGS;
        if (st == ZX_OK && nhandles > BERYL_STARTUP_MAX_HANDLES - startup_count)
            st = ZX_ERR_OUT_OF_RANGE;
        if (st != ZX_OK) {
            zx_handle_close_many(hs, nhandles);
            start_failed("malformed processargs continuation", st);
        }
        for (uint32_t i = 0; i < nhandles; i++) {
            startup_handles[startup_count] = hs[i];
            startup_info[startup_count++] = cont.handle_info[i];
        }
    }
}

void __beryl_start(zx_handle_t bootstrap, uintptr_t arg2) {
    uint32_t nbytes = 0, nhandles = 0;
    zx_status_t st = zx_channel_read(bootstrap, 0, msg_bytes, startup_handles,
                                     sizeof(msg_bytes), BERYL_PA_MAX_HANDLES, &nbytes,
                                     &nhandles);
    if (st != ZX_OK)
        start_failed("zx_channel_read failed", st);
    st = beryl_pa_parse(msg_bytes, nbytes, nhandles, &msg);
    if (st != ZX_OK) {
        zx_handle_close_many(startup_handles, nhandles);
        start_failed("malformed processargs", st);
    }
    for (uint32_t i = 0; i < nhandles; i++)
        startup_info[i] = msg.handle_info[i];
    startup_count = nhandles;
    read_continuations(bootstrap);
    zx_handle_close(bootstrap);
    exit(main((int)msg.argc, (char **)msg.argv));
}
