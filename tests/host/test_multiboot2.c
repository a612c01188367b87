/*
 * Host tests for kernel/multiboot2.c. A small builder assembles tag lists the way a
 * bootloader would; every parse runs on a malloc'd copy sized exactly to the bytes the
 * parser may read, so ASan reports any read outside [mbi, mbi + avail).
 */
#include "htest.h"

#include <stdlib.h>

#include <kernel/multiboot2.h>

#define MB_BUF_MAX 16384
#define MB_MMAP_ENTRY_SIZE 24

/* Tag types from the multiboot2 specification that the parser ignores. */
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_LOAD_BASE_ADDR 21

struct mb_builder {
    _Alignas(8) uint8_t buf[MB_BUF_MAX];
    size_t len;
    size_t tag_start; /* offset of the tag being written */
};

struct mb_region {
    uint64_t base, length;
    uint32_t type;
};

static void mb_put(struct mb_builder *b, const void *p, size_t n) {
    if (b->len + n > MB_BUF_MAX)
        abort();
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

static void mb_put_u32(struct mb_builder *b, uint32_t v) { mb_put(b, &v, sizeof(v)); }
static void mb_put_u64(struct mb_builder *b, uint64_t v) { mb_put(b, &v, sizeof(v)); }

static void mb_patch_u32(struct mb_builder *b, size_t off, uint32_t v) {
    memcpy(b->buf + off, &v, sizeof(v));
}

/* Starts the information structure: total_size (patched by mb_end) and reserved. */
static void mb_begin(struct mb_builder *b) {
    memset(b->buf, 0, sizeof(b->buf));
    b->len = 0;
    mb_put_u32(b, 0);
    mb_put_u32(b, 0);
}

static void mb_open(struct mb_builder *b, uint32_t type) {
    b->tag_start = b->len;
    mb_put_u32(b, type);
    mb_put_u32(b, 0);
}

/* Ends the open tag with the given size field, then pads the bytes written to 8. */
static void mb_close_as(struct mb_builder *b, uint32_t size_field) {
    mb_patch_u32(b, b->tag_start + 4, size_field);
    while (b->len % 8)
        b->buf[b->len++] = 0;
}

static void mb_close(struct mb_builder *b) { mb_close_as(b, (uint32_t)(b->len - b->tag_start)); }

static void mb_string_tag(struct mb_builder *b, uint32_t type, const char *s) {
    mb_open(b, type);
    mb_put(b, s, strlen(s) + 1);
    mb_close(b);
}

static void mb_module(struct mb_builder *b, uint32_t start, uint32_t end, const char *name) {
    mb_open(b, MB2_TAG_MODULE);
    mb_put_u32(b, start);
    mb_put_u32(b, end);
    mb_put(b, name, strlen(name) + 1);
    mb_close(b);
}

static void mb_meminfo(struct mb_builder *b, uint32_t lower, uint32_t upper) {
    mb_open(b, MB2_TAG_BASIC_MEMINFO);
    mb_put_u32(b, lower);
    mb_put_u32(b, upper);
    mb_close(b);
}

/* A memory map whose entries are entry_size bytes (extra bytes filled with 0xee). */
static void mb_mmap_sized(struct mb_builder *b, const struct mb_region *r, size_t n,
                          uint32_t entry_size) {
    mb_open(b, MB2_TAG_MMAP);
    mb_put_u32(b, entry_size);
    mb_put_u32(b, 0);
    for (size_t i = 0; i < n; i++) {
        size_t start = b->len;
        mb_put_u64(b, r[i].base);
        mb_put_u64(b, r[i].length);
        mb_put_u32(b, r[i].type);
        mb_put_u32(b, 0);
        while (b->len - start < entry_size)
            b->buf[b->len++] = 0xee;
    }
    mb_close(b);
}

static void mb_mmap(struct mb_builder *b, const struct mb_region *r, size_t n) {
    mb_mmap_sized(b, r, n, MB_MMAP_ENTRY_SIZE);
}

/* Patches total_size to cover everything written so far (without adding an END tag). */
static void mb_seal(struct mb_builder *b) { mb_patch_u32(b, 0, (uint32_t)b->len); }

static void mb_end(struct mb_builder *b) {
    mb_open(b, MB2_TAG_END);
    mb_close(b);
    mb_seal(b);
}

/* A copy of the first min(len, avail) bytes in a heap block of exactly avail bytes. */
static uint8_t *exact_copy(const uint8_t *data, size_t len, size_t avail) {
    uint8_t *p = malloc(avail); /* malloc(0) too: any read of it is an ASan report */
    if (!p && avail)
        abort();
    if (avail) {
        memset(p, 0xa5, avail);
        memcpy(p, data, len < avail ? len : avail);
    }
    return p;
}

/*
 * The copy the last parse_live() ran on. It stays allocated until the next call so
 * tests can inspect strings in the result and still bail out early with ASSERT_*
 * (a pointer held in a global is not a leak to LeakSanitizer).
 */
static uint8_t *live_copy;

/* Parses an exact-size heap copy of the builder's bytes, of which avail are readable. */
static zx_status_t parse_live(const struct mb_builder *b, size_t avail, struct boot_info *bi,
                              const char **why) {
    free(live_copy);
    live_copy = exact_copy(b->buf, b->len, avail);
    return mb2_parse(live_copy, avail, bi, why);
}

static zx_status_t parse_built(const struct mb_builder *b, const char **why) {
    struct boot_info bi;
    return parse_live(b, b->len, &bi, why);
}

/*
 * Expects a failure with `status` and a "multiboot2: ..." reason containing `reason`, so
 * a test cannot pass because the input broke in some other, unintended way.
 */
#define EXPECT_PARSE_FAILS(b, status, reason)                                          \
    do {                                                                               \
        const char *why_ = NULL;                                                       \
        EXPECT_STATUS(parse_built((b), &why_), (status));                              \
        HT_CHECK_(why_ != NULL && strncmp(why_, "multiboot2: ", 12) == 0 &&            \
                      strstr(why_, (reason)) != NULL,                                  \
                  (void)0, "reason \"%s\" does not mention \"%s\"",                  \
                  why_ ? why_ : "(null)", (reason));                                   \
    } while (0)

/* QEMU's map for -m 4G: 3 GiB below the PCI hole, the last 1 GiB above 4 GiB. */
static const struct mb_region qemu_map[] = {
    {0x0, 0x9fc00, BOOT_MEM_USABLE},
    {0x9fc00, 0x400, BOOT_MEM_RESERVED},
    {0xf0000, 0x10000, BOOT_MEM_RESERVED},
    {0x100000, 0xbfee0000, BOOT_MEM_USABLE},
    {0xbffe0000, 0x20000, BOOT_MEM_RESERVED},
    {0x100000000ull, 0x40000000, BOOT_MEM_USABLE},
};
#define QEMU_MAP_COUNT (sizeof(qemu_map) / sizeof(qemu_map[0]))

static const char grub_cmdline[] = "/boot/beryl.elf kernel.ktest=all console=serial";

static const struct {
    uint32_t start, end;
    const char *name;
} grub_modules[] = {
    {0x10d000, 0x11a3f0, "kernel.syms"},
    {0x11b000, 0x12c1a0, "test/vmar"},
    {0x12d000, 0x12d000, "empty.bin"}, /* a zero-length module is legal */
};
#define GRUB_MODULE_COUNT (sizeof(grub_modules) / sizeof(grub_modules[0]))

/* The structure GRUB 2.06 hands a kernel booted with three module2 lines. */
static void build_grub_like(struct mb_builder *b) {
    mb_begin(b);
    mb_string_tag(b, MB2_TAG_CMDLINE, grub_cmdline);
    mb_string_tag(b, MB2_TAG_BOOTLOADER_NAME, "GRUB 2.06");
    for (size_t i = 0; i < GRUB_MODULE_COUNT; i++)
        mb_module(b, grub_modules[i].start, grub_modules[i].end, grub_modules[i].name);
    mb_meminfo(b, 639, 3144576);
    mb_open(b, MB2_TAG_BOOTDEV);
    mb_put_u32(b, 0xe0);
    mb_put_u32(b, 0xffffffff);
    mb_put_u32(b, 0xffffffff);
    mb_close(b); /* size 20: needs padding */
    mb_mmap(b, qemu_map, QEMU_MAP_COUNT);
    mb_open(b, MB2_TAG_ACPI_OLD);
    mb_put(b, "RSD PTR \x00\x42OCHS \x00\x00\x0f\x00\x00\x00", 20);
    mb_close(b); /* size 28 */
    mb_open(b, MB2_TAG_LOAD_BASE_ADDR);
    mb_put_u32(b, 0x100000);
    mb_close(b); /* size 12 */
    mb_end(b);
}

static void expect_grub_like(const struct boot_info *bi, size_t total) {
    EXPECT_EQ(bi->total_size, (uint32_t)total);
    EXPECT_STREQ(bi->cmdline, grub_cmdline);
    EXPECT_STREQ(bi->bootloader_name, "GRUB 2.06");
    EXPECT_EQ(bi->mem_lower_kb, 639u);
    EXPECT_EQ(bi->mem_upper_kb, 3144576u);
    ASSERT_EQ(bi->mem_count, QEMU_MAP_COUNT);
    for (size_t i = 0; i < QEMU_MAP_COUNT; i++) {
        EXPECT_EQ(bi->mem[i].base, qemu_map[i].base);
        EXPECT_EQ(bi->mem[i].length, qemu_map[i].length);
        EXPECT_EQ(bi->mem[i].type, qemu_map[i].type);
    }
    ASSERT_EQ(bi->module_count, GRUB_MODULE_COUNT);
    for (size_t i = 0; i < GRUB_MODULE_COUNT; i++) {
        EXPECT_EQ(bi->modules[i].start, (uint64_t)grub_modules[i].start);
        EXPECT_EQ(bi->modules[i].end, (uint64_t)grub_modules[i].end);
        EXPECT_STREQ(bi->modules[i].name, grub_modules[i].name);
    }
}

HTEST(multiboot2, parses_grub_like_structure) {
    struct mb_builder b;
    build_grub_like(&b);
    struct boot_info bi;
    const char *why = "unset";
    ASSERT_OK(parse_live(&b, b.len, &bi, &why));
    EXPECT_NULL(why);
    expect_grub_like(&bi, b.len);
    /* The old ACPI tag's RSDP copy: right after its tag header, 20 bytes. */
    ASSERT_NONNULL(bi.acpi_rsdp);
    EXPECT_EQ(bi.acpi_rsdp_len, (size_t)20);
    EXPECT_EQ(memcmp(bi.acpi_rsdp, "RSD PTR ", 8), 0);
    /* Strings point into the structure itself, not into copies. */
    EXPECT_TRUE((const uint8_t *)bi.cmdline > live_copy &&
                (const uint8_t *)bi.cmdline < live_copy + b.len);
    /* Readable bytes beyond total_size are fine, and why may be NULL. */
    ASSERT_OK(parse_live(&b, b.len + 64, &bi, NULL));
    expect_grub_like(&bi, b.len);
}

HTEST(multiboot2, misaligned_structure_parses_the_same) {
    /* Fields are read with memcpy, so alignment of mbi does not matter (UBSan checks). */
    struct mb_builder b;
    build_grub_like(&b);
    for (size_t shift = 1; shift < 8; shift++) {
        uint8_t *block = malloc(b.len + shift);
        ASSERT_NONNULL(block);
        memcpy(block + shift, b.buf, b.len);
        struct boot_info bi;
        zx_status_t st = mb2_parse(block + shift, b.len, &bi, NULL);
        EXPECT_OK(st);
        if (st == ZX_OK)
            expect_grub_like(&bi, b.len);
        free(block);
    }
}

HTEST(multiboot2, minimal_structure_defaults) {
    struct mb_builder b;
    const struct mb_region one = {0x100000, 0x1000000, BOOT_MEM_USABLE};
    mb_begin(&b);
    mb_mmap(&b, &one, 1);
    mb_end(&b);
    struct boot_info bi;
    memset(&bi, 0x5a, sizeof(bi)); /* everything must be (re)initialized */
    ASSERT_OK(parse_live(&b, b.len, &bi, NULL));
    EXPECT_STREQ(bi.cmdline, "");
    EXPECT_STREQ(bi.bootloader_name, "");
    EXPECT_EQ(bi.mem_lower_kb, 0u);
    EXPECT_EQ(bi.mem_upper_kb, 0u);
    EXPECT_EQ(bi.module_count, (size_t)0);
    EXPECT_EQ(bi.mem_count, (size_t)1);
    EXPECT_EQ(bi.mem[0].length, 0x1000000ull);

    /* An empty memory map is still a memory map. */
    mb_begin(&b);
    mb_mmap(&b, NULL, 0);
    mb_end(&b);
    ASSERT_OK(parse_live(&b, b.len, &bi, NULL));
    EXPECT_EQ(bi.mem_count, (size_t)0);
}

HTEST(multiboot2, unknown_tags_are_skipped) {
    static const uint32_t sizes[] = {8, 9, 13, 16, 100};
    struct mb_builder b;
    mb_begin(&b);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        mb_open(&b, i % 2 ? 0x7fffu : 0xffffffffu);
        while (b.len - b.tag_start < sizes[i])
            b.buf[b.len++] = 0xff; /* no NULs: must not be taken for strings */
        mb_close(&b);
    }
    mb_open(&b, MB2_TAG_FRAMEBUFFER);
    mb_put_u64(&b, 0xfd000000);
    mb_close(&b);
    mb_string_tag(&b, MB2_TAG_CMDLINE, "quiet");
    mb_mmap(&b, qemu_map, QEMU_MAP_COUNT);
    mb_end(&b);
    /* Bytes after the END tag but inside total_size are ignored too. */
    mb_put(&b, "\x01\x00\x00\x00\xff\xff\xff\xff", 8);
    mb_seal(&b);

    struct boot_info bi;
    ASSERT_OK(parse_live(&b, b.len, &bi, NULL));
    EXPECT_STREQ(bi.cmdline, "quiet");
    EXPECT_EQ(bi.mem_count, QEMU_MAP_COUNT);
}

/*
 * Every prefix of a valid structure must be rejected without reading past it: as a short
 * buffer (total_size still says "full"), as a structure whose total_size was cut to the
 * prefix, and as a cut total_size inside a full-size buffer.
 */
HTEST(multiboot2, every_truncation_fails_cleanly) {
    struct mb_builder b;
    build_grub_like(&b);
    struct boot_info bi;
    for (size_t t = 0; t < b.len; t++) {
        const char *why = NULL;
        uint8_t *copy = exact_copy(b.buf, b.len, t);
        zx_status_t st = mb2_parse(copy, t, &bi, &why);
        if (st != ZX_ERR_INVALID_ARGS || why == NULL)
            htest_fail(__FILE__, __LINE__, "avail %zu: status %d", t, st);
        if (t >= 4) {
            uint32_t cut = (uint32_t)t;
            memcpy(copy, &cut, sizeof(cut));
            st = mb2_parse(copy, t, &bi, &why);
            if (st != ZX_ERR_INVALID_ARGS)
                htest_fail(__FILE__, __LINE__, "total_size %zu: status %d", t, st);
        }
        free(copy);

        copy = exact_copy(b.buf, b.len, b.len);
        uint32_t cut = (uint32_t)t;
        memcpy(copy, &cut, sizeof(cut));
        st = mb2_parse(copy, b.len, &bi, &why);
        if (st != ZX_ERR_INVALID_ARGS)
            htest_fail(__FILE__, __LINE__, "total_size %zu in full buffer: status %d", t, st);
        free(copy);
    }
    EXPECT_STATUS(mb2_parse(NULL, 0, &bi, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(mb2_parse(b.buf, b.len, NULL, NULL), ZX_ERR_INVALID_ARGS);
}

HTEST(multiboot2, bad_header) {
    struct mb_builder b;
    build_grub_like(&b);
    for (uint32_t total = 0; total < 16; total++) {
        mb_patch_u32(&b, 0, total);
        EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "below 16");
    }
    mb_patch_u32(&b, 0, (uint32_t)b.len + 8); /* claims more than is readable */
    EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "exceeds the readable");
    mb_patch_u32(&b, 0, UINT32_MAX);
    EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "exceeds the readable");

    /* The smallest legal size is 16, but then there is no memory map. */
    mb_begin(&b);
    mb_end(&b);
    EXPECT_EQ(b.len, (size_t)16);
    EXPECT_PARSE_FAILS(&b, ZX_ERR_NOT_FOUND, "no memory map");
}

/* Starts a structure with a valid memory map, ready for one more (bad) tag. */
static void begin_with_mmap(struct mb_builder *b) {
    mb_begin(b);
    mb_mmap(b, qemu_map, QEMU_MAP_COUNT);
}

/* A valid memory map, then one tag with the given raw body, then END. */
static void build_with_tag(struct mb_builder *b, uint32_t type, const void *body, size_t n) {
    begin_with_mmap(b);
    mb_open(b, type);
    mb_put(b, body, n);
    mb_close(b);
    mb_end(b);
}

HTEST(multiboot2, tag_size_below_header) {
    struct mb_builder b;
    for (uint32_t size = 0; size < 8; size++) {
        build_with_tag(&b, 0x1234, "", 0);
        mb_patch_u32(&b, b.len - 16 + 4, size); /* size 0 would also loop forever */
        EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "smaller than the 8-byte");
    }
}

HTEST(multiboot2, tag_size_overruns_total) {
    static const uint32_t types[] = {MB2_TAG_CMDLINE, MB2_TAG_MODULE, MB2_TAG_MMAP, 0x99};
    struct mb_builder b;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        /* The tag claims to reach one byte past total_size. */
        mb_begin(&b);
        if (types[i] != MB2_TAG_MMAP)
            mb_mmap(&b, qemu_map, QEMU_MAP_COUNT);
        mb_open(&b, types[i]);
        mb_put(&b, "\x10\x00\x00\x00\x00\x00\x00\x00name", 13);
        size_t tag = b.tag_start;
        mb_close(&b);
        mb_end(&b);
        mb_patch_u32(&b, tag + 4, (uint32_t)(b.len - tag + 1));
        EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "overruns total_size");
        mb_patch_u32(&b, tag + 4, UINT32_MAX);
        EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "overruns total_size");
    }

    /* A tag ending exactly at total_size leaves no room for END. */
    begin_with_mmap(&b);
    mb_string_tag(&b, MB2_TAG_CMDLINE, "1234567"); /* size 16, no padding */
    mb_seal(&b);
    EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "without an END tag");
    /* Nor does an unpadded last tag whose padding would cross total_size. */
    begin_with_mmap(&b);
    mb_string_tag(&b, MB2_TAG_CMDLINE, "abc"); /* size 12 */
    b.len -= 4;
    mb_seal(&b);
    EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "without an END tag");
}

HTEST(multiboot2, strings_must_be_terminated_inside_the_tag) {
    static const uint32_t types[] = {MB2_TAG_CMDLINE, MB2_TAG_BOOTLOADER_NAME};
    struct mb_builder b;
    for (size_t i = 0; i < 2; i++) {
        /* "abc" without NUL: the zero padding after the tag must not count. */
        build_with_tag(&b, types[i], "abc", 3);
        EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "not NUL-terminated");
        build_with_tag(&b, types[i], "", 0); /* no string at all */
        EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "not NUL-terminated");
        /* An empty string is fine; bytes after the NUL inside the tag are ignored. */
        build_with_tag(&b, types[i], "\0junk", 5);
        EXPECT_OK(parse_built(&b, NULL));
    }

    /* Module names: unterminated, and a module tag too short to hold one. */
    static const uint8_t module_body[] = {0x00, 0x10, 0, 0, 0x00, 0x20, 0, 0, 't', 'e', 's', 't'};
    build_with_tag(&b, MB2_TAG_MODULE, module_body, sizeof(module_body));
    EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "not NUL-terminated");
    for (size_t body = 0; body <= 8; body += 4) {
        /* size 8, 12 or 16: missing mod_start/mod_end, mod_end, or the name */
        build_with_tag(&b, MB2_TAG_MODULE, "\0\0\0\0\0\0\0\0", body);
        EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "module");
    }
}

HTEST(multiboot2, mmap_entry_size_and_layout) {
    static const uint32_t bad_sizes[] = {0, 8, 16, 23, 25, 31, 33};
    struct mb_builder b;
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        mb_begin(&b);
        mb_open(&b, MB2_TAG_MMAP);
        mb_put_u32(&b, bad_sizes[i]);
        mb_put_u32(&b, 0);
        for (int k = 0; k < 96; k++) /* room for a few entries of any of those sizes */
            b.buf[b.len++] = 0;
        mb_close(&b);
        mb_end(&b);
        EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "entry_size");
    }

    /* A larger entry_size (future fields) is honoured when stepping through entries. */
    mb_begin(&b);
    mb_mmap_sized(&b, qemu_map, QEMU_MAP_COUNT, 40);
    mb_end(&b);
    struct boot_info bi;
    ASSERT_OK(parse_live(&b, b.len, &bi, NULL));
    ASSERT_EQ(bi.mem_count, QEMU_MAP_COUNT);
    EXPECT_EQ(bi.mem[5].base, 0x100000000ull);
    EXPECT_EQ(bi.mem[5].length, 0x40000000ull);
    EXPECT_EQ(bi.mem[5].type, (uint32_t)BOOT_MEM_USABLE);

    /* A partial trailing entry, and a tag too short for entry_size/entry_version. */
    mb_begin(&b);
    mb_mmap(&b, qemu_map, 2);
    size_t tag = b.tag_start;
    mb_end(&b);
    mb_patch_u32(&b, tag + 4, 16 + 24 + 16);
    EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "partial entry");
    for (uint32_t size = 8; size < 16; size += 4) {
        mb_begin(&b);
        mb_open(&b, MB2_TAG_MMAP);
        mb_put_u32(&b, 24);
        mb_put_u32(&b, 0);
        mb_close_as(&b, size);
        mb_end(&b);
        EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "too short");
    }
}

HTEST(multiboot2, module_bounds) {
    struct mb_builder b;
    begin_with_mmap(&b);
    mb_module(&b, 0x2000, 0x1fff, "backwards");
    mb_end(&b);
    EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "mod_start > mod_end");
    begin_with_mmap(&b);
    mb_module(&b, 0, UINT32_MAX, "everything");
    mb_end(&b);
    EXPECT_OK(parse_built(&b, NULL));
}

HTEST(multiboot2, too_many_modules_or_regions) {
    struct mb_builder b;
    char name[16];
    for (int extra = 0; extra <= 1; extra++) {
        begin_with_mmap(&b);
        for (int i = 0; i < BOOT_MAX_MODULES + extra; i++) {
            snprintf(name, sizeof(name), "mod%d", i);
            mb_module(&b, 0x100000u * (uint32_t)i, 0x100000u * (uint32_t)i + 0x1000, name);
        }
        mb_end(&b);
        if (extra) {
            EXPECT_PARSE_FAILS(&b, ZX_ERR_NO_RESOURCES, "BOOT_MAX_MODULES");
        } else {
            struct boot_info bi;
            ASSERT_OK(parse_live(&b, b.len, &bi, NULL));
            ASSERT_EQ(bi.module_count, (size_t)BOOT_MAX_MODULES);
            snprintf(name, sizeof(name), "mod%d", BOOT_MAX_MODULES - 1);
            EXPECT_STREQ(bi.modules[BOOT_MAX_MODULES - 1].name, name);
        }
    }

    static struct mb_region many[BOOT_MAX_MEM_REGIONS + 1];
    for (size_t i = 0; i < BOOT_MAX_MEM_REGIONS + 1; i++)
        many[i] = (struct mb_region){0x200000 * i, 0x100000, BOOT_MEM_USABLE};
    mb_begin(&b);
    mb_mmap(&b, many, BOOT_MAX_MEM_REGIONS);
    mb_end(&b);
    struct boot_info bi;
    ASSERT_OK(parse_live(&b, b.len, &bi, NULL));
    ASSERT_EQ(bi.mem_count, (size_t)BOOT_MAX_MEM_REGIONS);
    EXPECT_EQ(bi.mem[BOOT_MAX_MEM_REGIONS - 1].base, 0x200000ull * (BOOT_MAX_MEM_REGIONS - 1));
    mb_begin(&b);
    mb_mmap(&b, many, BOOT_MAX_MEM_REGIONS + 1);
    mb_end(&b);
    EXPECT_PARSE_FAILS(&b, ZX_ERR_NO_RESOURCES, "BOOT_MAX_MEM_REGIONS");
}

HTEST(multiboot2, end_tag_required) {
    struct mb_builder b;
    begin_with_mmap(&b);
    mb_seal(&b); /* no END */
    EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "without an END tag");

    begin_with_mmap(&b);
    mb_put(&b, "\0\0\0\0", 4); /* four stray bytes: not even a tag header */
    mb_seal(&b);
    EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "without an END tag");

    begin_with_mmap(&b);
    mb_open(&b, MB2_TAG_END);
    mb_put_u64(&b, 0);
    mb_close(&b); /* END with size 16 */
    mb_seal(&b);
    EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "END tag size");
}

HTEST(multiboot2, memory_map_required_once_and_no_duplicates) {
    struct mb_builder b;
    mb_begin(&b);
    mb_string_tag(&b, MB2_TAG_CMDLINE, "x");
    mb_meminfo(&b, 639, 1024);
    mb_end(&b);
    EXPECT_PARSE_FAILS(&b, ZX_ERR_NOT_FOUND, "no memory map");

    /* A second copy of a tag that may appear only once (the map is already there). */
    static const struct {
        uint32_t type;
        const char *body;
        size_t len;
        const char *reason;
    } dups[] = {
        {MB2_TAG_MMAP, "\x18\0\0\0\0\0\0\0", 8, "duplicate memory map"},
        {MB2_TAG_CMDLINE, "a", 2, "duplicate command line"},
        {MB2_TAG_BOOTLOADER_NAME, "GRUB 2.06", 10, "duplicate boot loader name"},
        {MB2_TAG_BASIC_MEMINFO, "\x7f\x02\0\0\0\x04\0\0", 8, "duplicate basic meminfo"},
    };
    for (size_t i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
        begin_with_mmap(&b);
        for (int copies = dups[i].type == MB2_TAG_MMAP ? 1 : 2; copies > 0; copies--) {
            mb_open(&b, dups[i].type);
            mb_put(&b, dups[i].body, dups[i].len);
            mb_close(&b);
        }
        mb_end(&b);
        EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, dups[i].reason);
    }

    begin_with_mmap(&b);
    mb_open(&b, MB2_TAG_BASIC_MEMINFO);
    mb_put_u32(&b, 639);
    mb_close(&b); /* size 12: mem_upper missing */
    mb_end(&b);
    EXPECT_PARSE_FAILS(&b, ZX_ERR_INVALID_ARGS, "meminfo tag too short");
}

/* True if s is a NUL-terminated string lying entirely inside [buf, buf + len). */
static bool string_inside(const char *s, const uint8_t *buf, size_t len) {
    const uint8_t *p = (const uint8_t *)s;
    if (p < buf || p >= buf + len)
        return false;
    return strnlen(s, (size_t)(buf + len - p)) < (size_t)(buf + len - p);
}

static uint64_t fuzz_rng;

static uint64_t fuzz_next(void) { /* xorshift64* */
    fuzz_rng ^= fuzz_rng >> 12;
    fuzz_rng ^= fuzz_rng << 25;
    fuzz_rng ^= fuzz_rng >> 27;
    return fuzz_rng * 0x2545f4914f6cdd1dull;
}

#define FUZZ_ITERATIONS 20000

/*
 * Corrupts a valid structure at random and checks the parser never reads outside the
 * exact-size buffer (ASan) and, when it accepts, hands back consistent results.
 */
/* Builds a structure holding the given ACPI tags (type, body) in order. */
static void build_acpi(struct mb_builder *b, const uint32_t *types, const char *const *bodies,
                       size_t n) {
    mb_begin(b);
    mb_mmap(b, qemu_map, QEMU_MAP_COUNT);
    for (size_t i = 0; i < n; i++) {
        mb_open(b, types[i]);
        mb_put(b, bodies[i], strlen(bodies[i]));
        mb_close(b);
    }
    mb_end(b);
}

HTEST(multiboot2, acpi_tags_new_preferred) {
    static const char old_rsdp[] = "RSD PTR old-rsdp-20b";
    static const char new_rsdp[] = "RSD PTR new-rsdp-36-bytes-long-copy.";
    struct mb_builder b;
    struct boot_info bi;
    /* No tag: no RSDP. */
    build_acpi(&b, NULL, NULL, 0);
    ASSERT_OK(parse_live(&b, b.len, &bi, NULL));
    EXPECT_NULL(bi.acpi_rsdp);
    EXPECT_EQ(bi.acpi_rsdp_len, (size_t)0);
    /* Old only, new only, and both in either order: the new one wins. */
    const uint32_t old_t = MB2_TAG_ACPI_OLD, new_t = MB2_TAG_ACPI_NEW;
    const struct {
        uint32_t types[2];
        const char *bodies[2];
        size_t n;
        const char *want;
    } cases[] = {
        {{old_t}, {old_rsdp}, 1, old_rsdp},
        {{new_t}, {new_rsdp}, 1, new_rsdp},
        {{old_t, new_t}, {old_rsdp, new_rsdp}, 2, new_rsdp},
        {{new_t, old_t}, {new_rsdp, old_rsdp}, 2, new_rsdp},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        build_acpi(&b, cases[i].types, cases[i].bodies, cases[i].n);
        ASSERT_OK(parse_live(&b, b.len, &bi, NULL));
        ASSERT_NONNULL(bi.acpi_rsdp);
        EXPECT_EQ(bi.acpi_rsdp_len, strlen(cases[i].want));
        EXPECT_EQ(memcmp(bi.acpi_rsdp, cases[i].want, bi.acpi_rsdp_len), 0);
        /* The copy lies inside the structure. */
        EXPECT_TRUE(bi.acpi_rsdp > live_copy && bi.acpi_rsdp + bi.acpi_rsdp_len <= live_copy + b.len);
    }
    /* An empty tag is passed on with length 0 (the ACPI reader rejects it). */
    const char *empty[] = {""};
    build_acpi(&b, &new_t, empty, 1);
    ASSERT_OK(parse_live(&b, b.len, &bi, NULL));
    EXPECT_EQ(bi.acpi_rsdp_len, (size_t)0);
}

HTEST(multiboot2, acpi_tag_duplicates_rejected) {
    static const char rsdp[] = "RSD PTR 0123456789ab";
    struct mb_builder b;
    const char *bodies[] = {rsdp, rsdp};
    const uint32_t olds[] = {MB2_TAG_ACPI_OLD, MB2_TAG_ACPI_OLD};
    build_acpi(&b, olds, bodies, 2);
    const char *why = NULL;
    EXPECT_STATUS(parse_built(&b, &why), ZX_ERR_INVALID_ARGS);
    EXPECT_STREQ(why, "multiboot2: duplicate old ACPI tag");
    const uint32_t news[] = {MB2_TAG_ACPI_NEW, MB2_TAG_ACPI_NEW};
    build_acpi(&b, news, bodies, 2);
    EXPECT_STATUS(parse_built(&b, &why), ZX_ERR_INVALID_ARGS);
    EXPECT_STREQ(why, "multiboot2: duplicate new ACPI tag");
}

HTEST(multiboot2, random_corruption_fuzz) {
    struct mb_builder b;
    build_grub_like(&b);
    uint64_t seed = htest_seed();
    fuzz_rng = seed | 1;
    int accepted = 0;
    uint8_t *work = malloc(b.len);
    ASSERT_NONNULL(work);
    for (int iter = 0; iter < FUZZ_ITERATIONS; iter++) {
        memcpy(work, b.buf, b.len);
        int flips = 1 + (int)(fuzz_next() % 4);
        for (int f = 0; f < flips; f++) {
            size_t at = fuzz_next() % b.len;
            switch (fuzz_next() % 4) {
            case 0: /* a random byte */
                work[at] = (uint8_t)fuzz_next();
                break;
            case 1: /* a single bit */
                work[at] ^= (uint8_t)(1u << (fuzz_next() % 8));
                break;
            default: { /* a small value in an aligned u32: hits type and size fields */
                uint32_t v = (uint32_t)(fuzz_next() % 80);
                memcpy(work + (at & ~(size_t)3), &v, sizeof(v));
                break;
            }
            }
        }
        struct boot_info bi;
        const char *why = NULL;
        zx_status_t st = mb2_parse(work, b.len, &bi, &why);
        if (st != ZX_OK) {
            if (why == NULL || (st != ZX_ERR_INVALID_ARGS && st != ZX_ERR_NOT_FOUND &&
                                st != ZX_ERR_NO_RESOURCES)) {
                htest_fail(__FILE__, __LINE__, "iteration %d (seed 0x%" PRIx64 "): status %d",
                           iter, seed, st);
                break;
            }
            continue;
        }
        accepted++;
        bool ok = bi.total_size >= 16 && bi.total_size <= b.len &&
                  bi.mem_count <= BOOT_MAX_MEM_REGIONS && bi.module_count <= BOOT_MAX_MODULES;
        /* A string is either inside the structure or the shared empty default. */
        ok = ok && (string_inside(bi.cmdline, work, bi.total_size) || bi.cmdline[0] == 0);
        ok = ok && (string_inside(bi.bootloader_name, work, bi.total_size) ||
                    bi.bootloader_name[0] == 0);
        for (size_t i = 0; ok && i < bi.module_count; i++)
            ok = bi.modules[i].start <= bi.modules[i].end &&
                 string_inside(bi.modules[i].name, work, bi.total_size);
        if (!ok) {
            htest_fail(__FILE__, __LINE__,
                       "iteration %d (seed 0x%" PRIx64 "): inconsistent result", iter, seed);
            break;
        }
    }
    free(work);
    /* Sanity: the fuzz both accepted some inputs (e.g. flips in data) and rejected some. */
    EXPECT_GT(accepted, 0);
    EXPECT_LT(accepted, FUZZ_ITERATIONS);
}
