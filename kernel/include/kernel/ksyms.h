/*
 * Kernel symbol table for backtraces. tools/gen_ksyms.py extracts the function symbols
 * of kernel.elf into a small binary blob that GRUB loads as the module "kernel.syms".
 *
 * Blob format (little-endian):
 *   header: char magic[8] = "BERYLSYM"; u32 version = 1; u32 count;
 *           u64 strtab_offset; u64 strtab_size
 *   count entries at offset 32: u64 addr; u32 size; u32 name_offset   (sorted by addr)
 *   string table: NUL-terminated names; its last byte is NUL.
 */
#ifndef KERNEL_KSYMS_H
#define KERNEL_KSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zircon/types.h>

#define KSYMS_MAGIC "BERYLSYM"
#define KSYMS_VERSION 1u

struct ksyms_header {
    char magic[8];
    uint32_t version;
    uint32_t count;
    uint64_t strtab_offset;
    uint64_t strtab_size;
};

struct ksyms_entry {
    uint64_t addr;
    uint32_t size;
    uint32_t name_offset;
};

/*
 * Validates the blob (magic, version, every offset in bounds, entries sorted, string
 * table NUL-terminated) and, if valid, uses it for later lookups. The blob must stay
 * mapped. Returns ZX_ERR_INVALID_ARGS (blob rejected, lookups keep failing) or ZX_OK.
 */
zx_status_t ksyms_init(const void *blob, size_t len);

/*
 * Finds the symbol containing addr (addr in [sym, sym+size), or for size-0 symbols the
 * nearest one below). Returns false if none; otherwise sets *name and *offset.
 */
bool ksyms_lookup(uint64_t addr, const char **name, uint64_t *offset);

#endif
