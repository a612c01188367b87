/*
 * zx_object_get_info and object properties (ZX_PROP_NAME, ZX_PROP_VMO_CONTENT_SIZE).
 *
 * Topic dispatch follows Zircon's order of checks: the handle (BAD_HANDLE), then the
 * topic's object type (WRONG_TYPE), then its right (ACCESS_DENIED), then the buffers.
 * Single-record topics need room for one record (BUFFER_TOO_SMALL); `actual` and `avail`
 * are optional (0 = not wanted) and written last.
 */
#include <beryl/kernel_info.h>
#include <kernel/irqoff.h>
#include <kernel/syscall_impl.h>
#include <kernel/thread.h>
#include <kernel/user_copy.h>
#include <lib/string.h>
#include <object/vmar_dispatcher.h>
#include <object/vmo_dispatcher.h>
#include <phys/heap.h>
#include <phys/pmm.h>
#include <zircon/rights.h>
#include <zircon/syscalls/object.h>
#include "proc_priv.h"
#include "sys_info_priv.h"

static zx_status_t put_counts(user_addr_t actual, size_t n_actual, user_addr_t avail,
                              size_t n_avail) {
    if (actual && user_copy_to(actual, &n_actual, sizeof(n_actual)) != ZX_OK)
        return ZX_ERR_INVALID_ARGS;
    if (avail && user_copy_to(avail, &n_avail, sizeof(n_avail)) != ZX_OK)
        return ZX_ERR_INVALID_ARGS;
    return ZX_OK;
}

/* Writes one record of `size` bytes (fixed-size topics). */
static zx_status_t put_record(const void *rec, size_t size, user_addr_t buffer,
                              size_t buffer_size, user_addr_t actual, user_addr_t avail) {
    if (buffer_size < size)
        return ZX_ERR_BUFFER_TOO_SMALL;
    if (user_copy_to(buffer, rec, size) != ZX_OK)
        return ZX_ERR_INVALID_ARGS;
    return put_counts(actual, 1, avail, 1);
}

static uint32_t thread_info_state(uthread_t *ut) {
    switch (ut->state) {
    case UTHREAD_INITIAL:
        return ZX_THREAD_STATE_NEW;
    case UTHREAD_RUNNING:
        return ut->thread.state == THREAD_BLOCKED ? ut->block_reason : ZX_THREAD_STATE_RUNNING;
    default:
        return ZX_THREAD_STATE_DEAD;
    }
}

zx_status_t sys_object_get_info(zx_handle_t h, uint32_t topic, user_addr_t buffer,
                                size_t buffer_size, user_addr_t actual, user_addr_t avail) {
    handle_table_t *ht = process_current_handles();
    kobject_t *o;
    zx_rights_t rights;
    zx_status_t st = handle_table_get(ht, h, ZX_OBJ_TYPE_NONE, 0, &o, &rights);
    if (st != ZX_OK)
        return st;
    zx_obj_type_t type = kobject_type(o);
    /* Topic -> (required type, required right). */
    zx_obj_type_t want = ZX_OBJ_TYPE_NONE;
    zx_rights_t need = 0;
    switch (topic) {
    case ZX_INFO_HANDLE_VALID:
    case ZX_INFO_HANDLE_BASIC:
        break;
    case ZX_INFO_PROCESS:
        want = ZX_OBJ_TYPE_PROCESS, need = ZX_RIGHT_INSPECT;
        break;
    case ZX_INFO_THREAD:
    case ZX_INFO_THREAD_STATS:
        want = ZX_OBJ_TYPE_THREAD, need = ZX_RIGHT_INSPECT;
        break;
    case ZX_INFO_PROCESS_MAPS:
    case ZX_INFO_PROCESS_VMOS:
        want = ZX_OBJ_TYPE_PROCESS, need = ZX_RIGHT_INSPECT;
        break;
    case ZX_INFO_VMO:
        want = ZX_OBJ_TYPE_VMO;
        break;
    case ZX_INFO_VMAR:
        want = ZX_OBJ_TYPE_VMAR, need = ZX_RIGHT_INSPECT;
        break;
    case ZX_INFO_KMEM_STATS:
    case BERYL_INFO_IRQOFF:
        want = ZX_OBJ_TYPE_RESOURCE;
        break;
    default:
        kobject_unref(o);
        return ZX_ERR_NOT_SUPPORTED;
    }
    if (want != ZX_OBJ_TYPE_NONE && type != want)
        st = ZX_ERR_WRONG_TYPE;
    else if ((rights & need) != need)
        st = ZX_ERR_ACCESS_DENIED;
    if (st != ZX_OK) {
        kobject_unref(o);
        return st;
    }

    switch (topic) {
    case ZX_INFO_HANDLE_VALID:
        break;
    case ZX_INFO_HANDLE_BASIC: {
        zx_info_handle_basic_t info;
        memset(&info, 0, sizeof(info));
        info.koid = o->koid;
        info.rights = rights;
        info.type = type;
        info.related_koid = o->ops->related_koid ? o->ops->related_koid(o) : 0;
        st = put_record(&info, sizeof(info), buffer, buffer_size, actual, avail);
        break;
    }
    case ZX_INFO_PROCESS: {
        process_t *p = to_process(o);
        zx_info_process_t info;
        memset(&info, 0, sizeof(info));
        spin_lock_saved_state_t s;
        spin_lock_irqsave(&p->obj.lock, &s);
        if (p->state != PROCESS_INITIAL)
            info.flags |= ZX_INFO_PROCESS_FLAG_STARTED;
        if (p->state == PROCESS_DEAD) {
            info.flags |= ZX_INFO_PROCESS_FLAG_EXITED;
            info.return_code = p->retcode;
        }
        info.start_time = p->start_time;
        spin_unlock_irqrestore(&p->obj.lock, s);
        st = put_record(&info, sizeof(info), buffer, buffer_size, actual, avail);
        break;
    }
    case ZX_INFO_THREAD: {
        zx_info_thread_t info;
        memset(&info, 0, sizeof(info));
        info.state = thread_info_state(to_uthread(o));
        thread_stats_t ts;
        thread_get_stats(&to_uthread(o)->thread, &ts);
        /* The CPUs it may run on now (a new thread: every CPU that runs threads). */
        info.cpu_affinity_mask.mask[0] = ts.affinity & sched_online_cpus();
        st = put_record(&info, sizeof(info), buffer, buffer_size, actual, avail);
        break;
    }
    case ZX_INFO_THREAD_STATS: {
        zx_info_thread_stats_t info;
        memset(&info, 0, sizeof(info));
        thread_stats_t ts;
        thread_get_stats(&to_uthread(o)->thread, &ts);
        info.total_runtime = (zx_duration_t)ts.runtime_ns;
        info.last_scheduled_cpu =
            ts.last_cpu == THREAD_CPU_NONE ? ZX_INFO_INVALID_CPU : ts.last_cpu;
        st = put_record(&info, sizeof(info), buffer, buffer_size, actual, avail);
        break;
    }
    case ZX_INFO_VMO: {
        zx_info_vmo_t info;
        vmo_dispatcher_info(o, rights, &info);
        st = put_record(&info, sizeof(info), buffer, buffer_size, actual, avail);
        break;
    }
    case ZX_INFO_VMAR: {
        zx_info_vmar_t info;
        vmar_dispatcher_info(o, &info);
        st = put_record(&info, sizeof(info), buffer, buffer_size, actual, avail);
        break;
    }
    case ZX_INFO_PROCESS_MAPS:
    case ZX_INFO_PROCESS_VMOS: {
        size_t n_actual = 0, n_avail = 0;
        st = topic == ZX_INFO_PROCESS_MAPS
                 ? info_process_maps(to_process(o), buffer, buffer_size, &n_actual, &n_avail)
                 : info_process_vmos(to_process(o), buffer, buffer_size, &n_actual, &n_avail);
        if (st == ZX_OK)
            st = put_counts(actual, n_actual, avail, n_avail);
        break;
    }
    case ZX_INFO_KMEM_STATS: {
        zx_info_kmem_stats_t info;
        memset(&info, 0, sizeof(info));
        /* Threads that have exited still hold their stacks (and, through on_reaped,
         * maybe their process) until the reaper is done with them; on several CPUs the
         * caller can get here first, right after seeing a process terminate. Counting
         * only once they are reaped keeps the numbers of a quiet system exact. */
        sched_reap_wait();
        heap_trim(); /* free_bytes counts the heap's spare empty slabs as free */
        info.total_bytes = (uint64_t)pmm_count_total_pages() * PAGE_SIZE;
        info.free_bytes = (uint64_t)pmm_count_free_pages() * PAGE_SIZE;
        info.total_heap_bytes = (uint64_t)heap_pages() * PAGE_SIZE;
        info.free_heap_bytes = info.total_heap_bytes - heap_bytes_in_use();
        size_t by_state[VM_PAGE_STATE_COUNT];
        pmm_count_by_state(by_state);
        info.wired_bytes = (uint64_t)by_state[VM_PAGE_STATE_WIRED] * PAGE_SIZE;
        info.vmo_bytes = (uint64_t)by_state[VM_PAGE_STATE_OBJECT] * PAGE_SIZE;
        info.mmu_overhead_bytes = (uint64_t)by_state[VM_PAGE_STATE_MMU] * PAGE_SIZE;
        info.other_bytes = (uint64_t)by_state[VM_PAGE_STATE_ALLOC] * PAGE_SIZE;
        vmo_discardable_bytes(&info.vmo_discardable_locked_bytes,
                              &info.vmo_discardable_unlocked_bytes);
        st = put_record(&info, sizeof(info), buffer, buffer_size, actual, avail);
        break;
    }
    case BERYL_INFO_IRQOFF: {
        struct irqoff_stats io;
        irqoff_get(&io);
        beryl_info_irqoff_t info = {io.max_ns, io.max_ticks, io.start_pc, io.end_pc};
        st = put_record(&info, sizeof(info), buffer, buffer_size, actual, avail);
        break;
    }
    }
    kobject_unref(o);
    return st;
}

/* Where a task keeps its name (NULL for other types); guarded by the object's lock. */
static char *task_name(kobject_t *o) {
    switch (kobject_type(o)) {
    case ZX_OBJ_TYPE_PROCESS:
        return to_process(o)->name;
    case ZX_OBJ_TYPE_THREAD:
        return to_uthread(o)->name;
    default:
        return NULL;
    }
}

/* The name of objects that have one (processes, threads, VMOs); WRONG_TYPE for the
 * others (the property does not apply to them). */
static zx_status_t name_of(kobject_t *o, char out[ZX_MAX_NAME_LEN]) {
    memset(out, 0, ZX_MAX_NAME_LEN);
    if (kobject_type(o) == ZX_OBJ_TYPE_VMO)
        return vmo_dispatcher_get_name(o, out);
    char *name = task_name(o);
    if (!name)
        return ZX_ERR_WRONG_TYPE;
    task_copy_name(o, name, out);
    return ZX_OK;
}

static zx_status_t set_name_of(kobject_t *o, const char *name, size_t len) {
    if (len > ZX_MAX_NAME_LEN - 1)
        len = ZX_MAX_NAME_LEN - 1;
    len = strnlen(name, len);
    if (kobject_type(o) == ZX_OBJ_TYPE_VMO)
        return vmo_dispatcher_set_name(o, name, len);
    char *dst = task_name(o);
    if (!dst)
        return ZX_ERR_WRONG_TYPE;
    spin_lock_saved_state_t s;
    spin_lock_irqsave(&o->lock, &s);
    memset(dst, 0, ZX_MAX_NAME_LEN);
    memcpy(dst, name, len);
    spin_unlock_irqrestore(&o->lock, s);
    return ZX_OK;
}

/* ZX_PROP_VMO_CONTENT_SIZE (a uint64_t; VMOs only). */
static zx_status_t get_content_size(kobject_t *o, user_addr_t value, size_t value_size) {
    if (kobject_type(o) != ZX_OBJ_TYPE_VMO)
        return ZX_ERR_WRONG_TYPE;
    if (value_size < sizeof(uint64_t))
        return ZX_ERR_BUFFER_TOO_SMALL;
    return user_put_u64(value, vmo_dispatcher_get_content_size(o)) == ZX_OK ? ZX_OK
                                                                         : ZX_ERR_INVALID_ARGS;
}

static zx_status_t set_content_size(kobject_t *o, user_addr_t value, size_t value_size) {
    if (kobject_type(o) != ZX_OBJ_TYPE_VMO)
        return ZX_ERR_WRONG_TYPE;
    if (value_size < sizeof(uint64_t))
        return ZX_ERR_BUFFER_TOO_SMALL;
    uint64_t size;
    if (user_copy_from(&size, value, sizeof(size)) != ZX_OK)
        return ZX_ERR_INVALID_ARGS;
    return vmo_dispatcher_set_content_size(o, size); /* OUT_OF_RANGE past the VMO's size */
}

/*
 * Properties: ZX_PROP_NAME (processes, threads, VMOs) and ZX_PROP_VMO_CONTENT_SIZE
 * (VMOs). After the handle and its right: an unknown property is INVALID_ARGS, a
 * property of another object type WRONG_TYPE, a short value BUFFER_TOO_SMALL, a
 * faulting value INVALID_ARGS.
 */
zx_status_t sys_object_get_property(zx_handle_t h, uint32_t property, user_addr_t value,
                                    size_t value_size) {
    kobject_t *o;
    zx_status_t st = handle_table_get(process_current_handles(), h, ZX_OBJ_TYPE_NONE,
                                      ZX_RIGHT_GET_PROPERTY, &o, NULL);
    if (st != ZX_OK)
        return st;
    char name[ZX_MAX_NAME_LEN];
    switch (property) {
    case ZX_PROP_NAME:
        if (value_size < ZX_MAX_NAME_LEN)
            st = ZX_ERR_BUFFER_TOO_SMALL;
        else if ((st = name_of(o, name)) == ZX_OK)
            st = user_copy_to(value, name, ZX_MAX_NAME_LEN);
        break;
    case ZX_PROP_VMO_CONTENT_SIZE:
        st = get_content_size(o, value, value_size);
        break;
    default:
        st = ZX_ERR_INVALID_ARGS;
        break;
    }
    kobject_unref(o);
    return st;
}

zx_status_t sys_object_set_property(zx_handle_t h, uint32_t property, user_addr_t value,
                                    size_t value_size) {
    kobject_t *o;
    zx_status_t st = handle_table_get(process_current_handles(), h, ZX_OBJ_TYPE_NONE,
                                      ZX_RIGHT_SET_PROPERTY, &o, NULL);
    if (st != ZX_OK)
        return st;
    char name[ZX_MAX_NAME_LEN];
    size_t n = value_size < ZX_MAX_NAME_LEN - 1 ? value_size : ZX_MAX_NAME_LEN - 1;
    memset(name, 0, sizeof(name));
    switch (property) {
    case ZX_PROP_NAME:
        if ((st = user_copy_from(name, value, n)) == ZX_OK)
            st = set_name_of(o, name, n);
        break;
    case ZX_PROP_VMO_CONTENT_SIZE:
        st = set_content_size(o, value, value_size);
        break;
    default:
        st = ZX_ERR_INVALID_ARGS;
        break;
    }
    kobject_unref(o);
    return st;
}
