/* Host tests for the ELF symbol lookup (kernel/lib/elf_syms.c): a well-formed image, then
 * truncated and corrupt ones, which must fail cleanly under ASan/UBSan. */
#include "htest.h"

#include <stddef.h>
#include <stdlib.h>

#include <lib/elf64.h>
#include <lib/elf_syms.h>

/* An image: header, three section headers (null, .symtab, .strtab), symbols, strings. */
#define IMG_MAX 1024
#define NSECT 3
#define NSYMS 4

struct image {
    uint8_t bytes[IMG_MAX];
    size_t len;
    size_t shoff, symoff, stroff, strsize;
};

static const char strings[] = "\0crash_inner\0crash_outer\0data_obj\0undef_fn";

/* Builds an image whose symbols are crash_inner [0x1000100, +0x20), crash_outer
 * [0x1000120, +0x30), an object data_obj [0x1000150, +0x10) and an undefined function. */
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
    im->shoff = sizeof(eh);
    eh.shoff = im->shoff;
    im->symoff = im->shoff + NSECT * sizeof(elf64_shdr_t);
    im->stroff = im->symoff + NSYMS * sizeof(elf64_sym_t);
    im->strsize = sizeof(strings);
    elf64_shdr_t sh[NSECT] = {{0}};
    sh[1].type = ELF_SHT_SYMTAB;
    sh[1].offset = im->symoff;
    sh[1].size = NSYMS * sizeof(elf64_sym_t);
    sh[1].entsize = sizeof(elf64_sym_t);
    sh[1].link = 2;
    sh[2].type = ELF_SHT_STRTAB;
    sh[2].offset = im->stroff;
    sh[2].size = im->strsize;
    elf64_sym_t syms[NSYMS] = {
        {1, ELF_STT_FUNC, 0, 1, 0x1000100, 0x20},
        {13, ELF_STT_FUNC, 0, 1, 0x1000120, 0x30},
        {25, 1 /* STT_OBJECT */, 0, 2, 0x1000150, 0x10},
        {34, ELF_STT_FUNC, 0, ELF_SHN_UNDEF, 0x1000160, 0x10},
    };
    memcpy(im->bytes, &eh, sizeof(eh));
    memcpy(im->bytes + im->shoff, sh, sizeof(sh));
    memcpy(im->bytes + im->symoff, syms, sizeof(syms));
    memcpy(im->bytes + im->stroff, strings, sizeof(strings));
    im->len = im->stroff + im->strsize;
}

/* Looks addr up in an exact-size heap copy of the image's first len bytes, so ASan sees
 * any read past the end. */
static bool lookup(const struct image *im, size_t len, uint64_t addr, char *name, size_t n,
                   uint64_t *off) {
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, im->bytes, len);
    bool r = elf_syms_lookup(copy, len, addr, name, n, off);
    free(copy);
    return r;
}

HTEST(elf_syms, names_functions_with_offsets) {
    struct image im;
    build(&im);
    char name[32];
    uint64_t off = 99;
    EXPECT_TRUE(lookup(&im, im.len, 0x1000100, name, sizeof(name), &off));
    EXPECT_STREQ(name, "crash_inner");
    EXPECT_EQ(off, 0u);
    EXPECT_TRUE(lookup(&im, im.len, 0x100011f, name, sizeof(name), &off));
    EXPECT_STREQ(name, "crash_inner");
    EXPECT_EQ(off, 0x1fu);
    EXPECT_TRUE(lookup(&im, im.len, 0x1000124, name, sizeof(name), &off));
    EXPECT_STREQ(name, "crash_outer");
    EXPECT_EQ(off, 4u);
}

HTEST(elf_syms, misses_outside_functions) {
    struct image im;
    build(&im);
    char name[32];
    uint64_t off = 0;
    EXPECT_FALSE(lookup(&im, im.len, 0x10000ff, name, sizeof(name), &off));
    EXPECT_STREQ(name, "");
    EXPECT_FALSE(lookup(&im, im.len, 0x1000150, name, sizeof(name), &off)); /* an object */
    EXPECT_FALSE(lookup(&im, im.len, 0x1000168, name, sizeof(name), &off)); /* undefined */
    EXPECT_FALSE(lookup(&im, im.len, 0, name, sizeof(name), &off));
    EXPECT_FALSE(lookup(&im, im.len, UINT64_MAX, name, sizeof(name), &off));
}

HTEST(elf_syms, cuts_long_names) {
    struct image im;
    build(&im);
    char name[6];
    uint64_t off = 0;
    EXPECT_TRUE(lookup(&im, im.len, 0x1000100, name, sizeof(name), &off));
    EXPECT_STREQ(name, "crash");
    char one[1];
    EXPECT_TRUE(lookup(&im, im.len, 0x1000100, one, sizeof(one), &off));
    EXPECT_EQ(one[0], '\0');
}

HTEST(elf_syms, every_truncation_fails_or_stays_inside) {
    struct image im;
    build(&im);
    char name[32];
    uint64_t off = 0;
    /* The string table ends the image, so every cut leaves a table outside it. */
    for (size_t len = 0; len < im.len; len++)
        EXPECT_FALSE(lookup(&im, len, 0x1000124, name, sizeof(name), &off));
    EXPECT_FALSE(elf_syms_lookup(NULL, 0, 0x1000124, name, sizeof(name), &off));
}

/* Overwrites the 8-byte field at byte offset at of the image with v. */
static void poke64(struct image *im, size_t at, uint64_t v) {
    memcpy(im->bytes + at, &v, sizeof(v));
}

HTEST(elf_syms, corrupt_headers_fail) {
    char name[32];
    uint64_t off = 0;
    struct image im;
    const uint64_t huge[] = {UINT64_MAX, UINT64_MAX - 7, 1ull << 63, IMG_MAX};
    for (size_t h = 0; h < sizeof(huge) / sizeof(huge[0]); h++) {
        build(&im); /* section header table offset */
        poke64(&im, offsetof(elf64_ehdr_t, shoff), huge[h]);
        EXPECT_FALSE(lookup(&im, im.len, 0x1000124, name, sizeof(name), &off));
        build(&im); /* symbol table offset */
        poke64(&im, im.shoff + sizeof(elf64_shdr_t) + offsetof(elf64_shdr_t, offset), huge[h]);
        EXPECT_FALSE(lookup(&im, im.len, 0x1000124, name, sizeof(name), &off));
        build(&im); /* symbol table size */
        poke64(&im, im.shoff + sizeof(elf64_shdr_t) + offsetof(elf64_shdr_t, size), huge[h]);
        EXPECT_FALSE(lookup(&im, im.len, 0x1000124, name, sizeof(name), &off));
        build(&im); /* string table offset and size */
        poke64(&im, im.shoff + 2 * sizeof(elf64_shdr_t) + offsetof(elf64_shdr_t, offset),
               huge[h]);
        EXPECT_FALSE(lookup(&im, im.len, 0x1000124, name, sizeof(name), &off));
        build(&im);
        poke64(&im, im.shoff + 2 * sizeof(elf64_shdr_t) + offsetof(elf64_shdr_t, size),
               huge[h]);
        EXPECT_FALSE(lookup(&im, im.len, 0x1000124, name, sizeof(name), &off));
    }
    build(&im); /* a string table link past the section count */
    uint32_t link = 7;
    memcpy(im.bytes + im.shoff + sizeof(elf64_shdr_t) + offsetof(elf64_shdr_t, link), &link,
           sizeof(link));
    EXPECT_FALSE(lookup(&im, im.len, 0x1000124, name, sizeof(name), &off));
    build(&im); /* a wrong section header size */
    uint16_t shentsize = 16;
    memcpy(im.bytes + offsetof(elf64_ehdr_t, shentsize), &shentsize, sizeof(shentsize));
    EXPECT_FALSE(lookup(&im, im.len, 0x1000124, name, sizeof(name), &off));
    build(&im); /* not an ELF */
    im.bytes[0] = 0;
    EXPECT_FALSE(lookup(&im, im.len, 0x1000124, name, sizeof(name), &off));
    build(&im); /* a 32-bit ELF */
    im.bytes[ELF_IDENT_CLASS] = 1;
    EXPECT_FALSE(lookup(&im, im.len, 0x1000124, name, sizeof(name), &off));
}

HTEST(elf_syms, corrupt_symbols_stay_inside) {
    char name[32];
    uint64_t off = 0;
    struct image im;
    build(&im); /* a name offset past the string table */
    uint32_t bad = (uint32_t)im.strsize;
    memcpy(im.bytes + im.symoff + sizeof(elf64_sym_t), &bad, sizeof(bad));
    EXPECT_FALSE(lookup(&im, im.len, 0x1000124, name, sizeof(name), &off));
    build(&im); /* a string table whose last string has no NUL: cut at the table's end */
    im.bytes[im.len - 1] = 'x';
    uint32_t last = 34;
    memcpy(im.bytes + im.symoff + 3 * sizeof(elf64_sym_t), &last, sizeof(last));
    uint16_t shndx = 1;
    memcpy(im.bytes + im.symoff + 3 * sizeof(elf64_sym_t) + offsetof(elf64_sym_t, shndx),
           &shndx, sizeof(shndx));
    EXPECT_TRUE(lookup(&im, im.len, 0x1000160, name, sizeof(name), &off));
    EXPECT_STREQ(name, "undef_fnx");
    build(&im); /* a function whose end wraps around */
    poke64(&im, im.symoff + offsetof(elf64_sym_t, size), UINT64_MAX);
    EXPECT_TRUE(lookup(&im, im.len, UINT64_MAX, name, sizeof(name), &off));
    EXPECT_EQ(off, UINT64_MAX - 0x1000100);
    EXPECT_FALSE(lookup(&im, im.len, 0x10000ff, name, sizeof(name), &off));
}

/* Random corruption of every byte: the lookup may succeed or fail, never misbehave. */
HTEST(elf_syms, random_corruption_is_safe) {
    char name[32];
    uint64_t off = 0;
    srand((unsigned)htest_seed());
    for (int round = 0; round < 2000; round++) {
        struct image im;
        build(&im);
        for (int k = 0; k < 4; k++)
            im.bytes[(size_t)rand() % im.len] = (uint8_t)rand();
        (void)lookup(&im, im.len, 0x1000100 + (uint64_t)(rand() % 0x80), name, sizeof(name),
                     &off);
    }
}

/* elf_vaddr_of_offset: an image of a header and two PT_LOAD program headers (file
 * [0x1000, 0x1400) at 0x1000000, file [0x2000, 0x2100) at 0x1004000), the second one's
 * memory larger than its file bytes. */
static size_t build_loads(uint8_t *img, size_t cap) {
    memset(img, 0, cap);
    elf64_ehdr_t eh = {0};
    memcpy(eh.ident, ELF_MAGIC, 4);
    eh.ident[ELF_IDENT_CLASS] = ELF_CLASS_64;
    eh.ident[ELF_IDENT_DATA] = ELF_DATA_LSB;
    eh.shentsize = sizeof(elf64_shdr_t);
    eh.phentsize = sizeof(elf64_phdr_t);
    eh.phnum = 2;
    eh.phoff = sizeof(eh);
    elf64_phdr_t ph[2] = {
        {ELF_PT_LOAD, ELF_PF_R | ELF_PF_X, 0x1000, 0x1000000, 0x1000000, 0x400, 0x400, 0x1000},
        {ELF_PT_LOAD, ELF_PF_R | ELF_PF_W, 0x2000, 0x1004000, 0x1004000, 0x100, 0x3000, 0x1000},
    };
    memcpy(img, &eh, sizeof(eh));
    memcpy(img + sizeof(eh), ph, sizeof(ph));
    return sizeof(eh) + sizeof(ph);
}

HTEST(elf_syms, vaddr_of_offset_follows_the_load_segments) {
    uint8_t img[256];
    size_t len = build_loads(img, sizeof(img));
    uint64_t va = 0;
    EXPECT_TRUE(elf_vaddr_of_offset(img, len, 0x1000, &va));
    EXPECT_EQ(va, 0x1000000u);
    EXPECT_TRUE(elf_vaddr_of_offset(img, len, 0x13ff, &va));
    EXPECT_EQ(va, 0x10003ffu);
    EXPECT_TRUE(elf_vaddr_of_offset(img, len, 0x2010, &va));
    EXPECT_EQ(va, 0x1004010u);
    EXPECT_FALSE(elf_vaddr_of_offset(img, len, 0x1400, &va)); /* between segments */
    EXPECT_FALSE(elf_vaddr_of_offset(img, len, 0x2100, &va)); /* bss: no file bytes */
    EXPECT_FALSE(elf_vaddr_of_offset(img, len, 0xfff, &va));
    EXPECT_FALSE(elf_vaddr_of_offset(img, len, UINT64_MAX, &va));
    for (size_t cut = 0; cut < len; cut++) { /* every cut loses a program header */
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, img, cut);
        EXPECT_FALSE(elf_vaddr_of_offset(copy, cut, 0x2010, &va));
        free(copy);
    }
    uint64_t huge = UINT64_MAX - 8; /* a program header table offset that wraps */
    memcpy(img + offsetof(elf64_ehdr_t, phoff), &huge, sizeof(huge));
    EXPECT_FALSE(elf_vaddr_of_offset(img, len, 0x1000, &va));
}
