/* Maps a static ELF executable from a VMO into a VMAR (beryl_elf_load, <beryl/launch.h>). */
#include <beryl/launch.h>
#include <string.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#include "elf_priv.h"

/* Never written: the source of the zeroes that clear the tail of a segment's last file page. */
static const char zero_page[4096];

typedef struct {
    zx_handle_t vmar;
    zx_vaddr_t base;
    uint32_t num;
    struct {
        zx_vaddr_t addr;
        size_t len;
    } done[2 * BERYL_ELF_MAX_PHDRS];
} load_state_t;

/* Maps len bytes of vmo at absolute address addr, recording the mapping for rollback. */
static zx_status_t map_at(load_state_t *ls, zx_vaddr_t addr, zx_handle_t vmo, uint64_t off,
                          size_t len, uint32_t perms) {
    zx_vaddr_t got;
    zx_status_t st = zx_vmar_map(ls->vmar, perms | ZX_VM_SPECIFIC, addr - ls->base, vmo, off,
                                 len, &got);
    if (st != ZX_OK)
        return st;
    ls->done[ls->num].addr = got;
    ls->done[ls->num].len = len;
    ls->num++;
    return ZX_OK;
}

/*
 * The private VMO the file-backed segments are mapped from: one copy-on-write child of
 * the whole executable VMO (ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, as Zircon's loader
 * does), so a process (or a debugger's zx_process_write_memory) that changes its code or
 * data changes only its own copy, never the executable VMO nor another process started
 * from it. One child per load, not one per segment: every live snapshot of a VMO adds a
 * level to its copy-on-write chain (at most VMO_COW_DEPTH_MAX), so a program's running
 * instances each cost that VMO one level.
 */
typedef struct {
    zx_handle_t rw;   /* the child (its pages private to the new process) */
    zx_handle_t exec; /* a duplicate made executable, for code segments (lazily) */
} private_image_t;

/* True if the file pages of segment i overlap another segment's whose bss tail gets
 * cleared (or the other way round): then the two cannot share one child's pages. */
static bool shares_cleared_page(const beryl_elf_plan_t *plan, uint32_t i) {
    const beryl_elf_segment_t *s = &plan->segments[i];
    for (uint32_t j = 0; j < plan->num_segments; j++) {
        const beryl_elf_segment_t *o = &plan->segments[j];
        if (j == i || o->file_len == 0 || !(s->zero_tail || o->zero_tail))
            continue;
        if (s->file_off < o->file_off + o->file_len && o->file_off < s->file_off + s->file_len)
            return true;
    }
    return false;
}

/* Makes a segment-sized private child of the executable VMO (the fallback for a segment
 * that shares a cleared page). The caller owns *out. */
static zx_status_t segment_child(zx_handle_t exe_vmo, const beryl_elf_segment_t *s,
                                 zx_handle_t *out) {
    zx_status_t st = zx_vmo_create_child(exe_vmo, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
                                         s->file_off, s->file_len, out);
    if (st == ZX_OK && s->zero_tail) {
        st = zx_vmo_write(*out, zero_page, s->file_bytes, s->file_len - s->file_bytes);
        if (st != ZX_OK)
            zx_handle_close(*out);
    }
    return st;
}

static zx_status_t map_segment(load_state_t *ls, zx_handle_t exe_vmo, private_image_t *img,
                               const beryl_elf_plan_t *plan, uint32_t i) {
    const beryl_elf_segment_t *s = &plan->segments[i];
    zx_status_t st;
    if (s->file_len > 0) {
        bool exec = s->perms & ZX_VM_PERM_EXECUTE;
        zx_handle_t vmo = ZX_HANDLE_INVALID, own = ZX_HANDLE_INVALID;
        uint64_t off = s->file_off;
        if (shares_cleared_page(plan, i)) {
            st = segment_child(exe_vmo, s, &own);
            /* Consumes own whatever happens. */
            if (st == ZX_OK && exec)
                st = zx_vmo_replace_as_executable(own, ZX_HANDLE_INVALID, &own);
            if (st != ZX_OK)
                return st;
            vmo = own;
            off = 0;
        } else {
            if (s->zero_tail &&
                (st = zx_vmo_write(img->rw, zero_page, s->file_off + s->file_bytes,
                                   s->file_len - s->file_bytes)) != ZX_OK)
                return st;
            if (exec && img->exec == ZX_HANDLE_INVALID) {
                zx_handle_t dup;
                if ((st = zx_handle_duplicate(img->rw, ZX_RIGHT_SAME_RIGHTS, &dup)) != ZX_OK)
                    return st;
                /* Consumes dup whatever happens. */
                if ((st = zx_vmo_replace_as_executable(dup, ZX_HANDLE_INVALID, &img->exec)) !=
                    ZX_OK)
                    return st;
            }
            vmo = exec ? img->exec : img->rw;
        }
        st = map_at(ls, s->vaddr, vmo, off, s->file_len, s->perms);
        if (own != ZX_HANDLE_INVALID)
            zx_handle_close(own); /* the mapping keeps the VMO alive */
        if (st != ZX_OK)
            return st;
    }
    if (s->mem_len > s->file_len) {
        zx_handle_t bss;
        uint64_t len = s->mem_len - s->file_len;
        st = zx_vmo_create(len, 0, &bss);
        if (st != ZX_OK)
            return st;
        st = map_at(ls, s->vaddr + s->file_len, bss, 0, len, s->perms);
        zx_handle_close(bss);
        if (st != ZX_OK)
            return st;
    }
    return ZX_OK;
}

zx_status_t beryl_elf_load(zx_handle_t vmar, zx_handle_t exe_vmo, zx_vaddr_t *entry) {
    uint64_t file_size;
    zx_status_t st = zx_vmo_get_size(exe_vmo, &file_size);
    if (st != ZX_OK)
        return st;
    beryl_elf64_ehdr_t ehdr;
    if (file_size < sizeof(ehdr))
        return ZX_ERR_INVALID_ARGS;
    st = zx_vmo_read(exe_vmo, &ehdr, 0, sizeof(ehdr));
    if (st != ZX_OK)
        return st;
    uint64_t phoff;
    uint32_t phnum;
    st = beryl_elf_check_header(&ehdr, sizeof(ehdr), file_size, &phoff, &phnum);
    if (st != ZX_OK)
        return st;
    beryl_elf64_phdr_t phdrs[BERYL_ELF_MAX_PHDRS];
    st = zx_vmo_read(exe_vmo, phdrs, phoff, phnum * sizeof(phdrs[0]));
    if (st != ZX_OK)
        return st;
    beryl_elf_plan_t plan;
    st = beryl_elf_make_plan(phdrs, phnum, file_size, ehdr.e_entry, &plan);

    load_state_t ls = {.vmar = vmar};
    zx_info_vmar_t info;
    private_image_t img = {ZX_HANDLE_INVALID, ZX_HANDLE_INVALID};
    if (st == ZX_OK)
        st = zx_object_get_info(vmar, ZX_INFO_VMAR, &info, sizeof(info), NULL, NULL);
    if (st == ZX_OK)
        st = zx_vmo_create_child(exe_vmo, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0,
                                 file_size, &img.rw);
    if (st == ZX_OK) {
        ls.base = info.base;
        for (uint32_t i = 0; i < plan.num_segments && st == ZX_OK; i++) {
            const beryl_elf_segment_t *s = &plan.segments[i];
            if (s->vaddr < info.base || s->vaddr + s->mem_len - info.base > info.len)
                st = ZX_ERR_INVALID_ARGS;
            else
                st = map_segment(&ls, exe_vmo, &img, &plan, i);
        }
    }
    /* The mappings keep the child alive. */
    if (img.rw != ZX_HANDLE_INVALID)
        zx_handle_close(img.rw);
    if (img.exec != ZX_HANDLE_INVALID)
        zx_handle_close(img.exec);
    if (st != ZX_OK) {
        for (uint32_t i = 0; i < ls.num; i++)
            zx_vmar_unmap(vmar, ls.done[i].addr, ls.done[i].len);
        return st;
    }
    *entry = plan.entry;
    return ZX_OK;
}
