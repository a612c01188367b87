/*
 * TEMPORARY link fallbacks, weak: the kobject core, handle tables, the current process
 * and user copy are other parts' work (kernel/object, kernel/proc, user_copy). Until
 * their strong definitions are merged, these let the kernel link and the vmsys KTESTs
 * run (the kobject ones are functional minimal versions; the rest report failure). Any
 * strong definition replaces the weak one at link time. DELETE this file once the real
 * implementations are in the tree.
 */
#include <kernel/user_copy.h>
#include <object/handle.h>
#include <object/kobject.h>
#include <object/process.h>

#define WEAK __attribute__((weak))

static zx_koid_t fallback_next_koid = ZX_KOID_FIRST;

WEAK void kobject_init(kobject_t *obj, const struct kobject_ops *ops) {
    obj->ops = ops;
    obj->koid = __atomic_fetch_add(&fallback_next_koid, 1, __ATOMIC_RELAXED);
    obj->refs = 1;
    obj->handle_count = 0;
    spin_lock_init(&obj->lock);
    obj->signals = 0;
}

WEAK void kobject_ref(kobject_t *obj) { __atomic_add_fetch(&obj->refs, 1, __ATOMIC_RELAXED); }

WEAK void kobject_unref(kobject_t *obj) {
    if (__atomic_sub_fetch(&obj->refs, 1, __ATOMIC_ACQ_REL) == 0)
        obj->ops->destroy(obj);
}

WEAK void kobject_signal_locked(kobject_t *obj, zx_signals_t clear, zx_signals_t set) {
    obj->signals = (obj->signals & ~clear) | set;
}

WEAK void kobject_signal(kobject_t *obj, zx_signals_t clear, zx_signals_t set) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&obj->lock, &s);
    kobject_signal_locked(obj, clear, set);
    spin_unlock_irqrestore(&obj->lock, s);
}

WEAK zx_signals_t kobject_signals(kobject_t *obj) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&obj->lock, &s);
    zx_signals_t sig = obj->signals;
    spin_unlock_irqrestore(&obj->lock, s);
    return sig;
}

WEAK handle_table_t *process_current_handles(void) { return NULL; }

WEAK zx_status_t handle_table_get(handle_table_t *ht, zx_handle_t value, zx_obj_type_t type,
                                  zx_rights_t required, kobject_t **obj, zx_rights_t *rights) {
    return ZX_ERR_BAD_HANDLE;
}

WEAK zx_status_t handle_table_add(handle_table_t *ht, kobject_t *obj, zx_rights_t rights,
                                  zx_handle_t *out) {
    return ZX_ERR_NO_MEMORY;
}

WEAK zx_status_t handle_table_remove(handle_table_t *ht, zx_handle_t value, handle_ref_t *out) {
    return ZX_ERR_BAD_HANDLE;
}

WEAK void handle_ref_release(handle_ref_t *h) {
    __atomic_sub_fetch(&h->obj->handle_count, 1, __ATOMIC_ACQ_REL);
    kobject_unref(h->obj);
}

WEAK bool user_range_ok(user_addr_t addr, size_t len) {
    return addr <= USER_ASPACE_TOP && len <= USER_ASPACE_TOP - addr;
}

WEAK zx_status_t user_copy_from(void *dst, user_addr_t src, size_t len) {
    return len == 0 ? ZX_OK : ZX_ERR_INVALID_ARGS;
}

WEAK zx_status_t user_copy_to(user_addr_t dst, const void *src, size_t len) {
    return len == 0 ? ZX_OK : ZX_ERR_INVALID_ARGS;
}
