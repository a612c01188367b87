/*
 * Multiboot2 information parsing (pure C; host-tested in tests/host/test_multiboot2.c).
 * Constants follow the Multiboot2 specification.
 */
#ifndef KERNEL_MULTIBOOT2_H
#define KERNEL_MULTIBOOT2_H

#include <stddef.h>
#include <stdint.h>
#include <kernel/boot_info.h>

#define MB2_BOOTLOADER_MAGIC 0x36d76289u
#define MB2_HEADER_MAGIC 0xe85250d6u

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_BOOTLOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_BOOTDEV 5
#define MB2_TAG_MMAP 6
#define MB2_TAG_ACPI_OLD 14 /* a copy of the ACPI 1.0 RSDP */
#define MB2_TAG_ACPI_NEW 15 /* a copy of the ACPI 2.0+ RSDP */
#define MB2_TAG_ALIGN 8

/*
 * Parses the multiboot2 information structure at mbi, of which `avail` bytes may be read.
 * Checks everything before trusting it: total_size within avail and >= 16, every tag
 * 8-byte aligned, tag sizes >= 8 and inside total_size, an END tag present, strings
 * NUL-terminated inside their tag, memory-map entry_size >= 24 and entries inside the tag,
 * module start <= end, at most BOOT_MAX_* regions/modules, exactly one memory map, at
 * most one ACPI tag of each kind. The ACPI tags' contents are not checked here (the
 * RSDP is kernel/acpi.c's to validate); the new tag wins over the old one.
 *
 * On success fills *out and returns ZX_OK. On failure returns ZX_ERR_INVALID_ARGS (malformed),
 * ZX_ERR_NOT_FOUND (no memory map) or ZX_ERR_NO_RESOURCES (too many entries), stores a
 * static human-readable reason in *why (if why != NULL), and leaves *out unspecified.
 */
zx_status_t mb2_parse(const void *mbi, size_t avail, struct boot_info *out, const char **why);

#endif
