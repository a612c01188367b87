"""Tests of tools/gen_bochs_syms.py and of the Bochs symbol files the build writes
(cmake/bochs_syms.cmake; ctest bochs_syms_files). BERYL_SOURCE_DIR and BERYL_BUILD_DIR
locate the trees."""
import os
import re
import sys
import unittest

SRC = os.environ.get("BERYL_SOURCE_DIR",
                     os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("BERYL_BUILD_DIR", os.path.join(SRC, "build"))
sys.path.insert(0, os.path.join(SRC, "tools"))
import gen_bochs_syms  # noqa: E402

KERNEL_VMA_BASE = 0xffffffff80000000
LINE = re.compile(r"^([0-9a-f]{16}) (.+)$")


def read_sym_file(path):
    """[(address, name)] of a symbol file, checking every line's form."""
    out = []
    with open(path) as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if not m:
                raise AssertionError("%s: bad line %r" % (path, line))
            out.append((int(m.group(1), 16), m.group(2)))
    return out


class FormatTest(unittest.TestCase):
    def test_markers_order_and_floor(self):
        syms = [(0x2000, 0x10, "b"), (0x1000, 0, "label"), (0x1000, 0x20, "a"),
                (0x500, 0x8, "boot_code")]
        text = gen_bochs_syms.format_symbols(syms, 0x1000)
        self.assertEqual(text.splitlines(), [
            "0000000000000000 [no symbol]",
            "0000000000001000 a",          # the sized function first at a shared address
            "0000000000001000 label",
            "0000000000002000 b",
            "0000000000002010 [end of functions]",
        ])

    def test_nothing_kept_is_empty(self):
        self.assertEqual(gen_bochs_syms.format_symbols([(0x10, 4, "x")], 0x100), "")


class BuiltFilesTest(unittest.TestCase):
    def test_kernel_file(self):
        syms = read_sym_file(os.path.join(BUILD, "bochs-syms", "kernel.sym"))
        self.assertEqual(syms[0], (0, "[no symbol]"))
        self.assertEqual(syms[-1][1], "[end of functions]")
        body = syms[1:-1]
        self.assertEqual(body, sorted(body, key=lambda s: s[0]))
        names = {n for _, n in body}
        for name in ("kmain", "arch_debug_break_at", "trap_syscall_break",
                     "x86_syscall_entry_break", "higher_half_entry"):
            self.assertIn(name, names)
        # The 32-bit boot code (physical addresses) stays out.
        self.assertTrue(all(a >= KERNEL_VMA_BASE for a, _ in body))
        self.assertNotIn("mb2_header", names)

    def test_every_program_has_a_file(self):
        with open(os.path.join(BUILD, "generated", "modules.cfg")) as f:
            programs = [line.split()[2] for line in f if line.startswith("module2 ")]
        self.assertIn("crash/write_ro", programs)
        for prog in programs:
            path = os.path.join(BUILD, "bochs-syms", prog + ".sym")
            self.assertTrue(os.path.exists(path), path)

    def test_program_file_at_link_addresses(self):
        syms = dict((n, a) for a, n in read_sym_file(
            os.path.join(BUILD, "bochs-syms", "crash", "write_ro.sym")))
        self.assertEqual(syms["_start"], 0x1000000)  # user/user.ld's load address
        for name in ("crash_inner", "crash_outer", "main"):
            self.assertTrue(0x1000000 < syms[name] < syms["[end of functions]"], name)


if __name__ == "__main__":
    unittest.main()
