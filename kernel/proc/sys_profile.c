/*
 * CPU placement from user space: zx_system_get_num_cpus, profile objects
 * (zx_profile_create) and applying them to threads (zx_object_set_profile). What each
 * call checks, in which order, and where Beryl departs from Zircon is in
 * docs/syscalls.md (generated from syscall-abi/syscalls.def and decisions.md).
 *
 * Who may place threads: creating a profile takes a resource handle (only the root
 * resource exists; userboot holds it and hands duplicates to the programs it trusts),
 * and applying one takes ZX_RIGHT_MANAGE_THREAD on the thread. A process without the
 * resource can still apply a profile someone gave it, but only to threads it holds
 * managing handles to, so it can never move another process's threads on its own.
 */
#include <kernel/syscall_impl.h>
#include <kernel/thread.h>
#include <kernel/user_copy.h>
#include <object/handle_user.h>
#include <phys/heap.h>
#include <zircon/rights.h>
#include <zircon/syscalls/profile.h>
#include "proc_priv.h"

/* Every flag Beryl knows; any other bit makes zx_profile_create fail. */
#define PROFILE_KNOWN_FLAGS                                                               \
    (ZX_PROFILE_INFO_FLAG_PRIORITY | ZX_PROFILE_INFO_FLAG_CPU_MASK |                      \
     ZX_PROFILE_INFO_FLAG_DEADLINE | ZX_PROFILE_INFO_FLAG_NO_INHERIT)
/* The scheduling disciplines: at most one per profile. */
#define PROFILE_DISCIPLINE_FLAGS (ZX_PROFILE_INFO_FLAG_PRIORITY | ZX_PROFILE_INFO_FLAG_DEADLINE)
/* A profile must set at least one of these. */
#define PROFILE_THREAD_FLAGS (PROFILE_DISCIPLINE_FLAGS | ZX_PROFILE_INFO_FLAG_CPU_MASK)

_Static_assert(SCHED_MAX_CPUS <= ZX_CPU_SET_BITS_PER_WORD,
               "a thread's affinity is the first word of zx_cpu_set_t");

/* A profile: immutable after creation, so it needs no lock. */
typedef struct profile {
    kobject_t obj;
    uint32_t flags;    /* ZX_PROFILE_INFO_FLAG_PRIORITY and / or _CPU_MASK */
    int32_t priority;  /* with FLAG_PRIORITY */
    cpu_mask_t mask;   /* with FLAG_CPU_MASK: never 0 */
} profile_t;

static void profile_destroy(kobject_t *o) { kfree(o); }

static const struct kobject_ops profile_ops = {
    .type = ZX_OBJ_TYPE_PROFILE,
    .type_name = "profile",
    .destroy = profile_destroy,
};

uint32_t sys_system_get_num_cpus(void) { return sched_num_cpus(); }

/*
 * Checks *info as Zircon does and fills *p (flags, priority, mask). Returns ZX_OK,
 * ZX_ERR_INVALID_ARGS (unknown flag, no discipline nor mask, two disciplines, deadline
 * with NO_INHERIT, priority out of range, inadmissible deadline, a mask without a CPU
 * the scheduler can place on) or ZX_ERR_NOT_SUPPORTED (a valid deadline profile: the
 * scheduler has no deadline discipline).
 */
static zx_status_t profile_parse(const zx_profile_info_t *info, profile_t *p) {
    uint32_t flags = info->flags;
    if ((flags & ~(uint32_t)PROFILE_KNOWN_FLAGS) != 0 || (flags & PROFILE_THREAD_FLAGS) == 0)
        return ZX_ERR_INVALID_ARGS;
    if (__builtin_popcount(flags & PROFILE_DISCIPLINE_FLAGS) > 1)
        return ZX_ERR_INVALID_ARGS;
    if (flags & ZX_PROFILE_INFO_FLAG_PRIORITY) {
        if (info->priority < ZX_PRIORITY_LOWEST || info->priority > ZX_PRIORITY_HIGHEST)
            return ZX_ERR_INVALID_ARGS;
        p->priority = info->priority;
    }
    if (flags & ZX_PROFILE_INFO_FLAG_DEADLINE) {
        const zx_sched_deadline_params_t *d = &info->deadline_params;
        bool admissible = d->capacity > 0 && d->capacity <= d->relative_deadline &&
                          d->relative_deadline <= d->period &&
                          !(flags & ZX_PROFILE_INFO_FLAG_NO_INHERIT);
        return admissible ? ZX_ERR_NOT_SUPPORTED : ZX_ERR_INVALID_ARGS;
    }
    if (flags & ZX_PROFILE_INFO_FLAG_CPU_MASK) {
        /* CPUs at or above SCHED_MAX_CPUS can never run threads here: ignored. */
        p->mask = (cpu_mask_t)info->cpu_affinity_mask.mask[0];
        if (p->mask == 0)
            return ZX_ERR_INVALID_ARGS;
    }
    p->flags = flags & (ZX_PROFILE_INFO_FLAG_PRIORITY | ZX_PROFILE_INFO_FLAG_CPU_MASK);
    return ZX_OK;
}

zx_status_t sys_profile_create(zx_handle_t profile_rsrc, uint32_t options, user_addr_t profile,
                               user_addr_t out) {
    if (options != 0)
        return ZX_ERR_INVALID_ARGS;
    handle_table_t *ht = process_current_handles();
    kobject_t *rsrc;
    zx_status_t st = handle_table_get(ht, profile_rsrc, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_NONE,
                                      &rsrc, NULL);
    if (st != ZX_OK)
        return st;
    kobject_unref(rsrc);
    zx_profile_info_t info;
    if (user_copy_from(&info, profile, sizeof(info)) != ZX_OK)
        return ZX_ERR_INVALID_ARGS;
    profile_t parsed = {0};
    st = profile_parse(&info, &parsed);
    if (st != ZX_OK)
        return st;
    profile_t *p = kzalloc(sizeof(*p));
    if (!p)
        return ZX_ERR_NO_MEMORY;
    kobject_init(&p->obj, &profile_ops);
    p->flags = parsed.flags;
    p->priority = parsed.priority;
    p->mask = parsed.mask;
    st = handle_table_publish(ht, &p->obj, ZX_DEFAULT_PROFILE_RIGHTS, out, NULL);
    kobject_unref(&p->obj); /* the handle holds it now, or nothing does */
    return st;
}

zx_status_t sys_object_set_profile(zx_handle_t handle, zx_handle_t profile, uint32_t options) {
    (void)options; /* ignored, as in Zircon */
    handle_table_t *ht = process_current_handles();
    kobject_t *to;
    zx_status_t st =
        handle_table_get(ht, handle, ZX_OBJ_TYPE_THREAD, ZX_RIGHT_MANAGE_THREAD, &to, NULL);
    if (st != ZX_OK)
        return st;
    kobject_t *po;
    st = handle_table_get(ht, profile, ZX_OBJ_TYPE_PROFILE, ZX_RIGHT_APPLY_PROFILE, &po, NULL);
    if (st != ZX_OK) {
        kobject_unref(to);
        return st;
    }
    uthread_t *ut = to_uthread(to);
    const profile_t *p = (const profile_t *)po;
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&ut->proc->obj.lock, &s);
    bool dead = ut->state == UTHREAD_DEAD;
    spin_unlock_irqrestore(&ut->proc->obj.lock, s);
    /* A thread that dies from here on takes the settings and never uses them. The
     * affinity goes first: when it is refused, nothing has changed. */
    if (dead)
        st = ZX_ERR_BAD_STATE;
    else if (p->flags & ZX_PROFILE_INFO_FLAG_CPU_MASK)
        st = thread_set_affinity(&ut->thread, p->mask);
    if (st == ZX_OK && (p->flags & ZX_PROFILE_INFO_FLAG_PRIORITY))
        thread_set_priority(&ut->thread, p->priority);
    kobject_unref(po);
    kobject_unref(to);
    return st;
}
