/*
 * ELF64 file format subset and the loader's validation / planning step (elf_check.c),
 * pure logic also built for the host tests. elf.c carries the plan out with syscalls.
 */
#ifndef BERYL_ELF_PRIV_H
#define BERYL_ELF_PRIV_H

#include <zircon/types.h>

typedef struct {
    uint8_t e_ident[16];
    uint16_t e_type;
    uint16_t e_machine;
    uint32_t e_version;
    uint64_t e_entry;
    uint64_t e_phoff;
    uint64_t e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize;
    uint16_t e_phentsize;
    uint16_t e_phnum;
    uint16_t e_shentsize;
    uint16_t e_shnum;
    uint16_t e_shstrndx;
} beryl_elf64_ehdr_t;

typedef struct {
    uint32_t p_type;
    uint32_t p_flags;
    uint64_t p_offset;
    uint64_t p_vaddr;
    uint64_t p_paddr;
    uint64_t p_filesz;
    uint64_t p_memsz;
    uint64_t p_align;
} beryl_elf64_phdr_t;

_Static_assert(sizeof(beryl_elf64_ehdr_t) == 64, "ehdr");
_Static_assert(sizeof(beryl_elf64_phdr_t) == 56, "phdr");

#define BERYL_ELF_ET_EXEC 2u
#define BERYL_ELF_EM_X86_64 62u
#define BERYL_ELF_PT_LOAD 1u
#define BERYL_ELF_PT_DYNAMIC 2u
#define BERYL_ELF_PT_INTERP 3u
#define BERYL_ELF_PT_TLS 7u
#define BERYL_ELF_PF_X 1u
#define BERYL_ELF_PF_W 2u
#define BERYL_ELF_PF_R 4u

#define BERYL_ELF_MAX_PHDRS 16u
#define BERYL_ELF_PAGE ((uint64_t)4096)
/* Segments must lie in Beryl's user range [0x200000, 0x7ffffffff000). */
#define BERYL_ELF_USER_BASE ((uint64_t)0x200000)
#define BERYL_ELF_USER_TOP ((uint64_t)0x7ffffffff000)

/* One PT_LOAD segment, in page terms. */
typedef struct beryl_elf_segment {
    uint64_t vaddr;       /* page-aligned start of the mapping */
    uint64_t file_off;    /* page-aligned file offset mapped at vaddr */
    uint64_t file_bytes;  /* bytes from vaddr on that come from the file (0: none) */
    uint64_t file_len;    /* file_bytes rounded up to pages */
    uint64_t mem_len;     /* whole mapping length, pages; >= file_len */
    uint32_t perms;       /* ZX_VM_PERM_* */
    /* The bytes after file_bytes in the last file page are the start of the bss and must
     * read as zero (the loader clears them in its private copy of the file pages). */
    bool zero_tail;
} beryl_elf_segment_t;

typedef struct beryl_elf_plan {
    uint64_t entry;
    uint32_t num_segments;
    beryl_elf_segment_t segments[BERYL_ELF_MAX_PHDRS];
} beryl_elf_plan_t;

/*
 * Checks the ELF header (len bytes at ehdr) of a file_size-byte file. On success stores
 * where the program headers are. ZX_ERR_NOT_SUPPORTED: not 64-bit little-endian x86-64
 * ET_EXEC, or too many program headers; ZX_ERR_INVALID_ARGS: not ELF, or malformed.
 */
zx_status_t beryl_elf_check_header(const void *ehdr, size_t len, uint64_t file_size,
                                   uint64_t *phoff, uint32_t *phnum);

/*
 * Validates the phnum program headers (an array as read from the file) and turns the
 * PT_LOAD ones into a mapping plan. ZX_ERR_INVALID_ARGS for segments that overlap, are
 * out of order, outside the file or the user range, have p_filesz > p_memsz or an offset
 * not congruent to the address mod the page size, no PT_LOAD at all, or an entry point
 * outside every executable segment; ZX_ERR_NOT_SUPPORTED for PT_INTERP, PT_DYNAMIC or
 * PT_TLS. *plan is written only on success.
 */
zx_status_t beryl_elf_make_plan(const void *phdrs, uint32_t phnum, uint64_t file_size,
                                uint64_t entry, beryl_elf_plan_t *plan);

#endif
