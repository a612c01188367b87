/*
 * Kernel command line: a private copy of the boot loader's string, searched on demand.
 *
 * Tokens are separated by runs of whitespace (space, tab, and also CR/LF in case a boot
 * loader passes them through). A token is either "key=value" (the value is everything
 * after the first '=', so it may itself contain '=') or a bare "flag" whose value is
 * empty. Keys match exactly: "test" matches neither "testing=1" nor "pmm.test=1".
 * There is no quoting. The copy is written once at boot, before other CPUs run, so no
 * lock is needed.
 */
#include <kernel/cmdline.h>

#include <lib/string.h>

static char cmdline_buf[CMDLINE_MAX];

static bool is_separator(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Copies cmdline (NULL means empty), truncating it to CMDLINE_MAX-1 bytes. */
void cmdline_init(const char *cmdline) {
    kstrlcpy(cmdline_buf, cmdline ? cmdline : "", sizeof(cmdline_buf));
}

/*
 * Returns the value of the last token whose key is exactly key, with its length in *len
 * (len may be NULL). The value is not NUL-terminated. A bare flag yields a non-NULL
 * pointer with length 0. Returns NULL if key is absent or empty.
 */
const char *cmdline_get(const char *key, size_t *len) {
    size_t key_len = strlen(key);
    const char *found = NULL;
    size_t found_len = 0;

    if (key_len == 0)
        return NULL;
    for (const char *p = cmdline_buf; *p;) {
        while (is_separator(*p))
            p++;
        if (!*p)
            break;

        /* The token is [start, end); its key stops at the first '=' (if any). */
        const char *start = p;
        const char *eq = NULL;
        while (*p && !is_separator(*p)) {
            if (*p == '=' && !eq)
                eq = p;
            p++;
        }
        const char *end = p;
        const char *key_end = eq ? eq : end;

        if ((size_t)(key_end - start) == key_len && memcmp(start, key, key_len) == 0) {
            found = eq ? eq + 1 : end;
            found_len = (size_t)(end - found);
        }
    }
    if (found && len)
        *len = found_len;
    return found;
}

/*
 * Parses key's value as a decimal or 0x-prefixed hex number. Returns false (leaving *out
 * alone) if the key is absent, is a bare flag, or its value is not a valid number.
 */
bool cmdline_get_u64(const char *key, uint64_t *out) {
    size_t len;
    const char *value = cmdline_get(key, &len);
    if (!value)
        return false;
    return kparse_u64(value, len, out);
}

/* Contract in the header. */
bool cmdline_get_bool(const char *key, bool absent) {
    size_t len;
    const char *value = cmdline_get(key, &len);
    if (!value)
        return absent;
    static const char *const falsy[] = {"false", "0", "off"};
    for (size_t i = 0; i < sizeof(falsy) / sizeof(falsy[0]); i++)
        if (len == strlen(falsy[i]) && memcmp(value, falsy[i], len) == 0)
            return false;
    return true;
}

/* The whole (possibly truncated) command line, NUL-terminated. */
const char *cmdline_raw(void) {
    return cmdline_buf;
}
