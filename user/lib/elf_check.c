/* ELF validation and mapping plan (see elf_priv.h). */
#include "elf_priv.h"
#include "string_priv.h"

static uint64_t page_up(uint64_t v) {
    return (v + BERYL_ELF_PAGE - 1) & ~(BERYL_ELF_PAGE - 1);
}

zx_status_t beryl_elf_check_header(const void *ehdr, size_t len, uint64_t file_size,
                                   uint64_t *phoff, uint32_t *phnum) {
    beryl_elf64_ehdr_t h;
    if (len < sizeof(h) || file_size < sizeof(h))
        return ZX_ERR_INVALID_ARGS;
    BERYL_LIBC(memcpy)(&h, ehdr, sizeof(h));
    if (h.e_ident[0] != 0x7f || h.e_ident[1] != 'E' || h.e_ident[2] != 'L' ||
        h.e_ident[3] != 'F')
        return ZX_ERR_INVALID_ARGS;
    if (h.e_ident[4] != 2 /* ELFCLASS64 */ || h.e_ident[5] != 1 /* ELFDATA2LSB */)
        return ZX_ERR_NOT_SUPPORTED;
    if (h.e_ident[6] != 1 || h.e_version != 1)
        return ZX_ERR_INVALID_ARGS;
    if (h.e_machine != BERYL_ELF_EM_X86_64 || h.e_type != BERYL_ELF_ET_EXEC)
        return ZX_ERR_NOT_SUPPORTED;
    if (h.e_phentsize != sizeof(beryl_elf64_phdr_t) || h.e_phnum == 0)
        return ZX_ERR_INVALID_ARGS;
    if (h.e_phnum > BERYL_ELF_MAX_PHDRS)
        return ZX_ERR_NOT_SUPPORTED;
    uint64_t bytes = (uint64_t)h.e_phnum * sizeof(beryl_elf64_phdr_t);
    if (h.e_phoff > file_size || file_size - h.e_phoff < bytes || h.e_phoff % 8 != 0)
        return ZX_ERR_INVALID_ARGS;
    *phoff = h.e_phoff;
    *phnum = h.e_phnum;
    return ZX_OK;
}

zx_status_t beryl_elf_make_plan(const void *phdrs, uint32_t phnum, uint64_t file_size,
                                uint64_t entry, beryl_elf_plan_t *plan) {
    if (phnum > BERYL_ELF_MAX_PHDRS)
        return ZX_ERR_NOT_SUPPORTED;
    beryl_elf_plan_t p = {.entry = entry};
    uint64_t prev_end = BERYL_ELF_USER_BASE;
    bool entry_ok = false;
    for (uint32_t i = 0; i < phnum; i++) {
        beryl_elf64_phdr_t ph;
        BERYL_LIBC(memcpy)(&ph, (const char *)phdrs + i * sizeof(ph), sizeof(ph));
        if (ph.p_type == BERYL_ELF_PT_INTERP || ph.p_type == BERYL_ELF_PT_DYNAMIC ||
            ph.p_type == BERYL_ELF_PT_TLS)
            return ZX_ERR_NOT_SUPPORTED;
        if (ph.p_type != BERYL_ELF_PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_filesz > ph.p_memsz || ph.p_offset > file_size ||
            file_size - ph.p_offset < ph.p_filesz)
            return ZX_ERR_INVALID_ARGS;
        if (ph.p_offset % BERYL_ELF_PAGE != ph.p_vaddr % BERYL_ELF_PAGE)
            return ZX_ERR_INVALID_ARGS;
        if (ph.p_vaddr < prev_end || ph.p_vaddr > BERYL_ELF_USER_TOP ||
            BERYL_ELF_USER_TOP - ph.p_vaddr < ph.p_memsz)
            return ZX_ERR_INVALID_ARGS;
        uint64_t skew = ph.p_vaddr % BERYL_ELF_PAGE;
        beryl_elf_segment_t *s = &p.segments[p.num_segments++];
        s->vaddr = ph.p_vaddr - skew;
        if (s->vaddr < prev_end) /* shares a page with the previous segment */
            return ZX_ERR_INVALID_ARGS;
        s->file_off = ph.p_offset - skew;
        s->file_bytes = ph.p_filesz == 0 ? 0 : skew + ph.p_filesz;
        s->file_len = page_up(s->file_bytes);
        s->mem_len = page_up(skew + ph.p_memsz);
        s->perms = ((ph.p_flags & BERYL_ELF_PF_R) ? ZX_VM_PERM_READ : 0) |
                   ((ph.p_flags & BERYL_ELF_PF_W) ? ZX_VM_PERM_WRITE : 0) |
                   ((ph.p_flags & BERYL_ELF_PF_X) ? ZX_VM_PERM_EXECUTE : 0);
        s->zero_tail = s->file_len > 0 && ph.p_memsz > ph.p_filesz &&
                       s->file_bytes % BERYL_ELF_PAGE != 0;
        if ((ph.p_flags & BERYL_ELF_PF_X) && entry >= ph.p_vaddr &&
            entry - ph.p_vaddr < ph.p_memsz)
            entry_ok = true;
        prev_end = s->vaddr + s->mem_len;
    }
    if (p.num_segments == 0 || !entry_ok)
        return ZX_ERR_INVALID_ARGS;
    *plan = p;
    return ZX_OK;
}
