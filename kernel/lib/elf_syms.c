/*
 * The symbol lookup behind the user fault report's function+offset (docs/debugging.md,
 * "When a user program crashes"), and the section lookup its file:line (elf_lines.c)
 * starts from. Pure: no allocation, no locks, no kernel services, so
 * the host tests (tests/host/test_elf_syms.c) run it under ASan/UBSan on hostile input.
 */
#include <lib/elf64.h>
#include <lib/elf_syms.h>
#include <lib/string.h>

/* True if [off, off + size) lies within an image of len bytes (no overflow). */
static bool in_image(uint64_t off, uint64_t size, size_t len) {
    return off <= len && size <= len - off;
}

/* Copies section header i of the image into *out; false if it lies outside the image. */
static bool read_shdr(const uint8_t *img, size_t len, const elf64_ehdr_t *eh, uint32_t i,
                      elf64_shdr_t *out) {
    if (i >= eh->shnum)
        return false;
    uint64_t off = eh->shoff + (uint64_t)i * sizeof(*out);
    if (off < eh->shoff || !in_image(off, sizeof(*out), len))
        return false;
    memcpy(out, img + off, sizeof(*out));
    return true;
}

/* Copies the string at offset at of the string table st into name (cut to name_size - 1
 * bytes), stopping at its NUL or at the table's end, whichever comes first. */
static void copy_name(const uint8_t *img, const elf64_shdr_t *st, uint32_t at, char *name,
                      size_t name_size) {
    size_t n = 0;
    for (uint64_t i = at; i < st->size && n + 1 < name_size; i++) {
        char c = (char)img[st->offset + i];
        if (c == '\0')
            break;
        name[n++] = c;
    }
    name[n] = '\0';
}

/* Copies the ELF header of the image into *eh; false unless the image is a
 * little-endian ELF-64 whose section headers have the ELF-64 size. */
static bool read_ehdr(const uint8_t *img, size_t len, elf64_ehdr_t *eh) {
    if (!img || len < sizeof(*eh))
        return false;
    memcpy(eh, img, sizeof(*eh));
    return memcmp(eh->ident, ELF_MAGIC, 4) == 0 && eh->ident[ELF_IDENT_CLASS] == ELF_CLASS_64 &&
           eh->ident[ELF_IDENT_DATA] == ELF_DATA_LSB && eh->shentsize == sizeof(elf64_shdr_t);
}

bool elf_find_section(const void *image, size_t len, const char *name, uint64_t *offset,
                      uint64_t *size) {
    const uint8_t *img = image;
    elf64_ehdr_t eh;
    elf64_shdr_t names, sh;
    if (!read_ehdr(img, len, &eh) || !read_shdr(img, len, &eh, eh.shstrndx, &names) ||
        !in_image(names.offset, names.size, len))
        return false;
    size_t want = strlen(name) + 1; /* the NUL too: ".a" is not ".ab" */
    for (uint32_t i = 0; i < eh.shnum; i++) {
        if (!read_shdr(img, len, &eh, i, &sh) || sh.name > names.size ||
            want > names.size - sh.name ||
            memcmp(img + names.offset + sh.name, name, want) != 0)
            continue;
        if (!in_image(sh.offset, sh.size, len))
            return false;
        *offset = sh.offset;
        *size = sh.size;
        return true;
    }
    return false;
}

bool elf_vaddr_of_offset(const void *image, size_t len, uint64_t file_offset,
                         uint64_t *vaddr) {
    const uint8_t *img = image;
    elf64_ehdr_t eh;
    if (!read_ehdr(img, len, &eh) || eh.phentsize != sizeof(elf64_phdr_t))
        return false;
    for (uint32_t i = 0; i < eh.phnum; i++) {
        uint64_t off = eh.phoff + (uint64_t)i * sizeof(elf64_phdr_t);
        elf64_phdr_t ph;
        if (off < eh.phoff || !in_image(off, sizeof(ph), len))
            return false;
        memcpy(&ph, img + off, sizeof(ph));
        if (ph.type != ELF_PT_LOAD || file_offset < ph.offset ||
            file_offset - ph.offset >= ph.filesz)
            continue;
        *vaddr = ph.vaddr + (file_offset - ph.offset); /* may wrap: the caller compares */
        return true;
    }
    return false;
}

bool elf_syms_lookup(const void *image, size_t len, uint64_t addr, char *name,
                     size_t name_size, uint64_t *offset) {
    const uint8_t *img = image;
    name[0] = '\0';
    elf64_ehdr_t eh;
    if (!read_ehdr(img, len, &eh))
        return false;

    elf64_shdr_t symtab, strtab;
    bool found = false;
    for (uint32_t i = 0; i < eh.shnum && !found; i++)
        found = read_shdr(img, len, &eh, i, &symtab) && symtab.type == ELF_SHT_SYMTAB;
    if (!found || symtab.entsize != sizeof(elf64_sym_t) ||
        !in_image(symtab.offset, symtab.size, len))
        return false;
    if (!read_shdr(img, len, &eh, symtab.link, &strtab) || strtab.type != ELF_SHT_STRTAB ||
        !in_image(strtab.offset, strtab.size, len))
        return false;

    uint64_t count = symtab.size / sizeof(elf64_sym_t);
    for (uint64_t i = 0; i < count; i++) {
        elf64_sym_t s;
        memcpy(&s, img + symtab.offset + i * sizeof(s), sizeof(s));
        if (ELF_SYM_TYPE(s.info) != ELF_STT_FUNC || s.shndx == ELF_SHN_UNDEF ||
            s.size == 0 || addr < s.value || addr - s.value >= s.size ||
            s.name >= strtab.size)
            continue;
        copy_name(img, &strtab, s.name, name, name_size);
        *offset = addr - s.value;
        return true;
    }
    return false;
}
