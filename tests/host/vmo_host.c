/* See vmo_host.h. */
#include "vmo_host.h"

#include <string.h>

#include <kernel/thread.h>
#include <phys/heap.h>
#include <phys/pmm.h>

#include "htest.h"
#include "mmu_host_env.h"

bool host_killed;
static size_t baseline_free;

bool thread_kill_pending(void) { return host_killed; }

void env_start(void) {
    mmu_env_init(MMU_ENV_DEFAULT_BYTES);
    vmo_zero_page_init();
    heap_trim(); /* the heap's spare empty slabs are not in use (phys/heap.h) */
    baseline_free = pmm_count_free_pages();
    host_killed = false;
}

void env_end_at(const char *file, int line) {
    pmm_fault_inject_every(0);
    pmm_fault_inject_random(0, 0);
    host_killed = false;
    heap_trim();
    if (pmm_count_free_pages() != baseline_free)
        htest_fail(file, line, "leak: %zu PMM pages still allocated",
                   baseline_free - pmm_count_free_pages());
    if (heap_bytes_in_use() != 0)
        htest_fail(file, line, "heap still holds %zu bytes", heap_bytes_in_use());
}

zx_status_t copy_out(void *ctx, size_t done, void *kptr, size_t n) {
    struct copy_ctx *c = ctx;
    memcpy(c->buf + done, kptr, n);
    c->copied = done + n;
    return ZX_OK;
}

zx_status_t copy_in(void *ctx, size_t done, void *kptr, size_t n) {
    struct copy_ctx *c = ctx;
    memcpy(kptr, c->buf + done, n);
    c->copied = done + n;
    return ZX_OK;
}
