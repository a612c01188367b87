#!/usr/bin/env python3
"""Boot a built Beryl in Bochs' debugger with the build's symbol files loaded.

  bochs_debug.py [--build-dir build] [--program NAME] [--stop-at-reset]
                 [--batch FILE [--output FILE] [--expect REGEX]... [--reject REGEX]...
                  [--expect-serial REGEX]... [--show-serial] [--timeout SECONDS]]
                 [--work-dir DIR] [--memory 128M] [kernel command line words...]

`./beryl bochs ARGS` builds and then runs this with ARGS (docs/debugging.md, "Bochs").
The staged ISO tree is repacked with the ISO's own command line (the build's
generated/cmdline.cfg) followed by the words given, a bochsrc is written from
tools/bochsrc.in, and Bochs starts with a debugger command file (-rc) that loads, with
`ldsym global`, the kernel's symbol file (bochs-syms/kernel.sym) and one user program's
(bochs-syms/NAME.sym): the one --program names, or else the one userboot.prefix= names
exactly, if any. User programs are all linked at the same address, so only one can be
loaded; global symbols name addresses in every address space, so they are right only
while that program runs. The command file then continues (`c`) to the first stop: a
debug.break= stop, or dump.aspace=kernel's; --stop-at-reset leaves the prompt at the
first instruction instead.

Interactive (no --batch): Bochs replaces this process, on this terminal, with its
<bochs:N> prompt; the kernel's serial console goes to WORK_DIR/serial.log. TERM is set
to "dumb" when unset (Bochs' headless "term" display stops with "Error opening
terminal: unknown" without one).

--batch FILE: for scripts and CI, the same boot with FILE's debugger commands run at the
first stop, stdin closed (Bochs quits when the commands run out) and TERM=dumb. Bochs'
own output is saved (--output, default WORK_DIR/bochs.out) and printed; every --expect
regex must match it and no --reject regex may; every --expect-serial regex must match
the serial log. A failed ldsym or a command Bochs cannot parse fails the run too.
Exit status 0 when all hold; on a failure the serial log is printed as well.
"""
import argparse
import os
import re
import shlex
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "runner"))
import beryl_run  # noqa: E402  (make_iso, write_bochsrc, run_emulator, TERMINAL_CONTROL)

ISO_CMDLINE = re.compile(r'^set beryl_cmdline="(.*)"$', re.MULTILINE)
PREFIX_WORD = re.compile(r"^userboot\.prefix=(.+)$")
# What Bochs prints when an ldsym fails (cannot open, bad line).
LDSYM_FAILURE = re.compile(
    r"^(Could not open symbol file|.*: (missing symbol name|syntax error near))", re.MULTILINE)
# What Bochs prints when a command of the -rc file fails to parse (it then quits).
COMMAND_FILE_ERROR = "ERROR in source file causes exit"
DEFAULT_TIMEOUT = 170


def iso_cmdline(build_dir):
    """The command line the build baked into beryl.iso (empty if none)."""
    path = os.path.join(build_dir, "generated", "cmdline.cfg")
    with open(path) as f:
        m = ISO_CMDLINE.search(f.read())
    return m.group(1) if m else ""


def symbol_files(build_dir, program, words):
    """The symbol files to load: the kernel's, then the chosen program's. Returns
    (paths, program name or None, a note for the user or None)."""
    syms_dir = os.path.join(build_dir, "bochs-syms")
    kernel = os.path.join(syms_dir, "kernel.sym")
    if not os.path.exists(kernel):
        raise SystemExit("bochs_debug: %s is missing (build first: ./beryl bochs builds)" % kernel)
    if program is None:
        for w in words:
            m = PREFIX_WORD.match(w)
            if m and os.path.exists(os.path.join(syms_dir, m.group(1) + ".sym")):
                program = m.group(1)
        if program is None:
            return [kernel], None, ("no user program's symbols loaded (--program NAME loads "
                                    "bochs-syms/NAME.sym)")
    path = os.path.join(syms_dir, program + ".sym")
    if not os.path.exists(path):
        known = sorted(os.path.relpath(os.path.join(d, f), syms_dir)[:-len(".sym")]
                       for d, _, files in os.walk(syms_dir) for f in files
                       if f.endswith(".sym") and f != "kernel.sym")
        raise SystemExit("bochs_debug: no user program %r (no %s); the programs: %s" % (
            program, path, " ".join(known)))
    return [kernel, path], program, None


def write_commands(path, syms, stop_at_reset, batch):
    """The debugger command file: ldsym each symbol file, continue to the first stop
    (unless stop_at_reset), then the batch file's commands, if any."""
    lines = ['ldsym global "%s"' % os.path.abspath(s) for s in syms]
    if not stop_at_reset:
        lines.append("c")
    if batch:
        with open(batch) as f:
            lines += [line.rstrip("\n") for line in f]
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))


def shown(path):
    """path as the user would type it: relative to the current directory when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def check_batch(args, output, serial):
    """The batch mode's checks; returns the list of failures."""
    problems = []
    if output is None:
        problems.append("bochs timed out after %ss" % args.timeout)
        return problems
    for m in LDSYM_FAILURE.finditer(output):
        problems.append("a symbol file did not load: %r" % m.group(0))
    if COMMAND_FILE_ERROR in output:
        problems.append("Bochs stopped at a bad debugger command (%r)" % COMMAND_FILE_ERROR)
    for rx in args.expect:
        if not re.search(rx, output, re.MULTILINE):
            problems.append("missing expected Bochs output: %r" % rx)
    for rx in args.reject:
        if re.search(rx, output, re.MULTILINE):
            problems.append("unexpected Bochs output: %r" % rx)
    for rx in args.expect_serial:
        if not re.search(rx, serial, re.MULTILINE):
            problems.append("missing expected serial output: %r" % rx)
    return problems


def main():
    p = argparse.ArgumentParser(
        description="Boot Beryl in Bochs' debugger with the kernel's and a user program's "
        "symbols loaded (docs/debugging.md, \"Bochs\").")
    p.add_argument("--build-dir", default=os.path.join(SRC, "build"))
    p.add_argument("--program", metavar="NAME",
                   help="load this user program's symbols (default: userboot.prefix=NAME's)")
    p.add_argument("--stop-at-reset", action="store_true",
                   help="prompt at the first instruction instead of the first stop")
    p.add_argument("--batch", metavar="FILE", help="run FILE's debugger commands at the "
                   "first stop, non-interactively")
    p.add_argument("--output", metavar="FILE", help="batch: save Bochs' output here")
    p.add_argument("--expect", action="append", default=[], metavar="REGEX",
                   help="batch: Bochs' output must match")
    p.add_argument("--reject", action="append", default=[], metavar="REGEX",
                   help="batch: Bochs' output must not match")
    p.add_argument("--expect-serial", action="append", default=[], metavar="REGEX",
                   help="batch: the serial log must match")
    p.add_argument("--show-serial", action="store_true",
                   help="batch: print the serial log also when every check passes")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help="batch: stop Bochs after this many seconds")
    p.add_argument("--work-dir", metavar="DIR",
                   help="where the ISO, bochsrc, commands and serial log go "
                   "(default BUILD_DIR/bochs-run)")
    p.add_argument("--memory", default="128M")
    p.add_argument("words", nargs="*", metavar="WORD", help="kernel command line words")
    args = p.parse_intermixed_args()

    build_dir = os.path.abspath(args.build_dir)
    work = os.path.abspath(args.work_dir or os.path.join(build_dir, "bochs-run"))
    os.makedirs(work, exist_ok=True)
    cmdline = " ".join([iso_cmdline(build_dir)] + args.words).strip()
    syms, program, note = symbol_files(build_dir, args.program, args.words)

    iso = beryl_run.make_iso(os.path.join(build_dir, "isoroot"), cmdline, work)
    serial = os.path.join(work, "serial.log")
    if os.path.exists(serial):
        os.remove(serial)
    rc = os.path.join(work, "bochsrc")
    beryl_run.write_bochsrc(rc, iso, serial, args.memory)
    cmds = os.path.join(work, "bochs.cmds")
    write_commands(cmds, syms, args.stop_at_reset, args.batch)
    bochs = ["bochs", "-q", "-f", rc, "-rc", cmds]

    say = lambda msg: print("beryl bochs: " + msg, flush=True)  # noqa: E731
    say("kernel command line: %s" % cmdline)
    say("symbols: %s%s" % (", ".join(shown(s) for s in syms),
                           " (user program %s)" % program if program else ""))
    if note:
        say(note)
    say("serial console: %s (tail -f it in another terminal)" % shown(serial))
    say("debugger commands: %s; %s" % (shown(cmds), " ".join(map(shlex.quote, bochs))))

    if not args.batch:
        say("the prompt comes at the %s; c continues, q quits" % (
            "first instruction" if args.stop_at_reset else
            "first stop (debug.break=...; Ctrl-C stops Bochs if none comes)"))
        env = dict(os.environ)
        if not env.get("TERM"):
            env["TERM"] = "dumb"
        # Bochs takes this process's place: Ctrl-C, which the terminal sends to the whole
        # foreground group, then reaches only Bochs (its debugger stops at a prompt).
        os.chdir(work)
        os.execvpe(bochs[0], bochs, env)

    env = dict(os.environ, TERM="dumb")
    with open(os.devnull) as devnull:
        status, output = beryl_run.run_emulator(bochs, args.timeout, stdin=devnull, cwd=work,
                                                env=env)
    out_path = os.path.abspath(args.output or os.path.join(work, "bochs.out"))
    with open(out_path, "w") as f:
        f.write(output)
    text = open(serial, errors="replace").read() if os.path.exists(serial) else ""
    problems = check_batch(args, None if status is None else output, text)
    clean = beryl_run.TERMINAL_CONTROL.sub("", output.replace("\r\n", "\n"))
    print("---- Bochs' own output (%s) ----" % shown(out_path))
    print(clean.rstrip("\n"))
    print("---- end of Bochs' own output ----")
    if problems or args.show_serial:
        print("---- serial log (%s) ----" % shown(serial))
        print(text.rstrip("\n"))
        print("---- end of serial log ----")
    for pr in problems:
        print("FAIL: " + pr)
    if problems:
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
