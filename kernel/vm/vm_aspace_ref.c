/*
 * The aspace struct's lifetime: its references and the freeing of the last one. Below
 * the VMAR tree, which holds a reference on its aspace (vm_aspace_priv.h); creation and
 * teardown of what the struct owns are in vm_aspace.c.
 */
#include <kernel/assert.h>
#include <lib/string.h>
#include <phys/heap.h>
#include "vm_aspace_priv.h"

/* Source of vm_aspace.serial (atomic; 2^64 creations never wrap in practice). */
static uint64_t aspace_serial_counter;

/* Debug builds fill a freed aspace struct with this byte before handing it back, so a
 * stale pointer finds neither the magic nor the serial it expects. */
#define VM_ASPACE_POISON_BYTE 0x6b

void vm_aspace_struct_init(vm_aspace_t *as) {
    rw_mutex_init_class(&as->lock, LOCK_CLASS_VM_ASPACE);
    as->magic = VM_ASPACE_MAGIC;
    as->refcount = 1; /* the creator's */
    as->serial = __atomic_add_fetch(&aspace_serial_counter, 1, __ATOMIC_RELAXED);
}

/* Gives the struct of a destroyed aspace whose last reference is gone back to the heap. */
static void aspace_free(vm_aspace_t *as) {
    DEBUG_ASSERT(as->destroyed);
#if BERYL_DEBUG
    memset(as, VM_ASPACE_POISON_BYTE, sizeof(*as));
#endif
    kfree(as);
}

/* Drops one reference; true if it was the last (the caller then frees the struct). */
static bool aspace_put(vm_aspace_t *as) {
    vm_aspace_check(as);
    uint32_t left = __atomic_sub_fetch(&as->refcount, 1, __ATOMIC_ACQ_REL);
    DEBUG_ASSERT(left != UINT32_MAX);
    return left == 0;
}

void vm_aspace_ref(vm_aspace_t *as) {
    vm_aspace_check(as);
    uint32_t old = __atomic_fetch_add(&as->refcount, 1, __ATOMIC_RELAXED);
    DEBUG_ASSERT(old > 0); /* nobody may revive an aspace whose last reference is gone */
}

/*
 * A unified aspace's references on its parts go with its struct: the parts are freed
 * here (if nothing else holds them), right after the unified struct. Parts are never
 * unified themselves, so this goes one level deep and no further.
 */
void vm_aspace_unref(vm_aspace_t *as) {
    if (!aspace_put(as))
        return;
    vm_aspace_t *parts[2] = {as->shared, as->restricted};
    aspace_free(as);
    for (size_t i = 0; i < 2; i++) {
        if (!parts[i])
            continue;
        DEBUG_ASSERT(!parts[i]->shared);
        if (aspace_put(parts[i]))
            aspace_free(parts[i]);
    }
}
