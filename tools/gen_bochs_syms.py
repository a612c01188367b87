#!/usr/bin/env python3
"""Write a Bochs debugger symbol file (for `ldsym`) from an ELF64 executable.

  gen_bochs_syms.py [--min-address ADDR] ELF OUTPUT

One line per code symbol, "ADDRESS NAME" with the address in hex, sorted by address:
the functions (STT_FUNC) and the named assembly labels (STT_NOTYPE, not starting with
"." or "__") of the executable sections, at their link-time values. The kernel and the
user programs are linked where they run (the kernel in the higher half, user programs as
static non-PIE executables at 0x1000000), so these are the running addresses. Where
several names share an address the sized function comes first: Bochs keeps the first
name it reads for an address. Bochs names an address after the nearest symbol below it
however far away that is, so two markers bound the functions: a last line
"[end of functions]" at the end of the highest one (a stack or heap address above it
reads "[end of functions]+..." instead of borrowing that function's name), and a first
line "[no symbol]" at address 0 (an address below every function reads
"[no symbol]+ADDRESS"; without it Bochs 2.7 prints a made-up name there).

--min-address drops symbols below ADDR: the kernel's 32-bit boot code runs at physical
addresses, and with its labels loaded Bochs would name every low physical address after
them. Only the standard library is used (the ELF through tools/elf64.py); docs/debugging.md ("Bochs") shows the files in
use.
"""
import argparse
import os
import sys

import elf64

END_MARKER = "[end of functions]"
LOW_MARKER = "[no symbol]"


def read_code_symbols(path):
    """Returns [(address, size, name)] of the code symbols of the ELF64 file at path."""
    elf = elf64.read(path)
    syms = []
    for sym in elf.symbols():
        if sym.type not in (elf64.STT_FUNC, elf64.STT_NOTYPE) or sym.value == 0:
            continue
        if sym.shndx == elf64.SHN_UNDEF or sym.shndx >= elf64.SHN_LORESERVE:
            continue
        if not elf.sections[sym.shndx].flags & elf64.SHF_EXECINSTR:
            continue
        if not sym.name or (sym.type == elf64.STT_NOTYPE and sym.name.startswith((".", "__"))):
            continue
        syms.append((sym.value, sym.size, sym.name))
    return syms


def format_symbols(syms, min_address):
    """The symbol file's text: the low marker, the kept symbols by address (sized ones
    first at one address, then by name), then the end marker; empty without symbols."""
    kept = sorted((s for s in syms if s[0] >= min_address), key=lambda s: (s[0], -s[1], s[2]))
    if not kept:
        return ""
    lines = ["%016x %s" % (0, LOW_MARKER)]
    lines += ["%016x %s" % (addr, name) for addr, _, name in kept]
    end = max(addr + size for addr, size, _ in kept)
    lines.append("%016x %s" % (end, END_MARKER))
    return "".join(line + "\n" for line in lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--min-address", type=lambda s: int(s, 0), default=0)
    p.add_argument("elf")
    p.add_argument("output")
    args = p.parse_args()
    text = format_symbols(read_code_symbols(args.elf), args.min_address)
    if not text:
        raise SystemExit("%s: no code symbols (stripped?)" % args.elf)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
