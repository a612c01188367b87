/* The processargs startup message (see processargs_priv.h). */
#include "processargs_priv.h"
#include "string_priv.h"

/* Collects count NUL-terminated strings starting at off; all must end inside the message. */
static zx_status_t parse_strings(const char *bytes, uint32_t num_bytes, uint32_t off,
                                 uint32_t count, uint32_t max, const char **out) {
    if (count > max)
        return ZX_ERR_OUT_OF_RANGE;
    if (count == 0)
        return ZX_OK;
    if (off > num_bytes)
        return ZX_ERR_INVALID_ARGS;
    for (uint32_t i = 0; i < count; i++) {
        size_t len = BERYL_LIBC(strnlen)(bytes + off, num_bytes - off);
        if (len == num_bytes - off)
            return ZX_ERR_INVALID_ARGS;
        out[i] = bytes + off;
        off += (uint32_t)len + 1;
    }
    return ZX_OK;
}

zx_status_t beryl_pa_parse(const void *bytes, uint32_t num_bytes, uint32_t num_handles,
                           beryl_pa_msg_t *out) {
    const char *b = bytes;
    zx_proc_args_t hdr;
    if (num_bytes < sizeof(hdr))
        return ZX_ERR_INVALID_ARGS;
    BERYL_LIBC(memcpy)(&hdr, b, sizeof(hdr));
    if (hdr.protocol != ZX_PROCARGS_PROTOCOL || hdr.version != ZX_PROCARGS_VERSION)
        return ZX_ERR_INVALID_ARGS;
    if (num_handles > BERYL_PA_MAX_HANDLES)
        return ZX_ERR_OUT_OF_RANGE;
    if (num_handles > 0 &&
        (hdr.handle_info_off % 4 != 0 || hdr.handle_info_off < sizeof(hdr) ||
         hdr.handle_info_off > num_bytes ||
         (num_bytes - hdr.handle_info_off) / 4 < num_handles))
        return ZX_ERR_INVALID_ARGS;

    static const beryl_pa_msg_t empty;
    beryl_pa_msg_t m = empty;
    m.num_handles = num_handles;
    if (num_handles > 0)
        BERYL_LIBC(memcpy)(m.handle_info, b + hdr.handle_info_off, num_handles * 4u);
    zx_status_t st =
        parse_strings(b, num_bytes, hdr.args_off, hdr.args_num, BERYL_PA_MAX_ARGS, m.argv);
    if (st != ZX_OK)
        return st;
    m.argc = hdr.args_num;
    m.argv[m.argc] = NULL;
    st = parse_strings(b, num_bytes, hdr.names_off, hdr.names_num, BERYL_PA_MAX_NAMES,
                       m.names);
    if (st != ZX_OK)
        return st;
    m.num_names = hdr.names_num;
    *out = m;
    return ZX_OK;
}

/* Appends count strings at *off; false if they do not fit in cap. */
static bool put_strings(char *buf, size_t cap, uint32_t *off, const char *const *s,
                        uint32_t count) {
    for (uint32_t i = 0; i < count; i++) {
        size_t len = BERYL_LIBC(strlen)(s[i]) + 1;
        if (len > cap - *off)
            return false;
        BERYL_LIBC(memcpy)(buf + *off, s[i], len);
        *off += (uint32_t)len;
    }
    return true;
}

zx_status_t beryl_pa_build(void *buf, size_t cap, const uint32_t *infos, uint32_t num_handles,
                           const char *const *argv, uint32_t argc, const char *const *names,
                           uint32_t num_names, uint32_t *len_out) {
    if (num_handles > BERYL_PA_MAX_HANDLES || argc > BERYL_PA_MAX_ARGS ||
        num_names > BERYL_PA_MAX_NAMES)
        return ZX_ERR_OUT_OF_RANGE;
    if (cap > ZX_CHANNEL_MAX_MSG_BYTES)
        cap = ZX_CHANNEL_MAX_MSG_BYTES;
    zx_proc_args_t hdr = {
        .protocol = ZX_PROCARGS_PROTOCOL,
        .version = ZX_PROCARGS_VERSION,
        .handle_info_off = sizeof(zx_proc_args_t),
    };
    uint32_t off = hdr.handle_info_off + num_handles * 4u;
    if (off > cap)
        return ZX_ERR_BUFFER_TOO_SMALL;
    char *b = buf;
    if (num_handles > 0)
        BERYL_LIBC(memcpy)(b + hdr.handle_info_off, infos, num_handles * 4u);
    hdr.args_off = off;
    hdr.args_num = argc;
    if (!put_strings(b, cap, &off, argv, argc))
        return ZX_ERR_BUFFER_TOO_SMALL;
    hdr.names_off = off;
    hdr.names_num = num_names;
    if (!put_strings(b, cap, &off, names, num_names))
        return ZX_ERR_BUFFER_TOO_SMALL;
    BERYL_LIBC(memcpy)(b, &hdr, sizeof(hdr));
    *len_out = off;
    return ZX_OK;
}
