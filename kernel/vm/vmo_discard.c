/*
 * Discardable VMOs (docs/architecture.md, "Discardable VMOs"): a VMO created with
 * VMO_OPT_DISCARDABLE whose owner locks it while using it (ZX_VMO_OP_LOCK, TRY_LOCK) and
 * unlocks it when done (UNLOCK). While unlocked the kernel may discard it: all its pages
 * are freed (its mappings told first) and it is marked discarded, so that reads, writes,
 * commits and faults fail with ZX_ERR_NOT_FOUND until the owner locks it again and learns
 * from the lock state that its content is gone.
 *
 * Discarding happens under memory pressure: when a VMO operation or fault cannot get a
 * page, it lets go of its VMO lock and calls vmo_reclaim_discardable, which discards the
 * VMO unlocked longest ago (then the next, until a page is freed), and retries.
 *
 * Locking. The discard lock (a mutex: the lists can be long) guards the two lists and
 * nests inside a family lock (LOCK and UNLOCK move the VMO between lists holding both).
 * The reclaimer takes a VMO off the reclaim list and a reference on it under the discard
 * lock, lets go of it, and only then takes the VMO's family lock, where it checks again
 * that the VMO is still unlocked. A VMO whose last reference is gone leaves the lists
 * before anything else (vmo_destroy), and the reclaimer only takes a reference while the
 * count is not zero, so it never holds a dying VMO.
 */
#include <vm/vmo.h>

#include <kernel/compiler.h>
#include <kernel/mutex.h>
#include <lib/list.h>

#include "vmo_priv.h"

bool vmo_is_discardable(const vmo_t *vmo) { return vmo->options & VMO_OPT_DISCARDABLE; }

/* The whole-VMO range check LOCK, TRY_LOCK and UNLOCK share (after their
 * discardable check). */
static zx_status_t whole_vmo_locked(const vmo_t *vmo, uint64_t offset, uint64_t len)
    TA_REQ(vmo->hier->lock) {
    return offset == 0 && len == vmo->size ? ZX_OK : ZX_ERR_OUT_OF_RANGE;
}

zx_status_t vmo_discardable_lock(vmo_t *vmo, uint64_t offset, uint64_t len, bool try_only,
                                 struct vmo_lock_state *out) {
    if (!vmo_is_discardable(vmo))
        return ZX_ERR_NOT_SUPPORTED; /* slices included: a discardable VMO has none */
    mutex_acquire(&vmo->hier->lock);
    zx_status_t st = whole_vmo_locked(vmo, offset, len);
    if (st == ZX_OK && try_only && vmo->discarded)
        st = ZX_ERR_UNAVAILABLE;
    if (st == ZX_OK && vmo->discard_locks == UINT64_MAX)
        st = ZX_ERR_BAD_STATE; /* not reachable in practice: 2^64 locks */
    if (st == ZX_OK) {
        if (out)
            *out = (struct vmo_lock_state){offset, len, 0, vmo->discarded ? vmo->size : 0};
        vmo->discarded = false;
        if (vmo->discard_locks == 0) {
            mutex_acquire(&vmo_discard_lock);
            if (list_in_list(&vmo->unlocked_node))
                list_delete(&vmo->unlocked_node);
            mutex_release(&vmo_discard_lock);
        }
        __atomic_store_n(&vmo->discard_locks, vmo->discard_locks + 1, __ATOMIC_RELAXED);
    }
    mutex_release(&vmo->hier->lock);
    return st;
}

zx_status_t vmo_discardable_unlock(vmo_t *vmo, uint64_t offset, uint64_t len) {
    if (!vmo_is_discardable(vmo))
        return ZX_ERR_NOT_SUPPORTED;
    mutex_acquire(&vmo->hier->lock);
    zx_status_t st = whole_vmo_locked(vmo, offset, len);
    if (st == ZX_OK && vmo->discard_locks == 0)
        st = ZX_ERR_BAD_STATE;
    if (st == ZX_OK) {
        __atomic_store_n(&vmo->discard_locks, vmo->discard_locks - 1, __ATOMIC_RELAXED);
        if (vmo->discard_locks == 0) {
            mutex_acquire(&vmo_discard_lock);
            if (!list_in_list(&vmo->unlocked_node))
                list_add_tail(&vmo_discard_unlocked, &vmo->unlocked_node);
            mutex_release(&vmo_discard_lock);
        }
    }
    mutex_release(&vmo->hier->lock);
    return st;
}

/* Takes a reference on vmo unless its last one is already gone. */
static bool ref_if_alive(vmo_t *vmo) {
    uint32_t n = __atomic_load_n(&vmo->refcount, __ATOMIC_RELAXED);
    while (n != 0) {
        if (__atomic_compare_exchange_n(&vmo->refcount, &n, n + 1, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return true;
    }
    return false;
}

/*
 * Discards vmo if it is still unlocked and not discarded: marks it discarded first (so a
 * fault or read meanwhile finds it gone), then frees its pages a batch at a time with
 * lock breaks, stopping if the owner locks it during a break (what is left stays; the
 * lock reported the whole VMO as discarded). Returns the pages freed.
 */
static size_t discard_vmo(vmo_t *vmo) {
    size_t freed = 0;
    mutex_acquire(&vmo->hier->lock);
    if (vmo->discard_locks == 0 && !vmo->discarded) {
        vmo->discarded = true;
        uint64_t next = 0, last = vmo->size >> PAGE_SHIFT;
        while (next < last && vmo->discarded && vmo->discard_locks == 0) {
            size_t before = vmo->pages.count;
            next = vmo_discard_batch_locked(vmo, next, last);
            freed += before - vmo->pages.count;
            if (vmo_lock_break(vmo, NULL) != ZX_OK)
                break; /* the reclaiming thread is being killed */
        }
    }
    mutex_release(&vmo->hier->lock);
    return freed;
}

size_t vmo_reclaim_discardable(void) {
    size_t freed = 0;
    while (freed == 0) {
        vmo_t *victim = NULL;
        mutex_acquire(&vmo_discard_lock);
        while (!victim && !list_is_empty(&vmo_discard_unlocked)) {
            vmo_t *v = containerof(list_remove_head(&vmo_discard_unlocked), vmo_t, unlocked_node);
            if (ref_if_alive(v))
                victim = v;
        }
        mutex_release(&vmo_discard_lock);
        if (!victim)
            break;
        freed += discard_vmo(victim);
        vmo_unref(victim);
    }
    return freed;
}

void vmo_discardable_bytes(uint64_t *locked, uint64_t *unlocked) {
    *locked = *unlocked = 0;
    vmo_t *v;
    mutex_acquire(&vmo_discard_lock);
    list_for_every_entry(&vmo_discard_all, v, vmo_t, discard_node) {
        uint64_t bytes = (uint64_t)vmo_committed_pages(v) * PAGE_SIZE;
        if (__atomic_load_n(&v->discard_locks, __ATOMIC_RELAXED))
            *locked += bytes;
        else
            *unlocked += bytes;
    }
    mutex_release(&vmo_discard_lock);
}
