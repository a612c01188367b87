/*
 * The line lookup behind the user fault report's (file:line) (docs/debugging.md, "When a
 * user program crashes"): a binary search in the table tools/gen_lines.py builds from
 * the program's DWARF line programs. Pure like elf_syms.c: the host tests
 * (tests/host/test_elf_lines.c) run it under ASan/UBSan on hostile input.
 */
#include <lib/elf_lines.h>
#include <lib/elf_syms.h>
#include <lib/string.h>

/* Copies row i of the rows starting at byte `rows` of the image. */
static elf_lines_row_t read_row(const uint8_t *img, uint64_t rows, uint32_t i) {
    elf_lines_row_t r;
    memcpy(&r, img + rows + (uint64_t)i * sizeof(r), sizeof(r));
    return r;
}

bool elf_lines_lookup(const void *image, size_t len, uint64_t addr, char *file,
                      size_t file_size, uint32_t *line) {
    const uint8_t *img = image;
    file[0] = '\0';
    uint64_t at, size;
    elf_lines_header_t h;
    if (!elf_find_section(image, len, ELF_LINES_SECTION, &at, &size) || size < sizeof(h))
        return false;
    memcpy(&h, img + at, sizeof(h));
    if (memcmp(h.magic, ELF_LINES_MAGIC, ELF_LINES_MAGIC_LEN) != 0 ||
        h.version != ELF_LINES_VERSION || h.row_count == 0)
        return false;
    /* The counts are 32-bit, so none of these sums overflows 64 bits. */
    uint64_t files = at + sizeof(h);
    uint64_t rows = files + (uint64_t)h.file_count * sizeof(uint32_t);
    uint64_t strings = rows + (uint64_t)h.row_count * sizeof(elf_lines_row_t);
    if (strings + h.strings_size > at + size || addr < h.base)
        return false;

    /* The last row at or below addr: rows [lo, hi) are still candidates after row lo. */
    uint64_t want = addr - h.base;
    if (want > UINT32_MAX)
        want = UINT32_MAX;
    if (read_row(img, rows, 0).addr_offset > want)
        return false;
    uint32_t lo = 0, hi = h.row_count;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (read_row(img, rows, mid).addr_offset <= want)
            lo = mid;
        else
            hi = mid;
    }
    elf_lines_row_t r = read_row(img, rows, lo);
    if (r.line == 0 || r.file >= h.file_count)
        return false;
    uint32_t name;
    memcpy(&name, img + files + (uint64_t)r.file * sizeof(name), sizeof(name));
    if (name >= h.strings_size)
        return false;
    size_t n = 0;
    for (uint64_t i = name; i < h.strings_size && n + 1 < file_size; i++) {
        char c = (char)img[strings + i];
        if (c == '\0')
            break;
        file[n++] = c;
    }
    file[n] = '\0';
    *line = r.line;
    return true;
}
