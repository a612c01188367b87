/*
 * What the kernel learns from the bootloader, in a form independent of multiboot2.
 * Filled by mb2_parse() (kernel/multiboot2.c); strings point into the (kernel-owned copy
 * of the) multiboot2 information structure and stay valid for the kernel's lifetime.
 */
#ifndef KERNEL_BOOT_INFO_H
#define KERNEL_BOOT_INFO_H

#include <stddef.h>
#include <stdint.h>
#include <zircon/types.h>

#define BOOT_MAX_MEM_REGIONS 128
#define BOOT_MAX_MODULES 128

/* Memory region types; values match the multiboot2 memory map. */
enum boot_mem_type {
    BOOT_MEM_USABLE = 1,
    BOOT_MEM_RESERVED = 2,
    BOOT_MEM_ACPI_RECLAIMABLE = 3,
    BOOT_MEM_ACPI_NVS = 4,
    BOOT_MEM_BAD = 5,
};

struct boot_mem_region {
    uint64_t base;
    uint64_t length;
    uint32_t type; /* enum boot_mem_type; unknown types are kept as reported */
};

struct boot_module {
    uint64_t start; /* physical, inclusive */
    uint64_t end;   /* physical, exclusive */
    const char *name; /* the module2 command line, e.g. "test/vmar"; never NULL */
};

struct boot_info {
    uint32_t total_size;          /* bytes of the multiboot2 information structure */
    const char *cmdline;          /* "" when the tag is absent */
    const char *bootloader_name;  /* "" when the tag is absent */
    uint32_t mem_lower_kb;        /* basic meminfo tag, 0 when absent */
    uint32_t mem_upper_kb;
    size_t mem_count;
    struct boot_mem_region mem[BOOT_MAX_MEM_REGIONS];
    size_t module_count;
    struct boot_module modules[BOOT_MAX_MODULES];
    /* The ACPI RSDP the loader copied into its ACPI tag (kernel/acpi.c checks it): the new
     * (ACPI 2.0+) tag's copy when both tags are present, else the old one's; NULL and 0
     * when neither is. */
    const uint8_t *acpi_rsdp;
    size_t acpi_rsdp_len;
};

#endif
