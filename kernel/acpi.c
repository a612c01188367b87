/*
 * The ACPI table reader (<kernel/acpi.h>): RSDP -> XSDT / RSDT -> MADT -> CPUs.
 *
 * Layouts follow the ACPI specification (RSDP, system description table header, MADT
 * and its interrupt controller structures). Every field is read through memcpy, so the
 * tables' alignment does not matter, and only after the bytes holding it have been
 * checked to lie inside a span the map function handed out.
 */
#include <kernel/acpi.h>
#include <lib/string.h>
#include <lib/unaligned.h>

/* RSDP: "RSD PTR ", checksum, OEM ID, revision, RSDT address (20 bytes, ACPI 1.0); then
 * length, XSDT address, extended checksum, reserved (36 bytes, ACPI 2.0+). */
#define RSDP_SIGNATURE "RSD PTR "
#define RSDP_SIGNATURE_LEN 8
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define RSDP_REVISION_OFF 15
#define RSDP_RSDT_OFF 16
#define RSDP_LENGTH_OFF 20
#define RSDP_XSDT_OFF 24
#define RSDP_REVISION_XSDT 2

/* Every system description table starts with this 36-byte header. */
#define SDT_SIGNATURE_LEN 4
#define SDT_LENGTH_OFF 4
#define SDT_HEADER_LEN 36
#define XSDT_SIGNATURE "XSDT"
#define RSDT_SIGNATURE "RSDT"
#define MADT_SIGNATURE "APIC"
#define XSDT_ENTRY_LEN 8
#define RSDT_ENTRY_LEN 4

/* MADT: the header, u32 local APIC address, u32 flags, then entries of u8 type, u8 length. */
#define MADT_LAPIC_ADDR_OFF 36
#define MADT_ENTRIES_OFF 44
#define MADT_ENTRY_HEADER_LEN 2
#define MADT_TYPE_LAPIC 0          /* u8 uid, u8 apic_id, u32 flags */
#define MADT_LAPIC_LEN 8
#define MADT_LAPIC_UID_OFF 2
#define MADT_LAPIC_ID_OFF 3
#define MADT_LAPIC_FLAGS_OFF 4
#define MADT_TYPE_X2APIC 9         /* u16 reserved, u32 x2apic_id, u32 flags, u32 uid */
#define MADT_X2APIC_LEN 16
#define MADT_X2APIC_ID_OFF 4
#define MADT_X2APIC_FLAGS_OFF 8
#define MADT_X2APIC_UID_OFF 12
#define MADT_FLAG_ENABLED (1u << 0)
#define MADT_FLAG_ONLINE_CAPABLE (1u << 1)

struct acpi_reader {
    acpi_map_fn map;
    void *ctx;
    const char *why;
};

/* True when the n bytes at p sum to 0 modulo 256 (every ACPI checksum's rule). */
static bool checksum_ok(const uint8_t *p, size_t n) {
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum == 0;
}

static zx_status_t fail(struct acpi_reader *r, zx_status_t st, const char *why) {
    r->why = why;
    return st;
}

/*
 * Maps the table at pa with signature sig (4 characters): its header first, then its
 * whole length once the length is known to be sane. Returns the table and its length,
 * or NULL (with r->why set) when it cannot be read, has another signature, a length
 * outside [SDT_HEADER_LEN, ACPI_TABLE_MAX_LEN] or a bad checksum.
 */
static const uint8_t *map_table(struct acpi_reader *r, uint64_t pa, const char *sig,
                                uint32_t *len_out) {
    const uint8_t *hdr = r->map(r->ctx, pa, SDT_HEADER_LEN);
    if (hdr == NULL) {
        r->why = "acpi: a table lies outside readable memory";
        return NULL;
    }
    if (memcmp(hdr, sig, SDT_SIGNATURE_LEN) != 0) {
        r->why = "acpi: a table has an unexpected signature";
        return NULL;
    }
    uint32_t len = load_le32(hdr + SDT_LENGTH_OFF);
    if (len < SDT_HEADER_LEN || len > ACPI_TABLE_MAX_LEN) {
        r->why = "acpi: a table's length is out of range";
        return NULL;
    }
    const uint8_t *t = r->map(r->ctx, pa, len);
    if (t == NULL) {
        r->why = "acpi: a table lies outside readable memory";
        return NULL;
    }
    if (!checksum_ok(t, len)) {
        r->why = "acpi: a table's checksum is bad";
        return NULL;
    }
    *len_out = len;
    return t;
}

/* Adds one CPU the MADT lists, applying the flags, the duplicate and the count rules. */
static void add_cpu(struct acpi_cpus *out, uint32_t apic_id, uint32_t uid, uint32_t flags) {
    if (!(flags & MADT_FLAG_ENABLED)) {
        if (flags & MADT_FLAG_ONLINE_CAPABLE)
            out->online_capable++;
        else
            out->disabled++;
        return;
    }
    for (size_t i = 0; i < out->count; i++) {
        if (out->cpus[i].apic_id == apic_id) {
            out->duplicates++;
            return;
        }
    }
    if (out->count >= SMP_MAX_CPUS) {
        out->over_max++;
        return;
    }
    out->cpus[out->count++] = (struct acpi_cpu){.apic_id = apic_id, .uid = uid};
}

/* Walks the MADT's entries (the table is mapped and checksummed, len bytes). */
static zx_status_t parse_madt(struct acpi_reader *r, const uint8_t *t, uint32_t len,
                              struct acpi_cpus *out) {
    if (len < MADT_ENTRIES_OFF)
        return fail(r, ZX_ERR_NOT_FOUND, "acpi: the MADT is too short for its fixed fields");
    out->lapic_phys = load_le32(t + MADT_LAPIC_ADDR_OFF);
    uint32_t off = MADT_ENTRIES_OFF;
    while (off < len) {
        if (len - off < MADT_ENTRY_HEADER_LEN)
            return fail(r, ZX_ERR_IO_DATA_INTEGRITY, "acpi: a MADT entry header is cut off");
        const uint8_t *e = t + off;
        uint8_t type = e[0], elen = e[1];
        if (elen < MADT_ENTRY_HEADER_LEN)
            return fail(r, ZX_ERR_IO_DATA_INTEGRITY, "acpi: a MADT entry has length 0 or 1");
        if (elen > len - off)
            return fail(r, ZX_ERR_IO_DATA_INTEGRITY,
                        "acpi: a MADT entry runs past the end of the table");
        if (type == MADT_TYPE_LAPIC && elen >= MADT_LAPIC_LEN)
            add_cpu(out, e[MADT_LAPIC_ID_OFF], e[MADT_LAPIC_UID_OFF],
                    load_le32(e + MADT_LAPIC_FLAGS_OFF));
        else if (type == MADT_TYPE_X2APIC && elen >= MADT_X2APIC_LEN)
            add_cpu(out, load_le32(e + MADT_X2APIC_ID_OFF), load_le32(e + MADT_X2APIC_UID_OFF),
                    load_le32(e + MADT_X2APIC_FLAGS_OFF));
        off += elen;
    }
    return ZX_OK;
}

/* Checks the RSDP copy; returns the root table's address and entry size. */
static zx_status_t check_rsdp(struct acpi_reader *r, const uint8_t *rsdp, size_t rsdp_len,
                              struct acpi_cpus *out, uint64_t *root, size_t *entry_len) {
    if (rsdp == NULL || rsdp_len < RSDP_V1_LEN)
        return fail(r, ZX_ERR_INVALID_ARGS, "acpi: the RSDP is shorter than 20 bytes");
    if (memcmp(rsdp, RSDP_SIGNATURE, RSDP_SIGNATURE_LEN) != 0)
        return fail(r, ZX_ERR_INVALID_ARGS, "acpi: the RSDP signature is wrong");
    if (!checksum_ok(rsdp, RSDP_V1_LEN))
        return fail(r, ZX_ERR_INVALID_ARGS, "acpi: the RSDP checksum is bad");
    out->rsdp_revision = rsdp[RSDP_REVISION_OFF];
    if (out->rsdp_revision >= RSDP_REVISION_XSDT) {
        if (rsdp_len < RSDP_V2_LEN)
            return fail(r, ZX_ERR_INVALID_ARGS,
                        "acpi: an ACPI 2.0 RSDP is shorter than 36 bytes");
        uint32_t len = load_le32(rsdp + RSDP_LENGTH_OFF);
        if (len < RSDP_V2_LEN || len > rsdp_len)
            return fail(r, ZX_ERR_INVALID_ARGS, "acpi: the RSDP length is out of range");
        if (!checksum_ok(rsdp, len))
            return fail(r, ZX_ERR_INVALID_ARGS, "acpi: the RSDP extended checksum is bad");
        uint64_t xsdt = load_le64(rsdp + RSDP_XSDT_OFF);
        if (xsdt != 0) {
            out->used_xsdt = true;
            *root = xsdt;
            *entry_len = XSDT_ENTRY_LEN;
            return ZX_OK;
        }
    }
    *root = load_le32(rsdp + RSDP_RSDT_OFF);
    *entry_len = RSDT_ENTRY_LEN;
    return ZX_OK;
}

static zx_status_t find_cpus(struct acpi_reader *r, const uint8_t *rsdp, size_t rsdp_len,
                             struct acpi_cpus *out) {
    uint64_t root_pa;
    size_t entry_len;
    zx_status_t st = check_rsdp(r, rsdp, rsdp_len, out, &root_pa, &entry_len);
    if (st != ZX_OK)
        return st;
    uint32_t root_len;
    const uint8_t *root =
        map_table(r, root_pa, out->used_xsdt ? XSDT_SIGNATURE : RSDT_SIGNATURE, &root_len);
    if (root == NULL)
        return ZX_ERR_INVALID_ARGS;

    size_t entries = (root_len - SDT_HEADER_LEN) / entry_len;
    if (entries > ACPI_SDT_MAX_ENTRIES)
        entries = ACPI_SDT_MAX_ENTRIES;
    const char *madt_problem = NULL;
    for (size_t i = 0; i < entries; i++) {
        const uint8_t *e = root + SDT_HEADER_LEN + i * entry_len;
        uint64_t pa = entry_len == XSDT_ENTRY_LEN ? load_le64(e) : load_le32(e);
        /* Only the signature decides whether a table is the MADT; tables of other kinds
         * are not looked at further. */
        const uint8_t *hdr = r->map(r->ctx, pa, SDT_HEADER_LEN);
        if (hdr == NULL || memcmp(hdr, MADT_SIGNATURE, SDT_SIGNATURE_LEN) != 0)
            continue;
        uint32_t len;
        const uint8_t *madt = map_table(r, pa, MADT_SIGNATURE, &len);
        if (madt == NULL) {
            madt_problem = r->why; /* a later MADT may still be good */
            continue;
        }
        return parse_madt(r, madt, len, out);
    }
    return fail(r, ZX_ERR_NOT_FOUND, madt_problem ? madt_problem : "acpi: no MADT");
}

zx_status_t acpi_find_cpus(const void *rsdp, size_t rsdp_len, acpi_map_fn map, void *ctx,
                           struct acpi_cpus *out, const char **why) {
    struct acpi_reader r = {.map = map, .ctx = ctx, .why = NULL};
    memset(out, 0, sizeof(*out));
    zx_status_t st = find_cpus(&r, rsdp, rsdp_len, out);
    if (why != NULL)
        *why = st == ZX_OK ? NULL : r.why;
    return st;
}
