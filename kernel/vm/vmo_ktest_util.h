/*
 * Helpers shared by the in-kernel VMO tests (vmo_ktest.c, vmo_child_ktest.c): TRY,
 * memcpy-based copy callbacks for vmo_read/vmo_write, and a mapping link that records
 * the unmap_range calls a VMO makes, so tests can check exactly which ranges a mapping
 * was told to drop.
 */
#ifndef VM_VMO_KTEST_UTIL_H
#define VM_VMO_KTEST_UTIL_H

#include <kernel/compiler.h>
#include <kernel/ktest.h>
#include <lib/string.h>
#include <vm/vmo.h>

/* Ends the test as a skip on NO_MEMORY; any other non-OK status is a failure. */
#define TRY(expr)                                                                    \
    do {                                                                             \
        zx_status_t try_st_ = (expr);                                                \
        if (try_st_ == ZX_ERR_NO_MEMORY)                                             \
            goto out;                                                                \
        EXPECT_OK(try_st_);                                                          \
        if (try_st_ != ZX_OK)                                                        \
            goto out;                                                                \
    } while (0)

#define MAX_REC_CALLS 8

/* vmo_read callback: VMO -> the buffer at ctx. */
static inline zx_status_t copy_out(void *ctx, size_t done, void *kptr, size_t n) {
    memcpy((uint8_t *)ctx + done, kptr, n);
    return ZX_OK;
}

/* vmo_write callback: the buffer at ctx -> VMO. */
static inline zx_status_t copy_in(void *ctx, size_t done, void *kptr, size_t n) {
    memcpy(kptr, (const uint8_t *)ctx + done, n);
    return ZX_OK;
}

struct rec_link {
    struct vmo_mapping_link link;
    size_t ncalls;
    uint64_t off[MAX_REC_CALLS];
    uint64_t len[MAX_REC_CALLS];
};

static inline void rec_unmap_range(struct vmo_mapping_link *l, uint64_t offset, uint64_t len) {
    struct rec_link *r = containerof(l, struct rec_link, link);
    if (r->ncalls < MAX_REC_CALLS) {
        r->off[r->ncalls] = offset;
        r->len[r->ncalls] = len;
    }
    r->ncalls++;
}

static const struct vmo_mapping_ops rec_ops __unused = {.unmap_range = rec_unmap_range};

/* A link covering VMO offsets [vmo_offset, vmo_offset + len); not yet registered. */
static inline void rec_init(struct rec_link *r, uint64_t vmo_offset, uint64_t len) {
    memset(r, 0, sizeof(*r));
    r->link.ops = &rec_ops;
    r->link.vmo_offset = vmo_offset;
    r->link.len = len;
}

/* True if the link got exactly one call, for [off, off + len). Clears the record. */
static inline bool rec_got_one(struct rec_link *r, uint64_t off, uint64_t len) {
    bool ok = r->ncalls == 1 && r->off[0] == off && r->len[0] == len;
    r->ncalls = 0;
    return ok;
}

#endif
