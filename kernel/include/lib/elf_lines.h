/* Source file and line for addresses, from the line table a user program's ELF carries. */
#ifndef LIB_ELF_LINES_H
#define LIB_ELF_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The section tools/gen_lines.py appends to every user program at build time. */
#define ELF_LINES_SECTION ".beryl_lines"
#define ELF_LINES_MAGIC "BRYLINES"
#define ELF_LINES_MAGIC_LEN 8
#define ELF_LINES_VERSION 1u

/*
 * The section's layout, all little-endian, with no alignment required of the reader:
 *   the header below;
 *   file_count uint32_t offsets into the strings, one per file index;
 *   row_count rows (elf_lines_row_t), sorted by address: row i covers the addresses from
 *     base + addr_offset up to the next row's (the last one ends a sequence); line 0 means
 *     no line (a gap between sequences, or code the compiler gave no line);
 *   strings_size bytes of NUL-terminated paths (relative to the source tree when inside
 *     it, e.g. "user/crash/write_ro.c").
 */
typedef struct elf_lines_header {
    char magic[ELF_LINES_MAGIC_LEN]; /* ELF_LINES_MAGIC, no NUL */
    uint32_t version;                /* ELF_LINES_VERSION */
    uint32_t row_count;
    uint32_t file_count;
    uint32_t strings_size;
    uint64_t base; /* the lowest executable address; rows are relative to it */
} elf_lines_header_t;

typedef struct elf_lines_row {
    uint32_t addr_offset; /* address - base */
    uint16_t file;        /* file index */
    uint16_t line;        /* 1-based; 0: no line */
} elf_lines_row_t;

_Static_assert(sizeof(elf_lines_header_t) == 32, "the header is 32 bytes");
_Static_assert(sizeof(elf_lines_row_t) == 8, "a row is 8 bytes");

/*
 * Finds the source line of addr in the ELF_LINES_SECTION section of the ELF-64 image
 * [image, image + len). On success writes the file's path into file (cut to file_size - 1
 * bytes, always NUL-terminated; file_size >= 1) and the line into *line, and returns true.
 * Returns false, touching nothing but file[0], when the image has no valid table or the
 * row covering addr has no line.
 *
 * The image is untrusted: the section, the header's counts, every row and every string
 * offset are checked against the section before they are read, and every read is a byte
 * copy, so a corrupt table gives false or a wrong line, never a read outside the image.
 * The rows are not checked for order: unsorted rows give a wrong answer, still from
 * inside the table. The work is one pass over the section headers and a binary search.
 */
bool elf_lines_lookup(const void *image, size_t len, uint64_t addr, char *file,
                      size_t file_size, uint32_t *line);

#endif
