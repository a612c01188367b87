#!/usr/bin/env python3
"""Drive a command whose standard output and input are Beryl's serial line.

  drive_console.py [--timeout SECONDS] [--send 'REGEX=>TEXT']... [--expect REGEX]...
                   [--expect-status N] -- COMMAND [ARG...]

For the documented interactive commands, such as `./beryl run --cmdline "..."` with the
kernel debug console (docs/debugging.md): COMMAND runs with its stdout read as the serial
log and the --send pairs typed into its stdin exactly as beryl_run.py --send does (same
matching, captures and {name} references). Passes (exit 0) when every --send matched,
COMMAND ended with --expect-status (default 0) within --timeout, and every --expect
matches the output; otherwise prints the output, COMMAND's stderr and the failures, and
exits 1.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import beryl_run  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--send", action="append", default=[], type=beryl_run.parse_send)
    p.add_argument("--expect", action="append", default=[])
    p.add_argument("--expect-status", type=int, default=0)
    p.add_argument("command", nargs="+")
    args = p.parse_args()
    args.captures = {}

    workdir = tempfile.mkdtemp(prefix="beryl-drive-")
    try:
        log = os.path.join(workdir, "output.log")
        status, why, stderr = beryl_run.run_interactive(args.command, log, args)
        text = open(log, errors="replace").read() if os.path.exists(log) else ""
        problems = [why] if why else []
        if not why and status != args.expect_status:
            problems.append("%s ended with status %s, expected %d" %
                            (args.command[0], status, args.expect_status))
        for rx in args.expect:
            rx = beryl_run.substitute(rx, args.captures, True)
            if not re.search(rx, text, re.MULTILINE):
                problems.append("missing expected output: %r" % rx)
        if problems:
            print("---- output ----\n%s\n---- end of output ----" % text)
            print("---- stderr ----\n%s\n---- end of stderr ----" % stderr)
            for pr in problems:
                print("FAIL: " + pr)
            return 1
        print("PASS")
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
