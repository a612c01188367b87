"""The ELF64 reader the build's generators share: tools/gen_ksyms.py (the kernel's
kernel.syms), tools/gen_bochs_syms.py (Bochs symbol files) and tools/gen_lines.py (user
programs' .beryl_lines). It reads only what they need, with the standard library:
the section headers and their names, the program headers, and the symbol tables. The
inputs are this build's own linker outputs, so a malformed file ends the generator with
a message (SystemExit) rather than being read around.
"""
import collections
import struct

SHDR = struct.Struct("<IIQQQQIIQQ")
PHDR = struct.Struct("<IIQQQQQQ")
SYM = struct.Struct("<IBBHQQ")

SHT_PROGBITS = 1
SHT_SYMTAB = 2
SHF_EXECINSTR = 0x4
SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
STT_NOTYPE = 0
STT_FUNC = 2
PT_LOAD = 1
PF_X = 1

# Offsets in the ELF64 header of the fields a generator rewrites (gen_lines.py).
EHDR_SHOFF = 0x28
EHDR_SHNUM = 0x3C

Section = collections.namedtuple(
    "Section", "name type flags addr offset size link info addralign entsize")
Segment = collections.namedtuple("Segment", "type flags offset vaddr paddr filesz memsz align")
Symbol = collections.namedtuple("Symbol", "value size type shndx name")


class Elf64:
    """A little-endian ELF64 file's bytes (data) and headers: sections (Section tuples,
    name an offset into the name table), shstrndx, segments (Segment tuples)."""

    def __init__(self, data, path="ELF file"):
        if data[:4] != b"\x7fELF" or len(data) < 0x40 or data[4] != 2 or data[5] != 1:
            raise SystemExit("%s: not a little-endian ELF64 file" % path)
        self.data, self.path = data, path
        phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
        phentsize, phnum, shentsize, shnum, self.shstrndx = struct.unpack_from(
            "<HHHHH", data, 0x36)
        try:
            self.sections = [Section(*SHDR.unpack_from(data, shoff + i * shentsize))
                             for i in range(shnum)]
            self.segments = [Segment(*PHDR.unpack_from(data, phoff + i * phentsize))
                             for i in range(phnum)]
        except struct.error:
            raise SystemExit("%s: its headers run past the end of the file" % path)

    def cstr(self, offset):
        """The NUL-terminated string at file offset `offset`."""
        end = self.data.index(b"\0", offset)
        return self.data[offset:end].decode("utf-8", "replace")

    def section_name(self, sh):
        return self.cstr(self.sections[self.shstrndx].offset + sh.name)

    def section_bytes(self, name):
        """The bytes of the section called name; empty when there is none."""
        for sh in self.sections:
            if self.section_name(sh) == name:
                return self.data[sh.offset:sh.offset + sh.size]
        return b""

    def has_section(self, name):
        return any(self.section_name(sh) == name for sh in self.sections)

    def symbols(self):
        """Every entry of every SHT_SYMTAB section, as Symbol tuples (type: the low four
        bits of st_info), in file order."""
        for sh in self.sections:
            if sh.type != SHT_SYMTAB:
                continue
            stroff = self.sections[sh.link].offset
            for j in range(sh.size // sh.entsize):
                st_name, st_info, _, st_shndx, st_value, st_size = SYM.unpack_from(
                    self.data, sh.offset + j * sh.entsize)
                yield Symbol(st_value, st_size, st_info & 0xF, st_shndx,
                             self.cstr(stroff + st_name))


def read(path):
    """The Elf64 of the file at path."""
    with open(path, "rb") as f:
        return Elf64(f.read(), path)
