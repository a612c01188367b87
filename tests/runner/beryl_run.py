#!/usr/bin/env python3
"""Boot Beryl in QEMU or Bochs and check what it prints.

  beryl_run.py --iso-root build/isoroot [--cmdline "test=all"] [--emulator qemu|bochs]
               [--memory 128M] [--cpu MODEL] [--expect REGEX]... [--reject REGEX]...
               [--expect-exit success|failure] [--timeout SECONDS] [--log FILE]
               [--qemu-arg ARG]...

The ISO tree staged by the build is re-packed with the requested kernel command line
(tools/mkiso.py --repack), booted, and the serial log is checked:
  * QEMU ends through isa-debug-exit: status 33 means the kernel reported success, 35
    failure. Any other status (crash, timeout) is a failure of the run.
  * Bochs ends through port 0x8900 and always exits 1, so the kernel's closing line
    "BERYL: exit status=N" in the serial log is the result.
Every --expect regex must match the log and no --reject regex may. Exit status 0 when
all checks pass; the log is printed on failure. The summary line names the boot's ASLR
seed (the kernel prints it), and a failure says how to replay the run with it.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
MKISO = os.path.join(SRC, "tools", "mkiso.py")
BOCHSRC = os.path.join(SRC, "tools", "bochsrc.in")
QEMU_SUCCESS = 33
QEMU_FAILURE = 35
EXIT_LINE = re.compile(r"BERYL: exit status=(\d+)")
ASLR_SEED_LINE = re.compile(r"^aslr: seed (0x[0-9a-f]+) \(([^)]*)\)", re.MULTILINE)


def make_iso(iso_root, cmdline, workdir):
    iso = os.path.join(workdir, "beryl.iso")
    subprocess.run([sys.executable, MKISO, "--repack", iso_root, "--cmdline", cmdline,
                    "--output", iso], check=True)
    return iso


def run_qemu(iso, log, args):
    cmd = ["qemu-system-x86_64", "-M", "pc", "-cpu", args.cpu, "-m", args.memory,
           "-display", "none", "-monitor", "none", "-no-reboot",
           "-serial", "file:" + log,
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-cdrom", iso, "-boot", "d"] + args.qemu_arg
    try:
        proc = subprocess.run(cmd, timeout=args.timeout, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    except subprocess.TimeoutExpired:
        return None, "timed out after %ss" % args.timeout
    if proc.returncode == QEMU_SUCCESS:
        return "success", ""
    if proc.returncode == QEMU_FAILURE:
        return "failure", ""
    return None, "qemu exited with status %d: %s" % (proc.returncode, proc.stdout.strip())


def run_bochs(iso, log, args, workdir):
    rc = os.path.join(workdir, "bochsrc")
    with open(BOCHSRC) as f:
        text = f.read()
    mem_mb = int(args.memory.rstrip("MmGg")) * (1024 if args.memory[-1] in "Gg" else 1)
    text = text.replace("@ISO@", iso).replace("@SERIAL_LOG@", log).replace("@MEGS@", str(mem_mb))
    with open(rc, "w") as f:
        f.write(text)
    cmds = os.path.join(workdir, "bochs.cmds")
    with open(cmds, "w") as f:
        # Continue to the first magic breakpoint (or the end), run the requested debugger
        # commands there, then continue to the end.
        f.write("c\n")
        for c in args.bochs_command:
            f.write(c + "\n")
        if args.bochs_command:
            f.write("c\n")
    # The "term" display needs a terminal type it knows, even with nobody watching; CI
    # may have no TERM at all.
    env = dict(os.environ, TERM="dumb")
    try:
        with open(os.devnull) as devnull:
            proc = subprocess.run(["bochs", "-q", "-f", rc, "-rc", cmds], stdin=devnull,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=args.timeout, cwd=workdir, env=env)
    except subprocess.TimeoutExpired:
        return None, "timed out after %ss" % args.timeout
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    args.bochs_output = proc.stdout.decode(errors="replace")
    m = EXIT_LINE.search(text)
    if not m:
        tail = proc.stdout.decode(errors="replace")[-2000:]
        return None, "bochs ended (status %d) without an exit line; bochs said:\n%s" % (
            proc.returncode, tail)
    return ("success" if m.group(1) == "0" else "failure"), ""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iso-root", required=True)
    p.add_argument("--cmdline", default="")
    p.add_argument("--emulator", choices=["qemu", "bochs"], default="qemu")
    p.add_argument("--memory", default="128M")
    p.add_argument("--cpu", default="max", help="QEMU CPU model")
    p.add_argument("--expect", action="append", default=[])
    p.add_argument("--reject", action="append", default=[])
    p.add_argument("--expect-exit", choices=["success", "failure"], default="success")
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--log")
    p.add_argument("--qemu-arg", action="append", default=[])
    p.add_argument("--bochs-command", action="append", default=[],
                   help="Bochs debugger command to run at the first magic breakpoint")
    p.add_argument("--expect-bochs", action="append", default=[],
                   help="regex that Bochs' own output (debugger) must match")
    args = p.parse_args()

    workdir = tempfile.mkdtemp(prefix="beryl-run-")
    try:
        iso = make_iso(args.iso_root, args.cmdline, workdir)
        log = args.log or os.path.join(workdir, "serial.log")
        if os.path.exists(log):
            os.remove(log)
        start = time.monotonic()
        if args.emulator == "qemu":
            outcome, why = run_qemu(iso, log, args)
        else:
            outcome, why = run_bochs(iso, log, args, workdir)
        elapsed = time.monotonic() - start
        text = open(log, errors="replace").read() if os.path.exists(log) else ""

        problems = []
        if outcome is None:
            problems.append(why)
        elif outcome != args.expect_exit:
            problems.append("kernel reported %s, expected %s" % (outcome, args.expect_exit))
        for rx in args.expect:
            if not re.search(rx, text, re.MULTILINE):
                problems.append("missing expected output: %r" % rx)
        for rx in args.expect_bochs:
            if not re.search(rx, getattr(args, "bochs_output", ""), re.MULTILINE):
                problems.append("missing expected Bochs output: %r" % rx)
        for rx in args.reject:
            if re.search(rx, text, re.MULTILINE):
                problems.append("unexpected output: %r" % rx)

        seed = ASLR_SEED_LINE.search(text)
        print("%s: cmdline %r, memory %s, %s: %s in %.2f s wall" % (
            args.emulator, args.cmdline, args.memory,
            "aslr seed %s (%s)" % seed.groups() if seed else "no aslr seed printed",
            outcome or "no result", elapsed))
        if problems:
            print("---- serial log ----")
            print(text)
            print("---- end of serial log ----")
            for pr in problems:
                print("FAIL: " + pr)
            if seed:
                # The same seed on the same command line replays every placement.
                replay = " ".join(t for t in args.cmdline.split()
                                  if not t.startswith("aslr.seed="))
                print("FAIL: replay with --cmdline %r" %
                      ("%s aslr.seed=%s" % (replay, seed.group(1))).strip())
            return 1
        for line in text.splitlines():
            if re.match(r"^\d+ passed, \d+ failed$", line):
                print("kernel: " + line)
        print("PASS")
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
