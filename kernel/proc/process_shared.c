/*
 * Shared process families (ZX_PROCESS_SHARED / zx_process_create_shared): the state the
 * members share, the handle table and the shared aspace, and its two lifetimes (see
 * proc_priv.h). A family starts with its prototype as the one member; each
 * create_shared process joins it; every member leaves once, when it finishes.
 *
 * Locking: sh->lock guards `members` and the two pointers once the last member leaves;
 * it is a leaf lock (nothing is called with it held).
 */
#include <kernel/assert.h>
#include <kernel/spinlock.h>
#include <vm/heap.h>
#include <vm/vm_aspace.h>
#include "proc_priv.h"

struct proc_shared {
    spinlock_t lock;
    uint32_t refcount;       /* atomic: member processes pointing here */
    uint32_t members;        /* guarded by lock: members not yet finished */
    handle_table_t *handles; /* the family's; NULL after the last leave */
    vm_aspace_t *aspace;     /* the shared region; NULL after the last leave */
};

zx_status_t proc_shared_create(const char *name, uint64_t aslr_seed, proc_shared_t **out) {
    proc_shared_t *sh = kzalloc(sizeof(*sh));
    if (!sh)
        return ZX_ERR_NO_MEMORY;
    spin_lock_init(&sh->lock);
    sh->refcount = 1;
    sh->members = 1;
    sh->handles = handle_table_create();
    zx_status_t st = sh->handles ? ZX_OK : ZX_ERR_NO_MEMORY;
    if (st == ZX_OK)
        st = vm_aspace_create(ARCH_ASPACE_SHARED, USER_SHARED_BASE, USER_SHARED_SIZE, name,
                              aslr_seed, &sh->aspace);
    if (st != ZX_OK) {
        if (sh->handles)
            handle_table_destroy(sh->handles);
        kfree(sh);
        return st;
    }
    *out = sh;
    return ZX_OK;
}

bool proc_shared_join(proc_shared_t *sh) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&sh->lock, &s);
    bool alive = sh->members > 0;
    if (alive) {
        sh->members++;
        __atomic_add_fetch(&sh->refcount, 1, __ATOMIC_RELAXED);
    }
    spin_unlock_irqrestore(&sh->lock, s);
    return alive;
}

void proc_shared_leave(proc_shared_t *sh) {
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&sh->lock, &s);
    ASSERT(sh->members > 0);
    bool last = --sh->members == 0;
    handle_table_t *ht = last ? sh->handles : NULL;
    vm_aspace_t *as = last ? sh->aspace : NULL;
    if (last) {
        sh->handles = NULL;
        sh->aspace = NULL;
    }
    spin_unlock_irqrestore(&sh->lock, s);
    if (last) {
        handle_table_destroy(ht); /* handles first: they may reference the shared VMARs */
        vm_aspace_destroy(as);
    }
}

void proc_shared_unref(proc_shared_t *sh) {
    if (__atomic_sub_fetch(&sh->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
        DEBUG_ASSERT(sh->members == 0);
        kfree(sh);
    }
}

handle_table_t *proc_shared_handles(proc_shared_t *sh) { return sh->handles; }
vm_aspace_t *proc_shared_aspace(proc_shared_t *sh) { return sh->aspace; }
