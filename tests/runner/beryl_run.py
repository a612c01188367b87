#!/usr/bin/env python3
"""Boot Beryl in QEMU or Bochs and check what it prints.

  beryl_run.py --iso-root build/isoroot [--cmdline "test=all"] [--emulator qemu|bochs]
               [--memory 128M] [--cpu MODEL] [--bochs-cpus N] [--expect REGEX]...
               [--reject REGEX]...
               [--expect-exit success|failure] [--timeout SECONDS] [--log FILE]
               [--qemu-arg ARG]... [--bochs-command CMD]... [--expect-bochs REGEX]...
               [--show-log] [--show-emulator-output] [--emulator-output-lines N]
               [--emulator-binary PATH] [--send 'REGEX=>TEXT']...

The ISO tree staged by the build is re-packed with the requested kernel command line
(tools/mkiso.py --repack), booted, and the serial log is checked:
  * QEMU ends through isa-debug-exit: status 33 means the kernel reported success, 35
    failure. Any other status (crash, timeout) is a failure of the run.
  * Bochs ends through port 0x8900 and always exits 1, so the kernel's closing line
    "BERYL: exit status=N" in the serial log is the result.
Every --expect regex must match the log and no --reject regex may. Exit status 0 when
all checks pass; the log is printed on failure (and with --show-log). The summary line
names the boot's ASLR seed (the kernel prints it), and a failure says how to replay the
run with it.

The emulator's own output (QEMU's messages on stdout/stderr; Bochs' log, its debugger's
prompts and answers to --bochs-command, its terminal display) is printed after the
failure lines whenever a check fails, and on a passing run with --show-emulator-output;
only its last --emulator-output-lines lines (0: all of it). Bochs is always started with
TERM=dumb: its headless "term" display stops with "Error opening terminal: unknown"
without a terminal type it knows. --emulator-binary runs another program in the
emulator's place (the runner's own tests use a stand-in).

--send 'REGEX=>TEXT' (QEMU only; repeatable, in order) types into the serial line: the
runner waits until REGEX matches the serial log after the end of the previous --send's
match, then writes TEXT and a carriage return to the serial input. Named groups of a
match, (?P<name>...), are captured: a later {name} in a --send's TEXT or REGEX, or in an
--expect or --reject, is replaced by the captured text (escaped in a regex). With --send
QEMU's serial port is its stdio (the runner copies its output to the log as it comes),
so QEMU's own output is its stderr. The --timeout covers the whole run, waits included.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
MKISO = os.path.join(SRC, "tools", "mkiso.py")
BOCHSRC = os.path.join(SRC, "tools", "bochsrc.in")
QEMU_SUCCESS = 33
QEMU_FAILURE = 35
EXIT_LINE = re.compile(r"BERYL: exit status=(\d+)")
ASLR_SEED_LINE = re.compile(r"^aslr: seed (0x[0-9a-f]+) \(([^)]*)\)", re.MULTILINE)
# How much of the emulator's output a failure shows, by default: the end of it, where a
# crash, a hang or a debugger answer is.
EMULATOR_OUTPUT_LINES = 200
EMULATOR_NAMES = {"qemu": "QEMU's", "bochs": "Bochs'"}
# --send REGEX=>TEXT: the separator, and a reference to a capture ({name}).
SEND_SEPARATOR = "=>"
CAPTURE_REF = re.compile(r"\{(\w+)\}")
# How often a --send wait looks at the log when nothing new has arrived.
SEND_POLL_SECONDS = 0.5
# How long the threads that copy the emulator's output get to finish after it ended.
PUMP_JOIN_SECONDS = 5
# Terminal control sequences and other control characters (curses drawing, if any reaches
# the output), removed when the output is shown; --expect-bochs sees it as it came.
TERMINAL_CONTROL = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])|[\x00-\x08\x0b-\x1f\x7f]")


def make_iso(iso_root, cmdline, workdir):
    iso = os.path.join(workdir, "beryl.iso")
    subprocess.run([sys.executable, MKISO, "--repack", iso_root, "--cmdline", cmdline,
                    "--output", iso], check=True)
    return iso


def run_emulator(cmd, timeout, **kwargs):
    """Runs the emulator command to its end or for at most `timeout` seconds.

    Returns (exit status, or None when it was killed at the timeout; everything it wrote
    to stdout and stderr, as text, also when it timed out)."""
    try:
        proc = subprocess.run(cmd, timeout=timeout, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, **kwargs)
    except subprocess.TimeoutExpired as e:
        return None, (e.output or b"").decode(errors="replace")
    return proc.returncode, proc.stdout.decode(errors="replace")


def substitute(template, captures, in_regex):
    """template with each {name} of a captured group replaced by its text (escaped when
    the template is a regex); other braces, such as a regex's {16}, stay."""
    def replace(m):
        if m.group(1) not in captures:
            return m.group(0)
        value = captures[m.group(1)]
        return re.escape(value) if in_regex else value
    return CAPTURE_REF.sub(replace, template)


def parse_send(spec):
    """(REGEX, TEXT) of a --send 'REGEX=>TEXT' (split at the first separator)."""
    rx, sep, text = spec.partition(SEND_SEPARATOR)
    if not sep:
        raise argparse.ArgumentTypeError("--send wants REGEX%sTEXT, got %r" %
                                         (SEND_SEPARATOR, spec))
    re.compile(rx)
    return rx, text


class SerialPump:
    """Copies what the emulator writes to its serial port (its stdout) into the log file
    as it arrives and keeps it in memory for the --send waits."""

    def __init__(self, stream, log):
        self.cond = threading.Condition()
        self.data = bytearray()
        self.ended = False
        self.thread = threading.Thread(target=self._run, args=(stream, log), daemon=True)
        self.thread.start()

    def _run(self, stream, log):
        with open(log, "wb") as f:
            while True:
                chunk = os.read(stream.fileno(), 4096)
                if not chunk:
                    break
                f.write(chunk)
                f.flush()
                with self.cond:
                    self.data.extend(chunk)
                    self.cond.notify_all()
        with self.cond:
            self.ended = True
            self.cond.notify_all()

    def wait_for(self, pattern, start, deadline):
        """(the first match of pattern in the serial text from offset start on, "") or,
        when the emulator's output ended or the deadline passed first, (None, which)."""
        with self.cond:
            while True:
                # latin-1: one character per byte, so offsets stay put as data grows.
                m = pattern.search(self.data.decode("latin-1"), start)
                if m:
                    return m, ""
                if self.ended:
                    return None, "the serial output ended"
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, "timed out"
                self.cond.wait(min(left, SEND_POLL_SECONDS))


def read_all(stream, into):
    """Appends everything stream gives to the bytearray `into` (a pump thread)."""
    while True:
        chunk = os.read(stream.fileno(), 4096)
        if not chunk:
            return
        into.extend(chunk)


def run_interactive(cmd, log, args):
    """Runs the emulator with its serial port on stdio and plays the --send pairs.

    Returns (exit status or None, why not (a --send that never matched, a timeout),
    the emulator's own output (stderr)). The captures go to args.captures."""
    deadline = time.monotonic() + args.timeout
    # A session of its own, so that a timeout also kills what it started (./beryl run
    # starts QEMU as a child).
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    serial = SerialPump(proc.stdout, log)
    own = bytearray()
    own_thread = threading.Thread(target=read_all, args=(proc.stderr, own), daemon=True)
    own_thread.start()
    why = ""
    start = 0
    for n, (rx, text) in enumerate(args.send, start=1):
        pattern = re.compile(substitute(rx, args.captures, True), re.MULTILINE)
        m, failure = serial.wait_for(pattern, start, deadline)
        if not m:
            why = "%s before --send #%d matched: %r" % (failure, n, pattern.pattern)
            break
        start = m.end()
        args.captures.update({k: v for k, v in m.groupdict().items() if v is not None})
        try:
            proc.stdin.write((substitute(text, args.captures, False) + "\r").encode())
            proc.stdin.flush()
        except BrokenPipeError:
            why = "the emulator stopped reading its input at --send #%d" % n
            break
    status = None
    if not why:
        try:
            status = proc.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            why = "timed out after %ss" % args.timeout
    if status is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    try:
        proc.stdin.close()
    except BrokenPipeError:
        pass
    serial.thread.join(PUMP_JOIN_SECONDS)
    own_thread.join(PUMP_JOIN_SECONDS)
    return status, why, bytes(own).decode(errors="replace")


def run_qemu(iso, log, args):
    """Boots the ISO in QEMU; returns (outcome or None, why not, QEMU's own output)."""
    serial = ["-serial", "stdio"] if args.send else ["-serial", "file:" + log]
    cmd = [args.emulator_binary or "qemu-system-x86_64", "-M", "pc", "-cpu", args.cpu,
           "-m", args.memory, "-display", "none", "-monitor", "none", "-no-reboot"] + serial + [
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-cdrom", iso, "-boot", "d"] + args.qemu_arg
    if args.send:
        status, why, output = run_interactive(cmd, log, args)
        if why:
            return None, why + " (the serial log and QEMU's output are below)", output
    else:
        status, output = run_emulator(cmd, args.timeout)
    if status is None:
        return None, "timed out after %ss" % args.timeout, output
    if status == QEMU_SUCCESS:
        return "success", "", output
    if status == QEMU_FAILURE:
        return "failure", "", output
    return None, "qemu exited with status %d (its output is below)" % status, output


def write_bochsrc(path, iso, log, memory, cpus=1):
    """Writes a Bochs configuration from tools/bochsrc.in to path: boot iso, serial
    console to the file log, memory like "128M" or "1G", `cpus` CPUs (its `cpu: count=`).
    (tools/bochs_debug.py, behind `./beryl bochs`, uses it too.)"""
    with open(BOCHSRC) as f:
        text = f.read()
    text = re.sub(r"\bcount=\d+", "count=%d" % cpus, text, count=1)
    mem_mb = int(memory.rstrip("MmGg")) * (1024 if memory[-1] in "Gg" else 1)
    text = text.replace("@ISO@", iso).replace("@SERIAL_LOG@", log).replace("@MEGS@", str(mem_mb))
    with open(path, "w") as f:
        f.write(text)


def run_bochs(iso, log, args, workdir):
    """Boots the ISO in Bochs; returns (outcome or None, why not, Bochs' own output)."""
    rc = os.path.join(workdir, "bochsrc")
    write_bochsrc(rc, iso, log, args.memory, args.bochs_cpus)
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
    # may have no TERM at all ("Error opening terminal: unknown").
    env = dict(os.environ, TERM="dumb")
    with open(os.devnull) as devnull:
        status, output = run_emulator([args.emulator_binary or "bochs", "-q", "-f", rc,
                                       "-rc", cmds], args.timeout, stdin=devnull,
                                      cwd=workdir, env=env)
    args.bochs_output = output
    if status is None:
        return None, "timed out after %ss" % args.timeout, output
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    m = EXIT_LINE.search(text)
    if not m:
        return None, "bochs ended (status %d) without an exit line (its output is below)" % (
            status), output
    return ("success" if m.group(1) == "0" else "failure"), "", output


def print_emulator_output(name, output, max_lines):
    """Prints the emulator's output between delimiter lines: the last `max_lines` lines
    (all when 0), without terminal control sequences."""
    lines = TERMINAL_CONTROL.sub("", output.replace("\r\n", "\n")).splitlines()
    shown = lines[-max_lines:] if max_lines > 0 else lines
    if len(shown) < len(lines):
        what = "last %d of %d lines" % (len(shown), len(lines))
    else:
        what = "%d lines" % len(lines)
    owner = EMULATOR_NAMES[name]
    print("---- %s own output (%s) ----" % (owner, what))
    for line in shown:
        print(line)
    print("---- end of %s own output ----" % owner)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iso-root", required=True)
    p.add_argument("--cmdline", default="")
    p.add_argument("--emulator", choices=["qemu", "bochs"], default="qemu")
    p.add_argument("--memory", default="128M")
    p.add_argument("--cpu", default="max", help="QEMU CPU model")
    p.add_argument("--bochs-cpus", type=int, default=1, metavar="N",
                   help="Bochs CPU count (its cpu: count=); QEMU takes --qemu-arg=-smp --qemu-arg=N")
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
    p.add_argument("--show-log", action="store_true",
                   help="print the serial log also when every check passes")
    p.add_argument("--show-emulator-output", action="store_true",
                   help="print the emulator's own output also when every check passes")
    p.add_argument("--emulator-output-lines", type=int, default=EMULATOR_OUTPUT_LINES,
                   metavar="N", help="print at most the last N lines of the emulator's "
                   "output (0: all; default %(default)s)")
    p.add_argument("--emulator-binary", metavar="PATH",
                   help="run PATH instead of qemu-system-x86_64 or bochs")
    p.add_argument("--send", action="append", default=[], type=parse_send,
                   metavar="'REGEX=>TEXT'",
                   help="QEMU: once REGEX matches the serial log (after the previous "
                   "--send's match), type TEXT and a carriage return on the serial line; "
                   "{name} in later arguments is the text of a group (?P<name>...)")
    args = p.parse_args()
    if args.send and args.emulator != "qemu":
        p.error("--send works with QEMU only")
    args.captures = {}

    workdir = tempfile.mkdtemp(prefix="beryl-run-")
    try:
        iso = make_iso(args.iso_root, args.cmdline, workdir)
        log = args.log or os.path.join(workdir, "serial.log")
        if os.path.exists(log):
            os.remove(log)
        start = time.monotonic()
        if args.emulator == "qemu":
            outcome, why, emulator_output = run_qemu(iso, log, args)
        else:
            outcome, why, emulator_output = run_bochs(iso, log, args, workdir)
        elapsed = time.monotonic() - start
        text = open(log, errors="replace").read() if os.path.exists(log) else ""

        problems = []
        if outcome is None:
            problems.append(why)
        elif outcome != args.expect_exit:
            problems.append("kernel reported %s, expected %s" % (outcome, args.expect_exit))
        args.expect = [substitute(rx, args.captures, True) for rx in args.expect]
        args.reject = [substitute(rx, args.captures, True) for rx in args.reject]
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
        if problems or args.show_log:
            print("---- serial log ----")
            print(text)
            print("---- end of serial log ----")
        if problems:
            for pr in problems:
                print("FAIL: " + pr)
            if seed:
                # The same seed on the same command line replays every placement.
                replay = " ".join(t for t in args.cmdline.split()
                                  if not t.startswith("aslr.seed="))
                print("FAIL: replay with --cmdline %r" %
                      ("%s aslr.seed=%s" % (replay, seed.group(1))).strip())
            print_emulator_output(args.emulator, emulator_output, args.emulator_output_lines)
            return 1
        for line in text.splitlines():
            if re.match(r"^\d+ passed, \d+ failed$", line):
                print("kernel: " + line)
        if args.show_emulator_output:
            print_emulator_output(args.emulator, emulator_output, args.emulator_output_lines)
        print("PASS")
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
