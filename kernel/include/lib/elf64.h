/* The parts of the ELF-64 format (System V gABI, x86-64 psABI) that loaders need. */
#ifndef LIB_ELF64_H
#define LIB_ELF64_H

#include <stdint.h>

#define ELF_MAGIC "\x7f" "ELF"
#define ELF_CLASS_64 2u
#define ELF_DATA_LSB 1u
#define ELF_TYPE_EXEC 2u
#define ELF_MACHINE_X86_64 62u
#define ELF_PT_LOAD 1u
#define ELF_PF_X 1u
#define ELF_PF_W 2u
#define ELF_PF_R 4u

typedef struct elf64_ehdr {
    uint8_t ident[16]; /* magic, class, data, version, ... */
    uint16_t type;
    uint16_t machine;
    uint32_t version;
    uint64_t entry;
    uint64_t phoff;
    uint64_t shoff;
    uint32_t flags;
    uint16_t ehsize;
    uint16_t phentsize;
    uint16_t phnum;
    uint16_t shentsize;
    uint16_t shnum;
    uint16_t shstrndx;
} elf64_ehdr_t;

typedef struct elf64_phdr {
    uint32_t type;
    uint32_t flags;
    uint64_t offset;
    uint64_t vaddr;
    uint64_t paddr;
    uint64_t filesz;
    uint64_t memsz;
    uint64_t align;
} elf64_phdr_t;

#define ELF_IDENT_CLASS 4
#define ELF_IDENT_DATA 5

/* Section types and symbol fields the symbolizer (lib/elf_syms.h) reads. */
#define ELF_SHT_SYMTAB 2u
#define ELF_SHT_STRTAB 3u
#define ELF_SHN_UNDEF 0u
#define ELF_STT_FUNC 2u
#define ELF_SYM_TYPE(info) ((info) & 0xfu)

typedef struct elf64_shdr {
    uint32_t name;
    uint32_t type;
    uint64_t flags;
    uint64_t addr;
    uint64_t offset;
    uint64_t size;
    uint32_t link; /* for a symbol table: the index of its string table */
    uint32_t info;
    uint64_t addralign;
    uint64_t entsize;
} elf64_shdr_t;

typedef struct elf64_sym {
    uint32_t name; /* offset into the linked string table */
    uint8_t info;  /* binding << 4 | type */
    uint8_t other;
    uint16_t shndx;
    uint64_t value;
    uint64_t size;
} elf64_sym_t;

#endif
