"""Unit tests of tools/doc_commands.py (the runner of a document's shell blocks)."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.environ.get("BERYL_SOURCE_DIR", "../.."), "tools"))
import doc_commands as dc  # noqa: E402

DOC = """# A walkthrough

<!-- doc-test hello
expect: ^hello world$
reject: ^error
-->
```sh
echo hello world
```

Output, not a command:

```
hello world
```

<!-- doc-covered-by qemu.something -->
```sh
gdb build/kernel/kernel.elf
```
"""


class ParseTest(unittest.TestCase):
    def test_blocks_and_markers(self):
        blocks = dc.parse(DOC)
        self.assertEqual(len(blocks), 2)
        self.assertEqual((blocks[0].kind, blocks[0].name), ("test", "hello"))
        self.assertEqual(blocks[0].expect, ["^hello world$"])
        self.assertEqual(blocks[0].reject, ["^error"])
        self.assertEqual(blocks[0].text, "echo hello world\n")
        self.assertEqual((blocks[1].kind, blocks[1].name), ("covered", "qemu.something"))

    def test_unmarked_block_is_a_problem(self):
        blocks = dc.parse("```sh\nls\n```\n")
        self.assertEqual(blocks[0].kind, None)
        self.assertEqual(len(dc.check(blocks, set())), 1)

    def test_missing_covering_ctest_is_a_problem(self):
        blocks = dc.parse(DOC)
        self.assertEqual(len(dc.check(blocks, set())), 1)
        self.assertEqual(dc.check(blocks, {"qemu.something"}), [])

    def test_duplicate_names(self):
        doc = "<!-- doc-test a\n-->\n```sh\ntrue\n```\n<!-- doc-test a\n-->\n```sh\ntrue\n```\n"
        self.assertEqual(len(dc.check(dc.parse(doc), set())), 1)

    def test_malformed(self):
        for bad in ("<!-- doc-test a\nexpect: x\n",                    # not closed
                    "<!-- doc-test a\nwant: x\n-->\n```sh\ntrue\n```\n",  # unknown key
                    "<!-- doc-test a\nexpect: (\n-->\n```sh\ntrue\n```\n",  # bad regex
                    "<!-- doc-test a\n-->\ntext\n```sh\ntrue\n```\n",  # not followed
                    "<!-- doc-test a\n-->\n```\nout\n```\n",           # not a sh block
                    "```sh\ntrue\n"):                                   # fence not closed
            with self.assertRaises(dc.DocError, msg=bad):
                dc.parse(bad)

    def test_ctest_names(self):
        out = "Test project /b\n  Test  #1: host.a\n  Test #12: qemu.b.c\n\nTotal Tests: 2\n"
        self.assertEqual(dc.ctest_names_from(out), {"host.a", "qemu.b.c"})


class RunTest(unittest.TestCase):
    def run_doc(self, doc, name="t", build_dir=None):
        block = [b for b in dc.parse(doc) if b.name == name][0]
        with tempfile.TemporaryDirectory() as d:
            return dc.run_block(block, d, build_dir, timeout=20)

    def test_pass(self):
        ok, _ = self.run_doc("<!-- doc-test t\nexpect: ^a b$\n-->\n```sh\necho a b\n```\n")
        self.assertTrue(ok)

    def test_expect_fails(self):
        ok, report = self.run_doc("<!-- doc-test t\nexpect: ^z$\n-->\n```sh\necho a\n```\n")
        self.assertFalse(ok)
        self.assertIn("FAIL: no match for expect: ^z$", report)

    def test_reject_fails(self):
        ok, _ = self.run_doc("<!-- doc-test t\nreject: oops\n-->\n```sh\necho oops\n```\n")
        self.assertFalse(ok)

    def test_failing_command_fails(self):
        # -e: a failing command in the middle fails the block even if the last succeeds.
        ok, report = self.run_doc("<!-- doc-test t\n-->\n```sh\nfalse\necho after\n```\n")
        self.assertFalse(ok)
        self.assertNotIn("after", "\n".join(report))
        # pipefail: a failing command before a pipe fails too.
        ok, _ = self.run_doc("<!-- doc-test t\n-->\n```sh\nfalse | cat\n```\n")
        self.assertFalse(ok)

    def test_timeout(self):
        block = dc.parse("<!-- doc-test t\n-->\n```sh\nsleep 5\n```\n")[0]
        with tempfile.TemporaryDirectory() as d:
            ok, report = dc.run_block(block, d, timeout=0.5)
        self.assertFalse(ok)
        self.assertIn("FAIL: timed out after 0.5 s", report)

    def test_build_dir_substitution(self):
        text = "ls build/isoroot --log=build/x \"build/y\"\nmybuild/z\n"
        self.assertEqual(dc.substitute_build_dir(text, "/o/b"),
                         "ls /o/b/isoroot --log=/o/b/x \"/o/b/y\"\nmybuild/z\n")
        ok, report = self.run_doc("<!-- doc-test t\nexpect: ^/elsewhere/k$\n-->\n"
                                  "```sh\necho build/k\n```\n", build_dir="/elsewhere")
        self.assertTrue(ok, report)


if __name__ == "__main__":
    unittest.main()
