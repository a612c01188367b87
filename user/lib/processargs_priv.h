/*
 * Parsing and building of the processargs startup message (<zircon/processargs.h>).
 * Pure logic, also built for the host tests.
 */
#ifndef BERYL_PROCESSARGS_PRIV_H
#define BERYL_PROCESSARGS_PRIV_H

#include <zircon/processargs.h>
#include <zircon/types.h>

#define BERYL_PA_MAX_HANDLES 64u /* ZX_CHANNEL_MAX_MSG_HANDLES */
#define BERYL_PA_MAX_ARGS 32u
#define BERYL_PA_MAX_NAMES 256u
/* Handles a process can receive at startup, over the first message and its continuation
 * messages (start.c). */
#define BERYL_STARTUP_MAX_HANDLES 320u

typedef struct beryl_pa_msg {
    uint32_t num_handles;
    uint32_t handle_info[BERYL_PA_MAX_HANDLES];
    uint32_t argc;
    const char *argv[BERYL_PA_MAX_ARGS + 1]; /* NULL-terminated */
    uint32_t num_names;
    const char *names[BERYL_PA_MAX_NAMES];
} beryl_pa_msg_t;

/*
 * Checks a received message (num_bytes bytes that came with num_handles handles) and
 * fills *out with pointers into bytes. ZX_ERR_INVALID_ARGS for a wrong protocol, version,
 * offset, count or an unterminated string; ZX_ERR_OUT_OF_RANGE when it has more handles,
 * args or names than the limits above. *out is only written on success.
 */
zx_status_t beryl_pa_parse(const void *bytes, uint32_t num_bytes, uint32_t num_handles,
                           beryl_pa_msg_t *out);

/*
 * Writes a message into buf (cap bytes): header, num_handles info values, argc args and
 * num_names names. *len_out is the message length. ZX_ERR_BUFFER_TOO_SMALL if it does not
 * fit (buf contents then undefined); ZX_ERR_OUT_OF_RANGE past the limits above.
 */
zx_status_t beryl_pa_build(void *buf, size_t cap, const uint32_t *infos, uint32_t num_handles,
                           const char *const *argv, uint32_t argc, const char *const *names,
                           uint32_t num_names, uint32_t *len_out);

#endif
