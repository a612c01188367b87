/* Host tests for the line-table lookup (kernel/lib/elf_lines.c) and the section lookup it
 * uses (elf_find_section, kernel/lib/elf_syms.c): a well-formed image, then truncated and
 * corrupt ones, which must fail cleanly under ASan/UBSan. */
#include "htest.h"

#include <stddef.h>
#include <stdlib.h>

#include <lib/elf64.h>
#include <lib/elf_lines.h>
#include <lib/elf_syms.h>

/* An image: header, three section headers (null, .shstrtab, .beryl_lines), the section
 * names, then the table (header, file offsets, rows, strings), which ends the image. */
#define IMG_MAX 1024
#define NSECT 3
#define NFILES 2
#define NROWS 5
#define BASE 0x1000000ull

struct image {
    uint8_t bytes[IMG_MAX];
    size_t len;
    size_t shoff, namesoff, tableoff, rowsoff, stringsoff;
};

static const char names[] = "\0.shstrtab\0.beryl_lines";
static const char paths[] = "user/crash/write_ro.c\0user/crash/crash.h";

/* Rows: write_ro.c:5 from 0x1000100, :6 from 0x1000104, no line from 0x1000110,
 * crash.h:20 from 0x1000120, and the end of the sequence at 0x1000140. */
static const elf_lines_row_t rows[NROWS] = {
    {0x100, 0, 5}, {0x104, 0, 6}, {0x110, 0, 0}, {0x120, 1, 20}, {0x140, 0, 0},
};

static void build(struct image *im) {
    memset(im, 0, sizeof(*im));
    elf64_ehdr_t eh = {0};
    memcpy(eh.ident, ELF_MAGIC, 4);
    eh.ident[ELF_IDENT_CLASS] = ELF_CLASS_64;
    eh.ident[ELF_IDENT_DATA] = ELF_DATA_LSB;
    eh.type = ELF_TYPE_EXEC;
    eh.machine = ELF_MACHINE_X86_64;
    eh.shentsize = sizeof(elf64_shdr_t);
    eh.shnum = NSECT;
    eh.shstrndx = 1;
    im->shoff = sizeof(eh);
    eh.shoff = im->shoff;
    im->namesoff = im->shoff + NSECT * sizeof(elf64_shdr_t);
    im->tableoff = im->namesoff + sizeof(names);
    im->rowsoff = im->tableoff + sizeof(elf_lines_header_t) + NFILES * sizeof(uint32_t);
    im->stringsoff = im->rowsoff + sizeof(rows);
    im->len = im->stringsoff + sizeof(paths);
    elf64_shdr_t sh[NSECT] = {{0}};
    sh[1].name = 1;
    sh[1].type = ELF_SHT_STRTAB;
    sh[1].offset = im->namesoff;
    sh[1].size = sizeof(names);
    sh[2].name = 11;
    sh[2].type = 1; /* PROGBITS */
    sh[2].offset = im->tableoff;
    sh[2].size = im->len - im->tableoff;
    elf_lines_header_t h = {.version = ELF_LINES_VERSION, .row_count = NROWS,
                            .file_count = NFILES, .strings_size = sizeof(paths), .base = BASE};
    memcpy(h.magic, ELF_LINES_MAGIC, ELF_LINES_MAGIC_LEN);
    uint32_t offsets[NFILES] = {0, 22};
    memcpy(im->bytes, &eh, sizeof(eh));
    memcpy(im->bytes + im->shoff, sh, sizeof(sh));
    memcpy(im->bytes + im->namesoff, names, sizeof(names));
    memcpy(im->bytes + im->tableoff, &h, sizeof(h));
    memcpy(im->bytes + im->tableoff + sizeof(h), offsets, sizeof(offsets));
    memcpy(im->bytes + im->rowsoff, rows, sizeof(rows));
    memcpy(im->bytes + im->stringsoff, paths, sizeof(paths));
}

/* Looks addr up in an exact-size heap copy of the image's first len bytes, so ASan sees
 * any read past the end. */
static bool lookup(const struct image *im, size_t len, uint64_t addr, char *file, size_t n,
                   uint32_t *line) {
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, im->bytes, len);
    bool r = elf_lines_lookup(copy, len, addr, file, n, line);
    free(copy);
    return r;
}

HTEST(elf_lines, finds_the_row_covering_an_address) {
    struct image im;
    build(&im);
    char file[64];
    uint32_t line = 0;
    EXPECT_TRUE(lookup(&im, im.len, BASE + 0x100, file, sizeof(file), &line));
    EXPECT_STREQ(file, "user/crash/write_ro.c");
    EXPECT_EQ(line, 5u);
    EXPECT_TRUE(lookup(&im, im.len, BASE + 0x103, file, sizeof(file), &line));
    EXPECT_EQ(line, 5u);
    EXPECT_TRUE(lookup(&im, im.len, BASE + 0x104, file, sizeof(file), &line));
    EXPECT_EQ(line, 6u);
    EXPECT_TRUE(lookup(&im, im.len, BASE + 0x13f, file, sizeof(file), &line));
    EXPECT_STREQ(file, "user/crash/crash.h");
    EXPECT_EQ(line, 20u);
}

HTEST(elf_lines, misses_outside_the_rows_and_in_gaps) {
    struct image im;
    build(&im);
    char file[64];
    uint32_t line = 0;
    EXPECT_FALSE(lookup(&im, im.len, BASE + 0xff, file, sizeof(file), &line));
    EXPECT_STREQ(file, "");
    EXPECT_FALSE(lookup(&im, im.len, BASE + 0x110, file, sizeof(file), &line)); /* line 0 */
    EXPECT_FALSE(lookup(&im, im.len, BASE + 0x140, file, sizeof(file), &line)); /* the end */
    EXPECT_FALSE(lookup(&im, im.len, 0, file, sizeof(file), &line));
    EXPECT_FALSE(lookup(&im, im.len, UINT64_MAX, file, sizeof(file), &line));
}

HTEST(elf_lines, cuts_long_paths) {
    struct image im;
    build(&im);
    char file[6];
    uint32_t line = 0;
    EXPECT_TRUE(lookup(&im, im.len, BASE + 0x100, file, sizeof(file), &line));
    EXPECT_STREQ(file, "user/");
    char one[1];
    EXPECT_TRUE(lookup(&im, im.len, BASE + 0x100, one, sizeof(one), &line));
    EXPECT_EQ(one[0], '\0');
}

HTEST(elf_lines, finds_sections_by_exact_name) {
    struct image im;
    build(&im);
    uint64_t off = 0, size = 0;
    EXPECT_TRUE(elf_find_section(im.bytes, im.len, ".beryl_lines", &off, &size));
    EXPECT_EQ(off, im.tableoff);
    EXPECT_EQ(size, im.len - im.tableoff);
    EXPECT_TRUE(elf_find_section(im.bytes, im.len, ".shstrtab", &off, &size));
    EXPECT_FALSE(elf_find_section(im.bytes, im.len, ".beryl", &off, &size));
    EXPECT_FALSE(elf_find_section(im.bytes, im.len, ".beryl_lines_x", &off, &size));
}

HTEST(elf_lines, every_truncation_fails) {
    struct image im;
    build(&im);
    char file[64];
    uint32_t line = 0;
    /* The table ends the image, so every cut leaves part of the section outside it. */
    for (size_t len = 0; len < im.len; len++)
        EXPECT_FALSE(lookup(&im, len, BASE + 0x104, file, sizeof(file), &line));
    EXPECT_FALSE(elf_lines_lookup(NULL, 0, BASE + 0x104, file, sizeof(file), &line));
}

/* Overwrites the 4-byte field at byte offset at of the image with v. */
static void poke32(struct image *im, size_t at, uint32_t v) {
    memcpy(im->bytes + at, &v, sizeof(v));
}

HTEST(elf_lines, corrupt_tables_fail_or_stay_inside) {
    char file[64];
    uint32_t line = 0;
    struct image im;
    const uint32_t huge[] = {UINT32_MAX, UINT32_MAX - 7, 1u << 31, IMG_MAX};
    size_t counts = offsetof(elf_lines_header_t, row_count);
    for (size_t h = 0; h < sizeof(huge) / sizeof(huge[0]); h++) {
        for (size_t field = 0; field < 3; field++) { /* rows, files, strings size */
            build(&im);
            poke32(&im, im.tableoff + counts + field * sizeof(uint32_t), huge[h]);
            EXPECT_FALSE(lookup(&im, im.len, BASE + 0x104, file, sizeof(file), &line));
        }
        build(&im); /* a file's path offset past the strings */
        poke32(&im, im.tableoff + sizeof(elf_lines_header_t), huge[h]);
        EXPECT_FALSE(lookup(&im, im.len, BASE + 0x104, file, sizeof(file), &line));
        build(&im); /* the section name offset */
        poke32(&im, im.shoff + 2 * sizeof(elf64_shdr_t), huge[h]);
        EXPECT_FALSE(lookup(&im, im.len, BASE + 0x104, file, sizeof(file), &line));
    }
    build(&im); /* a row's file index past the files */
    uint16_t bad_file = NFILES;
    memcpy(im.bytes + im.rowsoff + sizeof(elf_lines_row_t) + offsetof(elf_lines_row_t, file),
           &bad_file, sizeof(bad_file));
    EXPECT_FALSE(lookup(&im, im.len, BASE + 0x104, file, sizeof(file), &line));
    build(&im); /* a last path without its NUL: cut at the strings' end */
    im.bytes[im.len - 1] = 'x';
    EXPECT_TRUE(lookup(&im, im.len, BASE + 0x120, file, sizeof(file), &line));
    EXPECT_STREQ(file, "user/crash/crash.hx");
    build(&im); /* another magic or version */
    im.bytes[im.tableoff] = 'X';
    EXPECT_FALSE(lookup(&im, im.len, BASE + 0x104, file, sizeof(file), &line));
    build(&im);
    poke32(&im, im.tableoff + offsetof(elf_lines_header_t, version), ELF_LINES_VERSION + 1);
    EXPECT_FALSE(lookup(&im, im.len, BASE + 0x104, file, sizeof(file), &line));
    build(&im); /* no rows */
    poke32(&im, im.tableoff + counts, 0);
    EXPECT_FALSE(lookup(&im, im.len, BASE + 0x104, file, sizeof(file), &line));
    build(&im); /* a section-name table whose last name has no NUL */
    im.bytes[im.namesoff + sizeof(names) - 1] = 'x';
    EXPECT_FALSE(lookup(&im, im.len, BASE + 0x104, file, sizeof(file), &line));
}

/* Random corruption of every byte: the lookup may succeed or fail, never misbehave. */
HTEST(elf_lines, random_corruption_is_safe) {
    char file[64];
    uint32_t line = 0;
    srand((unsigned)htest_seed());
    for (int round = 0; round < 4000; round++) {
        struct image im;
        build(&im);
        for (int k = 0; k < 4; k++)
            im.bytes[(size_t)rand() % im.len] = (uint8_t)rand();
        (void)lookup(&im, im.len, BASE + (uint64_t)(rand() % 0x180), file, sizeof(file),
                     &line);
    }
}
