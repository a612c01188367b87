/*
 * Starting userboot, the first user process (what it then runs: docs/user-tests.md).
 *
 * The kernel loads the boot module named "userboot" (a static ELF) into a new process
 * in the root job: each PT_LOAD segment's file pages are mapped, with exactly the
 * segment's permissions, from a private copy-on-write child of the module's VMO, its bss
 * from a fresh VMO; a stack VMO is mapped read-write. The first thread starts at the ELF
 * entry with rdi = its end of a bootstrap channel whose one message (the processargs
 * format, <zircon/processargs.h>) carries handles to the process, its root VMAR, the
 * thread, the root job, the root resource and one read-only, executable VMO per boot
 * module (named after the module), plus the module names.
 */
#include <kernel/assert.h>
#include <kernel/boot_info.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/user_copy.h>
#include <lib/elf64.h>
#include <lib/string.h>
#include <object/channel.h>
#include <object/vmar_dispatcher.h>
#include <object/vmo_dispatcher.h>
#include <phys/heap.h>
#include <phys/physmap.h>
#include <vm/vm_aspace.h>
#include <vm/vmo.h>
#include <vm/vmar.h>
#include <zircon/processargs.h>
#include <zircon/rights.h>
#include "proc_priv.h"

#define USERBOOT_MODULE_NAME "userboot"
/* Kernel command-line option passed to userboot as its second argument: which modules
 * to run (by name prefix; userboot's default is "test/"). */
#define USERBOOT_PREFIX_OPTION "userboot.prefix"
#define USERBOOT_STACK_SIZE ((size_t)64 << 10)
#define ROUNDUP_PAGE(x) (((x) + PAGE_SIZE - 1) & ~(uint64_t)PAGE_MASK)
#define ROUNDDOWN_PAGE(x) ((x) & ~(uint64_t)PAGE_MASK)
/* Fixed handles in the bootstrap message before the module VMOs. */
#define USERBOOT_FIXED_HANDLES 5u
/* Module VMOs the first bootstrap message carries after the fixed handles; the rest
 * follow in continuation messages of up to ZX_CHANNEL_MAX_MSG_HANDLES each
 * (docs/architecture.md, userboot). Fewer than a message could take, so that every boot
 * of the test suite goes through the continuation path. */
#define USERBOOT_FIRST_MODULES 32u
_Static_assert(USERBOOT_FIXED_HANDLES + USERBOOT_FIRST_MODULES <= ZX_CHANNEL_MAX_MSG_HANDLES,
               "the first bootstrap message takes at most ZX_CHANNEL_MAX_MSG_HANDLES");
/* A boot module's VMO handle: enough to read it, map it executable and make private
 * copy-on-write children of it (DUPLICATE | READ), never to change it (no WRITE, no
 * SET_PROPERTY): every program started from it shares its pages. */
#define USERBOOT_MODULE_RIGHTS \
    (ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_MAP | ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_EXECUTE)

static zx_status_t copy_from_kernel(void *ctx, size_t done, void *kptr, size_t n) {
    memcpy(kptr, (const uint8_t *)ctx + done, n);
    return ZX_OK;
}

/* A paged VMO holding a copy of [data, data + len) at offset `at`. */
static zx_status_t vmo_from_bytes(const void *data, size_t len, uint64_t at, uint64_t size,
                                  vmo_t **out) {
    vmo_t *vmo;
    zx_status_t st = vmo_create_paged(ROUNDUP_PAGE(size), 0, &vmo);
    if (st != ZX_OK)
        return st;
    if (len && (st = vmo_write(vmo, at, len, copy_from_kernel, (void *)data)) != ZX_OK) {
        vmo_unref(vmo);
        return st;
    }
    *out = vmo;
    return ZX_OK;
}

static zx_vm_option_t elf_perms(uint32_t pf) {
    zx_vm_option_t o = 0;
    if (pf & ELF_PF_R)
        o |= ZX_VM_PERM_READ;
    if (pf & ELF_PF_W)
        o |= ZX_VM_PERM_WRITE;
    if (pf & ELF_PF_X)
        o |= ZX_VM_PERM_EXECUTE;
    return o;
}

static zx_status_t copy_zeroes(void *ctx, size_t done, void *kptr, size_t n) {
    (void)ctx;
    (void)done;
    memset(kptr, 0, n);
    return ZX_OK;
}

/*
 * Maps one PT_LOAD segment as the user-space loader does (user/lib/elf.c): its file pages
 * through a private copy-on-write child of the image VMO (the bss part of the last one
 * cleared), the rest of its memory from a fresh VMO; both with the segment's permissions
 * and those as the mappings' maximum (so a debugger write into them is allowed and lands
 * in userboot's private pages, never in the image VMO that userboot hands on).
 */
static zx_status_t load_segment(vmar_t *vmar, vaddr_t base, vmo_t *image,
                                const elf64_phdr_t *ph) {
    uint64_t start = ROUNDDOWN_PAGE(ph->vaddr);
    uint64_t lead = ph->vaddr - start;
    uint64_t file_bytes = ph->filesz ? lead + ph->filesz : 0;
    uint64_t file_len = ROUNDUP_PAGE(file_bytes), mem_len = ROUNDUP_PAGE(lead + ph->memsz);
    zx_vm_option_t perms = elf_perms(ph->flags);
    vaddr_t at;
    zx_status_t st = ZX_OK;
    if (file_len > 0) {
        vmo_t *vmo;
        st = vmo_create_child(image, VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, ph->offset - lead,
                              file_len, &vmo);
        if (st != ZX_OK)
            return st;
        if (ph->memsz > ph->filesz && file_bytes < file_len)
            st = vmo_write(vmo, file_bytes, file_len - file_bytes, copy_zeroes, NULL);
        if (st == ZX_OK)
            st = vmar_map(vmar, start - base, vmo, 0, file_len, perms | ZX_VM_SPECIFIC,
                          perms, &at);
        vmo_unref(vmo); /* the mapping holds it */
    }
    if (st == ZX_OK && mem_len > file_len) {
        vmo_t *bss;
        st = vmo_create_paged(mem_len - file_len, 0, &bss);
        if (st != ZX_OK)
            return st;
        st = vmar_map(vmar, start + file_len - base, bss, 0, mem_len - file_len,
                      perms | ZX_VM_SPECIFIC, perms, &at);
        vmo_unref(bss);
    }
    return st;
}

/* Loads the ELF image at [img, img + len), whose bytes are also in the VMO `image`, into
 * vmar (the root VMAR at base). Any malformation: ZX_ERR_NOT_SUPPORTED. */
static zx_status_t load_elf(vmar_t *vmar, vaddr_t base, const uint8_t *img, size_t len,
                            vmo_t *image, uintptr_t *entry) {
    const elf64_ehdr_t *eh = (const elf64_ehdr_t *)img;
    if (len < sizeof(*eh) || memcmp(eh->ident, ELF_MAGIC, 4) != 0 ||
        eh->ident[ELF_IDENT_CLASS] != ELF_CLASS_64 || eh->type != ELF_TYPE_EXEC ||
        eh->machine != ELF_MACHINE_X86_64 || eh->phentsize != sizeof(elf64_phdr_t) ||
        eh->phoff > len || (uint64_t)eh->phnum * sizeof(elf64_phdr_t) > len - eh->phoff)
        return ZX_ERR_NOT_SUPPORTED;
    const elf64_phdr_t *ph = (const elf64_phdr_t *)(img + eh->phoff);
    for (unsigned i = 0; i < eh->phnum; i++) {
        if (ph[i].type != ELF_PT_LOAD || ph[i].memsz == 0)
            continue;
        if (ph[i].filesz > ph[i].memsz || ph[i].offset > len ||
            ph[i].filesz > len - ph[i].offset || ROUNDDOWN_PAGE(ph[i].vaddr) < base ||
            (ph[i].offset & PAGE_MASK) != (ph[i].vaddr & PAGE_MASK))
            return ZX_ERR_NOT_SUPPORTED;
        zx_status_t st = load_segment(vmar, base, image, &ph[i]);
        if (st != ZX_OK)
            return st;
    }
    *entry = eh->entry;
    return ZX_OK;
}

/*
 * Allocates a zeroed message of `total` bytes whose processargs header puts the handle
 * info right after it and the args and names at the offsets given (each with its count).
 * NULL when out of memory.
 */
static uint8_t *pa_message(size_t total, size_t args_off, uint32_t args_num, size_t names_off,
                           uint32_t names_num) {
    uint8_t *msg = kzalloc(total);
    if (!msg)
        return NULL;
    zx_proc_args_t *pa = (zx_proc_args_t *)msg;
    pa->protocol = ZX_PROCARGS_PROTOCOL;
    pa->version = ZX_PROCARGS_VERSION;
    pa->handle_info_off = sizeof(zx_proc_args_t);
    pa->args_off = (uint32_t)args_off;
    pa->args_num = args_num;
    pa->names_off = (uint32_t)names_off;
    pa->names_num = names_num;
    return msg;
}

/* Builds the first bootstrap message's bytes: header, the info of its handles (the
 * fixed ones and the first USERBOOT_FIRST_MODULES module VMOs), args, and the names of
 * every module. */
static void *build_message(const struct boot_info *bi, uint32_t *size_out) {
    size_t first = MIN(bi->module_count, (size_t)USERBOOT_FIRST_MODULES);
    size_t nh = USERBOOT_FIXED_HANDLES + first;
    size_t names = 0;
    for (size_t i = 0; i < bi->module_count; i++)
        names += strlen(bi->modules[i].name) + 1;
    /* args: "userboot" [prefix of the modules to run, from userboot.prefix=]. */
    size_t prefix_len = 0;
    const char *prefix = cmdline_get(USERBOOT_PREFIX_OPTION, &prefix_len);
    size_t arg_len = sizeof(USERBOOT_MODULE_NAME) + (prefix ? prefix_len + 1 : 0);
    size_t info_off = sizeof(zx_proc_args_t);
    size_t args_off = info_off + nh * sizeof(uint32_t);
    size_t names_off = args_off + arg_len;
    size_t total = names_off + names;
    uint8_t *msg = pa_message(total, args_off, prefix ? 2 : 1, names_off,
                              (uint32_t)bi->module_count);
    if (!msg)
        return NULL;
    uint32_t *info = (uint32_t *)(msg + info_off);
    info[0] = PA_HND(PA_PROC_SELF, 0);
    info[1] = PA_HND(PA_VMAR_ROOT, 0);
    info[2] = PA_HND(PA_THREAD_SELF, 0);
    info[3] = PA_HND(PA_JOB_DEFAULT, 0);
    info[4] = PA_HND(PA_RESOURCE, 0);
    for (size_t i = 0; i < first; i++)
        info[USERBOOT_FIXED_HANDLES + i] = PA_HND(PA_VMO_BOOTFS, i);
    memcpy(msg + args_off, USERBOOT_MODULE_NAME, sizeof(USERBOOT_MODULE_NAME));
    if (prefix)
        memcpy(msg + args_off + sizeof(USERBOOT_MODULE_NAME), prefix, prefix_len);
    char *np = (char *)msg + names_off;
    for (size_t i = 0; i < bi->module_count; i++) {
        size_t n = strlen(bi->modules[i].name) + 1;
        memcpy(np, bi->modules[i].name, n);
        np += n;
    }
    *size_out = (uint32_t)total;
    return msg;
}

/*
 * Builds a continuation message: a processargs header and the info of `count` module
 * VMOs from module index `from` on (no args, no names).
 */
static void *build_continuation(size_t from, size_t count, uint32_t *size_out) {
    size_t info_off = sizeof(zx_proc_args_t);
    size_t total = info_off + count * sizeof(uint32_t);
    uint8_t *msg = pa_message(total, total, 0, total, 0);
    if (!msg)
        return NULL;
    uint32_t *info = (uint32_t *)(msg + info_off);
    for (size_t i = 0; i < count; i++)
        info[i] = PA_HND(PA_VMO_BOOTFS, from + i);
    *size_out = (uint32_t)total;
    return msg;
}

/* A VMO object holding a copy of boot module m, named after it, with m's origin tag
 * (fault_report_module_tag) so that the fault report finds m from a mapping of it or of
 * a child of it. */
static zx_status_t module_vmo(const struct boot_info *bi, const struct boot_module *m,
                              kobject_t **out) {
    vmo_t *vmo;
    size_t len = m->end - m->start;
    zx_status_t st = vmo_from_bytes(paddr_to_physmap(m->start), len, 0, len ? len : 1, &vmo);
    if (st != ZX_OK)
        return st;
    vmo_set_origin(vmo, fault_report_module_tag(bi, m));
    st = vmo_dispatcher_create(vmo, out);
    vmo_unref(vmo);
    if (st == ZX_OK)
        vmo_dispatcher_set_name(*out, m->name, strlen(m->name));
    return st;
}

/*
 * Everything userboot needs, in order. The caller (kernel main) owns *out, a reference
 * to the running process. Fails with ZX_ERR_NOT_FOUND when there is no userboot module.
 */
zx_status_t userboot_start_from(const struct boot_info *bi, process_t **out) {
    const struct boot_module *ub = NULL;
    for (size_t i = 0; i < bi->module_count; i++)
        if (strcmp(bi->modules[i].name, USERBOOT_MODULE_NAME) == 0)
            ub = &bi->modules[i];
    if (!ub)
        return ZX_ERR_NOT_FOUND;
    fault_report_init(bi);

    process_t *p;
    kobject_t *vmar_obj;
    zx_rights_t vmar_rights;
    zx_status_t st = process_create(job_root(), USERBOOT_MODULE_NAME,
                                    strlen(USERBOOT_MODULE_NAME), false, &p, &vmar_obj, &vmar_rights);
    ASSERT_MSG(st == ZX_OK, "userboot: process_create: %d", st);
    vmar_t *root = vmar_dispatcher_vmar(vmar_obj);
    vaddr_t base = USER_ASPACE_BASE;

    /* One VMO per boot module (userboot's own among them): userboot is loaded from its
     * module's VMO, the way userboot loads the programs from theirs. */
    kobject_t **mods = kzalloc(bi->module_count * sizeof(*mods));
    ASSERT(mods);
    vmo_t *image = NULL;
    for (size_t i = 0; i < bi->module_count; i++) {
        ASSERT(module_vmo(bi, &bi->modules[i], &mods[i]) == ZX_OK);
        if (&bi->modules[i] == ub)
            image = vmo_dispatcher_vmo(mods[i]);
    }
    uintptr_t entry = 0;
    st = load_elf(root, base, paddr_to_physmap(ub->start), ub->end - ub->start, image, &entry);
    ASSERT_MSG(st == ZX_OK, "userboot: cannot load the ELF image: %d", st);

    vmo_t *stack_vmo;
    vaddr_t stack_base;
    ASSERT(vmo_create_paged(USERBOOT_STACK_SIZE, 0, &stack_vmo) == ZX_OK);
    st = vmar_map(root, 0, stack_vmo, 0, USERBOOT_STACK_SIZE,
                  ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE,
                  &stack_base);
    vmo_unref(stack_vmo);
    ASSERT_MSG(st == ZX_OK, "userboot: stack map: %d", st);

    uthread_t *ut;
    ASSERT(uthread_create(p, USERBOOT_MODULE_NAME, strlen(USERBOOT_MODULE_NAME), &ut) == ZX_OK);

    size_t nh = USERBOOT_FIXED_HANDLES + bi->module_count;
    handle_ref_t *hs = kzalloc(nh * sizeof(*hs));
    ASSERT(hs);
    handle_ref_init(&hs[0], &p->obj, ZX_DEFAULT_PROCESS_RIGHTS);
    handle_ref_init(&hs[1], vmar_obj, vmar_rights);
    handle_ref_init(&hs[2], &ut->obj, ZX_DEFAULT_THREAD_RIGHTS);
    handle_ref_init(&hs[3], job_root(), ZX_DEFAULT_JOB_RIGHTS);
    handle_ref_init(&hs[4], resource_root(), ZX_DEFAULT_RESOURCE_RIGHTS);
    for (size_t i = 0; i < bi->module_count; i++) {
        handle_ref_init(&hs[USERBOOT_FIXED_HANDLES + i], mods[i], USERBOOT_MODULE_RIGHTS);
        kobject_unref(mods[i]);
    }
    kfree(mods);
    uint32_t msg_size;
    void *msg = build_message(bi, &msg_size);
    ASSERT(msg);
    channel_t *kernel_end, *user_end;
    ASSERT(channel_create(&kernel_end, &user_end) == ZX_OK);
    size_t sent = USERBOOT_FIXED_HANDLES + MIN(bi->module_count, (size_t)USERBOOT_FIRST_MODULES);
    st = channel_write_kernel(kernel_end, msg, msg_size, hs, (uint32_t)sent);
    ASSERT_MSG(st == ZX_OK, "userboot: bootstrap message: %d", st);
    kfree(msg);
    while (sent < nh) {
        size_t from = sent - USERBOOT_FIXED_HANDLES;
        size_t count = MIN(nh - sent, (size_t)ZX_CHANNEL_MAX_MSG_HANDLES);
        msg = build_continuation(from, count, &msg_size);
        ASSERT(msg);
        st = channel_write_kernel(kernel_end, msg, msg_size, &hs[sent], (uint32_t)count);
        ASSERT_MSG(st == ZX_OK, "userboot: bootstrap continuation message: %d", st);
        kfree(msg);
        sent += count;
    }
    kfree(hs);
    /* Drop the kernel's end as a handle would be dropped, so userboot sees PEER_CLOSED
     * once it has read the message. */
    handle_ref_t ke;
    handle_ref_init(&ke, channel_kobj(kernel_end), ZX_DEFAULT_CHANNEL_RIGHTS);
    kobject_unref(channel_kobj(kernel_end));
    handle_ref_release(&ke);

    zx_handle_t boot_h;
    handle_ref_t ue;
    handle_ref_init(&ue, channel_kobj(user_end), ZX_DEFAULT_CHANNEL_RIGHTS);
    kobject_unref(channel_kobj(user_end));
    ASSERT(handle_table_add_ref(p->handles, &ue, &boot_h) == ZX_OK);
    st = uthread_start(ut, entry, stack_base + USERBOOT_STACK_SIZE, boot_h, 0, true);
    ASSERT_MSG(st == ZX_OK, "userboot: start: %d", st);
    kobject_unref(&ut->obj);
    kobject_unref(vmar_obj);
    printf("userboot: started (entry 0x%lx, %zu boot modules)\n", entry, bi->module_count);
    *out = p;
    return ZX_OK;
}
