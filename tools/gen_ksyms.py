#!/usr/bin/env python3
"""Extract function symbols from an ELF64 file into Beryl's kernel.syms blob.

The format is documented in kernel/include/kernel/ksyms.h. Only the standard library is
used: the symbol tables are read with tools/elf64.py.
"""
import struct
import sys

import elf64

MAGIC = b"BERYLSYM"
VERSION = 1


def read_symbols(path):
    """[(address, size, name)] of the function symbols and code-like assembly labels of
    the ELF64 file at path, sorted."""
    syms = []
    for sym in elf64.read(path).symbols():
        if sym.type not in (elf64.STT_FUNC, elf64.STT_NOTYPE) or sym.shndx == elf64.SHN_UNDEF \
                or sym.value == 0:
            continue
        # Assembly labels are NOTYPE; keep the ones that look like code entry points.
        if sym.type == elf64.STT_NOTYPE and (not sym.name or sym.name.startswith((".", "__"))):
            continue
        syms.append((sym.value, sym.size, sym.name))
    syms.sort()
    return syms


def build_blob(syms):
    strtab = bytearray()
    entries = bytearray()
    offsets = {}
    for addr, size, name in syms:
        if name not in offsets:
            offsets[name] = len(strtab)
            strtab += name.encode() + b"\0"
        entries += struct.pack("<QII", addr, min(size, 0xFFFFFFFF), offsets[name])
    if not strtab:
        strtab = bytearray(b"\0")
    header_size = 32
    strtab_offset = header_size + len(entries)
    header = MAGIC + struct.pack("<IIQQ", VERSION, len(syms), strtab_offset, len(strtab))
    return header + entries + strtab


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: gen_ksyms.py kernel.elf kernel.syms")
    blob = build_blob(read_symbols(sys.argv[1]))
    with open(sys.argv[2], "wb") as f:
        f.write(blob)


if __name__ == "__main__":
    main()
