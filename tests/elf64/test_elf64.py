"""Tests of tools/elf64.py, the ELF64 reader behind gen_ksyms.py, gen_bochs_syms.py and
gen_lines.py, on this build's own outputs (BERYL_SOURCE_DIR, BERYL_BUILD_DIR locate the
trees; ctest elf64_reader)."""
import os
import struct
import sys
import unittest

SRC = os.environ.get("BERYL_SOURCE_DIR",
                     os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("BERYL_BUILD_DIR", os.path.join(SRC, "build"))
sys.path.insert(0, os.path.join(SRC, "tools"))
import elf64  # noqa: E402
import gen_ksyms  # noqa: E402

KERNEL = os.path.join(BUILD, "kernel", "kernel.elf")
PROGRAM = os.path.join(BUILD, "isoroot", "boot", "modules", "crash_write_ro.elf")


class BuildOutputs(unittest.TestCase):
    def test_kernel_sections_and_symbols(self):
        elf = elf64.read(KERNEL)
        self.assertTrue(elf.has_section(".text"))
        self.assertFalse(elf.has_section(".no_such_section"))
        self.assertEqual(elf.section_bytes(".no_such_section"), b"")
        kmain = [s for s in elf.symbols() if s.name == "kmain"]
        self.assertEqual(len(kmain), 1)
        self.assertEqual(kmain[0].type, elf64.STT_FUNC)
        self.assertTrue(elf.sections[kmain[0].shndx].flags & elf64.SHF_EXECINSTR)
        # kernel.syms lists the same function at the same address.
        self.assertIn((kmain[0].value, kmain[0].size, "kmain"), gen_ksyms.read_symbols(KERNEL))

    def test_user_program_segments_and_line_table(self):
        elf = elf64.read(PROGRAM)
        code = [p for p in elf.segments if p.type == elf64.PT_LOAD and p.flags & elf64.PF_X]
        self.assertEqual(code[0].vaddr, 0x1000000)  # user programs' fixed link address
        lines = elf.section_bytes(".beryl_lines")
        self.assertEqual(lines[:8], b"BRYLINES")
        (base,) = struct.unpack_from("<Q", lines, 24)
        self.assertEqual(base, code[0].vaddr)


class BadInput(unittest.TestCase):
    def test_not_elf(self):
        with self.assertRaises(SystemExit):
            elf64.Elf64(b"#!/bin/sh\n" + bytes(100))

    def test_headers_past_the_end(self):
        data = bytearray(open(PROGRAM, "rb").read()[:0x40])  # the ELF header alone
        with self.assertRaises(SystemExit):
            elf64.Elf64(bytes(data))


if __name__ == "__main__":
    unittest.main()
