#!/usr/bin/env python3
"""Extract function symbols from an ELF64 file into Beryl's kernel.syms blob.

The format is documented in kernel/include/kernel/ksyms.h. Only the standard library is
used: the ELF section headers and .symtab are parsed with struct.
"""
import struct
import sys

SHT_SYMTAB = 2
STT_FUNC = 2
STT_NOTYPE = 0
MAGIC = b"BERYLSYM"
VERSION = 1


def read_symbols(path):
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit(f"{path}: not a little-endian ELF64 file")
    (e_shoff,) = struct.unpack_from("<Q", data, 0x28)
    e_shentsize, e_shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = []
    for i in range(e_shnum):
        sh = struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + i * e_shentsize)
        sections.append(sh)
    syms = []
    for sh in sections:
        if sh[1] != SHT_SYMTAB:
            continue
        off, size, link, entsize = sh[4], sh[5], sh[6], sh[9]
        stroff = sections[link][4]
        for j in range(size // entsize):
            st_name, st_info, _, st_shndx, st_value, st_size = struct.unpack_from(
                "<IBBHQQ", data, off + j * entsize)
            typ = st_info & 0xF
            if typ not in (STT_FUNC, STT_NOTYPE) or st_shndx == 0 or st_value == 0:
                continue
            end = data.index(b"\0", stroff + st_name)
            name = data[stroff + st_name:end].decode("ascii", "replace")
            # Assembly labels are NOTYPE; keep the ones that look like code entry points.
            if typ == STT_NOTYPE and (not name or name.startswith(".") or name.startswith("__")):
                continue
            syms.append((st_value, st_size, name))
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
