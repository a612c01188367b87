/*
 * What the host tests of VMOs (test_vmo.c, test_vmo_pins.c) share: the
 * environment (real PMM, heap and page tree over mmu_host_env's simulated memory, the
 * zero page), the end-of-test leak check, memcpy copy callbacks for vmo_read/vmo_write,
 * and the scheduler's kill check that the VMO's lock breaks consult (vmo_host.c).
 */
#ifndef TESTS_HOST_VMO_HOST_H
#define TESTS_HOST_VMO_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vm/vmo.h>

#define P ((uint64_t)PAGE_SIZE)

/* Set by a test to act as a thread that was killed (thread_kill_pending returns it). */
extern bool host_killed;

/* Fresh PMM, heap and zero page; the PMM's free count is the baseline ENV_END checks. */
void env_start(void);

/* Fault injection off; fails the test if PMM pages or heap bytes are still held. */
void env_end_at(const char *file, int line);
#define ENV_END() env_end_at(__FILE__, __LINE__)

/* Copy callbacks: buf is the caller's side; copied counts the bytes moved so far. */
struct copy_ctx {
    uint8_t *buf;
    size_t copied;
};
zx_status_t copy_out(void *ctx, size_t done, void *kptr, size_t n); /* VMO -> buf */
zx_status_t copy_in(void *ctx, size_t done, void *kptr, size_t n);  /* buf -> VMO */

#endif
