/*
 * The ACPI table reader: from the RSDP the boot loader copied (<kernel/boot_info.h>) through
 * the XSDT or RSDT to the MADT, and from the MADT the local APIC IDs of the CPUs.
 *
 * Pure C (host-tested in tests/host/test_acpi.c). Firmware tables are untrusted input:
 * every length is checked before a byte past it is read, every table's checksum and
 * length are verified, and the tables are reached only through the caller's map
 * function, which decides what physical memory may be read at all.
 */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <kernel/smp.h>
#include <zircon/types.h>

/* The largest table the reader accepts (the header's length field): a MADT for
 * thousands of CPUs is far smaller; anything larger is taken as corrupt. */
#define ACPI_TABLE_MAX_LEN (256u * 1024u)
/* The most XSDT / RSDT entries looked at: firmware has a few dozen tables. */
#define ACPI_SDT_MAX_ENTRIES 256u

/*
 * Returns a pointer through which `len` bytes at physical address `pa` can be read, or
 * NULL when they cannot (outside what the kernel maps, or the range wraps). The pointer
 * stays valid for the lifetime of the acpi_find_cpus call.
 */
typedef const void *(*acpi_map_fn)(void *ctx, uint64_t pa, size_t len);

struct acpi_cpu {
    uint32_t apic_id;   /* local APIC ID (xAPIC IDs are below 256) */
    uint32_t uid;       /* ACPI processor UID */
};

/* What the MADT says about the CPUs. */
struct acpi_cpus {
    uint8_t rsdp_revision;       /* 0: ACPI 1.0 (RSDT); 2 and up: XSDT when present */
    bool used_xsdt;
    uint64_t lapic_phys;         /* the MADT's local APIC address */
    size_t count;                /* usable CPUs in cpus[], in MADT order */
    struct acpi_cpu cpus[SMP_MAX_CPUS];
    size_t disabled;             /* entries neither enabled nor online-capable */
    size_t online_capable;       /* not enabled now, may be later: not started */
    size_t duplicates;           /* entries repeating an APIC ID already listed */
    size_t over_max;             /* usable CPUs beyond SMP_MAX_CPUS, not listed */
};

/*
 * Reads the CPUs from the ACPI tables. `rsdp`/`rsdp_len` is the RSDP copy from the boot
 * loader. Checks: the RSDP signature and its ACPI 1.0 checksum; for revision >= 2 its
 * length (36 .. rsdp_len) and extended checksum, then the XSDT (64-bit entries) when
 * its address is non-zero, else the RSDT (32-bit entries); every table's signature,
 * header length (36 .. ACPI_TABLE_MAX_LEN) and checksum. MADT entries must have a length
 * of at least 2 that stays inside the table; processor local APIC (type 0) and
 * local x2APIC (type 9) entries too short for their fields are skipped. A CPU is listed
 * when its entry is enabled; an APIC ID already listed is counted in `duplicates`.
 * Entries after a malformed one are not read (the walk cannot continue past it); the
 * CPUs before it stay listed.
 *
 * Returns ZX_OK with *out filled, or: ZX_ERR_INVALID_ARGS (bad RSDP, bad or unreadable
 * XSDT / RSDT), ZX_ERR_NOT_FOUND (no valid MADT), ZX_ERR_IO_DATA_INTEGRITY (the MADT has
 * a malformed entry; *out holds the CPUs before it). *why receives a static reason on
 * failure (NULL on success) when why != NULL.
 */
zx_status_t acpi_find_cpus(const void *rsdp, size_t rsdp_len, acpi_map_fn map, void *ctx,
                           struct acpi_cpus *out, const char **why);

#endif
