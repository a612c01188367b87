#!/usr/bin/env python3
"""beryl_run.py's own tests: it shows the emulator's output when a check fails and on
request, the serial log on request, and starts Bochs with a terminal type.

Each test runs the runner with --emulator-binary fake_emulator.py (see there), so nothing
is booted; the ISO is packed from an almost empty tree (tools/mkiso.py needs only
grub-mkrescue).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "beryl_run.py")
FAKE = os.path.join(HERE, "fake_emulator.py")
BEGIN = "own output ("
END = "own output ----"


class RunnerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="beryl-runner-test-")
        cls.iso_root = os.path.join(cls.tmp, "isoroot")
        os.makedirs(os.path.join(cls.iso_root, "boot", "grub"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_runner(self, *args, end="success", lines=250, env_drop=()):
        """Runs the runner against the fake emulator; returns (exit status, output)."""
        env = dict(os.environ, FAKE_EMULATOR_END=end, FAKE_EMULATOR_LINES=str(lines))
        for name in env_drop:
            env.pop(name, None)
        proc = subprocess.run([sys.executable, RUNNER, "--iso-root", self.iso_root,
                               "--emulator-binary", FAKE] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=env, timeout=60)
        return proc.returncode, proc.stdout

    def emulator_section(self, out):
        """The lines between the emulator-output delimiters (fails if there are none)."""
        lines = out.splitlines()
        begin = [i for i, l in enumerate(lines) if l.startswith("---- ") and BEGIN in l]
        end = [i for i, l in enumerate(lines) if l.startswith("---- end of ") and END in l]
        self.assertEqual((len(begin), len(end)), (1, 1), out)
        return lines[begin[0]:end[0] + 1]

    def assert_no_emulator_output(self, out):
        self.assertNotIn(BEGIN, out)
        self.assertNotIn("fake emulator line", out)

    # QEMU

    def test_passing_check_hides_emulator_output(self):
        status, out = self.run_runner("--expect", "kernel booting")
        self.assertEqual(status, 0, out)
        self.assertIn("PASS", out)
        self.assert_no_emulator_output(out)

    def test_passing_check_shows_emulator_output_on_request(self):
        status, out = self.run_runner("--expect", "kernel booting", "--show-emulator-output",
                                      lines=10)
        self.assertEqual(status, 0, out)
        section = self.emulator_section(out)
        self.assertEqual(section[0], "---- QEMU's own output (10 lines) ----")
        self.assertIn("fake emulator line 1", section)
        self.assertIn("fake emulator line 10", section)
        self.assertEqual(out.splitlines()[-1], "PASS")

    def test_show_log_prints_the_serial_log_of_a_passing_run(self):
        status, out = self.run_runner("--expect", "kernel booting")
        self.assertNotIn("---- serial log ----", out)
        status, out = self.run_runner("--expect", "kernel booting", "--show-log")
        self.assertEqual(status, 0, out)
        self.assertIn("---- serial log ----\nBeryl kernel booting (fake)\n", out)
        self.assert_no_emulator_output(out)

    def test_failing_check_shows_last_lines_after_the_failure(self):
        status, out = self.run_runner("--expect", "no such line")
        self.assertEqual(status, 1, out)
        fail = out.index("FAIL: missing expected output: 'no such line'")
        self.assertGreater(out.index(BEGIN), fail)
        section = self.emulator_section(out)
        self.assertEqual(section[0], "---- QEMU's own output (last 200 of 250 lines) ----")
        self.assertEqual(section[1], "fake emulator line 51")
        self.assertEqual(section[-2], "fake emulator line 250")
        self.assertNotIn("fake emulator line 50\n", out)

    def test_output_bound_is_an_option(self):
        status, out = self.run_runner("--expect-exit", "failure", "--emulator-output-lines", "3")
        self.assertEqual(status, 1, out)
        self.assertIn("FAIL: kernel reported success, expected failure", out)
        self.assertEqual(self.emulator_section(out)[1:-1],
                         ["fake emulator line 248", "fake emulator line 249",
                          "fake emulator line 250"])
        status, out = self.run_runner("--expect-exit", "failure", "--emulator-output-lines", "0")
        self.assertEqual(len(self.emulator_section(out)), 252)

    def test_crash_shows_emulator_output(self):
        status, out = self.run_runner(end="crash", lines=4)
        self.assertEqual(status, 1, out)
        self.assertIn("FAIL: qemu exited with status 3 (its output is below)", out)
        self.assertIn("fake emulator: crashed", self.emulator_section(out))

    def test_timeout_shows_what_the_emulator_said_before(self):
        status, out = self.run_runner("--timeout", "3", end="hang", lines=4)
        self.assertEqual(status, 1, out)
        self.assertIn("FAIL: timed out after 3.0s", out)
        section = self.emulator_section(out)
        self.assertIn("fake emulator line 4", section)
        self.assertIn("fake emulator: hanging", section)

    # --send: typing into the serial line (the fake is then a small console)

    def test_send_types_after_each_match_and_reuses_captures(self):
        status, out = self.run_runner(
            "--send", r"fake koid (?P<k>[0-9]+)\n[\s\S]*?fake> =>show {k}",
            "--send", "fake> =>exit", "--expect", "^fake got: show {k}$",
            "--reject", "^fake got: show 4$", "--show-log", lines=4)
        self.assertEqual(status, 0, out)
        self.assertIn("fake> show 42\nfake got: show 42\nfake> exit\nfake got: exit\n", out)
        self.assertIn("PASS", out)
        self.assert_no_emulator_output(out)

    def test_send_waits_for_a_match_after_the_previous_one(self):
        # "fake koid" is printed before the first prompt only: once the first --send has
        # matched that prompt, the second can never match.
        status, out = self.run_runner("--timeout", "4", "--send", "fake> =>one",
                                      "--send", "fake koid=>two", lines=4)
        self.assertEqual(status, 1, out)
        self.assertIn("FAIL: timed out before --send #2 matched: 'fake koid' (the serial log "
                      "and QEMU's output are below)", out)
        self.assertIn("fake got: one\n", out)
        self.assertNotIn("fake got: two", out)
        self.assertIn("fake emulator line 4", self.emulator_section(out))

    def test_send_notices_the_end_of_the_output(self):
        status, out = self.run_runner("--send", "fake> =>exit", "--send", "never=>x",
                                      lines=1)
        self.assertEqual(status, 1, out)
        self.assertIn("FAIL: the serial output ended before --send #2 matched: 'never'", out)

    def test_send_needs_a_separator_and_qemu(self):
        status, out = self.run_runner("--send", "no separator")
        self.assertEqual(status, 2, out)
        self.assertIn("--send wants REGEX=>TEXT", out)
        status, out = self.run_runner("--emulator", "bochs", "--send", "a=>b")
        self.assertEqual(status, 2, out)
        self.assertIn("--send works with QEMU only", out)

    # Bochs

    def test_bochs_gets_a_terminal_type(self):
        status, out = self.run_runner("--emulator", "bochs", "--expect", "kernel booting",
                                      env_drop=("TERM",))
        self.assertEqual(status, 0, out)
        self.assertNotIn("Error opening terminal", out)

    def test_bochs_failing_check_shows_debugger_output(self):
        status, out = self.run_runner("--emulator", "bochs", "--bochs-command", "page 0x1000",
                                      "--expect", "no such line", lines=2)
        self.assertEqual(status, 1, out)
        self.assertGreater(out.index(BEGIN), out.index("FAIL: missing expected output"))
        section = self.emulator_section(out)
        self.assertEqual(section[0], "---- Bochs' own output (6 lines) ----")
        self.assertIn("<bochs:2> page 0x1000", section)
        self.assertIn("fake answer to page 0x1000", section)

    def test_bochs_passing_check_hides_debugger_output_unless_asked(self):
        args = ("--emulator", "bochs", "--bochs-command", "page 0x1000",
                "--expect-bochs", "fake answer to page 0x1000")
        status, out = self.run_runner(*args)
        self.assertEqual(status, 0, out)
        self.assert_no_emulator_output(out)
        status, out = self.run_runner(*args, "--show-emulator-output")
        self.assertEqual(status, 0, out)
        self.assertIn("fake answer to page 0x1000", self.emulator_section(out))

    def test_bochs_without_exit_line_shows_its_output(self):
        status, out = self.run_runner("--emulator", "bochs", end="crash", lines=1)
        self.assertEqual(status, 1, out)
        self.assertIn("FAIL: bochs ended (status 3) without an exit line (its output is below)",
                      out)
        self.assertIn("fake emulator: crashed", self.emulator_section(out))


if __name__ == "__main__":
    unittest.main()
