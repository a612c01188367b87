#!/usr/bin/env python3
"""The ctest qemu.gdb_debug_session: `./beryl debug`'s batch mode, checked.

  gdb_session_test.py --build-dir BUILD [--timeout SECONDS] [--cmdline-extra WORD]...

Runs tools/gdb/debug_session.py (what `./beryl debug` runs) with a free port, the
command file tests/runner/gdb_session.gdb (the commands of docs/debugging.md's "QEMU +
gdb" walkthrough) and a boot of crash/write_ro, then checks gdb's output step by step
(the command file prints `==== STEP` before each): the backtraces end at the kernel
entry with no frame beyond it, values print in hex, every helper prints what the kernel
holds, beryl-walk agrees with QEMU's own walk, and user symbols resolve. Exit status 0
when every check passes; otherwise the failures and gdb's whole output are printed.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
SESSION = os.path.join(SRC, "tools", "gdb", "debug_session.py")
COMMANDS = os.path.join(HERE, "gdb_session.gdb")
CMDLINE = ["userboot.prefix=crash/write_ro"]
# Prefixed to a regex, it must match the last frame line of a backtrace (checked on the
# frame lines alone: the bottom frame is the kernel entry, with nothing after it).
LAST_FRAME = "LAST FRAME:"

# (step, regexes that must match the step's output, regexes that must not)
CHECKS = [
    ("bt syscall",
     [r"^#0 .*sys_vmo_create \(size=0x[0-9a-f]+", r"x86_syscall_handler \(f=0x",
      LAST_FRAME + r"x86_syscall_entry \(\)$"],
     [r"\?\? \(\)", r"Backtrace stopped"]),
    # A page fault in a user copy: through the interrupted kernel code (beryl.py's
    # unwinder) down to the syscall entry.
    ("bt copy fault",
     [r"^#0 .*trap_page_fault \(va=0x[0-9a-f]+, flags=0x[0-9a-f]*[0-389ab]\)",
      r"^#\d+ +0x[0-9a-f]+ in x86_exception_common \(\)\n#\d+ +0x[0-9a-f]+ in x86_user_copy_raw \(\)\n#\d+ +0x[0-9a-f]+ in user_copy_(to|from) ",
      r"^#\d+ .* in sys_\w+ \(", LAST_FRAME + r"x86_syscall_entry \(\)$"],
     [r"\?\? \(\)", r"Backtrace stopped", r"Python Exception"]),
    ("bt fault",
     [r"^#0 .*trap_user_exception \(f=", r"x86_exception_handler \(f=0x",
      LAST_FRAME + r"x86_exception_common \(\)$"],
     [r"\?\? \(\)", r"Backtrace stopped"]),
    # output-radix 16: a plain `print` shows the vector (#PF) as 0xe.
    ("frame", [r"^\$\d+ = 0xe$", r"err_code = 0x6, rip = 0x1000[0-9a-f]{3}, cs = 0x23"], []),
    ("ps", [r"^\*\s*\d+\s+RUNNING\s+1\s+crash/write_ro$", r"^\s+\d+\s+\w+\s+\d+\s+userboot$"],
     [r"Python Exception"]),
    ("threads",
     [r"^\*\s*\d+\s+RUNNING\s+0x[0-9a-f]{16}\s+crash/write_ro \(\d+\)\s+main$",
      r"^\s+-\s+\w+\s+0x[0-9a-f]{16}\s+kernel\s+idle$",
      r"^\s+-\s+\w+\s+0x[0-9a-f]{16}\s+kernel\s+reaper$",
      # the boot thread blocks waiting for userboot right after starting it
      r"^\s+-\s+BLOCKED\s+0x[0-9a-f]{16}\s+kernel\s+bootstrap  \(waits on process \d+\)$",
      # userboot may still be READY (preempted before it blocked): its state varies
      r"^\s+\d+\s+[A-Z]+\s+0x[0-9a-f]{16}\s+userboot \(\d+\)\s+userboot"],
     [r"Python Exception"]),
    ("vmar",
     [r"^process \d+ 'crash/write_ro'$",
      r"^aspace 'crash/write_ro' \[0x0000000000200000, 0x00007ffffffff000\), page tables root 0x[0-9a-f]+$",
      r"^    mapping \[0x0000000001000000, 0x[0-9a-f]{16}\) r-x VMO '' koid \d+ offset 0x[0-9a-f]+",
      r"^    mapping \[0x[0-9a-f]{16}, 0x[0-9a-f]{16}\) VMO 'crash-write-ro' koid \d+ offset 0x0 \(max rw-\), 2 protection runs:$",
      r"^      \[0x[0-9a-f]{16}, 0x[0-9a-f]{16}\) r--$"],
     [r"Python Exception"]),
    # The page at CR2 was never touched: the walk ends at an entry that is not present.
    ("walk cr2", [r"^walk 0x[0-9a-f]{16} from root 0x[0-9a-f]+ \(CR3\)$",
                  r"^  L3 PML4\[ *\d+\] @0x[0-9a-f]+ = 0x[0-9a-f]{16}",
                  r"^  not present: no translation$"], [r"Python Exception"]),
    ("walk rip", [r"^walk 0x0000000001000[0-9a-f]{3} from root 0x[0-9a-f]+ \(process \d+ 'crash/write_ro'\)$",
                  r"^  L0 PT\[ *\d+\] @0x[0-9a-f]+ = 0x[0-9a-f]{16} P U A",
                  r"-> physical 0x[0-9a-f]+ \(4K page\)$"], [r"Python Exception"]),
    ("qemu walk rip", [r"^gpa: 0x[0-9a-f]+$"], []),
    # QEMU's views of the loaded tables: the code pages, read-only and user.
    ("qemu info mem", [r"^0000000001000000-[0-9a-f]{16} [0-9a-f]{16} ur-$"], []),
    ("qemu info tlb", [r"^0000000001000000: [0-9a-f]{16} [-X]--[-D][-A]--U-$"], []),
    ("load user", [r"^loaded symbols of crash/write_ro from .*/user/user_crash_write_ro\.elf$"],
     [r"Python Exception"]),
    ("user symbol", [r"^crash_inner \+ 4 in section \.text of .*user_crash_write_ro\.elf$",
                     r"^Line 6 of \".*user/crash/write_ro\.c\" starts at address 0x1000[0-9a-f]{3} <crash_inner\+4>"],
     []),
    ("help", [r"^Walk the page tables for a virtual address", r"monitor gva2gpa VA"], []),
]


# --scenario shared: tests/runner/gdb_shared.gdb on test/restricted, stopped in the
# restricted-mode sharer, whose unified aspace has a restricted and a shared part.
SHARED_COMMANDS = os.path.join(HERE, "gdb_shared.gdb")
SHARED_CMDLINE = ["userboot.prefix=test/restricted", "kernel.enable-debugging-syscalls=true"]
SHARED_CHECKS = [
    ("ps", [r"^\*\s*\d+\s+RUNNING\s+1\s+rsharer$", r"^\s+\d+\s+\w+\s+\d+\s+test/restricted$"],
     [r"Python Exception"]),
    ("threads", [r"^\*\s*\d+\s+RUNNING\s+0x[0-9a-f]{16}\s+rsharer \(\d+\)\s+main$",
                 r"^\s+\d+\s+[A-Z]+\s+0x[0-9a-f]{16}\s+test/restricted \(\d+\)\s+Restricted\."],
     [r"Python Exception"]),
    ("vmar", [r"^aspace 'rsharer' \[0x0000000000200000, 0x00007ffffffff000\)",
              r"^  unified aspace, restricted part: aspace 'rsharer' \[0x0000000000200000, 0x0000400000000000\)",
              r"^      mapping \[0x0000000001000000, 0x[0-9a-f]{16}\) r-x ",
              r"^  unified aspace, shared part: aspace '\w+' \[0x0000400000001000, 0x00007ffffffff000\)",
              r"^      mapping \[0x0000[4-7][0-9a-f]{11}, 0x[0-9a-f]{16}\) rw- "],
     [r"Python Exception"]),
    ("walk", [r"-> physical 0x[0-9a-f]+ \(4K page\)$"], [r"Python Exception"]),
    ("qemu walk", [r"^gpa: 0x[0-9a-f]+$"], []),
]


def split_steps(out):
    """gdb's output cut at the `==== STEP` lines: {step: text up to the next marker}."""
    steps = {}
    parts = re.split(r"^==== (.+)$", out, flags=re.MULTILINE)
    for i in range(1, len(parts) - 1, 2):
        steps[parts[i].strip()] = parts[i + 1].strip("\n") + "\n"
    return steps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build-dir", required=True)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--scenario", choices=["walkthrough", "shared"], default="walkthrough")
    p.add_argument("--cmdline-extra", action="append", default=[], metavar="WORD",
                   help="another kernel command line word (e.g. aslr.seed=N to replay a run)")
    args = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="beryl-gdb-test-")
    serial = os.path.join(workdir, "serial.log")
    if args.scenario == "shared":
        commands, cmdline, checks = SHARED_COMMANDS, SHARED_CMDLINE, SHARED_CHECKS
    else:
        commands, cmdline, checks = COMMANDS, CMDLINE, CHECKS
    cmd = [sys.executable, SESSION, "--port", "0", "--batch", commands, "--timeout",
           str(args.timeout), "--build-dir", os.path.abspath(args.build_dir),
           "--serial", serial] + cmdline + args.cmdline_extra
    print("running: " + " ".join(cmd), flush=True)
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=args.timeout + 30, cwd=SRC)
        out, status = proc.stdout.decode(errors="replace"), proc.returncode
        out = out.replace("\r", "")  # QEMU's monitor answers end lines with CR LF
    except subprocess.TimeoutExpired as e:
        out, status = (e.output or b"").decode(errors="replace"), None
    problems = []
    if status != 0:
        problems.append("debug session ended with status %s" % status)
    steps = split_steps(out)
    for step, want, reject in checks:
        text = steps.get(step)
        if text is None:
            problems.append("step %r: no output (gdb stopped before it?)" % step)
            continue
        frames = [l for l in text.splitlines() if l.startswith("#")]
        for rx in want:
            if rx.startswith(LAST_FRAME):
                last = frames[-1] if frames else ""
                if not re.search(rx[len(LAST_FRAME):], last):
                    problems.append("step %r: the last frame %r does not match %r" % (
                        step, last, rx[len(LAST_FRAME):]))
                continue
            if not re.search(rx, text, re.MULTILINE):
                problems.append("step %r: missing %r" % (step, rx))
        for rx in reject:
            if re.search(rx, text, re.MULTILINE):
                problems.append("step %r: unexpected %r" % (step, rx))
    # beryl-walk's physical address is the one QEMU's own walk gives.
    walk, qemu_walk = (("walk", "qemu walk") if args.scenario == "shared" else
                       ("walk rip", "qemu walk rip"))
    m = re.search(r"-> physical (0x[0-9a-f]+)", steps.get(walk, ""))
    q = re.search(r"^gpa: (0x[0-9a-f]+)$", steps.get(qemu_walk, ""), re.MULTILINE)
    if not (m and q and int(m.group(1), 16) == int(q.group(1), 16)):
        problems.append("beryl-walk and `monitor gva2gpa` disagree on the physical address "
                        "(%s vs %s)" % (m and m.group(1), q and q.group(1)))
    # ... and for rip's page, `monitor info tlb` says the same; CR2's page is not there.
    walk_rip = re.search(r"^walk (0x[0-9a-f]+) ", steps.get("walk rip", ""), re.MULTILINE)
    tlb = steps.get("qemu info tlb", "")
    if m and walk_rip:
        page = int(walk_rip.group(1), 16) & ~0xfff
        t = re.search(r"^%016x: ([0-9a-f]{16}) " % page, tlb, re.MULTILINE)
        if not t or int(t.group(1), 16) != int(m.group(1), 16) & ~0xfff:
            problems.append("`monitor info tlb` does not map page 0x%x to beryl-walk's 0x%x" %
                            (page, int(m.group(1), 16) & ~0xfff))
    walk_cr2 = re.search(r"^walk (0x[0-9a-f]+) ", steps.get("walk cr2", ""), re.MULTILINE)
    if walk_cr2 and re.search(r"^%016x: " % (int(walk_cr2.group(1), 16) & ~0xfff), tlb,
                              re.MULTILINE):
        problems.append("`monitor info tlb` maps CR2's page, which beryl-walk found absent")
    if "==== end" not in out:
        problems.append("the command file did not run to its end")
    log = open(serial, errors="replace").read() if os.path.exists(serial) else ""
    shutil.rmtree(workdir, ignore_errors=True)
    if problems:
        print("---- gdb session output ----")
        print(out)
        print("---- end of gdb session output ----")
        print("---- serial log ----")
        print(log)
        print("---- end of serial log ----")
        for pr in problems:
            print("FAIL: " + pr)
        return 1
    print("PASS: %d steps checked" % len(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
