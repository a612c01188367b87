#!/usr/bin/env python3
"""Check that aslr.seed=N replays a program's placements (docs/architecture.md, ASLR seeds).

  aslr_replay.py --iso-root build/isoroot --program test/vmar_aslr --after-prefix test/vmar_a
                 --seed A --other-seed B [--cmdline-extra "SWITCHES"]

Boots (through beryl_run.py) the program alone with seed A twice, then with a
userboot.prefix that runs another program before it (seed A), then alone with seed B,
and compares the "aslr-probe: WHAT ADDRESS" lines it prints: every boot with seed A must
print the same addresses, and seed B a different address on every line. --cmdline-extra
goes on every boot's command line (the suite passes kernel.enable-debugging-syscalls=true,
which the programs' probes need).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "beryl_run.py")
PROBE = re.compile(r"^aslr-probe: (.*) (0x[0-9a-f]+)$", re.MULTILINE)
SUITE_OK = r"userboot: [1-9][0-9]* passed, 0 failed"


def boot(args, cmdline, extra_expect, workdir, tag):
    """Boots once; returns the {what: address} probes (exits on a failed boot)."""
    log = os.path.join(workdir, tag + ".log")
    cmdline = (cmdline + " " + args.cmdline_extra).strip()
    cmd = [sys.executable, RUNNER, "--iso-root", args.iso_root, "--cmdline", cmdline,
           "--log", log, "--expect", SUITE_OK, "--reject", "LEAK", "--reject", "KERNEL PANIC"]
    for rx in extra_expect:
        cmd += ["--expect", rx]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(proc.stdout.splitlines()[0] if proc.stdout else "(no runner output)")
    if proc.returncode != 0:
        print(proc.stdout)
        sys.exit("FAIL: boot %r failed" % cmdline)
    probes = dict(PROBE.findall(open(log, errors="replace").read()))
    if not probes:
        sys.exit("FAIL: boot %r printed no aslr-probe lines" % cmdline)
    for what, addr in sorted(probes.items()):
        print("  %s: %s" % (what, addr))
    return probes


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iso-root", required=True)
    p.add_argument("--program", required=True, help="the probe program's module name")
    p.add_argument("--after-prefix", required=True,
                   help="a userboot.prefix that runs another program before the probe")
    p.add_argument("--seed", required=True)
    p.add_argument("--other-seed", required=True)
    p.add_argument("--cmdline-extra", default="", help="switches added to every boot")
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="beryl-aslr-") as workdir:
        alone = "userboot.prefix=%s aslr.seed=%s" % (args.program, args.seed)
        first = boot(args, alone, [], workdir, "first")
        again = boot(args, alone, [], workdir, "again")
        after = boot(args, "userboot.prefix=%s aslr.seed=%s" % (args.after_prefix, args.seed),
                     [r"userboot: ([2-9]|[1-9][0-9]+) test programs"], workdir, "after")
        other = boot(args, "userboot.prefix=%s aslr.seed=%s" % (args.program, args.other_seed),
                     [], workdir, "other")

    problems = []
    if again != first:
        problems.append("the same seed gave other placements: %s vs %s" % (first, again))
    if after != first:
        problems.append("another program run first changed the placements: %s vs %s" %
                        (first, after))
    if set(other) != set(first):
        problems.append("seed %s printed other probes: %s" % (args.other_seed, sorted(other)))
    else:
        same = [w for w in first if other[w] == first[w]]
        if same:
            problems.append("seed %s placed %s at the same address as seed %s" %
                            (args.other_seed, ", ".join(same), args.seed))
    for pr in problems:
        print("FAIL: " + pr)
    if problems:
        return 1
    print("PASS: seed %s replays %d placements; seed %s moves every one" %
          (args.seed, len(first), args.other_seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
