#!/usr/bin/env python3
"""Give a user program's ELF its line table: a `.beryl_lines` section for the kernel's
user fault report (docs/debugging.md, "When a user program crashes").

    gen_lines.py --source-root DIR PROGRAM.elf

reads the program's DWARF line programs (.debug_line, DWARF 2 to 5, with .debug_line_str
and .debug_str for DWARF 5 names), turns them into a sorted address -> (file, line) table
and appends it to the ELF in place as a non-allocated section, so it travels inside the
boot module and is never loaded into the process. Paths under DIR are written relative to
it (`user/crash/write_ro.c`). The format is kernel/include/lib/elf_lines.h's; the kernel
reads it as untrusted input (kernel/lib/elf_lines.c). Only the standard library is used
(the ELF through tools/elf64.py).
"""
import argparse
import os
import struct
import sys

import elf64

SECTION = b".beryl_lines"
MAGIC = b"BRYLINES"
VERSION = 1
HEADER = struct.Struct("<8sIIIIQ")  # magic, version, rows, files, strings size, base
ROW = struct.Struct("<IHH")          # address - base, file index, line (0: no line)
LINE_MAX = 0xFFFF
FILES_MAX = 0xFFFF

# DWARF constants (DWARF 5, section 7).
DW_LNS_copy, DW_LNS_advance_pc, DW_LNS_advance_line, DW_LNS_set_file = 1, 2, 3, 4
DW_LNS_const_add_pc, DW_LNS_fixed_advance_pc = 8, 9
DW_LNE_end_sequence, DW_LNE_set_address, DW_LNE_define_file = 1, 2, 3
DW_LNCT_path, DW_LNCT_directory_index = 1, 2
DW_FORM = {"block": 0x09, "data1": 0x0B, "data2": 0x05, "data4": 0x06, "data8": 0x07,
           "data16": 0x1E, "string": 0x08, "strp": 0x0E, "line_strp": 0x1F, "udata": 0x0F,
           "sdata": 0x0D}


class Reader:
    """Little-endian reads from bytes, advancing a position."""

    def __init__(self, data, pos=0):
        self.data, self.pos = data, pos

    def u(self, n):
        v = int.from_bytes(self.data[self.pos:self.pos + n], "little")
        if self.pos + n > len(self.data):
            raise ValueError("truncated")
        self.pos += n
        return v

    def s8(self):
        v = self.u(1)
        return v - 256 if v >= 128 else v

    def _leb128(self):
        """(value, bits read, last byte) of an LEB128 number, before any sign extension."""
        v = shift = 0
        while True:
            b = self.u(1)
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return v, shift, b

    def uleb(self):
        return self._leb128()[0]

    def sleb(self):
        v, shift, last = self._leb128()
        return v - (1 << shift) if last & 0x40 else v

    def cstr(self):
        end = self.data.index(b"\0", self.pos)
        s = self.data[self.pos:end].decode("utf-8", "replace")
        self.pos = end + 1
        return s


def cstr_at(data, off):
    end = data.index(b"\0", off)
    return data[off:end].decode("utf-8", "replace")


def read_entries(r, formats, count, line_str, strs, offset_size):
    """count entries of the DWARF 5 entry formats [(content type, form)] as dicts."""
    out = []
    for _ in range(count):
        e = {}
        for ct, form in formats:
            if form == DW_FORM["string"]:
                v = r.cstr()
            elif form == DW_FORM["line_strp"]:
                v = cstr_at(line_str, r.u(offset_size))
            elif form == DW_FORM["strp"]:
                v = cstr_at(strs, r.u(offset_size))
            elif form == DW_FORM["udata"]:
                v = r.uleb()
            elif form == DW_FORM["sdata"]:
                v = r.sleb()
            elif form in (DW_FORM["data1"], DW_FORM["data2"], DW_FORM["data4"],
                          DW_FORM["data8"], DW_FORM["data16"]):
                n = {DW_FORM["data1"]: 1, DW_FORM["data2"]: 2, DW_FORM["data4"]: 4,
                     DW_FORM["data8"]: 8, DW_FORM["data16"]: 16}[form]
                v = r.u(n)
            elif form == DW_FORM["block"]:
                r.pos += r.uleb()
                v = None
            else:
                raise ValueError(f"unsupported form 0x{form:x} in a line table header")
            e[ct] = v
        out.append(e)
    return out


def line_programs(line, line_str, strs):
    """Yields (address, path, line, end_sequence) for every row of every line program."""
    pos = 0
    while pos < len(line):
        r = Reader(line, pos)
        length, offset_size = r.u(4), 4
        if length == 0xFFFFFFFF:
            length, offset_size = r.u(8), 8
        end = r.pos + length
        version = r.u(2)
        if version < 2 or version > 5:
            raise ValueError(f"DWARF line table version {version}")
        addr_size = 8
        if version >= 5:
            addr_size = r.u(1)
            r.u(1)  # segment selector size
        header_length = r.u(offset_size)
        program = r.pos + header_length
        min_inst = r.u(1)
        if version >= 4:
            r.u(1)  # maximum operations per instruction (1 on x86)
        r.u(1)  # default_is_stmt: every row counts, statement or not
        line_base, line_range, opcode_base = r.s8(), r.u(1), r.u(1)
        std_lengths = [r.u(1) for _ in range(opcode_base - 1)]
        if version >= 5:
            fmt = [(r.uleb(), r.uleb()) for _ in range(r.u(1))]
            dirs = [e.get(DW_LNCT_path, "") for e in
                    read_entries(r, fmt, r.uleb(), line_str, strs, offset_size)]
            fmt = [(r.uleb(), r.uleb()) for _ in range(r.u(1))]
            files = [(e.get(DW_LNCT_path, "?"), e.get(DW_LNCT_directory_index, 0)) for e in
                     read_entries(r, fmt, r.uleb(), line_str, strs, offset_size)]
        else:
            dirs = [""]
            while True:
                d = r.cstr()
                if not d:
                    break
                dirs.append(d)
            files = [("?", 0)]  # DWARF 4 file numbers start at 1
            while True:
                f = r.cstr()
                if not f:
                    break
                files.append((f, r.uleb()))
                r.uleb()
                r.uleb()

        def path(i):
            if i >= len(files):
                return "?"
            name, d = files[i]
            if os.path.isabs(name):
                return name
            base = dirs[d] if d < len(dirs) else ""
            if base and not os.path.isabs(base) and dirs[0]:
                base = os.path.join(dirs[0], base)
            return os.path.join(base, name)

        r.pos = program
        addr, file, ln = 0, 1, 1
        while r.pos < end:
            op = r.u(1)
            if op >= opcode_base:
                adj = op - opcode_base
                addr += (adj // line_range) * min_inst
                ln += line_base + adj % line_range
                yield addr, path(file), ln, False
            elif op == 0:
                n = r.uleb()
                sub_end = r.pos + n
                sub = r.u(1) if n else 0
                if sub == DW_LNE_end_sequence:
                    yield addr, None, 0, True
                    addr, file, ln = 0, 1, 1
                elif sub == DW_LNE_set_address:
                    addr = r.u(addr_size)
                elif sub == DW_LNE_define_file:
                    files.append((r.cstr(), r.uleb()))
                r.pos = sub_end
            elif op == DW_LNS_copy:
                yield addr, path(file), ln, False
            elif op == DW_LNS_advance_pc:
                addr += r.uleb() * min_inst
            elif op == DW_LNS_advance_line:
                ln += r.sleb()
            elif op == DW_LNS_set_file:
                file = r.uleb()
            elif op == DW_LNS_const_add_pc:
                addr += ((255 - opcode_base) // line_range) * min_inst
            elif op == DW_LNS_fixed_advance_pc:
                addr += r.u(2)
            else:  # other standard opcodes: skip their operands
                for _ in range(std_lengths[op - 1]):
                    r.uleb()
        pos = end


def build_table(rows, segments, source_root):
    """The section's bytes: rows inside an executable segment, sorted; at one address the
    last row wins (a sequence's start over the previous one's end); repeats merged."""
    def inside(a):
        return any(lo <= a <= hi for lo, hi in segments)

    rows = sorted((r for r in rows if inside(r[0])), key=lambda r: (r[0], not r[3]))
    base = min((lo for lo, _ in segments), default=0)
    files, file_index, out = [], {}, []
    for addr, p, ln, end in rows:
        if end:
            key = (0, 0)
        else:
            p = os.path.normpath(p)
            if source_root and os.path.isabs(p) and p.startswith(source_root + os.sep):
                p = os.path.relpath(p, source_root)
            if p not in file_index:
                file_index[p] = len(files)
                files.append(p)
            key = (file_index[p], ln if ln <= LINE_MAX else 0)
        if addr - base > 0xFFFFFFFF:
            raise SystemExit(f"address 0x{addr:x} is more than 4 GiB past 0x{base:x}")
        if out and out[-1][0] == addr:
            out.pop()
        if out and out[-1][1:] == key:
            continue
        out.append((addr,) + key)
    if len(files) > FILES_MAX:
        raise SystemExit(f"{len(files)} source files: the table holds {FILES_MAX}")
    strings, offsets = bytearray(), []
    for f in files:
        offsets.append(len(strings))
        strings += f.encode() + b"\0"
    blob = bytearray(HEADER.pack(MAGIC, VERSION, len(out), len(files), len(strings), base))
    for o in offsets:
        blob += struct.pack("<I", o)
    for addr, f, ln in out:
        blob += ROW.pack(addr - base, f, ln)
    blob += strings
    return bytes(blob)


def add_section(elf, payload):
    """The bytes of elf (an elf64.Elf64) with a new non-allocated section SECTION holding
    payload: the section name table and the section header table are rewritten at the
    end of the file (the old copies stay as unused bytes); nothing that is loaded moves."""
    out = bytearray(elf.data)
    names_sh = elf.sections[elf.shstrndx]
    names = bytes(elf.data[names_sh.offset:names_sh.offset + names_sh.size])
    name_off = len(names)
    names += SECTION + b"\0"

    def align(n):
        out.extend(b"\0" * (-len(out) % n))

    align(8)
    new_str_off = len(out)
    out += names
    align(8)
    payload_off = len(out)
    out += payload
    align(8)
    new_shoff = len(out)
    for i, sh in enumerate(elf.sections):
        if i == elf.shstrndx:
            sh = sh._replace(offset=new_str_off, size=len(names))
        out += elf64.SHDR.pack(*sh)
    out += elf64.SHDR.pack(name_off, elf64.SHT_PROGBITS, 0, 0, payload_off, len(payload), 0,
                           0, 8, 0)
    struct.pack_into("<Q", out, elf64.EHDR_SHOFF, new_shoff)
    struct.pack_into("<H", out, elf64.EHDR_SHNUM, len(elf.sections) + 1)
    return bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source-root", default="")
    ap.add_argument("elf")
    args = ap.parse_args()
    elf = elf64.read(args.elf)
    if elf.has_section(SECTION.decode()):
        raise SystemExit(f"{args.elf}: already has {SECTION.decode()}")
    section = elf.section_bytes
    segments = [(p.vaddr, p.vaddr + p.memsz) for p in elf.segments
                if p.type == elf64.PT_LOAD and p.flags & elf64.PF_X]
    try:
        rows = list(line_programs(section(".debug_line"), section(".debug_line_str"),
                                  section(".debug_str")))
    except (ValueError, IndexError) as e:
        raise SystemExit(f"{args.elf}: cannot read .debug_line: {e}")
    root = os.path.normpath(os.path.abspath(args.source_root)) if args.source_root else ""
    payload = build_table(rows, segments, root)
    tmp = args.elf + ".lines.tmp"
    with open(tmp, "wb") as f:
        f.write(add_section(elf, payload))
    os.chmod(tmp, os.stat(args.elf).st_mode)
    os.replace(tmp, args.elf)


if __name__ == "__main__":
    sys.exit(main())
