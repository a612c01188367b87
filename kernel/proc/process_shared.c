/*
 * Shared process families (ZX_PROCESS_SHARED / zx_process_create_shared): the state the
 * members share, the handle table and the shared aspace, and its two lifetimes (see
 * proc_priv.h). A family starts with its prototype as the one member; each
 * create_shared process joins it; every member leaves once, when it finishes.
 *
 * Cycles. While no member runs, nobody can use the family's table except by starting a
 * member or creating one from a member (zx_process_start, zx_process_create_shared), so
 * the table is then a container of the handle-cycle collector (object/gc.h): the family
 * is a gc node whose children are the handles in its table and which is reachable iff a
 * member with handles is (each member is a node whose one child is its family). The
 * table's handles are counted as contained exactly while no member runs (`counted`),
 * switched over when the first member starts and when the last running one finishes;
 * the latter queues the family as a suspect, which is how "the starter dies" ends a
 * family whose only member handle sits in its own table. A family found unreachable is
 * `collected`: it accepts no new member and no start, its unstarted members are killed
 * (process.c) and the last of them to leave destroys the table and the shared aspace.
 *
 * Locking: the gc lock guards the counters, the flags and the two pointers (joining,
 * starting and leaving all take it; it nests, so a leave inside a collection passes).
 */
#include <kernel/assert.h>
#include <object/gc.h>
#include <phys/heap.h>
#include <vm/vm_aspace.h>
#include "proc_priv.h"

struct proc_shared {
    uint32_t refcount; /* atomic: member processes pointing here, collector holds */
    uint32_t members TA_GUARDED(gc_lock);  /* members not yet finished */
    uint32_t running TA_GUARDED(gc_lock);  /* members started and not yet finished */
    uint32_t holders TA_GUARDED(gc_lock);  /* members with a handle (or about to get one) */
    bool counted TA_GUARDED(gc_lock);      /* the table's handles count as contained */
    bool collected TA_GUARDED(gc_lock);    /* found unreachable: no more joins or starts */
    /* The family's table and shared region; NULL after the last leave. Written under the
     * gc lock; a member reads them without it (proc_shared_handles / _aspace): they
     * change only at the last leave, and a member that reads them has not left. */
    handle_table_t *handles TA_GUARDED(gc_lock);
    vm_aspace_t *aspace TA_GUARDED(gc_lock);
    gc_node_t gc;
};

static const struct gc_node_ops family_gc_ops;

/* Adds delta to `contained` of every tracked object with a handle in the table. */
static void family_contain_one(void *ctx, zx_handle_t value, kobject_t *obj, zx_rights_t rights)
    TA_REQ(gc_lock) {
    gc_node_t *n = gc_node_of(obj);
    if (n != NULL)
        gc_contain(n, *(int32_t *)ctx);
}

/* The table becomes a container (counted) or a root again. Gc lock held. */
static void family_set_counted(proc_shared_t *sh, bool counted) TA_REQ(gc_lock) {
    if (sh->counted == counted)
        return;
    sh->counted = counted;
    int32_t delta = counted ? 1 : -1;
    if (sh->handles != NULL)
        handle_table_for_each(sh->handles, family_contain_one, &delta);
}

/* Not checked by the analysis: the family is new, so nobody else can see the fields that
 * the gc lock guards once it is published. */
zx_status_t proc_shared_create(const char *name, uint64_t aslr_seed, proc_shared_t **out)
    TA_NO_THREAD_SAFETY_ANALYSIS {
    proc_shared_t *sh = kzalloc(sizeof(*sh));
    if (!sh)
        return ZX_ERR_NO_MEMORY;
    sh->refcount = 1;
    sh->members = 1;
    sh->holders = 1;
    sh->counted = true; /* nobody runs yet: an (empty) container */
    gc_node_init(&sh->gc, &family_gc_ops);
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
    bool entered = gc_enter();
    bool alive = sh->members > 0 && !sh->collected;
    if (alive) {
        sh->members++;
        sh->holders++; /* the new member's handle, about to be published */
        __atomic_add_fetch(&sh->refcount, 1, __ATOMIC_RELAXED);
    }
    gc_exit(entered);
    return alive;
}

void proc_shared_drop_holder(proc_shared_t *sh, bool *holder) {
    bool entered = gc_enter();
    if (*holder) {
        *holder = false;
        ASSERT(sh->holders > 0);
        sh->holders--;
        if (family_gc_ops.candidate(&sh->gc))
            gc_suspect(&sh->gc); /* its remaining holders may all be unreachable */
    }
    gc_exit(entered);
}

zx_status_t proc_shared_start_begin(proc_shared_t *sh) {
    DEBUG_ASSERT(gc_held());
    if (sh->collected || sh->members == 0)
        return ZX_ERR_BAD_STATE;
    family_set_counted(sh, false); /* a member runs: the table is a root */
    sh->running++;
    return ZX_OK;
}

/* The last running member is gone (or a start failed): if members remain, the table is
 * a container again and may hold the last references to them. Gc lock held. */
static void family_stopped(proc_shared_t *sh) TA_REQ(gc_lock) {
    if (sh->running > 0 || sh->members == 0 || sh->collected)
        return;
    family_set_counted(sh, true);
    gc_suspect(&sh->gc);
}

void proc_shared_start_undo(proc_shared_t *sh) {
    DEBUG_ASSERT(gc_held());
    ASSERT(sh->running > 0);
    sh->running--;
    family_stopped(sh);
}

void proc_shared_leave(proc_shared_t *sh, bool *started) {
    bool entered = gc_enter();
    ASSERT(sh->members > 0);
    if (*started) {
        *started = false;
        ASSERT(sh->running > 0);
        sh->running--;
    }
    bool last = --sh->members == 0;
    handle_table_t *ht = NULL;
    vm_aspace_t *as = NULL;
    if (last) {
        family_set_counted(sh, false);
        ht = sh->handles;
        as = sh->aspace;
        sh->handles = NULL;
        sh->aspace = NULL;
    } else {
        family_stopped(sh);
    }
    gc_exit(entered);
    if (last) {
        handle_table_destroy(ht); /* handles first: they may reference the shared VMARs */
        vm_aspace_destroy(as);
    }
}

/* Not checked by the analysis: the assertion reads `members` without the gc lock, when
 * the last reference is gone and nobody can change it. */
void proc_shared_unref(proc_shared_t *sh) TA_NO_THREAD_SAFETY_ANALYSIS {
    if (__atomic_sub_fetch(&sh->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
        DEBUG_ASSERT(sh->members == 0);
        DEBUG_ASSERT(!gc_node_queued(&sh->gc)); /* a queued suspect holds a reference */
        kfree(sh);
    }
}

/* Not checked by the analysis: members read these without the gc lock (see the struct). */
handle_table_t *proc_shared_handles(proc_shared_t *sh) TA_NO_THREAD_SAFETY_ANALYSIS {
    return sh->handles;
}
vm_aspace_t *proc_shared_aspace(proc_shared_t *sh) TA_NO_THREAD_SAFETY_ANALYSIS {
    return sh->aspace;
}
gc_node_t *proc_shared_gc_node(proc_shared_t *sh) { return &sh->gc; }

/* ---- The collector's view of a family (object/gc.h) ---- */

static inline proc_shared_t *gc_to_family(gc_node_t *n) {
    return containerof(n, proc_shared_t, gc);
}

static uint32_t family_gc_refs(gc_node_t *n) TA_REQ(gc_lock) {
    return gc_to_family(n)->holders;
}

/* Unlike the other node types' test, this one needs the gc lock: a family is never
 * handed to gc_reference_dropped, the one caller without it. */
static bool family_gc_candidate(gc_node_t *n) TA_REQ(gc_lock) {
    proc_shared_t *sh = gc_to_family(n);
    return sh->counted && !sh->collected && sh->members > 0;
}

struct family_visit {
    gc_visit_fn fn;
    void *ctx;
};

static void family_visit_one(void *ctx, zx_handle_t value, kobject_t *obj, zx_rights_t rights) {
    struct family_visit *v = ctx;
    gc_node_t *n = gc_node_of(obj);
    if (n != NULL)
        v->fn(n, v->ctx);
}

/* A counted table changes only under the gc lock (nobody runs to change it). */
static void family_gc_for_each_child(gc_node_t *n, gc_visit_fn fn, void *ctx)
    TA_REQ(gc_lock) {
    proc_shared_t *sh = gc_to_family(n);
    struct family_visit v = {fn, ctx};
    handle_table_for_each(sh->handles, family_visit_one, &v);
}

/* Unreachable: no member may join or start any more. Its members (all unreachable too)
 * are killed by their own close; the last to leave frees the table. */
static void family_gc_detach(gc_node_t *n) TA_REQ(gc_lock) {
    proc_shared_t *sh = gc_to_family(n);
    family_set_counted(sh, false);
    sh->collected = true;
}

static void family_gc_close(gc_node_t *n) { (void)n; }

static void family_gc_hold(gc_node_t *n) {
    __atomic_add_fetch(&gc_to_family(n)->refcount, 1, __ATOMIC_RELAXED);
}

static void family_gc_release(gc_node_t *n) { proc_shared_unref(gc_to_family(n)); }

static const struct gc_node_ops family_gc_ops = {
    .refs = family_gc_refs,
    .candidate = family_gc_candidate,
    .for_each_child = family_gc_for_each_child,
    .detach = family_gc_detach,
    .close = family_gc_close,
    .hold = family_gc_hold,
    .release = family_gc_release,
};
