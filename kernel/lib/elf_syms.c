/*
 * The symbol lookup behind the user fault report's function+offset (docs/debugging.md,
 * "When a user program crashes"). Pure: no allocation, no locks, no kernel services, so
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

bool elf_syms_lookup(const void *image, size_t len, uint64_t addr, char *name,
                     size_t name_size, uint64_t *offset) {
    const uint8_t *img = image;
    name[0] = '\0';
    elf64_ehdr_t eh;
    if (!img || len < sizeof(eh))
        return false;
    memcpy(&eh, img, sizeof(eh));
    if (memcmp(eh.ident, ELF_MAGIC, 4) != 0 || eh.ident[ELF_IDENT_CLASS] != ELF_CLASS_64 ||
        eh.ident[ELF_IDENT_DATA] != ELF_DATA_LSB || eh.shentsize != sizeof(elf64_shdr_t))
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
