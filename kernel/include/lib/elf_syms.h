/* Function names for addresses, from the .symtab of an ELF-64 image in memory. */
#ifndef LIB_ELF_SYMS_H
#define LIB_ELF_SYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Finds the function symbol (STT_FUNC, defined, with a size) of the ELF-64 image
 * [image, image + len) whose range [value, value + size) holds addr. On success writes
 * its name into name (cut to name_size - 1 bytes, always NUL-terminated; name_size >= 1)
 * and addr - value into *offset, and returns true. Returns false, touching nothing but
 * name[0], when the image is not a little-endian ELF-64, has no symbol table, or no
 * function holds addr.
 *
 * The image is untrusted: every header, section, symbol and string is checked against
 * len before it is read, and every read is a byte copy, so a truncated, misaligned or
 * corrupt image gives false (or a wrong name) but never a read outside the image. The
 * work is one pass over the section headers and one over the symbols.
 */
bool elf_syms_lookup(const void *image, size_t len, uint64_t addr, char *name,
                     size_t name_size, uint64_t *offset);

/*
 * Finds the section named name (a NUL-terminated string) of the ELF-64 image [image,
 * image + len) by its entry in the section name table. On success writes the section's
 * file offset and size, which lie within the image, and returns true. Returns false when
 * the image is not a little-endian ELF-64, has no such section, or the section's extent
 * leaves the image. Untrusted input, checked as elf_syms_lookup checks it; one pass over
 * the section headers.
 */
bool elf_find_section(const void *image, size_t len, const char *name, uint64_t *offset,
                      uint64_t *size);

/*
 * The virtual address at which the ELF-64 image [image, image + len) loads its byte at
 * file offset file_offset: from the first PT_LOAD segment whose file bytes hold it. True
 * and *vaddr written on success; false when the image is not a little-endian ELF-64 or no
 * segment holds that byte. Untrusted input, checked as above; one pass over the program
 * headers.
 */
bool elf_vaddr_of_offset(const void *image, size_t len, uint64_t file_offset,
                         uint64_t *vaddr);

#endif
