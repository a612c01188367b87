/*
 * Task syscalls: processes, threads, zx_task_kill, process memory access.
 * Every function checks all its arguments before changing anything (a failing call
 * leaves no trace), except where Zircon consumes a handle even on failure (noted).
 */
#include <object/handle_user.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/syscall_impl.h>
#include <kernel/user_copy.h>
#include <lib/string.h>
#include <object/vmo_dispatcher.h>
#include <vm/vm_aspace.h>
#include <vm/vmo.h>
#include <zircon/rights.h>
#include "proc_priv.h"

/* zx_process_read/write_memory move at most this much per call (Zircon: 64 MiB). */
#define PROCESS_MEMORY_MAX ((size_t)64 << 20)
/* A task name longer than this is read only up to here (it is truncated anyway). */
#define NAME_COPY_MAX (ZX_MAX_NAME_LEN - 1)

static zx_status_t get_obj(zx_handle_t h, zx_obj_type_t type, zx_rights_t rights,
                           kobject_t **out) {
    return handle_table_get(process_current_handles(), h, type, rights, out, NULL);
}

/* Copies a user name of name_size bytes (truncated to 31), stopping at a NUL. */
static zx_status_t copy_user_name(user_addr_t name, size_t name_size,
                                  char out[ZX_MAX_NAME_LEN], size_t *len) {
    size_t n = name_size < NAME_COPY_MAX ? name_size : NAME_COPY_MAX;
    memset(out, 0, ZX_MAX_NAME_LEN);
    if (n && user_copy_from(out, name, n) != ZX_OK)
        return ZX_ERR_INVALID_ARGS;
    *len = strnlen(out, n);
    return ZX_OK;
}

/*
 * The first checks of every task-creating syscall, in Zircon's order: the handle
 * (BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED), the options (INVALID_ARGS unless options_ok),
 * the name (INVALID_ARGS for a bad pointer). On success *obj holds a reference and
 * name_out / *len the name; on failure nothing is held.
 */
static zx_status_t creator_args(zx_handle_t h, zx_obj_type_t type, zx_rights_t rights,
                                bool options_ok, user_addr_t name, size_t name_size,
                                kobject_t **obj, char name_out[ZX_MAX_NAME_LEN], size_t *len) {
    zx_status_t st = get_obj(h, type, rights, obj);
    if (st != ZX_OK)
        return st;
    st = options_ok ? copy_user_name(name, name_size, name_out, len) : ZX_ERR_INVALID_ARGS;
    if (st != ZX_OK)
        kobject_unref(*obj);
    return st;
}

/* Publishes a new process and its root (or restricted) VMAR in the caller's table; if the
 * second handle cannot be delivered, closing the first ends the unstarted process. */
static zx_status_t publish_process(process_t *p, kobject_t *vmar, zx_rights_t vmar_rights,
                                   user_addr_t proc_out, user_addr_t vmar_out) {
    handle_table_t *ht = process_current_handles();
    zx_handle_t ph = ZX_HANDLE_INVALID;
    zx_status_t st = handle_table_publish(ht, &p->obj, ZX_DEFAULT_PROCESS_RIGHTS, proc_out, &ph);
    if (st == ZX_OK) {
        st = handle_table_publish(ht, vmar, vmar_rights, vmar_out, NULL);
        if (st != ZX_OK)
            handle_table_close(ht, ph); /* the last handle: the unstarted process ends */
    }
    kobject_unref(vmar);
    kobject_unref(&p->obj);
    return st;
}

zx_status_t sys_process_create(zx_handle_t job_h, user_addr_t name, size_t name_size,
                               uint32_t options, user_addr_t proc_out, user_addr_t vmar_out) {
    kobject_t *job;
    char buf[ZX_MAX_NAME_LEN];
    size_t len = 0;
    zx_status_t st = creator_args(job_h, ZX_OBJ_TYPE_JOB, ZX_RIGHT_MANAGE_PROCESS,
                                  !(options & ~ZX_PROCESS_SHARED), name, name_size, &job, buf,
                                  &len);
    if (st != ZX_OK)
        return st;
    process_t *p = NULL;
    kobject_t *vmar = NULL;
    zx_rights_t vmar_rights = 0;
    st = process_create(job, buf, len, options & ZX_PROCESS_SHARED, &p, &vmar, &vmar_rights);
    kobject_unref(job);
    if (st != ZX_OK)
        return st;
    return publish_process(p, vmar, vmar_rights, proc_out, vmar_out);
}

zx_status_t sys_process_create_shared(zx_handle_t shared_proc, uint32_t options,
                                      user_addr_t name, size_t name_size, user_addr_t proc_out,
                                      user_addr_t restricted_vmar_out) {
    kobject_t *proto;
    char buf[ZX_MAX_NAME_LEN];
    size_t len = 0;
    zx_status_t st = creator_args(shared_proc, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_MANAGE_PROCESS,
                                  options == 0, name, name_size, &proto, buf, &len);
    if (st != ZX_OK)
        return st;
    process_t *p = NULL;
    kobject_t *vmar = NULL;
    zx_rights_t vmar_rights = 0;
    st = process_create_shared(to_process(proto), buf, len, &p, &vmar, &vmar_rights);
    kobject_unref(proto);
    if (st != ZX_OK)
        return st;
    return publish_process(p, vmar, vmar_rights, proc_out, restricted_vmar_out);
}

zx_status_t sys_thread_create(zx_handle_t proc_h, user_addr_t name, size_t name_size,
                              uint32_t options, user_addr_t out) {
    kobject_t *po;
    char buf[ZX_MAX_NAME_LEN];
    size_t len = 0;
    zx_status_t st = creator_args(proc_h, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_MANAGE_THREAD,
                                  options == 0, name, name_size, &po, buf, &len);
    if (st != ZX_OK)
        return st;
    uthread_t *ut = NULL;
    st = uthread_create(to_process(po), buf, len, &ut);
    kobject_unref(po);
    if (st != ZX_OK)
        return st;
    st = handle_table_publish(process_current_handles(), &ut->obj, ZX_DEFAULT_THREAD_RIGHTS,
                              out, NULL);
    if (st != ZX_OK)
        uthread_kill(ut); /* never visible to user space: tear it down */
    kobject_unref(&ut->obj);
    return st;
}

/* Where a thread may start: a user address for rip, a stack top inside the user half. */
static bool user_entry_ok(uintptr_t entry, uintptr_t stack) {
    return entry >= USER_ASPACE_BASE && entry < USER_ASPACE_TOP && stack <= USER_ASPACE_TOP;
}

zx_status_t sys_thread_start(zx_handle_t h, zx_vaddr_t entry, zx_vaddr_t stack, uintptr_t arg1,
                             uintptr_t arg2) {
    kobject_t *to;
    zx_status_t st = get_obj(h, ZX_OBJ_TYPE_THREAD, ZX_RIGHT_MANAGE_THREAD, &to);
    if (st != ZX_OK)
        return st;
    if (!user_entry_ok(entry, stack))
        st = ZX_ERR_INVALID_ARGS;
    else
        st = uthread_start(to_uthread(to), entry, stack, arg1, arg2, false);
    kobject_unref(to);
    return st;
}

void sys_thread_exit(void) { uthread_exit_current(); }

/*
 * zx_process_start. arg1 is consumed in every case where it named a valid handle (Zircon
 * closes it on failure too); on success it moves into the new process's table.
 */
zx_status_t sys_process_start(zx_handle_t proc_h, zx_handle_t thread_h, zx_vaddr_t entry,
                              zx_vaddr_t stack, zx_handle_t arg1, uintptr_t arg2) {
    handle_table_t *ht = process_current_handles();
    handle_ref_t a1 = {0};
    bool have_a1 = false;
    kobject_t *po = NULL, *to = NULL;
    zx_status_t st = get_obj(proc_h, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_WRITE, &po);
    if (st == ZX_OK)
        st = get_obj(thread_h, ZX_OBJ_TYPE_THREAD, ZX_RIGHT_WRITE, &to);
    if (arg1 != ZX_HANDLE_INVALID) {
        zx_rights_t r1 = 0;
        kobject_t *o1 = NULL;
        zx_status_t st1 = handle_table_get(ht, arg1, ZX_OBJ_TYPE_NONE, 0, &o1, &r1);
        if (st1 == ZX_OK) {
            kobject_unref(o1);
            if (!(r1 & ZX_RIGHT_TRANSFER))
                st1 = ZX_ERR_ACCESS_DENIED;
            else if (handle_table_remove(ht, arg1, &a1) == ZX_OK)
                have_a1 = true;
        }
        if (st == ZX_OK)
            st = st1;
    }
    if (st == ZX_OK && to_uthread(to)->proc != to_process(po))
        st = ZX_ERR_ACCESS_DENIED;
    if (st == ZX_OK && !user_entry_ok(entry, stack))
        st = ZX_ERR_INVALID_ARGS;
    if (st == ZX_OK)
        st = process_start(to_process(po), to_uthread(to), entry, stack, &a1, arg2);
    if (have_a1)
        handle_ref_release(&a1);
    if (to)
        kobject_unref(to);
    if (po)
        kobject_unref(po);
    return st;
}

void sys_process_exit(int64_t retcode) {
    process_kill(process_current(), retcode);
    uthread_exit_current();
}

zx_status_t sys_task_kill(zx_handle_t h) {
    kobject_t *o;
    zx_rights_t rights = 0;
    zx_status_t st =
        handle_table_get(process_current_handles(), h, ZX_OBJ_TYPE_NONE, 0, &o, &rights);
    if (st != ZX_OK)
        return st;
    zx_obj_type_t type = kobject_type(o);
    if (type != ZX_OBJ_TYPE_PROCESS && type != ZX_OBJ_TYPE_THREAD && type != ZX_OBJ_TYPE_JOB)
        st = ZX_ERR_WRONG_TYPE;
    else if (!(rights & ZX_RIGHT_DESTROY))
        st = ZX_ERR_ACCESS_DENIED;
    else if (type == ZX_OBJ_TYPE_PROCESS)
        process_kill(to_process(o), ZX_TASK_RETCODE_SYSCALL_KILL);
    else if (type == ZX_OBJ_TYPE_THREAD)
        uthread_kill(to_uthread(o));
    else
        st = ZX_ERR_NOT_SUPPORTED; /* jobs do not track their processes yet */
    kobject_unref(o);
    return st;
}

/* --- zx_process_read_memory / zx_process_write_memory --- */

struct mem_copy_ctx {
    user_addr_t user_buf;
    bool to_user; /* read_memory: VMO -> caller */
};

static zx_status_t mem_copy_cb(void *ctx, size_t done, void *kptr, size_t n) {
    struct mem_copy_ctx *c = ctx;
    zx_status_t st = c->to_user ? user_copy_to(c->user_buf + done, kptr, n)
                                : user_copy_from(kptr, c->user_buf + done, n);
    return st == ZX_OK ? ZX_OK : ZX_ERR_INVALID_ARGS;
}

/* kernel.enable-debugging-syscalls, read once at boot (debugging_syscalls_init). */
static bool debugging_syscalls;

void debugging_syscalls_init(void) {
    debugging_syscalls = cmdline_get_bool(DEBUGGING_SYSCALLS_OPTION, false);
    if (debugging_syscalls)
        printf("syscall: debugging syscalls enabled (%s)\n", DEBUGGING_SYSCALLS_OPTION);
}

bool debugging_syscalls_enabled(void) { return debugging_syscalls; }

/*
 * Moves len bytes between the caller's buffer and process p's memory at vaddr, through
 * the VMOs mapped there (so the protections of p's mappings do not matter, as in Zircon).
 * A write only goes through a mapping that could ever be made writable (its maximum
 * permissions include WRITE): memory p may never write, such as a read-only VMO handle's
 * mapping, is never changed for it. Checks in Zircon's order: the boot switch first
 * (NOT_SUPPORTED), then the arguments, then the handle.
 *
 * Stops at the first unmapped byte, at the end of a mapped VMO (a mapping may run past
 * its VMO's end, or the VMO may have shrunk under it), or, for a write, at the first
 * mapping that cannot be written: *actual tells how far it got. Nothing at all is
 * ZX_ERR_NO_MEMORY (Zircon's code for "vaddr not mapped"), ZX_ERR_OUT_OF_RANGE when vaddr
 * is mapped but lies at or past its VMO's end (Zircon's answer), ZX_ERR_ACCESS_DENIED for
 * a write refused at vaddr, or ZX_ERR_BAD_STATE when p is dying or its aspace was torn
 * down before the first byte moved; a teardown after that only makes the result short.
 * Only the VMO of one mapping is held at a time (a reference), never the mapping itself.
 */
static zx_status_t process_memory(zx_handle_t h, zx_rights_t rights, zx_vaddr_t vaddr,
                                  user_addr_t buf, size_t len, user_addr_t actual_out,
                                  bool read) {
    if (!debugging_syscalls_enabled())
        return ZX_ERR_NOT_SUPPORTED;
    if (len == 0 || len > PROCESS_MEMORY_MAX || !user_range_ok(buf, len) ||
        !user_range_ok(actual_out, sizeof(size_t)))
        return ZX_ERR_INVALID_ARGS;
    kobject_t *po;
    zx_status_t st = get_obj(h, ZX_OBJ_TYPE_PROCESS, rights, &po);
    if (st != ZX_OK)
        return st;
    vm_aspace_t *as = process_aspace_get(to_process(po));
    kobject_unref(po); /* the aspace reference is all the walk below needs */
    if (!as)
        return ZX_ERR_BAD_STATE;
    size_t done = 0;
    bool past_end = false; /* stopped at a mapped VMO's end */
    while (done < len && vaddr + done >= vaddr) {
        vmo_t *vmo;
        uint64_t off;
        size_t left;
        zx_status_t lst = vm_aspace_lookup_vmo(as, vaddr + done, !read, &vmo, &off, &left);
        if (lst != ZX_OK) {
            if (done == 0 && (lst == ZX_ERR_BAD_STATE || lst == ZX_ERR_ACCESS_DENIED))
                st = lst;
            break;
        }
        uint64_t vsize = vmo_size(vmo);
        size_t n = len - done < left ? len - done : left;
        zx_status_t cst = ZX_ERR_OUT_OF_RANGE;
        if (off < vsize) {
            bool trimmed = n > vsize - off;
            if (trimmed)
                n = (size_t)(vsize - off);
            struct mem_copy_ctx c = {buf + done, read};
            cst = read ? vmo_read(vmo, off, n, mem_copy_cb, &c)
                       : vmo_write(vmo, off, n, mem_copy_cb, &c);
            if (cst == ZX_OK && trimmed) {
                done += n; /* the rest of the mapping lies past the VMO's end */
                past_end = true;
                cst = ZX_ERR_OUT_OF_RANGE;
                n = 0;
            }
        }
        vmo_unref(vmo);
        if (cst == ZX_ERR_INVALID_ARGS) {
            st = ZX_ERR_INVALID_ARGS; /* the caller's buffer faulted */
            break;
        }
        if (cst != ZX_OK) {
            /* OUT_OF_RANGE: at or beyond the VMO's end (it may have shrunk meanwhile) */
            past_end = past_end || cst == ZX_ERR_OUT_OF_RANGE;
            break;
        }
        done += n;
    }
    vm_aspace_unref(as);
    if (st == ZX_OK && done == 0)
        st = past_end ? ZX_ERR_OUT_OF_RANGE : ZX_ERR_NO_MEMORY;
    if (st == ZX_OK)
        st = user_copy_to(actual_out, &done, sizeof(done));
    return st;
}

zx_status_t sys_process_read_memory(zx_handle_t h, zx_vaddr_t vaddr, user_addr_t buffer,
                                    size_t buffer_size, user_addr_t actual) {
    return process_memory(h, ZX_RIGHT_READ | ZX_RIGHT_WRITE, vaddr, buffer, buffer_size, actual,
                          true);
}

zx_status_t sys_process_write_memory(zx_handle_t h, zx_vaddr_t vaddr, user_addr_t buffer,
                                     size_t buffer_size, user_addr_t actual) {
    return process_memory(h, ZX_RIGHT_WRITE, vaddr, buffer, buffer_size, actual, false);
}
