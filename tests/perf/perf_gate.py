#!/usr/bin/env python3
"""The performance gate: boot the benchmarks under QEMU -icount, compare with a baseline.

  perf_gate.py --iso-root build/isoroot [--baseline FILE] [--threshold PERCENT]
               [--log-dir DIR] [--from-logs DIR] [--update]
  perf_gate.py --check-reason [--baseline FILE]

Under `-icount shift=0,align=off,sleep=off` every figure a benchmark prints is a count of
guest instructions, and with one CPU and a fixed ASLR seed the same tree prints the same
counts on every boot (docs/benchmarks.md, "Performance gate"). The gate boots the
configurations in BOOTS one after the other through tests/runner/beryl_run.py, reads every
"bench: ... N instructions" line, and compares each figure, in instructions per unit, with
the checked-in baseline (tests/perf/baseline.txt):

  * a figure more than --threshold percent (default 3) above its baseline fails the gate
    (a few figures named in WIDER_THRESHOLD, with the reason, have a wider limit);
  * a baseline figure that no boot printed fails the gate;
  * a figure below its baseline, and a figure the baseline does not have, are reported
    and do not fail;
  * every run prints the table: benchmark, unit, baseline, now, change.

--update boots the same configurations and rewrites the baseline with what they print
(the old table is printed first, for the commit message). --from-logs DIR reads
DIR/<boot>.log instead of booting (the gate's own tests use it). --log-dir keeps each
boot's serial log there, and the table as table.txt.

--check-reason checks the rule that goes with a baseline update: the last commit that
changed the baseline file has a line "Baseline: <reason>" in its message. It needs the
git history; without git, outside a git checkout, in a shallow clone (where the oldest
commit seems to add every file) or before the baseline was ever committed, it prints
why and exits with SKIP (77), which ctest reports as skipped.

Exit status: 0 passed, 1 failed (a regression, a missing figure, a boot that failed,
icount not in effect), 2 usage or baseline-format errors, 77 skipped (--check-reason).
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
RUNNER = os.path.join(SRC, "tests", "runner", "beryl_run.py")
DEFAULT_BASELINE = os.path.join(HERE, "baseline.txt")
DEFAULT_THRESHOLD = 3.0
SKIP = 77

# One fixed machine for every boot: a single CPU (with several, QEMU runs the vCPUs
# round robin under icount, and their interleaving, hence the figures, differ from boot
# to boot),
# the instruction-counting clock, and one ASLR seed (placement moves some figures by up
# to about 1% from seed to seed; with one seed they are identical from boot to boot).
ASLR_SEED = "0x5eed"
ICOUNT = ["--qemu-arg=-icount", "--qemu-arg=shift=0,align=off,sleep=off"]
SMP1 = ["--qemu-arg=-smp", "--qemu-arg=1"]
BOOT_TIMEOUT = "170"


class Boot:
    """One benchmark boot: a name (its log is <name>.log), the runner's arguments."""

    def __init__(self, name, cmdline, memory, expect, reject):
        self.name = name
        self.cmdline = cmdline + " aslr.seed=" + ASLR_SEED
        self.memory = memory
        self.expect = expect
        self.reject = reject

    def runner_args(self, iso_root, log):
        args = [sys.executable, RUNNER, "--iso-root", iso_root, "--cmdline", self.cmdline,
                "--memory", self.memory, "--timeout", BOOT_TIMEOUT, "--log", log]
        args += SMP1 + ICOUNT
        for e in self.expect:
            args += ["--expect", e]
        for r in self.reject:
            args += ["--reject", r]
        return args


# The gate's configuration: every user benchmark program (bench/smp, bench/shootdown
# and bench/faults print "skipped: needs 2 CPUs" on one CPU) and the kernel's VM and
# page-table engine benchmarks. About 20 s of wall time on an idle 2-core host.
BOOTS = [
    Boot("user", "userboot.prefix=bench/", "512M",
         ["bench: user done", "bench: user vm done",
          "BERYL: userboot exited with status 0"],
         ["FAILED", "KERNEL PANIC", "LEAK"]),
    Boot("mmu", "bench=mmu", "128M", ["bench: mmu done"], ["bench: FAILED", "KERNEL PANIC"]),
    Boot("vm", "bench=vm", "128M", ["bench: vm done"], ["bench: FAILED", "KERNEL PANIC"]),
]

# Figures with a wider threshold than --threshold, and why. The worst of 10 transfers
# queued behind 8 threads that loop forced collections is a latency figure: it depends on
# where in the collectors' loops the transfers land, so a change elsewhere in the kernel
# moves it by several percent (+4.0% once with an unrelated heap change; +3.0% for 7
# instructions more per syscall, which moved the null syscall +5.4%). Its cost per
# collection is gated through "user gc forced collection, ..." at 3%.
WIDER_THRESHOLD = {
    "user gc endpoint transfer, busy: 8 threads looping forced collections (table 30000)":
        (10.0, "a latency behind busy threads: moves with where they are interleaved"),
    "user cow shadowed 16: write":
        (10.0, "one write per new family: moves with the heap's state, which the number of "
               "boot modules changes (+6.3% when test programs were added, its code unchanged)"),
}

# Lines that prove the boot counted instructions (the user programs' empty loop is two
# instructions per iteration; the kernel benchmarks' back-to-back rdtsc is a few): without
# icount the same programs print host TSC ticks, which must never be compared.
ICOUNT_PROOF = {
    "user": re.compile(r"^bench: user loop overhead: \d+ ops, \d+ instructions, 2\.0 per op",
                       re.MULTILINE),
    "mmu": re.compile(r"^bench: rdtsc back-to-back: [1-9] ", re.MULTILINE),
    "vm": re.compile(r"^bench: rdtsc back-to-back: [1-9] ", re.MULTILINE),
}

# "bench: <key>: <N> <unit>s, <M> instructions[, ...]" (user/bench/bench_util.h, the
# kernel benchmarks) and "bench: <key>: <X> instructions per <unit>" (derived figures).
# The key is everything up to the last ": " before the count.
FIGURE_LINE = re.compile(r"^bench: (?P<key>.+): (?P<count>[^:,]+), (?P<insn>\d+) instructions\b")
DERIVED_LINE = re.compile(r"^bench: (?P<key>.+): (?P<insn>\d+(?:\.\d+)?) instructions per (?P<unit>.+)$")
COUNT = re.compile(r"^(?P<units>\d+) (?P<unit>.+)$")

# Baseline lines: "<key> = <instructions> instructions / <units> <unit> (<per unit> per
# <unit>)"; the part in parentheses is for the reader and is recomputed on update.
BASELINE_LINE = re.compile(
    r"^(?P<key>.+) = (?P<insn>\d+(?:\.\d+)?) instructions / (?P<units>\d+) (?P<unit>[^()]+?)"
    r"(?: \([^()]*\))?$")
BASELINE_HEADER = """\
# Performance gate baseline (docs/benchmarks.md, "Performance gate"): guest instructions
# under QEMU -icount shift=0, one CPU, aslr.seed={seed}, as tests/perf/perf_gate.py boots
# them. One line per benchmark: "<key> = <instructions> instructions / <units> <unit>";
# the gate compares instructions per unit and fails above +{threshold:g}%.
# Regenerate (then commit with a "Baseline: <reason>" line in the message):
#   cmake --build build --target perf_baseline
"""


class Figure:
    """A benchmark figure: total instructions over a number of units."""

    def __init__(self, insn, units, unit):
        self.insn = insn
        self.units = units
        self.unit = unit

    def per_unit(self):
        return self.insn / self.units


def singular(unit):
    """"pages" -> "page", "round trips" -> "round trip": the unit of one operation."""
    return unit[:-1] if unit.endswith("s") and not unit.endswith("ss") else unit


def parse_log(text):
    """Every figure in a serial log, by key, in order of appearance. A key printed twice
    is an error (ValueError): the gate could not tell which line to compare."""
    figures = {}
    for line in text.splitlines():
        m = FIGURE_LINE.match(line)
        if m:
            c = COUNT.match(m.group("count"))
            if c:
                fig = Figure(int(m.group("insn")), int(c.group("units")), singular(c.group("unit")))
            else:  # "worst of 10": one operation
                fig = Figure(int(m.group("insn")), 1, "op")
        else:
            m = DERIVED_LINE.match(line)
            if not m:
                continue
            fig = Figure(float(m.group("insn")), 1, m.group("unit"))
        key = m.group("key")
        if " = " in key:
            raise ValueError("benchmark key contains ' = ': %r" % key)
        if key in figures:
            raise ValueError("benchmark key printed twice: %r" % key)
        figures[key] = fig
    return figures


def format_number(x):
    """A figure for the table and the baseline: integers as they are, else 1 decimal (3
    significant digits below 10)."""
    if float(x).is_integer():
        return "%d" % x
    return "%.1f" % x if abs(x) >= 10 else "%.3g" % x


def read_baseline(path):
    """The baseline file's figures by key, in file order. Raises ValueError on a line it
    cannot read (the gate must not silently drop a benchmark)."""
    figures = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = BASELINE_LINE.match(line)
            if not m:
                raise ValueError("%s:%d: not a baseline line: %r" % (path, n, line))
            insn = m.group("insn")
            insn = float(insn) if "." in insn else int(insn)
            if int(m.group("units")) == 0:
                raise ValueError("%s:%d: zero units" % (path, n))
            if m.group("key") in figures:
                raise ValueError("%s:%d: key twice: %r" % (path, n, m.group("key")))
            figures[m.group("key")] = Figure(insn, int(m.group("units")), singular(m.group("unit")))
    return figures


def write_baseline(path, figures, threshold):
    """Rewrite the baseline with these figures, in the order the boots printed them."""
    with open(path, "w") as f:
        f.write(BASELINE_HEADER.format(seed=ASLR_SEED, threshold=threshold))
        for key, fig in figures.items():
            unit = fig.unit if fig.units == 1 else fig.unit + "s"
            f.write("%s = %s instructions / %d %s (%s per %s)\n"
                    % (key, format_number(fig.insn), fig.units, unit,
                       format_number(fig.per_unit()), fig.unit))


def compare(baseline, now, threshold):
    """Rows of the before/after table and the failures. Each row: (key, unit, baseline per
    unit or None, now per unit or None, change in percent or None, verdict)."""
    rows, failures = [], []
    for key, base in baseline.items():
        fig = now.get(key)
        if fig is None:
            rows.append((key, base.unit, base.per_unit(), None, None, "MISSING"))
            failures.append("%s: in the baseline but no boot printed it" % key)
            continue
        b, n = base.per_unit(), fig.per_unit()
        change = (n - b) / b * 100 if b else (0.0 if n == 0 else float("inf"))
        limit = WIDER_THRESHOLD.get(key, (threshold,))[0]
        if change > limit:
            verdict = "WORSE"
            failures.append("%s: %s -> %s instructions per %s (%+.2f%%, more than +%g%%)"
                            % (key, format_number(b), format_number(n), fig.unit, change,
                               limit))
        elif change < -threshold:
            verdict = "better"
        elif change != 0:
            verdict = "within"
        else:
            verdict = ""
        if key in WIDER_THRESHOLD and verdict in ("", "within"):
            verdict = (verdict + " (limit +%g%%)" % limit).strip()
        rows.append((key, fig.unit, b, n, change, verdict))
    for key, fig in now.items():
        if key not in baseline:
            rows.append((key, fig.unit, None, fig.per_unit(), None, "new"))
    return rows, failures


def format_change(change):
    """A change in percent for the table: "0" when the figure is identical, else signed
    (a change below 0.005% reads "+0.00%" or "-0.00%")."""
    if change is None:
        return "-"
    if change == 0:
        return "0"
    return "%+.2f%%" % change


def print_table(rows, threshold, out=None):
    """The before/after table: instructions per unit, and the change."""
    out = out or sys.stdout
    head = ("benchmark", "per", "baseline", "now", "change", "")
    cells = [head]
    for key, unit, b, n, change, verdict in rows:
        cells.append((key, unit, "-" if b is None else format_number(b),
                      "-" if n is None else format_number(n),
                      format_change(change), verdict))
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    for i, r in enumerate(cells):
        out.write("%-*s  %-*s  %*s  %*s  %*s  %s\n"
                  % (widths[0], r[0], widths[1], r[1], widths[2], r[2], widths[3], r[3],
                     widths[4], r[4], r[5]))
        if i == 0:
            out.write("-" * (sum(widths) + 10 + len("within")) + "\n")
    worse = sum(1 for r in rows if r[5] == "WORSE")
    better = sum(1 for r in rows if r[5] == "better")
    new = sum(1 for r in rows if r[5] == "new")
    missing = sum(1 for r in rows if r[5] == "MISSING")
    for key, (limit, why) in WIDER_THRESHOLD.items():
        out.write("perf gate: limit +%g%% for %s: %s\n" % (limit, key, why))
    out.write("perf gate: %d benchmarks; %d worse by more than their limit (+%g%% unless "
              "named above), %d better by more than %g%%, %d new, %d missing\n"
              % (len(rows), worse, threshold, better, threshold, new, missing))


def run_boots(iso_root, log_dir):
    """Boot every configuration in turn (never two QEMUs at once); return the serial logs
    by boot name, and the names of boots that failed their checks."""
    logs, failed = {}, []
    for boot in BOOTS:
        log = os.path.join(log_dir, boot.name + ".log")
        print("perf gate: boot %s: %s" % (boot.name, boot.cmdline), flush=True)
        r = subprocess.run(boot.runner_args(iso_root, log), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            sys.stdout.write(r.stdout)
            failed.append(boot.name)
        else:
            # The runner's summary line: configuration, seed, wall time.
            sys.stdout.write("".join("  " + l + "\n" for l in r.stdout.splitlines()[:1]))
        logs[boot.name] = open(log, errors="replace").read() if os.path.exists(log) else ""
    return logs, failed


def read_logs(log_dir):
    """The serial logs of an earlier run (DIR/<boot>.log), by boot name."""
    logs = {}
    for boot in BOOTS:
        with open(os.path.join(log_dir, boot.name + ".log"), errors="replace") as f:
            logs[boot.name] = f.read()
    return logs, []


def gather(logs):
    """All figures of all boots, by key; and the problems found (icount not in effect, a
    key in two boots)."""
    figures, problems = {}, []
    for boot in BOOTS:
        text = logs.get(boot.name, "")
        if not ICOUNT_PROOF[boot.name].search(text):
            problems.append("boot %s: no proof that -icount was in effect (figures would be "
                            "host TSC ticks)" % boot.name)
        try:
            figs = parse_log(text)
        except ValueError as e:
            problems.append("boot %s: %s" % (boot.name, e))
            continue
        for key, fig in figs.items():
            if key in figures:
                problems.append("benchmark key in two boots: %r" % key)
            figures[key] = fig
    return figures, problems


def git(args, cwd):
    """Run git; (return code, stdout, stderr)."""
    r = subprocess.run(["git"] + args, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    return r.returncode, r.stdout, r.stderr


REASON_LINE = re.compile(r"^Baseline:[ \t]*\S", re.MULTILINE)


def check_reason(baseline):
    """The reason rule: the last commit that changed the baseline says why in a
    "Baseline: <reason>" line. Returns an exit status (0, 1, or SKIP)."""
    where = os.path.dirname(os.path.abspath(baseline))
    if shutil.which("git") is None:
        print("perf gate reason check: skipped: git is not installed")
        return SKIP
    rc, out, err = git(["rev-parse", "--is-inside-work-tree"], where)
    if rc != 0 or out.strip() != "true":
        print("perf gate reason check: skipped: %s is not in a git checkout (%s)"
              % (where, err.strip() or out.strip()))
        return SKIP
    rc, out, err = git(["rev-parse", "--is-shallow-repository"], where)
    if rc != 0 or out.strip() != "false":
        print("perf gate reason check: skipped: shallow clone (the history that says who "
              "changed the baseline is cut off) %s" % err.strip())
        return SKIP
    rc, out, err = git(["log", "-1", "--format=%H%x00%s%x00%B", "--",
                        os.path.basename(baseline)], where)
    if rc != 0:
        print("perf gate reason check: skipped: git log failed: %s" % err.strip())
        return SKIP
    if not out.strip():
        print("perf gate reason check: skipped: %s has never been committed" % baseline)
        return SKIP
    commit, subject, body = out.split("\x00", 2)
    rc, _, _ = git(["diff", "--quiet", "HEAD", "--", os.path.basename(baseline)], where)
    if rc == 1:
        print("perf gate reason check: note: %s has uncommitted changes; the commit that "
              "records them needs a \"Baseline: <reason>\" line" % baseline)
    m = REASON_LINE.search(body)
    if m:
        line = body[m.start():].splitlines()[0]
        print("perf gate reason check: passed: %s (%s) says %r" % (commit[:12], subject, line))
        return 0
    print("perf gate reason check: FAILED: commit %s (%s), the last to change %s, has no "
          "\"Baseline: <reason>\" line in its message (docs/benchmarks.md, \"Performance "
          "gate\"). Amend it (git commit --amend) or, if it is already shared, commit the "
          "baseline again with the reason." % (commit[:12], subject, baseline))
    return 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iso-root")
    ap.add_argument("--baseline", default=DEFAULT_BASELINE)
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                    help="percent above the baseline that fails (default %(default)s)")
    ap.add_argument("--log-dir", help="keep each boot's serial log here")
    ap.add_argument("--from-logs", metavar="DIR",
                    help="read DIR/<boot>.log instead of booting")
    ap.add_argument("--update", action="store_true", help="rewrite the baseline")
    ap.add_argument("--check-reason", action="store_true",
                    help="check the last baseline commit's 'Baseline:' line; no boots")
    args = ap.parse_args(argv)

    if args.check_reason:
        return check_reason(args.baseline)
    if not args.iso_root and not args.from_logs:
        ap.error("--iso-root (or --from-logs) is required")

    baseline = {}
    if os.path.exists(args.baseline):
        try:
            baseline = read_baseline(args.baseline)
        except ValueError as e:
            print("perf gate: %s" % e)
            return 2
    elif not args.update:
        print("perf gate: no baseline at %s (create it with --update)" % args.baseline)
        return 2

    if args.from_logs:
        logs, failed_boots = read_logs(args.from_logs)
    else:
        tmp = None
        log_dir = args.log_dir
        if not log_dir:
            tmp = tempfile.mkdtemp(prefix="beryl-perf-")
            log_dir = tmp
        os.makedirs(log_dir, exist_ok=True)
        try:
            logs, failed_boots = run_boots(args.iso_root, log_dir)
        finally:
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
    figures, problems = gather(logs)
    problems = ["boot %s failed its checks (log above)" % b for b in failed_boots] + problems

    rows, failures = compare(baseline, figures, args.threshold)
    print_table(rows, args.threshold)
    if args.log_dir and not args.from_logs:
        # The same table beside the logs, for a CI run whose test output is not kept.
        with open(os.path.join(args.log_dir, "table.txt"), "w") as f:
            print_table(rows, args.threshold, f)
    for p in problems:
        print("perf gate: FAILED: %s" % p)
    if args.update:
        if problems:
            print("perf gate: baseline not updated")
            return 1
        write_baseline(args.baseline, figures, args.threshold)
        print("perf gate: wrote %d figures to %s; commit it with a \"Baseline: <reason>\" "
              "line in the message" % (len(figures), args.baseline))
        return 0
    for f in failures:
        print("perf gate: FAILED: %s" % f)
    if problems or failures:
        print("perf gate: FAILED. If the change is intended, regenerate the baseline "
              "(cmake --build build --target perf_baseline) and commit it with a "
              "\"Baseline: <reason>\" line (docs/benchmarks.md, \"Performance gate\").")
        return 1
    print("perf gate: passed (threshold +%g%% per benchmark)" % args.threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
