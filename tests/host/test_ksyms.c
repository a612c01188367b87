/* Host tests for the kernel symbol table (kernel/ksyms.c) and its blob format. */
#include "htest.h"

#include <stdlib.h>

#include <kernel/ksyms.h>

#define MAX_SYMS 16

/* Builds a blob like tools/gen_ksyms.py does, into an 8-byte-aligned buffer. */
struct blob {
    uint64_t storage[256];
    size_t len;
};

static void build(struct blob *b, const struct ksyms_entry *in, const char *const *names,
                  uint32_t count) {
    struct ksyms_header h;
    memcpy(h.magic, KSYMS_MAGIC, 8);
    h.version = KSYMS_VERSION;
    h.count = count;
    uint8_t *p = (uint8_t *)b->storage;
    size_t off = sizeof(h);
    char strtab[512];
    size_t slen = 0;
    for (uint32_t i = 0; i < count; i++) {
        struct ksyms_entry e = in[i];
        e.name_offset = (uint32_t)slen;
        size_t n = strlen(names[i]) + 1;
        memcpy(strtab + slen, names[i], n);
        slen += n;
        memcpy(p + off, &e, sizeof(e));
        off += sizeof(e);
    }
    h.strtab_offset = off;
    h.strtab_size = slen;
    memcpy(p, &h, sizeof(h));
    memcpy(p + off, strtab, slen);
    b->len = off + slen;
}

static const struct ksyms_entry syms3[] = {
    {0xffffffff80100000ull, 0x40, 0},
    {0xffffffff80100040ull, 0x20, 0},
    {0xffffffff80100100ull, 0, 0},
};
static const char *const names3[] = {"kmain", "panic", "unsized_label"};

HTEST(ksyms, lookup_inside_and_outside) {
    struct blob b;
    build(&b, syms3, names3, 3);
    ASSERT_OK(ksyms_init(b.storage, b.len));
    const char *name;
    uint64_t off;
    ASSERT_TRUE(ksyms_lookup(0xffffffff80100000ull, &name, &off));
    EXPECT_STREQ(name, "kmain");
    EXPECT_EQ(off, 0ull);
    ASSERT_TRUE(ksyms_lookup(0xffffffff8010003full, &name, &off));
    EXPECT_STREQ(name, "kmain");
    EXPECT_EQ(off, 0x3full);
    ASSERT_TRUE(ksyms_lookup(0xffffffff80100045ull, &name, &off));
    EXPECT_STREQ(name, "panic");
    EXPECT_EQ(off, 5ull);
    /* In the gap after a sized symbol: no match. */
    EXPECT_FALSE(ksyms_lookup(0xffffffff80100080ull, &name, &off));
    /* Below the first symbol. */
    EXPECT_FALSE(ksyms_lookup(0xffffffff800fffffull, &name, &off));
    /* Unsized symbol: nearest below, within the bounded span. */
    ASSERT_TRUE(ksyms_lookup(0xffffffff80100110ull, &name, &off));
    EXPECT_STREQ(name, "unsized_label");
    EXPECT_FALSE(ksyms_lookup(0xffffffff80200000ull, &name, &off));
}

HTEST(ksyms, rejects_corrupt_blobs) {
    struct blob b;
    build(&b, syms3, names3, 3);
    struct ksyms_header h;
    memcpy(&h, b.storage, sizeof(h));

    EXPECT_STATUS(ksyms_init(NULL, 100), -10);
    EXPECT_STATUS(ksyms_init(b.storage, sizeof(h) - 1), -10);
    /* Every truncation fails cleanly (ASan checks we read nothing beyond len). */
    for (size_t len = 0; len < b.len; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, b.storage, len);
        /* malloc'd memory is 16-byte aligned, so alignment is not the reason. */
        EXPECT_STATUS(ksyms_init(copy, len), -10);
        free(copy);
    }
    struct blob bad = b;
    memcpy(bad.storage, "BERYLSYX", 8);
    EXPECT_STATUS(ksyms_init(bad.storage, bad.len), -10);

    bad = b;
    ((struct ksyms_header *)bad.storage)->version = 2;
    EXPECT_STATUS(ksyms_init(bad.storage, bad.len), -10);

    bad = b;
    ((struct ksyms_header *)bad.storage)->count = 0x40000000u;
    EXPECT_STATUS(ksyms_init(bad.storage, bad.len), -10);

    bad = b;
    ((uint8_t *)bad.storage)[bad.len - 1] = 'x'; /* string table not NUL-terminated */
    EXPECT_STATUS(ksyms_init(bad.storage, bad.len), -10);

    bad = b;
    struct ksyms_entry *e = (struct ksyms_entry *)((uint8_t *)bad.storage + sizeof(h));
    e[1].name_offset = 10000; /* name outside the string table */
    EXPECT_STATUS(ksyms_init(bad.storage, bad.len), -10);

    bad = b;
    e = (struct ksyms_entry *)((uint8_t *)bad.storage + sizeof(h));
    e[2].addr = 1; /* not sorted */
    EXPECT_STATUS(ksyms_init(bad.storage, bad.len), -10);

    /* After a rejected blob, lookups fail instead of using stale data. */
    const char *name;
    uint64_t off;
    EXPECT_FALSE(ksyms_lookup(0xffffffff80100000ull, &name, &off));
}

HTEST(ksyms, many_symbols_binary_search) {
    static struct ksyms_entry entries[MAX_SYMS];
    static char namebuf[MAX_SYMS][16];
    const char *names[MAX_SYMS];
    for (int i = 0; i < MAX_SYMS; i++) {
        entries[i].addr = 0x1000 + (uint64_t)i * 0x100;
        entries[i].size = 0x80;
        snprintf(namebuf[i], sizeof(namebuf[i]), "fn%d", i);
        names[i] = namebuf[i];
    }
    struct blob b;
    build(&b, entries, names, MAX_SYMS);
    ASSERT_OK(ksyms_init(b.storage, b.len));
    for (int i = 0; i < MAX_SYMS; i++) {
        const char *name;
        uint64_t off;
        ASSERT_TRUE(ksyms_lookup(entries[i].addr + 0x7f, &name, &off));
        EXPECT_STREQ(name, names[i]);
        EXPECT_EQ(off, 0x7full);
        EXPECT_FALSE(ksyms_lookup(entries[i].addr + 0x80, &name, &off));
    }
}
