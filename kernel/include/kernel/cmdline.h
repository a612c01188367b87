/*
 * Kernel command line: whitespace-separated "key=value" or bare "flag" tokens.
 * Recognised keys: test=all|SUITE|SUITE.NAME, loglevel=N, pmm.fail_every=N,
 * pmm.fail_random=SEED[:PERMILLE], aslr.seed=N, kernel.enable-debugging-syscalls=BOOL,
 * kernel.debug-console=true|fault (see docs/running.md).
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keeps a private copy (truncated to CMDLINE_MAX-1 bytes) of the command line. */
#define CMDLINE_MAX 1024
void cmdline_init(const char *cmdline);

/*
 * Looks up key (non-NULL). Returns the value (not NUL-terminated: its length goes to *len) or NULL
 * if absent. A bare flag has an empty value. The last occurrence wins.
 */
const char *cmdline_get(const char *key, size_t *len);
bool cmdline_get_u64(const char *key, uint64_t *out);

/*
 * A boolean option as Zircon's boot options read one: absent gives `absent`; present,
 * the values "false", "0" and "off" are false and anything else (a bare flag, an empty
 * value, "true", "1", ...) is true.
 */
bool cmdline_get_bool(const char *key, bool absent);
const char *cmdline_raw(void);

#endif
