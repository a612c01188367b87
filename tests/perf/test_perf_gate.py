"""tests/perf/perf_gate.py on made-up serial logs and scratch git repositories (no QEMU):
the comparison fails exactly when it must, --update writes what the gate then reads, and
the reason check passes, fails and skips as docs/benchmarks.md ("Performance gate") says.
"""
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import perf_gate  # noqa: E402

USER_LOG = """\
bench: user loop overhead: 10000 ops, 20009 instructions, 2.0 per op (median of 5)
bench: user null syscall (zx_syscall_test_0): 10000 ops, 1290207 instructions, 129.0 per op (median of 5)
bench: user cow chain 16: read: 16 levels, 1114 instructions, 69.6 per level (median of 5, min 1086, max 1114)
bench: user cow chain 16: one more snapshot: status 0
bench: user gc endpoint transfer, busy: 8 threads (table 30000): worst of 10, 31754956 instructions
bench: user smp skipped: needs 2 CPUs, zx_system_get_num_cpus() = 1
bench: user thread ping-pong round trip (2 switches): 2000 round trips, 11664401 instructions, 5832.2 per round trip (median of 5, min 1, max 2)
bench: user done
"""
MMU_LOG = """\
bench: rdtsc back-to-back: 4 (single digits under -icount shift=0, where counts are instructions)
bench: mmu map_contiguous 1g: 262144 pages, 1088 instructions, 0.0 per page (median of 3; min 1088, max 1088)
bench: mmu done
"""
VM_LOG = """\
bench: rdtsc back-to-back: 4 (single digits under -icount shift=0, where counts are instructions)
bench: vm write fault: 1024 pages, 1594563 instructions, 1557.2 per page (median of 3; min 1594563, max 1594563)
bench: vm zeroing alone (zeroed - unzeroed alloc): 532.0 instructions per page
bench: vm done
"""


def run_gate(args):
    """perf_gate.main(args): (exit status, everything it printed)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = perf_gate.main(args)
    return rc, out.getvalue()


class GateTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="perf-gate-test-")
        self.logs = os.path.join(self.dir, "logs")
        os.mkdir(self.logs)
        self.baseline = os.path.join(self.dir, "baseline.txt")
        self.write_logs(USER_LOG, MMU_LOG, VM_LOG)
        rc, out = run_gate(["--from-logs", self.logs, "--baseline", self.baseline, "--update"])
        self.assertEqual(rc, 0, out)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write_logs(self, user, mmu, vm):
        for name, text in (("user", user), ("mmu", mmu), ("vm", vm)):
            with open(os.path.join(self.logs, name + ".log"), "w") as f:
                f.write(text)

    def gate(self):
        return run_gate(["--from-logs", self.logs, "--baseline", self.baseline])

    def row(self, out, key):
        lines = [l for l in out.splitlines() if l.startswith(key + " ")]
        self.assertEqual(len(lines), 1, out)
        return lines[0]

    def test_parse_every_line_format(self):
        figs = perf_gate.parse_log(USER_LOG + MMU_LOG + VM_LOG)
        self.assertEqual(sorted(figs), sorted([
            "user loop overhead", "user null syscall (zx_syscall_test_0)",
            "user cow chain 16: read", "user gc endpoint transfer, busy: 8 threads (table 30000)",
            "user thread ping-pong round trip (2 switches)", "mmu map_contiguous 1g",
            "vm write fault", "vm zeroing alone (zeroed - unzeroed alloc)"]))
        f = figs["user thread ping-pong round trip (2 switches)"]
        self.assertEqual((f.insn, f.units, f.unit), (11664401, 2000, "round trip"))
        f = figs["user gc endpoint transfer, busy: 8 threads (table 30000)"]
        self.assertEqual((f.insn, f.units, f.unit), (31754956, 1, "op"))
        f = figs["vm zeroing alone (zeroed - unzeroed alloc)"]
        self.assertEqual((f.insn, f.units, f.unit), (532.0, 1, "page"))

    def test_key_printed_twice_is_an_error(self):
        with self.assertRaises(ValueError):
            perf_gate.parse_log(VM_LOG + VM_LOG)

    def test_baseline_round_trip(self):
        base = perf_gate.read_baseline(self.baseline)
        now = perf_gate.parse_log(USER_LOG + MMU_LOG + VM_LOG)
        self.assertEqual(list(base), list(now))
        for k in now:
            self.assertEqual((base[k].insn, base[k].units, base[k].unit),
                             (now[k].insn, now[k].units, now[k].unit), k)

    def test_identical_figures_pass(self):
        rc, out = self.gate()
        self.assertEqual(rc, 0, out)
        self.assertIn("perf gate: passed", out)
        self.assertRegex(self.row(out, "vm write fault"), r" 0 *$")

    def test_more_than_threshold_worse_fails(self):
        # 1557.2 -> 1612.0 per page: +3.5%.
        self.write_logs(USER_LOG, MMU_LOG, VM_LOG.replace("1594563 instructions", "1650688 instructions"))
        rc, out = self.gate()
        self.assertEqual(rc, 1, out)
        self.assertIn("WORSE", self.row(out, "vm write fault"))
        self.assertIn("+3.52%", self.row(out, "vm write fault"))
        self.assertIn("perf gate: FAILED: vm write fault", out)

    def test_tiny_figure_more_than_threshold_worse_fails(self):
        # 1088 -> 1121 instructions for the whole GiB (0.004 per page): +3.03%.
        self.write_logs(USER_LOG, MMU_LOG.replace("1088 instructions", "1121 instructions"), VM_LOG)
        rc, out = self.gate()
        self.assertEqual(rc, 1, out)
        self.assertIn("WORSE", self.row(out, "mmu map_contiguous 1g"))

    def test_wider_threshold(self):
        # The busy gc transfer's limit is +10%: +6% passes, +11% fails.
        key = "user gc endpoint transfer, busy: 8 threads looping forced collections (table 30000)"
        self.assertEqual(perf_gate.WIDER_THRESHOLD[key][0], 10.0)
        user = USER_LOG.replace("busy: 8 threads (table 30000): worst of 10, 31754956",
                                "busy: 8 threads looping forced collections (table 30000): worst of 10, 31754956")
        self.write_logs(user, MMU_LOG, VM_LOG)
        rc, out = run_gate(["--from-logs", self.logs, "--baseline", self.baseline, "--update"])
        self.assertEqual(rc, 0, out)
        self.write_logs(user.replace("31754956", "33660253"), MMU_LOG, VM_LOG)
        rc, out = self.gate()
        self.assertEqual(rc, 0, out)
        self.assertIn("+6.00%  within (limit +10%)", self.row(out, key))
        self.write_logs(user.replace("31754956", "35247001"), MMU_LOG, VM_LOG)
        rc, out = self.gate()
        self.assertEqual(rc, 1, out)
        self.assertIn("WORSE", self.row(out, key))

    def test_within_threshold_passes(self):
        # +2.9%.
        self.write_logs(USER_LOG, MMU_LOG, VM_LOG.replace("1594563 instructions", "1640805 instructions"))
        rc, out = self.gate()
        self.assertEqual(rc, 0, out)
        self.assertIn("+2.90%", self.row(out, "vm write fault"))

    def test_improvement_is_reported_and_passes(self):
        self.write_logs(USER_LOG.replace("1290207 instructions", "1000000 instructions"), MMU_LOG, VM_LOG)
        rc, out = self.gate()
        self.assertEqual(rc, 0, out)
        self.assertIn("better", self.row(out, "user null syscall (zx_syscall_test_0)"))
        self.assertIn("1 better by more than 3%", out)
        self.assertIn("0 worse by more than their limit", out)

    def test_new_benchmark_is_reported_and_passes(self):
        self.write_logs(USER_LOG + "bench: user brand new: 10 ops, 1000 instructions, 100.0 per op\n",
                        MMU_LOG, VM_LOG)
        rc, out = self.gate()
        self.assertEqual(rc, 0, out)
        self.assertIn("new", self.row(out, "user brand new"))

    def test_missing_benchmark_fails(self):
        self.write_logs(USER_LOG, MMU_LOG, VM_LOG.replace("bench: vm write fault", "bench: vm renamed fault"))
        rc, out = self.gate()
        self.assertEqual(rc, 1, out)
        self.assertIn("MISSING", self.row(out, "vm write fault"))

    def test_figures_without_icount_fail(self):
        self.write_logs(USER_LOG.replace("2.0 per op", "3.4 per op"), MMU_LOG, VM_LOG)
        rc, out = self.gate()
        self.assertEqual(rc, 1, out)
        self.assertIn("no proof that -icount was in effect", out)

    def test_unreadable_baseline_line_is_an_error(self):
        with open(self.baseline, "a") as f:
            f.write("something = twelve\n")
        rc, out = self.gate()
        self.assertEqual(rc, 2, out)

    def test_checked_in_baseline_reads(self):
        base = perf_gate.read_baseline(perf_gate.DEFAULT_BASELINE)
        self.assertIn("user null syscall (zx_syscall_test_0)", base)
        self.assertIn("mmu map 4k", base)
        self.assertIn("vm write fault", base)


@unittest.skipIf(shutil.which("git") is None, "git is not installed")
class ReasonTest(unittest.TestCase):
    def setUp(self):
        self.dir = os.path.realpath(tempfile.mkdtemp(prefix="perf-gate-git-"))
        self.env = dict(os.environ, GIT_CEILING_DIRECTORIES=self.dir, GIT_CONFIG_NOSYSTEM="1",
                        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@localhost",
                        GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@localhost")
        self.saved_env = dict(os.environ)
        os.environ.update(self.env)
        self.repo = os.path.join(self.dir, "repo")
        os.makedirs(os.path.join(self.repo, "tests", "perf"))
        self.baseline = os.path.join(self.repo, "tests", "perf", "baseline.txt")

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self.saved_env)
        shutil.rmtree(self.dir)

    def git(self, *args, cwd=None):
        subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
                       + list(args), cwd=cwd or self.repo, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def commit_baseline(self, text, message):
        with open(self.baseline, "w") as f:
            f.write(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def check(self, baseline=None):
        return run_gate(["--check-reason", "--baseline", baseline or self.baseline])

    def test_not_a_git_checkout_skips(self):
        with open(self.baseline, "w") as f:
            f.write("x = 1 instructions / 1 op\n")
        rc, out = self.check()
        self.assertEqual(rc, perf_gate.SKIP, out)
        self.assertIn("skipped: ", out)

    def test_reason_line_passes_and_its_absence_fails(self):
        self.git("init", "-q")
        self.commit_baseline("a = 1 instructions / 1 op\n",
                             "Add the gate\n\nBaseline: first figures")
        with open(os.path.join(self.repo, "other.c"), "w") as f:
            f.write("int x;\n")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "An unrelated commit")
        rc, out = self.check()
        self.assertEqual(rc, 0, out)
        self.assertIn("Baseline: first figures", out)

        self.commit_baseline("a = 2 instructions / 1 op\n", "Slower, and no word about it")
        rc, out = self.check()
        self.assertEqual(rc, 1, out)
        self.assertIn("Slower, and no word about it", out)

        # "Baseline:" with nothing after it is no reason.
        self.commit_baseline("a = 3 instructions / 1 op\n", "Slower\n\nBaseline:\n")
        rc, out = self.check()
        self.assertEqual(rc, 1, out)

    def test_never_committed_skips(self):
        self.git("init", "-q")
        with open(os.path.join(self.repo, "other.c"), "w") as f:
            f.write("int x;\n")
        self.git("add", "other.c")
        self.git("commit", "-q", "-m", "first")
        with open(self.baseline, "w") as f:
            f.write("a = 1 instructions / 1 op\n")
        rc, out = self.check()
        self.assertEqual(rc, perf_gate.SKIP, out)
        self.assertIn("never been committed", out)

    def test_fresh_clone_passes_and_shallow_clone_skips(self):
        self.git("init", "-q")
        self.commit_baseline("a = 1 instructions / 1 op\n", "Gate\n\nBaseline: first figures")
        with open(os.path.join(self.repo, "other.c"), "w") as f:
            f.write("int x;\n")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "An unrelated commit")

        full = os.path.join(self.dir, "full")
        self.git("clone", "-q", "file://" + self.repo, full, cwd=self.dir)
        rc, out = self.check(os.path.join(full, "tests", "perf", "baseline.txt"))
        self.assertEqual(rc, 0, out)

        # Depth 1: the only commit there seems to add the baseline; no verdict possible.
        shallow = os.path.join(self.dir, "shallow")
        self.git("clone", "-q", "--depth", "1", "file://" + self.repo, shallow, cwd=self.dir)
        rc, out = self.check(os.path.join(shallow, "tests", "perf", "baseline.txt"))
        self.assertEqual(rc, perf_gate.SKIP, out)
        self.assertIn("shallow clone", out)


if __name__ == "__main__":
    unittest.main()
