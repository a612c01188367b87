/*
 * Host tests for kernel/acpi.c. Synthetic tables live in a pretend physical memory made
 * of separate exact-size heap blocks (one per table), so ASan reports any read past a
 * table's end, and the map function refuses ranges that are not wholly inside a block.
 */
#include "htest.h"

#include <stdlib.h>

#include <kernel/acpi.h>

#define MAX_BLOCKS 16
#define XSDT_PA 0x7fe1000ull
#define RSDT_PA 0x7fe2000ull
#define MADT_PA 0x7fe3000ull
#define FACP_PA 0x7fe4000ull
#define MADT2_PA 0x7fe5000ull
#define SDT_HDR 36
#define MADT_FIXED 44
#define FLAG_ENABLED 1u
#define FLAG_ONLINE_CAPABLE 2u

struct block {
    uint64_t pa;
    uint8_t *data;
    size_t len;
};
static struct block blocks[MAX_BLOCKS];
static size_t nblocks;

static void mem_reset(void) {
    for (size_t i = 0; i < nblocks; i++)
        free(blocks[i].data);
    nblocks = 0;
}

static void mem_add(uint64_t pa, const uint8_t *data, size_t len) {
    if (nblocks >= MAX_BLOCKS)
        abort();
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    blocks[nblocks++] = (struct block){pa, copy, len};
}

static int map_calls;
static const void *mem_map(void *ctx, uint64_t pa, size_t len) {
    (void)ctx;
    map_calls++;
    for (size_t i = 0; i < nblocks; i++) {
        const struct block *b = &blocks[i];
        if (pa >= b->pa && pa - b->pa <= b->len && len <= b->len - (pa - b->pa))
            return b->data + (pa - b->pa);
    }
    return NULL;
}

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t sum8(const uint8_t *p, size_t n) {
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* A table: header with signature, length and checksum, then the body. */
struct table {
    uint8_t buf[4096];
    size_t len;
};

static void table_begin(struct table *t, const char *sig) {
    memset(t, 0, sizeof(*t));
    memcpy(t->buf, sig, 4);
    t->buf[8] = 1; /* revision */
    memcpy(t->buf + 10, "BERYL ", 6);
    t->len = SDT_HDR;
}

static void table_put(struct table *t, const void *p, size_t n) {
    memcpy(t->buf + t->len, p, n);
    t->len += n;
}

static void table_seal(struct table *t) {
    put_u32(t->buf + 4, (uint32_t)t->len);
    t->buf[9] = 0;
    t->buf[9] = (uint8_t)(0 - sum8(t->buf, t->len));
}

static void madt_begin(struct table *t) {
    table_begin(t, "APIC");
    uint8_t fixed[8];
    put_u32(fixed, 0xfee00000u);
    put_u32(fixed + 4, 1); /* PC-AT compatible */
    table_put(t, fixed, 8);
}

static void madt_lapic(struct table *t, uint8_t uid, uint8_t apic_id, uint32_t flags) {
    uint8_t e[8] = {0, 8, uid, apic_id};
    put_u32(e + 4, flags);
    table_put(t, e, 8);
}

static void madt_x2apic(struct table *t, uint32_t id, uint32_t flags, uint32_t uid) {
    uint8_t e[16] = {9, 16};
    put_u32(e + 4, id);
    put_u32(e + 8, flags);
    put_u32(e + 12, uid);
    table_put(t, e, 16);
}

/* An I/O APIC entry (type 1): the reader skips it. */
static void madt_ioapic(struct table *t) {
    uint8_t e[12] = {1, 12, 0, 0};
    put_u32(e + 4, 0xfec00000u);
    table_put(t, e, 12);
}

/* An RSDP copy of the given revision pointing at RSDT_PA (and XSDT_PA from 2 on). */
static size_t make_rsdp(uint8_t *r, uint8_t revision, uint64_t xsdt) {
    memset(r, 0, 36);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "BERYL ", 6);
    r[15] = revision;
    put_u32(r + 16, (uint32_t)RSDT_PA);
    r[8] = (uint8_t)(0 - sum8(r, 20));
    if (revision < 2)
        return 20;
    put_u32(r + 20, 36);
    put_u64(r + 24, xsdt);
    r[32] = (uint8_t)(0 - sum8(r, 36));
    return 36;
}

/* Root tables listing a FACP-like table and then the tables at pas. */
static void add_roots(const uint64_t *pas, size_t n) {
    struct table t;
    table_begin(&t, "XSDT");
    uint8_t e[8];
    put_u64(e, FACP_PA);
    table_put(&t, e, 8);
    for (size_t i = 0; i < n; i++) {
        put_u64(e, pas[i]);
        table_put(&t, e, 8);
    }
    table_seal(&t);
    mem_add(XSDT_PA, t.buf, t.len);
    table_begin(&t, "RSDT");
    put_u32(e, (uint32_t)FACP_PA);
    table_put(&t, e, 4);
    for (size_t i = 0; i < n; i++) {
        put_u32(e, (uint32_t)pas[i]);
        table_put(&t, e, 4);
    }
    table_seal(&t);
    mem_add(RSDT_PA, t.buf, t.len);
    table_begin(&t, "FACP");
    uint8_t body[64] = {0};
    table_put(&t, body, sizeof(body));
    table_seal(&t);
    mem_add(FACP_PA, t.buf, t.len);
}

/* The usual machine: four enabled CPUs with APIC IDs 0..3. */
static void build_machine(struct table *madt) {
    mem_reset();
    madt_begin(madt);
    for (uint8_t i = 0; i < 4; i++)
        madt_lapic(madt, i, i, FLAG_ENABLED);
    madt_ioapic(madt);
    table_seal(madt);
    mem_add(MADT_PA, madt->buf, madt->len);
    uint64_t pa = MADT_PA;
    add_roots(&pa, 1);
}

/* Runs the reader on an exact-size copy of the RSDP. */
static zx_status_t run(const uint8_t *rsdp, size_t len, struct acpi_cpus *out,
                       const char **why) {
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, rsdp, len);
    zx_status_t st = acpi_find_cpus(copy, len, mem_map, NULL, out, why);
    free(copy);
    return st;
}

static void expect_ids(const struct acpi_cpus *c, const uint32_t *ids, size_t n) {
    ASSERT_EQ(c->count, n);
    for (size_t i = 0; i < n; i++)
        EXPECT_EQ(c->cpus[i].apic_id, ids[i]);
}

HTEST(acpi, rsdp_v1_uses_rsdt) {
    struct table madt;
    build_machine(&madt);
    uint8_t r[36];
    size_t len = make_rsdp(r, 0, 0);
    struct acpi_cpus c;
    const char *why = "unset";
    ASSERT_OK(run(r, len, &c, &why));
    EXPECT_NULL(why);
    EXPECT_EQ(c.rsdp_revision, 0);
    EXPECT_FALSE(c.used_xsdt);
    EXPECT_EQ(c.lapic_phys, 0xfee00000ull);
    const uint32_t ids[] = {0, 1, 2, 3};
    expect_ids(&c, ids, 4);
    EXPECT_EQ(c.cpus[2].uid, 2u);
}

HTEST(acpi, rsdp_v2_prefers_xsdt) {
    struct table madt;
    build_machine(&madt);
    uint8_t r[36];
    size_t len = make_rsdp(r, 2, XSDT_PA);
    struct acpi_cpus c;
    ASSERT_OK(run(r, len, &c, NULL));
    EXPECT_EQ(c.rsdp_revision, 2);
    EXPECT_TRUE(c.used_xsdt);
    EXPECT_EQ(c.count, (size_t)4);
    /* The XSDT is really what was read: break it and the reader fails. */
    blocks[1].data[SDT_HDR] ^= 1; /* XSDT was added first after the MADT */
    EXPECT_STATUS(run(r, len, &c, NULL), ZX_ERR_INVALID_ARGS);
    /* A revision-2 RSDP with no XSDT address falls back to the RSDT. */
    build_machine(&madt);
    len = make_rsdp(r, 2, 0);
    ASSERT_OK(run(r, len, &c, NULL));
    EXPECT_FALSE(c.used_xsdt);
    EXPECT_EQ(c.count, (size_t)4);
}

HTEST(acpi, bad_rsdp_rejected) {
    struct table madt;
    build_machine(&madt);
    uint8_t r[36];
    struct acpi_cpus c;
    const char *why;
    /* Too short, no copy at all. */
    EXPECT_STATUS(acpi_find_cpus(NULL, 0, mem_map, NULL, &c, &why), ZX_ERR_INVALID_ARGS);
    size_t len = make_rsdp(r, 0, 0);
    EXPECT_STATUS(run(r, 19, &c, &why), ZX_ERR_INVALID_ARGS);
    EXPECT_STREQ(why, "acpi: the RSDP is shorter than 20 bytes");
    /* Signature. */
    r[0] = 'X';
    EXPECT_STATUS(run(r, len, &c, &why), ZX_ERR_INVALID_ARGS);
    EXPECT_STREQ(why, "acpi: the RSDP signature is wrong");
    /* 1.0 checksum. */
    make_rsdp(r, 0, 0);
    r[8]++;
    EXPECT_STATUS(run(r, len, &c, &why), ZX_ERR_INVALID_ARGS);
    EXPECT_STREQ(why, "acpi: the RSDP checksum is bad");
    /* Extended checksum (the 1.0 one still right). */
    len = make_rsdp(r, 2, XSDT_PA);
    r[32]++;
    EXPECT_STATUS(run(r, len, &c, &why), ZX_ERR_INVALID_ARGS);
    EXPECT_STREQ(why, "acpi: the RSDP extended checksum is bad");
    /* A 2.0 RSDP cut to 20 bytes (an old tag holding a new RSDP's start). */
    make_rsdp(r, 2, XSDT_PA);
    EXPECT_STATUS(run(r, 20, &c, &why), ZX_ERR_INVALID_ARGS);
    /* A length field past the copy. */
    make_rsdp(r, 2, XSDT_PA);
    put_u32(r + 20, 40);
    r[32] = 0;
    r[32] = (uint8_t)(0 - sum8(r, 36));
    EXPECT_STATUS(run(r, 36, &c, &why), ZX_ERR_INVALID_ARGS);
    EXPECT_STREQ(why, "acpi: the RSDP length is out of range");
}

HTEST(acpi, bad_root_table_rejected) {
    struct table madt;
    uint8_t r[36];
    size_t len = make_rsdp(r, 2, XSDT_PA);
    struct acpi_cpus c;
    const char *why;
    /* Unmapped XSDT. */
    mem_reset();
    EXPECT_STATUS(run(r, len, &c, &why), ZX_ERR_INVALID_ARGS);
    EXPECT_STREQ(why, "acpi: a table lies outside readable memory");
    /* Bad checksum. */
    build_machine(&madt);
    blocks[1].data[9]++;
    EXPECT_STATUS(run(r, len, &c, &why), ZX_ERR_INVALID_ARGS);
    EXPECT_STREQ(why, "acpi: a table's checksum is bad");
    /* Length field beyond the mapped bytes (truncated table). */
    build_machine(&madt);
    put_u32(blocks[1].data + 4, (uint32_t)blocks[1].len + 8);
    EXPECT_STATUS(run(r, len, &c, &why), ZX_ERR_INVALID_ARGS);
    EXPECT_STREQ(why, "acpi: a table lies outside readable memory");
    /* Length below the header, and huge. */
    build_machine(&madt);
    put_u32(blocks[1].data + 4, 35);
    EXPECT_STATUS(run(r, len, &c, &why), ZX_ERR_INVALID_ARGS);
    EXPECT_STREQ(why, "acpi: a table's length is out of range");
    put_u32(blocks[1].data + 4, 0xffffffffu);
    EXPECT_STATUS(run(r, len, &c, &why), ZX_ERR_INVALID_ARGS);
    /* Wrong signature. */
    build_machine(&madt);
    blocks[1].data[0] = 'R';
    EXPECT_STATUS(run(r, len, &c, &why), ZX_ERR_INVALID_ARGS);
    EXPECT_STREQ(why, "acpi: a table has an unexpected signature");
}

HTEST(acpi, madt_missing_or_bad) {
    struct table madt;
    uint8_t r[36];
    size_t len = make_rsdp(r, 2, XSDT_PA);
    struct acpi_cpus c;
    const char *why;
    /* Root tables without a MADT. */
    mem_reset();
    add_roots(NULL, 0);
    EXPECT_STATUS(run(r, len, &c, &why), ZX_ERR_NOT_FOUND);
    EXPECT_STREQ(why, "acpi: no MADT");
    /* The MADT's checksum is bad. */
    build_machine(&madt);
    blocks[0].data[MADT_FIXED + 3] ^= 0x10;
    EXPECT_STATUS(run(r, len, &c, &why), ZX_ERR_NOT_FOUND);
    EXPECT_STREQ(why, "acpi: a table's checksum is bad");
    /* The MADT is truncated: its length says more than memory holds. */
    build_machine(&madt);
    blocks[0].len -= 4;
    EXPECT_STATUS(run(r, len, &c, &why), ZX_ERR_NOT_FOUND);
    EXPECT_STREQ(why, "acpi: a table lies outside readable memory");
    /* An entry pointing nowhere is skipped; a later good MADT is found. */
    mem_reset();
    madt_begin(&madt);
    madt_lapic(&madt, 0, 7, FLAG_ENABLED);
    table_seal(&madt);
    mem_add(MADT2_PA, madt.buf, madt.len);
    const uint64_t pas[] = {0xdead0000ull, MADT2_PA};
    add_roots(pas, 2);
    ASSERT_OK(run(r, len, &c, NULL));
    const uint32_t ids[] = {7};
    expect_ids(&c, ids, 1);
    /* A MADT too short for its fixed fields. */
    mem_reset();
    table_begin(&madt, "APIC");
    table_seal(&madt);
    mem_add(MADT_PA, madt.buf, madt.len);
    const uint64_t one = MADT_PA;
    add_roots(&one, 1);
    EXPECT_STATUS(run(r, len, &c, &why), ZX_ERR_NOT_FOUND);
    EXPECT_STREQ(why, "acpi: the MADT is too short for its fixed fields");
}

/* Builds a MADT from the given raw entries after two good CPUs, and runs the reader. */
static zx_status_t run_with_entry(const uint8_t *entry, size_t n, struct acpi_cpus *c,
                                  const char **why) {
    struct table madt;
    mem_reset();
    madt_begin(&madt);
    madt_lapic(&madt, 0, 0, FLAG_ENABLED);
    madt_lapic(&madt, 1, 1, FLAG_ENABLED);
    table_put(&madt, entry, n);
    table_seal(&madt);
    mem_add(MADT_PA, madt.buf, madt.len);
    uint64_t pa = MADT_PA;
    add_roots(&pa, 1);
    uint8_t r[36];
    size_t len = make_rsdp(r, 2, XSDT_PA);
    return run(r, len, c, why);
}

HTEST(acpi, madt_entry_lengths) {
    struct acpi_cpus c;
    const char *why;
    /* Length 0 (would loop forever) and 1. */
    const uint8_t zero[8] = {0, 0, 2, 2, 1, 0, 0, 0};
    EXPECT_STATUS(run_with_entry(zero, 8, &c, &why), ZX_ERR_IO_DATA_INTEGRITY);
    EXPECT_STREQ(why, "acpi: a MADT entry has length 0 or 1");
    EXPECT_EQ(c.count, (size_t)2); /* the CPUs before it are kept */
    const uint8_t one[2] = {0, 1};
    EXPECT_STATUS(run_with_entry(one, 2, &c, &why), ZX_ERR_IO_DATA_INTEGRITY);
    /* Past the end of the table. */
    const uint8_t past[8] = {0, 9, 2, 2, 1, 0, 0, 0};
    EXPECT_STATUS(run_with_entry(past, 8, &c, &why), ZX_ERR_IO_DATA_INTEGRITY);
    EXPECT_STREQ(why, "acpi: a MADT entry runs past the end of the table");
    const uint8_t huge[8] = {9, 255, 2, 2, 1, 0, 0, 0};
    EXPECT_STATUS(run_with_entry(huge, 8, &c, &why), ZX_ERR_IO_DATA_INTEGRITY);
    /* A lone type byte at the end. */
    const uint8_t cut[1] = {0};
    EXPECT_STATUS(run_with_entry(cut, 1, &c, &why), ZX_ERR_IO_DATA_INTEGRITY);
    EXPECT_STREQ(why, "acpi: a MADT entry header is cut off");
    /* Processor entries too short for their fields are skipped, the walk goes on. */
    const uint8_t short_lapic[6] = {0, 6, 2, 2, 1, 0};
    ASSERT_OK(run_with_entry(short_lapic, 6, &c, NULL));
    EXPECT_EQ(c.count, (size_t)2);
    const uint8_t short_x2[12] = {9, 12, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0};
    ASSERT_OK(run_with_entry(short_x2, 12, &c, NULL));
    EXPECT_EQ(c.count, (size_t)2);
    /* Longer entries than the reader knows are fine (later ACPI versions grow them). */
    const uint8_t long_lapic[10] = {0, 10, 2, 2, 1, 0, 0, 0, 0xee, 0xee};
    ASSERT_OK(run_with_entry(long_lapic, 10, &c, NULL));
    EXPECT_EQ(c.count, (size_t)3);
}

HTEST(acpi, madt_flags_duplicates_and_x2apic) {
    struct table madt;
    mem_reset();
    madt_begin(&madt);
    madt_lapic(&madt, 0, 0, FLAG_ENABLED);
    madt_lapic(&madt, 1, 1, 0);                    /* disabled */
    madt_lapic(&madt, 2, 2, FLAG_ONLINE_CAPABLE);  /* may be hot-added: not started */
    madt_lapic(&madt, 3, 3, FLAG_ENABLED | FLAG_ONLINE_CAPABLE);
    madt_lapic(&madt, 4, 0, FLAG_ENABLED);         /* duplicate of APIC ID 0 */
    madt_x2apic(&madt, 3, FLAG_ENABLED, 5);        /* duplicate of 3, as x2APIC */
    madt_x2apic(&madt, 300, FLAG_ENABLED, 6);      /* an ID xAPIC cannot express */
    madt_x2apic(&madt, 301, 0, 7);
    madt_ioapic(&madt);
    table_seal(&madt);
    mem_add(MADT_PA, madt.buf, madt.len);
    uint64_t pa = MADT_PA;
    add_roots(&pa, 1);
    uint8_t r[36];
    size_t len = make_rsdp(r, 0, 0);
    struct acpi_cpus c;
    ASSERT_OK(run(r, len, &c, NULL));
    const uint32_t ids[] = {0, 3, 300};
    expect_ids(&c, ids, 3);
    EXPECT_EQ(c.cpus[2].uid, 6u);
    EXPECT_EQ(c.disabled, (size_t)2);
    EXPECT_EQ(c.online_capable, (size_t)1);
    EXPECT_EQ(c.duplicates, (size_t)2);
    EXPECT_EQ(c.over_max, (size_t)0);
}

HTEST(acpi, more_cpus_than_the_maximum) {
    struct table madt;
    mem_reset();
    madt_begin(&madt);
    for (uint32_t i = 0; i < SMP_MAX_CPUS + 5; i++)
        madt_x2apic(&madt, i * 2, FLAG_ENABLED, i);
    table_seal(&madt);
    mem_add(MADT_PA, madt.buf, madt.len);
    uint64_t pa = MADT_PA;
    add_roots(&pa, 1);
    uint8_t r[36];
    size_t len = make_rsdp(r, 2, XSDT_PA);
    struct acpi_cpus c;
    ASSERT_OK(run(r, len, &c, NULL));
    EXPECT_EQ(c.count, (size_t)SMP_MAX_CPUS);
    EXPECT_EQ(c.over_max, (size_t)5);
    EXPECT_EQ(c.cpus[SMP_MAX_CPUS - 1].apic_id, (uint32_t)(SMP_MAX_CPUS - 1) * 2);
}

HTEST(acpi, random_corruption_fuzz) {
    /* Random bytes flipped in every table and the RSDP: never a crash or a read outside
     * the mapped blocks (ASan), and any CPU listed is within bounds. */
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (int iter = 0; iter < 3000; iter++) {
        struct table madt;
        build_machine(&madt);
        uint8_t r[36];
        size_t len = make_rsdp(r, (iter & 1) ? 2 : 0, XSDT_PA);
        for (int k = 0; k < 1 + (iter % 4); k++) {
            rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
            uint64_t v = rng * 0x2545f4914f6cdd1dull;
            size_t which = (size_t)(v % (nblocks + 1));
            uint8_t *p = which == nblocks ? r : blocks[which].data;
            size_t n = which == nblocks ? len : blocks[which].len;
            p[(v >> 8) % n] ^= (uint8_t)(1u << ((v >> 32) % 8));
        }
        struct acpi_cpus c;
        zx_status_t st = run(r, len, &c, NULL);
        EXPECT_TRUE(c.count <= SMP_MAX_CPUS);
        (void)st;
    }
    mem_reset();
}
