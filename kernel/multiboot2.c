/*
 * Multiboot2 boot information parser.
 *
 * The bootloader hands us a blob it built; mb2_parse() turns it into struct boot_info and
 * refuses anything it cannot fully account for. No byte is read before its position has
 * been checked against the readable window [mbi, mbi + min(avail, total_size)), so a
 * truncated or corrupt structure fails cleanly instead of sending the kernel off into
 * whatever memory follows it.
 *
 * Alignment: the specification promises an 8-byte aligned structure, but memory safety
 * here does not depend on that promise. Every field is read through memcpy, so a
 * misaligned copy of the structure parses exactly like an aligned one (and UBSan has no
 * misaligned loads to complain about). "Tags are 8-byte aligned" is enforced in the sense
 * the format defines it: each tag starts at an offset from mbi that is a multiple of 8,
 * because the walk only ever advances by padded tag sizes.
 *
 * Policy choices beyond the header's contract, all in the direction of strictness since
 * GRUB never produces these: the END tag must have size exactly 8; a duplicate basic
 * meminfo tag is rejected like the other duplicates; a memory map whose entries do not
 * exactly fill the tag (a partial trailing entry) is rejected. The memory map's
 * entry_version is ignored (entry_size alone fixes the layout, and later versions are
 * meant to stay compatible). Region and module values are passed through uninterpreted;
 * deciding what is usable is the caller's business. On success *why is set to NULL.
 */
#include <kernel/multiboot2.h>
#include <lib/string.h>
#include <lib/unaligned.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fixed layout of the information structure (Multiboot2 specification, section 3.6). */
#define MB2_INFO_TOTAL_SIZE_OFF 0  /* u32 total_size; a u32 reserved field follows */
#define MB2_INFO_HEADER_SIZE 8
#define MB2_INFO_MIN_SIZE 16       /* the header plus an END tag */

/* Every tag starts with u32 type, u32 size (size counts the header, not the padding). */
#define MB2_TAG_TYPE_OFF 0
#define MB2_TAG_SIZE_OFF 4
#define MB2_TAG_HEADER_SIZE 8
#define MB2_END_TAG_SIZE 8

/* String tags (command line, boot loader name): a NUL-terminated string after the header. */
#define MB2_STRING_OFF 8

/* Module tag: u32 mod_start, u32 mod_end, then the module's command line string. */
#define MB2_MODULE_START_OFF 8
#define MB2_MODULE_END_OFF 12
#define MB2_MODULE_STRING_OFF 16

/* Basic memory information tag: u32 mem_lower, u32 mem_upper (both in KiB). */
#define MB2_MEMINFO_LOWER_OFF 8
#define MB2_MEMINFO_UPPER_OFF 12
#define MB2_MEMINFO_SIZE 16

/* Memory map tag: u32 entry_size, u32 entry_version, then the entries. */
#define MB2_MMAP_ENTRY_SIZE_OFF 8
#define MB2_MMAP_ENTRIES_OFF 16
/* Each entry: u64 base_addr, u64 length, u32 type, u32 reserved; entry_size may be larger. */
#define MB2_MMAP_ENTRY_BASE_OFF 0
#define MB2_MMAP_ENTRY_LENGTH_OFF 8
#define MB2_MMAP_ENTRY_TYPE_OFF 16
#define MB2_MMAP_ENTRY_MIN_SIZE 24

/* ACPI tags: the RSDP copy follows the tag header. */
#define MB2_ACPI_RSDP_OFF 8

/* Returned for absent string tags so callers never see NULL. */
static const char empty_string[] = "";

/* What the tag walk has seen so far, and where the results go. */
struct mb2_parser {
    const uint8_t *mbi;
    struct boot_info *out;
    const char *why; /* first problem found; static storage */
    bool seen_cmdline;
    bool seen_bootloader_name;
    bool seen_meminfo;
    bool seen_mmap;
    bool seen_acpi_old;
    bool seen_acpi_new;
};

/* Records the first problem found and passes its status through. */
static zx_status_t fail(struct mb2_parser *p, zx_status_t status, const char *why) {
    p->why = why;
    return status;
}

/*
 * Returns the string stored in [s, s + len) if it is NUL-terminated inside that span,
 * else NULL. strnlen never looks past len bytes, so this stays inside the tag.
 */
static const char *bounded_string(const uint8_t *s, uint32_t len) {
    if (len == 0 || strnlen((const char *)s, len) == len)
        return NULL;
    return (const char *)s;
}

/* A per-type message for a tag whose size runs past total_size. */
static const char *overrun_message(uint32_t type) {
    switch (type) {
    case MB2_TAG_END:
        return "multiboot2: END tag overruns total_size";
    case MB2_TAG_CMDLINE:
        return "multiboot2: command line tag overruns total_size";
    case MB2_TAG_BOOTLOADER_NAME:
        return "multiboot2: boot loader name tag overruns total_size";
    case MB2_TAG_MODULE:
        return "multiboot2: module tag overruns total_size";
    case MB2_TAG_BASIC_MEMINFO:
        return "multiboot2: basic meminfo tag overruns total_size";
    case MB2_TAG_MMAP:
        return "multiboot2: memory map tag overruns total_size";
    default:
        return "multiboot2: a tag of unknown type overruns total_size";
    }
}

/*
 * Command line (type 1) or boot loader name (type 2). Each may appear at most once: with
 * two we could not know which one the bootloader meant.
 */
static zx_status_t parse_string_tag(struct mb2_parser *p, uint32_t type, const uint8_t *tag,
                                    uint32_t size) {
    bool is_cmdline = type == MB2_TAG_CMDLINE;
    bool *seen = is_cmdline ? &p->seen_cmdline : &p->seen_bootloader_name;
    if (*seen)
        return fail(p, ZX_ERR_INVALID_ARGS,
                    is_cmdline ? "multiboot2: duplicate command line tag"
                               : "multiboot2: duplicate boot loader name tag");
    *seen = true;

    const char *s = bounded_string(tag + MB2_STRING_OFF, size - MB2_STRING_OFF);
    if (s == NULL)
        return fail(p, ZX_ERR_INVALID_ARGS,
                    is_cmdline ? "multiboot2: command line is not NUL-terminated inside its tag"
                               : "multiboot2: boot loader name is not NUL-terminated inside "
                                 "its tag");
    if (is_cmdline)
        p->out->cmdline = s;
    else
        p->out->bootloader_name = s;
    return ZX_OK;
}

/* Module (type 3): physical [mod_start, mod_end) plus a NUL-terminated name. */
static zx_status_t parse_module(struct mb2_parser *p, const uint8_t *tag, uint32_t size) {
    if (size < MB2_MODULE_STRING_OFF)
        return fail(p, ZX_ERR_INVALID_ARGS,
                    "multiboot2: module tag too short for mod_start and mod_end");
    uint32_t start = load_le32(tag + MB2_MODULE_START_OFF);
    uint32_t end = load_le32(tag + MB2_MODULE_END_OFF);
    if (start > end)
        return fail(p, ZX_ERR_INVALID_ARGS, "multiboot2: module has mod_start > mod_end");

    const char *name = bounded_string(tag + MB2_MODULE_STRING_OFF, size - MB2_MODULE_STRING_OFF);
    if (name == NULL)
        return fail(p, ZX_ERR_INVALID_ARGS,
                    "multiboot2: module string is not NUL-terminated inside its tag");

    if (p->out->module_count >= BOOT_MAX_MODULES)
        return fail(p, ZX_ERR_NO_RESOURCES,
                    "multiboot2: more modules than BOOT_MAX_MODULES");
    struct boot_module *m = &p->out->modules[p->out->module_count++];
    m->start = start;
    m->end = end;
    m->name = name;
    return ZX_OK;
}

/* Basic memory information (type 4): KiB of lower and upper memory. */
static zx_status_t parse_meminfo(struct mb2_parser *p, const uint8_t *tag, uint32_t size) {
    if (p->seen_meminfo)
        return fail(p, ZX_ERR_INVALID_ARGS, "multiboot2: duplicate basic meminfo tag");
    p->seen_meminfo = true;
    if (size < MB2_MEMINFO_SIZE)
        return fail(p, ZX_ERR_INVALID_ARGS, "multiboot2: basic meminfo tag too short");
    p->out->mem_lower_kb = load_le32(tag + MB2_MEMINFO_LOWER_OFF);
    p->out->mem_upper_kb = load_le32(tag + MB2_MEMINFO_UPPER_OFF);
    return ZX_OK;
}

/*
 * Memory map (type 6). entry_size may exceed the 24 bytes we understand (newer
 * bootloaders may append fields), but it must keep entries 8-byte aligned and the
 * entries must exactly fill the tag.
 */
static zx_status_t parse_mmap(struct mb2_parser *p, const uint8_t *tag, uint32_t size) {
    if (p->seen_mmap)
        return fail(p, ZX_ERR_INVALID_ARGS, "multiboot2: duplicate memory map tag");
    p->seen_mmap = true;
    if (size < MB2_MMAP_ENTRIES_OFF)
        return fail(p, ZX_ERR_INVALID_ARGS,
                    "multiboot2: memory map tag too short for entry_size and entry_version");

    uint32_t entry_size = load_le32(tag + MB2_MMAP_ENTRY_SIZE_OFF);
    if (entry_size < MB2_MMAP_ENTRY_MIN_SIZE)
        return fail(p, ZX_ERR_INVALID_ARGS, "multiboot2: memory map entry_size is below 24");
    if (entry_size % MB2_TAG_ALIGN != 0)
        return fail(p, ZX_ERR_INVALID_ARGS,
                    "multiboot2: memory map entry_size is not a multiple of 8");

    uint32_t bytes = size - MB2_MMAP_ENTRIES_OFF;
    if (bytes % entry_size != 0)
        return fail(p, ZX_ERR_INVALID_ARGS,
                    "multiboot2: memory map ends with a partial entry");
    uint32_t n = bytes / entry_size;
    if (n > BOOT_MAX_MEM_REGIONS)
        return fail(p, ZX_ERR_NO_RESOURCES,
                    "multiboot2: memory map has more entries than BOOT_MAX_MEM_REGIONS");

    /* n * entry_size == bytes, so every entry lies inside the tag. */
    const uint8_t *e = tag + MB2_MMAP_ENTRIES_OFF;
    for (uint32_t i = 0; i < n; i++, e += entry_size) {
        struct boot_mem_region *r = &p->out->mem[i];
        r->base = load_le64(e + MB2_MMAP_ENTRY_BASE_OFF);
        r->length = load_le64(e + MB2_MMAP_ENTRY_LENGTH_OFF);
        r->type = load_le32(e + MB2_MMAP_ENTRY_TYPE_OFF);
    }
    p->out->mem_count = n;
    return ZX_OK;
}

/*
 * ACPI old (type 14) or new (type 15) RSDP tag: records where the RSDP copy lies in the
 * tag. The new tag's copy wins whatever the order; a duplicate of either kind is
 * rejected, since we could not know which one the bootloader meant.
 */
static zx_status_t parse_acpi(struct mb2_parser *p, uint32_t type, const uint8_t *tag,
                              uint32_t size) {
    bool is_new = type == MB2_TAG_ACPI_NEW;
    bool *seen = is_new ? &p->seen_acpi_new : &p->seen_acpi_old;
    if (*seen)
        return fail(p, ZX_ERR_INVALID_ARGS,
                    is_new ? "multiboot2: duplicate new ACPI tag"
                           : "multiboot2: duplicate old ACPI tag");
    *seen = true;
    if (!is_new && p->seen_acpi_new)
        return ZX_OK;
    p->out->acpi_rsdp = tag + MB2_ACPI_RSDP_OFF;
    p->out->acpi_rsdp_len = size - MB2_ACPI_RSDP_OFF;
    return ZX_OK;
}

/*
 * Dispatches one tag whose header and body, [tag, tag + size), are known to lie inside
 * total_size and whose size is at least the tag header. Unknown types are skipped: the
 * format is designed so new tags can be ignored by old kernels.
 */
static zx_status_t parse_tag(struct mb2_parser *p, uint32_t type, const uint8_t *tag,
                             uint32_t size) {
    switch (type) {
    case MB2_TAG_CMDLINE:
    case MB2_TAG_BOOTLOADER_NAME:
        return parse_string_tag(p, type, tag, size);
    case MB2_TAG_MODULE:
        return parse_module(p, tag, size);
    case MB2_TAG_BASIC_MEMINFO:
        return parse_meminfo(p, tag, size);
    case MB2_TAG_MMAP:
        return parse_mmap(p, tag, size);
    case MB2_TAG_ACPI_OLD:
    case MB2_TAG_ACPI_NEW:
        return parse_acpi(p, type, tag, size);
    default:
        return ZX_OK;
    }
}

/*
 * Checks the header, then walks the tag list up to the END tag. Every read is preceded
 * by a check that it falls inside [mbi, mbi + total), and total <= avail.
 */
static zx_status_t parse_all(struct mb2_parser *p, size_t avail) {
    const uint8_t *mbi = p->mbi;
    if (mbi == NULL || p->out == NULL)
        return fail(p, ZX_ERR_INVALID_ARGS, "multiboot2: NULL information pointer or output");
    if (avail < MB2_INFO_HEADER_SIZE)
        return fail(p, ZX_ERR_INVALID_ARGS,
                    "multiboot2: fewer readable bytes than the 8-byte header");

    uint32_t total = load_le32(mbi + MB2_INFO_TOTAL_SIZE_OFF);
    if (total < MB2_INFO_MIN_SIZE)
        return fail(p, ZX_ERR_INVALID_ARGS,
                    "multiboot2: total_size is below 16 (header plus END tag)");
    if (total > avail)
        return fail(p, ZX_ERR_INVALID_ARGS,
                    "multiboot2: total_size exceeds the readable bytes");

    struct boot_info *out = p->out;
    out->total_size = total;
    out->cmdline = empty_string;
    out->bootloader_name = empty_string;
    out->mem_lower_kb = 0;
    out->mem_upper_kb = 0;
    out->mem_count = 0;
    out->module_count = 0;
    out->acpi_rsdp = NULL;
    out->acpi_rsdp_len = 0;

    /* 64-bit offsets: off + padded size can never wrap, since both are below 2^33. */
    uint64_t off = MB2_INFO_HEADER_SIZE;
    for (;;) {
        if (off > total || total - off < MB2_TAG_HEADER_SIZE)
            return fail(p, ZX_ERR_INVALID_ARGS,
                        "multiboot2: tag list reaches total_size without an END tag");
        const uint8_t *tag = mbi + off;
        uint32_t type = load_le32(tag + MB2_TAG_TYPE_OFF);
        uint32_t size = load_le32(tag + MB2_TAG_SIZE_OFF);
        if (size < MB2_TAG_HEADER_SIZE)
            return fail(p, ZX_ERR_INVALID_ARGS,
                        "multiboot2: tag size is smaller than the 8-byte tag header");
        if (size > total - off)
            return fail(p, ZX_ERR_INVALID_ARGS, overrun_message(type));

        if (type == MB2_TAG_END) {
            if (size != MB2_END_TAG_SIZE)
                return fail(p, ZX_ERR_INVALID_ARGS, "multiboot2: END tag size is not 8");
            break;
        }
        zx_status_t status = parse_tag(p, type, tag, size);
        if (status != ZX_OK)
            return status;

        /* The next tag starts after this one's padding to an 8-byte boundary. */
        off += ((uint64_t)size + MB2_TAG_ALIGN - 1) & ~(uint64_t)(MB2_TAG_ALIGN - 1);
    }

    if (!p->seen_mmap)
        return fail(p, ZX_ERR_NOT_FOUND, "multiboot2: no memory map tag");
    return ZX_OK;
}

zx_status_t mb2_parse(const void *mbi, size_t avail, struct boot_info *out, const char **why) {
    struct mb2_parser p = {.mbi = mbi, .out = out, .why = NULL};
    zx_status_t status = parse_all(&p, avail);
    if (why != NULL)
        *why = status == ZX_OK ? NULL : p.why;
    return status;
}
